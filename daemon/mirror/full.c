/*
 * full.c: full mode: the whole upstream log, FULL_SEGMENT data tiles at
 * a time, each verified against its subtree hash authenticated by the
 * newest trust base and stored with its hash tile in one transaction
 * with the progress, so that a sync resumes where it stopped.  The main
 * thread fetches and verifies a segment while the store thread
 * (storew.c) stores the one before: seg_store() alone runs there.
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

/*
 * A verified segment on its way to the store thread: the bytes of its
 * data tiles and their level-0 hash tiles, records from to next new.
 */
struct seg {
	struct storew_job	 job;
	struct db		*db;
	int64_t			 k0;		/* first data tile */
	int			 ntiles;
	int			 w;		/* records in the last tile */
	int64_t			 from, next;
	int			 index;		/* caught up: index in bulk */
	size_t			 off[FULL_SEGMENT + 2];	/* tile i's bytes */
	uint8_t			*data;
	uint8_t			(*leaves)[SUMDB_HASH_SIZE];	/* 256 a tile */
	struct tilemem		*kept;		/* hash tiles authenticated */
	size_t			 nkept;
	struct dups		 dups;
	int64_t			 indexed;	/* indexed before this */
	double			 index_secs;
	char			 err[256];
};

static void
seg_free(struct seg *s)
{
	free(s->data);
	free(s->leaves);
	tiles_mem_free(s->kept, s->nkept);
	free(s);
}

/*
 * The store thread: segment s in one transaction with the progress,
 * then, once the sync has caught up with its trust base, the lookup
 * index in bulk.  Only after the segment before it (progress at from).
 */
static int
seg_store(struct store *st, void *arg)
{
	struct seg	*s = arg;
	int64_t		 log = s->db->log, at;
	size_t		 k;
	double		 t0;
	int		 i, tw;

	if (store_begin(st, 0) != 0)
		goto fail;
	if (store_full_next(st, log, &at) != 0)
		goto fail;
	if (at != s->from) {
		snprintf(s->err, sizeof(s->err), "segment from record %lld "
		    "but the store is at %lld", (long long)s->from,
		    (long long)at);
		goto rollback;
	}
	for (k = 0; k < s->nkept; k++)
		if (store_put_tile(st, log, s->kept[k].t.l, s->kept[k].t.n,
		    s->kept[k].data, s->kept[k].len) != 0)
			goto fail;
	for (i = 0; i < s->ntiles; i++) {
		tw = i < s->ntiles - 1 ? 256 : s->w;
		if (store_put_texts(st, log, (s->k0 + i) << 8, s->data +
		    s->off[i], s->off[i + 1] - s->off[i]) != 0 ||
		    store_put_tile(st, log, 0, s->k0 + i,
		    (uint8_t *)s->leaves[(size_t)i * 256],
		    (size_t)tw * SUMDB_HASH_SIZE) != 0)
			goto fail;
	}
	if (store_set_full_next(st, log, s->next) != 0)
		goto fail;
	if (s->index) {
		t0 = mono();
		if (store_indexed(st, log, &s->indexed) != 0 ||
		    store_index(st, log, s->next, conflict, &s->dups) != 0)
			goto fail;
		s->index_secs = mono() - t0;
	}
	if (store_commit(st) != 0)
		goto fail;
	/* Caught up: the page cache the bulk build used goes back. */
	if (s->index)
		(void)store_cache(st, 16384);
	return 0;
 fail:
	snprintf(s->err, sizeof(s->err), "%s", store_errmsg(st));
 rollback:
	store_rollback(st);
	return -1;
}

/* Full mode: log the progress now and then, and at the end. */
static void
progress(struct db *db)
{
	double	 t = mono(), dt = t - db->full_t0;

	if (db->full_t0 == 0)
		return;
	if (dt > 0)
		__atomic_store_n(&db->full_rate, (int64_t)((db->full_next -
		    db->full_n0) / dt), __ATOMIC_RELAXED);
	if (db->full_next >= db->size || t - db->full_log >= 5) {
		db->full_log = t;
		log_info("mirror '%s': full: %lld of %lld records, %lld "
		    "records/s, ETA %lld s", db->name,
		    (long long)db->full_next, (long long)db->size,
		    (long long)db->full_rate, db->full_rate > 0 ?
		    (long long)((db->size - db->full_next) / db->full_rate) :
		    0LL);
	}
}

/*
 * Once nothing is in flight after a failure: again from what is stored
 * (which a bundle import may also have moved).
 */
void
full_reset(struct db *db)
{
	int64_t	 stored = db->full_next;

	if (db->full_inflight > 0 || db->full_job != NULL)
		return;
	if (store_full_next(db->env->st, db->log, &stored) != 0)
		stored = db->full_next;
	__atomic_store_n(&db->full_next, stored, __ATOMIC_RELAXED);
	db->full_failed = 0;
	db->full_queued = db->full_next;
	db->full_t0 = 0;
}

