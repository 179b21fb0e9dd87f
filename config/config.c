/*
 * config.c: load sumdbd.conf.  inih does the lexing; this file maps
 * each key through one row of a table (section, name, type, default,
 * bounds) and reports the first problem as a line number and a reason.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum type { T_STR, T_DURATION, T_SIZE, T_INT, T_BOOL, T_LIST };

struct key {
	const char	*section;
	const char	*name;
	enum type	 type;
	size_t		 off;
	const char	*def;		/* NULL: no default */
	int64_t		 min, max;
	int		 live;		/* a SIGHUP applies it */
};

#define OFF(f)	offsetof(struct config, f)
#define LIVE	1
#define RESTART	0
#define MS(x)	((int64_t)(x) * 1000)

static const struct key keys[] = {
	{ "server", "listen", T_STR, OFF(listen), "127.0.0.1:8080", 0, 0,
	    RESTART },
	{ "server", "database", T_STR, OFF(database),
	    "/var/lib/sumdbd/sumdbd.db", 0, 0, RESTART },
	{ "server", "state_dir", T_STR, OFF(state_dir), NULL, 0, 0, RESTART },
	{ "server", "max_connections", T_INT, OFF(max_connections), "1024",
	    1, 1000000, LIVE },
	{ "server", "max_connections_per_client", T_INT,
	    OFF(max_conns_per_client), "256", 1, 1000000, LIVE },
	{ "server", "max_header_size", T_SIZE, OFF(max_header_size), "8k",
	    1024, 1 << 20, LIVE },
	{ "server", "idle_timeout", T_DURATION, OFF(idle_timeout), "30s",
	    100, MS(3600), LIVE },
	{ "server", "workers", T_INT, OFF(workers), "0", 0, 64, RESTART },
	{ "server", "audit_max_body", T_SIZE, OFF(audit_max_body), "256k",
	    1024, 16 << 20, LIVE },
	{ "server", "audit_rate", T_INT, OFF(audit_rate), "30", 1, 1000000,
	    LIVE },
	{ "server", "audit_max_lines", T_INT, OFF(audit_max_lines), "100000",
	    1, 10000000, LIVE },
	{ "server", "request_timeout", T_DURATION, OFF(request_timeout), "10s",
	    100, MS(3600), LIVE },
	{ "server", "cache_size", T_SIZE, OFF(cache_size), "16M", 0,
	    (int64_t)1 << 30, RESTART },
	{ "server", "shutdown_timeout", T_DURATION, OFF(shutdown_timeout),
	    "10s", 0, MS(600), LIVE },
	{ "server", "tls_certificate", T_STR, OFF(tls_certificate), NULL, 0, 0,
	    LIVE },
	{ "server", "tls_key", T_STR, OFF(tls_key), NULL, 0, 0, LIVE },
	{ "server", "auth", T_STR, OFF(auth), "none", 0, 0, LIVE },
	{ "server", "users", T_STR, OFF(users), NULL, 0, 0, LIVE },
	{ "server", "tls_client_ca", T_STR, OFF(tls_client_ca), NULL, 0, 0,
	    LIVE },
	{ "server", "auth_healthz", T_BOOL, OFF(auth_healthz), "no", 0, 1,
	    LIVE },
	{ "server", "auth_metrics", T_BOOL, OFF(auth_metrics), "no", 0, 1,
	    LIVE },
	{ "server", "auth_rate", T_INT, OFF(auth_rate), "30", 1, 1000000,
	    LIVE },
	{ "server", "auth_concurrency", T_INT, OFF(auth_concurrency), "2", 1,
	    64, LIVE },
	{ "log", "name", T_STR, OFF(log_name), NULL, 0, 0, RESTART },
	{ "log", "key", T_STR, OFF(log_key), NULL, 0, 0, RESTART },
	{ "log", "goproxy", T_STR, OFF(log_goproxy), NULL, 0, 0, LIVE },
	{ "log", "private", T_STR, OFF(log_private), NULL, 0, 0, LIVE },
	{ "log", "fetch_timeout", T_DURATION, OFF(log_fetch_timeout), "60s",
	    100, MS(3600), LIVE },
	{ "log", "max_module_size", T_SIZE, OFF(log_max_module_size), "500M",
	    1024, (int64_t)500 << 20, LIVE },
	{ "log", "batch_delay", T_DURATION, OFF(log_batch_delay), "10ms",
	    0, MS(10), LIVE },
	{ "log", "redirect_other_hosts", T_BOOL,
	    OFF(log_redirect_other_hosts), "no", 0, 1, LIVE },
	{ "log", "accept", T_STR, OFF(log_accept), NULL, 0, 0, LIVE },
	{ "log", "max_fetches", T_INT, OFF(log_max_fetches), "8", 1, 1024,
	    LIVE },
	{ "log", "max_fetches_per_client", T_INT,
	    OFF(log_max_fetches_per_client), "4", 1, 1024, LIVE },
	{ "log", "public", T_STR, OFF(log_public), NULL, 0, 0, RESTART },
	{ "log", "verify_goproxy", T_BOOL, OFF(log_verify_goproxy), "no", 0,
	    1, RESTART },
	{ "log", "witness", T_LIST, OFF(log_witnesses), NULL,
	    OFF(log_nwitnesses), 0, RESTART },
	{ "log", "witness_quorum", T_INT, OFF(log_witness_quorum), "1", 1,
	    CONFIG_URLS_MAX, RESTART },
	{ "log", "proxy", T_STR, OFF(log_egress.proxy), NULL, 0, 0, LIVE },
	{ "log", "proxy_auth", T_STR, OFF(log_egress.proxy_auth), NULL, 0, 0,
	    LIVE },
	{ "log", "netrc", T_STR, OFF(log_egress.netrc), NULL, 0, 0, LIVE },
	{ "log", "auth_header", T_STR, OFF(log_egress.auth_header), NULL, 0,
	    0, LIVE },
	{ "log", "retries", T_INT, OFF(log_egress.retries), "3", 0, 10,
	    LIVE },
	{ "tuf", "keys", T_STR, OFF(tuf_keys), NULL, 0, 0, RESTART },
	{ "tuf", "timestamp_expiry", T_DURATION, OFF(tuf_timestamp_expiry),
	    "24h", MS(60), MS(86400 * 30), LIVE },
	{ "tuf", "snapshot_expiry", T_DURATION, OFF(tuf_snapshot_expiry),
	    "168h", MS(60), MS(86400 * 365), LIVE },
	{ "tuf", "targets_expiry", T_DURATION, OFF(tuf_targets_expiry),
	    "168h", MS(60), MS(86400 * 365), LIVE },
	{ "tuf", "resign", T_DURATION, OFF(tuf_resign), "1h", 1000,
	    MS(86400), LIVE },
	{ "tuf", "bundle_step", T_INT, OFF(tuf_bundle_step), "1", 1,
	    INT64_C(1) << 40, LIVE },
	{ "tuf", "bundle_keep", T_INT, OFF(tuf_bundle_keep), "16", 1, 4096,
	    LIVE },
	{ "witness", "name", T_STR, OFF(witness_name), NULL, 0, 0, RESTART },
	{ "witness", "key", T_STR, OFF(witness_key), NULL, 0, 0, RESTART },
	{ "witness", "max_pending", T_INT, OFF(witness_max_pending), "64", 1,
	    4096, LIVE },
	{ "cluster", "node", T_STR, OFF(cluster_node), NULL, 0, 0, RESTART },
	{ "cluster", "url", T_STR, OFF(cluster_url), NULL, 0, 0, RESTART },
	{ "cluster", "lease", T_DURATION, OFF(cluster_lease), "5s", 1000,
	    MS(300), RESTART },
	{ "cluster", "poll", T_DURATION, OFF(cluster_poll), "1s", 100,
	    MS(60), RESTART },
	{ "cluster", "max_forwards", T_INT, OFF(cluster_max_forwards), "256",
	    1, 65536, RESTART },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* The keys of a [mirror NAME] section; offsets into config_mirror. */
#define MOFF(f)	offsetof(struct config_mirror, f)
static const struct key mkeys[] = {
	{ "mirror", "key", T_STR, MOFF(key), NULL, 0, 0, RESTART },
	/* A list: off is its array, min the offset of its count. */
	{ "mirror", "url", T_LIST, MOFF(urls), NULL, MOFF(nurls), 0, LIVE },
	{ "mirror", "witness", T_LIST, MOFF(witnesses), NULL,
	    MOFF(nwitnesses), 0, RESTART },
	{ "mirror", "mode", T_STR, MOFF(mode), "lazy", 0, 0, RESTART },
	{ "mirror", "offline", T_BOOL, MOFF(offline), "no", 0, 1, RESTART },
	{ "mirror", "poll", T_DURATION, MOFF(poll), "60s", 1000, MS(86400),
	    LIVE },
	{ "mirror", "fetch_timeout", T_DURATION, MOFF(fetch_timeout), "30s",
	    100, MS(3600), LIVE },
	{ "mirror", "max_response", T_SIZE, MOFF(max_response), "16M", 4096,
	    (int64_t)1 << 30, LIVE },
	{ "mirror", "max_age", T_DURATION, MOFF(max_age), "0", 0,
	    MS(86400 * 365), LIVE },
	{ "mirror", "redirect_other_hosts", T_BOOL,
	    MOFF(redirect_other_hosts), "no", 0, 1, LIVE },
	{ "mirror", "max_evidence", T_INT, MOFF(max_evidence), "1000", 1,
	    1000000, LIVE },
	{ "mirror", "max_fetches", T_INT, MOFF(max_fetches), "32", 1, 4096,
	    LIVE },
	{ "mirror", "fetch_concurrency", T_INT, MOFF(fetch_concurrency), "64",
	    1, 1024, LIVE },
	{ "mirror", "proxy", T_STR, MOFF(egress.proxy), NULL, 0, 0, LIVE },
	{ "mirror", "proxy_auth", T_STR, MOFF(egress.proxy_auth), NULL, 0, 0,
	    LIVE },
	{ "mirror", "netrc", T_STR, MOFF(egress.netrc), NULL, 0, 0, LIVE },
	{ "mirror", "auth_header", T_STR, MOFF(egress.auth_header), NULL, 0,
	    0, LIVE },
	{ "mirror", "retries", T_INT, MOFF(egress.retries), "3", 0, 10,
	    LIVE },
};
#define NMKEYS	(sizeof(mkeys) / sizeof(mkeys[0]))

struct parse {
	struct config	*c;
	FILE		*f;
	int		 line;		/* of the last line read */
	int		 errline;
	int		 code;
	char		*err;
	size_t		 errsize;
	int		 seen[NKEYS];	/* the line that set it */
	int		 mseen[CONFIG_MIRRORS_MAX][NMKEYS];
	struct config_mirror *m;	/* the section being read */
};

struct unit {
	const char	*suffix;
	int64_t		 mul;
};

/* A non-negative decimal with one of the units' suffixes. */
static int
parse_scaled(const char *s, const struct unit *u, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < 0 || !isdigit((unsigned char)*s))
		return -1;
	for (; u->suffix != NULL; u++)
		if (strcmp(end, u->suffix) == 0)
			break;
	if (u->suffix == NULL || v > INT64_MAX / u->mul)
		return -1;
	*out = v * u->mul;
	return 0;
}

