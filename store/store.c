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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql.h"
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
	Q_FENCE,
	Q_LEASE,
	Q_LEASE_GET,
	Q_LEASE_DROP,
	Q_MAX
};

/* PostgreSQL's clock in milliseconds: leases never use the nodes'. */
#define PG_NOW_MS	"(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

static const char *queries[Q_MAX] = {
	[Q_LOG_GET] = "SELECT id FROM log WHERE name = ?1",
	[Q_LOG_ADD] = "INSERT INTO log (name, kind) VALUES (?1, ?2) "
	    "ON CONFLICT (name) DO NOTHING RETURNING id",
	[Q_SIZE] = "SELECT coalesce(max(id) + 1, 0) FROM record WHERE log = ?1",
	[Q_LOOKUP] = "SELECT id FROM lookup WHERE log = ?1 AND key = ?2 "
	    "ORDER BY id",
	[Q_RECORD] = "SELECT path, version, text FROM record "
	    "WHERE log = ?1 AND id = ?2",
	[Q_RECORDS] = "SELECT id, text FROM record "
	    "WHERE log = ?1 AND id >= ?2 AND id < ?3 ORDER BY id",
	[Q_ADD_RECORD] = "INSERT INTO record (log, id, path, version, text) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (log, id) DO NOTHING",
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
	    "addr) DO UPDATE SET count = privacy.count + excluded.count, "
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
	[Q_TARGET_PUT] = "INSERT INTO tuf_target (path, sha256, bytes, "
	    "created) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[Q_TARGET_GET] = "SELECT bytes FROM tuf_target WHERE path = ?1 AND "
	    "sha256 = ?2",
	[Q_ADD_PROVENANCE] = "INSERT INTO provenance (log, id, upstream, "
	    "upstream_id, upstream_tree) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_PROVENANCE] = "SELECT upstream, upstream_id, upstream_tree FROM "
	    "provenance WHERE log = ?1 AND id = ?2",
	[Q_LOG_NAME] = "SELECT name FROM log WHERE id = ?1",
	[Q_WITNESS_GET] = "SELECT size, root, note FROM witness WHERE "
	    "origin = ?1",
	[Q_WITNESS_SET] = "INSERT INTO witness (origin, size, root, note, "
	    "time) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (origin) DO UPDATE "
	    "SET size = excluded.size, root = excluded.root, "
	    "note = excluded.note, time = excluded.time",
	[Q_NEXT_CHECKPOINT] = "SELECT size, note, proof FROM checkpoint "
	    "WHERE log = ?1 AND prev = ?2 ORDER BY size LIMIT 1",
	[Q_COSIGN] = "UPDATE checkpoint SET note = note || ?3 WHERE log = ?1 "
	    "AND size = ?2",
	[Q_PUBLISHED] = "SELECT size, root, note FROM checkpoint WHERE "
	    "log = ?1 AND published = 1 ORDER BY size DESC LIMIT 1",
	[Q_SET_PUBLISHED] = "UPDATE checkpoint SET published = ?3 WHERE "
	    "log = ?1 AND size = ?2",
	[Q_ADD_KEY] = "INSERT INTO lookup (log, key, id) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[Q_TEXT] = "SELECT text FROM rtext WHERE k = ?1",
	[Q_TEXTS] = "SELECT k, text FROM rtext WHERE k >= ?1 AND k < ?2 "
	    "ORDER BY k",
	[Q_ADD_TEXT] = "INSERT INTO rtext (k, text) VALUES (?1, ?2) "
	    "ON CONFLICT DO NOTHING",
	[Q_BLOCK] = "SELECT data FROM lookup_block WHERE log = ?1 AND "
	    "gen = (SELECT blocks FROM log WHERE id = ?1) AND first <= ?2 "
	    "ORDER BY first DESC LIMIT 1",
	[Q_ADD_BLOCK] = "INSERT INTO lookup_block (log, gen, first, data) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[Q_GET_INDEXED] = "SELECT indexed FROM log WHERE id = ?1",
	[Q_SET_INDEXED] = "UPDATE log SET indexed = ?2 WHERE id = ?1",
	/* PostgreSQL only (NULL: not prepared on SQLite). */
	[Q_FENCE] = "SELECT 1 FROM lease WHERE name = 'writer' AND "
	    "holder = ?1 AND token = ?2 AND expires > " PG_NOW_MS,
	/*
	 * Taken if free or expired (a new token), renewed if ours and
	 * unexpired (the same token); no row if another node holds it.
	 */
	[Q_LEASE] = "INSERT INTO lease (name, holder, url, token, expires) "
	    "VALUES ('writer', ?1, ?2, 1, " PG_NOW_MS " + ?3) "
	    "ON CONFLICT (name) DO UPDATE SET "
	    "token = CASE WHEN lease.holder = excluded.holder AND "
	    "lease.expires > " PG_NOW_MS " THEN lease.token "
	    "ELSE lease.token + 1 END, holder = excluded.holder, "
	    "url = excluded.url, expires = excluded.expires "
	    "WHERE lease.holder = excluded.holder OR "
	    "lease.expires <= " PG_NOW_MS " RETURNING token, "
	    "expires - " PG_NOW_MS,
	[Q_LEASE_GET] = "SELECT holder, url, token, expires - " PG_NOW_MS
	    " FROM lease WHERE name = 'writer'",
	[Q_LEASE_DROP] = "UPDATE lease SET expires = 0 WHERE name = "
	    "'writer' AND holder = ?1 AND token = ?2",
};

/*
 * The same schema on PostgreSQL, created whole at the current version
 * (there are no older PostgreSQL stores): 64-bit integers, bytea for
 * blobs, identities for the ids SQLite numbers itself, the version in
 * meta, and lease: the writer's (PostgreSQL only: an SQLite store has
 * one node), which node holds it, where the others reach it, its
 * fencing token and when it expires, in milliseconds of PostgreSQL's
 * clock.  Later versions migrate both.
 */
static const char pg_schema[] =
    "CREATE TABLE log ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL,"
    "  frozen TEXT,"
    "  full_next BIGINT NOT NULL DEFAULT 0,"
    "  indexed BIGINT NOT NULL DEFAULT 0,"
    "  blocks BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE record ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  id BIGINT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  text BYTEA NOT NULL,"
    "  PRIMARY KEY (log, id));"
    "CREATE TABLE hash ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  idx BIGINT NOT NULL,"
    "  hash BYTEA NOT NULL,"
    "  PRIMARY KEY (log, idx));"
    "CREATE TABLE tile ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  level BIGINT NOT NULL,"
    "  n BIGINT NOT NULL,"
    "  data BYTEA NOT NULL,"
    "  PRIMARY KEY (log, level, n));"
    "CREATE TABLE checkpoint ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  size BIGINT NOT NULL,"
    "  root BYTEA NOT NULL,"
    "  note BYTEA NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  prev BIGINT,"
    "  proof BYTEA,"
    "  source TEXT,"
    "  published BIGINT NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (log, size));"
    "CREATE TABLE evidence ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  kind TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  old BYTEA,"
    "  new BYTEA,"
    "  material BYTEA);"
    "CREATE TABLE tuf ("
    "  role TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  bytes BYTEA NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  PRIMARY KEY (role, version));"
    "CREATE TABLE tuf_target ("
    "  path TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  bytes BYTEA NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  PRIMARY KEY (path, sha256));"
    "CREATE TABLE privacy ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  addr TEXT NOT NULL,"
    "  count BIGINT NOT NULL,"
    "  first BIGINT NOT NULL,"
    "  last BIGINT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  PRIMARY KEY (log, addr));"
    "CREATE TABLE provenance ("
    "  log BIGINT NOT NULL REFERENCES log (id),"
    "  id BIGINT NOT NULL,"
    "  upstream BIGINT NOT NULL REFERENCES log (id),"
    "  upstream_id BIGINT NOT NULL,"
    "  upstream_tree BIGINT NOT NULL,"
    "  PRIMARY KEY (log, id));"
    "CREATE TABLE lookup ("
    "  log BIGINT NOT NULL,"
    "  key BIGINT NOT NULL,"
    "  id BIGINT NOT NULL,"
    "  PRIMARY KEY (log, key, id));"
    "CREATE TABLE rtext ("
    "  k BIGINT PRIMARY KEY,"
    "  text BYTEA NOT NULL);"
    "CREATE TABLE lookup_block ("
    "  log BIGINT NOT NULL,"
    "  gen BIGINT NOT NULL,"
    "  first BIGINT NOT NULL,"
    "  data BYTEA NOT NULL,"
    "  PRIMARY KEY (log, gen, first));"
    "CREATE TABLE witness ("
    "  origin TEXT PRIMARY KEY,"
    "  size BIGINT NOT NULL,"
    "  root BYTEA NOT NULL,"
    "  note BYTEA NOT NULL,"
    "  time BIGINT NOT NULL);"
    "CREATE TABLE lease ("
    "  name TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  token BIGINT NOT NULL,"
    "  expires BIGINT NOT NULL);"
    "CREATE TABLE meta ("
    "  version BIGINT NOT NULL);"
    "INSERT INTO meta (version) VALUES (7);";

