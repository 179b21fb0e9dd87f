/*
 * privlog.c: records on demand, the way sum.golang.org works.  A worker
 * whose lookup misses hands it to the main thread, which owns the
 * private log's writer: lookups of the same module version wait on one
 * fetch from the GOPROXY (modfetch.c); hashed versions collect in a
 * batch that is appended and signed once (logw.c) after batch_delay;
 * each result goes back to the worker that holds the request.
 */

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "store.h"
#include "sumdb.h"

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	struct env		*env;
	struct db		*db;
	struct newrec		 rec;
	struct misslist		 waiters;
};

/* Main thread: send m's result back to its worker. */
void
miss_answer(struct missreq *m, int status, int64_t id, const char *err)
{
	struct worker	*w = m->w;

	m->status = status;
	m->id = id;
	snprintf(m->err, sizeof(m->err), "%s", err != NULL ? err : "");
	pthread_mutex_lock(&w->mu);
	TAILQ_INSERT_TAIL(&w->done, m, entry);
	pthread_mutex_unlock(&w->mu);
	event_active(w->done_ev, EV_READ, 0);
}

/* Answer every waiter of p and forget it. */
static void
pending_answer(struct pending *p, int status, int64_t id, const char *err)
{
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, m, entry);
		miss_answer(m, status, id, err);
	}
	free(p);
}

static void
batch_run(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env;
	struct pending	*p;
	struct newrec	*recs;
	size_t		 n = 0, i;
	int		 r;

	(void)fd;
	(void)ev;
	if ((p = TAILQ_FIRST(&db->ready)) == NULL)
		return;
	env = p->env;
	TAILQ_FOREACH(p, &db->ready, entry)
		n++;
	if ((recs = calloc(n, sizeof(*recs))) == NULL) {
		log_warn("batch");
		r = -1;
	} else {
		i = 0;
		TAILQ_FOREACH(p, &db->ready, entry)
			recs[i++] = p->rec;
		r = logw_append(env, db, recs, n);
	}
	for (i = 0; (p = TAILQ_FIRST(&db->ready)) != NULL; i++) {
		TAILQ_REMOVE(&db->ready, p, entry);
		if (r != 0)
			pending_answer(p, db->broken ? 503 : 500, -1,
			    db->broken ? "log is frozen: it refused to sign" :
			    "internal error");
		else if (recs[i].status != 0 && recs[i].id < 0) {
			log_warnx("%s", recs[i].reason);
			pending_answer(p, 502, -1, recs[i].reason);
		} else {
			/* A conflicting hash: the first logged record stands. */
			if (recs[i].status != 0)
				log_warnx("%s; the GOPROXY now serves other "
				    "content", recs[i].reason);
			pending_answer(p, 200, recs[i].id, NULL);
		}
	}
	free(recs);
}

static void
fetched(int status, const char *ziphash, const char *modhash, const char *err,
    void *arg)
{
	struct pending	*p = arg;
	struct db	*db = p->db;
	struct timeval	 tv;

	TAILQ_REMOVE(&db->fetching, p, entry);
	if (status != 200) {
		log_info("%s@%s: %s", p->rec.path, p->rec.version, err);
		pending_answer(p, status == 404 ? 404 : 502, -1, err);
		return;
	}
	snprintf(p->rec.ziphash, sizeof(p->rec.ziphash), "%s", ziphash);
	snprintf(p->rec.modhash, sizeof(p->rec.modhash), "%s", modhash);
	p->rec.id = -1;
	TAILQ_INSERT_TAIL(&db->ready, p, entry);
	if (!evtimer_pending(db->batch_ev, NULL)) {
		tv.tv_sec = p->env->conf.log_batch_delay / 1000;
		tv.tv_usec = (p->env->conf.log_batch_delay % 1000) * 1000;
		evtimer_add(db->batch_ev, &tv);
	}
}

static struct pending *
find(struct pendinglist *l, const char *path, const char *version)
{
	struct pending	*p;

	TAILQ_FOREACH(p, l, entry)
		if (strcmp(p->rec.path, path) == 0 &&
		    strcmp(p->rec.version, version) == 0)
			return p;
	return NULL;
}