int
config_duration(const char *s, int64_t *ms)
{
	static const struct unit units[] = { { "ms", 1 }, { "", 1000 },
	    { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
	    { NULL, 0 } };

	return parse_scaled(s, units, ms);
}

int
config_size(const char *s, int64_t *bytes)
{
	static const struct unit units[] = { { "", 1 }, { "k", 1 << 10 },
	    { "K", 1 << 10 }, { "M", 1 << 20 }, { "G", 1 << 30 },
	    { NULL, 0 } };

	return parse_scaled(s, units, bytes);
}

static int
set_key(struct parse *p, void *base, const struct key *k, const char *value)
{
	char			**sp, **list, *end;
	int64_t			 v, *ip;
	long long		 ll;
	int			 r, *np;

	if (k->type == T_LIST) {
		list = (char **)((char *)base + k->off);
		np = (int *)((char *)base + k->min);
		if (*np == CONFIG_URLS_MAX) {
			snprintf(p->err, p->errsize, "%s: at most %d",
			    k->name, CONFIG_URLS_MAX);
			return CONFIG_EVALUE;
		}
		if (strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0) {
			snprintf(p->err, p->errsize, "%s: '%s' is not an "
			    "http:// or https:// URL", k->name, value);
			return CONFIG_EVALUE;
		}
		if ((list[*np] = strdup(value)) == NULL)
			return CONFIG_ENOMEM;
		(*np)++;
		return 0;
	}
	if (k->type == T_BOOL) {
		ip = (int64_t *)((char *)base + k->off);
		if (strcmp(value, "yes") == 0)
			*ip = 1;
		else if (strcmp(value, "no") == 0)
			*ip = 0;
		else {
			snprintf(p->err, p->errsize, "%s: '%s' is not yes "
			    "or no", k->name, value);
			return CONFIG_EVALUE;
		}
		return 0;
	}
	if (k->type == T_STR) {
		sp = (char **)((char *)base + k->off);
		free(*sp);
		if ((*sp = strdup(value)) == NULL)
			return CONFIG_ENOMEM;
		if (*value == '\0') {
			snprintf(p->err, p->errsize, "%s: empty value",
			    k->name);
			return CONFIG_EVALUE;
		}
		return 0;
	}
	switch (k->type) {
	case T_DURATION:
		r = config_duration(value, &v);
		break;
	case T_SIZE:
		r = config_size(value, &v);
		break;
	default:
		errno = 0;
		ll = strtoll(value, &end, 10);
		r = (*value == '\0' || *end != '\0' || errno != 0) ? -1 : 0;
		v = ll;
		break;
	}
	if (r != 0) {
		snprintf(p->err, p->errsize, "%s: malformed %s '%s'", k->name,
		    k->type == T_DURATION ? "duration" : k->type == T_SIZE ?
		    "size" : "number", value);
		return CONFIG_EVALUE;
	}
	if (v < k->min || v > k->max) {
		snprintf(p->err, p->errsize, "%s: '%s' is out of range "
		    "(%lld to %lld%s)", k->name, value, (long long)k->min,
		    (long long)k->max, k->type == T_DURATION ? " ms" :
		    k->type == T_SIZE ? " bytes" : "");
		return CONFIG_EVALUE;
	}
	ip = (int64_t *)((char *)base + k->off);
	*ip = v;
	return 0;
}

/* A [mirror NAME] key; the first key of a section creates the mirror. */
static int
mirror_key(struct parse *p, const char *section, const char *name,
    const char *value)
{
	const char	*mname = section + 7;
	int		 i, k, r;

	for (i = 0; i < p->c->nmirrors; i++)
		if (strcmp(p->c->mirrors[i].name, mname) == 0)
			break;
	if (i == p->c->nmirrors) {
		if (i == CONFIG_MIRRORS_MAX) {
			snprintf(p->err, p->errsize, "at most %d mirrors",
			    CONFIG_MIRRORS_MAX);
			return CONFIG_EVALUE;
		}
		if (*mname == '\0' || strchr(mname, ' ') != NULL) {
			snprintf(p->err, p->errsize, "[%s]: want [mirror "
			    "NAME]", section);
			return CONFIG_EKEY;
		}
		if ((p->c->mirrors[i].name = strdup(mname)) == NULL)
			return CONFIG_ENOMEM;
		p->c->mirrors[i].line = p->line;
		p->c->nmirrors++;
		for (k = 0; k < (int)NMKEYS; k++)
			if (mkeys[k].def != NULL && (r = set_key(p,
			    &p->c->mirrors[i], &mkeys[k], mkeys[k].def)) != 0)
				return r;
	}
	for (k = 0; k < (int)NMKEYS; k++)
		if (strcmp(mkeys[k].name, name) == 0)
			break;
	if (k == (int)NMKEYS) {
		snprintf(p->err, p->errsize, "unknown key '%s' in section "
		    "[%s]", name, section);
		return CONFIG_EKEY;
	}
	if (p->mseen[i][k] && mkeys[k].type != T_LIST) {
		snprintf(p->err, p->errsize, "key '%s' in [%s] set twice",
		    name, section);
		return CONFIG_EKEY;
	}
	p->mseen[i][k] = p->line;
	if ((r = set_key(p, &p->c->mirrors[i], &mkeys[k], value)) != 0)
		return r;
	if (strcmp(name, "mode") == 0 && strcmp(value, "lazy") != 0 &&
	    strcmp(value, "full") != 0) {
		snprintf(p->err, p->errsize, "mode: '%s' is not lazy or full",
		    value);
		return CONFIG_EVALUE;
	}
	return 0;
}

/* A [witness-log NAME] key: origin once, key once per verifier key. */
static int
wlog_key(struct parse *p, const char *section, const char *name,
    const char *value)
{
	const char		*wname = section + 12;
	struct config_wlog	*w;
	int			 i;

	for (i = 0; i < p->c->nwlogs; i++)
		if (strcmp(p->c->wlogs[i].name, wname) == 0)
			break;
	w = &p->c->wlogs[i];
	if (i == p->c->nwlogs) {
		if (i == CONFIG_WLOGS_MAX) {
			snprintf(p->err, p->errsize, "at most %d witness-log "
			    "sections", CONFIG_WLOGS_MAX);
			return CONFIG_EVALUE;
		}
		if (*wname == '\0') {
			snprintf(p->err, p->errsize, "[%s]: want "
			    "[witness-log NAME]", section);
			return CONFIG_EKEY;
		}
		if ((w->name = strdup(wname)) == NULL)
			return CONFIG_ENOMEM;
		w->line = p->line;
		p->c->nwlogs++;
	}
	if (strcmp(name, "origin") == 0) {
		if (w->origin != NULL || *value == '\0') {
			snprintf(p->err, p->errsize, "origin: %s",
			    *value == '\0' ? "empty value" : "set twice");
			return CONFIG_EVALUE;
		}
		return (w->origin = strdup(value)) == NULL ? CONFIG_ENOMEM : 0;
	}
	if (strcmp(name, "key") != 0) {
		snprintf(p->err, p->errsize, "unknown key '%s' in section "
		    "[%s]", name, section);
		return CONFIG_EKEY;
	}
	if (w->nkeys == CONFIG_URLS_MAX || *value == '\0') {
		snprintf(p->err, p->errsize, "key: %s", *value == '\0' ?
		    "empty value" : "at most 4 keys per log");
		return CONFIG_EVALUE;
	}
	if ((w->keys[w->nkeys] = strdup(value)) == NULL)
		return CONFIG_ENOMEM;
	w->nkeys++;
	return 0;
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse	*p = arg;
	size_t		 i;
	int		 r;

	if (p->code != 0)
		return 0;
	if (strncmp(section, "mirror ", 7) == 0 ||
	    strncmp(section, "witness-log ", 12) == 0) {
		if ((r = section[0] == 'm' ? mirror_key(p, section, name,
		    value) : wlog_key(p, section, name, value)) != 0) {
			p->code = r;
			p->errline = p->line;
			return 0;
		}
		return 1;
	}
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			break;
	if (i == NKEYS) {
		snprintf(p->err, p->errsize, "unknown key '%s' in section "
		    "[%s]", name, section);
		r = CONFIG_EKEY;
	} else if (p->seen[i] && keys[i].type != T_LIST) {
		snprintf(p->err, p->errsize, "key '%s' in [%s] set twice",
		    name, section);
		r = CONFIG_EKEY;
	} else {
		p->seen[i] = p->line;
		r = set_key(p, p->c, &keys[i], value);
		if (keys[i].off == OFF(log_public))
			p->c->log_public_line = p->line;
	}
	if (r != 0) {
		p->code = r;
		p->errline = p->line;
		return 0;
	}
	return 1;
}

/* fgets for inih that counts lines, so errors can name them. */
static char *
reader(char *str, int num, void *arg)
{
	struct parse	*p = arg;
	char		*s;

	if ((s = fgets(str, num, p->f)) != NULL && strchr(s, '\n') != NULL)
		p->line++;
	return s;
}

/* The reader and the handler need the same struct. */
static int
parse_stream(struct parse *p)
{
	return ini_parse_stream(reader, p, handler, p);
}

/* The line that set the key of table tab at offset off; 0: unset. */
static int
key_line(const struct key *tab, size_t n, const int *seen, size_t off)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (tab[i].off == off)
			return seen[i];
	return 0;
}

