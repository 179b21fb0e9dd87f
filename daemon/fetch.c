/*
 * fetch.c: outbound GETs, to the GOPROXY and to upstream sumdbs, on
 * libcurl's multi interface driven by our libevent loop
 * (curl_multi_socket_action(): an event per socket curl names, and one
 * timer).  HTTP/2 where the server offers it (ALPN), many requests on
 * one connection; HTTP/1.1 with keep-alive otherwise.  TLS 1.2 or
 * newer, certificates and host names verified.
 *
 * Our contract, kept whatever curl does: the callback runs exactly once,
 * from the event loop; the body is capped while it arrives (the
 * transfer is aborted, not drained); the head is capped; the whole
 * exchange, retries included, has one time limit.  Redirects are ours,
 * not curl's: at most five, never from https down to http and, unless
 * the caller allows it, only to the first URL's scheme, host and port;
 * an auth_header goes only to the origin it belongs to, so a credential
 * never follows a redirect to another host.  Transient failures
 * (connect errors, 429, 502, 503, 504) are retried with capped
 * exponential backoff and jitter, honouring Retry-After, within the
 * time limit; a body over its cap is never retried.  The egress proxy
 * is the caller's, or the environment's (HTTPS_PROXY, HTTP_PROXY,
 * NO_PROXY, in upper or lower case, as the go command reads them).
 * file:// URLs are read from disk with O_NOFOLLOW.
 */

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <sodium.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sumdbd.h"

#define MAX_REDIRECTS	5
#define MAX_HEAD	(64 << 10)	/* status lines and header fields */
#define RETRY_BASE_MS	250
#define RETRY_CAP_MS	8000
#define STATS_MAX	256	/* (target, code, version) counters */
#define TARGETS_MAX	32

/* One counter of /metrics; written once, then only incremented. */
struct fstat {
	int		 target;	/* index into targets */
	int		 code;		/* HTTP status; 0: no answer */
	int		 version;	/* CURL_HTTP_VERSION_*, 0: none */
	uint64_t	 n;		/* atomic */
};

struct fetch;
TAILQ_HEAD(fetchlist, fetch);

struct fetcher {
	struct env	*env;
	CURLM		*multi;
	struct event	*timer;
	struct fetchlist active;
	int		 stopping;	/* fetch_stop(): no new fetches */
	char		*cainfo;	/* SSL_CERT_FILE, SSL_CERT_DIR */
	char		*capath;
	/* /metrics: appended by the main thread, read by workers */
	char		 targets[TARGETS_MAX][128];
	uint64_t	 retries[TARGETS_MAX];		/* atomic */
	uint64_t	 proxy_errors[TARGETS_MAX];	/* atomic */
	int		 ntargets;			/* atomic */
	struct fstat	 stats[STATS_MAX];
	int		 nstats;			/* atomic */
};

struct fetch {
	TAILQ_ENTRY(fetch)	 entry;
	struct fetcher		*fx;
	fetch_cb		 cb;
	void			*arg;
	char			*url;		/* this hop's */
	char			*origin;	/* the first URL's */
	struct evbuffer		*body;
	int			 fd;		/* -1: body in memory */
	size_t			 got;	/* bytes written to fd */
	size_t			 maxlen;
	CURL			*easy;
	struct curl_slist	*hdrs;
	struct event		*timer;		/* retry backoff */
	double			 deadline;	/* mono() */
	int			 redirects;
	int			 retried;	/* transient failures */
	int			 https;		/* ever on https */
	int			 flags;		/* FETCH_* */
	int			 toolarge;
	int			 headtoolarge;
	int			 werr;	/* writing to fd failed */
	size_t			 headlen;
	int64_t			 retry_after;	/* s; -1: none */
	int			 target;	/* metrics index */
	int			 done;
	/* the caller's options, copied */
	char			*proxy;	/* NULL: environment */
	char			*proxy_auth;
	char			*netrc;
	char			*auth_header;
	char			*auth_origin;
	int			 nretries;
	uint8_t			*post;		/* a POST's body, or NULL */
	size_t			 postlen;
	char			 curlerr[CURL_ERROR_SIZE];
	char			 err[1024];
};

static void	attempt(struct fetch *);
static void	check_done(struct fetcher *);

