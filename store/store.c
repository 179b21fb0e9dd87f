/*
 * store.c: the SQLite store.  The schema is one string, versioned with
 * PRAGMA user_version; statements are prepared once in store_open()
 * from a table.  WAL mode keeps readers off the writer's back, and the
 * commits that make records durable before they are signed run with
 * synchronous=FULL.
 */

/* SHA256_Init() and friends: see daemon/sumdb/encode.c. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <event2/buffer.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define SCHEMA_VERSION	7

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

/*
 * Version 6: lookups by key, a 63-bit hash of "path version" (see
 * name_key()), for every record of every log, so that a full mirror
 * keeps only each record's text, as a row of rtext (k = log << 40 | id,
 * appended in order: data tiles are ranges of it) and indexes them in
 * bulk; log.indexed: the records below it are indexed.  Keys come as rows of lookup (records stored one by one,
 * small syncs) and as lookup_block: sorted blocks of 16-byte (key, id)
 * entries, big-endian, that a bulk build rewrites as generation
 * log.blocks, merged with the one before.
 */
static const char schema6[] =
    "CREATE TABLE lookup ("
    "  log INTEGER NOT NULL,"
    "  key INTEGER NOT NULL,"
    "  id INTEGER NOT NULL,"
    "  PRIMARY KEY (log, key, id)) WITHOUT ROWID;"
    "INSERT INTO lookup (log, key, id) SELECT log, "
    "  sumdbd_key(path, version), id FROM record ORDER BY 1, 2, 3;"
    "DROP INDEX record_version;"
    "ALTER TABLE log ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;"
    "UPDATE log SET indexed = full_next;"
    "CREATE TABLE rtext ("
    "  k INTEGER PRIMARY KEY,"
    "  text BLOB NOT NULL);"
    "CREATE TABLE lookup_block ("
    "  log INTEGER NOT NULL,"
    "  gen INTEGER NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (log, gen, first)) WITHOUT ROWID;"
    "ALTER TABLE log ADD COLUMN blocks INTEGER NOT NULL DEFAULT 0;";

/*
 * Version 7: the witness's state (c2sp.org/tlog-witness): per log
 * origin, the size and root it last cosigned and that checkpoint as
 * served, with the cosignature; and whether a checkpoint is published
 * (a witnessed log's waits for its quorum of cosignatures).
 */
static const char schema7[] =
    "CREATE TABLE witness ("
    "  origin TEXT PRIMARY KEY,"
    "  size INTEGER NOT NULL,"
    "  root BLOB NOT NULL,"
    "  note BLOB NOT NULL,"
    "  time INTEGER NOT NULL) WITHOUT ROWID;"
    "ALTER TABLE checkpoint ADD COLUMN published INTEGER NOT NULL "
    "  DEFAULT 1;";

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
	Q_ADD_KEY,
	Q_TEXT,
	Q_TEXTS,
	Q_ADD_TEXT,
	Q_BLOCK,
	Q_ADD_BLOCK,
	Q_GET_INDEXED,
	Q_SET_INDEXED,
	Q_WITNESS_GET,
	Q_WITNESS_SET,
	Q_NEXT_CHECKPOINT,
	Q_COSIGN,
	Q_PUBLISHED,
	Q_SET_PUBLISHED,
	Q_MAX
};

static const char *queries[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_LOG_GET] = "SELECT id FROM log WHERE name = ?1",
	[Q_LOG_ADD] = "INSERT INTO log (name, kind) VALUES (?1, ?2)",
	[Q_SIZE] = "SELECT coalesce(max(id) + 1, 0) FROM record WHERE log = ?1",
	[Q_LOOKUP] = "SELECT id FROM lookup WHERE log = ?1 AND key = ?2 "
	    "ORDER BY id",
	[Q_RECORD] = "SELECT path, version, text FROM record "
	    "WHERE log = ?1 AND id = ?2",
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
	[Q_WITNESS_GET] = "SELECT size, root, note FROM witness WHERE "
	    "origin = ?1",
	[Q_WITNESS_SET] = "INSERT OR REPLACE INTO witness (origin, size, "
	    "root, note, time) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_NEXT_CHECKPOINT] = "SELECT size, note, proof FROM checkpoint "
	    "WHERE log = ?1 AND prev = ?2 ORDER BY size LIMIT 1",
	[Q_COSIGN] = "UPDATE checkpoint SET note = note || ?3 WHERE log = ?1 "
	    "AND size = ?2",
	[Q_PUBLISHED] = "SELECT size, root, note FROM checkpoint WHERE "
	    "log = ?1 AND published = 1 ORDER BY size DESC LIMIT 1",
	[Q_SET_PUBLISHED] = "UPDATE checkpoint SET published = ?3 WHERE "
	    "log = ?1 AND size = ?2",
	[Q_ADD_KEY] = "INSERT OR IGNORE INTO lookup (log, key, id) "
	    "VALUES (?1, ?2, ?3)",
	[Q_TEXT] = "SELECT text FROM rtext WHERE k = ?1",
	[Q_TEXTS] = "SELECT k, text FROM rtext WHERE k >= ?1 AND k < ?2 "
	    "ORDER BY k",
	[Q_ADD_TEXT] = "INSERT OR IGNORE INTO rtext (k, text) VALUES (?1, ?2)",
	[Q_BLOCK] = "SELECT data FROM lookup_block WHERE log = ?1 AND "
	    "gen = (SELECT blocks FROM log WHERE id = ?1) AND first <= ?2 "
	    "ORDER BY first DESC LIMIT 1",
	[Q_ADD_BLOCK] = "INSERT INTO lookup_block (log, gen, first, data) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[Q_GET_INDEXED] = "SELECT indexed FROM log WHERE id = ?1",
	[Q_SET_INDEXED] = "UPDATE log SET indexed = ?2 WHERE id = ?1",
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

