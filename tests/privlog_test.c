/*
 * privlog_test.c: unit tests of the private log's writer
 * (daemon/privlog/), linked with its whole archive and the core only:
 * records appended to a real store in a temporary directory, their ids,
 * the checkpoint signed over them (its signature and its root checked
 * here with daemon/sumdb), the first hash of a module version being
 * final, public records kept byte for byte with their provenance, and
 * reopening the log.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <sodium.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privlog/privlog.h"
#include "store.h"
#include "tmpdir.h"

#define LOGNAME	"sumdb.test.example"

/* A temporary directory with the config and the signing key. */
struct fixture {
	char			 dir[64];
	char			 conf[128];
	char			 key[128];
	char			 db[128];
	struct note_verifier	 v;
};

/* Real go.sum lines (sum.golang.org records). */
static const struct {
	const char	*path, *version, *ziphash, *modhash;
} recs[] = {
	{ "golang.org/x/mod", "v0.27.0",
	    "h1:kb+q2PyFnEADO2IEF935ehFUXlWiNjJWtRNgBLSfbxQ=",
	    "h1:rWI627Fq0DEoudcK+MBkNkCe0EetEaDSwJJkCcjpazc=" },
	{ "golang.org/x/text", "v0.3.0",
	    "h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=",
	    "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=" },
	{ "github.com/google/uuid", "v1.6.0",
	    "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=",
	    "h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=" },
	{ "github.com/stretchr/testify", "v1.11.1",
	    "h1:7s2iGBzp5EwR7/aIZr8ao5+dra3wiQyKjjFuvgVKu7U=",
	    "h1:wZwfW3scLgRK+23gO65QZefKpKQRnfz6sD981Nm4B6U=" },
};
#define NRECS	(sizeof(recs) / sizeof(recs[0]))

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fixture		*fx;
	struct note_signer	*s;
	char			 skey[256], text[512];
	int			 err;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	assert_int_equal(tmpdir_make(fx->dir, sizeof(fx->dir),
	    "privlog_test", fx->conf, sizeof(fx->conf)), 0);
	snprintf(fx->key, sizeof(fx->key), "%s/log.key", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/x.db", fx->dir);
	assert_non_null(s = note_signer_generate(LOGNAME,
	    NOTE_ED25519, &err));
	assert_true(note_signer_format(s, skey, sizeof(skey)) > 0);
	note_signer_verifier(s, &fx->v);
	note_signer_free(s);
	assert_int_equal(strncmp(skey, "PRIVATE+KEY+" LOGNAME "+", 31), 0);
	umask(077);
	write_file(fx->key, skey);
	sodium_memzero(skey, sizeof(skey));
	snprintf(text, sizeof(text), "[server]\ndatabase = %s\n"
	    "[log]\nname = %s\nkey = %s\n", fx->db, LOGNAME, fx->key);
	write_file(fx->conf, text);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(tmpdir_remove(fx->dir), 0);
	free(fx);
	return 0;
}

/* The config, the store and the log opened for writing into env. */
static void
open_env(struct fixture *fx, struct env *env)
{
	memset(env, 0, sizeof(*env));
	assert_int_equal(env_load_config(env, fx->conf), 0);
	assert_int_equal(env_open_store(env, 1), 0);
	assert_int_equal(logw_open(env), 0);
	assert_non_null(env->log);
	assert_int_equal(env->log->kind, DB_PRIVATE);
	assert_ptr_equal(env->dbs[env->log->idx], env->log);
	assert_string_equal(env->log->name, LOGNAME);
	assert_int_equal(env->log->broken, 0);
}

static void
fill(struct newrec *r, size_t i, const char *ziphash)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", recs[i].path);
	snprintf(r->version, sizeof(r->version), "%s", recs[i].version);
	snprintf(r->ziphash, sizeof(r->ziphash), "%s",
	    ziphash != NULL ? ziphash : recs[i].ziphash);
	snprintf(r->modhash, sizeof(r->modhash), "%s", recs[i].modhash);
	r->id = -1;
}

/* The leaf hash of record i, from its text as sumdb formats it. */
static void
leaf(size_t i, uint8_t out[SUMDB_HASH_SIZE])
{
	struct evbuffer	*b;

	assert_non_null(b = evbuffer_new());
	assert_int_equal(record_format(recs[i].path, recs[i].version,
	    recs[i].ziphash, recs[i].modhash, b), 0);
	tlog_record_hash(evbuffer_pullup(b, -1), evbuffer_get_length(b), out);
	evbuffer_free(b);
}

