/*
 * conn.c: sumdbd's HTTP/1.1 server side, one connection at a time:
 * accepting (within max_connections), reading and parsing a request's
 * head and body, handing it to the router, writing the answer, keeping
 * the connection alive or closing it, timeouts, TLS and stopping.
 *
 * A connection answers one request at a time; a pipelined request
 * waits in the input until the answer before it is written.  The
 * router may answer later (a lookup miss): the connection is then kept
 * for it, even after the peer went away.
 *
 * A peer that sends requests without reading the answers is not
 * answered further: once more than OUT_HIGH bytes or QUEUE_MAX answers
 * wait unsent, the connection stops reading (and so stops running
 * pipelined requests) until its output drains.
 *
 * Each client address may hold max_connections_per_client connections
 * at once, over all workers; a connection past that is answered 503
 * and closed.
 *
 * States: C_IDLE between requests (idle_timeout), C_READING from a
 * request's first byte (request_timeout for the head and body),
 * C_BUSY while the router has it, C_CLOSING while the last answer is
 * written before closing, C_LINGER after it: the write side is shut
 * and what the peer still sends is read and dropped for LINGER_MS, so
 * that the answer is not lost to a reset.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define C_IDLE		0
#define C_READING	1
#define C_BUSY		2
#define C_CLOSING	3
#define C_LINGER	4

#define OUT_HIGH	(64 * 1024)	/* unsent bytes: stop reading */
#define QUEUE_MAX	16		/* unsent answers: stop reading */
#define LINGER_MS	1000		/* reading after the last answer */

struct conn {
	struct worker		*w;
	struct bufferevent	*bev;
	struct event		*timer;
	int			 state;
	int			 gone;		/* the peer left while busy */
	int64_t			 need;		/* body bytes still to come */
	int			 queued;	/* answers since output was empty */
	int			 held;		/* not reading: output to drain */
	int			 counted;	/* in its address's count */
	uint8_t			 addr[16];	/* the peer, IPv6 or v4-mapped */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct hreq		 req;
	TAILQ_ENTRY(conn)	 entry;		/* in w->conns */
};

static void	readcb(struct bufferevent *, void *);
static void	free_conn(struct conn *);

/* Whether c counts as a request in flight (for SIGTERM). */
static int
busy(const struct conn *c)
{
	return c->state != C_IDLE && c->state != C_LINGER;
}

static void
set_state(struct conn *c, int state)
{
	int	 was = busy(c);

	c->state = state;
	if (was != busy(c))
		__atomic_add_fetch(&c->w->active, busy(c) ? 1 : -1,
		    __ATOMIC_RELAXED);
}

static void
arm(struct conn *c, int64_t ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* Stop or resume accepting, by the connections open and the limit. */
void
conn_limits(struct worker *w)
{
	int	full = w->nconns >= w->conf.max_conns || w->stopping;

	if (w->lev == NULL || full == w->paused)
		return;
	if (full)
		evconnlistener_disable(w->lev);
	else
		evconnlistener_enable(w->lev);
	w->paused = full;
}

/*
 * Connections per client address, over every worker: a hash table of
 * the addresses with connections open, under peermu.  It holds at most
 * one entry per connection open.
 */
#define PEER_BUCKETS	1024

struct peer {
	LIST_ENTRY(peer)	 entry;
	uint8_t			 addr[16];
	int64_t			 n;
};
static LIST_HEAD(, peer)	 peers[PEER_BUCKETS];
static pthread_mutex_t		 peermu = PTHREAD_MUTEX_INITIALIZER;

/* The address of sa as 16 bytes: IPv6, or IPv4 mapped into it. */
static void
peer_addr(const struct sockaddr *sa, socklen_t len, uint8_t addr[16])
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6))
		memcpy(addr, &sin6->sin6_addr, 16);
}