static int	newest(struct store *, int, int64_t, struct evbuffer *,
		    int64_t *, uint8_t [STORE_HASH_SIZE]);

static sqlite3_stmt *
prep(struct store *st, int which)
{
	st->err[0] = '\0';
	return st->q[which];
}

/* The key of record id of log in rtext. */
#define TEXT_KEY(log, id)	((int64_t)(log) << 40 | (id))
#define TEXT_ID(k)		((k) & (((int64_t)1 << 40) - 1))

/* The lookup key of path@version: 63 bits of SHA-256("path version"). */
static int64_t
name_key(const char *path, size_t plen, const char *version, size_t vlen)
{
	SHA256_CTX	 c;
	uint8_t		 h[SHA256_DIGEST_LENGTH];
	uint64_t	 k = 0;
	int		 i;

	SHA256_Init(&c);
	SHA256_Update(&c, path, plen);
	SHA256_Update(&c, " ", 1);
	SHA256_Update(&c, version, vlen);
	SHA256_Final(h, &c);
	for (i = 0; i < 8; i++)
		k = k << 8 | h[i];
	return (int64_t)(k >> 1);
}

/* sumdbd_key(path, version) in SQL: name_key(). */
static void
sql_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*p, *v;

	(void)argc;
	p = (const char *)sqlite3_value_text(argv[0]);
	v = (const char *)sqlite3_value_text(argv[1]);
	if (p == NULL || v == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, name_key(p, (size_t)sqlite3_value_bytes(
	    argv[0]), v, (size_t)sqlite3_value_bytes(argv[1])));
}

/*
 * The path and version a record's text names on its first line, "path
 * version h1:...", as spans; 0, or -1 if it names none.
 */
static int
text_name(const uint8_t *p, size_t len, const char **path, size_t *plen,
    const char **version, size_t *vlen)
{
	const uint8_t	*sp, *sp2, *end = p + len;

	if ((sp = memchr(p, ' ', len)) == NULL || sp == p ||
	    (sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1))) == NULL ||
	    sp2 == sp + 1 || memchr(p, '\n', (size_t)(sp2 - p)) != NULL)
		return -1;
	*path = (const char *)p;
	*plen = (size_t)(sp - p);
	*version = (const char *)sp + 1;
	*vlen = (size_t)(sp2 - sp - 1);
	return 0;
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
	/*
	 * New stores: 4 KiB pages, where a tile's last overflow page wastes
	 * little, and incremental vacuum, so that a bulk index build gives
	 * back the blocks it replaced.
	 */
	if (exec(st, "PRAGMA page_size=4096") != 0 ||
	    exec(st, "PRAGMA auto_vacuum=INCREMENTAL") != 0 ||
	    exec(st, "PRAGMA journal_mode=WAL") != 0 ||
	    exec(st, "PRAGMA synchronous=NORMAL") != 0 ||
	    exec(st, "PRAGMA foreign_keys=ON") != 0 ||
	    exec(st, "PRAGMA cache_size=-65536") != 0) {
		snprintf(err, errsize, "%s", st->err);
		goto bad;
	}
	if (sqlite3_create_function(st->db, "sumdbd_key", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, sql_key, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s", st->err[0] != '\0' ? st->err :
		    sqlite3_errmsg(st->db));
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
		    (version < 6 && exec(st, schema6) != 0) ||
		    (version < 7 && exec(st, schema7) != 0) ||
		    exec(st, "PRAGMA user_version = 7") != 0 ||
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

void
store_interrupt(struct store *st)
{
	if (st != NULL)
		sqlite3_interrupt(st->db);
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

/* The one integer query which gives for log, into *v; 0, or -1. */
static int
log_int(struct store *st, int which, int64_t log, int64_t *v)
{
	sqlite3_stmt	*q = prep(st, which);
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*v = sqlite3_column_int64(q, 0);
	return done(st, q, rc == SQLITE_ROW ? rc : SQLITE_ERROR);
}

int
store_size(struct store *st, int64_t log, int64_t *n)
{
	return log_int(st, Q_SIZE, log, n);
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

/*
 * Record id of log: its text in rtext, else its row in record.
 * With path set, it counts only if it names path@version.  Appends the
 * text to out (if not NULL).  1 found, 0 absent, -1 error.
 */
static int
get_record(struct store *st, int64_t log, int64_t id, const char *path,
    const char *version, struct evbuffer *out)
{
	sqlite3_stmt	*q = prep(st, Q_TEXT);
	const uint8_t	*rp;
	const char	*np, *nv;
	size_t		 rlen, pl, vl;
	int		 rc, found = 0;

	/*
	 * A full mirror's text first (the same bytes as a row of record
	 * for the same id, when a lookup stored one too).
	 */
	sqlite3_bind_int64(q, 1, TEXT_KEY(log, id));
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		rp = sqlite3_column_blob(q, 0);
		rlen = (size_t)sqlite3_column_bytes(q, 0);
		if (rp != NULL && (path == NULL || (text_name(rp, rlen, &np,
		    &pl, &nv, &vl) == 0 && pl == strlen(path) &&
		    memcmp(np, path, pl) == 0 && vl == strlen(version) &&
		    memcmp(nv, version, vl) == 0))) {
			found = 1;
			if (out != NULL && evbuffer_add(out, rp, rlen) != 0)
				rc = SQLITE_NOMEM;
		}
		return done(st, q, rc) != 0 ? -1 : found;
	}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_RECORD);
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    (path == NULL || (strcmp((const char *)sqlite3_column_text(q, 0),
	    path) == 0 && strcmp((const char *)sqlite3_column_text(q, 1),
	    version) == 0))) {
		/* A row, named by its columns. */
		found = 1;
		if (add_blob(st, q, 2, out) != 0)
			rc = SQLITE_NOMEM;
	}
	return done(st, q, rc) != 0 ? -1 : found;
}

