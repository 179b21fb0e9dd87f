/*
 * store.c: the SQLite store.  The schema is one string, versioned with
 * PRAGMA user_version; statements are prepared once in store_open()
 * from a table.  WAL mode keeps readers off the writer's back, and the
 * commits that make records durable before they are signed run with
 * synchronous=FULL.
 */

#include <event2/buffer.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define SCHEMA_VERSION	5

static const char schema[] =
    "CREATE TABLE log ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL);"
    "CREATE TABLE record ("
    "  log INTEGER NOT NULL REFERENCES log(id),"
    "  id INTEGER NOT NULL,"
    "  path TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  text BLOB NOT NULL,"
    "  PRIMARY KEY (log, id)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX record_version ON record (log, path, version);"
    "CREATE TABLE hash ("
    "  log INTEGER NOT NULL REFERENCES log(id),"
    "  idx INTEGER NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  PRIMARY KEY (log, idx)) WITHOUT ROWID;"
    "CREATE TABLE tile ("
    "  log INTEGER NOT NULL REFERENCES log(id),"
    "  level INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (log, level, n)) WITHOUT ROWID;"
    "CREATE TABLE checkpoint ("
    "  log INTEGER NOT NULL REFERENCES log(id),"
    "  size INTEGER NOT NULL,"
    "  root BLOB NOT NULL,"
    "  note BLOB NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (log, size)) WITHOUT ROWID;";

/*
 * Version 2: checkpoints become trust bases, each with the consistency
 * proof from the one before and where it came from; mirrors can be
 * frozen; refusals keep their evidence.
 */
static const char schema2[] =
    "ALTER TABLE checkpoint ADD COLUMN prev INTEGER;"
    "ALTER TABLE checkpoint ADD COLUMN proof BLOB;"
    "ALTER TABLE checkpoint ADD COLUMN source TEXT;"
    "ALTER TABLE log ADD COLUMN frozen TEXT;"
    "ALTER TABLE log ADD COLUMN full_next INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE evidence ("
    "  id INTEGER PRIMARY KEY,"
    "  log INTEGER NOT NULL REFERENCES log(id),"
    "  kind TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  old BLOB,"
    "  new BLOB,"
    "  material BLOB);";

/*
 * Version 3: the TUF repository: every metadata file ever published,
 * byte for byte, and every target file, by path and sha256.
 */
static const char schema3[] =
    "CREATE TABLE tuf ("
    "  role TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  bytes BLOB NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (role, version)) WITHOUT ROWID;"
    "CREATE TABLE tuf_target ("
    "  path TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  bytes BLOB NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (path, sha256)) WITHOUT ROWID;";

/*
 * Version 4: lookups of private module paths that reached a mirror, per
 * client address, so misconfigured build hosts can be found.
 */
static const char schema4[] =
    "CREATE TABLE privacy ("
    "  log INTEGER NOT NULL REFERENCES log (id),"
    "  addr TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  last INTEGER NOT NULL,"
    "  path TEXT NOT NULL,"
    "  PRIMARY KEY (log, addr)) WITHOUT ROWID;";

/*
 * Version 5: where a public record of the private log came from: record
 * id of log is record upstream_id of the mirror log upstream, verified
 * in that mirror's trust base of size upstream_tree.
 */
static const char schema5[] =
    "CREATE TABLE provenance ("
    "  log INTEGER NOT NULL REFERENCES log (id),"
    "  id INTEGER NOT NULL,"
    "  upstream INTEGER NOT NULL REFERENCES log (id),"
    "  upstream_id INTEGER NOT NULL,"
    "  upstream_tree INTEGER NOT NULL,"
    "  PRIMARY KEY (log, id)) WITHOUT ROWID;";

enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_LOG_GET,
	Q_LOG_ADD,
	Q_SIZE,
	Q_LOOKUP,
	Q_RECORD,
	Q_RECORDS,
	Q_ADD_RECORD,
	Q_HASH,
	Q_ADD_HASH,
	Q_TILE,
	Q_PUT_TILE,
	Q_LATEST,
	Q_LATEST_TIME,
	Q_ADD_CHECKPOINT,
	Q_ADD_EVIDENCE,
	Q_COUNT_EVIDENCE,
	Q_ADD_PRIVACY,
	Q_GET_FROZEN,
	Q_SET_FROZEN,
	Q_GET_FULL,
	Q_SET_FULL,
	Q_CHECKPOINT,
	Q_TUF_PUT,
	Q_TUF_GET,
	Q_TUF_NEWEST,
	Q_TARGET_PUT,
	Q_TARGET_GET,
	Q_ADD_PROVENANCE,
	Q_PROVENANCE,
	Q_LOG_NAME,
	Q_MAX
};

static const char *queries[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_LOG_GET] = "SELECT id FROM log WHERE name = ?1",
	[Q_LOG_ADD] = "INSERT INTO log (name, kind) VALUES (?1, ?2)",
	[Q_SIZE] = "SELECT coalesce(max(id) + 1, 0) FROM record WHERE log = ?1",
	[Q_LOOKUP] = "SELECT id, text FROM record "
	    "WHERE log = ?1 AND path = ?2 AND version = ?3",
	[Q_RECORD] = "SELECT text FROM record WHERE log = ?1 AND id = ?2",
	[Q_RECORDS] = "SELECT id, text FROM record "
	    "WHERE log = ?1 AND id >= ?2 AND id < ?3 ORDER BY id",
	[Q_ADD_RECORD] = "INSERT INTO record (log, id, path, version, text) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_HASH] = "SELECT hash FROM hash WHERE log = ?1 AND idx = ?2",
	[Q_ADD_HASH] = "INSERT INTO hash (log, idx, hash) VALUES (?1, ?2, ?3)",
	[Q_TILE] = "SELECT data FROM tile WHERE log = ?1 AND level = ?2 "
	    "AND n = ?3",
	[Q_PUT_TILE] = "INSERT INTO tile (log, level, n, data) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (log, level, n) DO UPDATE "
	    "SET data = excluded.data "
	    "WHERE length(excluded.data) > length(tile.data)",
	[Q_LATEST] = "SELECT size, root, note FROM checkpoint WHERE log = ?1 "
	    "ORDER BY size DESC LIMIT 1",
	[Q_LATEST_TIME] = "SELECT created FROM checkpoint WHERE log = ?1 "
	    "ORDER BY size DESC LIMIT 1",
	[Q_ADD_CHECKPOINT] = "INSERT INTO checkpoint "
	    "(log, size, root, note, created, prev, proof, source) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_ADD_EVIDENCE] = "INSERT INTO evidence "
	    "(log, kind, source, created, detail, old, new, material) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_COUNT_EVIDENCE] = "SELECT count(*) FROM evidence WHERE log = ?1 "
	    "AND kind = ?2",
	[Q_ADD_PRIVACY] = "INSERT INTO privacy (log, addr, count, first, "
	    "last, path) VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (log, "
	    "addr) DO UPDATE SET count = count + excluded.count, "
	    "last = excluded.last, path = excluded.path",
	[Q_GET_FROZEN] = "SELECT frozen FROM log WHERE id = ?1",
	[Q_SET_FROZEN] = "UPDATE log SET frozen = ?2 WHERE id = ?1",
	[Q_GET_FULL] = "SELECT full_next FROM log WHERE id = ?1",
	[Q_SET_FULL] = "UPDATE log SET full_next = ?2 WHERE id = ?1",
	[Q_CHECKPOINT] = "SELECT root, note FROM checkpoint WHERE log = ?1 "
	    "AND size = ?2",
	[Q_TUF_PUT] = "INSERT INTO tuf (role, version, bytes, created) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[Q_TUF_GET] = "SELECT version, bytes FROM tuf WHERE role = ?1 AND "
	    "version = ?2",
	[Q_TUF_NEWEST] = "SELECT version, bytes FROM tuf WHERE role = ?1 "
	    "ORDER BY version DESC LIMIT 1",
	[Q_TARGET_PUT] = "INSERT OR IGNORE INTO tuf_target "
	    "(path, sha256, bytes, created) VALUES (?1, ?2, ?3, ?4)",
	[Q_TARGET_GET] = "SELECT bytes FROM tuf_target WHERE path = ?1 AND "
	    "sha256 = ?2",
	[Q_ADD_PROVENANCE] = "INSERT INTO provenance (log, id, upstream, "
	    "upstream_id, upstream_tree) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_PROVENANCE] = "SELECT upstream, upstream_id, upstream_tree FROM "
	    "provenance WHERE log = ?1 AND id = ?2",
	[Q_LOG_NAME] = "SELECT name FROM log WHERE id = ?1",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*q[Q_MAX];
	char		 err[256];
};

