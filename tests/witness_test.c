/*
 * witness_test.c: unit tests of the witness (daemon/witness/), linked
 * with its whole archive and the core only: a witness over a real store
 * in a temporary directory answers add-checkpoint requests handed to it
 * as the main thread gets them (a missreq with a done callback), for a
 * log whose checkpoints are signed here: each status, the state kept
 * across a reopening, and the cosignature verified under the witness's
 * key with daemon/sumdb.
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

#include "witness/witness.h"
#include "store.h"
#include "tmpdir.h"

#define ORIGIN	"log.witnessed.example"
#define WNAME	"witness.test.example/w1"

struct fixture {
	char			 dir[64];
	char			 conf[128];
	struct note_signer	*log;		/* signs the checkpoints */
	struct note_signer	*other;		/* a key the witness does not know */
	struct note_verifier	 wv;		/* the witness's */
	uint8_t			 leaf[3][SUMDB_HASH_SIZE];
};

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fixture		*fx;
	struct note_signer	*w;
	struct note_verifier	 lv;
	struct evbuffer		*vk;
	char			 skey[256], path[160], text[1024];
	int			 err, i;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	assert_int_equal(tmpdir_make(fx->dir, sizeof(fx->dir),
	    "witness_test", fx->conf, sizeof(fx->conf)), 0);
	assert_non_null(w = note_signer_generate(WNAME, NOTE_COSIG_V1, &err));
	assert_true(note_signer_format(w, skey, sizeof(skey)) > 0);
	note_signer_verifier(w, &fx->wv);
	note_signer_free(w);
	umask(077);
	snprintf(path, sizeof(path), "%s/w.key", fx->dir);
	write_file(path, skey);
	sodium_memzero(skey, sizeof(skey));
	assert_non_null(fx->log = note_signer_generate(ORIGIN, NOTE_ED25519,
	    &err));
	assert_non_null(fx->other = note_signer_generate(ORIGIN,
	    NOTE_ED25519, &err));
	note_signer_verifier(fx->log, &lv);
	assert_non_null(vk = evbuffer_new());
	assert_int_equal(note_verifier_format(&lv, vk), 0);
	evbuffer_add(vk, "", 1);
	snprintf(text, sizeof(text), "[server]\ndatabase = %s/x.db\n"
	    "[witness]\nname = %s\nkey = %s\n[witness-log %s]\nkey = %s\n",
	    fx->dir, WNAME, path, ORIGIN,
	    (const char *)evbuffer_pullup(vk, -1));
	evbuffer_free(vk);
	write_file(fx->conf, text);
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "example.com/m%d v1.0.0 h1:x\n",
		    i);
		tlog_record_hash((const uint8_t *)text, strlen(text),
		    fx->leaf[i]);
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	note_signer_free(fx->log);
	note_signer_free(fx->other);
	assert_int_equal(tmpdir_remove(fx->dir), 0);
	free(fx);
	return 0;
}

/* The root of the first n (1 to 3) leaves. */
static void
root(struct fixture *fx, int n, uint8_t out[SUMDB_HASH_SIZE])
{
	uint8_t	 h[SUMDB_HASH_SIZE];

	if (n == 1) {
		memcpy(out, fx->leaf[0], SUMDB_HASH_SIZE);
		return;
	}
	tlog_node_hash(fx->leaf[0], fx->leaf[1], h);
	if (n == 2)
		memcpy(out, h, SUMDB_HASH_SIZE);
	else
		tlog_node_hash(h, fx->leaf[2], out);
}

/* The add-checkpoint body: old, proof, the checkpoint of n by s. */
static struct evbuffer *
body(struct fixture *fx, int64_t old, const uint8_t (*proof)[32],
    size_t np, const char *origin, int n, struct note_signer *s)
{
	struct evbuffer	*text, *note, *b;
	char		 b64[SUMDB_B64_SIZE(SUMDB_HASH_SIZE)];
	uint8_t		 r[SUMDB_HASH_SIZE];

	root(fx, n, r);
	sumdb_b64_encode(r, sizeof(r), b64);
	assert_non_null(text = evbuffer_new());
	assert_non_null(note = evbuffer_new());
	assert_non_null(b = evbuffer_new());
	evbuffer_add_printf(text, "%s\n%d\n%s\n", origin, n, b64);
	assert_int_equal(note_sign(evbuffer_pullup(text, -1),
	    evbuffer_get_length(text), &s, 1, note), 0);
	assert_int_equal(witness_format_req(old, proof, np,
	    evbuffer_pullup(note, -1), evbuffer_get_length(note), b), 0);
	evbuffer_free(text);
	evbuffer_free(note);
	return b;
}

static struct missreq	*answered;

static void
done(struct missreq *m)
{
	answered = m;
}

