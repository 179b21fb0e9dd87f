/*
 * core_test.c: unit tests of the daemon's core modules without the
 * daemon: trust.c's trust check (extension, equal trees, a fork and its
 * material, unreadable hashes, the empty tree, the wrong order) and
 * tiles.c's backends (the store, the overlay over it, a missing tile
 * reported, authenticated tiles saved) and the hashes-in-memory
 * reader, on a ":memory:" store filled with a log of a few hundred
 * records; users.c's users file and its cached password check.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sumdbd.h"
#include "store.h"
#include "teststore.h"

#define NREC	600		/* records: two full tiles and a partial */

/* A log built in memory, its hashes and tiles also in a store. */
struct fixture {
	struct store	*st;
	int64_t		 log;
	struct hasharray ha;		/* every stored hash */
};

static int
fail_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	(void)arg;
	(void)index;
	(void)n;
	(void)out;
	return -1;
}

static int
put_tile(void *arg, const struct tile *t)
{
	struct fixture		*f = arg;
	struct tlog_hash_reader	 hr;
	struct evbuffer		*b = evbuffer_new();
	int			 r;

	assert_non_null(b);
	tiles_array_hash_reader(&f->ha, &hr);
	assert_int_equal(tile_read_data(t, &hr, b), 0);
	r = store_put_tile(f->st, f->log, t->l, t->n, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));
	evbuffer_free(b);
	return r;
}