/*
 * The newest checkpoint in the store: signed by the log's key alone,
 * of size n, with root want.
 */
static void
check_checkpoint(struct fixture *fx, struct env *env, int64_t n,
    const uint8_t want[SUMDB_HASH_SIZE])
{
	struct evbuffer		*note;
	struct note		 opened;
	struct tlog_tree	 tree;
	uint8_t			 root[STORE_HASH_SIZE];
	int64_t			 size;

	assert_non_null(note = evbuffer_new());
	assert_int_equal(store_latest(env->st, env->log->log, note, &size,
	    root), 1);
	assert_int_equal(size, n);
	assert_int_equal(note_open(evbuffer_pullup(note, -1),
	    evbuffer_get_length(note), &fx->v, 1, &opened), 0);
	assert_int_equal(opened.nverified, 1);
	assert_int_equal(opened.nunverified, 0);
	assert_int_equal(tlog_parse_tree(opened.text, opened.textlen, &tree),
	    0);
	assert_int_equal(tree.n, n);
	assert_memory_equal(tree.hash, want, SUMDB_HASH_SIZE);
	assert_memory_equal(root, want, SUMDB_HASH_SIZE);
	evbuffer_free(note);
}

static void
test_append_sign(void **state)
{
	struct fixture	*fx = *state;
	struct env	 env;
	struct newrec	 r[3];
	uint8_t		 l[NRECS][SUMDB_HASH_SIZE], a[SUMDB_HASH_SIZE];
	uint8_t		 b[SUMDB_HASH_SIZE], root[SUMDB_HASH_SIZE];
	int64_t		 size;
	size_t		 i;

	open_env(fx, &env);
	/* An empty log is not signed. */
	assert_int_equal(env.log->size, 0);
	assert_int_equal(store_latest(env.st, env.log->log, NULL, &size,
	    root), 0);
	for (i = 0; i < NRECS; i++)
		leaf(i, l[i]);

	for (i = 0; i < 3; i++)
		fill(&r[i], i, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 3), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].id, (int64_t)i);
	}
	assert_int_equal(env.log->size, 3);
	assert_int_equal(env.log->added, 3);
	/* RFC 6962: three leaves hash as ((0 1) 2). */
	tlog_node_hash(l[0], l[1], a);
	tlog_node_hash(a, l[2], root);
	check_checkpoint(fx, &env, 3, root);

	/* A fourth, alone: ((0 1) (2 3)), and the old tree is kept. */
	fill(&r[0], 3, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 1), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].id, 3);
	assert_int_equal(env.log->size, 4);
	tlog_node_hash(l[2], l[3], b);
	tlog_node_hash(a, b, root);
	check_checkpoint(fx, &env, 4, root);
	tlog_node_hash(a, l[2], b);
	assert_int_equal(store_checkpoint(env.st, env.log->log, 3, NULL, a),
	    1);
	assert_memory_equal(a, b, SUMDB_HASH_SIZE);
	env_free(&env);
}

static void
test_present_and_conflict(void **state)
{
	struct fixture	*fx = *state;
	struct env	 env;
	struct newrec	 r[3];
	unsigned	 gen;
	size_t		 i;

	open_env(fx, &env);
	for (i = 0; i < 2; i++)
		fill(&r[i], i, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 2), 0);
	assert_int_equal(env.log->size, 2);
	gen = env.log->gen;

	/*
	 * Again, with the same hashes: present, same ids; with another
	 * zip hash: refused; and a new one in the same batch is added.
	 */
	fill(&r[0], 1, NULL);
	fill(&r[1], 0, recs[2].ziphash);
	fill(&r[2], 2, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 3), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].id, 1);
	assert_int_equal(r[1].status, -1);
	assert_int_equal(r[1].id, 0);
	assert_non_null(strstr(r[1].reason, "golang.org/x/mod@v0.27.0 is "
	    "already recorded with other hashes (record 0)"));
	assert_int_equal(r[2].status, 0);
	assert_int_equal(r[2].id, 2);
	assert_int_equal(env.log->size, 3);
	assert_true(env.log->gen != gen);

	/* Nothing new: nothing signed, the tree stays. */
	gen = env.log->gen;
	fill(&r[0], 2, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 1), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].id, 2);
	assert_int_equal(env.log->size, 3);
	assert_int_equal(env.log->gen, gen);

	/* A record that is not one is refused, the rest go on. */
	fill(&r[0], 3, "h1:not-a-hash");
	assert_int_equal(logw_append(&env, env.log, r, 1), 0);
	assert_int_equal(r[0].status, -1);
	assert_non_null(strstr(r[0].reason, "invalid record for "
	    "github.com/stretchr/testify@v1.11.1"));
	assert_int_equal(env.log->size, 3);
	env_free(&env);
}