/* Read key's secret file path into *data; 0, or -1 with err set. */
static int
egress_secret(const char *key, const char *path, char **data, char *err,
    size_t errsize)
{
	char	 why[512];

	if ((*data = config_secret_line(path, why, sizeof(why))) != NULL)
		return 0;
	snprintf(err, errsize, "%s: %s", key, why);
	return -1;
}

/*
 * Check an egress's proxy and read its credential files; 0, or a
 * CONFIG_E* code with *line and err set.
 */
static int
load_egress(struct config_egress *e, const struct key *tab, size_t n,
    const int *seen, size_t base, int *line, char *err, size_t errsize)
{
	char	 why[512], *colon;
	int	 fd;

#define EOFF(f)	(base + offsetof(struct config_egress, f))
	if (e->proxy != NULL && strcmp(e->proxy, "none") != 0) {
		*line = key_line(tab, n, seen, EOFF(proxy));
		if (strncmp(e->proxy, "http://", 7) != 0 &&
		    strncmp(e->proxy, "https://", 8) != 0 &&
		    strncmp(e->proxy, "socks5://", 9) != 0 &&
		    strncmp(e->proxy, "socks5h://", 10) != 0) {
			snprintf(err, errsize, "proxy: '%s' is not none or an "
			    "http://, https:// or socks5:// URL", e->proxy);
			return CONFIG_EVALUE;
		}
		if (strchr(e->proxy, '@') != NULL) {
			snprintf(err, errsize, "proxy: credentials do not go "
			    "in the configuration: use proxy_auth = FILE");
			return CONFIG_EVALUE;
		}
	}
	if (e->proxy_auth != NULL) {
		*line = key_line(tab, n, seen, EOFF(proxy_auth));
		if (egress_secret("proxy_auth", e->proxy_auth,
		    &e->proxy_auth_data, err, errsize) != 0)
			return CONFIG_EVALUE;
		if (strchr(e->proxy_auth_data, ':') == NULL) {
			snprintf(err, errsize, "proxy_auth: '%s' does not "
			    "hold user:password", e->proxy_auth);
			return CONFIG_EVALUE;
		}
	}
	if (e->auth_header != NULL) {
		*line = key_line(tab, n, seen, EOFF(auth_header));
		if (egress_secret("auth_header", e->auth_header,
		    &e->auth_header_data, err, errsize) != 0)
			return CONFIG_EVALUE;
		colon = strchr(e->auth_header_data, ':');
		if (colon == NULL || colon == e->auth_header_data ||
		    strspn(e->auth_header_data, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
		    (size_t)(colon - e->auth_header_data) ||
		    colon[strspn(colon + 1, " \t") + 1] == '\0') {
			snprintf(err, errsize, "auth_header: '%s' does not "
			    "hold one header line 'Name: value'",
			    e->auth_header);
			return CONFIG_EVALUE;
		}
	}
	if (e->netrc != NULL) {
		*line = key_line(tab, n, seen, EOFF(netrc));
		if ((fd = open(e->netrc, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
		    -1) {
			snprintf(err, errsize, "netrc: '%s': %s", e->netrc,
			    strerror(errno));
			return CONFIG_EVALUE;
		}
		if (config_secret_check(fd, e->netrc, why, sizeof(why)) != 0) {
			close(fd);
			snprintf(err, errsize, "netrc: '%s': %s", e->netrc,
			    why);
			return CONFIG_EVALUE;
		}
		close(fd);
	}
#undef EOFF
	*line = 0;
	return 0;
}

/* The line where the key at offset off was set, or 0. */
static int
line_of(const struct parse *p, size_t off)
{
	return key_line(keys, NKEYS, p->seen, off);
}

int
config_auth(const struct config *c)
{
	if (c->auth == NULL || strcmp(c->auth, "none") == 0)
		return AUTH_NONE;
	return strcmp(c->auth, "all") == 0 ? AUTH_ALL : AUTH_PRIVATE;
}

/* The [server] auth keys together; 0 or a CONFIG_E* code. */
static int
check_auth(const struct parse *p, int *line, char *err, size_t errsize)
{
	const struct config	*c = p->c;

	*line = line_of(p, OFF(auth));
	if (strcmp(c->auth, "none") != 0 && strcmp(c->auth, "private") != 0 &&
	    strcmp(c->auth, "all") != 0) {
		snprintf(err, errsize, "auth: '%s' is not none, private or "
		    "all", c->auth);
		return CONFIG_EVALUE;
	}
	if (c->tls_client_ca != NULL && c->tls_certificate == NULL) {
		*line = line_of(p, OFF(tls_client_ca));
		snprintf(err, errsize, "[server] tls_client_ca needs "
		    "tls_certificate and tls_key");
		return CONFIG_EMISSING;
	}
	if (c->users == NULL && c->tls_client_ca == NULL &&
	    (config_auth(c) != AUTH_NONE || c->auth_healthz ||
	    c->auth_metrics)) {
		if (*line == 0)
			*line = line_of(p, c->auth_healthz ? OFF(auth_healthz) :
			    OFF(auth_metrics));
		snprintf(err, errsize, "[server] credentials are asked for "
		    "but there is no users file or tls_client_ca");
		return CONFIG_EMISSING;
	}
	*line = 0;
	return 0;
}

static void
free_egress(struct config_egress *e)
{
	config_secret_free(e->proxy_auth_data);
	config_secret_free(e->auth_header_data);
	e->proxy_auth_data = e->auth_header_data = NULL;
}

/* The credentials read now replace the running ones (SIGHUP). */
static void
swap_egress(struct config_egress *a, struct config_egress *b)
{
	char	*t;

	t = a->proxy_auth_data;
	a->proxy_auth_data = b->proxy_auth_data;
	b->proxy_auth_data = t;
	t = a->auth_header_data;
	a->auth_header_data = b->auth_header_data;
	b->auth_header_data = t;
}

int
config_is_pg(const char *database)
{
	return database != NULL && (strncmp(database, "postgresql://", 13) ==
	    0 || strncmp(database, "postgres://", 11) == 0);
}

/*
 * Whether a PostgreSQL URI carries a password: user:password@ before
 * the host, or a password= parameter.
 */
static int
pg_password(const char *uri)
{
	const char	*p = strstr(uri, "://") + 3, *end, *at, *q;

	end = p + strcspn(p, "/?");
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL &&
	    memchr(p, ':', (size_t)(at - p)) != NULL)
		return 1;
	for (q = strchr(uri, '?'); q != NULL; q = strchr(q + 1, '&'))
		if (strncmp(q + 1, "password=", 9) == 0)
			return 1;
	return 0;
}

int
config_load(const char *path, struct config *c, int *line, char *err,
    size_t errsize)
{
	struct parse	 p;
	size_t		 i;
	int		 r;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.err = err;
	p.errsize = errsize;
	*line = 0;
	err[0] = '\0';
	for (i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL &&
		    (r = set_key(&p, c, &keys[i], keys[i].def)) != 0)
			return r;
	if ((p.f = fopen(path, "r")) == NULL) {
		snprintf(err, errsize, "%s", strerror(errno));
		return CONFIG_EOPEN;
	}
	r = parse_stream(&p);
	fclose(p.f);
	if (p.code != 0) {
		*line = p.errline;
		return p.code;
	}
	if (r != 0) {
		*line = r;
		snprintf(err, errsize, "syntax error");
		return CONFIG_ESYNTAX;
	}
	if (config_is_pg(c->database) && c->state_dir == NULL) {
		snprintf(err, errsize, "[server] database on PostgreSQL needs "
		    "a state_dir");
		return CONFIG_EMISSING;
	}
	if (!config_is_pg(c->database) && (c->cluster_node != NULL ||
	    c->cluster_url != NULL)) {
		snprintf(err, errsize, "[cluster] needs a database on "
		    "PostgreSQL: an SQLite store has one node");
		return CONFIG_EVALUE;
	}
	if (config_is_pg(c->database) && pg_password(c->database)) {
		snprintf(err, errsize, "[server] database: no password in "
		    "the URI: name a passfile (passfile=FILE, mode 0600)");
		return CONFIG_EVALUE;
	}
	if (c->log_name != NULL && c->log_key == NULL) {
		snprintf(err, errsize, "[log] needs a key");
		return CONFIG_EMISSING;
	}
	if (c->log_name == NULL && (c->log_key != NULL ||
	    c->log_goproxy != NULL)) {
		snprintf(err, errsize, "[log] needs a name");
		return CONFIG_EMISSING;
	}
	if ((c->tls_certificate == NULL) != (c->tls_key == NULL)) {
		snprintf(err, errsize, "[server] tls_certificate and tls_key "
		    "go together");
		return CONFIG_EMISSING;
	}
	if ((r = check_auth(&p, line, err, errsize)) != 0)
		return r;
	if (c->tuf_keys != NULL && c->tuf_resign >= c->tuf_timestamp_expiry) {
		snprintf(err, errsize, "[tuf] resign must be shorter than "
		    "timestamp_expiry");
		return CONFIG_EVALUE;
	}
	for (i = 0; i < (size_t)c->nmirrors; i++) {
		*line = c->mirrors[i].line;
		if (c->mirrors[i].key == NULL) {
			snprintf(err, errsize, "[mirror %s] needs a key",
			    c->mirrors[i].name);
			return CONFIG_EMISSING;
		}
		if (c->mirrors[i].nurls == 0 && !c->mirrors[i].offline) {
			snprintf(err, errsize, "[mirror %s] needs a url, or "
			    "offline = yes", c->mirrors[i].name);
			return CONFIG_EMISSING;
		}
		if (c->log_name != NULL &&
		    strcmp(c->log_name, c->mirrors[i].name) == 0) {
			snprintf(err, errsize, "[mirror %s] has the name of "
			    "the [log]", c->mirrors[i].name);
			return CONFIG_EVALUE;
		}
	}
	if ((r = load_egress(&c->log_egress, keys, NKEYS, p.seen,
	    OFF(log_egress), line, err, errsize)) != 0)
		return r;
	for (i = 0; i < (size_t)c->nmirrors; i++)
		if ((r = load_egress(&c->mirrors[i].egress, mkeys, NMKEYS,
		    p.mseen[i], MOFF(egress), line, err, errsize)) != 0)
			return r;
	if ((c->witness_name == NULL) != (c->witness_key == NULL)) {
		*line = line_of(&p, c->witness_name == NULL ?
		    OFF(witness_key) : OFF(witness_name));
		snprintf(err, errsize, "[witness] name and key go together");
		return CONFIG_EMISSING;
	}
	if (c->nwlogs > 0 && c->witness_name == NULL) {
		*line = c->wlogs[0].line;
		snprintf(err, errsize, "[witness-log %s] needs a [witness] "
		    "name and key", c->wlogs[0].name);
		return CONFIG_EMISSING;
	}
	if (c->log_nwitnesses > 0 && c->log_witness_quorum >
	    c->log_nwitnesses) {
		*line = line_of(&p, OFF(log_witness_quorum));
		snprintf(err, errsize, "[log] witness_quorum %lld is more "
		    "than the %d witnesses listed",
		    (long long)c->log_witness_quorum, c->log_nwitnesses);
		return CONFIG_EVALUE;
	}
	if (c->log_verify_goproxy && c->log_goproxy == NULL) {
		snprintf(err, errsize, "[log] verify_goproxy needs a goproxy");
		return CONFIG_EMISSING;
	}
	if (c->log_public != NULL && strcmp(c->log_public, "goproxy") != 0 &&
	    strcmp(c->log_public, "none") != 0) {
		for (i = 0; i < (size_t)c->nmirrors; i++)
			if (strcmp(c->mirrors[i].name, c->log_public) == 0)
				break;
		if (i == (size_t)c->nmirrors) {
			*line = c->log_public_line;
			snprintf(err, errsize, "[log] public: no [mirror %s] "
			    "section (goproxy, none, or a mirror's name)",
			    c->log_public);
			return CONFIG_EVALUE;
		}
	}
	*line = 0;
	return 0;
}

const char *
config_wlog_origin(const struct config_wlog *w)
{
	return w->origin != NULL ? w->origin : w->name;
}

int
config_wlog_mirror(const struct config *c, int i)
{
	int	 k, m;

	for (m = 0; m < c->nmirrors; m++)
		for (k = 0; k < c->wlogs[i].nkeys; k++)
			if (strcmp(c->wlogs[i].keys[k], c->mirrors[m].key) == 0)
				return m;
	return -1;
}

const char *
config_log_public(const struct config *c)
{
	if (c->log_public != NULL)
		return c->log_public;
	return c->nmirrors == 1 ? c->mirrors[0].name : "none";
}

const char *
config_log_mirror(const struct config *c)
{
	const char	*pub = config_log_public(c);

	return strcmp(pub, "goproxy") == 0 || strcmp(pub, "none") == 0 ?
	    NULL : pub;
}

enum log_route
config_log_route(const struct config *c, const char *path)
{
	if (config_match_patterns(c->log_private, path))
		return ROUTE_PRIVATE;
	if (config_log_mirror(c) != NULL)
		return ROUTE_MIRROR;
	if (strcmp(config_log_public(c), "goproxy") == 0)
		return ROUTE_GOPROXY;
	return c->log_private == NULL ? ROUTE_PRIVATE : ROUTE_REFUSE;
}

void
config_free(struct config *c)
{
	struct config_mirror	*m;
	size_t			 i;
	int			 k;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == T_STR) {
			free(*(char **)((char *)c + keys[i].off));
			*(char **)((char *)c + keys[i].off) = NULL;
		}
	free_egress(&c->log_egress);
	for (k = 0; k < c->log_nwitnesses; k++)
		free(c->log_witnesses[k]);
	c->log_nwitnesses = 0;
	for (k = 0; k < c->nmirrors; k++) {
		m = &c->mirrors[k];
		free(m->name);
		for (i = 0; i < NMKEYS; i++)
			if (mkeys[i].type == T_STR)
				free(*(char **)((char *)m + mkeys[i].off));
		for (i = 0; i < (size_t)m->nurls; i++)
			free(m->urls[i]);
		for (i = 0; i < (size_t)m->nwitnesses; i++)
			free(m->witnesses[i]);
		free_egress(&m->egress);
		memset(m, 0, sizeof(*m));
	}
	c->nmirrors = 0;
	for (k = 0; k < c->nwlogs; k++) {
		free(c->wlogs[k].name);
		free(c->wlogs[k].origin);
		for (i = 0; i < (size_t)c->wlogs[k].nkeys; i++)
			free(c->wlogs[k].keys[i]);
		memset(&c->wlogs[k], 0, sizeof(c->wlogs[k]));
	}
	c->nwlogs = 0;
}

/* Whether key k differs between a and b (bases of its struct). */
static int
key_differs(const struct key *k, const void *a, const void *b)
{
	const char	*sa, *sb;
	int		 i, n;

	if (k->type == T_LIST) {
		if ((n = *(const int *)((const char *)a + k->min)) !=
		    *(const int *)((const char *)b + k->min))
			return 1;
		for (i = 0; i < n; i++)
			if (strcmp(((char *const *)((const char *)a +
			    k->off))[i], ((char *const *)((const char *)b +
			    k->off))[i]) != 0)
				return 1;
		return 0;
	}
	if (k->type == T_STR) {
		sa = *(char *const *)((const char *)a + k->off);
		sb = *(char *const *)((const char *)b + k->off);
		if (sa == NULL || sb == NULL)
			return sa != sb;
		return strcmp(sa, sb) != 0;
	}
	return *(const int64_t *)((const char *)a + k->off) !=
	    *(const int64_t *)((const char *)b + k->off);
}

/* Exchange key k's values between a and b. */
static void
key_swap(const struct key *k, void *a, void *b)
{
	char		*list[CONFIG_URLS_MAX];
	char		*la = (char *)a + k->off, *lb = (char *)b + k->off;
	int		*na = (int *)((char *)a + k->min);
	int		*nb = (int *)((char *)b + k->min);
	size_t		 size;
	int		 n;

	if (k->type == T_LIST) {
		memcpy(list, la, sizeof(list));
		memcpy(la, lb, sizeof(list));
		memcpy(lb, list, sizeof(list));
		n = *na;
		*na = *nb;
		*nb = n;
		return;
	}
	size = k->type == T_STR ? sizeof(char *) : sizeof(int64_t);
	{
		unsigned char	 tmp[sizeof(int64_t) > sizeof(char *) ?
				    sizeof(int64_t) : sizeof(char *)];

		memcpy(tmp, (char *)a + k->off, size);
		memcpy((char *)a + k->off, (char *)b + k->off, size);
		memcpy((char *)b + k->off, tmp, size);
	}
}

/* Compare and move the keys of one table; returns how many differ. */
static int
reload_keys(const struct key *tab, size_t n, const char *section,
    void *c, void *nc, config_diff_cb cb, void *arg)
{
	size_t		 i;
	int		 diffs = 0;

	for (i = 0; i < n; i++) {
		if (!key_differs(&tab[i], c, nc))
			continue;
		diffs++;
		cb(arg, section != NULL ? section : tab[i].section,
		    tab[i].name, tab[i].live);
		if (tab[i].live)
			key_swap(&tab[i], c, nc);
	}
	return diffs;
}

/* Whether a and b list the same witness logs with the same keys. */
static int
wlogs_equal(const struct config *a, const struct config *b)
{
	int	 i, k;

	if (a->nwlogs != b->nwlogs)
		return 0;
	for (i = 0; i < a->nwlogs; i++) {
		if (strcmp(a->wlogs[i].name, b->wlogs[i].name) != 0 ||
		    strcmp(config_wlog_origin(&a->wlogs[i]),
		    config_wlog_origin(&b->wlogs[i])) != 0 ||
		    a->wlogs[i].nkeys != b->wlogs[i].nkeys)
			return 0;
		for (k = 0; k < a->wlogs[i].nkeys; k++)
			if (strcmp(a->wlogs[i].keys[k], b->wlogs[i].keys[k]) !=
			    0)
				return 0;
	}
	return 1;
}

int
config_reload(struct config *c, struct config *n, config_diff_cb cb,
    void *arg)
{
	char		 section[128];
	int		 i, j, diffs;

	diffs = reload_keys(keys, NKEYS, NULL, c, n, cb, arg);
	swap_egress(&c->log_egress, &n->log_egress);
	for (i = 0; i < c->nmirrors; i++) {
		snprintf(section, sizeof(section), "mirror %s",
		    c->mirrors[i].name);
		for (j = 0; j < n->nmirrors; j++)
			if (strcmp(c->mirrors[i].name, n->mirrors[j].name) == 0)
				break;
		if (j == n->nmirrors) {
			cb(arg, section, NULL, 0);
			diffs++;
			continue;
		}
		diffs += reload_keys(mkeys, NMKEYS, section, &c->mirrors[i],
		    &n->mirrors[j], cb, arg);
		swap_egress(&c->mirrors[i].egress, &n->mirrors[j].egress);
	}
	for (j = 0; j < n->nmirrors; j++) {
		for (i = 0; i < c->nmirrors; i++)
			if (strcmp(c->mirrors[i].name, n->mirrors[j].name) == 0)
				break;
		if (i == c->nmirrors) {
			snprintf(section, sizeof(section), "mirror %s",
			    n->mirrors[j].name);
			cb(arg, section, NULL, 0);
			diffs++;
		}
	}
	if (!wlogs_equal(c, n)) {
		cb(arg, "witness-log", NULL, 0);
		diffs++;
	}
	return diffs;
}

/* Match the first elements of path against a glob with as many. */
static int
match_glob(const char *glob, size_t globlen, const char *path)
{
	char		 g[1024], prefix[1024];
	size_t		 i, slashes = 0, n;

	if (globlen == 0 || globlen >= sizeof(g))
		return 0;
	memcpy(g, glob, globlen);
	g[globlen] = '\0';
	while (globlen > 0 && g[globlen - 1] == '/')
		g[--globlen] = '\0';
	/* Malformed globs never match, as with Go's path.Match. */
	for (i = 0; i < globlen; i++)
		if (g[i] == '[' && strchr(g + i, ']') == NULL)
			return 0;
	for (i = 0; i < globlen; i++)
		if (g[i] == '/')
			slashes++;
	/* The glob with k slashes matches the first k+1 elements. */
	for (n = 0; path[n] != '\0'; n++)
		if (path[n] == '/' && slashes-- == 0)
			break;
	if (n >= sizeof(prefix))
		return 0;
	memcpy(prefix, path, n);
	prefix[n] = '\0';
	return fnmatch(g, prefix, FNM_PATHNAME) == 0;
}

int
config_match_patterns(const char *globs, const char *path)
{
	const char	*p, *comma;

	if (globs == NULL)
		return 0;
	for (p = globs; *p != '\0'; p = comma + 1) {
		while (*p == ' ')
			p++;
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (match_glob(p, comma - p, path))
			return 1;
		if (*comma == '\0')
			break;
	}
	return 0;
}
