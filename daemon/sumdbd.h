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

/* keygen.c */
int	cmd_keygen(int argc, char **argv);

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

/* add.c */
int	cmd_add(int argc, char **argv);

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
int	cmd_unfreeze(int argc, char **argv);

/* tufrepo.c: the TUF repository, main thread */
int	tufrepo_open(struct env *env);
void	tufrepo_start(struct env *env);
void	tufrepo_changed(struct env *env);
void	tufrepo_free(struct env *env);
int	cmd_tuf(int argc, char **argv);

/* tufclient.c: the TUF client workflow, for sumdbd import */
int	import_tuf(struct env *env, const char *url, const char *root,
	    const char *state);

/* evidence.c */
int	cmd_evidence(int argc, char **argv);

/* client.c: build-host configuration */
int	cmd_client_config(int argc, char **argv);
int	cmd_client_check(int argc, char **argv);

/* fsck.c */
int	cmd_fsck(int argc, char **argv);

/* audit.c */
int	cmd_audit(int argc, char **argv);

/* bundle.c: differential bundles */
int	bundle_write(struct store *st, int64_t log, const char *name,
	    int64_t from, int64_t to, struct evbuffer *out, char *err,
	    size_t errsize);
/*
 * The tree sizes bundle bytes p[0..len-1] claim to go from and to, from
 * its header alone (bundle_import() checks them against its signed
 * checkpoints).  0, or -1 if it is not a well-formed bundle.
 */
int	bundle_sizes(const uint8_t *p, size_t len, int64_t *from,
	    int64_t *to);
/*
 * Verify bundle bytes p[0..len-1] against our newest trust base of
 * their database and store them, in one transaction or not at all;
 * source names where they came from (evidence, the checkpoint's
 * origin).  Prints "imported ..." on stdout when stored.  Returns 0,
 * IMPORT_REFUSED (the bundle is refused, the evidence kept already,
 * the one-line reason in err) or IMPORT_ERROR (a runtime or store
 * error, logged already).
 */
#define IMPORT_REFUSED	(-1)
#define IMPORT_ERROR	(-2)
int	bundle_import(struct env *env, const uint8_t *p, size_t len,
	    const char *source, char *err, size_t errsize);
int	cmd_export(int argc, char **argv);
int	cmd_import(int argc, char **argv);
const char *refusal_name(enum refusal r);

/*
 * tiles.c: one tile reader with backends (tiles_http.c: over HTTP).
 * Every backend gives a struct tile_reader (ts->tr) whose arg is the
 * struct tiles; callers read hashes through tiles_hashes() or the
 * tlog_hash_reader of tiles_hash_reader().  The data of stored tiles
 * lives in scratch buffers until the next read or tiles_free().
 */
#define TILES_SCRATCH	64	/* stored tiles one read can hold */
struct tiles;
struct tiles_ops {
	const char	*name;
	/* struct tile_reader's: arg is the struct tiles */
	int	(*read)(void *arg, const struct tile *t, size_t n,
		    const uint8_t **data, size_t *len);
	void	(*save)(void *arg, const struct tile *t, size_t n,
		    const uint8_t **data, const size_t *len);
	void	(*free)(struct tiles *ts);	/* the backend's state */
};
/* A tile held in memory, not yet authenticated. */
struct tilemem {
	struct tile	 t;
	uint8_t		*data;
	size_t		 len;
	int		 owned;		/* data is ours to free */
};
struct tiles {
	const struct tiles_ops	*ops;
	void			*state;		/* the backend's own */
	struct tile_reader	 tr;		/* reads through ops */
	struct store		*st;		/* store, overlay */
	int64_t			 log;
	int			 overlay;	/* record missing tiles */
	int			 nostore;	/* overlay: memory only */
	int			 save;		/* store authenticated tiles */
	int			 storeerr;	/* storing one failed */
	struct tilemem		*mem;		/* overlay: held tiles */
	size_t			 nmem, capmem;
	struct tile		*missing;	/* overlay: tiles it lacked */
	size_t			 nmissing;
	struct evbuffer		*scratch[TILES_SCRATCH];
	size_t			 nscratch;
	char			 err[4096];	/* http: why a read failed */
};
/* Set ts up for a backend: ops and its state (ts->state). */
void	tiles_init(struct tiles *ts, const struct tiles_ops *ops,
	    void *state);
/*
 * The store backend: tiles of log in st (not owned); a tile not stored
 * (or shorter than asked) fails the read.  Nothing is saved.
 */
void	tiles_store_init(struct tiles *ts, struct store *st, int64_t log);
/*
 * The overlay backend: tiles added with tiles_overlay_add() first,
 * then the store's (none once ts->nostore is set).  A read that lacks
 * tiles fails after recording each in ts->missing (tiles_need()); with
 * save, the tiles a read authenticated are stored (ts->storeerr is set
 * if that fails).
 */
void	tiles_overlay_init(struct tiles *ts, struct store *st, int64_t log,
	    int save);
