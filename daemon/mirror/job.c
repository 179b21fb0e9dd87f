/*
 * job.c: a mirror's jobs and their upstream GETs.  A job fetches its
 * answer (from each upstream URL in turn until one answers), runs its
 * verification, fetches the tiles it says it lacks (at most fetch_concurrency
 * at once) and runs again, up to MAX_ROUNDS; then it answers the
 * workers' requests that wait on it and starts the next queued job.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "store.h"

static void	uget_start(struct uget *);
static int	get_next(struct mjob *);
static void	answer_got(struct uget *, int, struct evbuffer *);
static const char *upstream_url(struct db *, int);
static void	start(struct mjob *);

static void
got_tile(struct uget *u, int status, struct evbuffer *body)
{
	struct mjob	*j = u->j;
	size_t		 want = (size_t)u->t.w * SUMDB_HASH_SIZE;
	size_t		 len = body != NULL ? evbuffer_get_length(body) : 0;

	if ((status == 404 || status == 410) && !u->full &&
	    u->t.w < (1 << u->t.h)) {
		/* Older servers keep only full tiles: take a prefix. */
		struct tile	 full = u->t;

		full.w = 1 << full.h;
		u->full = 1;
		tile_format(&full, u->path, sizeof(u->path));
		uget_start(u);
		return;
	}
	if (status != 200) {
		if (!j->failed)
			snprintf(j->err, sizeof(j->err), "upstream: tile '%s': "
			    "%s", u->path, status < 0 ? "unreachable" :
			    status == 404 || status == 410 ? "not found" :
			    "error");
		j->failed = 1;
	} else if (u->t.l >= 0 && (u->full ? len != (size_t)SUMDB_HASH_SIZE <<
	    u->t.h : len != want)) {
		if (!j->failed)
			job_evidence(j, R_TILE, NULL, 0, NULL, 0,
			    evbuffer_pullup(body, -1), len, "tile '%s': %zu "
			    "bytes, want %zu", u->path, len, u->full ?
			    (size_t)SUMDB_HASH_SIZE << u->t.h : want);
		j->failed = 2;
	} else if (u->t.l < 0 && u->full) {
		/* A full data tile for a partial request: its prefix. */
		struct span	 recs[256];
		struct tile	 full = u->t;

		full.w = 1 << full.h;
		if (record_split_data_tile(evbuffer_pullup(body, -1), len,
		    full.w, recs) != 0) {
			job_evidence(j, R_MALFORMED, NULL, 0, NULL, 0,
			    evbuffer_pullup(body, -1), len,
			    "malformed data tile '%s'", u->path);
			j->failed = 2;
		} else if (tiles_overlay_add(&j->tiles, &u->t, recs[0].p,
		    (size_t)(recs[u->t.w - 1].p + recs[u->t.w - 1].len + 1 -
		    recs[0].p), 1) != 0)
			j->failed = 3;
	} else if (tiles_overlay_add(&j->tiles, &u->t,
	    evbuffer_pullup(body, -1), u->t.l < 0 ? len : want, 1) != 0)
		j->failed = 3;
	free(u);
	j->outstanding--;
	if (!j->failed && get_next(j) == 0)
		return;
	if (j->outstanding == 0) {
		if (j->failed == 2)
			job_finish(j, V_REFUSED);
		else if (j->failed)
			job_finish(j, j->failed == 3 ? V_ERROR : V_UPSTREAM);
		else
			job_run(j);
	}
}

static void
uget_done(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct uget	*u = arg;
	struct mjob	*j = u->j;

	/* Unreachable or failing: the next URL, if there is one. */
	if ((status < 0 || status >= 500) &&
	    u->urlidx + 1 < j->db->mc->nurls) {
		u->urlidx++;
		uget_start(u);
		return;
	}
	if (status < 0 && err != NULL)
		log_info("mirror '%s': %s", j->db->name, err);
	if (u->done == answer_got)
		snprintf(j->source, sizeof(j->source), "%s/%s",
		    upstream_url(j->db, u->urlidx), u->path);
	u->done(u, status, body);
}

