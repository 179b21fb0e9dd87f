/*
 * store_test.c: unit tests of store/, on SQLite and (with
 * SUMDBD_TEST_PG set: tests/run.sh runs them twice) on PostgreSQL: the
 * schema and its migration from version 1 (SQLite) or its version
 * (PostgreSQL), records and the one-hash-per-version rule, stored
 * hashes, tiles that never shrink, checkpoints, evidence, the frozen
 * state, a full mirror's texts and their index in rows, in bulk and in
 * spilled runs, and the provenance of the private log's public records.
 */

#include <event2/buffer.h>
#include <sqlite3.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "teststore.h"

/* A new empty store: SQLite in memory, or a fresh PostgreSQL schema. */
static struct store *
open_mem(void)
{
	struct store	*st;
	const char	*target;
	char		 err[256], buf[1024];

	if ((target = teststore_target(buf, sizeof(buf))) == NULL)
		fail_msg("no test database");
	st = store_open(target, err, sizeof(err));
	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

static void
test_records(void **state)
{
	struct store	*st = open_mem();
	struct evbuffer	*b = evbuffer_new();
	int64_t		 log, log2, id, n;

	(void)state;
	assert_int_equal(store_log(st, "a.example", "private", &log), 0);
	assert_int_equal(store_log(st, "a.example", "private", &log2), 0);
	assert_int_equal(log, log2);
	assert_int_equal(store_size(st, log, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_add_record(st, log, 0, "m", "v1.0.0",
	    (const uint8_t *)"r0\n", 3), 0);
	assert_int_equal(store_add_record(st, log, 1, "m", "v1.1.0",
	    (const uint8_t *)"r1\n", 3), 0);
	/* A second record for one module version, or one id twice. */
	assert_int_equal(store_add_record(st, log, 2, "m", "v1.0.0",
	    (const uint8_t *)"x\n", 2), 1);
	assert_int_equal(store_add_record(st, log, 1, "m", "v9.0.0",
	    (const uint8_t *)"x\n", 2), 2);
	assert_int_equal(store_size(st, log, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_lookup(st, log, "m", "v1.1.0", &id, b), 1);
	assert_int_equal(id, 1);
	assert_int_equal(evbuffer_get_length(b), 3);
	assert_int_equal(store_lookup(st, log, "m", "v2.0.0", &id, NULL), 0);
	assert_int_equal(store_lookup(st, log + 1, "m", "v1.1.0", &id, NULL),
	    0);
	evbuffer_drain(b, 3);
	assert_int_equal(store_data_tile(st, log, 0, 2, b), 0);
	assert_int_equal(evbuffer_get_length(b), 8);
	assert_memory_equal(evbuffer_pullup(b, -1), "r0\n\nr1\n\n", 8);
	assert_int_equal(store_data_tile(st, log, 0, 3, b), -1);
	assert_int_equal(store_record(st, log, 7, b), 0);
	evbuffer_free(b);
	store_close(st);
}

static void
test_hashes_tiles(void **state)
{
	struct store	*st = open_mem();
	struct evbuffer	*b = evbuffer_new();
	uint8_t		 h[3][STORE_HASH_SIZE], out[2][STORE_HASH_SIZE];
	uint8_t		 tile[8 * STORE_HASH_SIZE];
	int64_t		 log, idx[2] = { 2, 0 };

	(void)state;
	assert_int_equal(store_log(st, "a.example", "mirror", &log), 0);
	memset(h, 0, sizeof(h));
	h[0][0] = 1;
	h[1][0] = 2;
	h[2][0] = 3;
	assert_int_equal(store_add_hashes(st, log, 0,
	    (const uint8_t (*)[STORE_HASH_SIZE])h, 3), 0);
	assert_int_equal(store_read_hashes(st, log, idx, 2, out), 0);
	assert_int_equal(out[0][0], 3);
	assert_int_equal(out[1][0], 1);
	idx[0] = 3;
	assert_int_equal(store_read_hashes(st, log, idx, 2, out), -1);
	/* The widest tile stays: a narrower one never replaces it. */
	memset(tile, 7, sizeof(tile));
	assert_int_equal(store_put_tile(st, log, 0, 5, tile, 4 * 32), 0);
	assert_int_equal(store_put_tile(st, log, 0, 5, tile, 8 * 32), 0);
	assert_int_equal(store_put_tile(st, log, 0, 5, tile, 2 * 32), 0);
	assert_int_equal(store_tile(st, log, 0, 5, b), 1);
	assert_int_equal(evbuffer_get_length(b), 8 * 32);
	assert_int_equal(store_tile(st, log, 1, 5, b), 0);
	evbuffer_free(b);
	store_close(st);
}

static void
test_checkpoints_evidence(void **state)
{
	struct store	*st = open_mem();
	struct evbuffer	*b = evbuffer_new();
	uint8_t		 root[STORE_HASH_SIZE], got[STORE_HASH_SIZE];
	char		 why[64];
	int64_t		 log, size, next;

	(void)state;
	assert_int_equal(store_log(st, "m.example", "mirror", &log), 0);
	assert_int_equal(store_latest(st, log, b, &size, got), 0);
	memset(root, 1, sizeof(root));
	assert_int_equal(store_begin(st, 1), 0);
	assert_int_equal(store_add_checkpoint(st, log, 5, root,
	    (const uint8_t *)"five\n", 5, -1, NULL, 0, "http://u"), 0);
	root[0] = 2;
	assert_int_equal(store_add_checkpoint(st, log, 9, root,
	    (const uint8_t *)"nine\n", 5, 5, root, 32, "http://u"), 0);
	/* One trust base per size. */
	assert_int_equal(store_add_checkpoint(st, log, 9, root,
	    (const uint8_t *)"nine\n", 5, 5, root, 32, "http://u"), -1);
	store_rollback(st);
	assert_int_equal(store_latest(st, log, b, &size, got), 0);
	assert_int_equal(store_add_checkpoint(st, log, 5, root,
	    (const uint8_t *)"five\n", 5, -1, NULL, 0, NULL), 0);
	assert_int_equal(store_add_checkpoint(st, log, 9, root,
	    (const uint8_t *)"nine\n", 5, 5, root, 32, "http://u"), 0);
	assert_int_equal(store_latest(st, log, b, &size, got), 1);
	assert_int_equal(size, 9);
	assert_memory_equal(evbuffer_pullup(b, -1), "nine\n", 5);
	assert_int_equal(store_count_evidence(st, log, "fork", &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(store_add_evidence(st, log, "fork", "http://u",
	    "detail", (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, NULL,
	    0), 0);
	assert_int_equal(store_add_evidence(st, log, "fork", "http://u",
	    "again", NULL, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(store_add_evidence(st, log, "rollback", "http://u",
	    "detail", NULL, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(store_count_evidence(st, log, "fork", &next), 0);
	assert_int_equal(next, 2);
	assert_int_equal(store_count_evidence(st, log, "rollback", &next), 0);
	assert_int_equal(next, 1);
	assert_int_equal(store_count_evidence(st, log + 1, "fork", &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(store_frozen(st, log, why, sizeof(why)), 0);
	assert_int_equal(store_set_frozen(st, log, "a fork"), 0);
	assert_int_equal(store_frozen(st, log, why, sizeof(why)), 1);
	assert_string_equal(why, "a fork");
	assert_int_equal(store_set_frozen(st, log, NULL), 0);
	assert_int_equal(store_frozen(st, log, why, sizeof(why)), 0);
	assert_int_equal(store_full_next(st, log, &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(store_set_full_next(st, log, 512), 0);
	assert_int_equal(store_full_next(st, log, &next), 0);
	assert_int_equal(next, 512);
	evbuffer_free(b);
	store_close(st);
}

static void
test_tuf(void **state)
{
	struct store	*st = open_mem();
	struct evbuffer	*b = evbuffer_new();
	int64_t		 v;

	(void)state;
	assert_int_equal(store_tuf_get(st, "root", -1, b, &v), 0);
	assert_int_equal(store_tuf_put(st, "root", 1, (uint8_t *)"r1", 2), 0);
	assert_int_equal(store_tuf_put(st, "root", 2, (uint8_t *)"r2", 2), 0);
	/* Published versions never change. */
	assert_int_equal(store_tuf_put(st, "root", 2, (uint8_t *)"xx", 2), -1);
	assert_int_equal(store_tuf_get(st, "root", -1, b, &v), 1);
	assert_int_equal(v, 2);
	assert_memory_equal(evbuffer_pullup(b, -1), "r2", 2);
	evbuffer_drain(b, 2);
	assert_int_equal(store_tuf_get(st, "root", 1, b, &v), 1);
	assert_memory_equal(evbuffer_pullup(b, -1), "r1", 2);
	assert_int_equal(store_tuf_get(st, "root", 3, b, &v), 0);
	assert_int_equal(store_target_put(st, "a/key", "00", (uint8_t *)"k",
	    1), 0);
	assert_int_equal(store_target_put(st, "a/key", "00", (uint8_t *)"k",
	    1), 0);
	assert_int_equal(store_target_get(st, "a/key", "00", b), 1);
	assert_int_equal(store_target_get(st, "a/key", "01", b), 0);
	evbuffer_free(b);
	store_close(st);
}

/* A version-1 database gains version 2's tables and keeps its rows. */
static int
privacy_row(void *arg, const char *db, const char *addr, int64_t count,
    int64_t first, int64_t last, const char *path)
{
	(void)arg;
	assert_string_equal(db, "old.example");
	assert_string_equal(addr, "10.0.0.1");
	assert_int_equal(count, 5);
	assert_int_equal(first, 100);
	assert_int_equal(last, 200);
	assert_string_equal(path, "corp.example/b");
	return 1;
}

/* PostgreSQL: a store of a newer schema version than ours is refused. */
static void
test_pg_version(void)
{
	struct store	*st;
	const char	*target;
	PGconn		*c;
	PGresult	*r;
	char		 buf[1024], err[256];

	assert_non_null(target = teststore_target(buf, sizeof(buf)));
	if ((st = store_open(target, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	store_close(st);
	/* Opening it again finds the version it wrote. */
	if ((st = store_open(target, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	store_close(st);
	c = PQconnectdb(target);
	r = PQexec(c, "UPDATE meta SET version = 99");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	assert_null(store_open(target, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99"));
}

static void
test_migration(void **state)
{
	char		 path[] = "/tmp/store_test.XXXXXX", err[256], wal[64];
	struct store	*st;
	sqlite3		*db;
	int64_t		 log, id, next;
	int		 fd;

	(void)state;
	if (teststore_pg()) {
		test_pg_version();
		return;
	}
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE log (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
	    "UNIQUE, kind TEXT NOT NULL);"
	    "CREATE TABLE record (log INTEGER NOT NULL, id INTEGER NOT NULL,"
	    " path TEXT NOT NULL, version TEXT NOT NULL, text BLOB NOT NULL,"
	    " PRIMARY KEY (log, id)) WITHOUT ROWID;"
	    "CREATE UNIQUE INDEX record_version ON record (log, path, version);"
	    "CREATE TABLE hash (log INTEGER NOT NULL, idx INTEGER NOT NULL,"
	    " hash BLOB NOT NULL, PRIMARY KEY (log, idx)) WITHOUT ROWID;"
	    "CREATE TABLE tile (log INTEGER NOT NULL, level INTEGER NOT NULL,"
	    " n INTEGER NOT NULL, data BLOB NOT NULL,"
	    " PRIMARY KEY (log, level, n)) WITHOUT ROWID;"
	    "CREATE TABLE checkpoint (log INTEGER NOT NULL, size INTEGER NOT "
	    "NULL, root BLOB NOT NULL, note BLOB NOT NULL, created INTEGER NOT "
	    "NULL, PRIMARY KEY (log, size)) WITHOUT ROWID;"
	    "INSERT INTO log VALUES (1, 'old.example', 'private');"
	    "INSERT INTO record VALUES (1, 0, 'm', 'v1.0.0', x'0a');"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	if ((st = store_open(path, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_log(st, "old.example", "private", &log), 0);
	assert_int_equal(log, 1);
	assert_int_equal(store_lookup(st, log, "m", "v1.0.0", &id, NULL), 1);
	assert_int_equal(store_full_next(st, log, &next), 0);
	assert_int_equal(store_add_evidence(st, log, "k", "s", "d", NULL, 0,
	    NULL, 0, NULL, 0), 0);
	assert_int_equal(store_tuf_put(st, "root", 1, (uint8_t *)"r", 1), 0);
	/* Version 4's privacy counts add up per address. */
	assert_int_equal(store_add_privacy(st, log, "10.0.0.1", 2, 100,
	    "corp.example/a"), 0);
	assert_int_equal(store_add_privacy(st, log, "10.0.0.1", 3, 200,
	    "corp.example/b"), 0);
	assert_int_equal(store_each_privacy(st, privacy_row, NULL), 1);
	/* Version 5's provenance, on the migrated store. */
	assert_int_equal(store_add_provenance(st, log, 0, log, 0, 1), 0);
	assert_int_equal(store_provenance(st, log, 0, &id, &next, &next), 1);
	store_close(st);
	/* And a newer schema than ours is refused. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99"));
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
}

/* The text of record i of test_full_index(): dup[] name earlier ones. */
static int
full_text(char *buf, size_t size, int64_t i)
{
	int64_t	 n = i;

	switch (i) {
	case 300:	n = 7; break;		/* rows, then rows */
	case 2500:	n = 5; break;		/* bulk, then rows */
	case 2600:	n = 1400; break;	/* both in one bulk build */
	case 5100:	n = 2000; break;	/* a second bulk, older blocks */
	}
	return snprintf(buf, size, "example.com/m%lld v1.%lld.0 h1:%040lld=\n"
	    "example.com/m%lld v1.%lld.0/go.mod h1:%040lld=\n", (long long)n,
	    (long long)n, (long long)i, (long long)n, (long long)n,
	    (long long)i);
}

/* Put records [from, to) of test_full_index() as data tiles' texts. */
static void
full_put(struct store *st, int64_t log, int64_t from, int64_t to)
{
	struct evbuffer	*b = evbuffer_new();
	char		 t[256];
	int64_t		 i;

	for (i = from; i < to; i++) {
		full_text(t, sizeof(t), i);
		evbuffer_add_printf(b, "%s\n", t);
	}
	assert_int_equal(store_begin(st, 0), 0);
	assert_int_equal(store_put_texts(st, log, from, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b)), 0);
	assert_int_equal(store_commit(st), 0);
	evbuffer_free(b);
}

struct conflicts {
	int64_t	 id[8], first[8];
	int	 n;
};

static void
full_conflict(void *arg, int64_t id, int64_t first)
{
	struct conflicts	*c = arg;

	assert_true(c->n < 8);
	c->id[c->n] = id;
	c->first[c->n++] = first;
}

/* Index records up to upto; the conflicts reported, in key order. */
static void
full_index(struct store *st, int64_t log, int64_t upto, struct conflicts *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(store_begin(st, 0), 0);
	if (store_index(st, log, upto, full_conflict, c) != 0)
		fail_msg("store_index: %s", store_errmsg(st));
	assert_int_equal(store_commit(st), 0);
}

/* Lookups of records [from, to) find each (or what it duplicates). */
static void
full_check(struct store *st, int64_t log, int64_t from, int64_t to)
{
	struct evbuffer	*b = evbuffer_new();
	char		 t[256], path[64], version[64];
	int64_t		 i, id, want;

	for (i = from; i < to; i++) {
		want = i == 300 ? 7 : i == 2500 ? 5 : i == 2600 ? 1400 :
		    i == 5100 ? 2000 : i;
		snprintf(path, sizeof(path), "example.com/m%lld",
		    (long long)want);
		snprintf(version, sizeof(version), "v1.%lld.0",
		    (long long)want);
		evbuffer_drain(b, evbuffer_get_length(b));
		assert_int_equal(store_lookup(st, log, path, version, &id, b),
		    1);
		assert_int_equal(id, want);
		full_text(t, sizeof(t), want);
		assert_int_equal(evbuffer_get_length(b), strlen(t));
		assert_memory_equal(evbuffer_pullup(b, -1), t, strlen(t));
	}
	assert_int_equal(store_lookup(st, log, "example.com/m1", "v9.9.9",
	    &id, NULL), 0);
	evbuffer_free(b);
}

static int
count_record(void *arg, int64_t id, const char *path, const char *version,
    const uint8_t *text, size_t len)
{
	int64_t	*n = arg;
	char	 t[256];

	assert_int_equal(id, *n);
	full_text(t, sizeof(t), id);
	assert_non_null(strstr(t, path));
	assert_non_null(strstr(t, version));
	assert_int_equal(len, strlen(t));
	assert_memory_equal(text, t, len);
	(*n)++;
	return 0;
}

/*
 * A full mirror's records as texts, indexed as rows (a few), as a bulk
 * build of blocks (sorted in chunks spilled as runs) and as a second
 * bulk build merged with the first's blocks: lookups find each record,
 * the first of two that name one module version, and every conflict is
 * reported once; data tiles and the walk over every record read them
 * back.  Small bulk and chunk sizes make each path run here.
 */
static void
test_full_index(void **state)
{
	struct store		*st = open_mem();
	struct conflicts	 c;
	struct evbuffer		*b = evbuffer_new();
	char			 t[256];
	int64_t			 log, n, i, indexed;

	(void)state;
	store_tune_index(st, 1000, 700);
	assert_int_equal(store_log(st, "full.example", "mirror", &log), 0);
	full_put(st, log, 0, 301);
	full_index(st, log, 301, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.id[0], 300);
	assert_int_equal(c.first[0], 7);
	full_check(st, log, 0, 301);
	/* 4 runs of 700 and a chunk in memory, merged with the rows. */
	full_put(st, log, 301, 3400);
	full_index(st, log, 3400, &c);
	assert_int_equal(c.n, 2);
	assert_true((c.id[0] == 2500 && c.first[0] == 5 && c.id[1] == 2600 &&
	    c.first[1] == 1400) || (c.id[1] == 2500 && c.first[1] == 5 &&
	    c.id[0] == 2600 && c.first[0] == 1400));
	assert_int_equal(store_indexed(st, log, &indexed), 0);
	assert_int_equal(indexed, 3400);
	full_check(st, log, 0, 3400);
	/* A second bulk build, over the first's blocks. */
	full_put(st, log, 3400, 5200);
	full_index(st, log, 5200, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.id[0], 5100);
	assert_int_equal(c.first[0], 2000);
	full_check(st, log, 0, 5200);
	/* A data tile, and every record in id order. */
	assert_int_equal(store_data_tile(st, log, 256 * 10, 256, b), 0);
	for (i = 256 * 10; i < 256 * 11; i++) {
		full_text(t, sizeof(t), i);
		assert_memory_equal(evbuffer_pullup(b, (ev_ssize_t)strlen(t)),
		    t, strlen(t));
		evbuffer_drain(b, strlen(t));
		assert_memory_equal(evbuffer_pullup(b, 1), "\n", 1);
		evbuffer_drain(b, 1);
	}
	assert_int_equal(evbuffer_get_length(b), 0);
	n = 0;
	assert_int_equal(store_each_record(st, log, count_record, &n), 0);
	assert_int_equal(n, 5200);
	evbuffer_free(b);
	store_close(st);
}

/* PostgreSQL: end st's session from another connection, as a restart. */
static void
pg_kill(const char *target)
{
	PGconn		*c = PQconnectdb(target);
	PGresult	*r;

	r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE pid <> pg_backend_pid() AND "
	    "datname = current_database() AND query NOT LIKE '%pg_stat%'");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	PQfinish(c);
}

/*
 * PostgreSQL: a connection ended under the store is made again, with
 * its statements; one ended in a transaction fails that transaction
 * (its writes gone) until the rollback, and nothing after it.
 */
static void
test_pg_reconnect(void **state)
{
	struct store	*st;
	const char	*target;
	char		 buf[1024], err[256];
	int64_t		 log, n;

	(void)state;
	assert_non_null(target = teststore_target(buf, sizeof(buf)));
	if ((st = store_open(target, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_log(st, "a.example", "private", &log), 0);
	assert_int_equal(store_add_record(st, log, 0, "m", "v1.0.0",
	    (const uint8_t *)"r0\n", 3), 0);
	pg_kill(target);
	assert_int_equal(store_size(st, log, &n), 0);
	assert_int_equal(n, 1);
	/* In a transaction: it and its writes are lost. */
	assert_int_equal(store_begin(st, 1), 0);
	assert_int_equal(store_add_record(st, log, 1, "m", "v1.1.0",
	    (const uint8_t *)"r1\n", 3), 0);
	pg_kill(target);
	assert_int_equal(store_add_record(st, log, 2, "m", "v1.2.0",
	    (const uint8_t *)"r2\n", 3), -1);
	assert_int_equal(store_size(st, log, &n), -1);
	assert_non_null(strstr(store_errmsg(st), "broke during a transaction"));
	store_rollback(st);
	assert_int_equal(store_size(st, log, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_begin(st, 1), 0);
	assert_int_equal(store_add_record(st, log, 1, "m", "v1.1.0",
	    (const uint8_t *)"r1\n", 3), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_size(st, log, &n), 0);
	assert_int_equal(n, 2);
	store_close(st);
}

/* Run sql on target's schema from a connection of the test's own. */
static void
pg_exec(const char *target, const char *sql)
{
	PGconn		*c = PQconnectdb(target);
	PGresult	*r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/*
 * PostgreSQL: the writer lease and its fence.  Two nodes on one store:
 * one holds the lease and renews it under the same token; the other
 * takes it only once it expired (a new token) or was dropped; a node
 * fenced with a lost token has its transactions refused; and two
 * writers that both think they hold it still cannot store a second
 * checkpoint of one size.
 */
static void
test_pg_lease(void **state)
{
	struct store		*a, *b;
	struct store_lease	 li;
	const char		*target;
	uint8_t			 root[STORE_HASH_SIZE] = { 1 };
	char			 buf[1024], err[256];
	int64_t			 log, t1, t2, none = 0;

	(void)state;
	assert_non_null(target = teststore_target(buf, sizeof(buf)));
	if ((a = store_open(target, err, sizeof(err))) == NULL ||
	    (b = store_open(target, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_lease_get(a, &li), 0);
	assert_int_equal(store_lease(a, "node-a", "http://a", 60000, &li), 1);
	t1 = li.token;
	assert_true(li.left_ms > 50000);
	assert_int_equal(store_lease(b, "node-b", "http://b", 60000, &li), 0);
	assert_string_equal(li.holder, "node-a");
	assert_string_equal(li.url, "http://a");
	assert_int_equal(li.token, t1);
	/* Renewed: the same token. */
	assert_int_equal(store_lease(a, "node-a", "http://a", 60000, &li), 1);
	assert_int_equal(li.token, t1);
	store_fence(a, "node-a", &t1);
	assert_int_equal(store_log(a, "a.example", "private", &log), 0);
	assert_int_equal(store_begin(a, 1), 0);
	assert_int_equal(store_add_checkpoint(a, log, 1, root,
	    (const uint8_t *)"n1", 2, -1, NULL, 0, NULL), 0);
	assert_int_equal(store_commit(a), 0);
	/* Expired (a paused node): b takes it under a new token. */
	pg_exec(target, "UPDATE lease SET expires = 0");
	assert_int_equal(store_lease(b, "node-b", "http://b", 60000, &li), 1);
	t2 = li.token;
	assert_true(t2 > t1);
	store_fence(b, "node-b", &t2);
	/* a, resumed, still thinks it writes: refused. */
	assert_int_equal(store_begin(a, 1), -1);
	assert_non_null(strstr(store_errmsg(a), "not the writer"));
	assert_int_equal(store_begin(b, 1), 0);
	assert_int_equal(store_add_checkpoint(b, log, 2, root,
	    (const uint8_t *)"n2", 2, 1, NULL, 0, NULL), 0);
	assert_int_equal(store_commit(b), 0);
	/* A fenced node that knows it holds no lease does not even ask. */
	store_fence(a, "node-a", &none);
	assert_int_equal(store_begin(a, 1), -1);
	assert_non_null(strstr(store_errmsg(a), "does not hold the lease"));
	/*
	 * Without its fence (a node that ignores the election), a's
	 * second tree of size 2 is refused by the database.
	 */
	store_fence(a, NULL, 0);
	assert_int_equal(store_begin(a, 1), 0);
	assert_int_equal(store_add_checkpoint(a, log, 2, root,
	    (const uint8_t *)"n2'", 3, 1, NULL, 0, NULL), -1);
	store_rollback(a);
	/* Dropped on a clean stop: a takes it at once, a newer token. */
	assert_int_equal(store_lease_drop(b, "node-b", t2), 0);
	assert_int_equal(store_lease(a, "node-a", "http://a", 60000, &li), 1);
	assert_true(li.token > t2);
	store_close(a);
	store_close(b);
}

/* store_each_provenance()'s callback: count rows, stop at id 9. */
static int
provenance_row(void *arg, int64_t id, int64_t up, int64_t upid,
    int64_t uptree)
{
	int	*n = arg;

	assert_true(upid < uptree);
	assert_true(up > 0);
	(*n)++;
	return id == 9;
}

/* Where the private log's public records came from. */
static void
test_provenance(void **state)
{
	struct store	*st = open_mem();
	int64_t		 log, mirror, up, upid, uptree;
	char		 name[64];
	int		 n = 0;

	(void)state;
	assert_int_equal(store_log(st, "corp.example", "private", &log), 0);
	assert_int_equal(store_log(st, "sum.golang.org", "mirror", &mirror),
	    0);
	assert_int_equal(store_provenance(st, log, 0, &up, &upid, &uptree),
	    0);
	assert_int_equal(store_add_provenance(st, log, 0, mirror, 41, 100),
	    0);
	assert_int_equal(store_add_provenance(st, log, 9, mirror, 7, 8), 0);
	assert_int_equal(store_add_provenance(st, log, 12, mirror, 1, 2), 0);
	/* One provenance per record. */
	assert_int_equal(store_add_provenance(st, log, 0, mirror, 42, 100),
	    -1);
	assert_int_equal(store_provenance(st, log, 0, &up, &upid, &uptree),
	    1);
	assert_int_equal(up, mirror);
	assert_int_equal(upid, 41);
	assert_int_equal(uptree, 100);
	assert_int_equal(store_provenance(st, mirror, 0, &up, &upid,
	    &uptree), 0);
	/* In id order, stopped by the callback at id 9. */
	assert_int_equal(store_each_provenance(st, log, provenance_row, &n),
	    1);
	assert_int_equal(n, 2);
	assert_int_equal(store_log_name(st, mirror, name, sizeof(name)), 1);
	assert_string_equal(name, "sum.golang.org");
	assert_int_equal(store_log_name(st, 99, name, sizeof(name)), 0);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_hashes_tiles),
		cmocka_unit_test(test_checkpoints_evidence),
		cmocka_unit_test(test_tuf),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_provenance),
		cmocka_unit_test(test_full_index),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(test_pg_reconnect),
		cmocka_unit_test(test_pg_lease),
	};

	if (cmocka_run_group_tests(tests, NULL, NULL) != 0)
		return 1;
	return teststore_pg() ? cmocka_run_group_tests(pg_tests, NULL,
	    NULL) : 0;
}
