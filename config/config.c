/*
 * config.c: load sumdbd.conf.  inih does the lexing; this file maps
 * each key through one row of a table (section, name, type, default,
 * bounds) and reports the first problem as a line number and a reason.
 */

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum type { T_STR, T_DURATION, T_SIZE, T_INT };

struct key {
	const char	*section;
	const char	*name;
	enum type	 type;
	size_t		 off;
	const char	*def;		/* NULL: no default */
	int64_t		 min, max;
};

#define OFF(f)	offsetof(struct config, f)
#define MS(x)	((int64_t)(x) * 1000)

static const struct key keys[] = {
	{ "server", "listen", T_STR, OFF(listen), "127.0.0.1:8080", 0, 0 },
	{ "server", "database", T_STR, OFF(database),
	    "/var/lib/sumdbd/sumdbd.db", 0, 0 },
	{ "server", "max_connections", T_INT, OFF(max_connections), "1024",
	    1, 1000000 },
	{ "server", "max_header_size", T_SIZE, OFF(max_header_size), "8k",
	    1024, 1 << 20 },
	{ "server", "idle_timeout", T_DURATION, OFF(idle_timeout), "30s",
	    100, MS(3600) },
	{ "server", "workers", T_INT, OFF(workers), "0", 0, 64 },
	{ "log", "name", T_STR, OFF(log_name), NULL, 0, 0 },
	{ "log", "key", T_STR, OFF(log_key), NULL, 0, 0 },
	{ "log", "goproxy", T_STR, OFF(log_goproxy), NULL, 0, 0 },
	{ "log", "private", T_STR, OFF(log_private), NULL, 0, 0 },
	{ "log", "fetch_timeout", T_DURATION, OFF(log_fetch_timeout), "60s",
	    100, MS(3600) },
	{ "log", "max_module_size", T_SIZE, OFF(log_max_module_size), "500M",
	    1024, (int64_t)500 << 20 },
	{ "log", "batch_delay", T_DURATION, OFF(log_batch_delay), "10ms",
	    0, MS(10) },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct parse {
	struct config	*c;
	FILE		*f;
	int		 line;		/* of the last line read */
	int		 errline;
	int		 code;
	char		*err;
	size_t		 errsize;
	unsigned char	 seen[NKEYS];
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
set_key(struct parse *p, const struct key *k, const char *value)
{
	char		**sp, *end;
	int64_t		 v, *ip;
	long long	 ll;
	int		 r;

	if (k->type == T_STR) {
		sp = (char **)((char *)p->c + k->off);
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
	ip = (int64_t *)((char *)p->c + k->off);
	*ip = v;
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
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			break;
	if (i == NKEYS) {
		snprintf(p->err, p->errsize, "unknown key '%s' in section "
		    "[%s]", name, section);
		r = CONFIG_EKEY;
	} else if (p->seen[i]) {
		snprintf(p->err, p->errsize, "key '%s' in [%s] set twice",
		    name, section);
		r = CONFIG_EKEY;
	} else {
		p->seen[i] = 1;
		r = set_key(p, &keys[i], value);
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
		    (r = set_key(&p, &keys[i], keys[i].def)) != 0)
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
	if (c->log_name != NULL && c->log_key == NULL) {
		snprintf(err, errsize, "[log] needs a key");
		return CONFIG_EMISSING;
	}
	if (c->log_name == NULL && (c->log_key != NULL ||
	    c->log_goproxy != NULL)) {
		snprintf(err, errsize, "[log] needs a name");
		return CONFIG_EMISSING;
	}
	return 0;
}

void
config_free(struct config *c)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == T_STR) {
			free(*(char **)((char *)c + keys[i].off));
			*(char **)((char *)c + keys[i].off) = NULL;
		}
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