/* Free f and everything it holds; it is off the multi handle. */
static void
fetch_free_one(struct fetch *f)
{
	if (f->easy != NULL) {
		curl_multi_remove_handle(f->fx->multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	curl_slist_free_all(f->hdrs);
	if (f->timer != NULL)
		event_free(f->timer);
	evbuffer_free(f->body);
	free(f->url);
	free(f->origin);
	free(f->proxy);
	config_secret_free(f->proxy_auth);
	free(f->netrc);
	config_secret_free(f->auth_header);
	free(f->auth_origin);
	free(f->post);
	free(f);
}

/* Report once, then free f.  Called from the loop, never inside curl. */
static void
finish(struct fetch *f, int status, const char *err)
{
	if (f->done)
		return;
	f->done = 1;
	TAILQ_REMOVE(&f->fx->active, f, entry);
	f->cb(status, f->body, err, f->arg);
	fetch_free_one(f);
}

static void
deliver(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;

	(void)fd;
	(void)ev;
	finish(f, -1, f->err);
}

/* Fail f from the loop (never from inside the caller's call). */
static void
fail_later(struct fetch *f)
{
	struct timeval	 tv = { 0, 0 };

	if (f->timer == NULL &&
	    (f->timer = evtimer_new(f->fx->env->base, deliver, f)) == NULL)
		fatalx("fetch: cannot schedule a failure");
	event_del(f->timer);
	event_assign(f->timer, f->fx->env->base, -1, 0, deliver, f);
	evtimer_add(f->timer, &tv);
}

/* URL u with any user:password@ removed, for messages. */
static void
redact(const char *u, char *out, size_t outsize)
{
	const char	*s, *at, *end;

	if ((s = strstr(u, "://")) == NULL) {
		snprintf(out, outsize, "%s", u);
		return;
	}
	s += 3;
	end = s + strcspn(s, "/?#");
	if ((at = memchr(s, '@', end - s)) == NULL) {
		snprintf(out, outsize, "%s", u);
		return;
	}
	snprintf(out, outsize, "%.*s%s", (int)(s - u), u, at + 1);
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
			port = strcasecmp(scheme, "https") == 0 ? 443 : 80;
		if (asprintf(&o, "%s://%s:%d", scheme, host, port) == -1)
			o = NULL;
		for (p = o; p != NULL && *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
	}
	evhttp_uri_free(uri);
	return o;
}

/* Metrics: the index of target name, added if new; -1 when full. */
static int
target_index(struct fetcher *fx, const char *name)
{
	int	 i, n = __atomic_load_n(&fx->ntargets, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		if (strcmp(fx->targets[i], name) == 0)
			return i;
	if (n == TARGETS_MAX)
		return -1;
	snprintf(fx->targets[n], sizeof(fx->targets[n]), "%s", name);
	__atomic_store_n(&fx->ntargets, n + 1, __ATOMIC_RELEASE);
	return n;
}

static void
count(struct fetcher *fx, int target, int code, int version)
{
	int	 i, n = __atomic_load_n(&fx->nstats, __ATOMIC_ACQUIRE);

	if (target < 0)
		return;
	for (i = 0; i < n; i++)
		if (fx->stats[i].target == target && fx->stats[i].code ==
		    code && fx->stats[i].version == version)
			break;
	if (i == n) {
		if (n == STATS_MAX)
			return;
		fx->stats[n].target = target;
		fx->stats[n].code = code;
		fx->stats[n].version = version;
		fx->stats[n].n = 0;
		__atomic_store_n(&fx->nstats, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&fx->stats[i].n, 1, __ATOMIC_RELAXED);
}

static const char *
version_name(int v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return "1.0";
	case CURL_HTTP_VERSION_1_1:
		return "1.1";
	case CURL_HTTP_VERSION_2_0:
		return "2";
	case CURL_HTTP_VERSION_3:
		return "3";
	default:
		return "none";
	}
}

static void
fetch_metrics(struct env *env, struct evbuffer *out)
{
	struct fetcher	*fx = env->fetch;
	const char	*t;
	char		 code[16];
	int		 i, n, nt;

	if (fx == NULL)
		return;
	n = __atomic_load_n(&fx->nstats, __ATOMIC_ACQUIRE);
	nt = __atomic_load_n(&fx->ntargets, __ATOMIC_ACQUIRE);
	evbuffer_add_printf(out, "# HELP sumdbd_fetch_requests_total Outbound "
	    "HTTP requests by target, status (none: no answer) and HTTP "
	    "version.\n# TYPE sumdbd_fetch_requests_total counter\n");
	for (i = 0; i < n; i++) {
		t = fx->targets[fx->stats[i].target];
		if (fx->stats[i].code > 0)
			snprintf(code, sizeof(code), "%d", fx->stats[i].code);
		else
			snprintf(code, sizeof(code), "none");
		evbuffer_add_printf(out, "sumdbd_fetch_requests_total{target="
		    "\"%s\",code=\"%s\",version=\"%s\"} %llu\n", t, code,
		    version_name(fx->stats[i].version),
		    (unsigned long long)__atomic_load_n(&fx->stats[i].n,
		    __ATOMIC_RELAXED));
	}
	evbuffer_add_printf(out, "# HELP sumdbd_fetch_retries_total Outbound "
	    "requests retried after a transient failure.\n"
	    "# TYPE sumdbd_fetch_retries_total counter\n");
	for (i = 0; i < nt; i++)
		evbuffer_add_printf(out, "sumdbd_fetch_retries_total{target="
		    "\"%s\"} %llu\n", fx->targets[i], (unsigned long long)
		    __atomic_load_n(&fx->retries[i], __ATOMIC_RELAXED));
	evbuffer_add_printf(out, "# HELP sumdbd_fetch_proxy_errors_total "
	    "Outbound requests that failed at the egress proxy.\n"
	    "# TYPE sumdbd_fetch_proxy_errors_total counter\n");
	for (i = 0; i < nt; i++)
		evbuffer_add_printf(out, "sumdbd_fetch_proxy_errors_total{"
		    "target=\"%s\"} %llu\n", fx->targets[i],
		    (unsigned long long)__atomic_load_n(&fx->proxy_errors[i],
		    __ATOMIC_RELAXED));
}

/* The environment's proxy for url, as the go command reads it, or NULL. */
static const char *
env_proxy(const char *url)
{
	const char	*v;

	if (strncasecmp(url, "https://", 8) == 0) {
		if ((v = getenv("HTTPS_PROXY")) == NULL || *v == '\0')
			v = getenv("https_proxy");
	} else if ((v = getenv("HTTP_PROXY")) == NULL || *v == '\0')
		v = getenv("http_proxy");
	return v != NULL && *v != '\0' ? v : NULL;
}

static const char *
env_noproxy(void)
{
	const char	*v;

	if ((v = getenv("NO_PROXY")) == NULL || *v == '\0')
		v = getenv("no_proxy");
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Whether IP literal host lies in CIDR block cidr ("10.0.0.0/8"). */
static int
in_cidr(const char *host, const char *cidr)
{
	unsigned char	 a[16], b[16];
	char		 net[64], *slash, *end;
	long		 bits;
	int		 af, len, i;

	if (snprintf(net, sizeof(net), "%s", cidr) >= (int)sizeof(net) ||
	    (slash = strchr(net, '/')) == NULL)
		return 0;
	*slash = '\0';
	af = strchr(net, ':') != NULL ? AF_INET6 : AF_INET;
	len = af == AF_INET6 ? 16 : 4;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || bits < 0 || bits > len * 8 ||
	    inet_pton(af, net, b) != 1 || inet_pton(af, host, a) != 1)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != b[i])
			return 0;
	return bits == 0 || ((a[i] ^ b[i]) & (0xff << (8 - bits))) == 0;
}

int
fetch_noproxy(const char *noproxy, const char *url)
{
	struct evhttp_uri	*uri;
	const char		*h, *scheme, *p, *e;
	char			 host[256], ent[256], *colon;
	size_t			 n, hl;
	int			 port, eport, r = 0;

	if (noproxy == NULL || (uri = evhttp_uri_parse(url)) == NULL)
		return 0;
	if ((h = evhttp_uri_get_host(uri)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(uri)) == NULL ||
	    snprintf(host, sizeof(host), "%s", h) >= (int)sizeof(host)) {
		evhttp_uri_free(uri);
		return 0;
	}
	if ((port = evhttp_uri_get_port(uri)) == -1)
		port = strcasecmp(scheme, "https") == 0 ? 443 : 80;
	evhttp_uri_free(uri);
	hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl -= 2] = '\0';
	}
	for (p = noproxy; *p != '\0' && !r; p = *e != '\0' ? e + 1 : e) {
		p += strspn(p, " \t");
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(ent))
			continue;
		memcpy(ent, p, n);
		ent[n] = '\0';
		if (strcmp(ent, "*") == 0) {
			r = 1;
			continue;
		}
		if (strchr(ent, '/') != NULL) {
			r = in_cidr(host, ent);
			continue;
		}
		/* host:port, [v6]:port: the port must match too. */
		eport = -1;
		if (ent[0] == '[' && (colon = strstr(ent, "]:")) != NULL) {
			eport = atoi(colon + 2);
			colon[1] = '\0';
		} else if ((colon = strrchr(ent, ':')) != NULL &&
		    strchr(ent, ':') == colon) {
			eport = atoi(colon + 1);
			*colon = '\0';
		}
		if (eport != -1 && eport != port)
			continue;
		if (ent[0] == '[' && (n = strlen(ent)) > 2 &&
		    ent[n - 1] == ']') {
			memmove(ent, ent + 1, n - 2);
			ent[n - 2] = '\0';
		}
		if (ent[0] == '*' && ent[1] == '.')
			memmove(ent, ent + 1, strlen(ent));
		n = strlen(ent);
		if (ent[0] == '.')
			r = hl > n && strcasecmp(host + hl - n, ent) == 0;
		else
			r = strcasecmp(host, ent) == 0 || (hl > n &&
			    host[hl - n - 1] == '.' &&
			    strcasecmp(host + hl - n, ent) == 0);
	}
	return r;
}

