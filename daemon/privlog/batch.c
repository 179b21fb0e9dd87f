/*
 * batch.c: records on demand, the way sum.golang.org works.  A worker
 * whose lookup misses hands it to the main thread (handoff.c), which
 * gives it to the private log's db->ops->miss here: lookups of the same
 * module version wait on one fetch from the GOPROXY (modfetch.c) or,
 * for a public path with [log] public = NAME, on one question to that
 * mirror (public.c); resolved versions collect in a batch that is
 * appended and signed once (writer.c) after batch_delay;
 * each result goes back to the worker that holds the request.  Paths
 * outside [log] accept are never fetched, and at most max_fetches
 * fetches run at once, max_fetches_per_client of them started by one
 * client address: a new version past either is refused with 503 and
 * Retry-After, while a lookup of a version being fetched always joins.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pending.h"
#include "store.h"
#include "sumdb.h"

#define RETRY_AFTER	5	/* s, after a refusal for the caps */

/* Refusals of misses, for /metrics. */
enum { REF_MAX_FETCHES, REF_PER_CLIENT, REF_ACCEPT, REF_N };
static const char *const refname[REF_N] = {
	"max_fetches", "max_fetches_per_client", "accept"
};
static uint64_t	 refused[REF_N];	/* atomic */
static int64_t	 nfetching;		/* atomic: db->fetching's length */

/*
 * Answer m: record id of db is found.  A witnessed log's record whose
 * checkpoint is not published yet waits for it (witnessed_changed()),
 * up to [log] fetch_timeout.
 */
static void
answer_found(struct db *db, struct missreq *m, int64_t id)
{
	/*
	 * Stored but never signed: a writer node died between the two.
	 * Sign it now (here, the writer).
	 */
	if (db->quorum == 0 && id >= __atomic_load_n(&db->size,
	    __ATOMIC_RELAXED) && (logw_sign(db->env, db) != 0 ||
	    id >= __atomic_load_n(&db->size, __ATOMIC_RELAXED))) {
		m->retry_after = 1;
		handoff_answer(m, 503, -1, "the record is logged but not yet "
		    "signed");
		return;
	}
	if (db->quorum > 0 && id >= __atomic_load_n(&db->size,
	    __ATOMIC_RELAXED)) {
		m->id = id;
		m->since = mono();
		TAILQ_INSERT_TAIL(&db->waitpub, m, entry);
		/* A client asks: try the witnesses now, not at backoff. */
		peers_kick(db);
		return;
	}
	handoff_answer(m, 200, id, NULL);
}

/* Answer every waiter of p and forget it. */
static void
pending_answer(struct pending *p, int status, int64_t id, const char *err)
{
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, m, entry);
		if (status == 200)
			answer_found(p->db, m, id);
		else
			handoff_answer(m, status, id, err);
	}
	free(p);
}

/* Hand p's lookups to the writer node (this one lost the lease). */
static void
pending_forward(struct env *env, struct pending *p)
{
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&p->waiters)) != NULL) {
		TAILQ_REMOVE(&p->waiters, m, entry);
		if (!cluster_forward(env, m))
			handoff_answer(m, 500, -1, "internal error");
	}
	free(p);
}

/*
 * db_changed hook: the private log published a checkpoint.  Answer the
 * records it holds, and sign what waited behind it.
 */
static void
witnessed_changed(struct env *env, struct db *db, void *arg)
{
	struct missreq	*m, *next;
	int64_t		 size = __atomic_load_n(&db->size, __ATOMIC_RELAXED);

	(void)arg;
	if (db != env->log || db->quorum == 0)
		return;
	if (__atomic_load_n(&db->held_since, __ATOMIC_RELAXED) == 0)
		(void)logw_sign(env, db);
	for (m = TAILQ_FIRST(&db->waitpub); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (m->id < size) {
			TAILQ_REMOVE(&db->waitpub, m, entry);
			handoff_answer(m, 200, m->id, NULL);
		}
	}
}