/*
 * PostgreSQL: every writer of every node takes this advisory lock in
 * store_begin(), as SQLite's BEGIN IMMEDIATE takes the file's write
 * lock; schema creation takes it too.
 */
#define PG_WRITE_LOCK	"7571936220817170020"

/* Pairs sorted at once by store_index(): 32 MiB of memory. */
#define INDEX_CHUNK	(2 << 20)
/* From this many records on, store_index() builds blocks. */
#define INDEX_BULK	65536

struct store {
	struct sqdb	*db;
	struct sq	*q[Q_MAX];
	int64_t		 index_bulk;	/* INDEX_BULK, or a test's */
	int64_t		 index_chunk;	/* INDEX_CHUNK, or a test's */
	int64_t		 index_from;	/* store_index(): first record new */
	char		 fence_holder[128];	/* store_fence() */
	const int64_t	*fence_token;
	char		 err[256];
};

const char *
store_errmsg(struct store *st)
{
	if (st->err[0] != '\0')
		return st->err;
	return sq_errmsg(st->db);
}

int
store_bytes(struct store *st, int64_t *n)
{
	struct sq	*q;
	int		 rc;

	if ((q = sq_prepare(st->db, sq_kind(st->db) == SQ_PG ?
	    "SELECT pg_database_size(current_database())" :
	    "SELECT page_count * page_size FROM pragma_page_count(), "
	    "pragma_page_size()")) == NULL)
		return -1;
	if ((rc = sq_step(q)) == SQ_ROW)
		*n = sq_int(q, 0);
	sq_finalize(q);
	return rc == SQ_ROW ? 0 : -1;
}