/*
 * The proxy this hop goes through, or NULL: the caller's, or the
 * environment's unless NO_PROXY names the host.  Ours is the only
 * decision: curl is told the proxy, or none, and no NO_PROXY.
 */
static const char *
hop_proxy(const struct fetch *f)
{
	if (f->proxy != NULL)
		return strcmp(f->proxy, "none") == 0 ? NULL : f->proxy;
	if (fetch_noproxy(env_noproxy(), f->url))
		return NULL;
	return env_proxy(f->url);
}

int64_t
fetch_retry_after(const char *p, size_t len)
{
	struct tm	 tm;
	char		 v[64], *end;
	long long	 ra;
	time_t		 t, now;
	size_t		 n;

	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	if (len == 0 || len >= sizeof(v))
		return -1;
	memcpy(v, p, len);
	v[len] = '\0';
	if (v[0] >= '0' && v[0] <= '9') {
		errno = 0;
		ra = strtoll(v, &end, 10);
		return *end == '\0' && errno == 0 ? ra : -1;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL ||
	    *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	now = time(NULL);
	n = t > now ? (size_t)(t - now) : 0;
	return (int64_t)n;
}

static size_t
got_header(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		f->retry_after = -1;	/* a new answer (after a 1xx) */
	f->headlen += len;
	if (f->headlen > MAX_HEAD) {
		f->headtoolarge = 1;
		return 0;
	}
	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		f->retry_after = fetch_retry_after(p + 12, len - 12);
	return len;
}

static size_t
got_body(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n, have, off;
	ssize_t		 w;

	have = f->fd == -1 ? evbuffer_get_length(f->body) : f->got;
	if (have + len > f->maxlen || have + len < have) {
		f->toolarge = 1;
		return 0;
	}
	if (f->fd == -1)
		return evbuffer_add(f->body, p, len) == 0 ? len : 0;
	for (off = 0; off < len; off += (size_t)w) {
		if ((w = write(f->fd, p + off, len - off)) == -1 &&
		    errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			snprintf(f->err, sizeof(f->err), "writing the body: %s",
			    w == 0 ? "short write" : strerror(errno));
			f->werr = 1;
			return 0;
		}
	}
	f->got += len;
	return len;
}

/* Forget the body read so far: a redirect's, or a failed attempt's. */
static int
body_reset(struct fetch *f)
{
	evbuffer_drain(f->body, evbuffer_get_length(f->body));
	if (f->fd == -1 || f->got == 0)
		return 0;
	f->got = 0;
	if (ftruncate(f->fd, 0) == -1 || lseek(f->fd, 0, SEEK_SET) == -1) {
		snprintf(f->err, sizeof(f->err), "'%.400s': %s", f->url,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Whether url may be the next hop after f->url: http(s) only, never
 * down from https, and on the first URL's origin unless FETCH_ANYHOST.
 * f->err says why not.
 */
static int
redirect_ok(struct fetch *f, const char *url)
{
	char	 a[512], b[512], *o;
	int	 same;

	redact(f->url, a, sizeof(a));
	redact(url, b, sizeof(b));
	if (strncasecmp(url, "https://", 8) != 0 &&
	    (f->https || strncasecmp(url, "http://", 7) != 0)) {
		snprintf(f->err, sizeof(f->err), "'%.400s': refusing redirect "
		    "to '%.100s'", a, b);
		return 0;
	}
	if (f->flags & FETCH_ANYHOST)
		return 1;
	o = url_origin(url);
	same = o != NULL && strcmp(o, f->origin) == 0;
	free(o);
	if (!same)
		snprintf(f->err, sizeof(f->err), "'%.400s': refusing redirect "
		    "to another host: '%.100s'", a, b);
	return same;
}

/*
 * Whether this hop's answer or failure is worth another attempt: no
 * connection, or one lost before any answer came (a keep-alive
 * connection the server had closed), or a status that says "later".
 * An answer cut short is not retried: it may have been a large one.
 */
static int
transient(const struct fetch *f, CURLcode res, long code)
{
	switch (res) {
	case CURLE_OK:
		return code == 429 || code == 502 || code == 503 ||
		    code == 504;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
		return 1;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return f->headlen == 0;
	default:
		return 0;
	}
}

static void
retry_now(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch	*f = arg;

	(void)fd;
	(void)ev;
	attempt(f);
}

/*
 * Try f again after a backoff, if its retries and its time allow; 1 if
 * it will be, 0 if not.
 */
static int
retry_later(struct fetch *f)
{
	struct timeval	 tv;
	int64_t		 ms, left;

	if (f->retried >= f->nretries)
		return 0;
	ms = (int64_t)RETRY_BASE_MS << (f->retried < 5 ? f->retried : 5);
	if (ms > RETRY_CAP_MS)
		ms = RETRY_CAP_MS;
	ms = ms / 2 + (int64_t)randombytes_uniform((uint32_t)(ms / 2 + 1));
	if (f->retry_after >= 0 && f->retry_after * 1000 > ms)
		ms = f->retry_after * 1000;
	left = (int64_t)((f->deadline - mono()) * 1000);
	if (ms + 100 >= left)
		return 0;
	if (body_reset(f) != 0)
		return 0;
	if (f->timer == NULL &&
	    (f->timer = evtimer_new(f->fx->env->base, retry_now, f)) == NULL)
		return 0;
	event_del(f->timer);
	event_assign(f->timer, f->fx->env->base, -1, 0, retry_now, f);
	f->retried++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	if (f->target >= 0)
		__atomic_add_fetch(&f->fx->retries[f->target], 1,
		    __ATOMIC_RELAXED);
	return 1;
}

/* Whether a failed hop failed at the proxy; the reason in why. */
static int
proxy_failed(struct fetch *f, CURLcode res, char *why, size_t whysize)
{
	long	 cc = 0;

	if (hop_proxy(f) == NULL)
		return 0;
	curl_easy_getinfo(f->easy, CURLINFO_HTTP_CONNECTCODE, &cc);
	if (cc >= 300) {
		snprintf(why, whysize, "the proxy answered %ld to CONNECT%s",
		    cc, cc == 407 ? " (proxy_auth?)" : "");
		return 1;
	}
	if (res == CURLE_COULDNT_RESOLVE_PROXY || res == CURLE_COULDNT_CONNECT
#if LIBCURL_VERSION_NUM >= 0x074900
	    || res == CURLE_PROXY
#endif
	    ) {
		snprintf(why, whysize, "%s", f->curlerr[0] != '\0' ?
		    f->curlerr : curl_easy_strerror(res));
		return 1;
	}
	return 0;
}

/* f's hop failed at the proxy, for why (u: its URL, redacted). */
static void
proxy_error(struct fetch *f, const char *u, const char *why)
{
	char	 px[512];

	redact(hop_proxy(f), px, sizeof(px));
	snprintf(f->err, sizeof(f->err), "'%.400s': proxy '%.200s': %.300s",
	    u, px, why);
	if (f->target >= 0)
		__atomic_add_fetch(&f->fx->proxy_errors[f->target], 1,
		    __ATOMIC_RELAXED);
}

/* One hop's transfer ended with res. */
static void
hop_done(struct fetch *f, CURLcode res)
{
	char	 u[512], why[600];
	char	*loc = NULL, *next;
	long	 code = 0, ver = 0;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(f->easy, CURLINFO_HTTP_VERSION, &ver);
	count(f->fx, f->target, (int)code, (int)ver);
	redact(f->url, u, sizeof(u));
	if (f->werr) {
		snprintf(why, sizeof(why), "%.200s", f->err);
		snprintf(f->err, sizeof(f->err), "'%.400s': %s", u, why);
		goto fail;
	}
	if (f->toolarge || res == CURLE_FILESIZE_EXCEEDED) {
		snprintf(f->err, sizeof(f->err), "'%.400s': body larger than "
		    "%zu bytes", u, f->maxlen);
		goto fail;
	}
	if (f->headtoolarge) {
		snprintf(f->err, sizeof(f->err), "'%.400s': invalid response "
		    "head, or larger than %d bytes", u, MAX_HEAD);
		goto fail;
	}
	if (res != CURLE_OK) {
		if (proxy_failed(f, res, why, sizeof(why)))
			proxy_error(f, u, why);
		else if (res == CURLE_OPERATION_TIMEDOUT)
			snprintf(f->err, sizeof(f->err), "'%.400s': timed "
			    "out", u);
		else if (res == CURLE_PARTIAL_FILE)
			snprintf(f->err, sizeof(f->err), "'%.400s': the answer "
			    "was cut short", u);
		else if (res == CURLE_COULDNT_CONNECT ||
		    res == CURLE_COULDNT_RESOLVE_HOST)
			snprintf(f->err, sizeof(f->err), "'%.400s': connection "
			    "failed: %s", u, f->curlerr[0] != '\0' ?
			    f->curlerr : curl_easy_strerror(res));
		else
			snprintf(f->err, sizeof(f->err), "'%.400s': %s", u,
			    f->curlerr[0] != '\0' ? f->curlerr :
			    curl_easy_strerror(res));
		if (transient(f, res, 0) && retry_later(f))
			return;
		goto fail;
	}
	/*
	 * Over http:// a proxy answers itself the GET it refuses, with no
	 * CONNECT whose code would tell; only a proxy sends 407.
	 */
	if (code == 407 && hop_proxy(f) != NULL) {
		proxy_error(f, u, "it answered 407 Proxy Authentication "
		    "Required (proxy_auth?)");
		goto fail;
	}
	if (code >= 300 && code < 400 && code != 304 &&
	    curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &loc) ==
	    CURLE_OK && loc != NULL) {
		if (++f->redirects > MAX_REDIRECTS) {
			snprintf(f->err, sizeof(f->err), "'%.400s': too many "
			    "redirects", u);
			goto fail;
		}
		if (!redirect_ok(f, loc))
			goto fail;
		if ((next = strdup(loc)) == NULL) {
			snprintf(f->err, sizeof(f->err), "out of memory");
			goto fail;
		}
		free(f->url);
		f->url = next;
		if (body_reset(f) != 0)
			goto fail;
		attempt(f);
		return;
	}
	if (transient(f, res, code) && retry_later(f))
		return;
	finish(f, (int)code, NULL);
	return;
 fail:
	finish(f, -1, f->err);
}

/* Start (or restart) f's current hop on the multi handle. */
static void
attempt(struct fetch *f)
{
	struct fetcher	*fx = f->fx;
	const char	*px;
	char		*colon, *o = NULL;
	int64_t		 left;

	f->headlen = 0;
	f->toolarge = f->headtoolarge = 0;
	f->retry_after = -1;
	f->curlerr[0] = '\0';
	if (f->easy != NULL) {
		curl_multi_remove_handle(fx->multi, f->easy);
		curl_easy_reset(f->easy);
	} else if ((f->easy = curl_easy_init()) == NULL) {
		snprintf(f->err, sizeof(f->err), "out of memory");
		goto fail;
	}
	curl_slist_free_all(f->hdrs);
	f->hdrs = NULL;
	if (strncasecmp(f->url, "https://", 8) == 0)
		f->https = 1;
	else if (strncasecmp(f->url, "http://", 7) != 0) {
		snprintf(f->err, sizeof(f->err), "'%.200s': unsupported "
		    "scheme", f->url);
		goto fail;
	}
	left = (int64_t)((f->deadline - mono()) * 1000);
	if (left <= 0) {
		snprintf(f->err, sizeof(f->err), "'%.200s': timed out",
		    f->url);
		goto fail;
	}
	curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
	curl_easy_setopt(f->easy, CURLOPT_URL, f->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->curlerr);
	curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "sumdbd");
	curl_easy_setopt(f->easy, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_2TLS);
	/*
	 * Waiting for a connection in use to say whether it multiplexes
	 * pays only on https, where ALPN says so at the handshake; on
	 * http:// libcurl learns it from the first answer's head, so every
	 * request to a slow host, or one that closes after each answer,
	 * would wait for the one before.
	 */
	curl_easy_setopt(f->easy, CURLOPT_PIPEWAIT,
	    strncasecmp(f->url, "https://", 8) == 0 ? 1L : 0L);
	curl_easy_setopt(f->easy, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (fx->cainfo != NULL)
		curl_easy_setopt(f->easy, CURLOPT_CAINFO, fx->cainfo);
	if (fx->capath != NULL)
		curl_easy_setopt(f->easy, CURLOPT_CAPATH, fx->capath);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(left < 30000 ? left : 30000));
	curl_easy_setopt(f->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)f->maxlen);
	curl_easy_setopt(f->easy, CURLOPT_HEADERFUNCTION, got_header);
	curl_easy_setopt(f->easy, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, got_body);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	/* The proxy: ours, never curl's own reading of the environment. */
	curl_easy_setopt(f->easy, CURLOPT_NOPROXY, "");
	if ((px = hop_proxy(f)) != NULL) {
		curl_easy_setopt(f->easy, CURLOPT_PROXY, px);
		if (fx->cainfo != NULL)
			curl_easy_setopt(f->easy, CURLOPT_PROXY_CAINFO,
			    fx->cainfo);
		if (fx->capath != NULL)
			curl_easy_setopt(f->easy, CURLOPT_PROXY_CAPATH,
			    fx->capath);
		if (f->proxy_auth != NULL &&
		    (colon = strchr(f->proxy_auth, ':')) != NULL) {
			*colon = '\0';
			curl_easy_setopt(f->easy, CURLOPT_PROXYUSERNAME,
			    f->proxy_auth);
			curl_easy_setopt(f->easy, CURLOPT_PROXYPASSWORD,
			    colon + 1);
			*colon = ':';
			/* Up front, as the go command: no 407 first. */
			curl_easy_setopt(f->easy, CURLOPT_PROXYAUTH,
			    (long)CURLAUTH_BASIC);
		}
	} else
		curl_easy_setopt(f->easy, CURLOPT_PROXY, "");
	if (f->netrc != NULL) {
		curl_easy_setopt(f->easy, CURLOPT_NETRC,
		    (long)CURL_NETRC_OPTIONAL);
		curl_easy_setopt(f->easy, CURLOPT_NETRC_FILE, f->netrc);
	}
	/* The header goes to its own origin only, never past a redirect. */
	if (f->auth_header != NULL && f->auth_origin != NULL &&
	    (o = url_origin(f->url)) != NULL &&
	    strcmp(o, f->auth_origin) == 0 &&
	    (f->hdrs = curl_slist_append(NULL, f->auth_header)) == NULL) {
		free(o);
		snprintf(f->err, sizeof(f->err), "out of memory");
		goto fail;
	}
	free(o);
	if (f->post != NULL) {
		struct curl_slist	*h;

		if ((h = curl_slist_append(f->hdrs,
		    "Content-Type: text/plain")) == NULL) {
			snprintf(f->err, sizeof(f->err), "out of memory");
			goto fail;
		}
		f->hdrs = h;
		curl_easy_setopt(f->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)f->postlen);
		curl_easy_setopt(f->easy, CURLOPT_POSTFIELDS, f->post);
	}
	if (f->hdrs != NULL)
		curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->hdrs);
	if (curl_multi_add_handle(fx->multi, f->easy) != CURLM_OK) {
		snprintf(f->err, sizeof(f->err), "'%.200s': cannot start",
		    f->url);
		goto fail;
	}
	return;
 fail:
	fail_later(f);
}

