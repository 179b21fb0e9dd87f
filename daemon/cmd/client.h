/*
 * client.h: what client.c (the common part and client-config) and
 * client_check.c share, and nothing else includes.
 */

#ifndef CMD_CLIENT_H
#define CMD_CLIENT_H

#include "cmd.h"

#define PUBLIC_PROXY	"https://proxy.golang.org"
#define GET_TIMEOUT	60000		/* ms per request to the server */
#define LATEST_MAX	65536		/* bytes of a /latest answer */
#define TILE_MAX	(SUMDB_HASH_SIZE << SUMDB_TILE_HEIGHT)
#define URL_MAX		1024

enum way { WAY_ALL, WAY_URL, WAY_PROXY };

/* The go settings client-check reads, by index. */
enum gvar { GV_GOSUMDB, GV_GOPROXY, GV_GOPRIVATE, GV_GONOSUMDB,
    GV_GOINSECURE, GV_GOPATH, GV_GOFLAGS, GV_MAX };
/* A database as build hosts see it. */
struct cdb {
	const char		*name;
	int			 mirror;	/* 0: the private log */
	int			 atroot;	/* also served at URL/latest */
	char			 vkey[1024];	/* its verifier key */
	struct note_verifier	 v;
};

/* One run of client-config or client-check. */
struct client {
	const char	*cmd;		/* "client-config", "client-check" */
	struct env	*env;
	const char	*dbname;	/* --db, or NULL */
	char		 url[URL_MAX];	/* the server, without a final '/' */
	int		 urlset;	/* from --url */
	enum way	 way;		/* client-config --way */
	const char	*gopath;	/* client-check --gopath */
	char		*gv[GV_MAX];	/* client-check: the settings */
	int		 fromgo;	/* they came from go env -json */
	int		 findings;
};

/* The options of both commands; each takes its own. */
extern const struct option client_longopts[];

/* sumdbd client-check -h */
void	client_check_usage(FILE *f);
/* One line on stderr, prefixed with the subcommand. */
void	client_err(const struct client *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A misconfiguration: "client-check: WHAT: ..." on stdout; counted. */
void	client_finding(struct client *c, const char *what, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/*
 * Set c up for command cmd (client-config or client-check) on env: its
 * own options (cmd_run() checked the common ones) and the server's URL.
 * Returns -1 to go on, or the exit status of a usage error.
 */
int	client_open(struct client *c, struct env *env, const char *cmd,
	    int argc, char **argv);
/* Free what c holds (not c). */
void	client_close(struct client *c);
/*
 * Fill *d for database i (0 the private log, 1.. the mirrors), opening
 * the private log for its key.  0, or -1 (the reason printed).
 */
int	client_db_open(struct client *c, int i, struct cdb *d);
/* The index of database name, or -1 (the reason printed). */
int	client_db_find(struct client *c, const char *name);
/*
 * The mirror whose verified records the private log admits for every
 * public module ([log] public = NAME), or NULL.  When there is one, the
 * private log's GOSUMDB covers every module, private and public.
 */
const char *client_public(const struct client *c);

#endif /* CMD_CLIENT_H */
