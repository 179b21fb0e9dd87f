/*
 * cluster.c: several nodes on one PostgreSQL store (main thread, but
 * lease_loop() and what it calls).  One
 * node holds the writer lease (store_lease(): PostgreSQL's clock, a
 * fencing token) and does every write: private-log appends and
 * signatures, mirror syncs, TUF publishing, witness state.  The others
 * serve every read from the store, reread what the writer published
 * every [cluster] poll, and forward their misses to the writer at the
 * URL the lease names, answering from the store once it answered; a
 * forward that finds no writer (failover) is tried again until the
 * lookup's time runs out.
 *
 * The lease is renewed every poll (at most a third of the lease) by a
 * thread of its own.  A node that cannot renew it in time stops
 * writing at once, and store_begin() refuses its writes anyway
 * (store_fence()): fork safety rests on the database, which serializes
 * writers and checks in their transaction that the new tree extends
 * the stored one.
 *
 * An SQLite store has one node: it is always the writer and none of
 * this runs.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"

/* A miss forwarded to the writer. */
struct fwd {
	TAILQ_ENTRY(fwd) entry;
	struct cluster	*c;
	struct missreq	*m;
	struct event	*retry;
};
TAILQ_HEAD(fwdlist, fwd);

struct cluster {
	struct env		*env;
	char			 node[128];
	char			 url[512];
	struct event		*tick;		/* non-writers reread */
	struct event		*notify;	/* became the writer */
	int64_t			 token;		/* > 0 writer; atomic */
	int64_t			 every;		/* ms between renewals */
	/* the lease thread, its connection */
	pthread_t		 thread;
	int			 running;
	struct store		*st;
	pthread_cond_t		 cv;
	/* guarded by mu */
	int			 stop, became;
	double			 renewed;	/* mono() of the last renewal */
	struct fwdlist		 fwds;		/* in flight */
	int			 forwards;
	/* /metrics: atomic */
	int64_t			 lease_left;	/* ms */
	int64_t			 fwd_ok, fwd_err, fwd_retry, fwd_busy;
	int64_t			 took, lost;
	char			 holder[128];	/* guarded by mu */
	pthread_mutex_t		 mu;	/* also what lease_step() changes */
};


static struct cluster	*the;	/* /metrics and /healthz hooks */

int
env_writer(const struct env *env)
{
	return env->cluster == NULL ||
	    __atomic_load_n(&env->cluster->token, __ATOMIC_ACQUIRE) > 0;
}

int
env_on_writer(struct env *env, void (*fn)(struct env *))
{
	if (env->nonwriter == ENV_HOOKS_MAX)
		return -1;
	env->onwriter[env->nonwriter++] = fn;
	return 0;
}

/*
 * A node that does not write: reread db's published tree if the writer
 * published another, so that workers serve it (and keep their caches
 * otherwise).
 */
static void
refresh(struct env *env, struct db *db)
{
	uint8_t	 root[SUMDB_HASH_SIZE];
	int64_t	 size;

	if (store_published(env->st, db->log, NULL, &size, root) > 0 &&
	    size != __atomic_load_n(&db->size, __ATOMIC_RELAXED))
		db_refresh(env, db);
}

/*
 * Take or renew the lease on st (the lease thread's connection, or the
 * main thread's), and note what changed: any thread.  A node that
 * cannot renew it in time stops writing (the store refuses its writes
 * anyway).  The main thread runs the hooks of a node that became the
 * writer (became()).
 */