/* Every second: records that waited too long for their witnesses. */
static void
waitpub_expire(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env = db->env;
	struct missreq	*m, *next;
	struct timeval	 tv = { 1, 0 };
	double		 now = mono();
	char		 err[256];

	(void)fd;
	(void)ev;
	for (m = TAILQ_FIRST(&db->waitpub); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (now - m->since < env->conf.log_fetch_timeout / 1000.0)
			continue;
		TAILQ_REMOVE(&db->waitpub, m, entry);
		snprintf(err, sizeof(err), "%.80s@%.40s is logged (record %lld) "
		    "but its checkpoint waits for %lld witness cosignatures",
		    m->path, m->version, (long long)m->id,
		    (long long)db->quorum);
		m->retry_after = RETRY_AFTER;
		handoff_answer(m, 503, -1, err);
	}
	evtimer_add(db->waitpub_ev, &tv);
}

static void
run_batch(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env;
	struct pending	*p;
	struct newrec	*recs;
	size_t		 n = 0, i;
	int		 r, lost;

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
	/* Refused: the lease went to another node, which answers them. */
	lost = r != 0 && !db->broken && !cluster_check(env);
	for (i = 0; (p = TAILQ_FIRST(&db->ready)) != NULL; i++) {
		TAILQ_REMOVE(&db->ready, p, entry);
		if (lost)
			pending_forward(env, p);
		else if (r != 0)
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

void
pending_done(struct pending *p, int status, const char *err, int retry_after)
{
	struct db	*db = p->db;
	struct missreq	*m;
	struct timeval	 tv;

	TAILQ_REMOVE(&db->fetching, p, entry);
	__atomic_sub_fetch(&nfetching, 1, __ATOMIC_RELAXED);
	if (status != 200) {
		TAILQ_FOREACH(m, &p->waiters, entry)
			m->retry_after = retry_after;
		pending_answer(p, status, -1, err);
		return;
	}
	p->rec.id = -1;
	TAILQ_INSERT_TAIL(&db->ready, p, entry);
	if (!evtimer_pending(db->batch_ev, NULL)) {
		tv.tv_sec = p->env->conf.log_batch_delay / 1000;
		tv.tv_usec = (p->env->conf.log_batch_delay % 1000) * 1000;
		evtimer_add(db->batch_ev, &tv);
	}
}

/* modfetch()'s callback: p's hashes from the GOPROXY. */
static void
fetched(int status, const char *ziphash, const char *modhash, const char *err,
    void *arg)
{
	struct pending	*p = arg;

	if (status != 200) {
		log_info("%s@%s: %s", p->rec.path, p->rec.version, err);
		pending_done(p, status == 404 ? 404 : 502, err, 0);
		return;
	}
	snprintf(p->rec.ziphash, sizeof(p->rec.ziphash), "%s", ziphash);
	snprintf(p->rec.modhash, sizeof(p->rec.modhash), "%s", modhash);
	pending_done(p, 200, NULL, 0);
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

/* Refuse m for reason k: a 503 for the caps, a 404 for accept. */
static void
refuse(struct missreq *m, int k, const char *fmt, ...)
{
	char	 err[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, sizeof(err), fmt, ap);
	va_end(ap);
	__atomic_add_fetch(&refused[k], 1, __ATOMIC_RELAXED);
	log_debug("%s@%s from %s: %s", m->path, m->version, m->peer, err);
	if (k != REF_ACCEPT)
		m->retry_after = RETRY_AFTER;
	handoff_answer(m, k == REF_ACCEPT ? 404 : 503, -1, err);
}

/*
 * Whether a new fetch for m is within the caps; refuses it if not.
 * A client's fetches count until they are hashed.
 */
static int
may_fetch(struct env *env, struct db *db, struct missreq *m)
{
	struct pending	*p;
	int64_t		 n = 0, mine = 0;

	TAILQ_FOREACH(p, &db->fetching, entry) {
		n++;
		if (strcmp(p->client, m->peer) == 0)
			mine++;
	}
	if (n >= env->conf.log_max_fetches) {
		refuse(m, REF_MAX_FETCHES, "too many module fetches in "
		    "progress (max_fetches = %lld): retry later",
		    (long long)env->conf.log_max_fetches);
		return 0;
	}
	if (mine >= env->conf.log_max_fetches_per_client) {
		refuse(m, REF_PER_CLIENT, "too many module fetches in "
		    "progress for %s (max_fetches_per_client = %lld): retry "
		    "later", m->peer,
		    (long long)env->conf.log_max_fetches_per_client);
		return 0;
	}
	return 1;
}

/* The mirror that [log] public names, or NULL. */
static struct db *
public_mirror(struct env *env)
{
	const char	*name = config_log_mirror(&env->conf);
	int		 i;

	for (i = 0; name != NULL && i < env->ndbs; i++)
		if (env->dbs[i]->kind == DB_MIRROR &&
		    strcmp(env->dbs[i]->name, name) == 0)
			return env->dbs[i];
	return NULL;
}

/*
 * Whether m's path may be logged at all ([log] accept, public = none,
 * a GOPROXY to hash it from); refuses m with 404 if not.  *mirror is
 * the mirror that vouches for a public path, or NULL: hashed.
 */
static int
may_log(struct env *env, struct missreq *m, struct db **mirror)
{
	enum log_route	 route = config_log_route(&env->conf, m->path);
	char		 err[1400];

	*mirror = NULL;
	if (env->conf.log_accept != NULL &&
	    !config_match_patterns(env->conf.log_accept, m->path)) {
		refuse(m, REF_ACCEPT, "not found: %s is not accepted by this "
		    "log ([log] accept)", m->path);
		return 0;
	}
	if (route == ROUTE_REFUSE) {
		public_refused_none();
		snprintf(err, sizeof(err), "not found: %s is not a private "
		    "path of this log ([log] public = none): if this module is "
		    "yours, add its path to [log] private", m->path);
		handoff_answer(m, 404, -1, err);
		return 0;
	}
	if (route == ROUTE_MIRROR) {
		if ((*mirror = public_mirror(env)) != NULL)
			return 1;
		handoff_answer(m, 500, -1, "internal error");
		return 0;
	}
	if (env->conf.log_goproxy == NULL) {
		handoff_answer(m, 404, -1, "not found: not in the log, and "
		    "the log has no [log] goproxy");
		return 0;
	}
	return 1;
}

/*
 * db->ops->miss, main thread: take one miss: logged since, in flight,
 * or new.
 */
static void
miss_take(struct db *db, struct missreq *m)
{
	struct env	*env = db->env;
	struct pending	*p;
	struct db	*mirror;
	int64_t		 id;
	int		 r;

	if (db->broken) {
		handoff_answer(m, 503, -1, "log is frozen: it refused to sign");
		return;
	}
	if ((r = store_lookup(env->st, db->log, m->path, m->version, &id,
	    NULL)) != 0) {
		if (r < 0)
			log_warnx("lookup: %s", store_errmsg(env->st));
		if (r < 0)
			handoff_answer(m, 500, -1, "internal error");
		else
			answer_found(db, m, id);
		return;
	}
	if ((p = find(&db->fetching, m->path, m->version)) != NULL ||
	    (p = find(&db->ready, m->path, m->version)) != NULL) {
		TAILQ_INSERT_TAIL(&p->waiters, m, entry);
		return;
	}
	if (!may_log(env, m, &mirror) || !may_fetch(env, db, m))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		handoff_answer(m, 500, -1, "out of memory");
		return;
	}
	p->env = env;
	p->db = db;
	snprintf(p->rec.path, sizeof(p->rec.path), "%s", m->path);
	snprintf(p->rec.version, sizeof(p->rec.version), "%s", m->version);
	snprintf(p->client, sizeof(p->client), "%s", m->peer);
	TAILQ_INIT(&p->waiters);
	TAILQ_INSERT_TAIL(&p->waiters, m, entry);
	TAILQ_INSERT_TAIL(&db->fetching, p, entry);
	__atomic_add_fetch(&nfetching, 1, __ATOMIC_RELAXED);
	if (mirror != NULL)
		public_start(p, mirror);
	else if (modfetch(env, env->conf.log_goproxy, m->path, m->version,
	    fetched, p) != 0)
		pending_done(p, 500, "internal error", 0);
}

static const struct dbops privlog_ops = { miss_take, NULL };

/* Any thread: the fetch gauges and refusals, for /metrics. */
static void
metrics(struct env *env, struct evbuffer *out)
{
	int	 k;

	if (env->log == NULL)
		return;
	evbuffer_add_printf(out, "# HELP sumdbd_log_fetches_in_progress "
	    "Module versions the private log is fetching from the GOPROXY "
	    "or hashing.\n# TYPE sumdbd_log_fetches_in_progress gauge\n"
	    "sumdbd_log_fetches_in_progress %lld\n"
	    "# HELP sumdbd_log_hashes_in_progress Module zips being hashed "
	    "now.\n# TYPE sumdbd_log_hashes_in_progress gauge\n"
	    "sumdbd_log_hashes_in_progress %lld\n"
	    "# HELP sumdbd_log_fetches_refused_total Private log lookups "
	    "refused without a fetch, by reason.\n"
	    "# TYPE sumdbd_log_fetches_refused_total counter\n",
	    (long long)__atomic_load_n(&nfetching, __ATOMIC_RELAXED),
	    (long long)modfetch_hashing());
	for (k = 0; k < REF_N; k++)
		evbuffer_add_printf(out, "sumdbd_log_fetches_refused_total"
		    "{reason=\"%s\"} %llu\n", refname[k], (unsigned long long)
		    __atomic_load_n(&refused[k], __ATOMIC_RELAXED));
}

/*
 * This node became the writer: sign what the last writer appended but
 * did not sign, and ask the witnesses.
 */
static void
became_writer(struct env *env)
{
	if (logw_sign(env, env->log) != 0)
		log_warnx("log '%s': not signed on becoming the writer",
		    env->log->name);
	peers_kick(env->log);
}

int
privlog_init(struct env *env)
{
	struct timeval	 tv = { 1, 0 };

	if (env->log == NULL)
		return 0;
	env->log->ops = &privlog_ops;
	TAILQ_INIT(&env->log->waitpub);
	if (env_on_writer(env, became_writer) != 0)
		return -1;
	if ((env->log->batch_ev = evtimer_new(env->base, run_batch,
	    env->log)) == NULL || env_metrics_add(env, metrics) != 0 ||
	    public_init(env) != 0) {
		log_warnx("privlog: out of memory");
		return -1;
	}
	if (env->conf.log_nwitnesses == 0)
		return 0;
	/* Witnessed: a checkpoint is published at quorum cosignatures. */
	env->log->quorum = (int)env->conf.log_witness_quorum;
	if (peers_open(env, env->log, env->conf.log_witnesses,
	    env->conf.log_nwitnesses) != 0 ||
	    db_subscribe(env, witnessed_changed, NULL) != 0 ||
	    (env->log->waitpub_ev = evtimer_new(env->base, waitpub_expire,
	    env->log)) == NULL || evtimer_add(env->log->waitpub_ev, &tv) != 0) {
		log_warnx("privlog: cannot set up its witnesses");
		return -1;
	}
	log_info("log '%s': checkpoints published once %d of %d witnesses "
	    "cosigned them", env->log->name, env->log->quorum,
	    env->log->npeers);
	logw_held(env, env->log);
	peers_kick(env->log);
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

	modfetch_stop();
	if (db == NULL)
		return;
	/* The loop has stopped: no fetch in flight calls back any more. */
	while ((p = TAILQ_FIRST(&db->fetching)) != NULL) {
		TAILQ_REMOVE(&db->fetching, p, entry);
		pending_drop(p);
	}
	while ((p = TAILQ_FIRST(&db->ready)) != NULL) {
		TAILQ_REMOVE(&db->ready, p, entry);
		pending_drop(p);
	}
	if (db->batch_ev != NULL)
		event_free(db->batch_ev);
	db->batch_ev = NULL;
	while ((m = TAILQ_FIRST(&db->waitpub)) != NULL) {
		TAILQ_REMOVE(&db->waitpub, m, entry);
		free(m);
	}
	if (db->waitpub_ev != NULL)
		event_free(db->waitpub_ev);
	db->waitpub_ev = NULL;
	peers_free(db);
}
