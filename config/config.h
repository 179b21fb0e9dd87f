/*
 * config.h: sumdbd's configuration, read from an INI file with inih.
 * Every key is one row of the table in config.c.
 */

#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_EOPEN	-1	/* the file cannot be read */
#define CONFIG_ESYNTAX	-2	/* not INI */
#define CONFIG_EKEY	-3	/* unknown section or key */
#define CONFIG_EVALUE	-4	/* a value out of range or malformed */
#define CONFIG_EMISSING	-5	/* a required key is absent */
#define CONFIG_ENOMEM	-6

#define CONFIG_MIRRORS_MAX	8
#define CONFIG_URLS_MAX		4

#define CONFIG_SECRET_MAX	4096	/* bytes of a credential file's line */

/*
 * How a [log] or a [mirror] reaches its servers: the egress proxy, the
 * credentials and the retries.  The files are read when the
 * configuration is loaded (and again on SIGHUP); their contents are
 * never logged.
 */
struct config_egress {
	char		*proxy;		/* URL or "none"; NULL: environment */
	char		*proxy_auth;	/* file: user:password */
	char		*netrc;		/* file, netrc format */
	char		*auth_header;	/* file: "Name: value" */
	int64_t		 retries;	/* transient failures retried */
	char		*proxy_auth_data;	/* read from the files */
	char		*auth_header_data;
};

/* A [mirror NAME] section: a sumdb mirrored under its own key. */
struct config_mirror {
	char		*name;			/* from the section header */
	int		 line;			/* of the section's first key */
	char		*key;			/* the upstream's verifier key */
	char		*urls[CONFIG_URLS_MAX];	/* upstreams, tried in order */
	int		 nurls;
	/* peer witnesses: "URL VKEY" each */
	char		*witnesses[CONFIG_URLS_MAX];
	int		 nwitnesses;
	char		*mode;			/* "lazy" or "full" */
	int64_t		 offline;		/* 1: never connect */
	int64_t		 poll;			/* ms between /latest polls */
	int64_t		 fetch_timeout;		/* ms per upstream request */
	int64_t		 max_response;		/* bytes per upstream answer */
	int64_t		 max_age;		/* ms; 0: no bound (/healthz) */
	int64_t		 redirect_other_hosts;	/* 1: follow them */
	int64_t		 max_evidence;		/* rows kept per kind */
	int64_t		 max_fetches;		/* client misses in flight */
	int64_t		 fetch_concurrency;	/* requests in flight per job */
	struct config_egress egress;
};

/*
 * A [witness-log NAME] section: a log that our witness cosigns, named
 * by its checkpoints' origin line unless origin says otherwise (every
 * go.sum database's origin is "go.sum database tree").
 */
#define CONFIG_WLOGS_MAX	64
struct config_wlog {
	char		*name;			/* from the section header */
	char		*origin;		/* origin =, or the name */
	int		 line;			/* of the section's first key */
	char		*keys[CONFIG_URLS_MAX];	/* its verifier keys */
	int		 nkeys;
};

struct config {
	/* [server] */
	char		*listen;		/* host:port */
	char		*database;		/* SQLite file or PostgreSQL URI */
	char		*state_dir;		/* this node's files; NULL */
	/* [cluster]: nodes sharing a PostgreSQL store */
	char		*cluster_node;		/* NULL: the host name */
	char		*cluster_url;		/* NULL: http://listen */
	int64_t		 cluster_lease;		/* milliseconds */
	int64_t		 cluster_poll;		/* milliseconds */
	int64_t		 cluster_max_forwards;
	int64_t		 max_connections;
	int64_t		 max_conns_per_client;	/* by client address */
	int64_t		 max_header_size;	/* bytes */
	int64_t		 idle_timeout;		/* milliseconds */
	int64_t		 workers;		/* threads; 0: one per CPU */
	int64_t		 audit_max_body;	/* POST /audit body, bytes */
	int64_t		 audit_rate;		/* POST /audit per minute per client */
	int64_t		 audit_max_lines;	/* POST /audit go.sum lines */
	int64_t		 request_timeout;	/* ms from a request's first byte */
	int64_t		 cache_size;		/* bytes of answers, all workers */
	int64_t		 shutdown_timeout;	/* ms SIGTERM waits for requests */
	char		*tls_certificate;	/* PEM chain; with tls_key: HTTPS */
	char		*tls_key;		/* PEM private key */
	char		*auth;			/* none, private or all */
	char		*users;			/* NAME:HASH lines */
	char		*tls_client_ca;		/* PEM CA of client certs */
	int64_t		 auth_healthz;		/* 1: /healthz needs them */
	int64_t		 auth_metrics;		/* 1: /metrics needs them */
	int64_t		 auth_rate;		/* checks a minute per client */
	int64_t		 auth_concurrency;	/* password checks at once */
	/* [log]: the private checksum database, if name is set */
	char		*log_name;
	char		*log_key;		/* PRIVATE+KEY+... file */
	char		*log_goproxy;		/* http(s):// or file:// */
	char		*log_private;		/* comma-separated globs */
	int64_t		 log_fetch_timeout;	/* milliseconds */
	int64_t		 log_max_module_size;	/* bytes, zip or go.mod */
	int64_t		 log_batch_delay;	/* milliseconds */
	int64_t		 log_redirect_other_hosts; /* 1: follow them */
	char		*log_accept;		/* globs logged; NULL: all */
	int64_t		 log_max_fetches;	/* module fetches at once */
	int64_t		 log_max_fetches_per_client; /* per address */
	char		*log_public;		/* NAME, goproxy, none; NULL */
	int		 log_public_line;	/* where it is set */
	int64_t		 log_verify_goproxy;	/* 1: compare public records */
	/* witnesses whose cosignatures publish a checkpoint: "URL VKEY" */
	char		*log_witnesses[CONFIG_URLS_MAX];
	int		 log_nwitnesses;
	int64_t		 log_witness_quorum;	/* cosignatures to publish */
	struct config_egress log_egress;	/* to the GOPROXY */
	/* [tuf]: the TUF repository, if keys is set */
	char		*tuf_keys;		/* online keys file */
	int64_t		 tuf_timestamp_expiry;	/* milliseconds */
	int64_t		 tuf_snapshot_expiry;
	int64_t		 tuf_targets_expiry;
	int64_t		 tuf_resign;		/* timestamp re-sign interval */
	int64_t		 tuf_bundle_step;	/* records between bundles */
	int64_t		 tuf_bundle_keep;	/* bundles listed per database */
	/* [mirror NAME] sections */
	struct config_mirror mirrors[CONFIG_MIRRORS_MAX];
	int		 nmirrors;
	/* [witness]: a c2sp.org/tlog-witness, if name is set */
	char		*witness_name;
	char		*witness_key;		/* PRIVATE+KEY+... file */
	int64_t		 witness_max_pending;	/* add-checkpoints queued */
	/* [witness-log ORIGIN] sections */
	struct config_wlog wlogs[CONFIG_WLOGS_MAX];
	int		 nwlogs;
};