/* A growable array of record ids. */
struct ids {
	int64_t	*v;
	size_t	 n, cap;
};

static int
ids_add(struct store *st, struct ids *ids, int64_t id)
{
	int64_t	*v;
	size_t	 cap;

	if (ids->n == ids->cap) {
		cap = ids->cap ? ids->cap * 2 : 16;
		if ((v = reallocarray(ids->v, cap, sizeof(*v))) == NULL) {
			snprintf(st->err, sizeof(st->err), "out of memory");
			return -1;
		}
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	const int64_t	*x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Sort ids and keep each once. */
static void
ids_sort(struct ids *ids)
{
	size_t	 i, m = 0;

	if (ids->n == 0)
		return;
	qsort(ids->v, ids->n, sizeof(*ids->v), id_cmp);
	for (i = 0; i < ids->n; i++)
		if (m == 0 || ids->v[m - 1] != ids->v[i])
			ids->v[m++] = ids->v[i];
	ids->n = m;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

#define BLOCK_ENTRY	16	/* key, id: 8 bytes each, big-endian */
#define BLOCK_ENTRIES	56	/* a block in a leaf page; more keeps a key whole */

/* Append to ids every record stored under key, in rows and blocks. */
static int
key_ids(struct store *st, int64_t log, int64_t key, struct ids *ids)
{
	sqlite3_stmt	*q = prep(st, Q_LOOKUP);
	const uint8_t	*p;
	size_t		 n, lo, hi, mid;
	int		 rc;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, key);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (ids_add(st, ids, sqlite3_column_int64(q, 0)) != 0) {
			done(st, q, SQLITE_DONE);
			return -1;
		}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_BLOCK);
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, key);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    (p = sqlite3_column_blob(q, 0)) != NULL) {
		n = (size_t)sqlite3_column_bytes(q, 0) / BLOCK_ENTRY;
		/* The first entry not below key. */
		for (lo = 0, hi = n; lo < hi; ) {
			mid = lo + (hi - lo) / 2;
			if (be64(p + mid * BLOCK_ENTRY) < (uint64_t)key)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n && be64(p + lo * BLOCK_ENTRY) == (uint64_t)key;
		    lo++)
			if (ids_add(st, ids, (int64_t)be64(p + lo *
			    BLOCK_ENTRY + 8)) != 0) {
				done(st, q, SQLITE_DONE);
				return -1;
			}
	}
	return done(st, q, rc);
}

/*
 * The first record (lowest id) of log that names path@version; 1 with
 * its id (and text appended to text, if not NULL), 0, or -1.
 */
static int
find_name(struct store *st, int64_t log, const char *path,
    const char *version, int64_t *id, struct evbuffer *text)
{
	struct ids	 ids = { NULL, 0, 0 };
	size_t		 i;
	int		 r = 0;

	if (key_ids(st, log, name_key(path, strlen(path), version,
	    strlen(version)), &ids) != 0) {
		free(ids.v);
		return -1;
	}
	ids_sort(&ids);
	for (i = 0; i < ids.n; i++) {
		if ((r = get_record(st, log, ids.v[i], path, version, text)) <
		    0)
			break;
		if (r == 1) {
			*id = ids.v[i];
			break;
		}
	}
	free(ids.v);
	return r;
}

int
store_lookup(struct store *st, int64_t log, const char *path,
    const char *version, int64_t *id, struct evbuffer *text)
{
	return find_name(st, log, path, version, id, text);
}