const char *
store_errmsg(struct store *st)
{
	if (st->err[0] != '\0')
		return st->err;
	return sqlite3_errmsg(st->db);
}

static int
exec(struct store *st, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(st->err, sizeof(st->err), "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Reset q for its next use and report rc as 0 or -1. */
static int
done(struct store *st, sqlite3_stmt *q, int rc)
{
	if (rc != SQLITE_DONE && rc != SQLITE_ROW && rc != SQLITE_OK)
		snprintf(st->err, sizeof(st->err), "%s",
		    sqlite3_errmsg(st->db));
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return (rc == SQLITE_DONE || rc == SQLITE_ROW || rc == SQLITE_OK) ?
	    0 : -1;
}

static sqlite3_stmt *
prep(struct store *st, int which)
{
	st->err[0] = '\0';
	return st->q[which];
}

struct store *
store_open(const char *path, char *err, size_t errsize)
{
	struct store	*st;
	sqlite3_stmt	*q;
	int		 version = -1, i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s", st->db ?
		    sqlite3_errmsg(st->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* Larger pages: fewer B-tree splits for a full mirror's inserts. */
	if (exec(st, "PRAGMA page_size=16384") != 0 ||
	    exec(st, "PRAGMA journal_mode=WAL") != 0 ||
	    exec(st, "PRAGMA synchronous=NORMAL") != 0 ||
	    exec(st, "PRAGMA foreign_keys=ON") != 0 ||
	    exec(st, "PRAGMA cache_size=-65536") != 0) {
		snprintf(err, errsize, "%s", st->err);
		goto bad;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL)
	    == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version >= 0 && version < SCHEMA_VERSION) {
		if (exec(st, "BEGIN IMMEDIATE") != 0 ||
		    (version < 1 && exec(st, schema) != 0) ||
		    (version < 2 && exec(st, schema2) != 0) ||
		    (version < 3 && exec(st, schema3) != 0) ||
		    (version < 4 && exec(st, schema4) != 0) ||
		    (version < 5 && exec(st, schema5) != 0) ||
		    exec(st, "PRAGMA user_version = 5") != 0 ||
		    exec(st, "COMMIT") != 0) {
			snprintf(err, errsize, "creating schema: %s", st->err);
			exec(st, "ROLLBACK");
			goto bad;
		}
	} else if (version != SCHEMA_VERSION) {
		snprintf(err, errsize, "schema version %d, want %d", version,
		    SCHEMA_VERSION);
		goto bad;
	}
	for (i = 0; i < Q_MAX; i++)
		if (sqlite3_prepare_v3(st->db, queries[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->q[i], NULL) != SQLITE_OK) {
			snprintf(err, errsize, "preparing '%s': %s",
			    queries[i], sqlite3_errmsg(st->db));
			goto bad;
		}
	return st;
 bad:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	for (i = 0; i < Q_MAX; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	free(st);
}

int
store_log(struct store *st, const char *name, const char *kind, int64_t *id)
{
	sqlite3_stmt	*q = prep(st, Q_LOG_GET);
	int		 rc;

	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		return done(st, q, rc);
	}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_LOG_ADD);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	if (done(st, q, sqlite3_step(q)) != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_begin(struct store *st, int durable)
{
	sqlite3_stmt	*q;

	/* The level can only change outside a transaction. */
	if (exec(st, durable ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL") != 0)
		return -1;
	q = prep(st, Q_BEGIN);
	return done(st, q, sqlite3_step(q));
}

int
store_commit(struct store *st)
{
	sqlite3_stmt	*q = prep(st, Q_COMMIT);

	return done(st, q, sqlite3_step(q));
}

void
store_rollback(struct store *st)
{
	sqlite3_stmt	*q = prep(st, Q_ROLLBACK);

	if (sqlite3_get_autocommit(st->db))
		return;
	done(st, q, sqlite3_step(q));
}

int
store_size(struct store *st, int64_t log, int64_t *n)
{
	sqlite3_stmt	*q = prep(st, Q_SIZE);
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*n = sqlite3_column_int64(q, 0);
	return done(st, q, rc == SQLITE_ROW ? rc : SQLITE_ERROR);
}

/* Append column col of q's row to out. */
static int
add_blob(struct store *st, sqlite3_stmt *q, int col, struct evbuffer *out)
{
	const void	*p = sqlite3_column_blob(q, col);
	int		 len = sqlite3_column_bytes(q, col);

	if (out != NULL && len > 0 && evbuffer_add(out, p, len) != 0) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Step q, which selects at most one row, and append its column col to
 * out.  Returns 1 found, 0 absent, -1 error; q is reset.
 */
static int
one_blob(struct store *st, sqlite3_stmt *q, int col, struct evbuffer *out)
{
	int	 rc, found = 0;

	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (add_blob(st, q, col, out) != 0)
			rc = SQLITE_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_lookup(struct store *st, int64_t log, const char *path,
    const char *version, int64_t *id, struct evbuffer *text)
{
	sqlite3_stmt	*q = prep(st, Q_LOOKUP);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, version, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		if (add_blob(st, q, 1, text) != 0)
			rc = SQLITE_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_record(struct store *st, int64_t log, int64_t id, struct evbuffer *out)
{
	sqlite3_stmt	*q = prep(st, Q_RECORD);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	return one_blob(st, q, 0, out);
}

int
store_cache(struct store *st, int kib)
{
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib);
	if (exec(st, sql) != 0)
		return -1;
	sqlite3_db_release_memory(st->db);
	return 0;
}

int
store_data_tile(struct store *st, int64_t log, int64_t first, int64_t n,
    struct evbuffer *out)
{
	sqlite3_stmt	*q = prep(st, Q_RECORDS);
	int64_t		 next = first;
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, first + n);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_int64(q, 0) != next++ ||
		    add_blob(st, q, 1, out) != 0 ||
		    evbuffer_add(out, "\n", 1) != 0) {
			snprintf(st->err, sizeof(st->err),
			    "record %lld missing or out of memory",
			    (long long)next - 1);
			done(st, q, SQLITE_DONE);
			return -1;
		}
	}
	if (done(st, q, rc) != 0)
		return -1;
	if (next != first + n) {
		snprintf(st->err, sizeof(st->err), "records %lld to %lld "
		    "missing", (long long)next, (long long)(first + n - 1));
		return -1;
	}
	return 0;
}

int
store_add_record(struct store *st, int64_t log, int64_t id, const char *path,
    const char *version, const uint8_t *text, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_RECORD);
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	sqlite3_bind_text(q, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, version, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, text, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE) {
		done(st, q, SQLITE_DONE);
		return 1;
	}
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		done(st, q, SQLITE_DONE);
		return 2;
	}
	return done(st, q, rc);
}

int
store_read_hashes(struct store *st, int64_t log, const int64_t *index,
    size_t n, uint8_t (*out)[STORE_HASH_SIZE])
{
	sqlite3_stmt	*q = prep(st, Q_HASH);
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, log);
		sqlite3_bind_int64(q, 2, index[i]);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW &&
		    sqlite3_column_bytes(q, 0) == STORE_HASH_SIZE)
			memcpy(out[i], sqlite3_column_blob(q, 0),
			    STORE_HASH_SIZE);
		else {
			if (rc == SQLITE_ROW || rc == SQLITE_DONE)
				snprintf(st->err, sizeof(st->err),
				    "stored hash %lld missing or malformed",
				    (long long)index[i]);
			done(st, q, rc == SQLITE_ROW || rc == SQLITE_DONE ?
			    SQLITE_DONE : rc);
			return -1;
		}
		if (done(st, q, rc) != 0)
			return -1;
	}
	return 0;
}

