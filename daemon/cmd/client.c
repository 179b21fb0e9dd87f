/*
 * client.c: what build hosts need, and "sumdbd client-config", which
 * prints the go env -w lines that make a go command verify against
 * this sumdbd, two ways per database: GOSUMDB with the server's URL, or
 * the key alone in GOSUMDB with the server first in GOPROXY (the go
 * command finds the database at URL/sumdb/NAME/supported).  With [log]
 * public = NAME the private log holds the mirror's verified records of
 * public modules too: its lines alone, one GOSUMDB for every module
 * with the organisation's GOPROXY and no GONOSUMDB.  The options,
 * the server's URL and the databases as build hosts see them are shared
 * with client-check (client_check.c).  Exit 0, or 2 on errors.
 */


#include <event2/buffer.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static void
usage(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "client-config") == 0)
		fprintf(f,
		    "usage: sumdbd client-config [-c FILE] [--db NAME] "
		    "[--url URL] [--way url|proxy]\n"
		    "  Print, as a shell script, the go env -w lines that make "
		    "a build\n"
		    "  host verify modules against this sumdbd: for each "
		    "database (or\n"
		    "  NAME), way 1 sets GOSUMDB to the key and URL, way 2 the "
		    "key alone\n"
		    "  with URL first in GOPROXY.  Run ONE way's lines.  With "
		    "[log] public =\n"
		    "  NAME only the private log's: one GOSUMDB for every "
		    "module.  URL\n"
		    "  defaults to http(s)://[server] listen.  Exit 0, or 2 "
		    "on errors.\n");
	else
		fprintf(f,
		    "usage: sumdbd client-check [-c FILE] [--db NAME] "
		    "[--url URL] [--gopath DIR]\n"
		    "  Check this host's go settings (go env -json, else the "
		    "environment)\n"
		    "  for database NAME (default: the private log, or the "
		    "only mirror):\n"
		    "  GOSUMDB, GONOSUMDB, GOPRIVATE, GOINSECURE, GOPROXY, "
		    "variables the\n"
		    "  go command ignores, and the cached checkpoint in\n"
		    "  DIR/pkg/sumdb/NAME/latest against the server's at URL.  "
		    "Exit 0 when\n"
		    "  nothing is wrong, 1 when something is, 2 on errors.\n");
}

static void
config_usage(FILE *f)
{
	usage(f, "client-config");
}

void
client_check_usage(FILE *f)
{
	usage(f, "client-check");
}