static void
uget_start(struct uget *u)
{
	struct mjob	*j = u->j;
	struct fetchopt	 o;
	char		 url[4096], target[300];
	const char	*base = upstream_url(j->db, u->urlidx);
	size_t		 blen = strlen(base);

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	snprintf(url, sizeof(url), "%.*s/%s", (int)blen, base, u->path);
	snprintf(target, sizeof(target), "mirror %s", j->db->name);
	fetch_opt(&o, &j->db->mc->egress, target, base,
	    (int)j->db->mc->redirect_other_hosts);
	if (fetch_get(j->env, url, u->maxlen, j->db->mc->fetch_timeout, &o,
	    uget_done, u) != 0)
		u->done(u, -1, NULL);
}

/* Start the next queued tile fetch; 0, or -1 if none could start. */
static int
get_next(struct mjob *j)
{
	struct uget	*u;

	if (j->fetchnext == j->nfetchq)
		return -1;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		j->failed = 3;
		j->fetchnext = j->nfetchq;
		return -1;
	}
	u->j = j;
	u->t = j->fetchq[j->fetchnext++];
	u->maxlen = (size_t)j->db->mc->max_response;
	u->done = got_tile;
	tile_format(&u->t, u->path, sizeof(u->path));
	j->outstanding++;
	uget_start(u);
	return 0;
}

/* Fetch the missing tiles, a few at a time, then run the job again. */
static void
get_missing(struct mjob *j)
{
	free(j->fetchq);
	j->fetchq = tiles_take_missing(&j->tiles, &j->nfetchq);
	j->fetchnext = 0;
	j->failed = 0;
	j->outstanding = 0;
	while (j->outstanding < j->db->mc->fetch_concurrency &&
	    get_next(j) == 0)
		;
	if (j->outstanding == 0)
		job_finish(j, V_ERROR);
}

void
job_run(struct mjob *j)
{
	int	 r;

	tiles_reset(&j->tiles);
	switch (j->kind) {
	case J_SYNC:
		r = verify_sync(j);
		break;
	case J_LOOKUP:
		r = verify_lookup(j);
		break;
	case J_FULL:
		r = verify_full(j);
		break;
	default:
		r = verify_tile(j);
		break;
	}
	tiles_scratch_free(&j->tiles);
	if (r == V_MISSING && j->tiles.nmissing > 0 &&
	    ++j->rounds <= MAX_ROUNDS) {
		get_missing(j);
		return;
	}
	if (r == V_MISSING && j->tiles.nmissing == 0 &&
	    ++j->rounds <= MAX_ROUNDS) {
		job_run(j);
		return;
	}
	if (r == V_MISSING) {
		snprintf(j->err, sizeof(j->err), "upstream: tiles still "
		    "missing after %d rounds", MAX_ROUNDS);
		r = V_UPSTREAM;
	}
	job_finish(j, r);
}

/*
 * Upstream URL i; a SIGHUP may have shortened the list under a fetch in
 * flight.
 */
static const char *
upstream_url(struct db *db, int i)
{
	return db->mc->urls[i < db->mc->nurls ? i : db->mc->nurls - 1];
}