int
store_add_hashes(struct store *st, int64_t log, int64_t first,
    const uint8_t (*h)[STORE_HASH_SIZE], size_t n)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_HASH);
	size_t		 i;

	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, log);
		sqlite3_bind_int64(q, 2, first + (int64_t)i);
		sqlite3_bind_blob(q, 3, h[i], STORE_HASH_SIZE, SQLITE_STATIC);
		if (done(st, q, sqlite3_step(q)) != 0)
			return -1;
	}
	return 0;
}

int
store_tile(struct store *st, int64_t log, int level, int64_t n,
    struct evbuffer *out)
{
	sqlite3_stmt	*q = prep(st, Q_TILE);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int(q, 2, level);
	sqlite3_bind_int64(q, 3, n);
	return one_blob(st, q, 0, out);
}

int
store_put_tile(struct store *st, int64_t log, int level, int64_t n,
    const uint8_t *data, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_PUT_TILE);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int(q, 2, level);
	sqlite3_bind_int64(q, 3, n);
	sqlite3_bind_blob(q, 4, data, (int)len, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}

int
store_latest(struct store *st, int64_t log, struct evbuffer *note,
    int64_t *size, uint8_t root[STORE_HASH_SIZE])
{
	sqlite3_stmt	*q = prep(st, Q_LATEST);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*size = sqlite3_column_int64(q, 0);
		if (sqlite3_column_bytes(q, 1) != STORE_HASH_SIZE) {
			snprintf(st->err, sizeof(st->err),
			    "checkpoint %lld: malformed root", (long long)*size);
			done(st, q, SQLITE_DONE);
			return -1;
		}
		memcpy(root, sqlite3_column_blob(q, 1), STORE_HASH_SIZE);
		if (add_blob(st, q, 2, note) != 0)
			rc = SQLITE_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_latest_time(struct store *st, int64_t log, int64_t *created)
{
	sqlite3_stmt	*q = prep(st, Q_LATEST_TIME);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*created = sqlite3_column_int64(q, 0);
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_add_checkpoint(struct store *st, int64_t log, int64_t size,
    const uint8_t root[STORE_HASH_SIZE], const uint8_t *note, size_t len,
    int64_t prev, const uint8_t *proof, size_t prooflen, const char *source)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_CHECKPOINT);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, size);
	sqlite3_bind_blob(q, 3, root, STORE_HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, note, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, (int64_t)time(NULL));
	if (prev >= 0) {
		sqlite3_bind_int64(q, 6, prev);
		sqlite3_bind_blob(q, 7, proof != NULL ? proof : (const uint8_t *)"",
		    (int)prooflen, SQLITE_STATIC);
	}
	if (source != NULL)
		sqlite3_bind_text(q, 8, source, -1, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}

