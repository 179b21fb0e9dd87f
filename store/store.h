/*
 * store.h: sumdbd's store, on SQLite or PostgreSQL (store_open() of a
 * "postgresql://" URI).  One database holds every log (the
 * private log and mirrored ones), each with its records, stored hashes,
 * hash tiles and signed checkpoints.  Functions that can fail return 0
 * or -1 (store_errmsg() says why); lookups return 1 found, 0 absent,
 * -1 error.
 */

#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct store;

#define STORE_HASH_SIZE	32

/* Open or create the database at path (":memory:" for tests). */
struct store	*store_open(const char *path, char *err, size_t errsize);
void		 store_close(struct store *st);
/*
 * Any thread: make the statement st is running, if any, fail at once
 * (its transaction then rolls back); for stopping a long write.
 */
void		 store_interrupt(struct store *st);

/* The database's message for the last failure. */
const char	*store_errmsg(struct store *st);

/* The database's size in bytes (PostgreSQL's view of it). */
int		 store_bytes(struct store *st, int64_t *n);

/* The id of the log called name, created with kind if absent. */
int	store_log(struct store *st, const char *name, const char *kind,
	    int64_t *id);

/*
 * Transactions.  store_begin() takes the write lock (BEGIN IMMEDIATE),
 * waiting up to a few seconds for another process; with durable set,
 * the commit syncs to disk (synchronous=FULL) before it returns.
 */
int	store_begin(struct store *st, int durable);

/*
 * The writer lease, on PostgreSQL (an SQLite store has one node, which
 * always holds it).  store_lease() takes or renews it for node holder,
 * which the other nodes reach at url, for ttl_ms of PostgreSQL's clock:
 * taken anew (free, expired, or ours but expired) its fencing token
 * grows by one; renewed in time it stays.  Returns 1 held, 0 another
 * node holds it, or -1; li says who holds it either way.
 * store_lease_get() reads it (1, 0 never taken, -1);
 * store_lease_drop() gives it up at once (a clean stop).
 */
struct store_lease {
	char	 holder[128];
	char	 url[512];
	int64_t	 token;
	int64_t	 left_ms;	/* until it expires; <= 0: expired */
};
int	store_lease(struct store *st, const char *holder, const char *url,
	    int64_t ttl_ms, struct store_lease *li);
int	store_lease_get(struct store *st, struct store_lease *li);
int	store_lease_drop(struct store *st, const char *holder, int64_t token);
/*
 * Fence st's write transactions with the lease: with a holder set,
 * store_begin() fails ("not the writer") unless *token (read atomically
 * at each begin: another thread may change it) is positive and, once
 * store_begin() holds the write lock every writer takes, holder holds
 * the lease with that token, unexpired.  A NULL holder: no fence
 * (commands, SQLite).  PostgreSQL only.
 */
void	store_fence(struct store *st, const char *holder,
	    const int64_t *token);
int	store_commit(struct store *st);
void	store_rollback(struct store *st);

/* Number of records of log. */
int	store_size(struct store *st, int64_t log, int64_t *n);

/* The id (and the text, if text is not NULL) of path@version. */
int	store_lookup(struct store *st, int64_t log, const char *path,
	    const char *version, int64_t *id, struct evbuffer *text);

/* Append the text of record id to out. */
int	store_record(struct store *st, int64_t log, int64_t id,
	    struct evbuffer *out);

/*
 * Let st's page cache grow to kib KiB, and give back what is over it:
 * small for serving, large while a full mirror syncs.
 */
int	store_cache(struct store *st, int kib);

/* Append records [first, first+n) as a data tile to out. */
int	store_data_tile(struct store *st, int64_t log, int64_t first,
	    int64_t n, struct evbuffer *out);

/*
 * Add record id.  Returns 0, 1 if path@version is already recorded, 2
 * if record id already is (nothing added either way), or -1.
 */
int	store_add_record(struct store *st, int64_t log, int64_t id,
	    const char *path, const char *version, const uint8_t *text,
	    size_t len);

/*
 * A full mirror keeps its records as texts only: store_put_texts() adds
 * those of data tile data[0..len-1] (verified: each record's text, then
 * a newline) as records first on, in the caller's transaction, keeping
 * any already stored; store_record(), store_data_tile() and
 * store_each_record() read them as records.  Lookups find them once
 * indexed: records below store_indexed() are.  store_index() indexes
 * those up to upto (all stored, in the caller's transaction), calling
 * conflict(arg, id, first) for each record that names the module
 * version of a lower id first (lookups keep the first).
 */
