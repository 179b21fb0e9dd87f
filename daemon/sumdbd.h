/*
 * sumdbd.h: the core of the sumdbd program, what every layer above it
 * uses: the environment (config, store, keys), the databases served,
 * the handoff queue between worker threads and the main thread, outbound
 * fetches, the audit engine, bundles and the TUF publisher.  Main thread
 * unless a comment says otherwise.
 *
 * The layers above, each with its own header and archive, never include
 * each other: http/ (worker threads), privlog/ and mirror/ (the writers,
 * main thread), cmd/ (the subcommands); main.c ties them together and
 * registers their hooks (db->ops, env->publish, db_subscribe(),
 * env_metrics_add()).
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

/* Where the daemon and the subcommands look without -c. */
#define SUMDBD_CONFIG	"/etc/sumdbd/sumdbd.conf"

struct event;
struct event_base;
struct fetcher;
struct config_egress;
struct evbuffer;
struct note_signer;
struct store;
struct storew;
struct ssl_ctx_st;
struct tufrepo;
struct witness;
struct peer;
struct users;
struct worker;
struct hreq;
struct db;
struct env;

/* A lookup miss of the private log, waiting for its module (privlog/). */
struct pending;
TAILQ_HEAD(pendinglist, pending);

/*
 * A request that missed in a worker, handed to the main thread and back
 * with its result (handoff.c).  Only the worker touches req.  A layer
 * in the main thread may ask another database's db->ops->miss itself:
 * its missreq has done set (and no port), and handoff_answer() calls
 * done(m), which then owns m.
 */
struct missreq {
	TAILQ_ENTRY(missreq)	 entry;
	struct handoff_port	*port;		/* where the answer goes */
	void			(*done)(struct missreq *);
	void			*arg;		/* done's */
	struct db		*db;
	struct hreq		*req;		/* the worker's only */
	int			 kind;		/* MISS_LOOKUP or MISS_TILE */
	char			 path[1024];	/* lookup: module path */
	char			 version[1024];	/* lookup: version */
	char			 tilepath[128];	/* tile: its path */
	char			 peer[64];	/* the client's address */
	int			 status;	/* 200: stored now */
	int64_t			 id;		/* lookup: the record id */
	int			 retry_after;	/* s; > 0: Retry-After */
	double			 since;		/* mono(): waiting since */
	char			 err[512];
	/* witness: the add-checkpoint body; the answer's, if any */
	uint8_t			*in;
	size_t			 inlen;
	uint8_t			*out;
	size_t			 outlen;
	const char		*type;		/* out's Content-Type */
};
TAILQ_HEAD(misslist, missreq);
#define MISS_LOOKUP	0
#define MISS_TILE	1
#define MISS_WITNESS	2	/* POST /witness/add-checkpoint */

/*
 * A worker's end of the handoff: answered requests queue here and ev
 * wakes the worker's loop.  The worker owns it; the main thread only
 * appends under mu (handoff_answer()).
 */
struct handoff_port {
	pthread_mutex_t		 mu;		/* guards done */
	struct misslist		 done;
	struct event		*ev;
};

struct mjob;
TAILQ_HEAD(mjoblist, mjob);

#define DB_PRIVATE	0
#define DB_MIRROR	1
#define DB_MAX		(1 + CONFIG_MIRRORS_MAX)

/* Kinds of refusal, counted per database and kept as evidence. */
enum refusal {
	R_SIGNATURE, R_MALFORMED, R_FORK, R_ROLLBACK, R_TILE, R_UNRELATED,
	R_NOT_IN_TREE, R_CONFLICT, R_UPSTREAM, R_SPLIT, R_MAX
};

/*
 * What a database's writer does for the rest of the program, registered
 * by the layer that owns it (privlog_init(), mirror_open()).
 */