int
store_add_evidence(struct store *st, int64_t log, const char *kind,
    const char *source, const char *detail, const uint8_t *old, size_t oldlen,
    const uint8_t *new, size_t newlen, const uint8_t *material,
    size_t matlen)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_EVIDENCE);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	sqlite3_bind_text(q, 5, detail, -1, SQLITE_STATIC);
	if (old != NULL)
		sqlite3_bind_blob(q, 6, old, (int)oldlen, SQLITE_STATIC);
	if (new != NULL)
		sqlite3_bind_blob(q, 7, new, (int)newlen, SQLITE_STATIC);
	if (material != NULL)
		sqlite3_bind_blob(q, 8, material, (int)matlen, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}

int
store_count_evidence(struct store *st, int64_t log, const char *kind,
    int64_t *n)
{
	sqlite3_stmt	*q = prep(st, Q_COUNT_EVIDENCE);
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*n = sqlite3_column_int64(q, 0);
	return done(st, q, rc == SQLITE_ROW ? rc : SQLITE_ERROR);
}

int
store_add_privacy(struct store *st, int64_t log, const char *addr,
    int64_t count, int64_t when, const char *path)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_PRIVACY);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, count);
	sqlite3_bind_int64(q, 4, when);
	sqlite3_bind_text(q, 5, path, -1, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}