static int
exec(struct store *st, const char *sql)
{
	if (sq_exec(st->db, sql) != 0) {
		snprintf(st->err, sizeof(st->err), "%s", sq_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* SQLite only: a PRAGMA (PostgreSQL tunes itself); 0 or -1. */
static int
pragma(struct store *st, const char *sql)
{
	return sq_kind(st->db) == SQ_SQLITE ? exec(st, sql) : 0;
}

/* Reset q for its next use and report rc as 0 or -1. */
static int
done(struct store *st, struct sq *q, int rc)
{
	if (rc != SQ_DONE && rc != SQ_ROW && rc != SQ_OK &&
	    st->err[0] == '\0')
		snprintf(st->err, sizeof(st->err), "%s",
		    rc == SQ_NOMEM ? "out of memory" : sq_errmsg(st->db));
	sq_reset(q);
	return (rc == SQ_DONE || rc == SQ_ROW || rc == SQ_OK) ? 0 : -1;
}

static int	newest(struct store *, int, int64_t, struct evbuffer *,
		    int64_t *, uint8_t [STORE_HASH_SIZE]);

static struct sq *
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

/* The schema version of st's database: -1 on error, 0 if new. */
static int
schema_version(struct store *st)
{
	struct sq	*q;
	int		 v = -1;

	if ((q = sq_prepare(st->db, sq_kind(st->db) == SQ_SQLITE ?
	    "PRAGMA user_version" : "SELECT CASE WHEN to_regclass('meta') "
	    "IS NULL THEN 0 ELSE -1 END")) == NULL)
		return -1;
	if (sq_step(q) == SQ_ROW)
		v = (int)sq_int(q, 0);
	sq_finalize(q);
	if (v != -1 || sq_kind(st->db) == SQ_SQLITE)
		return v;
	if ((q = sq_prepare(st->db, "SELECT version FROM meta")) == NULL)
		return -1;
	if (sq_step(q) == SQ_ROW)
		v = (int)sq_int(q, 0);
	sq_finalize(q);
	return v;
}

/* Create or migrate the schema: SQLite from any version, PostgreSQL new. */
static int
schema_create(struct store *st, int version)
{
	if (sq_kind(st->db) == SQ_PG)
		return exec(st, pg_schema);
	if ((version < 1 && exec(st, schema) != 0) ||
	    (version < 2 && exec(st, schema2) != 0) ||
	    (version < 3 && exec(st, schema3) != 0) ||
	    (version < 4 && exec(st, schema4) != 0) ||
	    (version < 5 && exec(st, schema5) != 0) ||
	    (version < 6 && exec(st, schema6) != 0) ||
	    (version < 7 && exec(st, schema7) != 0) ||
	    exec(st, "PRAGMA user_version = 7") != 0)
		return -1;
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errsize)
{
	struct store	*st;
	int		 version, i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	st->index_bulk = INDEX_BULK;
	st->index_chunk = INDEX_CHUNK;
	if ((st->db = sq_open(path, err, errsize)) == NULL)
		goto bad;
	/*
	 * New SQLite stores: 4 KiB pages, where a tile's last overflow
	 * page wastes little, and incremental vacuum, so that a bulk
	 * index build gives back the blocks it replaced.
	 */
	if (pragma(st, "PRAGMA page_size=4096") != 0 ||
	    pragma(st, "PRAGMA auto_vacuum=INCREMENTAL") != 0 ||
	    pragma(st, "PRAGMA journal_mode=WAL") != 0 ||
	    pragma(st, "PRAGMA synchronous=NORMAL") != 0 ||
	    pragma(st, "PRAGMA foreign_keys=ON") != 0 ||
	    pragma(st, "PRAGMA cache_size=-65536") != 0 ||
	    (sq_kind(st->db) == SQ_PG && sq_session(st->db,
	    "SET lock_timeout = '10s'") != 0)) {
		snprintf(err, errsize, "%s", store_errmsg(st));
		goto bad;
	}
	if (sq_key_function(st->db, name_key) != 0) {
		snprintf(err, errsize, "%s", sq_errmsg(st->db));
		goto bad;
	}
	/* Nodes starting together: one creates the schema. */
	if (sq_kind(st->db) == SQ_PG && exec(st, "BEGIN; SELECT "
	    "pg_advisory_xact_lock(" PG_WRITE_LOCK ")") != 0) {
		snprintf(err, errsize, "%s", st->err);
		goto bad;
	}
	version = schema_version(st);
	if (version >= 0 && version < SCHEMA_VERSION) {
		if ((sq_kind(st->db) == SQ_SQLITE &&
		    exec(st, "BEGIN IMMEDIATE") != 0) ||
		    schema_create(st, version) != 0 ||
		    exec(st, "COMMIT") != 0) {
			snprintf(err, errsize, "creating schema: %s", st->err);
			exec(st, "ROLLBACK");
			goto bad;
		}
	} else if (version != SCHEMA_VERSION) {
		if (version < 0)
			snprintf(err, errsize, "reading the schema version: "
			    "%s", sq_errmsg(st->db));
		else
			snprintf(err, errsize, "schema version %d, want %d",
			    version, SCHEMA_VERSION);
		goto bad;
	} else if (sq_in_tx(st->db) && exec(st, "COMMIT") != 0) {
		snprintf(err, errsize, "%s", st->err);
		goto bad;
	}
	for (i = 0; i < Q_MAX; i++)
		if ((i < Q_FENCE || sq_kind(st->db) == SQ_PG) &&
		    (st->q[i] = sq_prepare(st->db, queries[i])) == NULL) {
			snprintf(err, errsize, "%s", sq_errmsg(st->db));
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
	if (st->db != NULL)
		for (i = 0; i < Q_MAX; i++)
			sq_finalize(st->q[i]);
	sq_close(st->db);
	free(st);
}

void
store_interrupt(struct store *st)
{
	if (st != NULL)
		sq_interrupt(st->db);
}

int
store_log(struct store *st, const char *name, const char *kind, int64_t *id)
{
	struct sq	*q;
	int		 rc, tries;

	/* Another node may add it between the two: then look again. */
	for (tries = 0; tries < 2; tries++) {
		q = prep(st, Q_LOG_GET);
		sq_bind_text(q, 1, name);
		if ((rc = sq_step(q)) == SQ_ROW) {
			*id = sq_int(q, 0);
			return done(st, q, rc);
		}
		if (done(st, q, rc) != 0)
			return -1;
		q = prep(st, Q_LOG_ADD);
		sq_bind_text(q, 1, name);
		sq_bind_text(q, 2, kind);
		if ((rc = sq_step(q)) == SQ_ROW) {
			*id = sq_int(q, 0);
			return done(st, q, rc);
		}
		if (done(st, q, rc) != 0)
			return -1;
	}
	snprintf(st->err, sizeof(st->err), "log '%s' cannot be added", name);
	return -1;
}

int
store_begin(struct store *st, int durable)
{
	struct sq	*q;
	int64_t		 token;
	int		 rc;

	st->err[0] = '\0';
	if (sq_kind(st->db) == SQ_PG) {
		token = st->fence_token != NULL ? __atomic_load_n(
		    st->fence_token, __ATOMIC_ACQUIRE) : 0;
		if (st->fence_token != NULL && token <= 0) {
			snprintf(st->err, sizeof(st->err), "not the writer: "
			    "this node does not hold the lease");
			return -1;
		}
		if (exec(st, durable ? "BEGIN; SELECT pg_advisory_xact_lock("
		    PG_WRITE_LOCK ")" : "BEGIN; SET LOCAL synchronous_commit "
		    "= off; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")") !=
		    0 || st->fence_token == NULL)
			return st->err[0] != '\0' ? -1 : 0;
		/*
		 * Fenced: under the write lock, which every writer takes,
		 * the lease must still be ours, with our token, unexpired;
		 * a writer that lost it writes nothing more.
		 */
		q = prep(st, Q_FENCE);
		sq_bind_text(q, 1, st->fence_holder);
		sq_bind_int(q, 2, token);
		if ((rc = sq_step(q)) != SQ_ROW && rc == SQ_DONE)
			snprintf(st->err, sizeof(st->err), "not the writer: "
			    "the lease of token %lld is lost", (long long)token);
		if (done(st, q, rc) == 0 && rc == SQ_ROW)
			return 0;
		store_rollback(st);
		return -1;
	}
	/* The level can only change outside a transaction. */
	if (exec(st, durable ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL") != 0)
		return -1;
	return exec(st, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	st->err[0] = '\0';
	return exec(st, "COMMIT");
}

void
store_rollback(struct store *st)
{
	if (sq_in_tx(st->db))
		exec(st, "ROLLBACK");
}
/* The one integer query which gives for log, into *v; 0, or -1. */
static int
log_int(struct store *st, int which, int64_t log, int64_t *v)
{
	struct sq	*q = prep(st, which);
	int		 rc;

	sq_bind_int(q, 1, log);
	if ((rc = sq_step(q)) == SQ_ROW)
		*v = sq_int(q, 0);
	return done(st, q, rc == SQ_ROW ? rc : SQ_ERROR);
}

int
store_size(struct store *st, int64_t log, int64_t *n)
{
	return log_int(st, Q_SIZE, log, n);
}

/* Append column col of q's row to out. */
static int
add_blob(struct store *st, struct sq *q, int col, struct evbuffer *out)
{
	const void	*p = sq_blob(q, col);
	int		 len = sq_bytes(q, col);

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
one_blob(struct store *st, struct sq *q, int col, struct evbuffer *out)
{
	int	 rc, found = 0;

	if ((rc = sq_step(q)) == SQ_ROW) {
		if (add_blob(st, q, col, out) != 0)
			rc = SQ_NOMEM;
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
	struct sq	*q = prep(st, Q_TEXT);
	const uint8_t	*rp;
	const char	*np, *nv;
	size_t		 rlen, pl, vl;
	int		 rc, found = 0;

	/*
	 * A full mirror's text first (the same bytes as a row of record
	 * for the same id, when a lookup stored one too).
	 */
	sq_bind_int(q, 1, TEXT_KEY(log, id));
	if ((rc = sq_step(q)) == SQ_ROW) {
		rp = sq_blob(q, 0);
		rlen = (size_t)sq_bytes(q, 0);
		if (rp != NULL && (path == NULL || (text_name(rp, rlen, &np,
		    &pl, &nv, &vl) == 0 && pl == strlen(path) &&
		    memcmp(np, path, pl) == 0 && vl == strlen(version) &&
		    memcmp(nv, version, vl) == 0))) {
			found = 1;
			if (out != NULL && evbuffer_add(out, rp, rlen) != 0)
				rc = SQ_NOMEM;
		}
		return done(st, q, rc) != 0 ? -1 : found;
	}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_RECORD);
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, id);
	if ((rc = sq_step(q)) == SQ_ROW &&
	    (path == NULL || (strcmp((const char *)sq_text(q, 0),
	    path) == 0 && strcmp((const char *)sq_text(q, 1),
	    version) == 0))) {
		/* A row, named by its columns. */
		found = 1;
		if (add_blob(st, q, 2, out) != 0)
			rc = SQ_NOMEM;
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
	struct sq	*q = prep(st, Q_LOOKUP);
	const uint8_t	*p;
	size_t		 n, lo, hi, mid;
	int		 rc;

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, key);
	while ((rc = sq_step(q)) == SQ_ROW)
		if (ids_add(st, ids, sq_int(q, 0)) != 0) {
			done(st, q, SQ_DONE);
			return -1;
		}
	if (done(st, q, rc) != 0)
		return -1;
	q = prep(st, Q_BLOCK);
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, key);
	if ((rc = sq_step(q)) == SQ_ROW &&
	    (p = sq_blob(q, 0)) != NULL) {
		n = (size_t)sq_bytes(q, 0) / BLOCK_ENTRY;
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
				done(st, q, SQ_DONE);
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
	if (pragma(st, sql) != 0)
		return -1;
	sq_release_memory(st->db);
	return 0;
}

int
store_data_tile(struct store *st, int64_t log, int64_t first, int64_t n,
    struct evbuffer *out)
{
	struct sq	*qa = prep(st, Q_RECORDS), *qb = prep(st, Q_TEXTS), *q;
	int64_t		 id;
	int		 ra, rb, rv = -1, ina, inb;

	/* Rows of record and of rtext, merged by id: each once. */
	sq_bind_int(qa, 1, log);
	sq_bind_int(qa, 2, first);
	sq_bind_int(qa, 3, first + n);
	sq_bind_int(qb, 1, TEXT_KEY(log, first));
	sq_bind_int(qb, 2, TEXT_KEY(log, first + n));
	ra = sq_step(qa);
	rb = sq_step(qb);
	for (id = first; id < first + n; id++) {
		ina = ra == SQ_ROW && sq_int(qa, 0) == id;
		inb = rb == SQ_ROW &&
		    TEXT_ID(sq_int(qb, 0)) == id;
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
			ra = sq_step(qa);
		if (inb)
			rb = sq_step(qb);
	}
	rv = 0;
 done:
	if (done(st, qa, ra == SQ_ROW || ra == SQ_DONE ? SQ_DONE :
	    ra) != 0 || done(st, qb, rb == SQ_ROW || rb == SQ_DONE ?
	    SQ_DONE : rb) != 0)
		rv = -1;
	return rv;
}

int
store_put_texts(struct store *st, int64_t log, int64_t first,
    const uint8_t *data, size_t len)
{
	struct sq	*q = prep(st, Q_ADD_TEXT);
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
		sq_bind_int(q, 1, TEXT_KEY(log, id));
		sq_bind_blob(q, 2, p, (int)(e + 1 - p));
		if (done(st, q, sq_step(q)) != 0)
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
	struct sq	*q;
	int64_t		 have;
	int		 rc, r;

	if ((r = find_name(st, log, path, version, &have, NULL)) < 0)
		return -1;
	if (r == 1)
		return have == id ? 2 : 1;
	q = prep(st, Q_ADD_RECORD);
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, id);
	sq_bind_text(q, 3, path);
	sq_bind_text(q, 4, version);
	sq_bind_blob(q, 5, text, (int)len);
	rc = sq_step(q);
	if (done(st, q, rc) != 0)
		return -1;
	/* Id taken (by another name: its own was looked up above). */
	if (sq_changes(st->db) == 0)
		return 2;
	q = prep(st, Q_ADD_KEY);
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, name_key(path, strlen(path), version,
	    strlen(version)));
	sq_bind_int(q, 3, id);
	return done(st, q, sq_step(q));
}

int
store_read_hashes(struct store *st, int64_t log, const int64_t *index,
    size_t n, uint8_t (*out)[STORE_HASH_SIZE])
{
	struct sq	*q = prep(st, Q_HASH);
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		sq_bind_int(q, 1, log);
		sq_bind_int(q, 2, index[i]);
		rc = sq_step(q);
		if (rc == SQ_ROW &&
		    sq_bytes(q, 0) == STORE_HASH_SIZE)
			memcpy(out[i], sq_blob(q, 0),
			    STORE_HASH_SIZE);
		else {
			if (rc == SQ_ROW || rc == SQ_DONE)
				snprintf(st->err, sizeof(st->err),
				    "stored hash %lld missing or malformed",
				    (long long)index[i]);
			done(st, q, rc == SQ_ROW || rc == SQ_DONE ?
			    SQ_DONE : rc);
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
	struct sq	*q = prep(st, Q_ADD_HASH);
	size_t		 i;

	for (i = 0; i < n; i++) {
		sq_bind_int(q, 1, log);
		sq_bind_int(q, 2, first + (int64_t)i);
		sq_bind_blob(q, 3, h[i], STORE_HASH_SIZE);
		if (done(st, q, sq_step(q)) != 0)
			return -1;
	}
	return 0;
}

int
store_tile(struct store *st, int64_t log, int level, int64_t n,
    struct evbuffer *out)
{
	struct sq	*q = prep(st, Q_TILE);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, level);
	sq_bind_int(q, 3, n);
	return one_blob(st, q, 0, out);
}

int
store_put_tile(struct store *st, int64_t log, int level, int64_t n,
    const uint8_t *data, size_t len)
{
	struct sq	*q = prep(st, Q_PUT_TILE);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, level);
	sq_bind_int(q, 3, n);
	sq_bind_blob(q, 4, data, (int)len);
	return done(st, q, sq_step(q));
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
	struct sq	*q = prep(st, Q_SET_PUBLISHED);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, size);
	sq_bind_int(q, 3, published);
	return done(st, q, sq_step(q));
}

/* The newest checkpoint of log that query which finds. */
static int
newest(struct store *st, int which, int64_t log, struct evbuffer *note,
    int64_t *size, uint8_t root[STORE_HASH_SIZE])
{
	struct sq	*q = prep(st, which);
	int		 rc, found = 0;

	sq_bind_int(q, 1, log);
	if ((rc = sq_step(q)) == SQ_ROW) {
		*size = sq_int(q, 0);
		if (sq_bytes(q, 1) != STORE_HASH_SIZE) {
			snprintf(st->err, sizeof(st->err),
			    "checkpoint %lld: malformed root", (long long)*size);
			done(st, q, SQ_DONE);
			return -1;
		}
		memcpy(root, sq_blob(q, 1), STORE_HASH_SIZE);
		if (add_blob(st, q, 2, note) != 0)
			rc = SQ_NOMEM;
		found = 1;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_latest_time(struct store *st, int64_t log, int64_t *created)
{
	struct sq	*q = prep(st, Q_LATEST_TIME);
	int		 rc, found = 0;

	sq_bind_int(q, 1, log);
	if ((rc = sq_step(q)) == SQ_ROW) {
		*created = sq_int(q, 0);
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
	struct sq	*q = prep(st, Q_ADD_CHECKPOINT);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, size);
	sq_bind_blob(q, 3, root, STORE_HASH_SIZE);
	sq_bind_blob(q, 4, note, (int)len);
	sq_bind_int(q, 5, (int64_t)time(NULL));
	if (prev >= 0) {
		sq_bind_int(q, 6, prev);
		sq_bind_blob(q, 7, proof != NULL ? proof : (const uint8_t *)"", (int)prooflen);
	}
	if (source != NULL)
		sq_bind_text(q, 8, source);
	return done(st, q, sq_step(q));
}

int
store_add_evidence(struct store *st, int64_t log, const char *kind,
    const char *source, const char *detail, const uint8_t *old, size_t oldlen,
    const uint8_t *new, size_t newlen, const uint8_t *material,
    size_t matlen)
{
	struct sq	*q = prep(st, Q_ADD_EVIDENCE);

	sq_bind_int(q, 1, log);
	sq_bind_text(q, 2, kind);
	sq_bind_text(q, 3, source);
	sq_bind_int(q, 4, (int64_t)time(NULL));
	sq_bind_text(q, 5, detail);
	if (old != NULL)
		sq_bind_blob(q, 6, old, (int)oldlen);
	if (new != NULL)
		sq_bind_blob(q, 7, new, (int)newlen);
	if (material != NULL)
		sq_bind_blob(q, 8, material, (int)matlen);
	return done(st, q, sq_step(q));
}

int
store_count_evidence(struct store *st, int64_t log, const char *kind,
    int64_t *n)
{
	struct sq	*q = prep(st, Q_COUNT_EVIDENCE);
	int		 rc;

	sq_bind_int(q, 1, log);
	sq_bind_text(q, 2, kind);
	if ((rc = sq_step(q)) == SQ_ROW)
		*n = sq_int(q, 0);
	return done(st, q, rc == SQ_ROW ? rc : SQ_ERROR);
}

int
store_add_privacy(struct store *st, int64_t log, const char *addr,
    int64_t count, int64_t when, const char *path)
{
	struct sq	*q = prep(st, Q_ADD_PRIVACY);

	sq_bind_int(q, 1, log);
	sq_bind_text(q, 2, addr);
	sq_bind_int(q, 3, count);
	sq_bind_int(q, 4, when);
	sq_bind_text(q, 5, path);
	return done(st, q, sq_step(q));
}

int
store_each_privacy(struct store *st, int (*fn)(void *, const char *,
    const char *, int64_t, int64_t, int64_t, const char *), void *arg)
{
	struct sq	*q = NULL;
	int		 rc, r = 0;

	if ((q = sq_prepare(st->db, "SELECT l.name, p.addr, p.count, "
	    "p.first, p.last, p.path FROM privacy p JOIN log l ON p.log = "
	    "l.id ORDER BY p.count DESC, p.addr")) == NULL)
		return -1;
	while ((rc = sq_step(q)) == SQ_ROW && r == 0)
		r = fn(arg, (const char *)sq_text(q, 0),
		    (const char *)sq_text(q, 1),
		    sq_int(q, 2), sq_int(q, 3),
		    sq_int(q, 4),
		    (const char *)sq_text(q, 5));
	sq_finalize(q);
	return rc == SQ_DONE || rc == SQ_ROW ? r : -1;
}

int
store_frozen(struct store *st, int64_t log, char *reason, size_t size)
{
	struct sq	*q = prep(st, Q_GET_FROZEN);
	int		 rc, frozen = 0;

	sq_bind_int(q, 1, log);
	if ((rc = sq_step(q)) == SQ_ROW &&
	    !sq_null(q, 0)) {
		frozen = 1;
		snprintf(reason, size, "%s", sq_text(q, 0));
	}
	if (done(st, q, rc) != 0)
		return -1;
	return frozen;
}

int
store_set_frozen(struct store *st, int64_t log, const char *reason)
{
	struct sq	*q = prep(st, Q_SET_FROZEN);

	sq_bind_int(q, 1, log);
	if (reason != NULL)
		sq_bind_text(q, 2, reason);
	return done(st, q, sq_step(q));
}

int
store_full_next(struct store *st, int64_t log, int64_t *next)
{
	return log_int(st, Q_GET_FULL, log, next);
}

int
store_set_full_next(struct store *st, int64_t log, int64_t next)
{
	struct sq	*q = prep(st, Q_SET_FULL);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, next);
	return done(st, q, sq_step(q));
}

int
store_tuf_put(struct store *st, const char *role, int64_t version,
    const uint8_t *p, size_t len)
{
	struct sq	*q = prep(st, Q_TUF_PUT);

	sq_bind_text(q, 1, role);
	sq_bind_int(q, 2, version);
	sq_bind_blob(q, 3, p, (int)len);
	sq_bind_int(q, 4, (int64_t)time(NULL));
	return done(st, q, sq_step(q));
}

int
store_tuf_get(struct store *st, const char *role, int64_t version,
    struct evbuffer *out, int64_t *got)
{
	struct sq	*q = prep(st, version < 0 ? Q_TUF_NEWEST : Q_TUF_GET);
	int		 rc, found = 0;

	sq_bind_text(q, 1, role);
	if (version >= 0)
		sq_bind_int(q, 2, version);
	if ((rc = sq_step(q)) == SQ_ROW) {
		if (got != NULL)
			*got = sq_int(q, 0);
		if (add_blob(st, q, 1, out) != 0)
			rc = SQ_NOMEM;
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
	struct sq	*q = prep(st, Q_TARGET_PUT);

	sq_bind_text(q, 1, path);
	sq_bind_text(q, 2, sha256);
	sq_bind_blob(q, 3, p, (int)len);
	sq_bind_int(q, 4, (int64_t)time(NULL));
	return done(st, q, sq_step(q));
}

int
store_target_get(struct store *st, const char *path, const char *sha256,
    struct evbuffer *out)
{
	struct sq	*q = prep(st, Q_TARGET_GET);

	sq_bind_text(q, 1, path);
	sq_bind_text(q, 2, sha256);
	return one_blob(st, q, 0, out);
}

int
store_checkpoint(struct store *st, int64_t log, int64_t size,
    struct evbuffer *note, uint8_t root[STORE_HASH_SIZE])
{
	struct sq	*q = prep(st, Q_CHECKPOINT);
	int		 rc, found = 0;

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, size);
	if ((rc = sq_step(q)) == SQ_ROW &&
	    sq_bytes(q, 0) == STORE_HASH_SIZE) {
		memcpy(root, sq_blob(q, 0), STORE_HASH_SIZE);
		if (add_blob(st, q, 1, note) != 0)
			rc = SQ_NOMEM;
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
	struct sq	*q = NULL;
	int		 rc, r = 0;

	st->err[0] = '\0';
	if ((q = sq_prepare(st->db, "SELECT size, root, note, "
	    "coalesce(prev, -1), proof FROM checkpoint WHERE log = ?1 "
	    "ORDER BY size")) == NULL)
		return -1;
	sq_bind_int(q, 1, log);
	while ((rc = sq_step(q)) == SQ_ROW && r == 0)
		r = fn(arg, sq_int(q, 0),
		    sq_bytes(q, 1) == STORE_HASH_SIZE ?
		    sq_blob(q, 1) : NULL,
		    sq_blob(q, 2), sq_bytes(q, 2),
		    sq_int(q, 3), sq_blob(q, 4),
		    sq_bytes(q, 4));
	sq_finalize(q);
	return rc == SQ_DONE || rc == SQ_ROW ? r : -1;
}

/*
 * A long range read in batches of SCAN_BATCH rows (LIMIT in q), each
 * after the last row read, so that neither database holds a long
 * cursor and PostgreSQL's results stay small: q's parameters are arg,
 * which the caller moves past each row it reads.
 */
#define SCAN_BATCH	4096
#define STR(x)		STR1(x)
#define STR1(x)		#x

struct scan {
	struct sq	*q;
	int64_t		 arg[3];
	int		 narg, active, rows;
};

/* Step sc to its next row: SQ_ROW, SQ_DONE or an error. */
static int
scan_step(struct scan *sc)
{
	int	 rc, i;

	if (sc->active) {
		if ((rc = sq_step(sc->q)) != SQ_DONE) {
			sc->rows += rc == SQ_ROW;
			return rc;
		}
		if (sc->rows < SCAN_BATCH)
			return SQ_DONE;	/* a short batch was the last */
	}
	sq_reset(sc->q);
	for (i = 0; i < sc->narg; i++)
		sq_bind_int(sc->q, i + 1, sc->arg[i]);
	sc->active = 1;
	sc->rows = 0;
	if ((rc = sq_step(sc->q)) == SQ_ROW)
		sc->rows++;
	return rc;
}

/* A walk over a log's rows of rtext from key from to key end. */
static int
textwalk_open(struct store *st, struct scan *tw, int64_t from, int64_t end)
{
	memset(tw, 0, sizeof(*tw));
	tw->arg[0] = from;
	tw->arg[1] = end;
	tw->narg = 2;
	return (tw->q = sq_prepare(st->db, "SELECT k, text FROM rtext WHERE "
	    "k >= ?1 AND k < ?2 ORDER BY k LIMIT " STR(SCAN_BATCH))) == NULL ?
	    -1 : 0;
}

/* The next record: 1 with its id and text, 0 at the end, -1 error. */
static int
textwalk_next(struct scan *tw, int64_t *id, const uint8_t **rp,
    size_t *rlen)
{
	int	 rc;

	if ((rc = scan_step(tw)) != SQ_ROW)
		return rc == SQ_DONE ? 0 : -1;
	tw->arg[0] = sq_int(tw->q, 0) + 1;
	*id = TEXT_ID(tw->arg[0] - 1);
	*rp = sq_blob(tw->q, 1);
	*rlen = (size_t)sq_bytes(tw->q, 1);
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
	struct scan	 tw, rs;
	const uint8_t	*rp = NULL;
	size_t		 rlen = 0;
	int64_t		 tid = 0, rid;
	char		 path[4096], version[4096];
	int		 rc, r = 0, t;

	st->err[0] = '\0';
	memset(&rs, 0, sizeof(rs));
	rs.arg[0] = log;
	rs.arg[1] = -1;
	rs.narg = 2;
	if ((rs.q = sq_prepare(st->db, "SELECT id, path, version, text FROM "
	    "record WHERE log = ?1 AND id > ?2 ORDER BY id LIMIT "
	    STR(SCAN_BATCH))) == NULL)
		return -1;
	if (textwalk_open(st, &tw, TEXT_KEY(log, 0), TEXT_KEY(log + 1, 0)) !=
	    0) {
		sq_finalize(rs.q);
		return -1;
	}
	/* Both in id order, merged; a row in record wins over a tile's. */
	rc = scan_step(&rs);
	t = textwalk_next(&tw, &tid, &rp, &rlen);
	while (r == 0 && (rc == SQ_ROW || t == 1)) {
		rid = rc == SQ_ROW ? sq_int(rs.q, 0) : -1;
		if (rc == SQ_ROW && (t != 1 || rid <= tid)) {
			r = fn(arg, rid, sq_text(rs.q, 1), sq_text(rs.q, 2),
			    sq_blob(rs.q, 3), sq_bytes(rs.q, 3));
			if (t == 1 && rid == tid)
				t = textwalk_next(&tw, &tid, &rp, &rlen);
			rs.arg[1] = rid;
			rc = scan_step(&rs);
			continue;
		}
		name_of(rp, rlen, tid, path, version, sizeof(path));
		r = fn(arg, tid, path, version, rp, rlen);
		t = textwalk_next(&tw, &tid, &rp, &rlen);
	}
	if (r == 0 && (t < 0 || (rc != SQ_DONE && rc != SQ_ROW)))
		snprintf(st->err, sizeof(st->err), "%s",
		    sq_errmsg(st->db));
	sq_finalize(rs.q);
	sq_finalize(tw.q);
	if (r != 0)
		return r;
	return t < 0 || (rc != SQ_DONE && rc != SQ_ROW) ? -1 : 0;
}

/* One row of the lease into li. */
static void
lease_row(struct sq *q, struct store_lease *li, int col)
{
	snprintf(li->holder, sizeof(li->holder), "%s", sq_text(q, col) ?
	    sq_text(q, col) : "");
	snprintf(li->url, sizeof(li->url), "%s", sq_text(q, col + 1) ?
	    sq_text(q, col + 1) : "");
	li->token = sq_int(q, col + 2);
	li->left_ms = sq_int(q, col + 3);
}

int
store_lease(struct store *st, const char *holder, const char *url,
    int64_t ttl_ms, struct store_lease *li)
{
	struct sq	*q;
	int		 rc;

	memset(li, 0, sizeof(*li));
	if (sq_kind(st->db) != SQ_PG) {
		snprintf(li->holder, sizeof(li->holder), "%s", holder);
		snprintf(li->url, sizeof(li->url), "%s", url);
		li->token = 1;
		li->left_ms = ttl_ms;
		return 1;
	}
	q = prep(st, Q_LEASE);
	sq_bind_text(q, 1, holder);
	sq_bind_text(q, 2, url);
	sq_bind_int(q, 3, ttl_ms);
	if ((rc = sq_step(q)) == SQ_ROW) {
		snprintf(li->holder, sizeof(li->holder), "%s", holder);
		snprintf(li->url, sizeof(li->url), "%s", url);
		li->token = sq_int(q, 0);
		li->left_ms = sq_int(q, 1);
	}
	if (done(st, q, rc) != 0)
		return -1;
	if (rc == SQ_ROW)
		return 1;
	return store_lease_get(st, li) < 0 ? -1 : 0;
}

int
store_lease_get(struct store *st, struct store_lease *li)
{
	struct sq	*q;
	int		 rc;

	memset(li, 0, sizeof(*li));
	if (sq_kind(st->db) != SQ_PG)
		return 0;
	q = prep(st, Q_LEASE_GET);
	if ((rc = sq_step(q)) == SQ_ROW)
		lease_row(q, li, 0);
	if (done(st, q, rc) != 0)
		return -1;
	return rc == SQ_ROW;
}

int
store_lease_drop(struct store *st, const char *holder, int64_t token)
{
	struct sq	*q;

	if (sq_kind(st->db) != SQ_PG)
		return 0;
	q = prep(st, Q_LEASE_DROP);
	sq_bind_text(q, 1, holder);
	sq_bind_int(q, 2, token);
	return done(st, q, sq_step(q));
}

void
store_fence(struct store *st, const char *holder, const int64_t *token)
{
	snprintf(st->fence_holder, sizeof(st->fence_holder), "%s",
	    holder != NULL ? holder : "");
	st->fence_token = holder != NULL ? token : NULL;
}

void
store_tune_index(struct store *st, int64_t bulk, int64_t chunk)
{
	st->index_bulk = bulk;
	st->index_chunk = chunk;
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
		/* Conflicts of records indexed before were reported then. */
		for (k = 0; k < i && ids->v[i] >= st->index_from; k++)
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
	struct sq	*q;
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
		sq_bind_int(q, 1, log);
		sq_bind_int(q, 2, a[i].key);
		sq_bind_int(q, 3, a[i].id);
		if (done(st, q, sq_step(q)) != 0)
			return -1;
	}
	return 0;
 fail:
	free(ids.v);
	return -1;
}

/*
 * A sorted source of (key, id) pairs for the bulk merge: the chunk in
 * memory, a sorted run spilled to the temporary table runs (in pieces
 * of RUN_PIECE pairs), the blocks of the current generation, or the
 * rows of lookup (read, never rewritten).
 */
#define RUN_PIECE	4096
enum { SRC_MEM, SRC_RUN, SRC_BLOCKS, SRC_ROWS };

struct src {
	int		 kind;
	struct kid	 cur;
	int		 valid;
	/* SRC_MEM */
	const struct kid *a;
	size_t		 i, n;
	/* SRC_RUN: run, its next piece */
	int64_t		 run, seq;
	uint8_t		 buf[RUN_PIECE * BLOCK_ENTRY];
	size_t		 bpos, blen;
	struct sq	*q;
	/* SRC_BLOCKS, SRC_ROWS */
	struct scan	 sc;
	const uint8_t	*p;
	uint8_t		*copy;
	size_t		 pi, pn;
};

/* Step s to its next pair; 0, or -1 on error. */
static int
src_next(struct src *s)
{
	int	 rc;

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
			sq_bind_int(s->q, 1, s->run);
			sq_bind_int(s->q, 2, s->seq++);
			rc = sq_step(s->q);
			if (rc == SQ_ROW && (sq_bytes(s->q, 0) >
			    sizeof(s->buf) || sq_bytes(s->q, 0) %
			    BLOCK_ENTRY != 0))
				rc = SQ_ERROR;
			if (rc == SQ_ROW) {
				s->blen = sq_bytes(s->q, 0);
				memcpy(s->buf, sq_blob(s->q, 0), s->blen);
				s->bpos = 0;
			}
			sq_reset(s->q);
			if (rc != SQ_ROW)
				return rc == SQ_DONE ? 0 : -1;
			if (s->blen == 0)
				return 0;
		}
		s->cur.key = (int64_t)be64(s->buf + s->bpos);
		s->cur.id = (int64_t)be64(s->buf + s->bpos + 8);
		s->bpos += BLOCK_ENTRY;
		s->valid = 1;
		return 0;
	case SRC_BLOCKS:
		while (s->pi == s->pn) {
			if ((rc = scan_step(&s->sc)) != SQ_ROW)
				return rc == SQ_DONE ? 0 : -1;
			s->sc.arg[2] = sq_int(s->sc.q, 1);
			/* A copy: new blocks go into the same table. */
			s->pn = (size_t)sq_bytes(s->sc.q, 0) /
			    BLOCK_ENTRY;
			free(s->copy);
			if ((s->copy = malloc(s->pn * BLOCK_ENTRY + 1)) ==
			    NULL)
				return -1;
			if (s->pn > 0)
				memcpy(s->copy, sq_blob(s->sc.q, 0),
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
		if ((rc = scan_step(&s->sc)) != SQ_ROW)
			return rc == SQ_DONE ? 0 : -1;
		s->cur.key = s->sc.arg[1] = sq_int(s->sc.q, 0);
		s->cur.id = s->sc.arg[2] = sq_int(s->sc.q, 1);
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
	struct sq	*q;

	if (w->n == 0)
		return 0;
	q = prep(st, Q_ADD_BLOCK);
	sq_bind_int(q, 1, w->log);
	sq_bind_int(q, 2, w->gen);
	sq_bind_int(q, 3, (int64_t)be64(w->buf));
	sq_bind_blob(q, 4, w->buf, (int)(w->n * BLOCK_ENTRY));
	w->n = 0;
	return done(st, q, sq_step(q));
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

/* Sort a chunk and spill it to runs as run number run, in pieces. */
static int
spill(struct store *st, struct kid *a, size_t n, int run)
{
	struct sq	*q = NULL;
	uint8_t		*b;
	size_t		 i, m;
	int		 rc = SQ_DONE;

	qsort(a, n, sizeof(*a), kid_cmp);
	/* In place: 16 bytes a pair either way. */
	b = (uint8_t *)a;
	for (i = 0; i < n; i++) {
		struct kid	 k = a[i];

		put_be64(b + i * BLOCK_ENTRY, (uint64_t)k.key);
		put_be64(b + i * BLOCK_ENTRY + 8, (uint64_t)k.id);
	}
	if ((q = sq_prepare(st->db, "INSERT INTO runs (run, seq, data) "
	    "VALUES (?1, ?2, ?3)")) == NULL)
		return -1;
	for (i = 0; i < n && rc == SQ_DONE; i += m) {
		m = n - i < RUN_PIECE ? n - i : RUN_PIECE;
		sq_bind_int(q, 1, run);
		sq_bind_int(q, 2, (int64_t)(i / RUN_PIECE));
		sq_bind_blob(q, 3, b + i * BLOCK_ENTRY, m * BLOCK_ENTRY);
		rc = sq_step(q);
		sq_reset(q);
	}
	sq_finalize(q);
	return rc == SQ_DONE ? 0 : -1;
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
	struct sq	*q = NULL;
	struct kid	 k;
	int64_t		 gen = 0, key;
	int		 ns = 0, i, m, rv = -1, r;

	memset(&w, 0, sizeof(w));
	if ((src = calloc((size_t)nruns + 3, sizeof(*src))) == NULL) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		return -1;
	}
	if ((q = sq_prepare(st->db, "SELECT blocks FROM log WHERE id = ?1")) == NULL)
		goto done;
	sq_bind_int(q, 1, log);
	if (sq_step(q) == SQ_ROW)
		gen = sq_int(q, 0);
	sq_finalize(q);
	q = NULL;
	qsort(a, n, sizeof(*a), kid_cmp);
	src[ns].kind = SRC_MEM;
	src[ns].a = a;
	src[ns++].n = n;
	for (i = 0; i < nruns; i++) {
		src[ns].kind = SRC_RUN;
		src[ns].run = i;
		if ((src[ns++].q = sq_prepare(st->db, "SELECT data FROM runs "
		    "WHERE run = ?1 AND seq = ?2")) == NULL)
			goto done;
	}
	src[ns].kind = SRC_BLOCKS;
	src[ns].sc.arg[0] = log;
	src[ns].sc.arg[1] = gen;
	src[ns].sc.arg[2] = -1;
	src[ns].sc.narg = 3;
	if ((src[ns++].sc.q = sq_prepare(st->db, "SELECT data, first FROM "
	    "lookup_block WHERE log = ?1 AND gen = ?2 AND first > ?3 ORDER BY "
	    "first LIMIT " STR(SCAN_BATCH))) == NULL)
		goto done;
	src[ns].kind = SRC_ROWS;
	src[ns].sc.arg[0] = log;
	src[ns].sc.arg[1] = src[ns].sc.arg[2] = -1;
	src[ns].sc.narg = 3;
	if ((src[ns++].sc.q = sq_prepare(st->db, "SELECT key, id FROM lookup "
	    "WHERE log = ?1 AND (key, id) > (?2, ?3) ORDER BY key, id LIMIT "
	    STR(SCAN_BATCH))) == NULL)
		goto done;
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
		sq_finalize(src[i].q);
		sq_finalize(src[i].sc.q);
		src[i].q = src[i].sc.q = NULL;
	}
	if ((q = sq_prepare(st->db, "DELETE FROM lookup_block WHERE "
	    "log = ?1 AND gen = ?2")) == NULL)
		goto done;
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, gen);
	r = sq_step(q);
	sq_finalize(q);
	q = NULL;
	if (r != SQ_DONE || (q = sq_prepare(st->db, "UPDATE log SET "
	    "blocks = ?2 WHERE id = ?1")) == NULL)
		goto done;
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, gen + 1);
	if (sq_step(q) != SQ_DONE ||
	    pragma(st, "PRAGMA incremental_vacuum") != 0)
		goto done;
	rv = 0;
 done:
	for (i = 0; i < ns; i++) {
		sq_finalize(src[i].q);
		sq_finalize(src[i].sc.q);
		free(src[i].copy);
	}
	sq_finalize(q);
	free(src);
	free(w.buf);
	free(ids.v);
	return rv;
}

int
store_index(struct store *st, int64_t log, int64_t upto,
    void (*conflict)(void *, int64_t, int64_t), void *arg)
{
	struct scan	 tw;
	struct kid	*a = NULL;
	struct sq	*q;
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
	st->index_from = from;
	bulk = upto - from >= st->index_bulk;
	cap = (size_t)(upto - from < st->index_chunk ? upto - from :
	    st->index_chunk);
	if ((a = calloc(cap, sizeof(*a))) == NULL) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		goto done;
	}
	if ((bulk && (exec(st, sq_kind(st->db) == SQ_SQLITE ?
	    "CREATE TEMP TABLE IF NOT EXISTS runs (run INTEGER NOT NULL, "
	    "seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (run, seq))"
	    : "CREATE TEMP TABLE IF NOT EXISTS runs (run BIGINT NOT NULL, "
	    "seq BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (run, "
	    "seq))") != 0 || exec(st, "DELETE FROM runs") != 0)) ||
	    textwalk_open(st, &tw, TEXT_KEY(log, from), TEXT_KEY(log, upto)) !=
	    0)
		goto done;
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
			if (spill(st, a, n, nruns) != 0)
				goto done;
			nruns++;
			n = 0;
		}
	}
	if (bulk ? index_bulk(st, log, a, n, nruns, conflict, arg) != 0 :
	    index_rows(st, log, a, n, conflict, arg) != 0)
		goto done;
	q = prep(st, Q_SET_INDEXED);
	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, upto);
	if (done(st, q, sq_step(q)) != 0)
		goto done;
	rv = 0;
 done:
	if (rv != 0 && st->err[0] == '\0')
		snprintf(st->err, sizeof(st->err), "%s",
		    sq_errmsg(st->db));
	sq_finalize(tw.q);
	if (nruns > 0)
		exec(st, "DELETE FROM runs");
	free(a);
	return rv;
}