int
store_record(struct store *st, int64_t log, int64_t id, struct evbuffer *out)
{
	return get_record(st, log, id, NULL, NULL, out);
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
	sqlite3_stmt	*qa = prep(st, Q_RECORDS), *qb = prep(st, Q_TEXTS), *q;
	int64_t		 id;
	int		 ra, rb, rv = -1, ina, inb;

	/* Rows of record and of rtext, merged by id: each once. */
	sqlite3_bind_int64(qa, 1, log);
	sqlite3_bind_int64(qa, 2, first);
	sqlite3_bind_int64(qa, 3, first + n);
	sqlite3_bind_int64(qb, 1, TEXT_KEY(log, first));
	sqlite3_bind_int64(qb, 2, TEXT_KEY(log, first + n));
	ra = sqlite3_step(qa);
	rb = sqlite3_step(qb);
	for (id = first; id < first + n; id++) {
		ina = ra == SQLITE_ROW && sqlite3_column_int64(qa, 0) == id;
		inb = rb == SQLITE_ROW &&
		    TEXT_ID(sqlite3_column_int64(qb, 0)) == id;
		if (!ina && !inb) {
			snprintf(st->err, sizeof(st->err), "record %lld "
			    "missing", (long long)id);
			goto done;
		}
		q = ina ? qa : qb;
		if (add_blob(st, q, 1, out) != 0 ||
		    evbuffer_add(out, "\n", 1) != 0) {
			snprintf(st->err, sizeof(st->err), "out of memory");
			goto done;
		}
		if (ina)
			ra = sqlite3_step(qa);
		if (inb)
			rb = sqlite3_step(qb);
	}
	rv = 0;
 done:
	if (done(st, qa, ra == SQLITE_ROW || ra == SQLITE_DONE ? SQLITE_DONE :
	    ra) != 0 || done(st, qb, rb == SQLITE_ROW || rb == SQLITE_DONE ?
	    SQLITE_DONE : rb) != 0)
		rv = -1;
	return rv;
}

int
store_put_texts(struct store *st, int64_t log, int64_t first,
    const uint8_t *data, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_ADD_TEXT);
	const uint8_t	*p = data, *end = data + len, *e;
	int64_t		 id = first;

	/* Each record's text ends in a newline followed by one more. */
	while (p < end) {
		for (e = p; (e = memchr(e, '\n', (size_t)(end - e))) !=
		    NULL && e + 1 < end && e[1] != '\n'; e++)
			;
		if (e == NULL || e + 1 >= end) {
			snprintf(st->err, sizeof(st->err), "record %lld: "
			    "no blank line after it", (long long)id);
			return -1;
		}
		sqlite3_bind_int64(q, 1, TEXT_KEY(log, id));
		sqlite3_bind_blob(q, 2, p, (int)(e + 1 - p), SQLITE_STATIC);
		if (done(st, q, sqlite3_step(q)) != 0)
			return -1;
		id++;
		p = e + 2;
	}
	return 0;
}

int
store_add_record(struct store *st, int64_t log, int64_t id, const char *path,
    const char *version, const uint8_t *text, size_t len)
{
	sqlite3_stmt	*q;
	int64_t		 have;
	int		 rc, r;

	if ((r = find_name(st, log, path, version, &have, NULL)) < 0)
		return -1;
	if (r == 1)
		return have == id ? 2 : 1;
	q = prep(st, Q_ADD_RECORD);
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, id);
	sqlite3_bind_text(q, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, version, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, text, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		done(st, q, SQLITE_DONE);
		return 2;
	}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_ADD_KEY);
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, name_key(path, strlen(path), version,
	    strlen(version)));
	sqlite3_bind_int64(q, 3, id);
	return done(st, q, sqlite3_step(q));
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
	return newest(st, Q_LATEST, log, note, size, root);
}

int
store_published(struct store *st, int64_t log, struct evbuffer *note,
    int64_t *size, uint8_t root[STORE_HASH_SIZE])
{
	return newest(st, Q_PUBLISHED, log, note, size, root);
}

int
store_set_published(struct store *st, int64_t log, int64_t size,
    int published)
{
	sqlite3_stmt	*q = prep(st, Q_SET_PUBLISHED);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, size);
	sqlite3_bind_int(q, 3, published);
	return done(st, q, sqlite3_step(q));
}