/* Main thread: segment s stored (rv 0) or not. */
static void
seg_done(void *arg, int rv)
{
	struct seg	*s = arg;
	struct db	*db = s->db;

	db->full_inflight--;
	if (rv != 0) {
		if (!db->full_failed)
			log_warnx("mirror '%s': full sync stopped at record "
			    "%lld: %s; it resumes at the next poll", db->name,
			    (long long)s->from, s->err[0] != '\0' ? s->err :
			    "sumdbd is stopping");
		db->full_failed = 1;
	} else {
		__atomic_store_n(&db->full_next, s->next, __ATOMIC_RELAXED);
		__atomic_add_fetch(&db->added, s->next - s->from,
		    __ATOMIC_RELAXED);
		if (s->index && s->next - s->indexed > 65536)
			log_info("mirror '%s': records %lld to %lld indexed "
			    "for lookups in %.1f s", db->name,
			    (long long)s->indexed, (long long)s->next - 1,
			    s->index_secs);
		progress(db);
	}
	seg_free(s);
	(void)db_refresh(db->env, db);
	if (db->full_failed)
		full_reset(db);
	else if (db->full_inflight == 0 && db->full_job == NULL &&
	    db->full_next >= db->size) {
		db->full_t0 = 0;
		store_cache(db->env->st, 4096);
		malloc_trim(0);
	} else
		full_start(db);
}

/*
 * Full mode: a segment of data tiles from record db->full_queued, each
 * verified against its subtree hash authenticated by the newest trust
 * base (or, for the last partial tile, against its authenticated
 * leaves), then handed to the store thread, which stores it with its
 * level-0 hash tiles in one transaction while the next is fetched.
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
	struct seg		*s = NULL;
	int64_t			 idx[FULL_SEGMENT + 1], k0, k, next;
	int64_t			 nfull, leafidx[256];
	uint8_t			 h[FULL_SEGMENT + 1][SUMDB_HASH_SIZE];
	uint8_t			 lh[256][SUMDB_HASH_SIZE];
	uint8_t			 root[SUMDB_HASH_SIZE];
	uint8_t			(*leaves)[SUMDB_HASH_SIZE];
	size_t			 len, total;
	int			 i, n, w, r, rv = V_ERROR, miss = 0, resume;

	if (db->full_failed)
		return V_ERROR;
	if (store_latest(env->st, db->log, NULL, &tb.n, tb.hash) != 1)
		goto done;
	next = db->full_queued;
	k0 = next >> SUMDB_TILE_HEIGHT;
	nfull = (tb.n >> SUMDB_TILE_HEIGHT) - k0;
	if (nfull > FULL_SEGMENT)
		nfull = FULL_SEGMENT;
	/* After a restart, check the last stored tile again first. */
	resume = !db->full_checked && k0 > 0 && (next & 255) == 0 &&
	    db->full_inflight == 0;
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
	total = 0;
	for (k = 0; k < nfull + (w > 0); k++)
		total += tiles_overlay_find(&j->tiles, -1, k0 + k)->len;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->data = malloc(total + 1)) == NULL ||
	    (s->leaves = calloc((size_t)(nfull + 1) * 256,
	    SUMDB_HASH_SIZE)) == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		goto done;
	}
	s->db = db;
	s->dups.db = db;
	s->k0 = k0;
	s->from = next;
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
		leaves = s->leaves + k * 256;
		for (i = 0; i < tw; i++)
			tlog_record_hash(recs[i].p, recs[i].len, leaves[i]);
		if (k < nfull) {
			tile_data_hash((uint8_t *)leaves, 256 *
			    SUMDB_HASH_SIZE, root);
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
		len = (size_t)(recs[tw - 1].p + recs[tw - 1].len + 1 -
		    m->data);
		memcpy(s->data + s->off[k], m->data, len);
		s->off[k + 1] = s->off[k] + len;
		s->ntiles++;
		s->w = tw;
	}
	s->next = ((k0 + nfull) << 8) + w;
	/*
	 * Lookups find the records once indexed: in bulk when the sync
	 * has caught up with the trust base, in the segment's transaction.
	 */
	s->index = s->next >= tb.n;
	s->kept = tiles_take_kept(&j->tiles, &s->nkept);
	s->job.run = seg_store;
	s->job.done = seg_done;
	s->job.arg = s;
	if (storew_submit(env, &s->job) != 0) {
		snprintf(j->err, sizeof(j->err), "cannot start the store "
		    "thread");
		goto done;
	}
	db->full_queued = s->next;
	db->full_inflight++;
	db->full_checked = 1;
	s = NULL;
	rv = V_OK;
 done:
	if (s != NULL)
		seg_free(s);
	return rv;
}

/*
 * Full mode: the next segment, unless one is being fetched, FULL_AHEAD
 * wait for the store thread, or all is stored.
 */
void
full_start(struct db *db)
{
	struct mjob	*j;

	/* The writer node syncs; the others serve what it stored. */
	if (db->full_job != NULL || db->frozen || db->full_failed ||
	    db->full_queued >= db->size || db->full_inflight >= FULL_AHEAD ||
	    db->env->stop_at > 0 || !env_writer(db->env))
		return;
	if ((j = job_new(db->env, db, J_FULL)) == NULL)
		return;
	snprintf(j->key, sizeof(j->key), "full");
	/* The hash tiles it authenticates go with its segment. */
	j->tiles.save = 0;
	j->tiles.keep = 1;
	db->full_job = j;
	if (db->full_t0 == 0) {
		db->full_t0 = mono();
		db->full_n0 = db->full_next;
		db->full_log = db->full_t0;
		log_info("mirror '%s': full sync from record %lld to %lld",
		    db->name, (long long)db->full_next, (long long)db->size);
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

	db->full_job = NULL;
	if (r != V_OK) {
		if (!db->full_failed)
			log_warnx("mirror '%s': full sync stopped at record "
			    "%lld; it resumes at the next poll", db->name,
			    (long long)db->full_queued);
		/* What is in flight is stored; then again from the store. */
		db->full_failed = 1;
		full_reset(db);
		return;
	}
	event_base_once(db->env->base, -1, EV_TIMEOUT, next_segment, db,
	    &tv);
}