struct dbops {
	/*
	 * Main thread: resolve m, a lookup or tile a worker did not find
	 * stored, and answer it with handoff_answer(), now or later.
	 */
	void	(*miss)(struct db *db, struct missreq *m);
	/*
	 * Main thread, mirrors: witness peer (its URL) holds another tree
	 * than db's (theirs, if it could be had, against ours, with the
	 * proof or answer as material): keep the evidence and freeze.
	 */
	void	(*split)(struct db *db, const char *peer, const uint8_t *ours,
		    size_t ourslen, const uint8_t *theirs, size_t theirslen,
		    const uint8_t *material, size_t matlen, const char *why);
};

/* A checksum database that sumdbd serves. */
struct db {
	char			*name;		/* as in GOSUMDB */
	struct env		*env;
	int			 idx;		/* in env->dbs */
	int			 kind;		/* DB_PRIVATE, DB_MIRROR */
	const struct dbops	*ops;		/* its writer's; may be NULL */
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
	/* a witnessed private log: publish at quorum cosignatures */
	int			 quorum;	/* 0: publish when signed */
	struct misslist		 waitpub;	/* records not yet published */
	struct event		*waitpub_ev;
	int64_t			 held_since;	/* Unix s; 0: none held */
	/* witnesses it submits its checkpoints to (peers.c) */
	struct peer		*peers;
	int			 npeers;
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
	int64_t			 full_queued;	/* next record to verify */
	struct mjob		*full_job;	/* the segment being fetched */
	int			 full_inflight;	/* segments to be stored */
	int			 full_failed;	/* one was not: drain, restart */
	int			 full_checked;	/* resumed tile re-verified */
	double			 full_t0, full_log;
	int64_t			 full_n0;
	int64_t			 full_rate;	/* records/s: atomic */
	/* read by workers with atomics, for /metrics and /healthz */
	int64_t			 upstream_size;	/* newest upstream tree seen */
	int64_t			 verified_at;	/* Unix s: upstream checked */
	int64_t			 tb_time;	/* Unix s: newest trust base */
	uint64_t		 added;		/* records stored since start */
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
	int			 goproxy;		/* the log takes misses */
	char			*private;		/* [log] private, or NULL */
	int64_t			 max_age[DB_MAX];	/* ms, by db->idx */
	int			 full[DB_MAX];		/* a full mirror */
	int			 offline[DB_MAX];	/* an offline mirror */
	char			*database;		/* the store's file */
	struct ssl_ctx_st	*tls;			/* HTTPS when set */
	int			 client_ca;		/* tls asks for certs */
	/* inbound authentication ([server] auth, users.c) */
	int			 auth;			/* AUTH_* */
	int			 auth_healthz;
	int			 auth_metrics;
	int64_t			 auth_rate;		/* a minute, per address */
	int64_t			 auth_concurrency;
	struct users		*users;			/* a reference, or NULL */
	int			 witness;	/* [witness] is set */
	int			 witnessed[DB_MAX];	/* a witness-log */
	int			 witnessed_log;	/* [log] witness is set */
	int64_t			 witness_max_pending;
};

#define ENV_HOOKS_MAX	8
typedef void (*db_changed_fn)(struct env *env, struct db *db, void *arg);
typedef void (*env_metrics_fn)(struct env *env, struct evbuffer *out);

struct env {
	struct config		 conf;
	const char		*confpath;
	int			 verbose;
	struct event_base	*base;		/* main thread */
	struct fetcher		*fetch;		/* outbound: fetch.c's */
	struct store		*st;		/* main thread: writes */
	struct storew		*storew;	/* the store thread, or NULL */
	struct db		*log;		/* the private log, or NULL */
	struct db		*dbs[DB_MAX];	/* every database served */
	struct note_signer	*cosigner;	/* the witness's key, or NULL */
	int			 ndbs;
	struct event		*sigev[4];
	struct worker		*workers;	/* http/'s, opaque here */
	int			 nworkers;
	pthread_mutex_t		 missmu;	/* guards misses */
	struct misslist		 misses;	/* from workers to main */
	struct event		*miss_ev;
	struct event		*privacy_ev;	/* stores private-path counts */
	struct tufrepo		*tuf;		/* the TUF repository, or NULL */
	/* the witness (witness/), if [witness] is set */
	struct witness		*witness;
	void			(*witness_add)(struct env *,
				    struct missreq *);
	int64_t			 witness_pending; /* queued: atomic */
	/* what workers copy into their wconf (reload.c) */
	pthread_mutex_t		 wmu;
	struct wconf		 wconf;
	/* http/'s hook: hand env->wconf to the workers (SIGHUP) */
	void			(*publish)(struct env *);
	/* "database changed" hooks (db_subscribe()) */
	struct {
		db_changed_fn	 fn;
		void		*arg;
	}			 changed[ENV_HOOKS_MAX];
	int			 nchanged;
	env_metrics_fn		 metrics[ENV_HOOKS_MAX];	/* /metrics */
	int			 nmetrics;
	struct event		*stop_ev;	/* SIGTERM: waits for requests */
	struct event		*status_ev;	/* systemd STATUS= */
	double			 stop_at;
	int			 reloads, reload_errors;	/* atomic */
	/* cluster.c: nodes on one PostgreSQL store, or NULL */
	struct cluster		*cluster;
	void			(*onwriter[ENV_HOOKS_MAX])(struct env *);
	int			 nonwriter;
};

