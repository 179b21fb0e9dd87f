/*
 * http.h: the HTTP layer, daemon/http/: worker threads, each with its
 * own event loop, store handle, cache and settings (struct wconf),
 * serving the sumdb routes, /tuf/, /audit, /metrics and /healthz from
 * the store.  Code here runs in worker threads, except http_start(),
 * http_stop(), http_drain() and http_active(), which the main thread
 * calls; it reads only its worker's wconf and the atomics of struct db,
 * never env->conf, and reaches the writers only through the handoff.
 */

#ifndef HTTP_H
#define HTTP_H

#include "sumdbd.h"

struct evconnlistener;
struct sockaddr;

/* Answer types and cache lifetimes. */
#define TYPE_TEXT	"text/plain; charset=UTF-8"
#define TYPE_BINARY	"application/octet-stream"
#define CACHE_FOREVER	"public, max-age=31536000, immutable"
#define CACHE_SHORT	"public, max-age=60"
#define CACHE_LATEST	"public, max-age=5"

/* A worker thread's own copy of a database's newest checkpoint. */
struct dbview {
	struct evbuffer		*latest;
	int64_t			 size;
	unsigned		 gen;
};

/* A client address's requests in the current minute (POST /audit). */
#define AUDIT_BUCKETS	256
struct ratebucket {
	uint64_t		 addr;		/* hash of the address */
	int64_t			 minute;
	int64_t			 count;
};

/* What /metrics counts per route: statuses and a latency histogram. */
enum route {
	RT_SUPPORTED, RT_LATEST, RT_LOOKUP, RT_TILE, RT_TUF, RT_AUDIT,
	RT_METRICS, RT_HEALTHZ, RT_WITNESS, RT_OTHER, RT_MAX
};
#define ST_MAX		15	/* the statuses counted, and "other" */
#define HIST_MAX	13	/* latency buckets, and +Inf */
struct httpstats {
	uint64_t		 status[RT_MAX][ST_MAX];
	uint64_t		 hist[RT_MAX][HIST_MAX];
	uint64_t		 usec[RT_MAX];		/* sum of latencies */
};

/* A worker's answers that never change (cache.c). */
struct centry;
TAILQ_HEAD(centrylist, centry);
struct cache {
	struct centry		**tab;
	struct centrylist	 lru;
	size_t			 bytes, max;
	uint64_t		 hits, misses;	/* atomic */
};

struct conn;
TAILQ_HEAD(connlist, conn);
struct auditjob;
TAILQ_HEAD(auditlist, auditjob);

/*
 * A request being answered (conn.c).  The router and the handlers read
 * method, target, head and body and answer with http_reply().
 */
struct hreq {
	struct conn		*c;
	char			 method[16];
	char			*target;	/* as sent: path?query */
	int			 minor;		/* HTTP/1.minor */
	int			 head;		/* HEAD: no body in the answer */
	int			 close;		/* close after the answer */
	struct evbuffer		*body;		/* a request body, or NULL */
	int			 route;		/* for /metrics */
	double			 t0;		/* when it arrived whole */
	char			 extra[256];	/* more answer headers */
	char			 peer[64];	/* http_peer(), once asked */
	char			*authz;		/* Authorization, or NULL */
};

/* What http_parse_head() finds in a request's head. */
struct httphead {
	char			 method[16];
	const char		*target;	/* into the buffer parsed */
	size_t			 targetlen;
	int			 minor;
	int64_t			 length;	/* Content-Length, or -1 */
	int			 chunked;	/* Transfer-Encoding given */
	int			 close;		/* Connection: close */
	int			 keepalive;	/* Connection: keep-alive */
	int			 expect100;	/* Expect: 100-continue */
	const char		*authz;		/* Authorization, or NULL */
	size_t			 authzlen;
	size_t			 headlen;	/* bytes up to the body */
};
#define HTTP_PARTIAL	(-1)

/* A thread that serves HTTP with its own event loop and store handle. */
struct worker {
	struct env		*env;
	int			 id;
	pthread_t		 tid;
	struct event_base	*base;
	struct store		*st;		/* read only */
	struct dbview		 views[DB_MAX];	/* by db->idx */
	struct handoff_port	 port;		/* answers from the main thread */
	struct ratebucket	 audit_rl[AUDIT_BUCKETS];	/* POST /audit */
	struct wconf		 conf;
	struct evconnlistener	*lev;
	/* connections (conn.c) */
	struct connlist		 conns;
	int64_t			 nconns;	/* open: atomic */
	int64_t			 active;	/* reading or answered: atomic */
	int64_t			 writing;	/* stopping: answers unsent */
	struct event		*drain_ev;	/* stopping: closes idle ones */
	int			 paused;	/* at max_conns: not accepting */
	int			 stopping;
	char			 date[40];	/* the Date header, cached */
	int64_t			 date_t;
	struct httpstats	 stats;		/* atomic */
	struct cache		 cache;
	struct auditlist	 audits;	/* POST /audit in progress */
};

/* server.c: workers and the router */
/*
 * Main thread, at start-up: the listener and env->nworkers workers,
 * each with its own loop and store handle; registers env->publish.
 * 0, or -1 (logged).
 */
int	http_start(struct env *env);
/* Main thread, at exit: stop the workers, join and free them. */
void	http_stop(struct env *env);
/* Main thread: stop accepting; answer and close what is open. */
void	http_drain(struct env *env);
/* Any thread: requests being read or answered, over all workers. */
int64_t	http_active(struct env *env);
/* Route req (whole, read by conn.c) to its handler. */
void	http_route(struct worker *w, struct hreq *req);

