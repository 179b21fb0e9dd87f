/*
 * http.c: the listener and the router.  Paths are percent-decoded once
 * (a NUL or a malformed escape is a 400), then mapped to a database:
 * /sumdb/NAME/... for every configured NAME, and the bare /latest,
 * /lookup/... and /tile/... for the private log.  /sumdb/NAME/supported
 * is answered here, never forwarded.
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

#include "daemon.h"
#include "store.h"

void
http_reply(struct evhttp_request *req, int code, const char *type,
    const char *cache, struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct worker		*w = http_self;
	const char		*reason;
	char			 len[32];

	if (type != NULL)
		evhttp_add_header(h, "Content-Type", type);
	if (cache != NULL)
		evhttp_add_header(h, "Cache-Control", cache);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	/* Set here, so that HEAD replies carry it too. */
	snprintf(len, sizeof(len), "%zu", body != NULL ?
	    evbuffer_get_length(body) : 0);
	evhttp_add_header(h, "Content-Length", len);
	switch (code) {
	case 200:
		reason = "OK";
		break;
	case 400:
		reason = "Bad Request";
		break;
	case 404:
		reason = "Not Found";
		break;
	case 405:
		reason = "Method Not Allowed";
		break;
	case 413:
		reason = "Payload Too Large";
		break;
	case 429:
		reason = "Too Many Requests";
		break;
	case 502:
		reason = "Bad Gateway";
		break;
	case 503:
		reason = "Service Unavailable";
		break;
	default:
		reason = "Error";
		break;
	}
	/* libevent 2.1 would send the body with HEAD too. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		body = NULL;
	if (w != NULL) {
		/* Stopping: clients take the hint and reconnect elsewhere. */
		if (w->stopping)
			evhttp_add_header(h, "Connection", "close");
		metrics_observe(w, w->cur_route, code);
		conn_replied(w, req);
	}
	evhttp_send_reply(req, code, reason, body);
}

void
http_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;

	if ((body = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	va_start(ap, fmt);
	evbuffer_add_vprintf(body, fmt, ap);
	va_end(ap);
	evbuffer_add(body, "\n", 1);
	http_reply(req, code, "text/plain; charset=utf-8", "no-store", body);
	evbuffer_free(body);
}

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

static double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The route a raw path counts under in /metrics. */
static int
route_of(const char *p)
{
	const char	*s;

	if (strcmp(p, "/healthz") == 0)
		return RT_HEALTHZ;
	if (strcmp(p, "/metrics") == 0)
		return RT_METRICS;
	if (strcmp(p, "/audit") == 0)
		return RT_AUDIT;
	if (strncmp(p, "/tuf/", 5) == 0)
		return RT_TUF;
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

static void
route(struct evhttp_request *req, void *arg)
{
	struct worker		*w = arg;
	struct env		*env = w->env;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*raw, *rest;
	char			*path = NULL;
	size_t			 len;
	struct db		*db;
	enum evhttp_cmd_type	 cmd;
	int			 post;

	conn_request(w, req);
	w->cur_t0 = mono();
	w->cur_route = RT_OTHER;
	if (uri == NULL || (raw = evhttp_uri_get_path(uri)) == NULL ||
	    *raw != '/') {
		http_error(req, 400, "malformed request path");
		return;
	}
	w->cur_route = route_of(raw);
	/* POST is for /audit alone; everything else is GET or HEAD. */
	post = strcmp(raw, "/audit") == 0;
	cmd = evhttp_request_get_command(req);
	if (post ? cmd != EVHTTP_REQ_POST : cmd != EVHTTP_REQ_GET &&
	    cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", post ? "POST" : "GET, HEAD");
		http_error(req, 405, "method not allowed");
		return;
	}
	if (post) {
		serve_audit(w, req, evhttp_uri_get_query(uri));
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
	log_debug("%s %s", evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ?
	    "HEAD" : "GET", path);
	if (strcmp(path, "/healthz") == 0) {
		serve_healthz(w, req);
		goto done;
	}
	if (strncmp(path, "/tuf/", 5) == 0) {
		serve_tuf(w, req, path + 5);
		goto done;
	}
	if (strcmp(path, "/metrics") == 0) {
		serve_metrics(w, req);
		goto done;
	}
	if (strncmp(path, "/sumdb/", 7) == 0) {
		if ((db = match_db(env, path + 7, &rest)) == NULL) {
			http_error(req, 404, "not found: unknown checksum "
			    "database");
			goto done;
		}
		if (strcmp(rest, "supported") == 0) {
			http_reply(req, 200, "text/plain; charset=utf-8",
			    "no-store", NULL);
			goto done;
		}
		serve_db(w, db, req, rest);
		goto done;
	}
	/* The bare paths: the private log, or else the only mirror. */
	db = env->log != NULL ? env->log : env->ndbs == 1 ? env->dbs[0] : NULL;
	if (db != NULL && (strcmp(path, "/latest") == 0 ||
	    strncmp(path, "/lookup/", 8) == 0 ||
	    strncmp(path, "/tile/", 6) == 0)) {
		serve_db(w, db, req, path + 1);
		goto done;
	}
	http_error(req, 404, "not found");
 done:
	free(path);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	http_self = w;
	event_base_dispatch(w->base);
	return NULL;
}

/* Set up worker w listening on ai; 0 or -1. */
static int
worker_init(struct env *env, struct worker *w, const struct addrinfo *ai)
{
	struct evconnlistener	*lev;
	char			 err[512];
	int			 i;

	w->env = env;
	pthread_mutex_init(&w->mu, NULL);
	TAILQ_INIT(&w->done);
	TAILQ_INIT(&w->adopt);
	if ((w->base = event_base_new()) == NULL ||
	    (w->http = evhttp_new(w->base)) == NULL ||
	    (w->done_ev = event_new(w->base, -1, 0, privlog_done, w)) ==
	    NULL || (w->adopt_ev = event_new(w->base, -1, 0, conn_adopt,
	    w)) == NULL) {
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
	/* Others are refused by route(), with a text body. */
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(w->http, route, w);
	evhttp_set_bevcb(w->http, conn_new, w);
	if ((lev = evconnlistener_new_bind(w->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, 1024, ai->ai_addr,
	    (int)ai->ai_addrlen)) == NULL) {
		log_warn("listen on '%s'", env->conf.listen);
		return -1;
	}
	if (evhttp_bind_listener(w->http, lev) == NULL) {
		evconnlistener_free(lev);
		log_warnx("listen on '%s': evhttp_bind_listener failed",
		    env->conf.listen);
		return -1;
	}
	w->lev = lev;
	wconf_apply(-1, 0, w);
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
	struct missreq	*m;
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
		while ((m = TAILQ_FIRST(&w->done)) != NULL) {
			TAILQ_REMOVE(&w->done, m, entry);
			free(m);
		}
		/* evhttp_free() frees the listener before the connections. */
		w->lev = NULL;
		if (w->http != NULL)
			evhttp_free(w->http);
		conn_free_all(w);
		wconf_free(&w->conf);
		if (w->done_ev != NULL)
			event_free(w->done_ev);
		if (w->adopt_ev != NULL)
			event_free(w->adopt_ev);
		for (int k = 0; k < DB_MAX; k++)
			if (w->views[k].latest != NULL)
				evbuffer_free(w->views[k].latest);
		store_close(w->st);
		if (w->base != NULL)
			event_base_free(w->base);
		pthread_mutex_destroy(&w->mu);
	}
	free(env->workers);
	env->workers = NULL;
}