/*
 * A public record: its text appended byte for byte with its provenance
 * in the same transaction; a text that names another module version is
 * refused with nothing stored.
 */
static void
test_public_text(void **state)
{
	struct fixture	*fx = *state;
	struct env	 env;
	struct newrec	 r[2];
	struct evbuffer	*b, *stored;
	int64_t		 mirror, up, upid, uptree, n;

	open_env(fx, &env);
	assert_non_null(b = evbuffer_new());
	assert_non_null(stored = evbuffer_new());
	assert_int_equal(store_log(env.st, "sum.golang.org", "mirror",
	    &mirror), 0);
	fill(&r[0], 0, NULL);
	fill(&r[1], 1, NULL);
	assert_int_equal(record_format(recs[0].path, recs[0].version,
	    recs[0].ziphash, recs[0].modhash, b), 0);
	r[0].textlen = evbuffer_get_length(b);
	memcpy(r[0].text, evbuffer_pullup(b, -1), r[0].textlen);
	/* The hashes say otherwise: the text is what counts. */
	snprintf(r[0].ziphash, sizeof(r[0].ziphash), "%s", recs[2].ziphash);
	r[0].up_log = mirror;
	r[0].up_id = 31337;
	r[0].up_tree = 40000;
	/* Record 0's text for record 1's module version. */
	memcpy(r[1].text, r[0].text, r[0].textlen);
	r[1].textlen = r[0].textlen;
	r[1].up_log = mirror;
	assert_int_equal(logw_append(&env, env.log, r, 2), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].id, 0);
	assert_int_equal(r[1].status, -1);
	assert_non_null(strstr(r[1].reason, "invalid record for "
	    "golang.org/x/text@v0.3.0"));
	assert_int_equal(store_size(env.st, env.log->log, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_record(env.st, env.log->log, 0, stored), 1);
	assert_int_equal(evbuffer_get_length(stored), r[0].textlen);
	assert_memory_equal(evbuffer_pullup(stored, -1), r[0].text,
	    r[0].textlen);
	assert_int_equal(store_provenance(env.st, env.log->log, 0, &up,
	    &upid, &uptree), 1);
	assert_int_equal(up, mirror);
	assert_int_equal(upid, 31337);
	assert_int_equal(uptree, 40000);
	assert_int_equal(env.log->size, 1);
	evbuffer_free(b);
	evbuffer_free(stored);
	env_free(&env);
}

static void
test_reopen(void **state)
{
	struct fixture	*fx = *state;
	struct env	 env;
	struct newrec	 r[NRECS];
	uint8_t		 root[STORE_HASH_SIZE], root2[STORE_HASH_SIZE];
	int64_t		 size;
	size_t		 i;

	open_env(fx, &env);
	for (i = 0; i < NRECS; i++)
		fill(&r[i], i, NULL);
	assert_int_equal(logw_append(&env, env.log, r, NRECS), 0);
	assert_int_equal(env.log->size, (int64_t)NRECS);
	assert_int_equal(store_latest(env.st, env.log->log, NULL, &size,
	    root), 1);
	env_free(&env);

	/* Opened again: the same tree, nothing signed anew. */
	open_env(fx, &env);
	assert_int_equal(env.log->size, (int64_t)NRECS);
	assert_int_equal(env.log->added, 0);
	assert_int_equal(store_latest(env.st, env.log->log, NULL, &size,
	    root2), 1);
	assert_int_equal(size, (int64_t)NRECS);
	assert_memory_equal(root, root2, STORE_HASH_SIZE);
	assert_int_equal(store_size(env.st, env.log->log, &size), 0);
	assert_int_equal(size, (int64_t)NRECS);
	fill(&r[0], 0, NULL);
	assert_int_equal(logw_append(&env, env.log, r, 1), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].id, 0);
	env_free(&env);

	/* A key others can read is refused. */
	assert_int_equal(chmod(fx->key, 0644), 0);
	memset(&env, 0, sizeof(env));
	assert_int_equal(env_load_config(&env, fx->conf), 0);
	assert_int_equal(env_open_store(&env, 0), 0);
	assert_int_equal(logw_open(&env), -1);
	env_free(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_sign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_present_and_conflict,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_text, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
