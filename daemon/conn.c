/*
 * conn.c: the connections of a worker.  evhttp owns them; sumdbd keeps
 * a struct conn beside each one, to cap how many are open
 * (max_connections), to bound how long a request may take to arrive
 * once its first byte has (request_timeout, against slow senders), to
 * know which are busy when stopping, and to wrap them in TLS.
 *
 * evhttp asks conn_new() for each accepted connection's bufferevent
 * and only then makes the connection, so the new conn is adopted a
 * moment later in the same loop iteration (conn_adopt), when evhttp's
 * connection is the bufferevent's callback argument.  It is forgotten
 * in evhttp's close callback.  A request's connection is found by its
 * socket (byfd).
 */

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define C_IDLE		0	/* between requests */
#define C_READING	1	/* a request has begun to arrive */
#define C_BUSY		2	/* a request is being answered */

struct conn {
	struct worker		*w;
	struct bufferevent	*bev;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *cbent;
	struct event		*timer;		/* request_timeout */
	int			 fd;
	int			 state;
	TAILQ_ENTRY(conn)	 entry;		/* in w->adopt */
};

static void
set_active(struct conn *c, int state)
{
	int	was = c->state != C_IDLE, is = state != C_IDLE;

	c->state = state;
	if (was != is)
		__atomic_add_fetch(&c->w->active, is ? 1 : -1,
		    __ATOMIC_RELAXED);
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

struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct worker		*w = arg;
	struct bufferevent	*bev;
	struct conn		*c;
	SSL			*ssl;

	if (w->conf.tls != NULL) {
		if ((ssl = SSL_new(w->conf.tls)) == NULL)
			return NULL;
		if ((bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) ==
		    NULL) {
			SSL_free(ssl);
			return NULL;
		}
		/* Clients that close without close_notify are not errors. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return bev;
	c->w = w;
	c->bev = bev;
	c->fd = -1;
	TAILQ_INSERT_TAIL(&w->adopt, c, entry);
	event_active(w->adopt_ev, EV_TIMEOUT, 0);
	__atomic_add_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	conn_limits(w);
	return bev;
}

/* Forget c; its connection is gone or going. */
static void
conn_gone(struct conn *c)
{
	struct worker	*w = c->w;

	if (c->cbent != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->cbent);
	if (c->fd >= 0 && c->fd < w->nbyfd && w->byfd[c->fd] == c)
		w->byfd[c->fd] = NULL;
	set_active(c, C_IDLE);
	if (c->timer != NULL)
		event_free(c->timer);
	__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	free(c);
	conn_limits(w);
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_gone(arg);
}

/* A request took too long to arrive: close its connection. */
static void
conn_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
	log_debug("closing a connection: no whole request within "
	    "request_timeout");
	evhttp_connection_free(c->evcon);
}

/* Bytes arrived: the first of a request starts its clock. */
static void
conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn	*c = arg;
	struct timeval	 tv;

	(void)buf;
	if (info->n_added == 0 || c->state != C_IDLE)
		return;
	set_active(c, C_READING);
	tv.tv_sec = c->w->conf.request_timeout / 1000;
	tv.tv_usec = (c->w->conf.request_timeout % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static int
byfd_grow(struct worker *w, int fd)
{
	struct conn	**p;
	int		  n;

	if (fd < w->nbyfd)
		return 0;
	n = fd + 1 > 2 * w->nbyfd ? fd + 1 : 2 * w->nbyfd;
	if ((p = reallocarray(w->byfd, n, sizeof(*p))) == NULL)
		return -1;
	memset(p + w->nbyfd, 0, (n - w->nbyfd) * sizeof(*p));
	w->byfd = p;
	w->nbyfd = n;
	return 0;
}

void
conn_adopt(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	void		*cbarg = NULL;

	(void)fd;
	(void)ev;
	while ((c = TAILQ_FIRST(&w->adopt)) != NULL) {
		TAILQ_REMOVE(&w->adopt, c, entry);
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		c->evcon = cbarg;
		c->fd = bufferevent_getfd(c->bev);
		if (c->evcon == NULL || c->fd < 0 || byfd_grow(w, c->fd) != 0 ||
		    (c->timer = evtimer_new(w->base, conn_timeout, c)) ==
		    NULL || (c->cbent = evbuffer_add_cb(
		    bufferevent_get_input(c->bev), conn_input, c)) == NULL) {
			/* Untracked, it would escape the limits: close it. */
			if (c->evcon != NULL)
				evhttp_connection_free(c->evcon);
			conn_gone(c);
			continue;
		}
		w->byfd[c->fd] = c;
		evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	}
}

static struct conn *
conn_of(struct worker *w, struct evhttp_request *req)
{
	struct evhttp_connection *evcon;
	struct conn	*c;
	int		 fd;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (fd = bufferevent_getfd(evhttp_connection_get_bufferevent(
	    evcon))) < 0 || fd >= w->nbyfd || (c = w->byfd[fd]) == NULL ||
	    c->evcon != evcon)
		return NULL;
	return c;
}

/* A whole request arrived and is being answered. */
void
conn_request(struct worker *w, struct evhttp_request *req)
{
	struct conn	*c;

	if ((c = conn_of(w, req)) == NULL)
		return;
	evtimer_del(c->timer);
	set_active(c, C_BUSY);
}

/* Its answer is on its way. */
void
conn_replied(struct worker *w, struct evhttp_request *req)
{
	struct conn	*c;

	if ((c = conn_of(w, req)) != NULL && c->state == C_BUSY)
		set_active(c, C_IDLE);
}

/*
 * Stopping, every 20 ms: close the connections between requests whose
 * answers are all written; count those still writing one.
 */
static void
conn_drain(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	int64_t		 writing = 0;
	int		 i;

	(void)fd;
	(void)ev;
	for (i = 0; i < w->nbyfd; i++) {
		if ((c = w->byfd[i]) == NULL || c->state != C_IDLE)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			writing++;
		else
			evhttp_connection_free(c->evcon);
	}
	__atomic_store_n(&w->writing, writing, __ATOMIC_RELAXED);
}

/* SIGTERM: accept no more; answers from now on close their connection. */
void
conn_stop(struct worker *w)
{
	w->stopping = 1;
	conn_limits(w);
	conn_drain(-1, 0, w);
	if ((w->drain_ev = event_new(w->base, -1, EV_PERSIST, conn_drain,
	    w)) != NULL)
		event_add(w->drain_ev, &(struct timeval){ 0, 20000 });
}

/* At exit, after evhttp_free(): what was never adopted. */
void
conn_free_all(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->adopt)) != NULL) {
		TAILQ_REMOVE(&w->adopt, c, entry);
		free(c);
	}
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	w->drain_ev = NULL;
	free(w->byfd);
	w->byfd = NULL;
	w->nbyfd = 0;
}

/*
 * A server context for cert and key (PEM files): TLS 1.2 and 1.3 only.
 * NULL with the reason in err.
 */
struct ssl_ctx_st *
conn_tls_new(const char *cert, const char *key, char *err, size_t errsize)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		e = ERR_peek_last_error();
		snprintf(err, errsize, "tls_certificate '%s': %s", cert,
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "cannot be loaded");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		e = ERR_peek_last_error();
		snprintf(err, errsize, "tls_key '%s': %s", key,
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "cannot be loaded");
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errsize, "tls_key '%s' does not match "
		    "tls_certificate '%s'", key, cert);
		goto out;
	}
	ERR_clear_error();
	return ctx;
 fail:
	snprintf(err, errsize, "cannot set up TLS");
 out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}