int	store_put_texts(struct store *st, int64_t log, int64_t first,
	    const uint8_t *data, size_t len);
int	store_indexed(struct store *st, int64_t log, int64_t *indexed);
int	store_index(struct store *st, int64_t log, int64_t upto,
	    void (*conflict)(void *, int64_t, int64_t), void *arg);
/*
 * For tests: build blocks from bulk records indexed at once on (65536),
 * sorting chunk pairs in memory at a time (2 Mi) before spilling a run.
 */
void	store_tune_index(struct store *st, int64_t bulk, int64_t chunk);

/* Stored hashes by index; -1 if one is missing. */
int	store_read_hashes(struct store *st, int64_t log, const int64_t *index,
	    size_t n, uint8_t (*out)[STORE_HASH_SIZE]);
int	store_add_hashes(struct store *st, int64_t log, int64_t first,
	    const uint8_t (*h)[STORE_HASH_SIZE], size_t n);

/*
 * A hash tile (level >= 0) as stored: full, or the widest partial; a
 * narrower put never replaces a wider tile.
 */
int	store_tile(struct store *st, int64_t log, int level, int64_t n,
	    struct evbuffer *out);
int	store_put_tile(struct store *st, int64_t log, int level, int64_t n,
	    const uint8_t *data, size_t len);

/*
 * The newest checkpoint of log: its signed note appended to note (if
 * not NULL), its size and root.
 */
int	store_latest(struct store *st, int64_t log, struct evbuffer *note,
	    int64_t *size, uint8_t root[STORE_HASH_SIZE]);
/*
 * The same for the newest published checkpoint: the one served.  Every
 * checkpoint is published when stored, but a witnessed log's, which
 * store_set_published() holds back until its witnesses cosigned it.
 */
int	store_published(struct store *st, int64_t log, struct evbuffer *note,
	    int64_t *size, uint8_t root[STORE_HASH_SIZE]);
int	store_set_published(struct store *st, int64_t log, int64_t size,
	    int published);
/* When the newest checkpoint of log was stored (Unix seconds). */
int	store_latest_time(struct store *st, int64_t log, int64_t *created);
/* The checkpoint of log at size: its note appended to note, its root. */
int	store_checkpoint(struct store *st, int64_t log, int64_t size,
	    struct evbuffer *note, uint8_t root[STORE_HASH_SIZE]);

/*
 * Add a checkpoint (a trust base): its note, and unless prev is -1 the
 * consistency proof (hashes, prooflen bytes) from checkpoint prev, and
 * where it came from (NULL: signed here).
 */
int	store_add_checkpoint(struct store *st, int64_t log, int64_t size,
	    const uint8_t root[STORE_HASH_SIZE], const uint8_t *note,
	    size_t len, int64_t prev, const uint8_t *proof, size_t prooflen,
	    const char *source);

/* Keep the evidence of a refusal: raw bytes, source, time. */
int	store_add_evidence(struct store *st, int64_t log, const char *kind,
	    const char *source, const char *detail, const uint8_t *old,
	    size_t oldlen, const uint8_t *new, size_t newlen,
	    const uint8_t *material, size_t matlen);

/* The number of evidence rows of log of this kind into *n.  0 or -1. */
int	store_count_evidence(struct store *st, int64_t log, const char *kind,
	    int64_t *n);

/*
 * Whether log is frozen (1, with its reason), 0, or -1.  Setting a NULL
 * reason thaws it.
 */
int	store_frozen(struct store *st, int64_t log, char *reason, size_t size);
int	store_set_frozen(struct store *st, int64_t log, const char *reason);

/* A full mirror's progress: the first record not yet stored. */
int	store_full_next(struct store *st, int64_t log, int64_t *next);
int	store_set_full_next(struct store *st, int64_t log, int64_t next);

/*
 * The TUF repository: metadata files by (role, version), immutable once
 * put; version -1 gets the newest, whose version goes to *got.
 */
int	store_tuf_put(struct store *st, const char *role, int64_t version,
	    const uint8_t *p, size_t len);
int	store_tuf_get(struct store *st, const char *role, int64_t version,
	    struct evbuffer *out, int64_t *got);

/* Target files by path and hex sha256; putting one again is a no-op. */
int	store_target_put(struct store *st, const char *path,
	    const char *sha256, const uint8_t *p, size_t len);