/* log.c: the only place that writes log lines; any thread */
/*
 * Log to stderr (foreground: the journal takes it) or to syslog;
 * log_debug() lines only when verbose.
 */
void	log_init(int foreground, int verbose);
/* A warning, with ": strerror(errno)" appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A warning as it is. */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* What happened, for the operator. */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Details, with -v only. */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log with strerror(errno) and exit 1: at start-up, or a broken invariant. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* fatal() without strerror(errno). */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* env.c: what the daemon and the subcommands share */
/*
 * Load the configuration at path into env->conf, printing
 * "path:line: reason" on failure; 0, or -1.
 */
int	env_load_config(struct env *env, const char *path);
/* Open env->st from [server] database, creating it if create; 0 or -1. */
int	env_open_store(struct env *env, int create);
/*
 * The directory of this node's own files (downloads, a TUF client's
 * state): [server] state_dir, else the SQLite store's directory.
 */
void	env_state_dir(const struct env *env, char *dir, size_t size);
/*
 * The private log (if [log] is configured) as env->log, with its key;
 * with a store, its newest checkpoint too.  Does not sign: the writer
 * (privlog/) does.  0, or -1 with the reason logged.
 */
int	env_open_log(struct env *env);
/*
 * Read the signing key at path, of type alg (NOTE_ED25519 for a log,
 * NOTE_COSIG_V1 for a witness), into guarded memory.  Returns it, or
 * NULL with the reason logged.
 */
struct note_signer *env_load_key(const char *path, int alg);
/*
 * Whether fd (opened from path) may hold a secret of kind what: a
 * regular file, not readable by group or others (0440 inside systemd's
 * credentials directory).  0, or -1 with the reason logged.
 */
int	secret_file_ok(int fd, const char *path, const char *what);
/* Seconds on a monotonic clock. */
double	mono(void);
/*
 * Free what the env_*() calls opened: the log's key, the store, the
 * settings.  The layers above free their own parts first (main.c).
 */
void	env_free(struct env *env);

/*
 * users.c: the users file ([server] users) and the password check of
 * inbound authentication; the cache and struct users work from any
 * thread.
 */
#define USERS_NAME_MAX	64
#define USERS_OK	1	/* the password is right */
#define USERS_BAD	0	/* wrong, or no such user */
#define USERS_REFUSED	(-1)	/* admit() refused the check */
/*
 * Load the users file at path: NAME:HASH lines (crypto_pwhash_str()),
 * '#' comments and empty lines, a secret file (secret_file_ok()).  NULL
 * with "path:line: reason" logged.  One reference, for users_free().
 */