/* addr's entry, made if create and absent; under peermu.  NULL if none. */
static struct peer *
peer_find(const uint8_t addr[16], int create)
{
	uint32_t	 h = 2166136261u;
	struct peer	*p;
	int		 i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	LIST_FOREACH(p, &peers[h % PEER_BUCKETS], entry)
		if (memcmp(p->addr, addr, 16) == 0)
			return p;
	if (create && (p = calloc(1, sizeof(*p))) != NULL) {
		memcpy(p->addr, addr, 16);
		LIST_INSERT_HEAD(&peers[h % PEER_BUCKETS], p, entry);
	}
	return p;
}

/* Count a connection from addr; 0, or -1 if it has max already. */
static int
peer_take(const uint8_t addr[16], int64_t max)
{
	struct peer	*p;
	int		 rv = -1;

	pthread_mutex_lock(&peermu);
	if ((p = peer_find(addr, 1)) != NULL && p->n < max) {
		p->n++;
		rv = 0;
	}
	if (p != NULL && p->n == 0) {
		LIST_REMOVE(p, entry);
		free(p);
	}
	pthread_mutex_unlock(&peermu);
	return rv;
}

/* A connection from addr closed. */
static void
peer_put(const uint8_t addr[16])
{
	struct peer	*p;

	pthread_mutex_lock(&peermu);
	if ((p = peer_find(addr, 0)) != NULL && --p->n <= 0) {
		LIST_REMOVE(p, entry);
		free(p);
	}
	pthread_mutex_unlock(&peermu);
}

/*
 * Writing.
 */

static const char *
reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Append s to the head being built at *p, bounded by end. */
static void
put(char **p, const char *end, const char *s, size_t len)
{
	if (len > (size_t)(end - *p))
		len = end - *p;
	memcpy(*p, s, len);
	*p += len;
}

#define PUTS(p, end, s)	put((p), (end), (s), strlen(s))

static void
put_num(char **p, const char *end, uint64_t v)
{
	char	 d[24];
	int	 i = sizeof(d);

	do {
		d[--i] = '0' + v % 10;
		v /= 10;
	} while (v > 0);
	put(p, end, d + i, sizeof(d) - i);
}

/* The Date header's value, formatted once a second per worker. */
static const char *
date_header(struct worker *w)
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	if (t != w->date_t) {
		gmtime_r(&t, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT",
		    &tm);
		w->date_t = t;
	}
	return w->date;
}

/* Close c without losing its answer: see C_LINGER. */
static void
linger(struct conn *c)
{
	evutil_socket_t	 fd = bufferevent_getfd(c->bev);

	/* TLS ends with its own close_notify: no half-close under it. */
	if (bufferevent_openssl_get_ssl(c->bev) != NULL || fd < 0 ||
	    shutdown(fd, SHUT_WR) != 0) {
		free_conn(c);
		return;
	}
	set_state(c, C_LINGER);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_enable(c->bev, EV_READ);
	arm(c, LINGER_MS);
}

