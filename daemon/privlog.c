/*
 * privlog.c: records on demand, the way sum.golang.org works.  A lookup
 * of a module version the private log lacks fetches it from the GOPROXY
 * and hashes it (modfetch.c); lookups of the same module version wait
 * on one fetch.  Hashed versions collect in a batch that is appended
 * and signed once (logw.c), after batch_delay, and then every waiting
 * request gets its record.
 */

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "sumdb.h"

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct evhttp_request	*req;
};

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	struct env		*env;
	struct db		*db;
	struct newrec		 rec;
	TAILQ_HEAD(, waiter)	 waiters;
};

static void
pending_free(struct pending *p)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, w, entry);
		free(w);
	}
	free(p);
}

/* Answer every waiter with an error and forget p. */
static void
pending_fail(struct pending *p, int code, const char *msg)
{
	struct waiter	*w;

	TAILQ_FOREACH(w, &p->waiters, entry)
		http_error(w->req, code, "%s", msg);
	pending_free(p);
}

static void
batch_run(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env;
	struct pending	*p;
	struct waiter	*w;
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
	i = 0;
	while ((p = TAILQ_FIRST(&db->ready)) != NULL) {
		TAILQ_REMOVE(&db->ready, p, entry);
		if (r != 0) {
			pending_fail(p, db->broken ? 503 : 500, db->broken ?
			    "log is frozen: it refused to sign" :
			    "internal error");
			i++;
			continue;
		}
		if (recs[i].status != 0 && recs[i].id < 0) {
			log_warnx("%s", recs[i].reason);
			pending_fail(p, 502, recs[i].reason);
			i++;
			continue;
		}
		/* A conflicting hash: the first logged record stands. */
		if (recs[i].status != 0)
			log_warnx("%s; the GOPROXY now serves other content",
			    recs[i].reason);
		TAILQ_FOREACH(w, &p->waiters, entry)
			serve_record(env, db, w->req, recs[i].id);
		pending_free(p);
		i++;
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
		pending_fail(p, status == 404 ? 404 : 502, err);
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

void
privlog_miss(struct env *env, struct db *db, struct evhttp_request *req,
    const char *path, const char *version)
{
	struct pending	*p;
	struct waiter	*w;

	if (db->broken) {
		http_error(req, 503, "log is frozen: it refused to sign");
		return;
	}
	if (env->conf.log_goproxy == NULL) {
		http_error(req, 404, "not found: %s@%s is not in the log",
		    path, version);
		return;
	}
	if (db->batch_ev == NULL &&
	    (db->batch_ev = evtimer_new(env->base, batch_run, db)) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	w->req = req;
	if ((p = find(&db->fetching, path, version)) != NULL ||
	    (p = find(&db->ready, path, version)) != NULL) {
		TAILQ_INSERT_TAIL(&p->waiters, w, entry);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		free(w);
		http_error(req, 500, "out of memory");
		return;
	}
	p->env = env;
	p->db = db;
	snprintf(p->rec.path, sizeof(p->rec.path), "%s", path);
	snprintf(p->rec.version, sizeof(p->rec.version), "%s", version);
	TAILQ_INIT(&p->waiters);
	TAILQ_INSERT_TAIL(&p->waiters, w, entry);
	TAILQ_INSERT_TAIL(&db->fetching, p, entry);
	if (modfetch(env, env->conf.log_goproxy, path, version, fetched, p) !=
	    0) {
		TAILQ_REMOVE(&db->fetching, p, entry);
		pending_fail(p, 500, "internal error");
	}
}

void
privlog_free(struct db *db)
{
	struct pending	*p;

	/* Fetches in flight keep their pending; only the batch goes. */
	while ((p = TAILQ_FIRST(&db->ready)) != NULL) {
		TAILQ_REMOVE(&db->ready, p, entry);
		pending_fail(p, 503, "shutting down");
	}
	if (db->batch_ev != NULL)
		event_free(db->batch_ev);
	db->batch_ev = NULL;
}