struct users *users_load(const char *path);
/* Another reference to us (NULL-safe); returns us. */
struct users *users_ref(struct users *us);
/* Drop a reference; the last one frees.  NULL does nothing. */
void	users_free(struct users *us);
/* How many users us holds (0 for NULL). */
size_t	users_count(const struct users *us);
/* Whether name[0..len-1] is a user name: 1..64 of A-Z a-z 0-9 _ - @. */
int	users_name_ok(const char *name, size_t len);
/*
 * Whether pw is name's password: USERS_OK or USERS_BAD, from the cache
 * (at most 5 minutes old), else from the slow check (tens of ms, 64
 * MiB), whose result is cached.  The slow check runs only if admit(arg)
 * returns 0, else the result is USERS_REFUSED.  A check of the same
 * credentials in another thread is waited for instead.  An unknown name
 * takes as long and is USERS_BAD.
 */
int	users_check(struct users *us, const char *name, size_t namelen,
	    const char *pw, size_t pwlen, int (*admit)(void *), void *arg);
/*
 * Set name's password to pw in the users file path (created if absent;
 * other lines kept): a new file, mode 0600, renamed over it.  0, or -1
 * with the reason logged.
 */
int	users_set(const char *path, const char *name, const char *pw,
	    size_t pwlen);

/* db.c */
/*
 * Reread db's newest checkpoint from env->st: db->size and tb_time for
 * /metrics, a new generation so that workers reload their copies, and
 * the "database changed" hooks.  0, or -1 (logged).
 */
int	db_refresh(struct env *env, struct db *db);
/* Call fn(env, db, arg) after every db_refresh(); 0, or -1 when full. */
int	db_subscribe(struct env *env, db_changed_fn fn, void *arg);
/*
 * Add fn's lines to every /metrics answer; fn runs in worker threads
 * and reads only atomics.  0, or -1 when full.
 */
int	env_metrics_add(struct env *env, env_metrics_fn fn);
/* Any thread: the registered /metrics sections, appended to out. */
void	env_metrics(struct env *env, struct evbuffer *out);
/* The name of refusal r in /metrics and the evidence ("fork"). */
const char *refusal_name(enum refusal r);

/*
 * cluster.c: several nodes on one PostgreSQL store, one of which (the
 * lease's holder) writes.  cluster_open() (after the store, before
 * anything writes) fences the store and takes the lease if free;
 * cluster_start() (with the event loop) renews it every poll;
 * cluster_stop() gives it up; all do nothing on SQLite.
 */
int	cluster_open(struct env *env);
int	cluster_start(struct env *env);
void	cluster_stop(struct env *env);
void	cluster_free(struct env *env);
/* Any thread: whether this node writes (always, on SQLite). */
int	env_writer(const struct env *env);
/* Call fn (main thread) each time this node becomes the writer. */
int	env_on_writer(struct env *env, void (*fn)(struct env *));
/*
 * Main thread: renew the lease now (after a write was refused): whether
 * this node still writes.
 */
int	cluster_check(struct env *env);
/* Fence another connection st of this node's with the lease. */
void	cluster_fence(struct env *env, struct store *st);
/*
 * Main thread: on a node that does not write, forward miss m to the
 * writer and answer it when the writer did: 1 (m taken), else 0.
 */
int	cluster_forward(struct env *env, struct missreq *m);
/*
 * Any thread: one line on who writes into buf: 1, -1 when no node
 * holds the lease, 0 not a cluster.
 */
int	cluster_status(const struct env *env, char *buf, size_t size);

/* handoff.c: worker <-> main thread */
/* Main thread, at start-up: the queue and its event; 0 or -1. */
int	handoff_init(struct env *env);
/* At exit, after the workers stopped: drop what is still queued. */
void	handoff_free(struct env *env);
/*
 * Worker thread: queue m (calloc'ed, filled, m->port set) for the main
 * thread, which calls m->db->ops->miss; m then belongs to the handoff
 * until it comes back through m->port.
 */
void	handoff_post(struct env *env, struct missreq *m);
/*
 * Main thread: set m's result (status, record id, one-line err) and
 * give m back to its worker's port, waking the worker, or to m->done.
 */
/* Free m and what it holds. */
void	handoff_free_req(struct missreq *m);
void	handoff_answer(struct missreq *m, int status, int64_t id,
	    const char *err);
/*
 * A worker's port on base: cb(-1, EV_READ, arg) runs in the worker's
 * loop when answers wait; 0 or -1.
 */