/*
 * Load path into *c (zeroed and defaulted first).  Returns 0, or a
 * CONFIG_E* code with *line set to the line at fault (0 if none) and a
 * one-line reason in err.  config_free() releases c either way.
 */
int	config_load(const char *path, struct config *c, int *line, char *err,
	    size_t errsize);
void	config_free(struct config *c);
/* Whether a [server] database names PostgreSQL (a postgresql:// URI). */
int	config_is_pg(const char *database);

typedef void (*config_diff_cb)(void *arg, const char *section,
    const char *name, int live);
/*
 * A SIGHUP: compare the running configuration c with n, just loaded.
 * For each key whose value differs, cb gets its section ("mirror NAME"
 * for mirrors), its name and whether a reload applies it (live); live
 * values are swapped into c, so n keeps the old ones for config_free().
 * A mirror added or removed is reported with name NULL (not live).
 * Returns how many differ.
 */
int	config_reload(struct config *c, struct config *n, config_diff_cb cb,
	    void *arg);

/*
 * secret.c: whether the file open as fd (named path) is a regular file
 * only its owner can read (group read allowed for systemd credentials
 * in $CREDENTIALS_DIRECTORY); 0, or -1 with a reason in err.
 */
int	config_secret_check(int fd, const char *path, char *err,
	    size_t errsize);
/*
 * The one line of secret file path (config_secret_check()), without its
 * newline, in memory to free with config_secret_free(); NULL with a
 * reason in err.
 */
char	*config_secret_line(const char *path, char *err, size_t errsize);
/* Wipe and free a secret. */
void	config_secret_free(char *s);
/* [server] auth as a number. */
#define AUTH_NONE	0
#define AUTH_PRIVATE	1
#define AUTH_ALL	2
int	config_auth(const struct config *c);

/* Parse "100ms", "30s", "5m", "2h" or plain seconds into milliseconds. */
int	config_duration(const char *s, int64_t *ms);

/* Parse "512", "64k", "10M", "1G" into bytes. */
int	config_size(const char *s, int64_t *bytes);

/*
 * Whether module path matches a comma-separated list of path.Match
 * globs the way GOPRIVATE does (x/mod module.MatchPrefixPatterns).
 */
int	config_match_patterns(const char *globs, const char *path);

/*
 * [log] public as it applies: the value set, else the one mirror's name
 * if exactly one [mirror] is configured, else "none".
 */
const char *config_log_public(const struct config *c);
/* The origin line of w's checkpoints. */
const char *config_wlog_origin(const struct config_wlog *w);
/*
 * The mirror of [witness-log] i: the [mirror] whose key is one of its
 * keys, as an index into c->mirrors, or -1.
 */
int	config_wlog_mirror(const struct config *c, int i);

/* The mirror that config_log_public() names, or NULL (goproxy, none). */
const char *config_log_mirror(const struct config *c);

/* How the private log admits a module path (config_log_route()). */
enum log_route {
	ROUTE_PRIVATE,	/* [log] private: hashed from the GOPROXY */
	ROUTE_MIRROR,	/* public: the mirror's verified record only */
	ROUTE_GOPROXY,	/* public = goproxy: hashed, trust on first use */
	ROUTE_REFUSE	/* public = none: not logged */
};
/*
 * The route of path in the private log.  Without [log] private and with
 * public = none every path is private (a log with no mirror); with
 * public = NAME and no [log] private, none is.  [log] accept is the
 * caller's to apply as well.
 */
enum log_route config_log_route(const struct config *c, const char *path);

#endif /* CONFIG_H */
