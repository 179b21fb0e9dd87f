/*
 * server.c: the workers, the listener and the router.  The main thread
 * starts the workers, hands them new settings (env->publish) and drains
 * them at SIGTERM; each worker runs its own loop.  Paths are
 * percent-decoded once (a NUL or a malformed escape is a 400), then
 * mapped to a database: /sumdb/NAME/... for every configured NAME, and
 * the bare /latest, /lookup/... and /tile/... for the private log.
 * /sumdb/NAME/supported is answered here, never forwarded.
 */

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "store.h"

/* The database a "/sumdb/NAME/..." path names, and the rest after it. */
static struct db *
match_db(struct env *env, const char *path, const char **rest)
{
	struct db	*db;
	size_t		 len;
	int		 i;

	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		len = strlen(db->name);
		if (strncmp(path, db->name, len) == 0 && path[len] == '/') {
			*rest = path + len + 1;
			return db;
		}
	}
	return NULL;
}

/*
 * The routes outside any database, the one table for both the handler
 * and what /metrics counts: path exact, or a prefix when it ends in '/'
 * (the handler gets the rest, or the query for POST).
 */
static void	healthz(struct worker *, struct hreq *, const char *);
static void	metrics(struct worker *, struct hreq *, const char *);
static const struct fixed {
	const char	*path;
	int		 route;		/* enum route */
	int		 post;		/* POST, else GET and HEAD */
	void		(*fn)(struct worker *, struct hreq *, const char *);
} fixed[] = {
	{ "/healthz",	RT_HEALTHZ,	0,	healthz },
	{ "/metrics",	RT_METRICS,	0,	metrics },
	{ "/audit",	RT_AUDIT,	1,	serve_audit },
	{ "/witness/add-checkpoint", RT_WITNESS, 1, serve_witness_add },
	{ "/witness/latest/", RT_WITNESS, 0,	serve_witness_latest },
	{ "/tuf/",	RT_TUF,		0,	serve_tuf },
};

static void
healthz(struct worker *w, struct hreq *req, const char *arg)
{
	(void)arg;
	serve_healthz(w, req);
}

static void
metrics(struct worker *w, struct hreq *req, const char *arg)
{
	(void)arg;
	serve_metrics(w, req);
}

/* The fixed route of path p, and in *rest what follows its prefix. */
static const struct fixed *
find_fixed(const char *p, const char **rest)
{
	size_t	 i, len;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		len = strlen(fixed[i].path);
		if (fixed[i].path[len - 1] == '/' ?
		    strncmp(p, fixed[i].path, len) == 0 :
		    strcmp(p, fixed[i].path) == 0) {
			*rest = p + len;
			return &fixed[i];
		}
	}
	return NULL;
}

/* What /metrics counts p as (p not yet percent-decoded). */
static int
route_of(const char *p)
{
	const struct fixed	*f;
	const char		*s;

	if ((f = find_fixed(p, &s)) != NULL)
		return f->route;
	/* /sumdb/NAME/rest: NAME may hold slashes; rest's first element
	 * decides. */
	if (strncmp(p, "/sumdb/", 7) == 0) {
		if ((s = strrchr(p, '/')) != NULL && strcmp(s, "/supported") == 0)
			return RT_SUPPORTED;
		if ((s = strrchr(p, '/')) != NULL && strcmp(s, "/latest") == 0)
			return RT_LATEST;
		if (strstr(p, "/lookup/") != NULL)
			return RT_LOOKUP;
		if (strstr(p, "/tile/") != NULL)
			return RT_TILE;
		return RT_OTHER;
	}
	if (strcmp(p, "/latest") == 0)
		return RT_LATEST;
	if (strncmp(p, "/lookup/", 8) == 0)
		return RT_LOOKUP;
	if (strncmp(p, "/tile/", 6) == 0)
		return RT_TILE;
	return RT_OTHER;
}

