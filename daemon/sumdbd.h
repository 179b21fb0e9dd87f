/*
 * sumdbd.h: the sumdbd program: shared state and the prototypes of
 * the files in daemon/, sectioned by file.
 */

#ifndef SUMDBD_H
#define SUMDBD_H

#include <sys/queue.h>

#include <event2/util.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "config.h"
#include "sumdb.h"

struct event;
struct event_base;
struct evdns_base;
struct evbuffer;
struct evconnlistener;
struct sockaddr;
struct note_signer;
struct store;
struct ssl_ctx_st;
struct tufrepo;

/* A lookup miss of the private log, waiting for its module. */
struct pending;
TAILQ_HEAD(pendinglist, pending);

/*
 * A request that missed in a worker, handed to the main thread and back
 * with its result.  Only the worker touches req.
 */
struct missreq {
	TAILQ_ENTRY(missreq)	 entry;
	struct worker		*w;
	struct db		*db;
	struct hreq		*req;
	int			 kind;		/* MISS_LOOKUP or MISS_TILE */
	char			 path[1024];	/* lookup: module path */
	char			 version[1024];	/* lookup: version */
	char			 tilepath[128];	/* tile: its path */
	char			 peer[64];	/* the client's address */
	int			 status;	/* 200: stored now */
	int64_t			 id;		/* lookup: the record id */
	int			 retry_after;	/* s; > 0: Retry-After */
	char			 err[512];
};
TAILQ_HEAD(misslist, missreq);
#define MISS_LOOKUP	0
#define MISS_TILE	1

struct mjob;
TAILQ_HEAD(mjoblist, mjob);

#define DB_PRIVATE	0
#define DB_MIRROR	1
#define DB_MAX		(1 + CONFIG_MIRRORS_MAX)

/* Kinds of refusal, counted per database and kept as evidence. */
enum refusal {
	R_SIGNATURE, R_MALFORMED, R_FORK, R_ROLLBACK, R_TILE, R_UNRELATED,
	R_NOT_IN_TREE, R_CONFLICT, R_UPSTREAM, R_MAX
};

/* A checksum database that sumdbd serves. */
struct db {
	char			*name;		/* as in GOSUMDB */
	struct env		*env;
	int			 idx;		/* in env->dbs */
	int			 kind;		/* DB_PRIVATE, DB_MIRROR */
	int64_t			 log;		/* store id */
	struct note_signer	*signer;	/* private log only */
	struct note_verifier	 vkey;		/* who signs it */
	int64_t			 size;		/* newest checkpoint */
	unsigned		 gen;		/* bumped when it changes */
	/* private log, main thread: fetches and the batch being built */
	struct pendinglist	 fetching;
	struct pendinglist	 ready;
	struct event		*batch_ev;
	int			 broken;	/* refused to sign: frozen */
	/* mirror, main thread */
	struct config_mirror	*mc;
	int			 frozen;	/* refused a fork: read atomically */
	char			 frozen_why[512];
	struct event		*poll_ev;
	struct mjob		*sync;		/* the sync in flight */
	struct mjoblist		 jobs;		/* lookups and tiles in flight */
	struct mjoblist		 waitsync;	/* waiting for a trust base */
	int64_t			 nrunning;	/* client jobs started */
	int64_t			 backoff;	/* ms; after failed polls */
	double			 last_poll;	/* when /latest was last asked */
	uint64_t		 refusals[R_MAX];
	int64_t			 full_next;	/* full mode: next record */
	struct mjob		*full_job;	/* the segment in flight */
	int			 full_checked;	/* resumed tile re-verified */
	struct mjoblist		 fulljobs;
	double			 full_t0, full_log;
	int64_t			 full_n0;
	int64_t			 full_rate;	/* records/s: atomic */
	/* read by workers with atomics, for /metrics and /healthz */
	int64_t			 upstream_size;	/* newest upstream tree seen */
	int64_t			 verified_at;	/* Unix s: upstream checked */
	int64_t			 tb_time;	/* Unix s: newest trust base */
	uint64_t		 added;		/* records stored since start */
};