/* Read requests again: the answers before drained. */
static void
resume(struct conn *c)
{
	c->held = 0;
	arm(c, c->w->conf.idle_timeout);
	bufferevent_enable(c->bev, EV_READ);
	/* A pipelined request may be waiting already. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* Forget r's credentials, wiping them. */
static void
drop_authz(struct hreq *r)
{
	if (r->authz == NULL)
		return;
	explicit_bzero(r->authz, strlen(r->authz));
	free(r->authz);
	r->authz = NULL;
}

/*
 * After an answer: read the next request, once the answers before it
 * are out if too many wait (the write callback resumes), or close.
 */
static void
next_request(struct conn *c, int close)
{
	struct hreq	*r = &c->req;
	size_t		 unsent;

	free(r->target);
	r->target = NULL;
	drop_authz(r);
	if (r->body != NULL)
		evbuffer_free(r->body);
	r->body = NULL;
	r->extra[0] = '\0';
	unsent = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (close) {
		set_state(c, C_CLOSING);
		bufferevent_disable(c->bev, EV_READ);
		evtimer_del(c->timer);
		/* The write callback closes once the answer is out. */
		if (unsent == 0)
			linger(c);
		return;
	}
	set_state(c, C_IDLE);
	if (unsent > OUT_HIGH || c->queued >= QUEUE_MAX) {
		/* The write timeout (idle_timeout) ends a peer that stalls. */
		c->held = 1;
		evtimer_del(c->timer);
		return;
	}
	resume(c);
}

void
http_reply(struct hreq *r, int code, const char *type, const char *cache,
    struct evbuffer *body)
{
	struct conn	*c = r->c;
	struct worker	*w = c->w;
	struct evbuffer	*out;
	char		 head[1024], *p = head, *end = head + sizeof(head);
	size_t		 blen = body != NULL ? evbuffer_get_length(body) : 0;
	int		 close;

	metrics_observe(w, r->route, code, r->t0);
	if (c->gone) {
		free_conn(c);
		return;
	}
	close = r->close || w->stopping || code == 400 || code == 408 ||
	    code == 413 || code == 414 || code == 417 || code == 431 ||
	    code == 501 || code == 505;
	PUTS(&p, end, "HTTP/1.1 ");
	put_num(&p, end, (uint64_t)code);
	PUTS(&p, end, " ");
	PUTS(&p, end, reason(code));
	PUTS(&p, end, "\r\nDate: ");
	PUTS(&p, end, date_header(w));
	if (type != NULL) {
		PUTS(&p, end, "\r\nContent-Type: ");
		PUTS(&p, end, type);
	}
	if (cache != NULL) {
		PUTS(&p, end, "\r\nCache-Control: ");
		PUTS(&p, end, cache);
	}
	PUTS(&p, end, "\r\nX-Content-Type-Options: nosniff\r\n"
	    "Content-Length: ");
	put_num(&p, end, blen);
	PUTS(&p, end, "\r\n");
	PUTS(&p, end, r->extra);
	if (close)
		PUTS(&p, end, "Connection: close\r\n");
	else if (r->minor == 0)
		PUTS(&p, end, "Connection: keep-alive\r\n");
	PUTS(&p, end, "\r\n");
	out = bufferevent_get_output(c->bev);
	c->queued++;
	evbuffer_add(out, head, p - head);
	if (body != NULL && !r->head)
		evbuffer_add_buffer(out, body);
	next_request(c, close);
}

void
http_error(struct hreq *r, int code, const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;

	if ((body = evbuffer_new()) == NULL) {
		http_reply(r, 500, NULL, NULL, NULL);
		return;
	}
	va_start(ap, fmt);
	evbuffer_add_vprintf(body, fmt, ap);
	va_end(ap);
	evbuffer_add(body, "\n", 1);
	http_reply(r, code, "text/plain; charset=utf-8", "no-store", body);
	evbuffer_free(body);
}

/* Add the header "name: value" to r's answer. */
void
http_header(struct hreq *r, const char *name, const char *value)
{
	size_t	 len = strlen(r->extra);

	snprintf(r->extra + len, sizeof(r->extra) - len, "%s: %s\r\n", name,
	    value);
}

/* The peer's address, numeric. */
const char *
http_peer(struct hreq *r)
{
	struct conn	*c = r->c;

	if (r->peer[0] == '\0' && getnameinfo((struct sockaddr *)&c->ss,
	    c->sslen, r->peer, sizeof(r->peer), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(r->peer, sizeof(r->peer), "?");
	return r->peer;
}

/* Whether r came with a client certificate that verified. */
int
http_client_cert(struct hreq *r)
{
	struct conn	*c = r->c;
	SSL		*ssl;

	if (!c->w->conf.client_ca || c->bev == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL)
		return 0;
	return SSL_get0_peer_certificate(ssl) != NULL &&
	    SSL_get_verify_result(ssl) == X509_V_OK;
}

/*
 * Reading.
 */

/* A request is whole: to the router. */
static void
dispatch(struct conn *c)
{
	evtimer_del(c->timer);
	set_state(c, C_BUSY);
	bufferevent_disable(c->bev, EV_READ);
	c->req.t0 = mono();
	http_route(c->w, &c->req);
}

/* A request the parser refused: answer code and close. */
static void
refuse(struct conn *c, int code)
{
	static const char *const why[] = {
		"malformed request", "request header fields too large",
		"request line too long", "unsupported HTTP version",
		"transfer codings are not supported: send Content-Length",
		"request body too large", "method name too long",
		"unsupported expectation", "request timeout: the request did "
		"not arrive whole in time", "too many connections from this "
		"address: close one and retry"
	};
	const char	*w;

	switch (code) {
	case 431: w = why[1]; break;
	case 414: w = why[2]; break;
	case 505: w = why[3]; break;
	case 501: w = c->req.method[0] != '\0' && strlen(c->req.method) <
	    sizeof(c->req.method) - 1 ? why[4] : why[6]; break;
	case 413: w = why[5]; break;
	case 417: w = why[7]; break;
	case 408: w = why[8]; break;
	case 503: w = why[9]; break;
	default: w = why[0]; break;
	}
	if (c->state != C_READING)
		set_state(c, C_READING);
	set_state(c, C_BUSY);
	c->req.route = RT_OTHER;
	c->req.t0 = mono();
	c->req.close = 1;
	if (code == 503)
		http_header(&c->req, "Retry-After", "1");
	http_error(&c->req, code, "%s", w);
}

/* The body of the request at hand: wait for it, or dispatch. */
static void
read_body(struct conn *c, struct evbuffer *in)
{
	size_t	 n = evbuffer_get_length(in);

	if ((int64_t)n > c->need)
		n = (size_t)c->need;
	if (n > 0) {
		evbuffer_remove_buffer(in, c->req.body, n);
		c->need -= (int64_t)n;
	}
	if (c->need == 0)
		dispatch(c);
}

static void
readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct hreq	*r = &c->req;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct httphead	 h;
	size_t		 len, max = (size_t)c->w->conf.max_header_size;
	const char	*p;
	int		 code;

	if (c->state == C_LINGER) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (c->state == C_BUSY || c->state == C_CLOSING)
		return;
	if (c->state == C_READING && r->body != NULL) {
		read_body(c, in);
		return;
	}
	if ((len = evbuffer_get_length(in)) == 0)
		return;
	if (c->state == C_IDLE) {
		set_state(c, C_READING);
		arm(c, c->w->conf.request_timeout);
	}
	if ((p = (const char *)evbuffer_pullup(in, len < max ? len : max)) ==
	    NULL) {
		refuse(c, 431);
		return;
	}
	if ((code = http_parse_head(p, len, max, &h)) == HTTP_PARTIAL)
		return;
	memcpy(r->method, h.method, sizeof(r->method));
	if (code != 0) {
		refuse(c, code);
		return;
	}
	if ((r->target = malloc(h.targetlen + 1)) == NULL) {
		refuse(c, 431);
		return;
	}
	memcpy(r->target, h.target, h.targetlen);
	r->target[h.targetlen] = '\0';
	if (h.authz != NULL && (r->authz = strndup(h.authz, h.authzlen)) ==
	    NULL) {
		refuse(c, 431);
		return;
	}
	r->minor = h.minor;
	r->close = h.close || (h.minor == 0 && !h.keepalive);
	r->head = strcmp(r->method, "HEAD") == 0;
	r->peer[0] = '\0';
	evbuffer_drain(in, h.headlen);
	if (h.length > 0) {
		if (h.length > c->w->conf.audit_max_body) {
			refuse(c, 413);
			return;
		}
		if ((r->body = evbuffer_new()) == NULL) {
			refuse(c, 431);
			return;
		}
		c->need = h.length;
		if (h.expect100 && (int64_t)evbuffer_get_length(in) < h.length)
			evbuffer_add(bufferevent_get_output(bev),
			    "HTTP/1.1 100 Continue\r\n\r\n", 25);
		read_body(c, in);
		return;
	}
	dispatch(c);
}

static void
writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (c->state == C_CLOSING) {
		linger(c);
		return;
	}
	c->queued = 0;
	if (c->held && c->state == C_IDLE)
		resume(c);
}

static void
eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	/* The router still has the request: keep c for its answer. */
	if (c->state == C_BUSY) {
		c->gone = 1;
		bufferevent_free(c->bev);
		c->bev = NULL;
		return;
	}
	free_conn(c);
}