static char *
split_target(char *t, char **query)
{
	char	*p;

	*query = NULL;
	if (strncmp(t, "http://", 7) == 0 || strncmp(t, "https://", 8) == 0) {
		p = strstr(t, "//") + 2;
		if ((t = strchr(p, '/')) == NULL)
			return NULL;
	}
	if (*t != '/')
		return NULL;
	if ((p = strchr(t, '#')) != NULL)
		*p = '\0';
	if ((p = strchr(t, '?')) != NULL) {
		*p = '\0';
		*query = p + 1;
	}
	return t;
}

void
http_route(struct worker *w, struct hreq *req)
{
	struct env		*env = w->env;
	const struct fixed	*f;
	const char		*rest;
	char			*raw, *query, *path = NULL;
	size_t			 len;
	struct db		*db;
	int			 post, get;

	req->route = RT_OTHER;
	if ((raw = split_target(req->target, &query)) == NULL) {
		http_error(req, 400, "malformed request path");
		return;
	}
	req->route = route_of(raw);
	/* POST is for the POST routes alone; the rest is GET or HEAD. */
	f = find_fixed(raw, &rest);
	post = f != NULL && f->post;
	get = strcmp(req->method, "GET") == 0 || req->head;
	if (post ? strcmp(req->method, "POST") != 0 : !get) {
		http_header(req, "Allow", post ? "POST" : "GET, HEAD");
		http_error(req, 405, "method not allowed");
		return;
	}
	if (post) {
		if (auth_admit(w, req, NULL))
			f->fn(w, req, query);
		return;
	}
	if ((path = evhttp_uridecode(raw, 0, &len)) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if (strlen(path) != len || strchr(path, '\\') != NULL) {
		http_error(req, 400, "malformed request path");
		goto done;
	}
	log_debug("%s %s", req->method, path);
	if ((f = find_fixed(path, &rest)) != NULL && !f->post) {
		if (auth_admit(w, req, NULL))
			f->fn(w, req, rest);
		goto done;
	}
	if (strncmp(path, "/sumdb/", 7) == 0) {
		db = match_db(env, path + 7, &rest);
		if (!auth_admit(w, req, db))
			goto done;
		if (db == NULL)
			http_error(req, 404, "not found: unknown checksum "
			    "database");
		else if (strcmp(rest, "supported") == 0)
			http_reply(req, 200, "text/plain; charset=utf-8",
			    "no-store", NULL);
		else
			serve_db(w, db, req, rest);
		goto done;
	}
	/* The bare paths: the private log, or else the only mirror. */
	db = env->log != NULL ? env->log : env->ndbs == 1 ? env->dbs[0] : NULL;
	if (db == NULL || (strcmp(path, "/latest") != 0 &&
	    strncmp(path, "/lookup/", 8) != 0 &&
	    strncmp(path, "/tile/", 6) != 0))
		db = NULL;
	if (!auth_admit(w, req, db))
		goto done;
	if (db != NULL)
		serve_db(w, db, req, path + 1);
	else
		http_error(req, 404, "not found");
 done:
	free(path);
}

/* In worker w's thread (or before it starts): take env->wconf. */
static void
apply(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)ev;
	wconf_copy(w->env, &w->conf);
	conn_limits(w);
}

/* env->publish: hand env->wconf to every worker, in its own thread. */
static void
publish(struct env *env)
{
	int	 i;

	for (i = 0; i < env->nworkers; i++)
		if (event_base_once(env->workers[i].base, -1, EV_TIMEOUT,
		    apply, &env->workers[i], &(struct timeval){ 0, 0 }) != 0)
			log_warnx("worker %d: cannot take the new settings", i);
}

static void
drain(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	conn_stop(arg);
}

void
http_drain(struct env *env)
{
	int	 i;

	for (i = 0; i < env->nworkers; i++)
		event_base_once(env->workers[i].base, -1, EV_TIMEOUT, drain,
		    &env->workers[i], &(struct timeval){ 0, 0 });
}