/* The newest checkpoint of log that query which finds. */
static int
newest(struct store *st, int which, int64_t log, struct evbuffer *note,
    int64_t *size, uint8_t root[STORE_HASH_SIZE])
{
	sqlite3_stmt	*q = prep(st, which);
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
	return log_int(st, Q_GET_FULL, log, next);
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

/* A walk over a log's rows of rtext, in id order. */
struct textwalk {
	sqlite3_stmt	*q;		/* SELECT k, text ... ORDER BY k */
};

/* The next record: 1 with its id and text, 0 at the end, -1 error. */
static int
textwalk_next(struct textwalk *tw, int64_t *id, const uint8_t **rp,
    size_t *rlen)
{
	int	 rc;

	if ((rc = sqlite3_step(tw->q)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	*id = TEXT_ID(sqlite3_column_int64(tw->q, 0));
	*rp = sqlite3_column_blob(tw->q, 1);
	*rlen = (size_t)sqlite3_column_bytes(tw->q, 1);
	return 1;
}

/* A record's name as strings: from its text, or "#", "#id". */
static void
name_of(const uint8_t *p, size_t len, int64_t id, char *path, char *version,
    size_t size)
{
	const char	*np, *nv;
	size_t		 pl, vl;

	if (text_name(p, len, &np, &pl, &nv, &vl) != 0 || pl >= size ||
	    vl >= size) {
		snprintf(path, size, "#");
		snprintf(version, size, "#%lld", (long long)id);
		return;
	}
	memcpy(path, np, pl);
	path[pl] = '\0';
	memcpy(version, nv, vl);
	version[vl] = '\0';
}

int
store_each_record(struct store *st, int64_t log,
    int (*fn)(void *, int64_t, const char *, const char *, const uint8_t *,
    size_t), void *arg)
{
	struct textwalk	 tw;
	sqlite3_stmt	*q = NULL;
	const uint8_t	*rp = NULL;
	size_t		 rlen = 0;
	int64_t		 tid = 0, rid;
	char		 path[4096], version[4096];
	int		 rc, r = 0, t;

	st->err[0] = '\0';
	memset(&tw, 0, sizeof(tw));
	if (sqlite3_prepare_v2(st->db, "SELECT id, path, version, text FROM "
	    "record WHERE log = ?1 ORDER BY id", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT k, text FROM rtext WHERE "
	    "k >= ?1 AND k < ?2 ORDER BY k", -1, &tw.q, NULL) != SQLITE_OK) {
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(tw.q, 1, TEXT_KEY(log, 0));
	sqlite3_bind_int64(tw.q, 2, TEXT_KEY(log + 1, 0));
	/* Both in id order, merged; a row in record wins over a tile's. */
	rc = sqlite3_step(q);
	t = textwalk_next(&tw, &tid, &rp, &rlen);
	while (r == 0 && (rc == SQLITE_ROW || t == 1)) {
		rid = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
		if (rc == SQLITE_ROW && (t != 1 || rid <= tid)) {
			r = fn(arg, rid,
			    (const char *)sqlite3_column_text(q, 1),
			    (const char *)sqlite3_column_text(q, 2),
			    sqlite3_column_blob(q, 3),
			    (size_t)sqlite3_column_bytes(q, 3));
			if (t == 1 && rid == tid)
				t = textwalk_next(&tw, &tid, &rp, &rlen);
			rc = sqlite3_step(q);
			continue;
		}
		name_of(rp, rlen, tid, path, version, sizeof(path));
		r = fn(arg, tid, path, version, rp, rlen);
		t = textwalk_next(&tw, &tid, &rp, &rlen);
	}
	if (r == 0 && (t < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW)))
		snprintf(st->err, sizeof(st->err), "%s",
		    sqlite3_errmsg(st->db));
	sqlite3_finalize(q);
	sqlite3_finalize(tw.q);
	if (r != 0)
		return r;
	return t < 0 || (rc != SQLITE_DONE && rc != SQLITE_ROW) ? -1 : 0;
}

int
store_indexed(struct store *st, int64_t log, int64_t *indexed)
{
	return log_int(st, Q_GET_INDEXED, log, indexed);
}

/* A lookup key and its record, as store_index() sorts them. */
struct kid {
	int64_t	 key;
	int64_t	 id;
};

/* Pairs sorted at once by store_index(): 32 MiB of memory. */
#define INDEX_CHUNK	(2 << 20)
/* From this many records on, store_index() builds blocks. */
#define INDEX_BULK	65536

static int
kid_cmp(const void *a, const void *b)
{
	const struct kid	*x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * The records ids->v (sorted, each once) of one key: each that names
 * what a lower one names is reported to conflict with it.
 */
static int
group_conflicts(struct store *st, int64_t log, const struct ids *ids,
    void (*conflict)(void *, int64_t, int64_t), void *arg)
{
	struct evbuffer	*b;
	char		**names, path[4096], version[4096];
	size_t		 i, k;
	int		 r = 0;

	if ((b = evbuffer_new()) == NULL ||
	    (names = calloc(ids->n, sizeof(*names))) == NULL) {
		if (b != NULL)
			evbuffer_free(b);
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -1;
	}
	for (i = 0; i < ids->n; i++) {
		evbuffer_drain(b, evbuffer_get_length(b));
		if (get_record(st, log, ids->v[i], NULL, NULL, b) != 1) {
			snprintf(st->err, sizeof(st->err), "record %lld is "
			    "not stored", (long long)ids->v[i]);
			r = -1;
			break;
		}
		name_of(evbuffer_pullup(b, -1), evbuffer_get_length(b),
		    ids->v[i], path, version, sizeof(path));
		if (asprintf(&names[i], "%s %s", path, version) == -1) {
			names[i] = NULL;
			snprintf(st->err, sizeof(st->err), "out of memory");
			r = -1;
			break;
		}
		for (k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0) {
				conflict(arg, ids->v[i], ids->v[k]);
				break;
			}
	}
	for (i = 0; i < ids->n; i++)
		free(names[i]);
	free(names);
	evbuffer_free(b);
	return r;
}

/*
 * A few records: each key a row of lookup, after checking by name the
 * keys another record has too.
 */
static int
index_rows(struct store *st, int64_t log, struct kid *a, size_t n,
    void (*conflict)(void *, int64_t, int64_t), void *arg)
{
	struct ids	 ids = { NULL, 0, 0 };
	sqlite3_stmt	*q;
	size_t		 i, j, k;

	qsort(a, n, sizeof(*a), kid_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && a[j].key == a[i].key; j++)
			;
		ids.n = 0;
		if (key_ids(st, log, a[i].key, &ids) != 0)
			goto fail;
		for (k = i; k < j; k++)
			if (ids_add(st, &ids, a[k].id) != 0)
				goto fail;
		ids_sort(&ids);
		if (ids.n > 1 && group_conflicts(st, log, &ids, conflict,
		    arg) != 0)
			goto fail;
	}
	free(ids.v);
	q = prep(st, Q_ADD_KEY);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, log);
		sqlite3_bind_int64(q, 2, a[i].key);
		sqlite3_bind_int64(q, 3, a[i].id);
		if (done(st, q, sqlite3_step(q)) != 0)
			return -1;
	}
	return 0;
 fail:
	free(ids.v);
	return -1;
}

/*
 * A sorted source of (key, id) pairs for the bulk merge: the chunk in
 * memory, a sorted run spilled to temp.runs, the blocks of the current
 * generation, or the rows of lookup (read, never rewritten).
 */
enum { SRC_MEM, SRC_RUN, SRC_BLOCKS, SRC_ROWS };

struct src {
	int		 kind;
	struct kid	 cur;
	int		 valid;
	/* SRC_MEM */
	const struct kid *a;
	size_t		 i, n;
	/* SRC_RUN */
	sqlite3_blob	*blob;
	int		 off, len;
	uint8_t		 buf[4096 * BLOCK_ENTRY];
	int		 bpos, blen;
	/* SRC_BLOCKS, SRC_ROWS */
	sqlite3_stmt	*q;
	const uint8_t	*p;
	uint8_t		*copy;
	size_t		 pi, pn;
};

/* Step s to its next pair; 0, or -1 on error. */
static int
src_next(struct src *s)
{
	int	 rc, want;

	s->valid = 0;
	switch (s->kind) {
	case SRC_MEM:
		if (s->i < s->n) {
			s->cur = s->a[s->i++];
			s->valid = 1;
		}
		return 0;
	case SRC_RUN:
		if (s->bpos == s->blen) {
			if (s->off == s->len)
				return 0;
			want = s->len - s->off < (int)sizeof(s->buf) ?
			    s->len - s->off : (int)sizeof(s->buf);
			if (sqlite3_blob_read(s->blob, s->buf, want, s->off) !=
			    SQLITE_OK)
				return -1;
			s->off += want;
			s->bpos = 0;
			s->blen = want;
		}
		s->cur.key = (int64_t)be64(s->buf + s->bpos);
		s->cur.id = (int64_t)be64(s->buf + s->bpos + 8);
		s->bpos += BLOCK_ENTRY;
		s->valid = 1;
		return 0;
	case SRC_BLOCKS:
		while (s->pi == s->pn) {
			if ((rc = sqlite3_step(s->q)) != SQLITE_ROW)
				return rc == SQLITE_DONE ? 0 : -1;
			/* A copy: new blocks go into the same table. */
			s->pn = (size_t)sqlite3_column_bytes(s->q, 0) /
			    BLOCK_ENTRY;
			free(s->copy);
			if ((s->copy = malloc(s->pn * BLOCK_ENTRY + 1)) ==
			    NULL)
				return -1;
			if (s->pn > 0)
				memcpy(s->copy, sqlite3_column_blob(s->q, 0),
				    s->pn * BLOCK_ENTRY);
			s->p = s->copy;
			s->pi = 0;
		}
		s->cur.key = (int64_t)be64(s->p + s->pi * BLOCK_ENTRY);
		s->cur.id = (int64_t)be64(s->p + s->pi * BLOCK_ENTRY + 8);
		s->pi++;
		s->valid = 1;
		return 0;
	default:
		if ((rc = sqlite3_step(s->q)) != SQLITE_ROW)
			return rc == SQLITE_DONE ? 0 : -1;
		s->cur.key = sqlite3_column_int64(s->q, 0);
		s->cur.id = sqlite3_column_int64(s->q, 1);
		s->valid = 1;
		return 0;
	}
}

/* The blocks being written: entries buffered up to a block. */
struct bwriter {
	int64_t		 log, gen;
	uint8_t		*buf;
	size_t		 n, cap;
};

static int
bw_flush(struct store *st, struct bwriter *w)
{
	sqlite3_stmt	*q;

	if (w->n == 0)
		return 0;
	q = prep(st, Q_ADD_BLOCK);
	sqlite3_bind_int64(q, 1, w->log);
	sqlite3_bind_int64(q, 2, w->gen);
	sqlite3_bind_int64(q, 3, (int64_t)be64(w->buf));
	sqlite3_bind_blob(q, 4, w->buf, (int)(w->n * BLOCK_ENTRY),
	    SQLITE_STATIC);
	w->n = 0;
	return done(st, q, sqlite3_step(q));
}

/* Add a pair; a block ends at BLOCK_ENTRIES, but never inside a key. */
static int
bw_add(struct store *st, struct bwriter *w, const struct kid *k)
{
	uint8_t	*b;

	if (w->n >= BLOCK_ENTRIES && (int64_t)be64(w->buf + (w->n - 1) *
	    BLOCK_ENTRY) != k->key && bw_flush(st, w) != 0)
		return -1;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : BLOCK_ENTRIES * 2;
		if ((b = realloc(w->buf, w->cap * BLOCK_ENTRY)) == NULL) {
			snprintf(st->err, sizeof(st->err), "out of memory");
			return -1;
		}
		w->buf = b;
	}
	put_be64(w->buf + w->n * BLOCK_ENTRY, (uint64_t)k->key);
	put_be64(w->buf + w->n * BLOCK_ENTRY + 8, (uint64_t)k->id);
	w->n++;
	return 0;
}