void
job_finish(struct mjob *j, int r)
{
	struct db	*db = j->db;
	struct mjob	*q = NULL;
	struct missreq	*m;
	int		 status;

	(void)db_refresh(j->env, db);
	if (r == V_OK)
		status = 200;
	else if (r == V_NOTFOUND)
		status = 404;
	else if (r == V_REFUSED || r == V_UPSTREAM)
		status = 502;
	else
		status = 500;
	if (r == V_UPSTREAM) {
		__atomic_add_fetch(&db->refusals[R_UPSTREAM], 1,
		    __ATOMIC_RELAXED);
		log_warnx("mirror '%s': %s", db->name, j->err);
	}
	if (r == V_ERROR && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "internal error");
	while ((m = TAILQ_FIRST(&j->waiters)) != NULL) {
		TAILQ_REMOVE(&j->waiters, m, entry);
		handoff_answer(m, status, j->want.n, j->err);
	}
	if (j->kind == J_SYNC) {
		db->sync = NULL;
		if (r == V_OK)
			__atomic_store_n(&db->verified_at, (int64_t)time(NULL),
			    __ATOMIC_RELAXED);
		sync_done(j->env, db, r);
	} else if (j->kind == J_FULL)
		full_done(db, r);
	else
		TAILQ_REMOVE(&db->jobs, j, entry);
	if (j->admitted) {
		db->nrunning--;
		TAILQ_FOREACH(q, &db->jobs, entry)
			if (q->queued)
				break;
	}
	tiles_free(&j->tiles);
	free(j->fetchq);
	if (j->answer != NULL)
		evbuffer_free(j->answer);
	free(j);
	/* The next client miss in line, now that a place is free. */
	if (q != NULL)
		job_admit(q);
}

struct mjob *
job_new(struct env *env, struct db *db, enum mkind kind)
{
	struct mjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->answer = evbuffer_new()) == NULL) {
		free(j);
		return NULL;
	}
	j->env = env;
	j->db = db;
	j->kind = kind;
	tiles_overlay_init(&j->tiles, env->st, db->log, 1);
	TAILQ_INIT(&j->waiters);
	return j;
}

/* The answer to a lookup or to /latest: keep it, then verify. */
static void
answer_got(struct uget *u, int status, struct evbuffer *body)
{
	struct mjob	*j = u->j;

	free(u);
	if (status == 404 || status == 410) {
		snprintf(j->err, sizeof(j->err), "not found: %s",
		    j->kind == J_LOOKUP ? "the upstream does not have it" :
		    "the upstream has no /latest");
		job_finish(j, V_NOTFOUND);
		return;
	}
	if (status != 200) {
		snprintf(j->err, sizeof(j->err), "upstream: '%s': %s",
		    j->source, status < 0 ? "unreachable, too large or too "
		    "slow" : "error status");
		job_finish(j, V_UPSTREAM);
		return;
	}
	evbuffer_add_buffer(j->answer, body);
	job_run(j);
}

void
job_get(struct mjob *j, const char *path, size_t maxlen)
{
	struct uget	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		job_finish(j, V_ERROR);
		return;
	}
	u->j = j;
	u->maxlen = maxlen;
	u->done = answer_got;
	snprintf(u->path, sizeof(u->path), "%s", path);
	uget_start(u);
}

/*
 * A client's job on the jobs list: start it if fewer than max_fetches
 * run, else it waits there (still found by mirror_miss) for job_finish.
 */
void
job_admit(struct mjob *j)
{
	struct db	*db = j->db;

	if (db->nrunning >= db->mc->max_fetches) {
		j->queued = 1;
		return;
	}
	j->queued = 0;
	j->admitted = 1;
	db->nrunning++;
	start(j);
}

/* A job on the jobs list: fetch its lookup answer, or verify its tile. */
static void
start(struct mjob *j)
{
	char	 ep[SUMDB_PATH_MAX * 2], ev[SUMDB_PATH_MAX * 2];
	char	 path[4600];

	if (j->kind == J_TILE) {
		job_run(j);
		return;
	}
	if (modpath_escape_path(j->path, strlen(j->path), ep, sizeof(ep)) < 0 ||
	    modpath_escape_version(j->version, strlen(j->version), ev,
	    sizeof(ev)) < 0) {
		job_finish(j, V_ERROR);
		return;
	}
	snprintf(path, sizeof(path), "lookup/%s@%s", ep, ev);
	job_get(j, path, LOOKUP_MAX);
}