int64_t
http_active(struct env *env)
{
	int64_t	 n = 0;
	int	 i;

	for (i = 0; i < env->nworkers; i++)
		n += __atomic_load_n(&env->workers[i].active,
		    __ATOMIC_RELAXED) + __atomic_load_n(
		    &env->workers[i].writing, __ATOMIC_RELAXED);
	return n;
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* Set up worker w listening on ai; 0 or -1. */
static int
worker_init(struct env *env, struct worker *w, const struct addrinfo *ai)
{
	char	 err[512];
	int	 i;

	w->env = env;
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->audits);
	if ((w->base = event_base_new()) == NULL ||
	    handoff_port_init(&w->port, w->base, serve_answered, w) != 0) {
		log_warnx("worker %d: out of memory", w->id);
		return -1;
	}
	for (i = 0; i < env->ndbs; i++) {
		if ((w->views[i].latest = evbuffer_new()) == NULL) {
			log_warnx("worker %d: out of memory", w->id);
			return -1;
		}
		w->views[i].gen = (unsigned)-1;
	}
	if ((w->st = store_open(env->conf.database, err, sizeof(err))) ==
	    NULL) {
		log_warnx("worker %d: database '%s': %s", w->id,
		    env->conf.database, err);
		return -1;
	}
	/* Serving reads few pages again and again: a small page cache. */
	store_cache(w->st, 2048);
	apply(-1, 0, w);
	if (cache_init(&w->cache, (size_t)(env->conf.cache_size /
	    env->nworkers)) != 0) {
		log_warnx("worker %d: out of memory", w->id);
		return -1;
	}
	if ((w->lev = evconnlistener_new_bind(w->base, conn_accept, w,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, 4096, ai->ai_addr,
	    (int)ai->ai_addrlen)) == NULL) {
		log_warn("listen on '%s'", env->conf.listen);
		return -1;
	}
	return 0;
}

int
http_start(struct env *env)
{
	struct addrinfo	 hints, *ai = NULL;
	char		*host = NULL, *colon, port[16];
	int		 i, r, rv = -1;

	if ((host = strdup(env->conf.listen)) == NULL) {
		log_warn("strdup");
		return -1;
	}
	if ((colon = strrchr(host, ':')) == NULL || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(port)) {
		log_warnx("listen '%s': want host:port", env->conf.listen);
		goto done;
	}
	*colon = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	/* [::1]:8080 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(*host ? host : NULL, port, &hints, &ai)) != 0) {
		log_warnx("listen '%s': %s", env->conf.listen,
		    gai_strerror(r));
		goto done;
	}
	if ((env->workers = calloc(env->nworkers, sizeof(*env->workers))) ==
	    NULL) {
		log_warn("calloc");
		goto done;
	}
	for (i = 0; i < env->nworkers; i++) {
		env->workers[i].id = i;
		if (worker_init(env, &env->workers[i], ai) != 0)
			goto done;
	}
	for (i = 0; i < env->nworkers; i++)
		if (pthread_create(&env->workers[i].tid, NULL, worker_main,
		    &env->workers[i]) != 0) {
			log_warn("pthread_create");
			env->nworkers = i;
			goto done;
		}
	env->publish = publish;
	log_info("listening on %s with %d worker%s", env->conf.listen,
	    env->nworkers, env->nworkers == 1 ? "" : "s");
	rv = 0;
 done:
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	return rv;
}

void
http_stop(struct env *env)
{
	struct worker	*w;
	int		 i;

	if (env->workers == NULL)
		return;
	for (i = 0; i < env->nworkers; i++)
		if (env->workers[i].tid != 0) {
			event_base_loopexit(env->workers[i].base, NULL);
			pthread_join(env->workers[i].tid, NULL);
		}
	for (i = 0; i < env->nworkers; i++) {
		w = &env->workers[i];
		if (w->lev != NULL)
			evconnlistener_free(w->lev);
		audit_free_all(w);
		conn_free_all(w);
		cache_free(&w->cache);
		wconf_free(&w->conf);
		handoff_port_free(&w->port);
		for (int k = 0; k < DB_MAX; k++)
			if (w->views[k].latest != NULL)
				evbuffer_free(w->views[k].latest);
		store_close(w->st);
		if (w->base != NULL)
			event_base_free(w->base);
	}
	free(env->workers);
	env->workers = NULL;
}