static void
lease_step(struct cluster *c, struct store *st)
{
	struct env		*env = c->env;
	struct store_lease	 li;
	int			 r, was, became = 0;

	r = store_lease(st, c->node, c->url, env->conf.cluster_lease, &li);
	pthread_mutex_lock(&c->mu);
	was = c->token > 0;
	if (r == 1) {
		c->renewed = mono();
		__atomic_store_n(&c->lease_left, li.left_ms, __ATOMIC_RELAXED);
		if (!was || li.token != c->token) {
			__atomic_store_n(&c->token, li.token, __ATOMIC_RELEASE);
			__atomic_add_fetch(&c->took, 1, __ATOMIC_RELAXED);
			snprintf(c->holder, sizeof(c->holder), "%s", c->node);
			c->became = became = 1;
		}
	} else {
		if (r == 0) {
			snprintf(c->holder, sizeof(c->holder), "%s",
			    li.holder);
			__atomic_store_n(&c->lease_left, li.left_ms,
			    __ATOMIC_RELAXED);
		}
		if (was && (r == 0 || (mono() - c->renewed) * 1000 >=
		    env->conf.cluster_lease)) {
			__atomic_store_n(&c->token, 0, __ATOMIC_RELEASE);
			__atomic_add_fetch(&c->lost, 1, __ATOMIC_RELAXED);
		} else
			was = 0;
	}
	pthread_mutex_unlock(&c->mu);
	if (r < 0)
		log_warnx("cluster: the lease: %s", store_errmsg(st));
	if (became) {
		log_info("cluster: node '%s' is the writer (lease token %lld)",
		    c->node, (long long)li.token);
		if (c->notify != NULL)
			event_active(c->notify, EV_READ, 0);
	} else if (r != 1 && was)
		log_warnx("cluster: node '%s' is no longer the writer%s%s",
		    c->node, r == 0 ? ": now " : "", r == 0 ? li.holder : "");
}

/*
 * Main thread: this node became the writer.  What the last writer
 * published, then the writer's work.
 */
static void
became(evutil_socket_t fd, short ev, void *arg)
{
	struct cluster	*c = arg;
	struct env	*env = c->env;
	int		 i, b;

	(void)fd;
	(void)ev;
	pthread_mutex_lock(&c->mu);
	b = c->became;
	c->became = 0;
	pthread_mutex_unlock(&c->mu);
	if (!b || !env_writer(env))
		return;
	for (i = 0; i < env->ndbs; i++)
		db_refresh(env, env->dbs[i]);
	for (i = 0; i < env->nonwriter; i++)
		env->onwriter[i](env);
}

/* Main thread, every poll: a node that does not write rereads. */
static void
on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct cluster	*c = arg;
	int		 i;

	(void)fd;
	(void)ev;
	if (!env_writer(c->env))
		for (i = 0; i < c->env->ndbs; i++)
			refresh(c->env, c->env->dbs[i]);
}

/*
 * The lease thread: renews the lease every poll on a connection of its
 * own, so that a main thread busy or blocked (waiting for the write
 * lock behind a full sync's segment) does not lose it.  A paused
 * process pauses it too: then the lease expires, as it must.
 */