/*
 * Hold tile t's bytes p[0..len-1]: copied with copy, else borrowed (p
 * must outlive ts).  0, or -1 when out of memory.
 */
int	tiles_overlay_add(struct tiles *ts, const struct tile *t,
	    const uint8_t *p, size_t len, int copy);
/* The held tile at level l (-1: data), index n, or NULL. */
const struct tilemem *tiles_overlay_find(const struct tiles *ts, int l,
	    int64_t n);
/* Record tile t as missing, once.  0, or -1 when out of memory. */
int	tiles_need(struct tiles *ts, const struct tile *t);
/* The missing tiles, *n of them, now the caller's to free; ts has none. */
struct tile *tiles_take_missing(struct tiles *ts, size_t *n);
/* Before reading again: no scratch, missing tiles, store error or err. */
void	tiles_reset(struct tiles *ts);
/* Free the scratch buffers now (reads do it themselves). */
void	tiles_scratch_free(struct tiles *ts);
/* Free everything ts holds (not the store); ts is then empty. */
void	tiles_free(struct tiles *ts);
/*
 * The stored hashes at index[0..n-1] of tree, read from ts's tiles and
 * authenticated against tree: tile_read_hashes()'s 0 or SUMDB_E* code.
 */
int	tiles_hashes(struct tiles *ts, const struct tlog_tree *tree,
	    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE]);
/*
 * hr reads the hashes of tree through ts (tile_hash_reader_init());
 * thr->err keeps the last tile_read_hashes() code.  thr and ts must
 * outlive hr.
 */
void	tiles_hash_reader(struct tiles *ts, const struct tlog_tree *tree,
	    struct tile_hash_reader *thr, struct tlog_hash_reader *hr);
/*
 * hr reads the store's stored hashes of ts's log (tiles_store_init()),
 * not tiles: the private log keeps every one.
 */
void	tiles_stored_hash_reader(struct tiles *ts,
	    struct tlog_hash_reader *hr);
/* Stored hashes held in memory: h[i] is the one at index i < n. */
struct hasharray {
	uint8_t		(*h)[SUMDB_HASH_SIZE];
	int64_t		 n;
};
/* hr reads a's hashes (an index outside it fails); a outlives hr. */
void	tiles_array_hash_reader(struct hasharray *a,
	    struct tlog_hash_reader *hr);

/* tiles_http.c: the HTTP backend of tiles.c, for client-check */
/*
 * Tiles GET from base/TILEPATH synchronously (fetch_wait()), each of at
 * most maxlen bytes within timeout_ms; a failed read leaves the reason
 * in ts->err.  Sizes are not checked here: a wrong one does not
 * authenticate.  0, or -1 when out of memory.
 */
int	tiles_http_init(struct tiles *ts, struct env *env, const char *base,
	    size_t maxlen, int64_t timeout_ms);

/*
 * trust.c: the one trust check: is an old tree contained in a new
 * one (x/mod's checkTrees in spirit), with the proof for the records,
 * or on a fork what a fork report needs.
 */
#define TRUST_FORK	(-1)	/* old is not contained in new */
#define TRUST_EREAD	(-2)	/* the hashes could not be read */
#define TRUST_EORDER	(-3)	/* old is larger than new */
struct trust_proof {
	uint8_t	 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	size_t	 np;			/* old in new, hashes in proof */
	int	 err;			/* TRUST_EREAD: the tlog code */
	/*
	 * Fork material a third party can check: new's own hash at old's
	 * size (not old's root), then the proof; nmat 0 when unreadable.
	 */
	uint8_t	 mat[SUMDB_PROOF_MAX + 1][SUMDB_HASH_SIZE];
	size_t	 nmat;
};
/*
 * Whether tree old is contained in tree new, proven from new's hashes
 * read through hr.  0 when it is (proof->proof holds the np hashes that
 * prove it: none when old.n is 0 or old.n == new.n with equal roots),
 * TRUST_FORK when it is not (the same size with another root, or a
 * proof that does not verify: proof->mat then holds the fork material,
 * none for the same size), TRUST_EREAD when hr failed (proof->err is
 * tlog_prove_tree()'s code; the caller's reader says why), or
 * TRUST_EORDER when old.n > new.n (a rollback, or the trees swapped:
 * the caller decides, nothing is read).  hr may be NULL when old.n is 0
 * or old.n == new.n.
 */
int	trust_extends(const struct tlog_tree *old, const struct tlog_tree *new,
	    const struct tlog_hash_reader *hr, struct trust_proof *proof);
/*
 * Whether the given proof[0..np-1] proves old contained in new (a
 * proof carried in a bundle or kept in the store): 0, TRUST_FORK, or
 * TRUST_EORDER.  Always 0 when old.n is 0.
 */
int	trust_check(const struct tlog_tree *old, const struct tlog_tree *new,
	    const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np);

#endif /* SUMDBD_H */
