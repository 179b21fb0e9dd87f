/*
 * full.c: full mode: the whole upstream log, FULL_SEGMENT data tiles at
 * a time from db->full_next, each verified against its subtree hash
 * authenticated by the newest trust base and stored with its hash tile
 * in one transaction with the progress, so that a sync resumes where it
 * stopped.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "store.h"

/*
 * Full mode after a restart: the last stored level-0 tile k must still
 * hash to its signed subtree hash h.  0, or -1 (logged: the store is
 * damaged).
 */
static int
resumed(struct mjob *j, int64_t k, const uint8_t h[SUMDB_HASH_SIZE])
{
	struct db	*db = j->db;
	struct evbuffer	*b;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int		 r;

	if ((b = evbuffer_new()) == NULL)
		return -1;
	r = store_tile(j->env->st, db->log, 0, k, b);
	if (r == 1 && evbuffer_get_length(b) == 256 * SUMDB_HASH_SIZE)
		tile_data_hash(evbuffer_pullup(b, -1), 256 * SUMDB_HASH_SIZE,
		    root);
	if (r != 1 || evbuffer_get_length(b) != 256 * SUMDB_HASH_SIZE ||
	    memcmp(root, h, SUMDB_HASH_SIZE) != 0) {
		evbuffer_free(b);
		log_warnx("mirror '%s': stored tile %lld does not match the "
		    "signed tree: the store is damaged; run sumdbd fsck",
		    db->name, (long long)k);
		return -1;
	}
	evbuffer_free(b);
	db->full_checked = 1;
	return 0;
}

struct dups {
	struct db	*db;
	int64_t		 n;
};

/* store_index(): a record logged twice upstream; lookups keep the first. */
static void
conflict(void *arg, int64_t id, int64_t first)
{
	struct dups	*d = arg;

	__atomic_add_fetch(&d->db->refusals[R_CONFLICT], 1, __ATOMIC_RELAXED);
	if (d->n++ == 0)
		log_warnx("mirror '%s': record %lld names the module version "
		    "of record %lld; lookups keep the first", d->db->name,
		    (long long)id, (long long)first);
}

/* store_index() up to next, logged when it is a bulk build. */
static int
index_upto(struct db *db, int64_t next, struct dups *dups)
{
	struct store	*st = db->env->st;
	int64_t		 from;
	double		 t0 = mono();

	if (store_indexed(st, db->log, &from) != 0 ||
	    store_index(st, db->log, next, conflict, dups) != 0)
		return -1;
	if (next - from > 65536)
		log_info("mirror '%s': records %lld to %lld indexed for "
		    "lookups in %.1f s", db->name, (long long)from,
		    (long long)next - 1, mono() - t0);
	return 0;
}

/*
 * Full mode: a segment of data tiles from record db->full_next, each
 * verified against its subtree hash authenticated by the newest trust
 * base (or, for the last partial tile, against its authenticated
 * leaves), then stored with its level-0 hash tile in one transaction.
 */