int
store_each_privacy(struct store *st, int (*fn)(void *, const char *,
    const char *, int64_t, int64_t, int64_t, const char *), void *arg)
{
	sqlite3_stmt	*q = NULL;
	int		 rc, r = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT l.name, p.addr, p.count, "
	    "p.first, p.last, p.path FROM privacy p JOIN log l ON p.log = "
	    "l.id ORDER BY p.count DESC, p.addr", -1, &q, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && r == 0)
		r = fn(arg, (const char *)sqlite3_column_text(q, 0),
		    (const char *)sqlite3_column_text(q, 1),
		    sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3),
		    sqlite3_column_int64(q, 4),
		    (const char *)sqlite3_column_text(q, 5));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? r : -1;
}

int
store_frozen(struct store *st, int64_t log, char *reason, size_t size)
{
	sqlite3_stmt	*q = prep(st, Q_GET_FROZEN);
	int		 rc, frozen = 0;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL) {
		frozen = 1;
		snprintf(reason, size, "%s", sqlite3_column_text(q, 0));
	}
	if (done(st, q, rc) != 0)
		return -1;
	return frozen;
}

int
store_set_frozen(struct store *st, int64_t log, const char *reason)
{
	sqlite3_stmt	*q = prep(st, Q_SET_FROZEN);

	sqlite3_bind_int64(q, 1, log);
	if (reason != NULL)
		sqlite3_bind_text(q, 2, reason, -1, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}

int
store_full_next(struct store *st, int64_t log, int64_t *next)
{
	sqlite3_stmt	*q = prep(st, Q_GET_FULL);
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*next = sqlite3_column_int64(q, 0);
	return done(st, q, rc == SQLITE_ROW ? rc : SQLITE_ERROR);
}

int
store_set_full_next(struct store *st, int64_t log, int64_t next)
{
	sqlite3_stmt	*q = prep(st, Q_SET_FULL);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, next);
	return done(st, q, sqlite3_step(q));
}

int
store_tuf_put(struct store *st, const char *role, int64_t version,
    const uint8_t *p, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_TUF_PUT);

	sqlite3_bind_text(q, 1, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, version);
	sqlite3_bind_blob(q, 3, p, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	return done(st, q, sqlite3_step(q));
}

int
store_tuf_get(struct store *st, const char *role, int64_t version,
    struct evbuffer *out, int64_t *got)
{
	sqlite3_stmt	*q = prep(st, version < 0 ? Q_TUF_NEWEST : Q_TUF_GET);
	int		 rc, found = 0;

	sqlite3_bind_text(q, 1, role, -1, SQLITE_STATIC);
	if (version >= 0)
		sqlite3_bind_int64(q, 2, version);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (got != NULL)
			*got = sqlite3_column_int64(q, 0);
		if (add_blob(st, q, 1, out) != 0)
			rc = SQLITE_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_target_put(struct store *st, const char *path, const char *sha256,
    const uint8_t *p, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_TARGET_PUT);

	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, p, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	return done(st, q, sqlite3_step(q));
}

int
store_target_get(struct store *st, const char *path, const char *sha256,
    struct evbuffer *out)
{
	sqlite3_stmt	*q = prep(st, Q_TARGET_GET);

	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sha256, -1, SQLITE_STATIC);
	return one_blob(st, q, 0, out);
}

int
store_checkpoint(struct store *st, int64_t log, int64_t size,
    struct evbuffer *note, uint8_t root[STORE_HASH_SIZE])
{
	sqlite3_stmt	*q = prep(st, Q_CHECKPOINT);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, size);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_bytes(q, 0) == STORE_HASH_SIZE) {
		memcpy(root, sqlite3_column_blob(q, 0), STORE_HASH_SIZE);
		if (add_blob(st, q, 1, note) != 0)
			rc = SQLITE_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_each_checkpoint(struct store *st, int64_t log,
    int (*fn)(void *, int64_t, const uint8_t *, const uint8_t *, size_t,
    int64_t, const uint8_t *, size_t), void *arg)
{
	sqlite3_stmt	*q = NULL;
	int		 rc, r = 0;

	st->err[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT size, root, note, "
	    "coalesce(prev, -1), proof FROM checkpoint WHERE log = ?1 "
	    "ORDER BY size", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, log);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && r == 0)
		r = fn(arg, sqlite3_column_int64(q, 0),
		    sqlite3_column_bytes(q, 1) == STORE_HASH_SIZE ?
		    sqlite3_column_blob(q, 1) : NULL,
		    sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2),
		    sqlite3_column_int64(q, 3), sqlite3_column_blob(q, 4),
		    sqlite3_column_bytes(q, 4));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? r : -1;
}