int
store_integrity(struct store *st, void (*fn)(void *, const char *), void *arg)
{
	struct sq	*q = NULL;
	const char	*msg;
	int		 rc, bad = 0;

	/*
	 * PostgreSQL has no such check of its own files (data checksums
	 * and amcheck are the operator's); what sumdbd keeps in them,
	 * fsck checks.
	 */
	if (sq_kind(st->db) == SQ_PG)
		return 0;
	if ((q = sq_prepare(st->db, "PRAGMA integrity_check")) == NULL)
		return -1;
	while ((rc = sq_step(q)) == SQ_ROW) {
		msg = (const char *)sq_text(q, 0);
		if (msg != NULL && strcmp(msg, "ok") != 0) {
			fn(arg, msg);
			bad++;
		}
	}
	sq_finalize(q);
	return rc == SQ_DONE ? bad : -1;
}

int
store_each_evidence(struct store *st, int64_t id,
    int (*fn)(void *, int64_t, const char *, const char *, const char *,
    int64_t, const char *, const struct store_blob *), void *arg)
{
	struct store_blob	 b[3];
	struct sq		*q = NULL;
	int			 rc, r = 0, k;

	if ((q = sq_prepare(st->db, "SELECT e.id, l.name, e.kind, "
	    "e.source, e.created, e.detail, e.old, e.new, e.material FROM "
	    "evidence e JOIN log l ON e.log = l.id WHERE ?1 < 0 OR e.id = ?1 "
	    "ORDER BY e.id")) == NULL)
		return -1;
	sq_bind_int(q, 1, id);
	while ((rc = sq_step(q)) == SQ_ROW && r == 0) {
		for (k = 0; k < 3; k++) {
			b[k].p = sq_blob(q, 6 + k);
			b[k].len = (size_t)sq_bytes(q, 6 + k);
		}
		r = fn(arg, sq_int(q, 0),
		    (const char *)sq_text(q, 1),
		    (const char *)sq_text(q, 2),
		    (const char *)sq_text(q, 3),
		    sq_int(q, 4),
		    (const char *)sq_text(q, 5), b);
	}
	sq_finalize(q);
	return rc == SQ_DONE || rc == SQ_ROW ? r : -1;
}

