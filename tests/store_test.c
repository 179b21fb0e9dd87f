/*
 * store_test.c: unit tests of store/ on SQLite: the schema and its
 * migration from version 1, records and the one-hash-per-version rule,
 * stored hashes, tiles that never shrink, checkpoints, evidence, the
 * frozen state, a full mirror's progress, and the provenance of the
 * private log's public records.
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

static struct store *
open_mem(void)
{
	struct store	*st;
	char		 err[256];

	st = store_open(":memory:", err, sizeof(err));
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

static void
test_migration(void **state)
{
	char		 path[] = "/tmp/store_test.XXXXXX", err[256], wal[64];
	struct store	*st;
	sqlite3		*db;
	int64_t		 log, id, next;
	int		 fd;

	(void)state;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