int	handoff_port_init(struct handoff_port *p, struct event_base *base,
	    void (*cb)(evutil_socket_t, short, void *), void *arg);
/* Worker thread: move the answered requests to l (which it owns). */
void	handoff_port_take(struct handoff_port *p, struct misslist *l);
/* After the worker's loop stopped: free p and what is queued on it. */
void	handoff_port_free(struct handoff_port *p);

/* storew.c: the store thread, for bulk writes off the main loop */
struct storew_job {
	TAILQ_ENTRY(storew_job)	 entry;
	/* On the store thread: 0 or -1; only st and what arg holds. */
	int			(*run)(struct store *st, void *arg);
	/* Main thread: run's result, or -1 if it never ran (stopping). */
	void			(*done)(void *arg, int rv);
	void			*arg;
	int			 rv;
};
/*
 * Main thread: run j on the store thread (started, with its own store
 * connection, on first use) after the jobs submitted before it; j
 * belongs to the thread until j->done is called.  0, or -1 (logged):
 * j was not taken.
 */
int	storew_submit(struct env *env, struct storew_job *j);
/*
 * Main thread, at exit after the loop: interrupt the job running (its
 * transaction rolls back), call done for every job, join the thread.
 */
void	storew_stop(struct env *env);

/* privacy.c: private module paths that reached a mirror */
/*
 * Any thread: count one lookup of private path by client addr at
 * mirror db, and log it.
 */
void	privacy_count(struct db *db, const char *addr, const char *path);
/* Main thread: write the counts to the store every second; 0 or -1. */
int	privacy_start(struct env *env);
/* At exit, after the workers stopped: store the last counts. */
void	privacy_stop(struct env *env);
/* Any thread: the counts as sumdbd_private_lookups_total. */
void	privacy_metrics(struct evbuffer *out);

/* peers.c: the witnesses a database submits its checkpoints to */
/*
 * db's peers from entries[0..n-1], each "URL VKEY" (the submission
 * prefix, the witness's cosignature/v1 key); 0, or -1 logged.
 */
int	peers_open(struct env *env, struct db *db, char *const *entries,
	    int n);
/*
 * A "URL VKEY" witness entry: the URL's length into *urllen, the key
 * into *v.  0, or -1 if it is not a URL and a cosignature/v1 key.
 */
int	peers_entry(const char *entry, size_t *urllen,
	    struct note_verifier *v);
/* A new trust base or checkpoint of db: submit it to idle peers. */
void	peers_kick(struct db *db);
/* db was unfrozen: forget what its peers showed, and ask them again. */
void	peers_reset(struct db *db);
/*
 * db's witness policy, as clients check it: "quorum K\n", then
 * "witness URL VKEY\n" per peer (K is 1 unless db publishes at a
 * quorum).  0 or -1.
 */
int	peers_policy(struct db *db, struct evbuffer *out);
/* Any thread: every database's peers for /metrics. */
void	peers_metrics(struct env *env, struct evbuffer *out);
void	peers_free(struct db *db);

/* fetch.c: outbound HTTP(S) (libcurl) and file:// reads */
typedef void (*fetch_cb)(int status, struct evbuffer *body,
    const char *err, void *arg);
#define FETCH_ANYHOST	0x1	/* follow redirects to other hosts */
/* How to reach a server: fetch_opt() fills it from an egress. */
struct fetchopt {
	const char	*target;	/* metrics label */
	int		 flags;		/* FETCH_* */
	const char	*proxy;		/* URL or "none"; NULL: environment */
	const char	*proxy_auth;	/* user:password, or NULL */
	const char	*netrc;		/* netrc file, or NULL */
	const char	*auth_header;	/* "Name: value", or NULL */
	const char	*auth_url;	/* its header goes to this origin only */
	int		 retries;	/* transient failures retried */
};
/*
 * *o for a server at url reached as egress e says (NULL: directly, no
 * credentials, no retries), counted in /metrics as target; anyhost:
 * follow redirects to other hosts.  o points into e: fill it again
 * after a SIGHUP.
 */