static int
setup(void **state)
{
	struct fixture		*f;
	struct tlog_hash_reader	 hr;
	uint8_t			 leaf[SUMDB_HASH_SIZE];
	uint8_t			 add[65][SUMDB_HASH_SIZE];
	const char		*target;
	char			 text[64], err[256], buf[1024];
	int64_t			 id;
	int			 m;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->ha.h = calloc(tlog_stored_hash_count(NREC), sizeof(*f->ha.h));
	assert_non_null(f->ha.h);
	tiles_array_hash_reader(&f->ha, &hr);
	if ((target = teststore_target(buf, sizeof(buf))) == NULL ||
	    (f->st = store_open(target, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_log(f->st, "test.example", "mirror", &f->log),
	    0);
	for (id = 0; id < NREC; id++) {
		snprintf(text, sizeof(text), "record %lld\n", (long long)id);
		tlog_record_hash((const uint8_t *)text, strlen(text), leaf);
		m = tlog_stored_hashes_for_record(id, leaf, &hr, add);
		assert_true(m > 0);
		memcpy(f->ha.h[f->ha.n], add, (size_t)m * SUMDB_HASH_SIZE);
		assert_int_equal(store_add_hashes(f->st, f->log, f->ha.n,
		    (const uint8_t (*)[SUMDB_HASH_SIZE])add, m), 0);
		f->ha.n += m;
	}
	assert_int_equal(tile_new_tiles(SUMDB_TILE_HEIGHT, 0, NREC, put_tile,
	    f), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	store_close(f->st);
	free(f->ha.h);
	free(f);
	return 0;
}

static void
tree(struct fixture *f, int64_t n, struct tlog_tree *t)
{
	struct tlog_hash_reader	 hr;

	tiles_array_hash_reader(&f->ha, &hr);
	t->n = n;
	assert_int_equal(tlog_tree_hash(n, &hr, t->hash), 0);
}

static void
test_extends(void **state)
{
	struct fixture		*f = *state;
	struct tlog_hash_reader	 hr;
	struct tlog_tree	 old, new, zero = { 0, { 0 } };
	struct trust_proof	 pf;

	tiles_array_hash_reader(&f->ha, &hr);
	tree(f, 300, &old);
	tree(f, NREC, &new);
	assert_int_equal(trust_extends(&old, &new, &hr, &pf), 0);
	assert_true(pf.np > 0);
	assert_int_equal(pf.nmat, 0);
	assert_int_equal(trust_check(&old, &new,
	    (const uint8_t (*)[SUMDB_HASH_SIZE])pf.proof, pf.np), 0);
	/* Equal trees: nothing to read or prove. */
	assert_int_equal(trust_extends(&new, &new, NULL, &pf), 0);
	assert_int_equal(pf.np, 0);
	/* The empty tree is in every tree. */
	assert_int_equal(trust_extends(&zero, &new, NULL, &pf), 0);
	assert_int_equal(pf.np, 0);
	assert_int_equal(trust_check(&zero, &new, NULL, 0), 0);
	/* The wrong order is the caller's to judge. */
	assert_int_equal(trust_extends(&new, &old, &hr, &pf), TRUST_EORDER);
	assert_int_equal(trust_check(&new, &old, NULL, 0), TRUST_EORDER);
}

static void
test_fork(void **state)
{
	struct fixture		*f = *state;
	struct tlog_hash_reader	 hr;
	struct tlog_tree	 old, real, new;
	struct trust_proof	 pf;

	tiles_array_hash_reader(&f->ha, &hr);
	tree(f, 300, &real);
	old = real;
	old.hash[0] ^= 1;
	tree(f, NREC, &new);
	assert_int_equal(trust_extends(&old, &new, &hr, &pf), TRUST_FORK);
	/* The material: new's own hash at 300, then the proof. */
	assert_int_equal(pf.nmat, pf.np + 1);
	assert_memory_equal(pf.mat[0], real.hash, SUMDB_HASH_SIZE);
	assert_memory_equal(pf.mat[1], pf.proof, pf.np * SUMDB_HASH_SIZE);
	assert_int_equal(trust_check(&real, &new,
	    (const uint8_t (*)[SUMDB_HASH_SIZE])pf.mat[1], pf.np), 0);
	assert_int_equal(trust_check(&old, &new,
	    (const uint8_t (*)[SUMDB_HASH_SIZE])pf.proof, pf.np), TRUST_FORK);
	/* The same size with another root: a fork without material. */
	old = new;
	old.hash[5] ^= 1;
	assert_int_equal(trust_extends(&old, &new, NULL, &pf), TRUST_FORK);
	assert_int_equal(pf.nmat, 0);
}

static void
test_unreadable(void **state)
{
	struct fixture		*f = *state;
	struct tlog_hash_reader	 hr = { fail_read, NULL };
	struct tlog_tree	 old, new;
	struct trust_proof	 pf;

	tree(f, 300, &old);
	tree(f, NREC, &new);
	assert_int_equal(trust_extends(&old, &new, &hr, &pf), TRUST_EREAD);
	assert_int_equal(pf.err, SUMDB_EREAD);
}

/* The store backend: hashes from the stored tiles, authenticated. */
static void
test_store_tiles(void **state)
{
	struct fixture		*f = *state;
	struct tiles		 ts;
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	struct tlog_tree	 old, new;
	struct trust_proof	 pf;
	int64_t			 idx[3];
	uint8_t			 out[3][SUMDB_HASH_SIZE];
	int			 i;

	tree(f, 300, &old);
	tree(f, NREC, &new);
	tiles_store_init(&ts, f->st, f->log);
	idx[0] = tlog_stored_hash_index(0, 0);
	idx[1] = tlog_stored_hash_index(0, 599);
	idx[2] = tlog_stored_hash_index(8, 1);
	assert_int_equal(tiles_hashes(&ts, &new, idx, 3, out), 0);
	for (i = 0; i < 3; i++)
		assert_memory_equal(out[i], f->ha.h[idx[i]], SUMDB_HASH_SIZE);
	assert_int_equal(ts.nscratch, 0);
	/* Through the tlog_hash_reader, for the trust check. */
	tiles_hash_reader(&ts, &new, &thr, &hr);
	assert_int_equal(trust_extends(&old, &new, &hr, &pf), 0);
	/* Tiles that do not give the root do not authenticate. */
	new.hash[0] ^= 1;
	assert_int_equal(tiles_hashes(&ts, &new, idx, 1, out), SUMDB_EPROOF);
	tiles_free(&ts);
	/* A log without tiles: the read fails, nothing is recorded. */
	tiles_store_init(&ts, f->st, f->log + 100);
	new.hash[0] ^= 1;
	assert_int_equal(tiles_hashes(&ts, &new, idx, 1, out), SUMDB_EREAD);
	assert_int_equal(ts.nmissing, 0);
	tiles_free(&ts);
}

/* The tiles of tree n as the store has them, held in ts. */
static void
hold(struct fixture *f, struct tiles *ts, int level, int64_t k, int w)
{
	struct tile	 t = { SUMDB_TILE_HEIGHT, level, k, w };
	struct evbuffer	*b = evbuffer_new();

	assert_int_equal(store_tile(f->st, f->log, level, k, b), 1);
	assert_int_equal(tiles_overlay_add(ts, &t, evbuffer_pullup(b, -1),
	    (size_t)w * SUMDB_HASH_SIZE, 1), 0);
	evbuffer_free(b);
}

static void
test_overlay(void **state)
{
	struct fixture		*f = *state;
	struct tiles		 ts;
	struct tile		*miss;
	struct tlog_tree	 new;
	struct evbuffer		*b = evbuffer_new();
	int64_t			 idx, other;
	uint8_t			 out[1][SUMDB_HASH_SIZE];
	size_t			 n;

	tree(f, NREC, &new);
	assert_int_equal(store_log(f->st, "other.example", "mirror", &other),
	    0);
	/* Held tiles over an empty log; one level-0 tile not held. */
	tiles_overlay_init(&ts, f->st, other, 1);
	hold(f, &ts, 1, 0, 2);
	hold(f, &ts, 0, 2, NREC - 512);
	idx = tlog_stored_hash_index(0, 300);
	assert_int_equal(tiles_hashes(&ts, &new, &idx, 1, out), SUMDB_EREAD);
	assert_int_equal(ts.nmissing, 1);
	assert_int_equal(ts.missing[0].l, 0);
	assert_int_equal(ts.missing[0].n, 1);
	assert_int_equal(ts.missing[0].w, 256);
	/* Once asked again, it is recorded once. */
	assert_int_equal(tiles_need(&ts, &ts.missing[0]), 0);
	assert_int_equal(ts.nmissing, 1);
	miss = tiles_take_missing(&ts, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ts.nmissing, 0);
	/* Fetched: the read succeeds and saves what it authenticated. */
	hold(f, &ts, 0, miss[0].n, 256);
	free(miss);
	assert_int_equal(tiles_hashes(&ts, &new, &idx, 1, out), 0);
	assert_memory_equal(out[0], f->ha.h[idx], SUMDB_HASH_SIZE);
	assert_int_equal(ts.storeerr, 0);
	assert_int_equal(store_tile(f->st, other, 0, 1, b), 1);
	assert_int_equal(evbuffer_get_length(b), 256 * SUMDB_HASH_SIZE);
	assert_non_null(tiles_overlay_find(&ts, 0, 1));
	assert_null(tiles_overlay_find(&ts, -1, 1));
	tiles_free(&ts);
	/* Memory only: the stored tiles are not read. */
	tiles_overlay_init(&ts, f->st, f->log, 0);
	ts.nostore = 1;
	assert_int_equal(tiles_hashes(&ts, &new, &idx, 1, out), SUMDB_EREAD);
	assert_true(ts.nmissing >= 2);
	tiles_reset(&ts);
	assert_int_equal(ts.nmissing, 0);
	tiles_free(&ts);
	evbuffer_free(b);
}

static int	 admits;

/* users_check()'s admit: count, and refuse when arg says so. */
static int
admit(void *arg)
{
	admits++;
	return arg != NULL ? -1 : 0;
}

static void
test_users(void **state)
{
	const struct {
		const char	*name, *pw;
		int		 refuse, want, admits;
	} t[] = {
		{ "alice", "pw3", 1, USERS_REFUSED, 1 },
		{ "alice", "pw3", 0, USERS_OK, 2 },
		{ "alice", "pw3", 0, USERS_OK, 2 },	/* cached */
		{ "alice", "pw1", 0, USERS_BAD, 3 },	/* the old one */
		{ "alice", "pw1", 1, USERS_BAD, 3 },	/* cached */
		{ "bob", "pw3", 0, USERS_BAD, 4 },
		{ "bob", "pw2", 0, USERS_OK, 5 },
		{ "carol", "pw2", 0, USERS_BAD, 6 },	/* no such user */
		{ "bo", "pw2", 0, USERS_BAD, 7 },
	};
	char		 dir[] = "/tmp/core_test.XXXXXX", path[64];
	struct users	*us;
	FILE		*f;
	size_t		 i;

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	assert_int_equal(users_set(path, "alice", "pw1", 3), 0);
	assert_int_equal(users_set(path, "bob", "pw2", 3), 0);
	assert_int_equal(users_set(path, "alice", "pw3", 3), 0);
	assert_int_equal(users_set(path, "no:colon", "x", 1), -1);
	assert_non_null(us = users_load(path));
	assert_int_equal(users_count(us), 2);
	/* Refused, then checked once, then from the cache. */
	admits = 0;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (users_check(us, t[i].name, strlen(t[i].name), t[i].pw,
		    strlen(t[i].pw), admit, t[i].refuse ? us : NULL) !=
		    t[i].want || admits != t[i].admits)
			fail_msg("case %zu: %s:%s", i, t[i].name, t[i].pw);
	users_free(us);
	/* A malformed line, a group-readable file. */
	assert_non_null(f = fopen(path, "a"));
	fputs("# fine\n\nmallory:plain\n", f);
	fclose(f);
	assert_null(users_load(path));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(users_set(path, "bob", "x", 1), -1);
	unlink(path);
	rmdir(dir);
}

/* NO_PROXY as the go command reads it (x/net/http/httpproxy's cases). */
static void
test_noproxy(void **state)
{
	static const struct {
		const char	*noproxy, *url;
		int		 bypass;
	} cases[] = {
		{ "*", "https://sum.golang.org/latest", 1 },
		{ "", "https://sum.golang.org/latest", 0 },
		{ "golang.org", "https://sum.golang.org/latest", 1 },
		{ "golang.org", "https://golang.org/", 1 },
		{ "golang.org", "https://notgolang.org/", 0 },
		{ ".golang.org", "https://golang.org/", 0 },
		{ ".golang.org", "https://sum.golang.org/", 1 },
		{ "*.golang.org", "https://sum.golang.org/", 1 },
		{ "*.golang.org", "https://golang.org/", 0 },
		{ "a.example, SUM.GOLANG.ORG ", "https://sum.golang.org/", 1 },
		{ "sum.golang.org:443", "https://sum.golang.org/", 1 },
		{ "sum.golang.org:8443", "https://sum.golang.org/", 0 },
		{ "127.0.0.1", "http://127.0.0.1:8081/latest", 1 },
		{ "127.0.0.1:8081", "http://127.0.0.1:8081/latest", 1 },
		{ "127.0.0.1:8082", "http://127.0.0.1:8081/latest", 0 },
		{ "10.0.0.0/8", "http://10.1.2.3/x", 1 },
		{ "10.0.0.0/8", "http://11.1.2.3/x", 0 },
		{ "192.168.1.0/23", "http://192.168.0.9/x", 1 },
		{ "192.168.1.0/24", "http://192.168.0.9/x", 0 },
		{ "fd00::/8", "http://[fd12::1]:80/x", 1 },
		{ "[::1]", "http://[::1]:80/x", 1 },
		{ "10.0.0.0/8", "http://ten.example/x", 0 },
	};
	size_t	 i;

	(void)state;
	assert_int_equal(fetch_noproxy(NULL, "https://a.example/"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (fetch_noproxy(cases[i].noproxy, cases[i].url) !=
		    cases[i].bypass)
			fail_msg("NO_PROXY '%s', %s: want %d", cases[i].noproxy,
			    cases[i].url, cases[i].bypass);
	}
}

/* Retry-After: seconds, or an HTTP-date (past: now). */
static void
test_retry_after(void **state)
{
	char		 v[64];
	struct tm	 tm;
	time_t		 t = time(NULL) + 120;
	int64_t		 s;

	(void)state;
	assert_int_equal(fetch_retry_after(" 5\r\n", 4), 5);
	assert_int_equal(fetch_retry_after("0", 1), 0);
	assert_int_equal(fetch_retry_after(" -1\r\n", 5), -1);
	assert_int_equal(fetch_retry_after(" 5s\r\n", 5), -1);
	assert_int_equal(fetch_retry_after("", 0), -1);
	strcpy(v, " Sun, 06 Nov 1994 08:49:37 GMT\r\n");
	assert_int_equal(fetch_retry_after(v, strlen(v)), 0);
	strcpy(v, " Sunday, 06-Nov-94 08:49:37 GMT");
	assert_int_equal(fetch_retry_after(v, strlen(v)), -1);
	gmtime_r(&t, &tm);
	strftime(v, sizeof(v), " %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	s = fetch_retry_after(v, strlen(v));
	assert_true(s >= 110 && s <= 120);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_noproxy),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_extends),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_store_tiles),
		cmocka_unit_test(test_overlay),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