/* Hand every finished transfer to hop_done(). */
static void
check_done(struct fetcher *fx)
{
	CURLMsg		*msg;
	struct fetch	*f;
	CURLcode	 res;
	int		 left;

	while ((msg = curl_multi_info_read(fx->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		res = msg->data.result;
		f = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&f);
		if (f == NULL)
			continue;
		curl_multi_remove_handle(fx->multi, f->easy);
		hop_done(f, res);
	}
}

static void
on_socket(evutil_socket_t fd, short ev, void *arg)
{
	struct fetcher	*fx = arg;
	int		 running, flags = 0;

	if (ev & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (ev & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(fx->multi, fd, flags, &running);
	check_done(fx);
}

static void
on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct fetcher	*fx = arg;
	int		 running;

	(void)fd;
	(void)ev;
	curl_multi_socket_action(fx->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(fx);
}

/* curl: watch socket s for what (CURL_POLL_*). */
static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct fetcher	*fx = userp;
	struct event	*ev = sockp;
	short		 kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		curl_multi_assign(fx->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ev == NULL) {
		if ((ev = event_new(fx->env->base, s, kind, on_socket, fx)) ==
		    NULL)
			return -1;
		curl_multi_assign(fx->multi, s, ev);
	} else {
		event_del(ev);
		event_assign(ev, fx->env->base, s, kind, on_socket, fx);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

/* curl: call back in ms milliseconds (-1: never). */
static int
timer_cb(CURLM *multi, long ms, void *userp)
{
	struct fetcher	*fx = userp;
	struct timeval	 tv;

	(void)multi;
	if (ms < 0)
		return evtimer_del(fx->timer) == 0 ? 0 : -1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(fx->timer, &tv) == 0 ? 0 : -1;
}

static pthread_once_t	curl_once = PTHREAD_ONCE_INIT;
static int		curl_ok;

static void
curl_global(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int
fetch_init(struct env *env)
{
	struct fetcher	*fx;
	const char	*v;

	if (env->fetch != NULL)
		return 0;
	pthread_once(&curl_once, curl_global);
	if (!curl_ok || (fx = calloc(1, sizeof(*fx))) == NULL) {
		log_warnx("fetch: cannot set up libcurl");
		return -1;
	}
	fx->env = env;
	TAILQ_INIT(&fx->active);
	if ((fx->multi = curl_multi_init()) == NULL ||
	    (fx->timer = evtimer_new(env->base, on_timer, fx)) == NULL)
		goto bad;
	/* Where OpenSSL itself would look (the tests' CAs, too). */
	if (((v = getenv("SSL_CERT_FILE")) != NULL && *v != '\0' &&
	    (fx->cainfo = strdup(v)) == NULL) ||
	    ((v = getenv("SSL_CERT_DIR")) != NULL && *v != '\0' &&
	    (fx->capath = strdup(v)) == NULL))
		goto bad;
	curl_multi_setopt(fx->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(fx->multi, CURLMOPT_SOCKETDATA, fx);
	curl_multi_setopt(fx->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(fx->multi, CURLMOPT_TIMERDATA, fx);
	curl_multi_setopt(fx->multi, CURLMOPT_PIPELINING,
	    (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(fx->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
	curl_multi_setopt(fx->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 64L);
	curl_multi_setopt(fx->multi, CURLMOPT_MAXCONNECTS, 32L);
	env->fetch = fx;
	if (env_metrics_add(env, fetch_metrics) != 0)
		log_warnx("fetch: no room for its metrics");
	return 0;
 bad:
	if (fx->multi != NULL)
		curl_multi_cleanup(fx->multi);
	if (fx->timer != NULL)
		event_free(fx->timer);
	free(fx->cainfo);
	free(fx->capath);
	free(fx);
	log_warnx("fetch: cannot set up libcurl");
	return -1;
}

void
fetch_stop(struct env *env)
{
	struct fetcher	*fx = env->fetch;
	struct fetch	*f;
	int		 n = 0;

	if (fx == NULL)
		return;
	fx->stopping = 1;
	/* Their callbacks may ask for more: new_fetch() refuses them. */
	while ((f = TAILQ_FIRST(&fx->active)) != NULL) {
		snprintf(f->err, sizeof(f->err), "'%.200s': sumdbd is stopping",
		    f->url);
		finish(f, -1, f->err);
		n++;
	}
	if (n > 0)
		log_info("stopping: %d upstream fetch%s in flight answered as "
		    "failed", n, n == 1 ? "" : "es");
}

void
fetch_free(struct env *env)
{
	struct fetcher	*fx = env->fetch;
	struct fetch	*f;

	if (fx == NULL)
		return;
	/* What is still in flight dies with the loop, unanswered. */
	while ((f = TAILQ_FIRST(&fx->active)) != NULL) {
		TAILQ_REMOVE(&fx->active, f, entry);
		fetch_free_one(f);
	}
	curl_multi_cleanup(fx->multi);
	event_free(fx->timer);
	free(fx->cainfo);
	free(fx->capath);
	free(fx);
	env->fetch = NULL;
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
		snprintf(f->err, sizeof(f->err), "'%.400s': malformed URL",
		    f->url);
		goto done;
	}
	if ((fd = open(dec, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			status = 404;
			goto done;
		}
		snprintf(f->err, sizeof(f->err), "'%.400s': %s", dec,
		    strerror(errno));
		goto done;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		status = 404;
		goto done;
	}
	if ((size_t)sb.st_size > f->maxlen) {
		snprintf(f->err, sizeof(f->err), "'%.400s': larger than %zu "
		    "bytes", dec, f->maxlen);
		goto done;
	}
	if (f->fd != -1) {
		/* No copy: the caller's descriptor becomes the file's. */
		if (dup3(fd, f->fd, O_CLOEXEC) == -1) {
			snprintf(f->err, sizeof(f->err), "'%.400s': %s", dec,
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
		snprintf(f->err, sizeof(f->err), "'%.400s': %s", dec,
		    strerror(errno));
		goto done;
	}
	if (evbuffer_get_length(f->body) != (size_t)sb.st_size) {
		snprintf(f->err, sizeof(f->err), "'%.400s': changed while read",
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

/* strdup that keeps NULL; 0, or -1 when out of memory. */
static int
dupopt(char **dst, const char *s)
{
	*dst = NULL;
	return s == NULL || (*dst = strdup(s)) != NULL ? 0 : -1;
}

static int
new_fetch(struct env *env, const char *url, int fd, size_t maxlen,
    int64_t timeout_ms, const struct fetchopt *o, const void *post,
    size_t postlen, fetch_cb cb, void *arg)
{
	static const struct fetchopt	 none;
	struct fetch			*f;
	struct timeval			 tv = { 0, 0 };

	if (o == NULL)
		o = &none;
	if (env->fetch == NULL && fetch_init(env) != 0)
		return -1;
	if (env->fetch->stopping)
		return -1;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->fx = env->fetch;
	f->fd = fd;
	f->maxlen = maxlen;
	f->cb = cb;
	f->arg = arg;
	f->flags = o->flags;
	f->nretries = o->retries;
	f->target = target_index(f->fx, o->target != NULL ? o->target :
	    "other");
	f->deadline = mono() + (double)timeout_ms / 1000;
	if ((f->url = strdup(url)) == NULL ||
	    (f->body = evbuffer_new()) == NULL ||
	    (post != NULL && (f->post = malloc(postlen + 1)) == NULL) ||
	    dupopt(&f->proxy, o->proxy) != 0 ||
	    dupopt(&f->proxy_auth, o->proxy_auth) != 0 ||
	    dupopt(&f->netrc, o->netrc) != 0 ||
	    dupopt(&f->auth_header, o->auth_header) != 0 ||
	    (o->auth_url != NULL &&
	    (f->auth_origin = url_origin(o->auth_url)) == NULL)) {
		log_warn("fetch");
		if (f->body == NULL)
			f->body = evbuffer_new();
		if (f->body != NULL)
			fetch_free_one(f);
		else {
			free(f->url);
			free(f);
		}
		return -1;
	}
	if (post != NULL) {
		memcpy(f->post, post, postlen);
		f->postlen = postlen;
	}
	TAILQ_INSERT_TAIL(&f->fx->active, f, entry);
	if (strncmp(url, "file://", 7) == 0 && post == NULL) {
		/* Deliver from the loop, like a network answer. */
		if ((f->timer = evtimer_new(env->base, read_file_cb, f)) ==
		    NULL || evtimer_add(f->timer, &tv) != 0) {
			TAILQ_REMOVE(&f->fx->active, f, entry);
			fetch_free_one(f);
			return -1;
		}
		return 0;
	}
	f->origin = url_origin(url);
	if (f->origin == NULL) {
		snprintf(f->err, sizeof(f->err), "'%.200s': malformed URL",
		    url);
		fail_later(f);
		return 0;
	}
	attempt(f);
	return 0;
}

int
fetch_get(struct env *env, const char *url, size_t maxlen, int64_t timeout_ms,
    const struct fetchopt *o, fetch_cb cb, void *arg)
{
	return new_fetch(env, url, -1, maxlen, timeout_ms, o, NULL, 0, cb,
	    arg);
}

int
fetch_post(struct env *env, const char *url, const void *body, size_t len,
    size_t maxlen, int64_t timeout_ms, const struct fetchopt *o,
    fetch_cb cb, void *arg)
{
	return new_fetch(env, url, -1, maxlen, timeout_ms, o, body, len, cb,
	    arg);
}

int
fetch_get_fd(struct env *env, const char *url, int fd, size_t maxlen,
    int64_t timeout_ms, const struct fetchopt *o, fetch_cb cb, void *arg)
{
	if (fd < 0)
		return -1;
	return new_fetch(env, url, fd, maxlen, timeout_ms, o, NULL, 0, cb,
	    arg);
}

void
fetch_opt(struct fetchopt *o, const struct config_egress *e,
    const char *target, const char *url, int anyhost)
{
	memset(o, 0, sizeof(*o));
	o->target = target;
	o->flags = anyhost ? FETCH_ANYHOST : 0;
	if (e == NULL)
		return;
	o->proxy = e->proxy;
	o->proxy_auth = e->proxy_auth_data;
	o->netrc = e->netrc;
	o->auth_header = e->auth_header_data;
	o->retries = (int)e->retries;
	o->auth_url = o->auth_header != NULL ? url : NULL;
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
 * hashes in threads) and libcurl; 0 or -1.
 */
int
fetch_client_init(struct env *env)
{
	if (evthread_use_pthreads() != 0 ||
	    (env->base = event_base_new()) == NULL ||
	    fetch_init(env) != 0) {
		log_warnx("cannot set up the event loop");
		return -1;
	}
	return 0;
}

void
fetch_client_free(struct env *env)
{
	fetch_free(env);
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
	struct fetchopt	 o;

	evbuffer_drain(out, evbuffer_get_length(out));
	fetch_opt(&o, NULL, "command", url, 0);
	if (fetch_get(env, url, maxlen, timeout_ms, &o, fwait_done, &g) != 0)
		return -1;
	while (!g.done)
		event_base_dispatch(env->base);
	return g.status;
}