int
store_each_record(struct store *st, int64_t log,
    int (*fn)(void *, int64_t, const char *, const char *, const uint8_t *,
    size_t), void *arg)
{
	sqlite3_stmt	*q = NULL;
	int		 rc, r = 0;

	st->err[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT id, path, version, text FROM "
	    "record WHERE log = ?1 ORDER BY id", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, log);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && r == 0)
		r = fn(arg, sqlite3_column_int64(q, 0),
		    (const char *)sqlite3_column_text(q, 1),
		    (const char *)sqlite3_column_text(q, 2),
		    sqlite3_column_blob(q, 3), sqlite3_column_bytes(q, 3));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? r : -1;
}

int
store_integrity(struct store *st, void (*fn)(void *, const char *), void *arg)
{
	sqlite3_stmt	*q = NULL;
	const char	*msg;
	int		 rc, bad = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &q, NULL)
	    != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		msg = (const char *)sqlite3_column_text(q, 0);
		if (msg != NULL && strcmp(msg, "ok") != 0) {
			fn(arg, msg);
			bad++;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? bad : -1;
}

int
store_each_evidence(struct store *st, int64_t id,
    int (*fn)(void *, int64_t, const char *, const char *, const char *,
    int64_t, const char *, const struct store_blob *), void *arg)
{
	struct store_blob	 b[3];
	sqlite3_stmt		*q = NULL;
	int			 rc, r = 0, k;

	if (sqlite3_prepare_v2(st->db, "SELECT e.id, l.name, e.kind, "
	    "e.source, e.created, e.detail, e.old, e.new, e.material FROM "
	    "evidence e JOIN log l ON e.log = l.id WHERE ?1 < 0 OR e.id = ?1 "
	    "ORDER BY e.id", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && r == 0) {
		for (k = 0; k < 3; k++) {
			b[k].p = sqlite3_column_blob(q, 6 + k);
			b[k].len = (size_t)sqlite3_column_bytes(q, 6 + k);
		}
		r = fn(arg, sqlite3_column_int64(q, 0),
		    (const char *)sqlite3_column_text(q, 1),
		    (const char *)sqlite3_column_text(q, 2),
		    (const char *)sqlite3_column_text(q, 3),
		    sqlite3_column_int64(q, 4),
		    (const char *)sqlite3_column_text(q, 5), b);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? r : -1;
}

int
store_add_provenance(struct store *st, int64_t log, int64_t id,
    int64_t upstream, int64_t upstream_id, int64_t upstream_tree)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_PROVENANCE);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	sqlite3_bind_int64(q, 3, upstream);
	sqlite3_bind_int64(q, 4, upstream_id);
	sqlite3_bind_int64(q, 5, upstream_tree);
	return done(st, q, sqlite3_step(q));
}

int
store_provenance(struct store *st, int64_t log, int64_t id,
    int64_t *upstream, int64_t *upstream_id, int64_t *upstream_tree)
{
	sqlite3_stmt	*q = prep(st, Q_PROVENANCE);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		found = 1;
		*upstream = sqlite3_column_int64(q, 0);
		*upstream_id = sqlite3_column_int64(q, 1);
		*upstream_tree = sqlite3_column_int64(q, 2);
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_each_provenance(struct store *st, int64_t log, int (*fn)(void *,
    int64_t, int64_t, int64_t, int64_t), void *arg)
{
	sqlite3_stmt	*q = NULL;
	int		 rc, r = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT id, upstream, upstream_id, "
	    "upstream_tree FROM provenance WHERE log = ?1 ORDER BY id", -1,
	    &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, log);
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		r = fn(arg, sqlite3_column_int64(q, 0),
		    sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
		    sqlite3_column_int64(q, 3));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? r : -1;
}

int
store_log_name(struct store *st, int64_t id, char *name, size_t size)
{
	sqlite3_stmt	*q = prep(st, Q_LOG_NAME);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		found = 1;
		snprintf(name, size, "%s", sqlite3_column_text(q, 0));
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}