int	store_target_get(struct store *st, const char *path,
	    const char *sha256, struct evbuffer *out);

/*
 * For fsck: every checkpoint of log in size order (root NULL when
 * malformed; prev -1 when it has no proof), every record in id order,
 * and SQLite's own integrity check (fn called per problem; returns
 * their count).  fn returning non-zero stops an iteration.
 */
int	store_each_checkpoint(struct store *st, int64_t log,
	    int (*fn)(void *, int64_t, const uint8_t *, const uint8_t *,
	    size_t, int64_t, const uint8_t *, size_t), void *arg);
int	store_each_record(struct store *st, int64_t log,
	    int (*fn)(void *, int64_t, const char *, const char *,
	    const uint8_t *, size_t), void *arg);
int	store_integrity(struct store *st, void (*fn)(void *, const char *),
	    void *arg);

/* A blob column: bytes valid during the callback. */
struct store_blob {
	const void	*p;
	size_t		 len;
};

/* Private-path lookups that reached a mirror, per client address. */
int	store_add_privacy(struct store *st, int64_t log, const char *addr,
	    int64_t count, int64_t when, const char *path);
int	store_each_privacy(struct store *st, int (*fn)(void *arg,
	    const char *db, const char *addr, int64_t count, int64_t first,
	    int64_t last, const char *path), void *arg);

/*
 * Evidence rows (all when id < 0) in id order: id, database, kind,
 * source, time, detail, and old note, new note, material.
 */
int	store_each_evidence(struct store *st, int64_t id,
	    int (*fn)(void *, int64_t, const char *, const char *,
	    const char *, int64_t, const char *, const struct store_blob *),
	    void *arg);

/*
 * Provenance of the private log's public records: record id of log is
 * record upstream_id of the mirror log upstream, verified in its trust
 * base of size upstream_tree.  store_provenance() returns 1 found, 0
 * none, -1; store_each_provenance() calls fn(arg, id, upstream,
 * upstream_id, upstream_tree) in id order until fn returns non-zero.
 */
int	store_add_provenance(struct store *st, int64_t log, int64_t id,
	    int64_t upstream, int64_t upstream_id, int64_t upstream_tree);
int	store_provenance(struct store *st, int64_t log, int64_t id,
	    int64_t *upstream, int64_t *upstream_id, int64_t *upstream_tree);
int	store_each_provenance(struct store *st, int64_t log,
	    int (*fn)(void *, int64_t, int64_t, int64_t, int64_t), void *arg);
/* The name of log id into name: 1, 0 no such log, -1. */
int	store_log_name(struct store *st, int64_t id, char *name, size_t size);

/*
 * The witness's state for log origin: the size and root it last
 * cosigned, and (if note is not NULL) that checkpoint as it serves it.
 * store_witness_get() returns 1, 0 (never cosigned one) or -1.
 * store_witness_set() replaces it (in the caller's transaction, which
 * also read it: the check and the update are one); 0 or -1.
 */
int	store_witness_get(struct store *st, const char *origin,
	    int64_t *size, uint8_t root[STORE_HASH_SIZE],
	    struct evbuffer *note);
int	store_witness_set(struct store *st, const char *origin,
	    int64_t size, const uint8_t root[STORE_HASH_SIZE],
	    const uint8_t *note, size_t len, int64_t time);

/*
 * The trust base of log that follows the one of size prev in the chain
 * (the smallest stored with prev as its predecessor): its size, its
 * note and its consistency proof from prev appended.  1, 0 none, -1.
 */
int	store_next_checkpoint(struct store *st, int64_t log, int64_t prev,
	    int64_t *size, struct evbuffer *note, struct evbuffer *proof);
/*
 * Append a signature line (a witness's cosignature) to the note of the
 * checkpoint of log at size; 0 or -1.
 */
int	store_cosign_checkpoint(struct store *st, int64_t log, int64_t size,
	    const char *line, size_t len);

/*
 * Copy every row of every table of from (the lease excepted) into to,
 * which must hold none: each table in key order, in one transaction of
 * to's, fn(arg, table, rows) after each; then read both again and
 * compare every column of every row, byte for byte.  SQLite to
 * PostgreSQL and back.  0, or -1 (store_errmsg(to) says why).
 */
int	store_copy(struct store *from, struct store *to,
	    void (*fn)(void *, const char *, int64_t), void *arg);

#endif /* STORE_H */
