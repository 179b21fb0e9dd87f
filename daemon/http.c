/*
 * http.c: the listener and the router.  Paths are percent-decoded once
 * (a NUL or a malformed escape is a 400), then mapped to a database:
 * /sumdb/NAME/... for every configured NAME, and the bare /latest,
 * /lookup/... and /tile/... for the private log.  /sumdb/NAME/supported
 * is answered here, never forwarded.
 */

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

void
http_reply(struct evhttp_request *req, int code, const char *type,
    const char *cache, struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
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
	struct db	*db = env->log;
	size_t		 len;

	if (db == NULL)
		return NULL;
	len = strlen(db->name);
	if (strncmp(path, db->name, len) == 0 && path[len] == '/') {
		*rest = path + len + 1;
		return db;
	}
	return NULL;
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct env		*env = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*raw, *rest;
	char			*path = NULL;
	size_t			 len;
	struct db		*db;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		http_error(req, 405, "method not allowed");
		return;
	}
	if (uri == NULL || (raw = evhttp_uri_get_path(uri)) == NULL ||
	    *raw != '/') {
		http_error(req, 400, "malformed request path");
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
		serve_db(env, db, req, rest);
		goto done;
	}
	if (env->log != NULL && (strcmp(path, "/latest") == 0 ||
	    strncmp(path, "/lookup/", 8) == 0 ||
	    strncmp(path, "/tile/", 6) == 0)) {
		serve_db(env, env->log, req, path + 1);
		goto done;
	}
	http_error(req, 404, "not found");
 done:
	free(path);
}

int
http_start(struct env *env)
{
	char		*host, *colon, *end;
	long		 port;

	if ((env->http = evhttp_new(env->base)) == NULL) {
		log_warnx("evhttp_new failed");
		return -1;
	}
	if ((host = strdup(env->conf.listen)) == NULL) {
		log_warn("strdup");
		return -1;
	}
	if ((colon = strrchr(host, ':')) == NULL) {
		log_warnx("listen '%s': want host:port", env->conf.listen);
		free(host);
		return -1;
	}
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535) {
		log_warnx("listen '%s': bad port", env->conf.listen);
		free(host);
		return -1;
	}
	/* [::1]:8080 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	/* Others are refused by route(), with a text body. */
	evhttp_set_allowed_methods(env->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(env->http, env->conf.max_header_size);
	evhttp_set_max_body_size(env->http, 0);
	evhttp_set_timeout(env->http, (int)((env->conf.idle_timeout + 999) /
	    1000));
	evhttp_set_gencb(env->http, route, env);
	if (evhttp_bind_socket(env->http, host, (uint16_t)port) != 0) {
		log_warn("listen on '%s'", env->conf.listen);
		free(host);
		return -1;
	}
	log_info("listening on %s", env->conf.listen);
	free(host);
	return 0;
}