int
verify_full(struct mjob *j)
{
	struct env		*env = j->env;
	struct db		*db = j->db;
	struct tlog_tree	 tb;
	struct tile		 dt = { SUMDB_TILE_HEIGHT, -1, 0, 0 };
	const struct tilemem	*m;
	struct span		 recs[256];
	int64_t			 idx[FULL_SEGMENT + 1], k0, k, next;
	int64_t			 nfull, leafidx[256];
	uint8_t			 h[FULL_SEGMENT + 1][SUMDB_HASH_SIZE];
	uint8_t			 leaves[256][SUMDB_HASH_SIZE];
	uint8_t			 lh[256][SUMDB_HASH_SIZE];
	uint8_t			 root[SUMDB_HASH_SIZE];
	int			 i, n, w, r, rv = V_ERROR, miss = 0, resume;
	int64_t			 nadd = 0;
	struct dups		 dups = { db, 0 };

	/*
	 * Not synced to disk at each segment: WAL keeps the store
	 * consistent through a crash, the progress is in the same
	 * transaction, and a lost segment is fetched again.
	 */
	if (store_begin(env->st, 0) != 0)
		return V_ERROR;
	if (store_latest(env->st, db->log, NULL, &tb.n, tb.hash) != 1 ||
	    store_full_next(env->st, db->log, &next) != 0)
		goto done;
	k0 = next >> SUMDB_TILE_HEIGHT;
	nfull = (tb.n >> SUMDB_TILE_HEIGHT) - k0;
	if (nfull > FULL_SEGMENT)
		nfull = FULL_SEGMENT;
	/* After a restart, check the last stored tile again first. */
	resume = !db->full_checked && k0 > 0 && (next & 255) == 0;
	n = 0;
	if (resume)
		idx[n++] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT, k0 - 1);
	for (k = 0; k < nfull; k++)
		idx[n++] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT, k0 + k);
	if (n > 0 && (rv = job_signed_hashes(j, &tb, idx, n, h)) != V_OK)
		goto done;
	rv = V_ERROR;
	if (resume && resumed(j, k0 - 1, h[0]) != 0)
		goto done;
	/* The data tiles, all fetched before anything is stored. */
	for (k = 0; k < nfull; k++)
		if (tiles_overlay_find(&j->tiles, -1, k0 + k) == NULL) {
			dt.n = k0 + k;
			dt.w = 256;
			if (job_need_tile(j, &dt) != V_MISSING)
				goto done;
			miss = 1;
		}
	w = 0;
	if (nfull < FULL_SEGMENT && (tb.n & 255) != 0 &&
	    k0 + nfull == tb.n >> SUMDB_TILE_HEIGHT) {
		/* The right edge: a partial tile of w records. */
		w = (int)(tb.n & 255);
		for (i = 0; i < w; i++)
			leafidx[i] = tlog_stored_hash_index(0,
			    ((k0 + nfull) << 8) + i);
		if ((rv = job_signed_hashes(j, &tb, leafidx, w, lh)) != V_OK)
			goto done;
		rv = V_ERROR;
		if ((m = tiles_overlay_find(&j->tiles, -1, k0 + nfull)) ==
		    NULL || m->t.w != w) {
			dt.n = k0 + nfull;
			dt.w = w;
			if (job_need_tile(j, &dt) != V_MISSING)
				goto done;
			miss = 1;
		}
	}
	if (miss) {
		rv = V_MISSING;
		goto done;
	}
	for (k = 0; k <= nfull; k++) {
		int	 tw = k < nfull ? 256 : w;

		if (tw == 0)
			break;
		m = tiles_overlay_find(&j->tiles, -1, k0 + k);
		if (record_split_data_tile(m->data, m->len, tw, recs) != 0) {
			job_evidence(j, R_MALFORMED, NULL, 0, NULL, 0, m->data,
			    m->len, "malformed data tile %lld",
			    (long long)(k0 + k));
			rv = V_REFUSED;
			goto done;
		}
		for (i = 0; i < tw; i++)
			tlog_record_hash(recs[i].p, recs[i].len, leaves[i]);
		if (k < nfull) {
			tile_data_hash((uint8_t *)leaves, sizeof(leaves), root);
			r = memcmp(root, h[resume + k], SUMDB_HASH_SIZE);
		} else
			r = memcmp(leaves, lh, (size_t)tw * SUMDB_HASH_SIZE);
		if (r != 0) {
			job_evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, m->data,
			    m->len, "data tile %lld does not match tree %lld",
			    (long long)(k0 + k), (long long)tb.n);
			rv = V_REFUSED;
			goto done;
		}
		/* The records' texts, the bytes verified. */
		if (store_put_texts(env->st, db->log, (k0 + k) << 8, m->data,
		    (size_t)(recs[tw - 1].p + recs[tw - 1].len + 1 - m->data))
		    != 0 || store_put_tile(env->st, db->log, 0, k0 + k,
		    (uint8_t *)leaves, (size_t)tw * SUMDB_HASH_SIZE) != 0)
			goto done;
		nadd += (((k0 + k) << 8) + tw) - (next > ((k0 + k) << 8) ?
		    next : ((k0 + k) << 8));
	}
	next = ((k0 + nfull) << 8) + w;
	/*
	 * Lookups find the records once indexed: in bulk when the sync
	 * has caught up with the trust base, in this transaction.
	 */
	if (store_set_full_next(env->st, db->log, next) != 0 ||
	    (next >= tb.n && index_upto(db, next, &dups) != 0) ||
	    store_commit(env->st) != 0)
		goto done;
	__atomic_store_n(&db->full_next, next, __ATOMIC_RELAXED);
	__atomic_add_fetch(&db->added, nadd, __ATOMIC_RELAXED);
	rv = V_OK;
 done:
	if (rv != V_OK)
		store_rollback(env->st);
	return rv;
}

/* Full mode: the next segment, unless one runs or all is stored. */
void
full_start(struct db *db)
{
	struct mjob	*j;

	if (db->full_job != NULL || db->frozen || db->full_next >= db->size)
		return;
	if ((j = job_new(db->env, db, J_FULL)) == NULL)
		return;
	snprintf(j->key, sizeof(j->key), "full");
	db->full_job = j;
	if (db->full_t0 == 0) {
		/*
		 * Appended tiles want little page cache, the bulk index a
		 * little more; serving wants less still.
		 */
		store_cache(db->env->st, 16384);
		db->full_t0 = mono();
		db->full_n0 = db->full_next;
		db->full_log = db->full_t0;
	}
	job_run(j);
}

static void
next_segment(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	full_start(arg);
}

void
full_done(struct db *db, int r)
{
	struct timeval	 tv = { 0, 0 };
	double		 t = mono(), dt = t - db->full_t0;

	db->full_job = NULL;
	if (dt > 0)
		__atomic_store_n(&db->full_rate, (int64_t)((db->full_next -
		    db->full_n0) / dt), __ATOMIC_RELAXED);
	if (r != V_OK) {
		log_warnx("mirror '%s': full sync stopped at record %lld; it "
		    "resumes at the next poll", db->name,
		    (long long)db->full_next);
		db->full_t0 = 0;
		return;
	}
	if (db->full_next >= db->size || t - db->full_log >= 5) {
		db->full_log = t;
		log_info("mirror '%s': full: %lld of %lld records, %lld "
		    "records/s, ETA %lld s", db->name,
		    (long long)db->full_next, (long long)db->size,
		    (long long)db->full_rate, db->full_rate > 0 ?
		    (long long)((db->size - db->full_next) / db->full_rate) :
		    0LL);
	}
	if (db->full_next >= db->size) {
		db->full_t0 = 0;
		store_cache(db->env->st, 4096);
		malloc_trim(0);
		return;
	}
	event_base_once(db->env->base, -1, EV_TIMEOUT, next_segment, db,
	    &tv);
}