/* A worker thread's own copy of a database's newest checkpoint. */
struct dbview {
	struct evbuffer		*latest;
	int64_t			 size;
	unsigned		 gen;
};

/* A thread that serves HTTP with its own event loop and store handle. */
/* A client address's requests in the current minute (POST /audit). */
#define AUDIT_BUCKETS	256
struct ratebucket {
	uint64_t		 addr;		/* hash of the address */
	int64_t			 minute;
	int64_t			 count;
};

/*
 * The settings a worker reads, its own copy: replaced in the worker's
 * thread when SIGHUP changes them.
 */
struct wconf {
	int64_t			 max_header_size;
	int64_t			 idle_timeout;		/* ms */
	int64_t			 request_timeout;	/* ms */
	int64_t			 audit_max_body;
	int64_t			 audit_rate;
	int64_t			 max_conns;		/* this worker's share */
	int64_t			 max_conns_per_client;	/* over all workers */
	int64_t			 audit_max_lines;
	int			 goproxy;		/* the private log has one */
	char			*private;		/* [log] private, or NULL */
	int64_t			 max_age[DB_MAX];	/* ms, by db->idx */
	int			 full[DB_MAX];		/* a full mirror */
	int			 offline[DB_MAX];	/* an offline mirror */
	char			*database;		/* the store's file */
	struct ssl_ctx_st	*tls;			/* HTTPS when set */
};

/* What /metrics counts per route: statuses and a latency histogram. */
enum route {
	RT_SUPPORTED, RT_LATEST, RT_LOOKUP, RT_TILE, RT_TUF, RT_AUDIT,
	RT_METRICS, RT_HEALTHZ, RT_OTHER, RT_MAX
};
#define ST_MAX		11	/* the statuses counted, and "other" */
#define HIST_MAX	13	/* latency buckets, and +Inf */
struct httpstats {
	uint64_t		 status[RT_MAX][ST_MAX];
	uint64_t		 hist[RT_MAX][HIST_MAX];
	uint64_t		 usec[RT_MAX];		/* sum of latencies */
};

/*
 * A request being answered (conn.c).  The router and the handlers read
 * method, target, head and body and answer with http_reply().
 */
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
	size_t			 headlen;	/* bytes up to the body */
};
#define HTTP_PARTIAL	(-1)