static void *
lease_loop(void *arg)
{
	struct cluster	*c = arg;
	struct timespec	 ts;
	int64_t		 every = c->every;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		pthread_mutex_unlock(&c->mu);
		lease_step(c, c->st);
		pthread_mutex_lock(&c->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += every / 1000;
		ts.tv_nsec += (every % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!c->stop)
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
cluster_check(struct env *env)
{
	if (env->cluster != NULL)
		lease_step(env->cluster, env->st);
	return env_writer(env);
}

static void	forward(struct fwd *f);

static void
fwd_free(struct fwd *f)
{
	TAILQ_REMOVE(&f->c->fwds, f, entry);
	f->c->forwards--;
	if (f->retry != NULL)
		event_free(f->retry);
	free(f);
}

static void
fwd_retry(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	forward(arg);
}

/* Between tries of a forward that found no writer. */
static const struct timeval	 quarter = { 0, 250000 };

/* The writer answered (status), or could not be reached (-1). */
static void
forwarded(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct fwd	*f = arg;
	struct cluster	*c = f->c;
	struct env	*env = c->env;
	struct missreq	*m = f->m;
	char		 line[512];
	size_t		 n;
	int64_t		 id = -1;
	int		 r;

	if (status == 200) {
		__atomic_add_fetch(&c->fwd_ok, 1, __ATOMIC_RELAXED);
		refresh(env, m->db);
		if (m->kind == MISS_LOOKUP && (r = store_lookup(env->st,
		    m->db->log, m->path, m->version, &id, NULL)) != 1) {
			handoff_answer(m, r < 0 ? 500 : 502, -1, r < 0 ?
			    "internal error" : "the writer answered, but the "
			    "store has no such record");
		} else
			handoff_answer(m, 200, id, NULL);
		fwd_free(f);
		return;
	}
	/* Its one-line refusal (a module not found, a bad request...). */
	if (status > 0 && status != 502 && status != 503 && status != 504) {
		__atomic_add_fetch(&c->fwd_err, 1, __ATOMIC_RELAXED);
		n = body != NULL ? evbuffer_get_length(body) : 0;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		if (n > 0)
			evbuffer_copyout(body, line, n);
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		handoff_answer(m, status, -1, line[0] != '\0' ? line :
		    "refused by the writer");
		fwd_free(f);
		return;
	}
	/* No writer now (failover): again, until the lookup's time ends. */
	if (mono() - m->since > env->conf.log_fetch_timeout / 1000.0) {
		__atomic_add_fetch(&c->fwd_err, 1, __ATOMIC_RELAXED);
		snprintf(line, sizeof(line), "no writer node answered: %s",
		    status < 0 ? err : "unavailable");
		m->retry_after = 1;
		handoff_answer(m, 503, -1, line);
		fwd_free(f);
		return;
	}
	__atomic_add_fetch(&c->fwd_retry, 1, __ATOMIC_RELAXED);
	if (f->retry == NULL &&
	    (f->retry = evtimer_new(env->base, fwd_retry, f)) == NULL) {
		handoff_answer(m, 500, -1, "out of memory");
		fwd_free(f);
		return;
	}
	evtimer_add(f->retry, &quarter);
}

/* Send f's request to the writer the lease names now. */
static void
forward(struct fwd *f)
{
	struct cluster		*c = f->c;
	struct env		*env = c->env;
	struct missreq		*m = f->m;
	struct store_lease	 li;
	char			 url[8192], ep[SUMDB_PATH_MAX * 2];
	char			 ev[SUMDB_PATH_MAX * 2];
	int64_t			 left;

	/* This node took the lease meanwhile: it answers m itself. */
	if (env_writer(env)) {
		fwd_free(f);
		if (m->db->ops != NULL && m->db->ops->miss != NULL)
			m->db->ops->miss(m->db, m);
		else
			handoff_answer(m, 404, -1, "not found");
		return;
	}
	/* The lease as stored: the writer may have changed since. */
	if (store_lease_get(env->st, &li) != 1 || li.left_ms <= 0 ||
	    strcmp(li.holder, c->node) == 0) {
		forwarded(-1, NULL, "no node holds the writer lease", f);
		return;
	}
	if (m->kind == MISS_LOOKUP) {
		if (modpath_escape_path(m->path, strlen(m->path), ep,
		    sizeof(ep)) < 0 || modpath_escape_version(m->version,
		    strlen(m->version), ev, sizeof(ev)) < 0) {
			handoff_answer(m, 400, -1, "malformed module path");
			fwd_free(f);
			return;
		}
		snprintf(url, sizeof(url), "%s/sumdb/%s/lookup/%s@%s",
		    li.url, m->db->name, ep, ev);
	} else
		snprintf(url, sizeof(url), "%s/sumdb/%s/%s", li.url,
		    m->db->name, m->tilepath);
	left = env->conf.log_fetch_timeout - (int64_t)((mono() - m->since) *
	    1000);
	if (left < 100)
		left = 100;
	if (fetch_get(env, url, 1 << 20, left, NULL, forwarded, f) != 0)
		forwarded(-1, NULL, "cannot start the request", f);
}

int
cluster_forward(struct env *env, struct missreq *m)
{
	struct cluster	*c = env->cluster;
	struct fwd	*f;

	if (env_writer(env))
		return 0;
	if (m->kind == MISS_WITNESS) {
		m->retry_after = 1;
		handoff_answer(m, 503, -1, "this node is not the writer: "
		    "submit to the writer node");
		return 1;
	}
	if (c->forwards >= env->conf.cluster_max_forwards) {
		__atomic_add_fetch(&c->fwd_busy, 1, __ATOMIC_RELAXED);
		m->retry_after = 1;
		handoff_answer(m, 503, -1, "too many lookups wait for the "
		    "writer node");
		return 1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		handoff_answer(m, 500, -1, "out of memory");
		return 1;
	}
	f->c = c;
	f->m = m;
	if (m->since == 0)
		m->since = mono();
	TAILQ_INSERT_TAIL(&c->fwds, f, entry);
	c->forwards++;
	forward(f);
	return 1;
}

/* /metrics: which node writes, the lease, the forwards. */
static void
metrics(struct env *env, struct evbuffer *out)
{
	struct cluster	*c = the;
	char		 holder[128];

	(void)env;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	snprintf(holder, sizeof(holder), "%s", c->holder);
	pthread_mutex_unlock(&c->mu);
	evbuffer_add_printf(out, "# HELP sumdbd_cluster_writer 1 on the node "
	    "that holds the writer lease.\n# TYPE sumdbd_cluster_writer gauge\n"
	    "sumdbd_cluster_writer{node=\"%s\",holder=\"%s\"} %d\n",
	    c->node, holder, __atomic_load_n(&c->token, __ATOMIC_ACQUIRE) >
	    0);
	evbuffer_add_printf(out, "# HELP sumdbd_cluster_lease_token The "
	    "writer lease's fencing token this node holds (0: none).\n"
	    "# TYPE sumdbd_cluster_lease_token gauge\n"
	    "sumdbd_cluster_lease_token %lld\n",
	    (long long)__atomic_load_n(&c->token, __ATOMIC_ACQUIRE));
	evbuffer_add_printf(out, "# HELP sumdbd_cluster_lease_remaining_seconds"
	    " Until the writer lease expires unless renewed, as last read.\n"
	    "# TYPE sumdbd_cluster_lease_remaining_seconds gauge\n"
	    "sumdbd_cluster_lease_remaining_seconds %.3f\n",
	    __atomic_load_n(&c->lease_left, __ATOMIC_RELAXED) / 1000.0);
	evbuffer_add_printf(out, "# HELP sumdbd_cluster_lease_changes_total "
	    "Times this node took the writer lease, and lost it.\n"
	    "# TYPE sumdbd_cluster_lease_changes_total counter\n"
	    "sumdbd_cluster_lease_changes_total{change=\"took\"} %lld\n"
	    "sumdbd_cluster_lease_changes_total{change=\"lost\"} %lld\n",
	    (long long)__atomic_load_n(&c->took, __ATOMIC_RELAXED),
	    (long long)__atomic_load_n(&c->lost, __ATOMIC_RELAXED));
	evbuffer_add_printf(out, "# HELP sumdbd_cluster_forwards_total Misses "
	    "forwarded to the writer node, by result.\n"
	    "# TYPE sumdbd_cluster_forwards_total counter\n"
	    "sumdbd_cluster_forwards_total{result=\"ok\"} %lld\n"
	    "sumdbd_cluster_forwards_total{result=\"refused\"} %lld\n"
	    "sumdbd_cluster_forwards_total{result=\"retried\"} %lld\n"
	    "sumdbd_cluster_forwards_total{result=\"busy\"} %lld\n",
	    (long long)__atomic_load_n(&c->fwd_ok, __ATOMIC_RELAXED),
	    (long long)__atomic_load_n(&c->fwd_err, __ATOMIC_RELAXED),
	    (long long)__atomic_load_n(&c->fwd_retry, __ATOMIC_RELAXED),
	    (long long)__atomic_load_n(&c->fwd_busy, __ATOMIC_RELAXED));
}

int
cluster_status(const struct env *env, char *buf, size_t size)
{
	struct cluster	*c = env->cluster;
	char		 holder[128];
	int64_t		 left;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	snprintf(holder, sizeof(holder), "%s", c->holder);
	pthread_mutex_unlock(&c->mu);
	left = __atomic_load_n(&c->lease_left, __ATOMIC_RELAXED);
	if (__atomic_load_n(&c->token, __ATOMIC_ACQUIRE) > 0)
		snprintf(buf, size, "node %s is the writer (lease %.1f s "
		    "left)", c->node, left / 1000.0);
	else if (holder[0] != '\0' && left > 0)
		snprintf(buf, size, "node %s serves; %s writes (lease %.1f s "
		    "left)", c->node, holder, left / 1000.0);
	else {
		snprintf(buf, size, "node %s serves; no node holds the "
		    "writer lease", c->node);
		return -1;
	}
	return 1;
}

void
cluster_fence(struct env *env, struct store *st)
{
	if (env->cluster != NULL)
		store_fence(st, env->cluster->node, &env->cluster->token);
}

int
cluster_open(struct env *env)
{
	struct cluster	*c;
	char		 host[128];

	if (!config_is_pg(env->conf.database))
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("cluster: out of memory");
		return -1;
	}
	c->env = env;
	TAILQ_INIT(&c->fwds);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (env->conf.cluster_node != NULL)
		snprintf(c->node, sizeof(c->node), "%s",
		    env->conf.cluster_node);
	else {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "sumdbd");
		host[sizeof(host) - 1] = '\0';
		snprintf(c->node, sizeof(c->node), "%s", host);
	}
	if (env->conf.cluster_url != NULL)
		snprintf(c->url, sizeof(c->url), "%s", env->conf.cluster_url);
	else
		snprintf(c->url, sizeof(c->url), "http://%s",
		    env->conf.listen);
	while (strlen(c->url) > 0 && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	env->cluster = c;
	the = c;
	cluster_fence(env, env->st);
	/* Writer or not, from the start: its work starts as it does. */
	lease_step(c, env->st);
	c->became = 0;
	return 0;
}

int
cluster_start(struct env *env)
{
	struct cluster	*c = env->cluster;
	struct timeval	 tv;
	char		 err[512];
	int64_t		 every;

	if (c == NULL)
		return 0;
	every = env->conf.cluster_poll;
	if (every > env->conf.cluster_lease / 3)
		every = env->conf.cluster_lease / 3;
	c->every = every;
	if ((c->tick = event_new(env->base, -1, EV_PERSIST, on_tick, c)) ==
	    NULL || (c->notify = event_new(env->base, -1, 0, became, c)) ==
	    NULL || env_metrics_add(env, metrics) != 0) {
		log_warnx("cluster: out of memory");
		return -1;
	}
	if ((c->st = store_open(env->conf.database, err, sizeof(err))) ==
	    NULL) {
		log_warnx("cluster: the lease's connection: %s", err);
		return -1;
	}
	if (pthread_create(&c->thread, NULL, lease_loop, c) != 0) {
		log_warn("cluster: the lease thread");
		return -1;
	}
	c->running = 1;
	tv.tv_sec = every / 1000;
	tv.tv_usec = (every % 1000) * 1000;
	event_add(c->tick, &tv);
	log_info("cluster: node '%s' at %s, lease %lld ms, %s", c->node,
	    c->url, (long long)env->conf.cluster_lease, env_writer(env) ?
	    "the writer" : "not the writer");
	return 0;
}

void
cluster_stop(struct env *env)
{
	struct cluster	*c = env->cluster;

	if (c == NULL)
		return;
	if (c->running) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
		c->running = 0;
	}
	store_close(c->st);
	c->st = NULL;
	/* A clean stop: another node takes over at once. */
	if (c->token > 0 && store_lease_drop(env->st, c->node, c->token) == 0)
		log_info("cluster: node '%s' gave up the writer lease",
		    c->node);
	__atomic_store_n(&c->token, 0, __ATOMIC_RELEASE);
	if (c->tick != NULL)
		event_free(c->tick);
	if (c->notify != NULL)
		event_free(c->notify);
	c->tick = c->notify = NULL;
}

void
cluster_free(struct env *env)
{
	struct cluster	*c = env->cluster;
	struct fwd	*f;

	if (c == NULL)
		return;
	cluster_stop(env);
	/* Waiting for a retry: their workers are gone. */
	while ((f = TAILQ_FIRST(&c->fwds)) != NULL) {
		handoff_free_req(f->m);
		fwd_free(f);
	}
	the = NULL;
	env->cluster = NULL;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
