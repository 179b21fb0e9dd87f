/*
 * mirror_test.c: unit tests of the mirrors (daemon/mirror/), linked
 * with their whole archive and the core only: mirror_open() on
 * [mirror NAME] sections, each getting a database with its writer's
 * hooks, its verifier key and the newest trust base in the store (a
 * real sum.golang.org checkpoint from tests/testdata/real).  No event
 * loop: opening needs none.
 */

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

#include "mirror/mirror.h"
#include "store.h"
#include "tmpdir.h"

#define GOSUMDB	"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+" \
		"s3Ux18htTTAD8OuAn8"
#define LATEST	"/real/cache-2025-tree42965376/latest"
#define LATEST_SIZE	42965376

/* A temporary directory with the config and the store. */
struct fixture {
	char		 dir[64];
	char		 conf[128];
	char		 db[128];
	struct env	 env;
};

static int
setup(void **state)
{
	struct fixture	*fx;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	assert_int_equal(tmpdir_make(fx->dir, sizeof(fx->dir), "mirror_test",
	    fx->conf, sizeof(fx->conf)), 0);
	snprintf(fx->db, sizeof(fx->db), "%s/m.db", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	mirror_free(&fx->env);
	env_free(&fx->env);
	assert_int_equal(tmpdir_remove(fx->dir), 0);
	free(fx);
	return 0;
}

/* Write the config of [server] and sections, load it, open the store. */
static void
load(struct fixture *fx, const char *sections)
{
	FILE	*f;

	assert_non_null(f = fopen(fx->conf, "w"));
	fprintf(f, "[server]\ndatabase = %s\n%s", fx->db, sections);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(env_load_config(&fx->env, fx->conf), 0);
	assert_int_equal(env_open_store(&fx->env, 1), 0);
}

/* The contents of tests/testdata (or $SUMDB_TESTDATA) file name. */
static uint8_t *
slurp(const char *name, size_t *len)
{
	const char	*dir = getenv("SUMDB_TESTDATA");
	char		 path[512];
	uint8_t		*p;
	FILE		*f;

	snprintf(path, sizeof(path), "%s%s", dir != NULL ? dir :
	    "tests/testdata", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open (run from the source tree)", path);
	assert_non_null(p = malloc(4096));
	*len = fread(p, 1, 4096, f);
	assert_true(*len > 0 && *len < 4096);
	fclose(f);
	return p;
}

static void
test_open(void **state)
{
	struct fixture	*fx = *state;
	struct db	*db;

	load(fx, "[mirror sum.golang.org]\nkey = " GOSUMDB "\n"
	    "url = https://sum.golang.org\n");
	assert_int_equal(mirror_open(&fx->env), 0);
	assert_int_equal(fx->env.ndbs, 1);
	assert_non_null(db = fx->env.dbs[0]);
	assert_null(fx->env.log);
	assert_int_equal(db->kind, DB_MIRROR);
	assert_int_equal(db->idx, 0);
	assert_ptr_equal(db->env, &fx->env);
	assert_non_null(db->ops);
	assert_non_null(db->ops->miss);
	assert_string_equal(db->name, "sum.golang.org");
	assert_ptr_equal(db->mc, &fx->env.conf.mirrors[0]);
	assert_string_equal(db->vkey.name, "sum.golang.org");
	assert_int_equal(db->vkey.hash, 0x033de0ae);
	assert_null(db->signer);
	/* An empty store: no trust base yet, not frozen. */
	assert_int_equal(db->size, 0);
	assert_int_equal(db->tb_time, 0);
	assert_int_equal(db->frozen, 0);
	assert_int_equal(db->upstream_size, -1);
	assert_int_equal(db->full_next, 0);
	assert_true(db->gen > 0);
	assert_true(db->log > 0);
}

static void
test_two_mirrors(void **state)
{
	struct fixture		*fx = *state;
	struct note_signer	*s;
	struct note_verifier	 v;
	struct evbuffer		*key;
	char			 text[512];
	int			 err;

	assert_non_null(s = note_signer_generate("sumdb.other.example",
	    NOTE_ED25519, &err));
	note_signer_verifier(s, &v);
	note_signer_free(s);
	assert_non_null(key = evbuffer_new());
	assert_int_equal(note_verifier_format(&v, key), 0);
	assert_int_equal(evbuffer_add(key, "", 1), 0);
	snprintf(text, sizeof(text), "[mirror sum.golang.org]\nkey = %s\n"
	    "url = https://sum.golang.org\n[mirror sumdb.other.example]\n"
	    "key = %s\noffline = yes\n", GOSUMDB,
	    (char *)evbuffer_pullup(key, -1));
	evbuffer_free(key);
	load(fx, text);
	assert_int_equal(mirror_open(&fx->env), 0);
	assert_int_equal(fx->env.ndbs, 2);
	assert_int_equal(fx->env.dbs[1]->idx, 1);
	assert_int_equal(fx->env.dbs[1]->kind, DB_MIRROR);
	assert_string_equal(fx->env.dbs[1]->name, "sumdb.other.example");
	assert_memory_equal(fx->env.dbs[1]->vkey.pub, v.pub, sizeof(v.pub));
	assert_int_equal(fx->env.dbs[1]->vkey.hash, v.hash);
	assert_ptr_equal(fx->env.dbs[1]->ops, fx->env.dbs[0]->ops);
	assert_true(fx->env.dbs[0]->log != fx->env.dbs[1]->log);
}

static void
test_bad_key(void **state)
{
	struct fixture	*fx = *state;

	/* Not a verifier key: a cut one. */
	load(fx, "[mirror sum.golang.org]\nkey = sum.golang.org+033de0ae+"
	    "Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuA\n"
	    "url = https://sum.golang.org\n");
	assert_int_equal(mirror_open(&fx->env), -1);
}

static void
test_private_key(void **state)
{
	struct fixture		*fx = *state;
	struct note_signer	*s;
	char			 skey[256], text[512];
	int			 err;

	/* A signer key where the verifier key goes. */
	assert_non_null(s = note_signer_generate("sum.golang.org",
	    NOTE_ED25519, &err));
	assert_true(note_signer_format(s, skey, sizeof(skey)) > 0);
	note_signer_free(s);
	snprintf(text, sizeof(text), "[mirror sum.golang.org]\nkey = %s\n"
	    "url = https://sum.golang.org\n", skey);
	sodium_memzero(skey, sizeof(skey));
	load(fx, text);
	assert_int_equal(mirror_open(&fx->env), -1);
}

static void
test_other_name(void **state)
{
	struct fixture	*fx = *state;

	/* A good key, for another database than the section's. */
	load(fx, "[mirror sum.example]\nkey = " GOSUMDB "\n"
	    "url = https://sum.golang.org\n");
	assert_int_equal(mirror_open(&fx->env), -1);
}

static void
test_trust_base(void **state)
{
	struct fixture		*fx = *state;
	struct note_verifier	 v;
	struct note		 n;
	struct tlog_tree	 tree;
	struct db		*db;
	uint8_t			*note;
	size_t			 len;
	int64_t			 log;

	load(fx, "[mirror sum.golang.org]\nkey = " GOSUMDB "\n"
	    "url = https://sum.golang.org\n");
	/* A real checkpoint of sum.golang.org, stored as a trust base. */
	note = slurp(LATEST, &len);
	assert_int_equal(note_verifier_parse(GOSUMDB, strlen(GOSUMDB), &v), 0);
	assert_int_equal(note_open(note, len, &v, 1, &n), 0);
	assert_int_equal(tlog_parse_tree(n.text, n.textlen, &tree), 0);
	assert_int_equal(tree.n, LATEST_SIZE);
	assert_int_equal(store_log(fx->env.st, "sum.golang.org", "mirror",
	    &log), 0);
	assert_int_equal(store_add_checkpoint(fx->env.st, log, tree.n,
	    tree.hash, note, len, -1, NULL, 0, "mirror_test"), 0);
	free(note);
	assert_int_equal(store_set_frozen(fx->env.st, log, "a fork, here"),
	    0);

	assert_int_equal(mirror_open(&fx->env), 0);
	db = fx->env.dbs[0];
	assert_int_equal(db->log, log);
	assert_int_equal(db->size, LATEST_SIZE);
	assert_true(db->tb_time > 0);
	assert_int_equal(db->frozen, 1);
	assert_string_equal(db->frozen_why, "a fork, here");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_mirrors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trust_base, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