struct worker {
	struct env		*env;
	int			 id;
	pthread_t		 tid;
	struct event_base	*base;
	struct store		*st;		/* read only */
	struct dbview		 views[DB_MAX];	/* by db->idx */
	pthread_mutex_t		 mu;		/* guards done */
	struct misslist		 done;		/* answered by the main thread */
	struct event		*done_ev;
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

struct env {
	struct config		 conf;
	const char		*confpath;
	int			 verbose;
	struct event_base	*base;		/* main thread */
	struct evdns_base	*dns;
	struct ssl_ctx_st	*client_tls;	/* outbound HTTPS */
	struct store		*st;		/* main thread: writes */
	struct db		*log;		/* the private log, or NULL */
	struct db		*dbs[DB_MAX];	/* every database served */
	int			 ndbs;
	struct event		*sigev[4];
	struct worker		*workers;
	int			 nworkers;
	pthread_mutex_t		 missmu;	/* guards misses */
	struct misslist		 misses;	/* from workers to main */
	struct event		*miss_ev;
	struct event		*privacy_ev;	/* stores private-path counts */
	struct tufrepo		*tuf;		/* the TUF repository, or NULL */
	/* what workers copy into their wconf (reload.c) */
	pthread_mutex_t		 wmu;
	struct wconf		 wconf;
	struct event		*stop_ev;	/* SIGTERM: waits for requests */
	struct event		*status_ev;	/* systemd STATUS= */
	double			 stop_at;
	int			 reloads, reload_errors;	/* atomic */
};

/* log.c */
void	log_init(int foreground, int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* setup.c: what the daemon and the subcommands share */
int	env_load_config(struct env *env, const char *path);
int	env_open_store(struct env *env, int create);
/* The private log and its key; with sign, sign what is unsigned. */
int	env_open_log(struct env *env, int sign);
int	env_client_tls(struct env *env);
int	secret_file_ok(int fd, const char *path, const char *what);
double	mono(void);
void	env_free(struct env *env);

/* logw.c: appending to the private log and signing it */
struct newrec {
	char		 path[1024];
	char		 version[1024];
	char		 ziphash[48];
	char		 modhash[48];
	int64_t		 id;		/* out: its id */
	int		 status;	/* out: 0 added or present, -1 refused */
	char		 reason[2400];	/* out: why it was refused */
};
int	logw_append(struct env *env, struct db *db, struct newrec *r,
	    size_t n);
int	logw_sign(struct env *env, struct db *db);
int	logw_refresh(struct env *env, struct db *db);

/* fetch.c: outbound HTTP(S) and file:// reads */
typedef void (*fetch_cb)(int status, struct evbuffer *body,
    const char *err, void *arg);
/*
 * GET url with at most maxlen bytes of body and timeout_ms for the whole
 * exchange; cb runs once from the loop with the status (-1 and err when
 * no answer was read) and the body, both valid during the call only.
 * Redirects go only to the first URL's scheme, host and port unless
 * flags has FETCH_ANYHOST.  Returns 0, or -1 if it could not start.
 */
#define FETCH_ANYHOST	0x1	/* follow redirects to other hosts */
int	fetch_get(struct env *env, const char *url, size_t maxlen,
	    int64_t timeout_ms, int flags, fetch_cb cb, void *arg);
/*
 * fetch_get() with the body written to fd as it arrives instead of
 * memory: fd is the caller's, an empty regular file open for reading
 * and writing (fetch_tmpfile()), and cb's body is empty.  The body of
 * a redirect is truncated away.  For a file:// URL nothing is copied:
 * fd is made (dup3) a read-only descriptor of the file itself.  fd
 * must stay open until cb has run.  0, or -1 if it could not start.
 */
int	fetch_get_fd(struct env *env, const char *url, int fd,
	    size_t maxlen, int64_t timeout_ms, int flags, fetch_cb cb,
	    void *arg);
/*
 * A new empty file in directory dir, already unlinked (O_TMPFILE, or
 * a name removed at once), open for reading and writing, close on
 * exec.  The descriptor, or -1 with errno set.
 */
int	fetch_tmpfile(const char *dir);
int	fetch_client_init(struct env *env);
void	fetch_client_free(struct env *env);
int	fetch_wait(struct env *env, const char *url, size_t maxlen,
	    int64_t timeout_ms, struct evbuffer *out, char *err,
	    size_t errsize);

/* modfetch.c: a module version's h1: hashes from a GOPROXY */
typedef void (*modfetch_cb)(int status, const char *ziphash,
    const char *modhash, const char *err, void *arg);
/*
 * Fetch path@version's go.mod and zip from goproxy (the zip into an
 * unlinked file in the directory of [server] database) and hash both
 * in a thread of their own.  cb runs once, from the loop (or before
 * this returns, if nothing could be fetched), with 200 and both h1:
 * hashes, or 404 (not in the GOPROXY), 502 (a failed fetch, a bad or
 * oversized module) or 500, and a one-line err; all valid during the
 * call only.  Returns 0, or -1 (cb never runs) if it could not start.
 */
int	modfetch(struct env *env, const char *goproxy, const char *path,
	    const char *version, modfetch_cb cb, void *arg);
/* Hashes running now (any thread may ask). */
int64_t	modfetch_hashing(void);
/*
 * Main thread, at exit: wait for the hashes in flight and drop them;
 * their callbacks never run.
 */
void	modfetch_stop(void);

/* http.c: workers and the router */
int	http_start(struct env *env);
void	http_stop(struct env *env);
void	http_route(struct worker *w, struct hreq *req);

/* conn.c: the HTTP/1.1 server side: connections, requests, answers */
void	conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
	    struct sockaddr *sa, int salen, void *arg);
int	http_parse_head(const char *buf, size_t len, size_t max,
	    struct httphead *h);
void	http_reply(struct hreq *req, int code, const char *type,
	    const char *cache, struct evbuffer *body);
void	http_error(struct hreq *req, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	http_header(struct hreq *req, const char *name, const char *value);
const char *http_peer(struct hreq *req);
void	conn_limits(struct worker *w);
void	conn_stop(struct worker *w);
void	conn_free_all(struct worker *w);
struct ssl_ctx_st *conn_tls_new(const char *cert, const char *key,
	    char *err, size_t errsize);

/* reload.c: SIGHUP, SIGTERM, the settings workers copy, sd_notify */
int	wconf_init(struct env *env);
void	wconf_apply(evutil_socket_t fd, short ev, void *arg);
void	wconf_free(struct wconf *wc);
void	daemon_reload(struct env *env);
void	daemon_stop(struct env *env);
void	daemon_notify(struct env *env, const char *state);

/* cache.c */
int	cache_init(struct cache *c, size_t max);
const struct centry *cache_get(struct cache *c, int db, const char *key);
void	cache_put(struct cache *c, int db, const char *key, const void *data,
	    size_t len, int64_t id);
const uint8_t *cache_data(const struct centry *e, size_t *len, int64_t *id);
void	cache_free(struct cache *c);

/* metrics.c */
void	metrics_observe(struct worker *w, int route, int code, double t0);
void	metrics_http(struct env *env, struct evbuffer *out);

/* audit.c */
/*
 * POST /audit: checks the body's go.sum lines a slice per turn of w's
 * loop and answers req once all are checked.
 */
void	serve_audit(struct worker *w, struct hreq *req,
	    const char *query);
/* At exit, after w's loop stopped: drop its audits in progress. */
void	audit_free_all(struct worker *w);

/* serve.c: in worker threads */
void	serve_record(struct worker *w, struct db *db,
	    struct hreq *req, int64_t id);
void	serve_db(struct worker *w, struct db *db, struct hreq *req,
	    const char *path);
void	serve_tile_stored(struct worker *w, struct db *db,
	    struct hreq *req, const char *path);
void	serve_healthz(struct worker *w, struct hreq *req);
void	serve_tuf(struct worker *w, struct hreq *req,
	    const char *path);
void	serve_metrics(struct worker *w, struct hreq *req);

/* privlog.c: lookup misses of the private log */
void	privlog_miss(struct worker *w, struct db *db,
	    struct hreq *req, int kind, const char *a,
	    const char *b);
void	privlog_done(evutil_socket_t fd, short ev, void *arg);
int	privlog_init(struct env *env);
void	privlog_free(struct env *env);
/* Any thread: the private log's fetch gauges and refusals, for /metrics. */
void	privlog_metrics(struct env *env, struct evbuffer *out);

/* mirror.c: mirrors of other sumdbs, main thread */
int	mirror_open(struct env *env);
void	mirror_start(struct env *env);
void	mirror_miss(struct env *env, struct db *db, struct missreq *m);
void	mirror_free(struct env *env);
void	mirror_count_private(struct db *db, struct hreq *req,
	    const char *path);
void	mirror_metrics(struct evbuffer *out);
void	miss_answer(struct missreq *m, int status, int64_t id,
	    const char *err);

/* tufrepo.c: the TUF repository, main thread */
int	tufrepo_open(struct env *env);
void	tufrepo_start(struct env *env);
void	tufrepo_changed(struct env *env);
void	tufrepo_free(struct env *env);

/* tufclient.c: the TUF client workflow, for sumdbd import */
int	import_tuf(struct env *env, const char *url, const char *root,
	    const char *state);

/* bundle.c: differential bundles */
int	bundle_write(struct store *st, int64_t log, const char *name,
	    int64_t from, int64_t to, struct evbuffer *out, char *err,
	    size_t errsize);
extern char	import_refusal[512];
int	import_refuse(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/*
 * The tree sizes bundle bytes p[0..len-1] claim to go from and to, from
 * its header alone (bundle_import() checks them against its signed
 * checkpoints).  0, or -1 if it is not a well-formed bundle.
 */
int	bundle_sizes(const uint8_t *p, size_t len, int64_t *from,
	    int64_t *to);
int	bundle_import(struct env *env, const uint8_t *p, size_t len,
	    const char *source);
int	cmd_import(int argc, char **argv);
const char *refusal_name(enum refusal r);

/*
 * What the subcommands in cmd/ use of the core (cmd/cmd.h has the
 * subcommands themselves).
 */

/*
 * audit.c: the audit engine, which checks go.sum lines against what the
 * store holds for one log, for "sumdbd audit" and POST /audit.
 */
enum audit_status { S_VERIFIED, S_MISMATCH, S_UNKNOWN, S_SKIPPED };

/* One go.sum line: small, its text in one allocation (buf). */
struct aline {
	const char	*file;		/* borrowed from the caller */
	int		 line;
	char		*buf;		/* path, version and hash, NUL-ended */
	char		*path;
	char		*version;
	char		*hash;
	int		 gomod;		/* the /go.mod line */
	size_t		 first;		/* the first line of path@version */
	size_t		 sib;		/* the other kind's line, or SIZE_MAX */
	enum audit_status status;
	int64_t		 record;	/* -1 if none */
	char		 expected[SUMDB_H1_SIZE];
	const char	*why;		/* explanation, or NULL */
	int		 absent;	/* --online: the upstream lacks it */
};

/* A set of go.sum lines and what they were checked against. */
struct audit {
	const char	*name;		/* database */
	int64_t		 tree;
	int		 complete;	/* the store has the whole log */
	struct aline	*a;
	size_t		 n, cap;
	int		 counts[4];
};

/*
 * Whether the log cannot hold a's line: its path matches the private
 * patterns (comma-separated globs, or NULL), or its version is invalid.
 */
int	audit_skips(const char *private, const struct aline *a);
/*
 * Add line lineno of file, text s (modified in place; file must outlive
 * au).  Returns 0 (also for an empty line), 1 if it is not a go.sum
 * line, -1 out of memory.
 */
int	audit_add(struct audit *au, const char *file, int lineno, char *s);
/* Once all lines are added: link each line to its module version's. */
int	audit_link(struct audit *au);
/*
 * Start checking au against log in st: its newest tree, and whether the
 * store holds every record (full: 1 a full mirror, 0 another, -1 the
 * private log).  0, or -1 on a store error.
 */
int	audit_begin(struct audit *au, struct store *st, int64_t log,
	    int full);
/* Check lines from..to-1 (private: as for audit_skips()); 0 or -1. */
int	audit_lines(struct audit *au, struct store *st, int64_t log,
	    const char *private, size_t from, size_t to);
/* After the last audit_lines(): explain each line and count them. */
void	audit_end(struct audit *au);
/* The report as a new JSON object (the caller's to decref), or NULL. */
struct json_t *audit_json(const struct audit *au);
/* The report as text on stdout, one line per go.sum line and a total. */
void	audit_text(const struct audit *au);
/* Free au's lines; au itself is the caller's. */
void	audit_free(struct audit *au);

/*
 * bundle.c: find database name in env's config, without the daemon:
 * its log id in *log and its verifier key in *v, opening the private
 * log (env->log) if name is that.  0, or -1 if there is none (or the
 * private log cannot be opened, the reason logged).
 */
int	bundle_find_db(struct env *env, const char *name, int64_t *log,
	    struct note_verifier *v);

/*
 * tufrepo.c: the offline root keys.  tufrepo_init() makes nkeys root
 * keys in directory dir (one root-KEYID.key file each, mode 0600), the
 * online keys in the [tuf] keys file, and root version 1 signed by
 * threshold of the root keys; the store must hold no root yet.
 * tufrepo_rotate() makes nkeys new root keys in newdir and signs root
 * N+1 with the old root keys found in olddir (at least the old root's
 * threshold) and threshold of the new ones, in one transaction; *newv
 * is N+1.  Both need env's store open and return 0, or -1 with the
 * reason printed.  1 <= threshold <= nkeys <= ROOT_KEYS_MAX.
 */
#define ROOT_KEYS_MAX	16
int	tufrepo_init(struct env *env, const char *dir, int nkeys,
	    int threshold);
int	tufrepo_rotate(struct env *env, const char *olddir,
	    const char *newdir, int nkeys, int threshold, int64_t *newv);

/* default paths */
#define SUMDBD_CONFIG	"/etc/sumdbd/sumdbd.conf"	/* without -c FILE */

#endif /* SUMDBD_H */