/* Sort a chunk and spill it to temp.runs as one blob. */
static int
spill(struct store *st, struct kid *a, size_t n)
{
	sqlite3_stmt	*q = NULL;
	uint8_t		*b;
	size_t		 i;
	int		 rc;

	qsort(a, n, sizeof(*a), kid_cmp);
	/* In place: 16 bytes a pair either way. */
	b = (uint8_t *)a;
	for (i = 0; i < n; i++) {
		struct kid	 k = a[i];

		put_be64(b + i * BLOCK_ENTRY, (uint64_t)k.key);
		put_be64(b + i * BLOCK_ENTRY + 8, (uint64_t)k.id);
	}
	if (sqlite3_prepare_v2(st->db, "INSERT INTO temp.runs (data) "
	    "VALUES (?1)", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(q, 1, b, (int)(n * BLOCK_ENTRY), SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * A bulk build: the sorted runs, the chunk a[0..n-1] and the current
 * blocks merged into a new generation of blocks, the rows of lookup
 * merged alongside so that every key two records share is checked by
 * name; then the old generation goes.
 */
static int
index_bulk(struct store *st, int64_t log, struct kid *a, size_t n,
    int nruns, void (*conflict)(void *, int64_t, int64_t), void *arg)
{
	struct src	*src;
	struct bwriter	 w;
	struct ids	 ids = { NULL, 0, 0 };
	sqlite3_stmt	*q = NULL;
	struct kid	 k;
	int64_t		 gen = 0, key;
	int		 ns = 0, i, m, rv = -1, r;

	memset(&w, 0, sizeof(w));
	if ((src = calloc((size_t)nruns + 3, sizeof(*src))) == NULL) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -1;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT blocks FROM log WHERE id = ?1",
	    -1, &q, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, log);
	if (sqlite3_step(q) == SQLITE_ROW)
		gen = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	qsort(a, n, sizeof(*a), kid_cmp);
	src[ns].kind = SRC_MEM;
	src[ns].a = a;
	src[ns++].n = n;
	for (i = 1; i <= nruns; i++) {
		src[ns].kind = SRC_RUN;
		if (sqlite3_blob_open(st->db, "temp", "runs", "data", i, 0,
		    &src[ns].blob) != SQLITE_OK)
			goto done;
		src[ns].len = sqlite3_blob_bytes(src[ns].blob);
		ns++;
	}
	src[ns].kind = SRC_BLOCKS;
	if (sqlite3_prepare_v2(st->db, "SELECT data FROM lookup_block WHERE "
	    "log = ?1 AND gen = ?2 ORDER BY first", -1, &src[ns].q, NULL) !=
	    SQLITE_OK)
		goto done;
	sqlite3_bind_int64(src[ns].q, 1, log);
	sqlite3_bind_int64(src[ns++].q, 2, gen);
	src[ns].kind = SRC_ROWS;
	if (sqlite3_prepare_v2(st->db, "SELECT key, id FROM lookup WHERE "
	    "log = ?1 ORDER BY key, id", -1, &src[ns].q, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(src[ns++].q, 1, log);
	for (i = 0; i < ns; i++)
		if (src_next(&src[i]) != 0)
			goto done;
	w.log = log;
	w.gen = gen + 1;
	for (;;) {
		/* The smallest key; its pairs from every source. */
		for (m = -1, i = 0; i < ns; i++)
			if (src[i].valid && (m < 0 || src[i].cur.key <
			    src[m].cur.key))
				m = i;
		if (m < 0)
			break;
		key = src[m].cur.key;
		ids.n = 0;
		for (i = 0; i < ns; i++)
			while (src[i].valid && src[i].cur.key == key) {
				k = src[i].cur;
				if (ids_add(st, &ids, k.id) != 0)
					goto done;
				if (src[i].kind != SRC_ROWS &&
				    bw_add(st, &w, &k) != 0)
					goto done;
				if (src_next(&src[i]) != 0)
					goto done;
			}
		if (ids.n > 1) {
			ids_sort(&ids);
			if (ids.n > 1 && group_conflicts(st, log, &ids,
			    conflict, arg) != 0)
				goto done;
		}
	}
	if (bw_flush(st, &w) != 0)
		goto done;
	for (i = 0; i < ns; i++) {
		if (src[i].blob != NULL)
			sqlite3_blob_close(src[i].blob);
		sqlite3_finalize(src[i].q);
		src[i].blob = NULL;
		src[i].q = NULL;
	}
	if (sqlite3_prepare_v2(st->db, "DELETE FROM lookup_block WHERE "
	    "log = ?1 AND gen = ?2", -1, &q, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, gen);
	r = sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (r != SQLITE_DONE || sqlite3_prepare_v2(st->db, "UPDATE log SET "
	    "blocks = ?2 WHERE id = ?1", -1, &q, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, gen + 1);
	if (sqlite3_step(q) != SQLITE_DONE ||
	    exec(st, "PRAGMA incremental_vacuum") != 0)
		goto done;
	rv = 0;
 done:
	for (i = 0; i < ns; i++) {
		if (src[i].blob != NULL)
			sqlite3_blob_close(src[i].blob);
		sqlite3_finalize(src[i].q);
		free(src[i].copy);
	}
	sqlite3_finalize(q);
	free(src);
	free(w.buf);
	free(ids.v);
	return rv;
}

int
store_index(struct store *st, int64_t log, int64_t upto,
    void (*conflict)(void *, int64_t, int64_t), void *arg)
{
	struct textwalk	 tw;
	struct kid	*a = NULL;
	sqlite3_stmt	*q;
	const uint8_t	*rp;
	const char	*np, *nv;
	size_t		 rlen, pl, vl, n = 0, cap;
	int64_t		 from = 0, id, want;
	int		 t, rv = -1, bulk, nruns = 0;

	memset(&tw, 0, sizeof(tw));
	if (store_indexed(st, log, &from) != 0)
		return -1;
	if (from >= upto)
		return 0;
	bulk = upto - from >= INDEX_BULK;
	cap = upto - from < INDEX_CHUNK ? (size_t)(upto - from) : INDEX_CHUNK;
	if ((a = calloc(cap, sizeof(*a))) == NULL) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		goto done;
	}
	if ((bulk && (exec(st, "CREATE TEMP TABLE IF NOT EXISTS runs "
	    "(id INTEGER PRIMARY KEY, data BLOB NOT NULL)") != 0 ||
	    exec(st, "DELETE FROM temp.runs") != 0)) ||
	    sqlite3_prepare_v2(st->db, "SELECT k, text FROM rtext WHERE "
	    "k >= ?1 AND k < ?2 ORDER BY k", -1, &tw.q, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(tw.q, 1, TEXT_KEY(log, from));
	sqlite3_bind_int64(tw.q, 2, TEXT_KEY(log, upto));
	want = from;
	while (want < upto) {
		if ((t = textwalk_next(&tw, &id, &rp, &rlen)) < 0)
			goto done;
		/* Not in rtext: a row of record (indexed as it was added). */
		for (; want < upto && (t == 0 || want < id); want++)
			if (get_record(st, log, want, NULL, NULL, NULL) != 1) {
				snprintf(st->err, sizeof(st->err), "record "
				    "%lld is not stored", (long long)want);
				goto done;
			}
		if (t == 0 || want >= upto)
			break;
		if (id < want)
			continue;
		want++;
		if (text_name(rp, rlen, &np, &pl, &nv, &vl) != 0)
			continue;
		a[n].key = name_key(np, pl, nv, vl);
		a[n++].id = id;
		if (n == cap && want < upto) {
			/* Only a bulk build has more than a chunk. */
			if (spill(st, a, n) != 0)
				goto done;
			nruns++;
			n = 0;
		}
	}
	if (bulk ? index_bulk(st, log, a, n, nruns, conflict, arg) != 0 :
	    index_rows(st, log, a, n, conflict, arg) != 0)
		goto done;
	q = prep(st, Q_SET_INDEXED);
	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, upto);
	if (done(st, q, sqlite3_step(q)) != 0)
		goto done;
	rv = 0;
 done:
	if (rv != 0 && st->err[0] == '\0')
		snprintf(st->err, sizeof(st->err), "%s",
		    sqlite3_errmsg(st->db));
	sqlite3_finalize(tw.q);
	if (nruns > 0)
		exec(st, "DELETE FROM temp.runs");
	free(a);
	return rv;
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

int
store_witness_get(struct store *st, const char *origin, int64_t *size,
    uint8_t root[STORE_HASH_SIZE], struct evbuffer *note)
{
	sqlite3_stmt	*q = prep(st, Q_WITNESS_GET);
	int		 rc, found = 0;

	sqlite3_bind_text(q, 1, origin, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 1) != STORE_HASH_SIZE) {
			snprintf(st->err, sizeof(st->err), "witness state of "
			    "'%s': root of %d bytes", origin,
			    sqlite3_column_bytes(q, 1));
			sqlite3_reset(q);
			return -1;
		}
		found = 1;
		*size = sqlite3_column_int64(q, 0);
		memcpy(root, sqlite3_column_blob(q, 1), STORE_HASH_SIZE);
		if (note != NULL && evbuffer_add(note, sqlite3_column_blob(q,
		    2), (size_t)sqlite3_column_bytes(q, 2)) != 0)
			rc = SQLITE_NOMEM;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_witness_set(struct store *st, const char *origin, int64_t size,
    const uint8_t root[STORE_HASH_SIZE], const uint8_t *note, size_t len,
    int64_t time)
{
	sqlite3_stmt	*q = prep(st, Q_WITNESS_SET);

	sqlite3_bind_text(q, 1, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, size);
	sqlite3_bind_blob(q, 3, root, STORE_HASH_SIZE, SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, note, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, time);
	return done(st, q, sqlite3_step(q));
}

int
store_next_checkpoint(struct store *st, int64_t log, int64_t prev,
    int64_t *size, struct evbuffer *note, struct evbuffer *proof)
{
	sqlite3_stmt	*q = prep(st, Q_NEXT_CHECKPOINT);
	int		 rc, found = 0;

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, prev);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		found = 1;
		*size = sqlite3_column_int64(q, 0);
		if (evbuffer_add(note, sqlite3_column_blob(q, 1),
		    (size_t)sqlite3_column_bytes(q, 1)) != 0 ||
		    evbuffer_add(proof, sqlite3_column_blob(q, 2),
		    (size_t)sqlite3_column_bytes(q, 2)) != 0)
			rc = SQLITE_NOMEM;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_cosign_checkpoint(struct store *st, int64_t log, int64_t size,
    const char *line, size_t len)
{
	sqlite3_stmt	*q = prep(st, Q_COSIGN);

	sqlite3_bind_int64(q, 1, log);
	sqlite3_bind_int64(q, 2, size);
	sqlite3_bind_blob(q, 3, line, (int)len, SQLITE_STATIC);
	return done(st, q, sqlite3_step(q));
}