void	fetch_opt(struct fetchopt *o, const struct config_egress *e,
	    const char *target, const char *url, int anyhost);
/*
 * GET url with at most maxlen bytes of body and timeout_ms for the whole
 * exchange, retries included; cb runs once from the loop with the status
 * (-1 and err when no answer was read) and the body, both valid during
 * the call only.  Redirects go only to the first URL's scheme, host and
 * port unless o->flags has FETCH_ANYHOST.  o (NULL: defaults) is copied.
 * Returns 0, or -1 if it could not start.
 */
int	fetch_get(struct env *env, const char *url, size_t maxlen,
	    int64_t timeout_ms, const struct fetchopt *o, fetch_cb cb,
	    void *arg);
/*
 * POST body[0..len-1] (text/plain) to url, then as fetch_get(); a
 * file:// URL fails.
 */
int	fetch_post(struct env *env, const char *url, const void *body,
	    size_t len, size_t maxlen, int64_t timeout_ms,
	    const struct fetchopt *o, fetch_cb cb, void *arg);
/*
 * fetch_get() with the body written to fd as it arrives instead of
 * memory: fd is the caller's, an empty regular file open for reading
 * and writing (fetch_tmpfile()), and cb's body is empty.  The body of
 * a redirect or a failed attempt is truncated away.  For a file:// URL
 * nothing is copied: fd is made (dup3) a read-only descriptor of the
 * file itself.  fd must stay open until cb has run.  0, or -1 if it
 * could not start.
 */
int	fetch_get_fd(struct env *env, const char *url, int fd,
	    size_t maxlen, int64_t timeout_ms, const struct fetchopt *o,
	    fetch_cb cb, void *arg);
/*
 * Whether NO_PROXY list noproxy names url's host, as the go command
 * reads it: "*", a host or domain (".example.com" and "*.example.com"
 * for subdomains only, "example.com" for it and its subdomains), an IP,
 * a CIDR block, each optionally with ":port".
 */
int	fetch_noproxy(const char *noproxy, const char *url);
/*
 * A Retry-After field's value, p[0..len-1] (delay-seconds or an
 * HTTP-date), as seconds from now; -1 if malformed.
 */
int64_t	fetch_retry_after(const char *p, size_t len);
/* env->fetch on env->base, and its /metrics; 0 or -1. */
int	fetch_init(struct env *env);
/*
 * Answer every fetch in flight with -1 ("sumdbd is stopping") and refuse
 * new ones, so that their owners free what they hold; call it before
 * those owners go away.
 */
void	fetch_stop(struct env *env);
/* Free env->fetch; fetches in flight are dropped unanswered. */
void	fetch_free(struct env *env);
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

/* reload.c: SIGHUP, the settings workers copy, sd_notify */
/* Fill env->wconf from env->conf at start-up (TLS included); 0 or -1. */
int	wconf_init(struct env *env);
/* Free what wc holds. */
void	wconf_free(struct wconf *wc);
/* Any thread: copy env->wconf into dst (a worker's own), under wmu. */
void	wconf_copy(struct env *env, struct wconf *dst);
/*
 * SIGHUP: reread env->confpath, apply what can change while running,
 * log what needs a restart, and have env->publish hand the new settings
 * to the workers.  A bad file keeps the running configuration.
 */
void	daemon_reload(struct env *env);
/* Tell systemd state (may be NULL) and each database's tree. */
void	daemon_notify(struct env *env, const char *state);

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
	/*
	 * audit_tofu(): the mirror whose verified record differs from the
	 * log's record, admitted on first use, and its hash (or NULL).
	 */
	const char	*mirror;
	char		 mhash[SUMDB_H1_SIZE];
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
/*
 * The private log (log in st) only: each line checked against a public
 * record without provenance (admitted on first use from a GOPROXY) is
 * compared with the mirrors' verified records of its module version (c:
 * the routes and mirrors); where a mirror's hash differs from the log's,
 * the line names it and is a mismatch.  0, or -1 on a store error.
 */
int	audit_tofu(struct audit *au, struct store *st, int64_t log,
	    const struct config *c);