/* idle_timeout between requests, request_timeout while one arrives. */
static void
timed_out(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	if (c->state == C_READING) {
		log_debug("%s: no whole request within request_timeout",
		    http_peer(&c->req));
		refuse(c, 408);
	} else if (c->state == C_IDLE || c->state == C_LINGER)
		free_conn(c);
}

static void
free_conn(struct conn *c)
{
	struct worker	*w = c->w;

	set_state(c, C_IDLE);
	TAILQ_REMOVE(&w->conns, c, entry);
	if (c->counted)
		peer_put(c->addr);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->timer);
	free(c->req.target);
	drop_authz(&c->req);
	if (c->req.body != NULL)
		evbuffer_free(c->req.body);
	free(c);
	__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	conn_limits(w);
}

/* The listener's callback: a new connection on fd. */
void
conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	SSL		*ssl = NULL;
	struct timeval	 wt = { w->conf.idle_timeout / 1000,
			    (w->conf.idle_timeout % 1000) * 1000 };

	(void)lev;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	c->req.c = c;
	if ((size_t)salen <= sizeof(c->ss)) {
		memcpy(&c->ss, sa, salen);
		c->sslen = salen;
	}
	peer_addr(sa, salen, c->addr);
	if (w->conf.tls != NULL) {
		if ((ssl = SSL_new(w->conf.tls)) != NULL &&
		    (c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) != NULL)
			/* Peers closing without close_notify are no error. */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		else if (ssl != NULL)
			SSL_free(ssl);
	} else
		c->bev = bufferevent_socket_new(w->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL || (c->timer = evtimer_new(w->base, timed_out,
	    c)) == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		free(c);
		return;
	}
	/*
	 * Answers go out whole at once: without this, the last piece of
	 * one over a write's 16 KiB waits for the peer's delayed ACK.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	__atomic_add_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	bufferevent_setcb(c->bev, readcb, writecb, eventcb, c);
	/* Answers that a peer does not read in time close it. */
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	bufferevent_enable(c->bev, EV_READ);
	arm(c, w->conf.idle_timeout);
	conn_limits(w);
	if (peer_take(c->addr, w->conf.max_conns_per_client) == 0)
		c->counted = 1;
	else
		refuse(c, 503);
}

/*
 * Stopping, every 20 ms: close the connections between requests whose
 * answers are all written; count those still writing one.
 */
static void
drain_idle(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c, *next;
	int64_t		 writing = 0;

	(void)fd;
	(void)ev;
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state != C_IDLE || c->bev == NULL)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			writing++;
		else
			free_conn(c);
	}
	__atomic_store_n(&w->writing, writing, __ATOMIC_RELAXED);
}

/* SIGTERM: accept no more; answers from now on close their connection. */
void
conn_stop(struct worker *w)
{
	w->stopping = 1;
	conn_limits(w);
	drain_idle(-1, 0, w);
	if ((w->drain_ev = event_new(w->base, -1, EV_PERSIST, drain_idle,
	    w)) != NULL)
		event_add(w->drain_ev, &(struct timeval){ 0, 20000 });
}

/* At exit: every connection, answered or not. */
void
conn_free_all(struct worker *w)
{
	struct conn	*c;

	w->lev = NULL;
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		free_conn(c);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	w->drain_ev = NULL;
}