/* Main thread: take one miss: logged since, in flight, or new. */
static void
miss_take(struct env *env, struct db *db, struct missreq *m)
{
	struct pending	*p;
	int64_t		 id;
	int		 r;

	if (db->broken) {
		miss_answer(m, 503, -1, "log is frozen: it refused to sign");
		return;
	}
	if ((r = store_lookup(env->st, db->log, m->path, m->version, &id,
	    NULL)) != 0) {
		if (r < 0)
			log_warnx("lookup: %s", store_errmsg(env->st));
		miss_answer(m, r < 0 ? 500 : 200, id, "internal error");
		return;
	}
	if ((p = find(&db->fetching, m->path, m->version)) != NULL ||
	    (p = find(&db->ready, m->path, m->version)) != NULL) {
		TAILQ_INSERT_TAIL(&p->waiters, m, entry);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		miss_answer(m, 500, -1, "out of memory");
		return;
	}
	p->env = env;
	p->db = db;
	snprintf(p->rec.path, sizeof(p->rec.path), "%s", m->path);
	snprintf(p->rec.version, sizeof(p->rec.version), "%s", m->version);
	TAILQ_INIT(&p->waiters);
	TAILQ_INSERT_TAIL(&p->waiters, m, entry);
	TAILQ_INSERT_TAIL(&db->fetching, p, entry);
	if (modfetch(env, env->conf.log_goproxy, m->path, m->version, fetched,
	    p) != 0) {
		TAILQ_REMOVE(&db->fetching, p, entry);
		pending_answer(p, 500, -1, "internal error");
	}
}

/* Main thread: the misses the workers queued. */
static void
miss_run(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;
	struct misslist	 l;
	struct missreq	*m;

	(void)fd;
	(void)ev;
	TAILQ_INIT(&l);
	pthread_mutex_lock(&env->missmu);
	TAILQ_CONCAT(&l, &env->misses, entry);
	pthread_mutex_unlock(&env->missmu);
	while ((m = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, m, entry);
		if (m->db->kind == DB_MIRROR)
			mirror_miss(env, m->db, m);
		else
			miss_take(env, m->db, m);
	}
}

/*
 * Worker thread: hand a miss to the main thread: a lookup of a @ b, or
 * (mirrors) the tile whose path is a.
 */
void
privlog_miss(struct worker *w, struct db *db, struct hreq *req,
    int kind, const char *a, const char *b)
{
	struct env	*env = w->env;
	struct missreq	*m;

	if (db->kind == DB_PRIVATE && !w->conf.goproxy) {
		http_error(req, 404, "not found: %s@%s is not in the log",
		    a, b);
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	m->w = w;
	m->db = db;
	m->req = req;
	m->kind = kind;
	if (kind == MISS_TILE)
		snprintf(m->tilepath, sizeof(m->tilepath), "%s", a);
	else {
		snprintf(m->path, sizeof(m->path), "%s", a);
		snprintf(m->version, sizeof(m->version), "%s", b);
	}
	pthread_mutex_lock(&env->missmu);
	TAILQ_INSERT_TAIL(&env->misses, m, entry);
	pthread_mutex_unlock(&env->missmu);
	event_active(env->miss_ev, EV_READ, 0);
}

/* Worker thread: reply to the misses the main thread answered. */
void
privlog_done(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct misslist	 l;
	struct missreq	*m;

	(void)fd;
	(void)ev;
	TAILQ_INIT(&l);
	pthread_mutex_lock(&w->mu);
	TAILQ_CONCAT(&l, &w->done, entry);
	pthread_mutex_unlock(&w->mu);
	while ((m = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, m, entry);
		if (m->status != 200)
			http_error(m->req, m->status, "%s", m->err);
		else if (m->kind == MISS_TILE)
			serve_tile_stored(w, m->db, m->req, m->tilepath);
		else
			serve_record(w, m->db, m->req, m->id);
		free(m);
	}
}

int
privlog_init(struct env *env)
{
	pthread_mutex_init(&env->missmu, NULL);
	TAILQ_INIT(&env->misses);
	if ((env->miss_ev = event_new(env->base, -1, 0, miss_run, env)) ==
	    NULL || (env->log != NULL && (env->log->batch_ev =
	    evtimer_new(env->base, batch_run, env->log)) == NULL)) {
		log_warnx("privlog: out of memory");
		return -1;
	}
	return 0;
}

/* After the workers stopped: nobody is left to answer. */
static void
pending_drop(struct pending *p)
{
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, m, entry);
		free(m);
	}
	free(p);
}

void
privlog_free(struct env *env)
{
	struct db	*db = env->log;
	struct pending	*p;
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&env->misses)) != NULL) {
		TAILQ_REMOVE(&env->misses, m, entry);
		free(m);
	}
	if (env->miss_ev != NULL)
		event_free(env->miss_ev);
	env->miss_ev = NULL;
	if (db == NULL)
		return;
	/* Fetches in flight keep their pending until they call back. */
	while ((p = TAILQ_FIRST(&db->ready)) != NULL) {
		TAILQ_REMOVE(&db->ready, p, entry);
		pending_drop(p);
	}
	if (db->batch_ev != NULL)
		event_free(db->batch_ev);
	db->batch_ev = NULL;
}