int
store_add_provenance(struct store *st, int64_t log, int64_t id,
    int64_t upstream, int64_t upstream_id, int64_t upstream_tree)
{
	struct sq	*q = prep(st, Q_ADD_PROVENANCE);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, id);
	sq_bind_int(q, 3, upstream);
	sq_bind_int(q, 4, upstream_id);
	sq_bind_int(q, 5, upstream_tree);
	return done(st, q, sq_step(q));
}

int
store_provenance(struct store *st, int64_t log, int64_t id,
    int64_t *upstream, int64_t *upstream_id, int64_t *upstream_tree)
{
	struct sq	*q = prep(st, Q_PROVENANCE);
	int		 rc, found = 0;

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, id);
	if ((rc = sq_step(q)) == SQ_ROW) {
		found = 1;
		*upstream = sq_int(q, 0);
		*upstream_id = sq_int(q, 1);
		*upstream_tree = sq_int(q, 2);
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_each_provenance(struct store *st, int64_t log, int (*fn)(void *,
    int64_t, int64_t, int64_t, int64_t), void *arg)
{
	struct sq	*q = NULL;
	int		 rc, r = 0;

	if ((q = sq_prepare(st->db, "SELECT id, upstream, upstream_id, "
	    "upstream_tree FROM provenance WHERE log = ?1 ORDER BY id")) == NULL)
		return -1;
	sq_bind_int(q, 1, log);
	while (r == 0 && (rc = sq_step(q)) == SQ_ROW)
		r = fn(arg, sq_int(q, 0),
		    sq_int(q, 1), sq_int(q, 2),
		    sq_int(q, 3));
	sq_finalize(q);
	return rc == SQ_DONE || rc == SQ_ROW ? r : -1;
}

int
store_log_name(struct store *st, int64_t id, char *name, size_t size)
{
	struct sq	*q = prep(st, Q_LOG_NAME);
	int		 rc, found = 0;

	sq_bind_int(q, 1, id);
	if ((rc = sq_step(q)) == SQ_ROW) {
		found = 1;
		snprintf(name, size, "%s", sq_text(q, 0));
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_witness_get(struct store *st, const char *origin, int64_t *size,
    uint8_t root[STORE_HASH_SIZE], struct evbuffer *note)
{
	struct sq	*q = prep(st, Q_WITNESS_GET);
	int		 rc, found = 0;

	sq_bind_text(q, 1, origin);
	if ((rc = sq_step(q)) == SQ_ROW) {
		if (sq_bytes(q, 1) != STORE_HASH_SIZE) {
			snprintf(st->err, sizeof(st->err), "witness state of "
			    "'%s': root of %zu bytes", origin,
			    sq_bytes(q, 1));
			sq_reset(q);
			return -1;
		}
		found = 1;
		*size = sq_int(q, 0);
		memcpy(root, sq_blob(q, 1), STORE_HASH_SIZE);
		if (note != NULL && evbuffer_add(note, sq_blob(q,
		    2), (size_t)sq_bytes(q, 2)) != 0)
			rc = SQ_NOMEM;
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
	struct sq	*q = prep(st, Q_WITNESS_SET);

	sq_bind_text(q, 1, origin);
	sq_bind_int(q, 2, size);
	sq_bind_blob(q, 3, root, STORE_HASH_SIZE);
	sq_bind_blob(q, 4, note, (int)len);
	sq_bind_int(q, 5, time);
	return done(st, q, sq_step(q));
}

int
store_next_checkpoint(struct store *st, int64_t log, int64_t prev,
    int64_t *size, struct evbuffer *note, struct evbuffer *proof)
{
	struct sq	*q = prep(st, Q_NEXT_CHECKPOINT);
	int		 rc, found = 0;

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, prev);
	if ((rc = sq_step(q)) == SQ_ROW) {
		found = 1;
		*size = sq_int(q, 0);
		if (evbuffer_add(note, sq_blob(q, 1),
		    (size_t)sq_bytes(q, 1)) != 0 ||
		    evbuffer_add(proof, sq_blob(q, 2),
		    (size_t)sq_bytes(q, 2)) != 0)
			rc = SQ_NOMEM;
	}
	if (done(st, q, rc) != 0)
		return -1;
	return found;
}

int
store_cosign_checkpoint(struct store *st, int64_t log, int64_t size,
    const char *line, size_t len)
{
	struct sq	*q = prep(st, Q_COSIGN);

	sq_bind_int(q, 1, log);
	sq_bind_int(q, 2, size);
	sq_bind_blob(q, 3, line, (int)len);
	return done(st, q, sq_step(q));
}

/*
 * Every table a store keeps, for store_copy(): its columns, the key's
 * first (nkey of them), and each column's type: i integer, t text, b
 * blob.  The lease and the schema version are each database's own.
 */
static const struct table {
	const char	*name;
	const char	*cols;
	const char	*types;
	int		 nkey;
} tables[] = {
	{ "log", "id, name, kind, frozen, full_next, indexed, blocks",
	    "ittiiii", 1 },
	{ "record", "log, id, path, version, text", "iittb", 2 },
	{ "hash", "log, idx, hash", "iib", 2 },
	{ "tile", "log, level, n, data", "iiib", 3 },
	{ "checkpoint", "log, size, root, note, created, prev, proof, source, "
	    "published", "iibbiibti", 2 },
	{ "evidence", "id, log, kind, source, created, detail, old, new, "
	    "material", "iittitbbb", 1 },
	{ "tuf", "role, version, bytes, created", "tibi", 2 },
	{ "tuf_target", "path, sha256, bytes, created", "ttbi", 2 },
	{ "privacy", "log, addr, count, first, last, path", "itiiit", 2 },
	{ "provenance", "log, id, upstream, upstream_id, upstream_tree",
	    "iiiii", 2 },
	{ "lookup", "log, key, id", "iii", 3 },
	{ "rtext", "k, text", "ib", 1 },
	{ "lookup_block", "log, gen, first, data", "iiib", 3 },
	{ "witness", "origin, size, root, note, time", "tibbi", 1 },
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))
#define KEY_MAX	3

/* A walk over one table in key order, in batches after the last key. */
struct twalk {
	const struct table *t;
	struct sq	*first, *next, *q;	/* q: first or next */
	int		 rows, started;
	int64_t		 ki[KEY_MAX];		/* the last key read */
	char		*kt[KEY_MAX];
};

static void
twalk_close(struct twalk *w)
{
	int	 i;

	sq_finalize(w->first);
	sq_finalize(w->next);
	for (i = 0; i < KEY_MAX; i++)
		free(w->kt[i]);
	memset(w, 0, sizeof(*w));
}

static int
twalk_open(struct store *st, const struct table *t, struct twalk *w)
{
	char	 sql[1024], key[256], ph[64];
	size_t	 n;
	int	 i;

	memset(w, 0, sizeof(*w));
	w->t = t;
	/* The key's columns: the first nkey of cols. */
	snprintf(key, sizeof(key), "%s", t->cols);
	for (i = 0, n = 0; key[n] != '\0'; n++)
		if (key[n] == ',' && ++i == t->nkey)
			break;
	key[n] = '\0';
	for (i = 0, ph[0] = '\0'; i < t->nkey; i++)
		snprintf(ph + strlen(ph), sizeof(ph) - strlen(ph), "%s?%d",
		    i > 0 ? ", " : "", i + 1);
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s LIMIT "
	    STR(SCAN_BATCH), t->cols, t->name, key);
	if ((w->first = sq_prepare(st->db, sql)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE (%s) > (%s) "
	    "ORDER BY %s LIMIT " STR(SCAN_BATCH), t->cols, t->name, key, ph,
	    key);
	if ((w->next = sq_prepare(st->db, sql)) == NULL) {
		twalk_close(w);
		return -1;
	}
	return 0;
}

/* The next row, in w->q: SQ_ROW, SQ_DONE or an error. */
static int
twalk_step(struct twalk *w)
{
	int	 rc, i;

	if (w->q != NULL) {
		if ((rc = sq_step(w->q)) != SQ_DONE)
			goto row;
		if (w->rows < SCAN_BATCH)
			return SQ_DONE;
		sq_reset(w->q);
	}
	w->q = w->started ? w->next : w->first;
	w->started = 1;
	for (i = 0; i < w->t->nkey; i++)
		if (w->t->types[i] == 'i')
			sq_bind_int(w->q, i + 1, w->ki[i]);
		else
			sq_bind_text(w->q, i + 1, w->kt[i]);
	w->rows = 0;
	rc = sq_step(w->q);
 row:
	if (rc != SQ_ROW)
		return rc;
	w->rows++;
	for (i = 0; i < w->t->nkey; i++)
		if (w->t->types[i] == 'i')
			w->ki[i] = sq_int(w->q, i);
		else {
			free(w->kt[i]);
			if ((w->kt[i] = strdup(sq_text(w->q, i) ?
			    sq_text(w->q, i) : "")) == NULL)
				return SQ_NOMEM;
		}
	return SQ_ROW;
}

/* Column c of a's row and of b's, the same bytes (or both NULL)? */
static int
same_col(struct sq *a, struct sq *b, int c, char type)
{
	size_t	 n;

	if (sq_null(a, c) || sq_null(b, c))
		return sq_null(a, c) && sq_null(b, c);
	if (type == 'i')
		return sq_int(a, c) == sq_int(b, c);
	if (type == 't')
		return strcmp(sq_text(a, c), sq_text(b, c)) == 0;
	n = sq_bytes(a, c);
	return n == sq_bytes(b, c) && (n == 0 ||
	    memcmp(sq_blob(a, c), sq_blob(b, c), n) == 0);
}

/* Copy table t from from to to, in to's transaction; rows into *n. */
static int
copy_table(struct store *from, struct store *to, const struct table *t,
    int64_t *n)
{
	struct twalk	 w;
	struct sq	*ins;
	char		 sql[1024], ph[128];
	int		 i, rc, ncol = (int)strlen(t->types);
	const void	*p;

	*n = 0;
	for (i = 0, ph[0] = '\0'; i < ncol; i++)
		snprintf(ph + strlen(ph), sizeof(ph) - strlen(ph), "%s?%d",
		    i > 0 ? ", " : "", i + 1);
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (%s)", t->name,
	    t->cols, ph);
	if ((ins = sq_prepare(to->db, sql)) == NULL)
		return -1;
	if (twalk_open(from, t, &w) != 0) {
		snprintf(to->err, sizeof(to->err), "reading %s: %.200s", t->name,
		    store_errmsg(from));
		sq_finalize(ins);
		return -1;
	}
	while ((rc = twalk_step(&w)) == SQ_ROW) {
		for (i = 0; i < ncol; i++) {
			if (sq_null(w.q, i))
				continue;
			if (t->types[i] == 'i')
				sq_bind_int(ins, i + 1, sq_int(w.q, i));
			else if (t->types[i] == 't')
				sq_bind_text(ins, i + 1, sq_text(w.q, i));
			else {
				p = sq_blob(w.q, i);
				sq_bind_blob(ins, i + 1, p != NULL ? p : "",
				    sq_bytes(w.q, i));
			}
		}
		rc = sq_step(ins);
		sq_reset(ins);
		if (rc != SQ_DONE)
			break;
		(*n)++;
	}
	if (rc != SQ_DONE)
		snprintf(to->err, sizeof(to->err), "copying %s: %s", t->name,
		    rc == SQ_ROW || rc == SQ_NOMEM ? "out of memory" :
		    sq_errmsg(to->db)[0] != '\0' ? sq_errmsg(to->db) :
		    sq_errmsg(from->db));
	twalk_close(&w);
	sq_finalize(ins);
	return rc == SQ_DONE ? 0 : -1;
}

/* Every row of t in a and in b, the same: 0, or -1 (why in b's err). */
static int
same_table(struct store *a, struct store *b, const struct table *t)
{
	struct twalk	 wa, wb;
	int		 ra, rb, i, ncol = (int)strlen(t->types), rv = -1;
	int64_t		 row = 0;

	if (twalk_open(a, t, &wa) != 0)
		return -1;
	if (twalk_open(b, t, &wb) != 0) {
		twalk_close(&wa);
		return -1;
	}
	for (;;) {
		ra = twalk_step(&wa);
		rb = twalk_step(&wb);
		if (ra != rb || (ra != SQ_ROW && ra != SQ_DONE)) {
			snprintf(b->err, sizeof(b->err), "%s: %s after row "
			    "%lld", t->name, ra == SQ_ROW || rb == SQ_ROW ?
			    "not the same number of rows" : "cannot be read",
			    (long long)row);
			break;
		}
		if (ra == SQ_DONE) {
			rv = 0;
			break;
		}
		for (i = 0; i < ncol; i++)
			if (!same_col(wa.q, wb.q, i, t->types[i]))
				break;
		if (i < ncol) {
			snprintf(b->err, sizeof(b->err), "%s: row %lld differs "
			    "in column %d", t->name, (long long)row, i + 1);
			break;
		}
		row++;
	}
	twalk_close(&wa);
	twalk_close(&wb);
	return rv;
}

int
store_copy(struct store *from, struct store *to,
    void (*fn)(void *, const char *, int64_t), void *arg)
{
	struct sq	*q;
	char		 sql[128];
	int64_t		 n;
	size_t		 i;
	int		 rc;

	to->err[0] = '\0';
	/* Into an empty store only: nothing is merged. */
	for (i = 0; i < NTABLES; i++) {
		snprintf(sql, sizeof(sql), "SELECT 1 FROM %s LIMIT 1",
		    tables[i].name);
		if ((q = sq_prepare(to->db, sql)) == NULL)
			return -1;
		rc = sq_step(q);
		sq_finalize(q);
		if (rc == SQ_ROW)
			snprintf(to->err, sizeof(to->err), "the store copied "
			    "into is not empty: table %s has rows",
			    tables[i].name);
		if (rc != SQ_DONE)
			return -1;
	}
	for (i = 0; i < NTABLES; i++) {
		if (store_begin(to, 0) != 0)
			return -1;
		if (copy_table(from, to, &tables[i], &n) != 0) {
			store_rollback(to);
			return -1;
		}
		if (store_commit(to) != 0)
			return -1;
		if (fn != NULL)
			fn(arg, tables[i].name, n);
	}
	/* PostgreSQL's identities go on after the ids copied. */
	if (sq_kind(to->db) == SQ_PG && exec(to, "SELECT setval("
	    "pg_get_serial_sequence('log', 'id'), coalesce(max(id), 0) + 1, "
	    "false) FROM log; SELECT setval(pg_get_serial_sequence("
	    "'evidence', 'id'), coalesce(max(id), 0) + 1, false) FROM "
	    "evidence") != 0)
		return -1;
	for (i = 0; i < NTABLES; i++)
		if (same_table(from, to, &tables[i]) != 0)
			return -1;
	return 0;
}