/* Hand b to the witness as the main thread would; the answer. */
static struct missreq *
submit(struct env *env, struct evbuffer *b)
{
	struct missreq	*m;

	assert_non_null(m = calloc(1, sizeof(*m)));
	m->kind = MISS_WITNESS;
	m->done = done;
	m->inlen = evbuffer_get_length(b);
	assert_non_null(m->in = malloc(m->inlen));
	evbuffer_remove(b, m->in, m->inlen);
	evbuffer_free(b);
	answered = NULL;
	env->witness_add(env, m);
	assert_ptr_equal(answered, m);
	return m;
}

static void
open_env(struct fixture *fx, struct env *env)
{
	memset(env, 0, sizeof(*env));
	assert_int_equal(env_load_config(env, fx->conf), 0);
	assert_int_equal(env_open_store(env, 1), 0);
	assert_int_equal(witness_open(env), 0);
	assert_non_null(env->witness_add);
	assert_non_null(env->cosigner);
}

/* Status and body of m; with a 200, its cosignature verifies. */
static void
expect(struct fixture *fx, struct missreq *m, int status, const char *out)
{
	struct witness_req	 r;
	struct note_verifier	 lv;
	struct evbuffer		*b;
	struct note		 n;

	assert_int_equal(m->status, status);
	if (out != NULL) {
		assert_int_equal(m->outlen, strlen(out));
		assert_memory_equal(m->out, out, m->outlen);
	}
	if (status == 200) {
		/* The checkpoint's text, a blank line, the cosignature. */
		note_signer_verifier(fx->log, &lv);
		assert_int_equal(witness_parse_req(m->in, m->inlen, &r), 0);
		assert_int_equal(note_open(r.note, r.notelen, &lv, 1, &n), 0);
		assert_non_null(b = evbuffer_new());
		evbuffer_add(b, n.text, n.textlen);
		evbuffer_add(b, "\n", 1);
		evbuffer_add(b, m->out, m->outlen);
		assert_int_equal(note_open(evbuffer_pullup(b, -1),
		    evbuffer_get_length(b), &fx->wv, 1, &n), 0);
		assert_int_equal(n.nverified, 1);
		evbuffer_free(b);
	}
	handoff_free_req(m);
}

static void
test_add_checkpoint(void **state)
{
	struct fixture	*fx = *state;
	struct env	 env;
	uint8_t		 proof[2][SUMDB_HASH_SIZE], bad[SUMDB_HASH_SIZE];
	uint8_t		 r[SUMDB_HASH_SIZE], l01[SUMDB_HASH_SIZE];
	int64_t		 size;

	open_env(fx, &env);
	/* Unknown origin, unknown key, malformed, old beyond the size. */
	expect(fx, submit(&env, body(fx, 0, NULL, 0, "other.example", 1,
	    fx->log)), 404, NULL);
	expect(fx, submit(&env, body(fx, 0, NULL, 0, ORIGIN, 1, fx->other)),
	    403, NULL);
	expect(fx, submit(&env, body(fx, 2, NULL, 0, ORIGIN, 1, fx->log)),
	    400, NULL);
	/* The first checkpoint, then the same again. */
	expect(fx, submit(&env, body(fx, 0, NULL, 0, ORIGIN, 1, fx->log)),
	    200, NULL);
	expect(fx, submit(&env, body(fx, 1, NULL, 0, ORIGIN, 1, fx->log)),
	    200, NULL);
	/* A wrong old size: 409 and ours. */
	expect(fx, submit(&env, body(fx, 0, NULL, 0, ORIGIN, 3, fx->log)),
	    409, "1\n");
	/* 1 -> 3: the proof is leaf 1 and leaf 2. */
	memcpy(proof[0], fx->leaf[1], SUMDB_HASH_SIZE);
	memcpy(proof[1], fx->leaf[2], SUMDB_HASH_SIZE);
	memcpy(bad, proof[0], sizeof(bad));
	proof[0][0] ^= 1;
	expect(fx, submit(&env, body(fx, 1, (const uint8_t (*)[32])proof, 2,
	    ORIGIN, 3, fx->log)), 422, NULL);
	memcpy(proof[0], bad, sizeof(bad));
	expect(fx, submit(&env, body(fx, 1, (const uint8_t (*)[32])proof, 2,
	    ORIGIN, 3, fx->log)), 200, NULL);
	/* The state is in the store, and survives a reopening. */
	assert_int_equal(store_witness_get(env.st, ORIGIN, &size, r, NULL), 1);
	assert_int_equal(size, 3);
	root(fx, 3, l01);
	assert_memory_equal(r, l01, SUMDB_HASH_SIZE);
	witness_free(&env);
	env_free(&env);
	open_env(fx, &env);
	expect(fx, submit(&env, body(fx, 0, NULL, 0, ORIGIN, 3, fx->log)),
	    409, "3\n");
	/* Never backwards: a smaller tree from 3 is old > size. */
	expect(fx, submit(&env, body(fx, 3, NULL, 0, ORIGIN, 2, fx->log)),
	    400, NULL);
	witness_free(&env);
	env_free(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_checkpoint, setup,
		    teardown),
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
