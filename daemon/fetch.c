/*
 * fetch.c: outbound GETs for the GOPROXY and, later, upstream sumdbs:
 * HTTP and HTTPS through libevent and OpenSSL (certificates and host
 * names verified, TLS 1.2 or newer), with a size limit on the head and
 * on the body (the connection is dropped as soon as either is passed,
 * not drained), a time limit on the whole exchange, and at most five
 * redirects, never from https down to http and, unless the caller
 * allows it, only to the first URL's scheme, host and port.  file://
 * URLs are read from disk.  A body goes to memory or, for the large
 * ones (module zips), to a file as it arrives.  libevent holds a whole
 * chunk of a chunked body before it passes it on, so the large ones are
 * asked for with HTTP/1.0, to which a server must not send chunks, and
 * a chunked answer is refused.  The callback runs exactly once, from
 * the event loop.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"

#define MAX_REDIRECTS	5
#define MAX_HEAD	(64 << 10)	/* status line and header fields */

struct fetch {
	struct env			*env;
	fetch_cb			 cb;
	void				*arg;
	char				*url;
	char				*origin;	/* scheme://host:port */
	struct evbuffer			*body;
	int				 fd;		/* -1: body in memory */
	size_t				 got;		/* bytes written to fd */
	size_t				 maxlen;
	struct evhttp_connection	*conn;
	struct event			*timer;
	int				 redirects;
	int				 https;		/* ever on https */
	int				 flags;		/* FETCH_* */
	int				 toolarge;
	int				 done;
	int				 status;
	char				 err[256];
};

static void	start(struct fetch *);

static void
cleanup(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;

	(void)fd;
	(void)ev;
	if (f->conn != NULL)
		evhttp_connection_free(f->conn);
	if (f->timer != NULL)
		event_free(f->timer);
	evbuffer_free(f->body);
	free(f->url);
	free(f->origin);
	free(f);
}

/* Report once, then free everything from a later loop iteration. */
static void
finish(struct fetch *f, int status, const char *err)
{
	struct timeval	 tv = { 0, 0 };

	if (f->done)
		return;
	f->done = 1;
	if (f->timer != NULL)
		event_del(f->timer);
	f->cb(status, f->body, err, f->arg);
	if (event_base_once(f->env->base, -1, EV_TIMEOUT, cleanup, f,
	    &tv) != 0)
		log_warnx("fetch: cannot schedule cleanup");
}

static void
timed_out(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;

	(void)fd;
	(void)ev;
	snprintf(f->err, sizeof(f->err), "'%s': timed out", f->url);
	finish(f, -1, f->err);
}