void
client_err(const struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr, prefixed with the subcommand. */
void
client_err(const struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "sumdbd %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

void
client_finding(struct client *c, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A misconfiguration: "client-check: WHAT: ..." on stdout. */
void
client_finding(struct client *c, const char *what, const char *fmt, ...)
{
	va_list	 ap;

	printf("client-check: %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	c->findings++;
}

const struct option client_longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "url", required_argument, NULL, 'u' },
	{ "way", required_argument, NULL, 'w' },
	{ "gopath", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The options of either subcommand, which cmd_run() checked but for
 * those of the other one, and the server's URL.  Returns -1 to go on,
 * or the exit status of a usage error.
 */
int
client_open(struct client *c, struct env *env, const char *cmd, int argc,
    char **argv)
{
	const char	*url = NULL;
	int		 ch, check = strcmp(cmd, "client-check") == 0;
	size_t		 len;

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->env = env;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:h", client_longopts, NULL)) != -1) {
		if (ch == 'd')
			c->dbname = optarg;
		else if (ch == 'u')
			url = optarg;
		else if (ch == 'w' && !check && strcmp(optarg, "url") == 0)
			c->way = WAY_URL;
		else if (ch == 'w' && !check && strcmp(optarg, "proxy") == 0)
			c->way = WAY_PROXY;
		else if (ch == 'g' && check)
			c->gopath = optarg;
		else if (ch != 'c') {
			usage(stderr, cmd);
			return 2;
		}
	}
	c->urlset = url != NULL;
	if (url == NULL)
		snprintf(c->url, sizeof(c->url), "%s://%s",
		    c->env->conf.tls_certificate != NULL ? "https" : "http",
		    c->env->conf.listen);
	else if (snprintf(c->url, sizeof(c->url), "%s", url) >=
	    (int)sizeof(c->url)) {
		client_err(c, "--url: too long");
		return 2;
	}
	if (strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		client_err(c, "'%s': not an http:// or https:// URL", c->url);
		return 2;
	}
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		c->url[--len] = '\0';
	return -1;
}

void
client_close(struct client *c)
{
	int	 i;

	for (i = 0; i < GV_MAX; i++)
		free(c->gv[i]);
}

/* The name of database i: 0 the private log, 1.. the mirrors, or NULL. */
static const char *
db_name(const struct config *conf, int i)
{
	if (i == 0)
		return conf->log_name;
	return i <= conf->nmirrors ? conf->mirrors[i - 1].name : NULL;
}

/* Fill *d for database i, opening the private log for its key. */
int
client_db_open(struct client *c, int i, struct cdb *d)
{
	const struct config	*conf = &c->env->conf;
	struct evbuffer		*b = NULL;
	const char		*key;
	int			 rv = -1;

	memset(d, 0, sizeof(*d));
	d->name = db_name(conf, i);
	d->mirror = i > 0;
	d->atroot = i == 0 || (conf->log_name == NULL && conf->nmirrors == 1);
	if (d->mirror) {
		key = conf->mirrors[i - 1].key;
		if (note_verifier_parse(key, strlen(key), &d->v) != 0) {
			client_err(c, "[mirror %s] key: not a verifier key",
			    d->name);
			return -1;
		}
		snprintf(d->vkey, sizeof(d->vkey), "%s", key);
		return 0;
	}
	if (c->env->log == NULL && env_open_log(c->env) != 0)
		return -1;
	d->v = c->env->log->vkey;
	if ((b = evbuffer_new()) == NULL || note_verifier_format(&d->v, b) !=
	    0 || evbuffer_get_length(b) >= sizeof(d->vkey)) {
		client_err(c, "formatting the verifier key: out of memory");
		goto done;
	}
	evbuffer_remove(b, d->vkey, evbuffer_get_length(b));
	rv = 0;
 done:
	if (b != NULL)
		evbuffer_free(b);
	return rv;
}

/* The index of database name, or -1 (with an error) if there is none. */
int
client_db_find(struct client *c, const char *name)
{
	const char	*n;
	int		 i;

	for (i = 0; i <= c->env->conf.nmirrors; i++)
		if ((n = db_name(&c->env->conf, i)) != NULL &&
		    strcmp(n, name) == 0)
			return i;
	client_err(c, "no database '%s' in %s", name, c->env->confpath);
	return -1;
}

const char *
client_public(const struct client *c)
{
	if (c->env->conf.log_name == NULL)
		return NULL;
	return config_log_mirror(&c->env->conf);
}

/* Whether s needs no quoting in a shell word. */
static int
shell_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-", *s) ==
		    NULL)
			return 0;
	return 1;
}

/* Print "go env -w VAR=VALUE", single-quoted when it must be. */
static void
print_set(const char *prefix, const char *var, const char *value)
{
	const char	*p;

	if (shell_safe(value)) {
		printf("%sgo env -w %s=%s\n", prefix, var, value);
		return;
	}
	printf("%sgo env -w '%s=", prefix, var);
	for (p = value; *p != '\0'; p++)
		if (*p == '\'')
			printf("'\\''");
		else
			putchar(*p);
	printf("'\n");
}

/* The lines about [log] private that go with every way of d. */
static void
print_private(const struct client *c, const struct cdb *d)
{
	const char	*priv = c->env->conf.log_private;

	if (d->mirror) {
		if (priv == NULL)
			return;
		printf("# Modules matching [log] private are not in %s: "
		    "sumdbd refuses to\n# look them up there, so the go "
		    "command must not ask.\n", d->name);
		print_set("", "GONOSUMDB", priv);
		return;
	}
	if (client_public(c) != NULL)
		printf("# %s verifies every module, public ones as\n# %s's "
		    "verified records: GONOSUMDB and GOPRIVATE are not\n# "
		    "needed and would only skip verification: both are "
		    "cleared.\n", d->name, client_public(c));
	else
		printf("# Modules that %s verifies must not match GONOSUMDB "
		    "or GOPRIVATE,\n# or the go command skips their "
		    "verification: both are cleared.\n", d->name);
	print_set("", "GONOSUMDB", "");
	print_set("", "GOPRIVATE", "");
	if (priv == NULL)
		return;
	printf("# If this host used GOPRIVATE to fetch the [log] private "
	    "modules directly,\n# not through a proxy, keep that with "
	    "GONOPROXY instead:\n");
	print_set("#   ", "GONOPROXY", priv);
}

static void
print_way(const struct client *c, const struct cdb *d, enum way way)
{
	const char	*next = PUBLIC_PROXY;
	char		 v[2 * URL_MAX + 2 * SUMDB_NAME_MAX];

	if (way == WAY_URL) {
		printf("\n# %s: way 1, GOSUMDB with the server's URL\n",
		    d->name);
		snprintf(v, sizeof(v), "%s %s%s%s", d->vkey, c->url,
		    d->mirror ? "/sumdb/" : "", d->mirror ? d->name : "");
		print_set("", "GOSUMDB", v);
		if (!d->mirror && client_public(c) != NULL) {
			printf("# Modules, private and public, from the "
			    "organisation's proxy:\n");
			print_set("", "GOPROXY", c->env->conf.log_goproxy !=
			    NULL ? c->env->conf.log_goproxy : next);
		}
	} else {
		if (!d->mirror && c->env->conf.log_goproxy != NULL)
			next = c->env->conf.log_goproxy;
		printf("\n# %s: way 2, through the GOPROXY /sumdb/ route\n"
		    "# The go command asks %s/sumdb/%s/supported;\n"
		    "# sumdbd answers 404 for module downloads, so %s "
		    "serves them.\n", d->name, c->url, d->name, next);
		if (strcmp(d->name, "sum.golang.org") == 0)
			printf("# GOSUMDB=sum.golang.org would do (the go "
			    "command knows its key); the\n# full key pins "
			    "the one sumdbd checks against.\n");
		print_set("", "GOSUMDB", d->vkey);
		snprintf(v, sizeof(v), "%s,%s", c->url, next);
		print_set("", "GOPROXY", v);
	}
	print_private(c, d);
}

/*
 * With [server] auth: how build hosts send credentials.  go 1.19 finds
 * its ~/.netrc line by host name alone, go 1.24 (GOAUTH=netrc, its
 * default) by host:port when the URL has a port, so both lines.
 */
static void
print_auth(const struct client *c)
{
	const struct config	*conf = &c->env->conf;
	char			 host[URL_MAX];
	const char		*h = strstr(c->url, "://") + 3, *port;
	size_t			 len = strcspn(h, "/");

	if (config_auth(conf) == AUTH_NONE)
		return;
	snprintf(host, sizeof(host), "%.*s", (int)len, h);
	port = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
	if (port != NULL && host[0] == '[')
		port++;
	printf("\n# [server] auth = %s: the go command must send credentials"
	    "%s.\n", conf->auth, config_auth(conf) == AUTH_PRIVATE ?
	    " for the\n# private log (mirrors answer without them)" : "");
	if (strncmp(c->url, "https://", 8) != 0)
		printf("# It sends them over https only: this URL is http, "
		    "set tls_certificate\n# or use --url with the https "
		    "address of a TLS proxy.\n");
	printf("# Put the user's line in ~/.netrc (chmod 600) on each build "
	    "host; set the\n# password with 'sumdbd passwd NAME'.  go 1.19 "
	    "reads ~/.netrc by itself,\n# go 1.24 and later with GOAUTH=netrc "
	    "(its default; GOAUTH=off disables it).\n");
	if (port != NULL) {
		printf("# go 1.24 looks up host:port, go 1.19 the host alone: "
		    "both lines.\n");
		printf("#   machine %s login NAME password PASSWORD\n", host);
		printf("#   machine %.*s login NAME password PASSWORD\n",
		    (int)(port - host), host);
	} else
		printf("#   machine %s login NAME password PASSWORD\n", host);
	printf("# go 1.24 and later:\n#   go env -w GOAUTH=netrc\n");
	if (conf->tls_client_ca != NULL)
		printf("# Or a client certificate signed by the CA in %s,\n"
		    "# for clients that can present one (the go command "
		    "cannot).\n", conf->tls_client_ca);
}

static int
print_config(struct env *env, int argc, char **argv)
{
	struct client	 c;
	struct cdb	 d;
	int		 i, only = -1, rv;

	if ((rv = client_open(&c, env, "client-config", argc, argv)) >= 0)
		goto done;
	rv = 2;
	if (c.dbname != NULL && (only = client_db_find(&c, c.dbname)) < 0)
		goto done;
	printf("# go env -w lines for build hosts of sumdbd at %s.\n"
	    "# Run the lines of ONE way, for ONE database: GOSUMDB names "
	    "one.\n", c.url);
	if (!c.urlset)
		printf("# The URL is from [server] listen: use --url for the "
		    "address build hosts\n# reach the server at.\n");
	/* One GOSUMDB for every module: the mirrors' only when asked. */
	if (only < 0 && client_public(&c) != NULL) {
		only = 0;
		printf("# [log] public = %s: %s also holds\n# %s's verified "
		    "records of public modules, so its one GOSUMDB\n# covers "
		    "every module (--db %s prints the mirror's own lines).\n",
		    client_public(&c), c.env->conf.log_name, client_public(&c),
		    client_public(&c));
	}
	print_auth(&c);
	for (i = 0; i <= c.env->conf.nmirrors; i++) {
		if (db_name(&c.env->conf, i) == NULL ||
		    (only >= 0 && i != only))
			continue;
		if (client_db_open(&c, i, &d) != 0)
			goto done;
		if (c.way != WAY_PROXY)
			print_way(&c, &d, WAY_URL);
		if (c.way != WAY_URL)
			print_way(&c, &d, WAY_PROXY);
	}
	if (fflush(stdout) != 0) {
		client_err(&c, "writing the output: %s", strerror(errno));
		goto done;
	}
	rv = 0;
 done:
	client_close(&c);
	return rv;
}

const struct cmd_entry cmd_client_config_entry = {
	.name = "client-config",
	.opts = "c:h",
	.longopts = client_longopts,
	.flags = NEED_CONFIG,
	.usage = config_usage,
	.exec = print_config,
};