/* conn.c: the HTTP/1.1 server side: connections, requests, answers */
/* evconnlistener callback: take a new connection (arg is the worker). */
void	conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
	    struct sockaddr *sa, int salen, void *arg);
/*
 * Answer req with code, type, cache (Cache-Control, or NULL) and body
 * (drained; may be NULL), then go on with the connection's next
 * request.  Exactly one http_reply() or http_error() per request.
 */
void	http_reply(struct hreq *req, int code, const char *type,
	    const char *cache, struct evbuffer *body);
/* Answer req with code and a one-line text body from fmt. */
void	http_error(struct hreq *req, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Add a header (name: value) to req's coming answer. */
void	http_header(struct hreq *req, const char *name, const char *value);
/* The client's address ("192.0.2.1", "2001:db8::1"), valid with req. */
const char *http_peer(struct hreq *req);
/* Whether req came over TLS with a client certificate that verified. */
int	http_client_cert(struct hreq *req);
/* Apply w->conf's connection limits (after a settings change). */
void	conn_limits(struct worker *w);
/* Stop accepting; close idle connections, the rest once answered. */
void	conn_stop(struct worker *w);
/* After w's loop stopped: free every connection. */
void	conn_free_all(struct worker *w);

/* parse.c: a request's head */
/*
 * Parse the head in buf[0..len-1] (at most max bytes) into h: 0,
 * HTTP_PARTIAL when more bytes are needed, or an HTTP status to refuse
 * with (400, 413, 431, 501, 505).
 */
int	http_parse_head(const char *buf, size_t len, size_t max,
	    struct httphead *h);

/* cache.c: a worker's answers that never change, LRU, max bytes */
/* An empty cache of at most max bytes; 0, or -1 out of memory. */
int	cache_init(struct cache *c, size_t max);
/*
 * The entry for key of database db, or NULL (counted as a hit or a
 * miss); valid until the next cache_put() on c.
 */
const struct centry *cache_get(struct cache *c, int db, const char *key);
/*
 * Keep a copy of data[0..len-1] (and record id) for key of db, evicting
 * the least recently used.  Does nothing when key is already cached,
 * when the entry would take more than an eighth of max, or out of
 * memory.
 */
void	cache_put(struct cache *c, int db, const char *key, const void *data,
	    size_t len, int64_t id);
/* Entry e's bytes (*len) and record id, valid as long as e. */
const uint8_t *cache_data(const struct centry *e, size_t *len, int64_t *id);
/* Free every entry (c itself is the caller's). */
void	cache_free(struct cache *c);

/* status.c: /metrics and /healthz */
/* Count one answer of route with code, t0 being when it arrived. */
void	metrics_observe(struct worker *w, int route, int code, double t0);
/* GET /healthz: 200, or 503 with the reasons, one per line. */
void	serve_healthz(struct worker *w, struct hreq *req);
/* GET /metrics: Prometheus text. */
void	serve_metrics(struct worker *w, struct hreq *req);

/* auth.c: inbound authentication ([server] auth) */
/*
 * Whether a request of route (enum route) for database db (or NULL)
 * needs credentials under w's settings.
 */
int	auth_needed(struct worker *w, int route, const struct db *db);
/*
 * 1 when req (for db, or NULL) may go on: it needs no credentials or
 * they are right; else 0, req answered (401, or 429 or 503 past the
 * password check limits).
 */
int	auth_admit(struct worker *w, struct hreq *req, const struct db *db);
/*
 * Count one request of req's client address in tab (n buckets); 1 when
 * that makes more than max this minute, with the seconds left in
 * *retry.  The caller serializes the calls on one tab.
 */
int	http_rate(struct ratebucket *tab, size_t n, struct hreq *req,
	    int64_t max, int *retry);
/* Any thread: sumdbd_auth_* for /metrics. */
void	auth_metrics(struct evbuffer *out);

/* audit.c */
/*
 * POST /audit: checks the body's go.sum lines a slice per turn of w's
 * loop and answers req once all are checked.
 */
void	serve_audit(struct worker *w, struct hreq *req,
	    const char *query);
/* At exit, after w's loop stopped: drop its audits in progress. */
void	audit_free_all(struct worker *w);

/* serve.c: the sumdb routes */
/* Answer req for path (latest, lookup/M@V, tile/...) of db. */
void	serve_db(struct worker *w, struct db *db, struct hreq *req,
	    const char *path);
/*
 * w's copy of db's newest checkpoint, reloaded when db's generation
 * changed (or force is set); NULL on a store error (logged).
 */
struct dbview *serve_view(struct worker *w, struct db *db, int force);

/* tufserve.c */
/* GET /tuf/path: the TUF repository's files, byte for byte. */
void	serve_tuf(struct worker *w, struct hreq *req,
	    const char *path);
/* The worker's handoff port callback: answer what the main thread did. */
void	serve_answered(evutil_socket_t fd, short ev, void *arg);

/* witness.c */
/* POST /witness/add-checkpoint: hand the body to the main thread. */
void	serve_witness_add(struct worker *w, struct hreq *req,
	    const char *query);
/* Reply to an add-checkpoint the main thread answered (m stays w's). */
void	witness_answered(struct worker *w, struct missreq *m);
/* GET /witness/latest/ORIGIN: the checkpoint last cosigned. */
void	serve_witness_latest(struct worker *w, struct hreq *req,
	    const char *origin);

#endif /* HTTP_H */