static void
got_chunk(struct evhttp_request *req, void *arg)
{
	struct fetch	*f = arg;
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 have;
	int		 n;

	have = f->fd == -1 ? evbuffer_get_length(f->body) : f->got;
	if (f->done || f->toolarge || have + evbuffer_get_length(in) >
	    f->maxlen) {
		if (!f->done)
			f->toolarge = 1;
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (f->fd == -1) {
		evbuffer_add_buffer(f->body, in);
		return;
	}
	while (evbuffer_get_length(in) > 0) {
		if ((n = evbuffer_write(in, f->fd)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(f->err, sizeof(f->err), "'%s': writing the "
			    "body: %s", f->url, n == 0 ? "short write" :
			    strerror(errno));
			evbuffer_drain(in, evbuffer_get_length(in));
			finish(f, -1, f->err);
			return;
		}
		f->got += (size_t)n;
	}
}

/* Forget the body read so far: a redirect's. */
static int
body_reset(struct fetch *f)
{
	evbuffer_drain(f->body, evbuffer_get_length(f->body));
	if (f->fd == -1 || f->got == 0)
		return 0;
	f->got = 0;
	if (ftruncate(f->fd, 0) == -1 || lseek(f->fd, 0, SEEK_SET) == -1) {
		snprintf(f->err, sizeof(f->err), "'%s': %s", f->url,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A head is in.  Into a file, the body must come as it is, not chunked
 * (libevent would hold a whole chunk, of any size, in memory).
 */
static int
got_head(struct evhttp_request *req, void *arg)
{
	struct fetch	*f = arg;

	if (f->fd != -1 && evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Transfer-Encoding") !=
	    NULL) {
		snprintf(f->err, sizeof(f->err), "'%s': a chunked answer to "
		    "an HTTP/1.0 request", f->url);
		finish(f, -1, f->err);
		return -1;
	}
	return 0;
}

static void
got_error(enum evhttp_request_error e, void *arg)
{
	struct fetch	*f = arg;
	const char	*what = "connection failed";

	if (f->done)
		return;
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		what = "timed out";
		break;
	case EVREQ_HTTP_EOF:
		what = "connection closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		/* libevent says this too of a head over MAX_HEAD. */
		snprintf(f->err, sizeof(f->err), "'%s': invalid response head, "
		    "or larger than %d bytes", f->url, MAX_HEAD);
		return;
	case EVREQ_HTTP_BUFFER_ERROR:
		what = "connection failed";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		snprintf(f->err, sizeof(f->err), "'%s': body larger than %zu "
		    "bytes", f->url, f->maxlen);
		return;
	default:
		break;
	}
	snprintf(f->err, sizeof(f->err), "'%s': %s", f->url, what);
}

/*
 * "scheme://host:port" of an http(s) URL, the port always written and
 * the host in lower case: what a redirect must keep.  NULL if malformed.
 */
static char *
url_origin(const char *url)
{
	struct evhttp_uri	*uri;
	const char		*scheme, *host;
	char			*o = NULL, *p;
	int			 port;

	if ((uri = evhttp_uri_parse(url)) == NULL)
		return NULL;
	if ((scheme = evhttp_uri_get_scheme(uri)) != NULL &&
	    (host = evhttp_uri_get_host(uri)) != NULL && *host != '\0') {
		if ((port = evhttp_uri_get_port(uri)) == -1)
			port = strcmp(scheme, "https") == 0 ? 443 : 80;
		if (asprintf(&o, "%s://%s:%d", scheme, host, port) == -1)
			o = NULL;
		for (p = o; p != NULL && *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
	}
	evhttp_uri_free(uri);
	return o;
}

/*
 * The URL a Location header sends us to, from f->url: an absolute
 * http(s) URL, or a path on the same origin.  NULL, with f->err set,
 * if the redirect is refused.
 */
static char *
redirect_target(struct fetch *f, const char *loc)
{
	char	*next = NULL, *o = NULL;

	if (loc[0] == '/' && loc[1] != '/') {
		if ((o = url_origin(f->url)) == NULL ||
		    asprintf(&next, "%s%s", o, loc) == -1)
			next = NULL;
		free(o);
		if (next == NULL)
			snprintf(f->err, sizeof(f->err), "out of memory");
		return next;
	}
	if (strncmp(loc, "https://", 8) != 0 &&
	    (f->https || strncmp(loc, "http://", 7) != 0)) {
		snprintf(f->err, sizeof(f->err), "'%s': refusing redirect to "
		    "'%.100s'", f->url, loc);
		return NULL;
	}
	if (!(f->flags & FETCH_ANYHOST) && ((o = url_origin(loc)) == NULL ||
	    f->origin == NULL || strcmp(o, f->origin) != 0)) {
		snprintf(f->err, sizeof(f->err), "'%s': refusing redirect to "
		    "another host: '%.100s'", f->url, loc);
		free(o);
		return NULL;
	}
	free(o);
	if ((next = strdup(loc)) == NULL)
		snprintf(f->err, sizeof(f->err), "out of memory");
	return next;
}

static void
free_conn(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	evhttp_connection_free(arg);
}

static void
got_answer(struct evhttp_request *req, void *arg)
{
	struct fetch	*f = arg;
	struct timeval	 tv = { 0, 0 };
	const char	*loc;
	char		*next;
	int		 code;

	if (f->done)
		return;
	if (req == NULL || (code = evhttp_request_get_response_code(req)) ==
	    0) {
		if (f->err[0] == '\0')
			snprintf(f->err, sizeof(f->err), "'%s': connection "
			    "failed", f->url);
		finish(f, -1, f->err);
		return;
	}
	got_chunk(req, f);
	if (f->done)		/* the body could not be written */
		return;
	if ((code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308) && (loc = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Location")) != NULL) {
		if (++f->redirects > MAX_REDIRECTS) {
			snprintf(f->err, sizeof(f->err), "'%s': too many "
			    "redirects", f->url);
			finish(f, -1, f->err);
			return;
		}
		if ((next = redirect_target(f, loc)) == NULL) {
			finish(f, -1, f->err);
			return;
		}
		free(f->url);
		f->url = next;
		if (body_reset(f) != 0) {
			finish(f, -1, f->err);
			return;
		}
		/* The old connection is still in its callback: defer. */
		if (event_base_once(f->env->base, -1, EV_TIMEOUT, free_conn,
		    f->conn, &tv) != 0) {
			finish(f, -1, "cannot schedule cleanup");
			return;
		}
		f->conn = NULL;
		start(f);
		return;
	}
	if (f->toolarge) {
		snprintf(f->err, sizeof(f->err), "'%s': body larger than %zu "
		    "bytes", f->url, f->maxlen);
		finish(f, -1, f->err);
		return;
	}
	finish(f, code, NULL);
}

static void
start(struct fetch *f)
{
	struct evhttp_uri	*uri = NULL;
	struct evhttp_request	*req;
	struct bufferevent	*bev;
	struct evkeyvalq	*h;
	SSL			*ssl = NULL;
	const char		*scheme, *host, *path, *query;
	char			 target[4096], hostport[300];
	int			 port, https;

	if ((uri = evhttp_uri_parse(f->url)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(uri)) == NULL ||
	    (host = evhttp_uri_get_host(uri)) == NULL || *host == '\0') {
		snprintf(f->err, sizeof(f->err), "'%s': malformed URL",
		    f->url);
		goto fail;
	}
	https = strcmp(scheme, "https") == 0;
	if (!https && strcmp(scheme, "http") != 0) {
		snprintf(f->err, sizeof(f->err), "'%s': unsupported scheme",
		    f->url);
		goto fail;
	}
	f->https |= https;
	if ((port = evhttp_uri_get_port(uri)) == -1)
		port = https ? 443 : 80;
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/",
	    query ? "?" : "", query ? query : "");
	if (https) {
		if ((ssl = SSL_new(f->env->client_tls)) == NULL ||
		    SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1) {
			snprintf(f->err, sizeof(f->err), "'%s': TLS setup "
			    "failed", f->url);
			goto fail;
		}
		bev = bufferevent_openssl_socket_new(f->env->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		ssl = NULL;	/* owned by bev, or freed with it */
	} else
		bev = bufferevent_socket_new(f->env->base, -1,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL || (f->conn = evhttp_connection_base_bufferevent_new(
	    f->env->base, f->env->dns, bev, host, port)) == NULL) {
		snprintf(f->err, sizeof(f->err), "'%s': cannot connect",
		    f->url);
		goto fail;
	}
	evhttp_connection_set_timeout(f->conn, 30);
	evhttp_connection_set_retries(f->conn, 0);
	/* Past either limit libevent drops the connection at once. */
	evhttp_connection_set_max_headers_size(f->conn, MAX_HEAD);
	evhttp_connection_set_max_body_size(f->conn, f->maxlen);
	if ((req = evhttp_request_new(got_answer, f)) == NULL) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		goto fail;
	}
	evhttp_request_set_chunked_cb(req, got_chunk);
	evhttp_request_set_header_cb(req, got_head);
	evhttp_request_set_error_cb(req, got_error);
	if (f->fd != -1) {
		req->major = 1;		/* HTTP/1.0: no chunks */
		req->minor = 0;
	}
	h = evhttp_request_get_output_headers(req);
	if ((https && port == 443) || (!https && port == 80))
		snprintf(hostport, sizeof(hostport), "%s", host);
	else
		snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "sumdbd");
	evhttp_add_header(h, "Connection", "close");
	if (evhttp_make_request(f->conn, req, EVHTTP_REQ_GET, target) != 0) {
		snprintf(f->err, sizeof(f->err), "'%s': request failed",
		    f->url);
		goto fail;
	}
	evhttp_uri_free(uri);
	return;
 fail:
	if (ssl != NULL)
		SSL_free(ssl);
	if (uri != NULL)
		evhttp_uri_free(uri);
	finish(f, -1, f->err);
}

/* Read a file:// URL: 200, 404 when absent, -1 on other errors. */
static int
read_file(struct fetch *f)
{
	struct evhttp_uri	*uri;
	struct stat		 sb;
	const char		*path;
	char			*dec = NULL;
	size_t			 declen;
	int			 fd = -1, n = 0, status = -1;

	if ((uri = evhttp_uri_parse(f->url)) == NULL ||
	    (path = evhttp_uri_get_path(uri)) == NULL ||
	    (dec = evhttp_uridecode(path, 0, &declen)) == NULL ||
	    strlen(dec) != declen || strstr(dec, "/../") != NULL) {
		snprintf(f->err, sizeof(f->err), "'%s': malformed URL",
		    f->url);
		goto done;
	}
	if ((fd = open(dec, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			status = 404;
			goto done;
		}
		snprintf(f->err, sizeof(f->err), "'%s': %s", dec,
		    strerror(errno));
		goto done;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		status = 404;
		goto done;
	}
	if ((size_t)sb.st_size > f->maxlen) {
		snprintf(f->err, sizeof(f->err), "'%s': larger than %zu "
		    "bytes", dec, f->maxlen);
		goto done;
	}
	if (f->fd != -1) {
		/* No copy: the caller's descriptor becomes the file's. */
		if (dup3(fd, f->fd, O_CLOEXEC) == -1) {
			snprintf(f->err, sizeof(f->err), "'%s': %s", dec,
			    strerror(errno));
			goto done;
		}
		f->got = sb.st_size;
		status = 200;
		goto done;
	}
	/* evbuffer_read() takes at most a few KiB a call: loop. */
	while ((n = evbuffer_read(f->body, fd, 1 << 20)) > 0)
		if (evbuffer_get_length(f->body) > f->maxlen)
			break;
	if (n == -1) {
		snprintf(f->err, sizeof(f->err), "'%s': %s", dec,
		    strerror(errno));
		goto done;
	}
	if (evbuffer_get_length(f->body) != (size_t)sb.st_size) {
		snprintf(f->err, sizeof(f->err), "'%s': changed while read",
		    dec);
		goto done;
	}
	status = 200;
 done:
	if (fd != -1)
		close(fd);
	free(dec);
	if (uri != NULL)
		evhttp_uri_free(uri);
	return status;
}

static void
read_file_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;
	int		 status;

	(void)fd;
	(void)ev;
	status = read_file(f);
	finish(f, status, status == -1 ? f->err : NULL);
}

static int
new_fetch(struct env *env, const char *url, int fd, size_t maxlen,
    int64_t timeout_ms, int flags, fetch_cb cb, void *arg)
{
	struct fetch	*f;
	struct timeval	 tv = { 0, 0 };

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->url = strdup(url)) == NULL ||
	    (f->body = evbuffer_new()) == NULL) {
		log_warn("fetch");
		if (f != NULL) {
			free(f->url);
			free(f);
		}
		return -1;
	}
	f->env = env;
	f->cb = cb;
	f->arg = arg;
	f->fd = fd;
	f->maxlen = maxlen;
	f->flags = flags;
	if (strncmp(url, "file://", 7) == 0) {
		/* Deliver from the loop, like a network answer. */
		if (event_base_once(env->base, -1, EV_TIMEOUT, read_file_cb,
		    f, &tv) != 0)
			goto bad;
		return 0;
	}
	if ((f->timer = evtimer_new(env->base, timed_out, f)) == NULL)
		goto bad;
	f->origin = url_origin(url);	/* NULL: start() refuses it */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	start(f);
	return 0;
 bad:
	evbuffer_free(f->body);
	free(f->url);
	free(f);
	return -1;
}

int
fetch_get(struct env *env, const char *url, size_t maxlen, int64_t timeout_ms,
    int flags, fetch_cb cb, void *arg)
{
	return new_fetch(env, url, -1, maxlen, timeout_ms, flags, cb, arg);
}

int
fetch_get_fd(struct env *env, const char *url, int fd, size_t maxlen,
    int64_t timeout_ms, int flags, fetch_cb cb, void *arg)
{
	if (fd < 0)
		return -1;
	return new_fetch(env, url, fd, maxlen, timeout_ms, flags, cb, arg);
}

int
fetch_tmpfile(const char *dir)
{
	char	 path[4096];
	int	 fd, saved;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) != -1)
		return fd;
	/* A file system without O_TMPFILE: a name, removed at once. */
	if (snprintf(path, sizeof(path), "%s/.sumdbd-fetch.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		return -1;
	if (unlink(path) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * For commands: an event loop (that other threads may wake: modfetch
 * hashes in threads), a resolver and TLS; 0 or -1.
 */
int
fetch_client_init(struct env *env)
{
	if (evthread_use_pthreads() != 0 ||
	    (env->base = event_base_new()) == NULL ||
	    (env->dns = evdns_base_new(env->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL ||
	    env_client_tls(env) != 0) {
		log_warnx("cannot set up the event loop");
		return -1;
	}
	return 0;
}

void
fetch_client_free(struct env *env)
{
	if (env->dns != NULL)
		evdns_base_free(env->dns, 0);
	env->dns = NULL;
	if (env->base != NULL)
		event_base_free(env->base);
	env->base = NULL;
}

struct fwait {
	struct env	*env;
	int		 status;
	int		 done;
	struct evbuffer	*out;
	char		*err;
	size_t		 errsize;
};

static void
fwait_done(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct fwait	*g = arg;

	g->status = status;
	if (body != NULL)
		evbuffer_add_buffer(g->out, body);
	if (g->err != NULL)
		snprintf(g->err, g->errsize, "%s", err != NULL ? err : "");
	g->done = 1;
	event_base_loopexit(g->env->base, NULL);
}

/*
 * For commands: GET url into out (emptied first), running the event
 * loop until it is answered.  The status (with err set when it is not
 * 200), or -1 if it could not be asked.
 */
int
fetch_wait(struct env *env, const char *url, size_t maxlen,
    int64_t timeout_ms, struct evbuffer *out, char *err, size_t errsize)
{
	struct fwait	 g = { env, -1, 0, out, err, errsize };

	evbuffer_drain(out, evbuffer_get_length(out));
	if (fetch_get(env, url, maxlen, timeout_ms, 0, fwait_done, &g) != 0)
		return -1;
	while (!g.done)
		event_base_dispatch(env->base);
	return g.status;
}