/* After the last audit_lines(): explain each line and count them. */
void	audit_end(struct audit *au);
/* The report as a new JSON object (the caller's to decref), or NULL. */
struct json_t *audit_json(const struct audit *au);
/* The report as text on stdout, one line per go.sum line and a total. */
void	audit_text(const struct audit *au);
/* Free au's lines; au itself is the caller's. */
void	audit_free(struct audit *au);

/* tufrepo.c: the TUF repository, main thread */
/*
 * At start-up: the online keys ([tuf] keys) checked against the newest
 * root in the store; 0 when TUF is not configured or all is well, -1.
 */
int	tufrepo_open(struct env *env);
/*
 * Once the loop exists: re-sign what expires, and publish new targets
 * after each db_refresh() (it subscribes).
 */
void	tufrepo_start(struct env *env);
/* At exit: free the keys and timers. */
void	tufrepo_free(struct env *env);
/* Offline root keys at most, for tufrepo_init() and tufrepo_rotate(). */
#define ROOT_KEYS_MAX	16
/*
 * The offline root keys, for sumdbd tuf.  tufrepo_init() makes nkeys root
 * keys in directory dir (one root-KEYID.key file each, mode 0600), the
 * online keys in the [tuf] keys file, and root version 1 signed by
 * threshold of the root keys; the store must hold no root yet.
 * tufrepo_rotate() makes nkeys new root keys in newdir and signs root
 * N+1 with the old root keys found in olddir (at least the old root's
 * threshold) and threshold of the new ones, in one transaction; *newv
 * is N+1.  Both need env's store open and return 0, or -1 with the
 * reason printed.  1 <= threshold <= nkeys <= ROOT_KEYS_MAX.
 */
int	tufrepo_init(struct env *env, const char *dir, int nkeys,
	    int threshold);
int	tufrepo_rotate(struct env *env, const char *olddir,
	    const char *newdir, int nkeys, int threshold, int64_t *newv);


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
	int			 keep;		/* or keep them in kept */
	int			 storeerr;	/* storing one failed */
	struct tilemem		*mem;		/* overlay: held tiles */
	size_t			 nmem, capmem;
	struct tilemem		*kept;		/* keep: authenticated */
	size_t			 nkept, capkept;
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
/*
 * With ts->keep set instead of save, the tiles the reads since the last
 * tiles_reset() authenticated are copied, not stored: take them, and
 * their number in *n; free them with tiles_mem_free().
 */
struct tilemem *tiles_take_kept(struct tiles *ts, size_t *n);
/* Free n held tiles m (the bytes they own, then m). */
void	tiles_mem_free(struct tilemem *m, size_t n);
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

/* bundle.c: differential bundles */
/*
 * Write to out the bundle of log (database name) from tree size from to
 * tree size to, both stored trust bases; 0, or -1 with the reason in
 * err.
 */
int	bundle_write(struct store *st, int64_t log, const char *name,
	    int64_t from, int64_t to, struct evbuffer *out, char *err,
	    size_t errsize);
/*
 * Verify bundle bytes p[0..len-1] against our newest trust base of
 * their database and store them, in one transaction or not at all;
 * source names where they came from (evidence, the checkpoint's
 * origin).  Prints "imported ..." on stdout when stored.  Returns 0,
 * IMPORT_REFUSED (the bundle is refused, the evidence kept already,
 * the one-line reason in err) or IMPORT_ERROR (a runtime or store
 * error, logged already).
 */
#define IMPORT_REFUSED	(-1)	/* the input is wrong: a finding */
#define IMPORT_ERROR	(-2)	/* we could not: I/O, the store */
int	bundle_import(struct env *env, const uint8_t *p, size_t len,
	    const char *source, char *err, size_t errsize);

/*
 * Find database name in env's config, without the daemon:
 * its log id in *log and its verifier key in *v, opening the private
 * log (env->log) if name is that.  0, or -1 if there is none (or the
 * private log cannot be opened, the reason logged).
 */
int	bundle_find_db(struct env *env, const char *name, int64_t *log,
	    struct note_verifier *v);

#endif /* SUMDBD_H */
