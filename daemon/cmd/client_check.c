/*
 * check.c: "sumdbd client-check" reads a build host's settings
 * (go env -json, else the environment), reports each one that turns
 * verification off or sends it elsewhere (with [log] public = NAME
 * every GONOSUMDB and GOPRIVATE pattern: the private log verifies every
 * module), and checks the go command's cached checkpoint against the
 * server's, through a consistency proof read from the server's tiles
 * (tiles_http.c, trust.c), and both against the witness policy of the
 * server's config (K of N cosignatures).  Exit 0 fine, 1 a finding, 2
 * usage or runtime errors.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "store.h"

static const char *const gvnames[GV_MAX] = { "GOSUMDB", "GOPROXY",
    "GOPRIVATE", "GONOSUMDB", "GOINSECURE", "GOPATH", "GOFLAGS" };

/* Variables people set believing the go command reads them. */
static const char *const folklore[] = { "GONOSUMCHECK", "GONOVERIFY",
    "GONOSUMVERIFY", "GOSUMCHECK", "GONOSUM", "GOSUMDBOFF" };

/* A glob of GONOSUMDB, GOPRIVATE or GOINSECURE, and what it covers. */
struct pat {
	enum gvar	 var;
	char		 glob[512];
	char		 hit[SUMDB_PATH_MAX + 64];	/* "" if nothing */
};

struct pats {
	struct pat	*p;
	size_t		 n;
	size_t		 open;		/* patterns without a hit */
	enum gvar	 var;		/* the variable being read */
};

/* Whether an executable named go is in PATH. */
static int
go_in_path(void)
{
	const char	*p = getenv("PATH"), *colon;
	char		 file[4096];
	struct stat	 sb;

	for (; p != NULL; p = *colon == '\0' ? NULL : colon + 1) {
		colon = p + strcspn(p, ":");
		snprintf(file, sizeof(file), "%.*s/go", (int)(colon - p), p);
		if (colon == p)
			snprintf(file, sizeof(file), "./go");
		if (stat(file, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(file, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* The settings from go env -json, which honours go env -w. */
static int
settings_go(struct client *c)
{
	json_t		*o = NULL;
	json_error_t	 jerr;
	const char	*s;
	FILE		*f;
	int		 i, status, rv = -1;

	if ((f = popen("go env -json", "r")) == NULL) {
		client_err(c, "go env -json: %s", strerror(errno));
		return -1;
	}
	o = json_loadf(f, 0, &jerr);
	if ((status = pclose(f)) != 0 || !json_is_object(o)) {
		client_err(c, "go env -json: %s", status != 0 ? "failed" :
		    jerr.text);
		goto done;
	}
	for (i = 0; i < GV_MAX; i++) {
		s = json_string_value(json_object_get(o, gvnames[i]));
		if ((c->gv[i] = strdup(s != NULL ? s : "")) == NULL) {
			client_err(c, "out of memory");
			goto done;
		}
	}
	c->fromgo = 1;
	rv = 0;
 done:
	json_decref(o);
	return rv;
}

/* The settings from the environment, with the go command's defaults. */
static int
settings_env(struct client *c)
{
	const char	*s, *home = getenv("HOME");
	char		 gopath[4096];
	int		 i;

	snprintf(gopath, sizeof(gopath), "%s/go", home != NULL ? home : "");
	for (i = 0; i < GV_MAX; i++) {
		if ((s = getenv(gvnames[i])) == NULL || *s == '\0')
			s = i == GV_GOSUMDB ? "sum.golang.org" :
			    i == GV_GOPROXY ? PUBLIC_PROXY ",direct" :
			    i == GV_GONOSUMDB ? c->gv[GV_GOPRIVATE] :
			    i == GV_GOPATH && home != NULL ? gopath : "";
		if ((c->gv[i] = strdup(s != NULL ? s : "")) == NULL) {
			client_err(c, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* GOSUMDB must name d's key; 1 if it does. */
static int
check_gosumdb(struct client *c, const struct cdb *d)
{
	const char	*v = c->gv[GV_GOSUMDB];
	size_t		 klen = strcspn(v, " \t");

	if (strcmp(v, "off") == 0) {
		client_finding(c, "GOSUMDB", "off: checksum verification disabled; "
		    "set it as 'sumdbd client-config --db %s' prints", d->name);
		return 0;
	}
	if ((klen == strlen(d->vkey) && strncmp(v, d->vkey, klen) == 0) ||
	    (d->mirror && strcmp(d->name, "sum.golang.org") == 0 &&
	    klen == strlen(d->name) && strncmp(v, d->name, klen) == 0))
		return 1;
	client_finding(c, "GOSUMDB", "'%.*s' is not the key of %s (%s): the go "
	    "command verifies against another database or key; set it as "
	    "'sumdbd client-config --db %s' prints", (int)klen, v, d->name,
	    d->vkey, d->name);
	return 0;
}

/* Whether u (n bytes, perhaps with a final '/') is where d is served. */
static int
ours(const struct client *c, const struct cdb *d, const char *u, size_t n)
{
	size_t	 len = strlen(c->url);

	while (n > 0 && u[n - 1] == '/')
		n--;
	if (n == len && strncmp(u, c->url, len) == 0)
		return d->atroot;
	return n == len + 7 + strlen(d->name) &&
	    strncmp(u, c->url, len) == 0 &&
	    strncmp(u + len, "/sumdb/", 7) == 0 &&
	    strncmp(u + len + 7, d->name, n - len - 7) == 0;
}

/*
 * Where the go command reaches d (its initBase): GOPROXY entries up to
 * "direct" or "off" are asked for /sumdb/NAME/supported, and the first
 * that has it serves; otherwise GOSUMDB's URL, or https://NAME.
 */
static void
check_route(struct client *c, const struct cdb *d)
{
	const char	*gs = c->gv[GV_GOSUMDB], *e, *end = "";
	const char	*url = gs + strcspn(gs, " \t");
	char		 direct[SUMDB_NAME_MAX + 16];
	size_t		 n, len = strlen(c->url);

	url += strspn(url, " \t");
	if (*url != '\0' && !ours(c, d, url, strlen(url)))
		client_finding(c, "GOSUMDB", "URL '%s' is not where sumdbd serves %s "
		    "(%s%s%s): pass --url if build hosts reach it at another "
		    "address", url, d->name, c->url, d->atroot ? "" : "/sumdb/",
		    d->atroot ? "" : d->name);
	if (strcmp(c->gv[GV_GOPROXY], "off") == 0) {
		client_finding(c, "GOPROXY", "off: module downloads are disallowed, "
		    "and with them the route to %s at %s/sumdb/%s", d->name,
		    c->url, d->name);
		return;
	}
	for (e = c->gv[GV_GOPROXY]; *e != '\0'; e = *end ? end + 1 : end) {
		end = e + strcspn(e, ",|");
		n = end - e;
		if ((n == 6 && strncmp(e, "direct", 6) == 0) ||
		    (n == 3 && strncmp(e, "off", 3) == 0))
			break;
		while (n > 0 && e[n - 1] == '/')
			n--;
		if (n == len && strncmp(e, c->url, len) == 0)
			return;
		if (strcmp(d->name, "sum.golang.org") == 0 &&
		    n == strlen(PUBLIC_PROXY) && strncmp(e, PUBLIC_PROXY,
		    n) == 0) {
			client_finding(c, "GOPROXY", "%s comes before %s and serves "
			    "/sumdb/sum.golang.org/ itself: the go command "
			    "checks through it, not through this mirror; put "
			    "%s first", PUBLIC_PROXY, c->url, c->url);
			return;
		}
	}
	/* GOSUMDB's own URL was judged above. */
	snprintf(direct, sizeof(direct), "https://%s", d->name);
	if (*url != '\0' || ours(c, d, direct, strlen(direct)))
		return;
	if (*e != '\0')
		client_finding(c, "GOPROXY", "'%.*s' comes before %s and GOSUMDB has "
		    "no URL: the go command asks %s, not sumdbd; put %s "
		    "first", (int)(end - e), e, c->url, direct, c->url);
	else
		client_finding(c, "GOPROXY", "does not list %s and GOSUMDB has no "
		    "URL: the go command asks %s, not sumdbd; put %s first",
		    c->url, direct, c->url);
}

/* Call fn for each glob of a comma-separated list; stops at non-zero. */
static int
each_glob(const char *list, int (*fn)(void *, const char *), void *arg)
{
	const char	*p, *end;
	char		 g[512];
	int		 r;

	for (p = list != NULL ? list : ""; *p != '\0'; p = *end ? end + 1 :
	    end) {
		p += strspn(p, " ");
		end = p + strcspn(p, ",");
		if (end == p || (size_t)(end - p) >= sizeof(g))
			continue;
		snprintf(g, sizeof(g), "%.*s", (int)(end - p), p);
		if ((r = fn(arg, g)) != 0)
			return r;
	}
	return 0;
}

/*
 * The literal path elements a glob starts with, into buf ("" when it
 * starts with a wildcard): corp.example/team* gives corp.example.
 */
static const char *
glob_prefix(const char *g, char *buf, size_t size)
{
	size_t	 n = strcspn(g, "*?[\\");

	if (g[n] != '\0') {
		while (n > 0 && g[n - 1] != '/')
			n--;
	}
	while (n > 0 && g[n - 1] == '/')
		n--;
	snprintf(buf, size, "%.*s", (int)n, g);
	return buf;
}

/* Whether glob a covers modules that glob b does (either way round). */
static int
globs_meet(const char *a, const char *b)
{
	char	 pa[512], pb[512];

	return strcmp(a, b) == 0 ||
	    (*glob_prefix(b, pb, sizeof(pb)) != '\0' &&
	    config_match_patterns(a, pb)) ||
	    (*glob_prefix(a, pa, sizeof(pa)) != '\0' &&
	    config_match_patterns(b, pa));
}

/* Test one [log] private glob against every pattern without a hit. */
static int
pats_private(void *arg, const char *priv)
{
	struct pats	*ps = arg;
	size_t		 i;

	for (i = 0; i < ps->n; i++)
		if (ps->p[i].hit[0] == '\0' && globs_meet(ps->p[i].glob,
		    priv)) {
			snprintf(ps->p[i].hit, sizeof(ps->p[i].hit),
			    "[log] private '%s'", priv);
			ps->open--;
		}
	return 0;
}

/* Test one logged module path; stop once every pattern has a hit. */
static int
pats_record(void *arg, int64_t id, const char *path, const char *version,
    const uint8_t *text, size_t len)
{
	struct pats	*ps = arg;
	size_t		 i;

	(void)id;
	(void)version;
	(void)text;
	(void)len;
	for (i = 0; i < ps->n; i++)
		if (ps->p[i].hit[0] == '\0' && config_match_patterns(
		    ps->p[i].glob, path)) {
			snprintf(ps->p[i].hit, sizeof(ps->p[i].hit),
			    "logged module %s", path);
			ps->open--;
		}
	return ps->open == 0;
}

/* Collect one glob of the variable being read. */
static int
pats_add(void *arg, const char *glob)
{
	struct pats	*ps = arg;
	struct pat	*p;

	if ((p = reallocarray(ps->p, ps->n + 1, sizeof(*p))) == NULL)
		return -1;
	ps->p = p;
	p = &p[ps->n++];
	p->var = ps->var;
	snprintf(p->glob, sizeof(p->glob), "%s", glob);
	p->hit[0] = '\0';
	ps->open++;
	return 0;
}

/*
 * [log] public = NAME: the private log verifies every module, so a
 * GONOSUMDB or GOPRIVATE glob p, whatever it covers, only weakens that.
 */
static void
weakening(struct client *c, const struct cdb *d, const struct pat *p)
{
	if (p->var == GV_GONOSUMDB)
		client_finding(c, "GONOSUMDB", "'%s' is unnecessary and "
		    "weakening: %s verifies every module ([log] public = %s: "
		    "public ones as its verified records), and the go command "
		    "skips what the pattern covers; remove it", p->glob,
		    d->name, client_public(c));
	else
		client_finding(c, "GOPRIVATE", "'%s' is unnecessary for "
		    "checksums and weakening: it also sets GONOSUMDB, and %s "
		    "verifies every module ([log] public = %s); to skip the "
		    "proxy use GONOPROXY (go env -w 'GONOPROXY=%s' GOPRIVATE= "
		    "GONOSUMDB=)", p->glob, d->name, client_public(c),
		    p->glob);
}

/*
 * The private log: no GONOSUMDB, GOPRIVATE or GOINSECURE glob may
 * cover what it verifies, the [log] private modules and every logged
 * module path; with [log] public = NAME none of the first two is
 * needed at all.
 */
static int
check_private_log(struct client *c, const struct cdb *d)
{
	static const enum gvar	 vars[] = { GV_GONOSUMDB, GV_GOPRIVATE,
				    GV_GOINSECURE };
	struct pats		 ps = { NULL, 0, 0, GV_GOSUMDB };
	struct pat		*p;
	size_t			 i;
	int			 rv = -1;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		/* GONOSUMDB defaults to GOPRIVATE: judge that once. */
		if (vars[i] == GV_GONOSUMDB && strcmp(c->gv[GV_GONOSUMDB],
		    c->gv[GV_GOPRIVATE]) == 0)
			continue;
		ps.var = vars[i];
		if (each_glob(c->gv[vars[i]], pats_add, &ps) != 0)
			goto oom;
	}
	each_glob(c->env->conf.log_private, pats_private, &ps);
	/* The logged module paths, where the store is (on the server). */
	if (ps.open > 0 && !config_is_pg(c->env->conf.database) &&
	    access(c->env->conf.database, F_OK) != 0) {
		printf("client-check: info: no store at '%s': the module "
		    "paths in the log are not checked\n",
		    c->env->conf.database);
		ps.open = 0;
	}
	if (ps.open > 0 && (env_open_store(c->env, 0) != 0 ||
	    store_log(c->env->st, d->name, "private", &c->env->log->log) != 0)) {
		client_err(c, "database '%s': cannot be read",
		    c->env->conf.database);
		goto done;
	}
	if (ps.open > 0 && store_each_record(c->env->st, c->env->log->log,
	    pats_record, &ps) < 0) {
		client_err(c, "reading the logged modules: %s",
		    store_errmsg(c->env->st));
		goto done;
	}
	for (i = 0; i < ps.n; i++) {
		p = &ps.p[i];
		if (client_public(c) != NULL && p->var != GV_GOINSECURE) {
			weakening(c, d, p);
			continue;
		}
		if (p->hit[0] == '\0')
			continue;
		if (p->var == GV_GONOSUMDB)
			client_finding(c, "GONOSUMDB", "'%s' covers %s: the go "
			    "command does not verify it against %s; remove the "
			    "pattern", p->glob, p->hit, d->name);
		else if (p->var == GV_GOPRIVATE)
			client_finding(c, "GOPRIVATE", "'%s' covers %s: GOPRIVATE "
			    "also sets GONOSUMDB, so the go command does not "
			    "verify it against %s; to skip the proxy use "
			    "GONOPROXY (go env -w 'GONOPROXY=%s' GOPRIVATE= "
			    "GONOSUMDB=)", p->glob, p->hit, d->name, p->glob);
		else
			client_finding(c, "GOINSECURE", "'%s' covers %s: the go "
			    "command may fetch it without TLS verification; "
			    "remove the pattern", p->glob, p->hit);
	}
	rv = 0;
	goto done;
 oom:
	client_err(c, "out of memory");
 done:
	free(ps.p);
	return rv;
}

static int
glob_equal(void *arg, const char *glob)
{
	return strcmp(arg, glob) == 0;
}

/* A mirror: GONOSUMDB must cover each [log] private glob. */
static int
private_at_mirror(void *arg, const char *priv)
{
	struct client	*c = arg;
	char		 pre[512];

	if (each_glob(c->gv[GV_GONOSUMDB], glob_equal, (void *)priv) ||
	    (*glob_prefix(priv, pre, sizeof(pre)) != '\0' &&
	    config_match_patterns(c->gv[GV_GONOSUMDB], pre)))
		return 0;
	client_finding(c, "GONOSUMDB", "does not cover [log] private '%s': the go "
	    "command looks those modules up through the mirror, which "
	    "refuses them and records this host; add the pattern", priv);
	return 0;
}

/* GET url into out: 0, or -1 with the reason in err. */
static int
get(struct env *env, const char *url, size_t max, struct evbuffer *out,
    char *err, size_t errsize)
{
	char	 e[256] = "";
	int	 st;

	if ((st = fetch_wait(env, url, max, GET_TIMEOUT, out, e,
	    sizeof(e))) == 200)
		return 0;
	if (st > 0)
		snprintf(err, errsize, "%s: HTTP %d", url, st);
	else
		snprintf(err, errsize, "%s: %s", url, e[0] != '\0' ? e :
		    "no answer");
	return -1;
}

/* Open a signed tree note under d's key: 0 or a SUMDB_E* code. */
static int
open_tree(const struct cdb *d, struct evbuffer *b, struct tlog_tree *t)
{
	struct note	 n;
	int		 r;

	if ((r = note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b),
	    &d->v, 1, &n)) != 0)
		return r;
	return tlog_parse_tree(n.text, n.textlen, t);
}

/*
 * The witness policy that d's checkpoints carry, from the server's
 * config: [log] witness and witness_quorum, or a mirror's peers (any
 * one of them).  A checkpoint with fewer valid cosignatures is a
 * finding (what is the cached one's name or the server's URL).
 */
static void
check_cosigned(struct client *c, const struct cdb *d, const char *what,
    struct evbuffer *b)
{
	const struct config	*conf = &c->env->conf;
	struct note_verifier	 v[1 + CONFIG_URLS_MAX];
	struct note		 n;
	char *const		*list = conf->log_witnesses;
	size_t			 ul;
	int			 nw = conf->log_nwitnesses, i, k = 0, nv = 1;
	int			 quorum = (int)conf->log_witness_quorum;

	for (i = 0; d->mirror && i < conf->nmirrors; i++)
		if (strcmp(conf->mirrors[i].name, d->name) == 0) {
			list = conf->mirrors[i].witnesses;
			nw = conf->mirrors[i].nwitnesses;
			quorum = 1;
		}
	if (nw == 0)
		return;
	v[0] = d->v;
	for (i = 0; i < nw; i++)
		if (peers_entry(list[i], &ul, &v[nv]) == 0)
			nv++;
	if (note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), v, nv,
	    &n) == 0)
		for (i = 1; i < nv; i++)
			k += (n.verified >> i) & 1;
	if (k < quorum)
		client_finding(c, what, "%d of the %d witnesses cosigned it, "
		    "the policy wants %d: a checkpoint nobody else has seen",
		    k, nv - 1, quorum);
	else
		printf("client-check: info: %s: cosigned by %d of %d "
		    "witnesses (policy %d)\n", what, k, nv - 1, quorum);
}

/*
 * The client's tree cli is older than the server's srv: prove through
 * the server's tiles that srv extends it.  0, or -1 on errors.
 */
static int
check_older(struct client *c, const struct cdb *d, const char *file,
    const struct tlog_tree *cli, const struct tlog_tree *srv)
{
	struct tiles		 ts;
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	struct trust_proof	 pf;
	char			 base[URL_MAX + SUMDB_NAME_MAX];
	int			 r, rv = -1;

	snprintf(base, sizeof(base), "%s/sumdb/%s", c->url, d->name);
	if (tiles_http_init(&ts, c->env, base, TILE_MAX, GET_TIMEOUT) != 0) {
		client_err(c, "out of memory");
		goto done;
	}
	tiles_hash_reader(&ts, srv, &thr, &hr);
	if ((r = trust_extends(cli, srv, &hr, &pf)) == TRUST_EREAD &&
	    thr.err != SUMDB_EPROOF) {
		client_err(c, "proving tree %lld in tree %lld: %s",
		    (long long)cli->n, (long long)srv->n, ts.err[0] != '\0' ?
		    ts.err : sumdb_strerror(pf.err));
		goto done;
	}
	if (r == TRUST_EREAD)
		client_finding(c, file, "the server's tiles do not match its own "
		    "checkpoint (tree %lld): it cannot prove that it extends "
		    "this one", (long long)srv->n);
	else if (r != 0)
		client_finding(c, file, "inconsistent: the server's tree %lld does "
		    "not contain this tree %lld: a fork; keep both notes as "
		    "evidence (this file and %s/latest)", (long long)srv->n,
		    (long long)cli->n, base);
	else
		printf("client-check: info: %s: tree %lld, consistent with "
		    "the server's tree %lld\n", file, (long long)cli->n,
		    (long long)srv->n);
	rv = 0;
 done:
	tiles_free(&ts);
	return rv;
}

/* Read file into b: 1, 0 if it does not exist, or -1. */
static int
read_file(struct client *c, const char *file, struct evbuffer *b)
{
	int	 fd, n;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		client_err(c, "'%s': %s", file, strerror(errno));
		return -1;
	}
	while ((n = evbuffer_read(b, fd, 65536)) > 0 &&
	    evbuffer_get_length(b) <= SUMDB_NOTE_MAX)
		;
	if (n < 0)
		client_err(c, "'%s': %s", file, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 1;
}

/*
 * The go command's cached checkpoint of d against the server's: a
 * newer one, another root at the same size, or an older one that the
 * server's tree does not extend are findings.  0, or -1 on errors.
 */
static int
check_latest(struct client *c, const struct cdb *d)
{
	struct evbuffer		*mine = NULL, *theirs = NULL;
	struct tlog_tree	 cli, srv;
	const char		*gp = c->gopath != NULL ? c->gopath :
				    c->gv[GV_GOPATH];
	char			 file[4096], url[URL_MAX + SUMDB_NAME_MAX + 16];
	char			 err[URL_MAX + SUMDB_NAME_MAX + 300];
	int			 r, rv = -1;

	/* The go command keeps it under the first GOPATH element. */
	snprintf(file, sizeof(file), "%.*s/pkg/sumdb/%s/latest",
	    (int)strcspn(gp, ":"), gp, d->name);
	if ((mine = evbuffer_new()) == NULL ||
	    (theirs = evbuffer_new()) == NULL) {
		client_err(c, "out of memory");
		goto done;
	}
	if (*gp == '\0' || (r = read_file(c, file, mine)) == 0) {
		printf("client-check: info: no cached checkpoint%s%s: the go "
		    "command has not used %s yet\n", *gp != '\0' ? " at " : "",
		    *gp != '\0' ? file : "", d->name);
		rv = 0;
		goto done;
	}
	if (r < 0)
		goto done;
	if ((r = open_tree(d, mine, &cli)) != 0) {
		client_finding(c, file, "does not verify as a checkpoint of %s: %s; "
		    "another database, key or a damaged file", d->name,
		    sumdb_strerror(r));
		rv = 0;
		goto done;
	}
	snprintf(url, sizeof(url), "%s/sumdb/%s/latest", c->url, d->name);
	if ((c->env->base == NULL && fetch_client_init(c->env) != 0) ||
	    get(c->env, url, LATEST_MAX, theirs, err, sizeof(err)) != 0) {
		client_err(c, "the server's checkpoint: %s", err);
		goto done;
	}
	if ((r = open_tree(d, theirs, &srv)) != 0) {
		client_finding(c, url, "does not verify under %s: %s; the server is "
		    "not this database", d->vkey, sumdb_strerror(r));
		rv = 0;
		goto done;
	}
	check_cosigned(c, d, url, theirs);
	check_cosigned(c, d, file, mine);
	if (cli.n < srv.n && cli.n > 0) {
		rv = check_older(c, d, file, &cli, &srv);
		goto done;
	}
	if (cli.n > srv.n)
		client_finding(c, file, "client checkpoint (tree %lld) is ahead of "
		    "the server's (tree %lld): the server is lagging or "
		    "forked", (long long)cli.n, (long long)srv.n);
	else if (cli.n == srv.n && memcmp(cli.hash, srv.hash,
	    SUMDB_HASH_SIZE) != 0)
		client_finding(c, file, "inconsistent: same size %lld, different "
		    "root from the server's: a fork; keep both notes as "
		    "evidence (this file and %s)", (long long)cli.n, url);
	else
		printf("client-check: info: %s: tree %lld, the server's is "
		    "%lld\n", file, (long long)cli.n, (long long)srv.n);
	rv = 0;
 done:
	if (mine != NULL)
		evbuffer_free(mine);
	if (theirs != NULL)
		evbuffer_free(theirs);
	return rv;
}

/*
 * GOFLAGS=-insecure: go 1.16 and older fetch insecurely and skip the
 * checksum database with it; newer ones ignore it.
 */
static void
check_goflags(struct client *c)
{
	const char	*p = c->gv[GV_GOFLAGS];
	size_t		 n;

	for (; *p != '\0'; p += n) {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if ((n == 9 && strncmp(p, "-insecure", 9) == 0) ||
		    (n == 10 && strncmp(p, "--insecure", 10) == 0) ||
		    (n > 10 && strncmp(p, "-insecure=", 10) == 0 &&
		    strncmp(p + 10, "false", n - 10) != 0)) {
			client_finding(c, "GOFLAGS", "%.*s: go 1.16 and older "
			    "skip checksum verification with it (newer ones "
			    "ignore it): unnecessary and weakening; remove it",
			    (int)n, p);
			return;
		}
	}
}

static int
check(struct env *env, int argc, char **argv)
{
	struct client	 c;
	struct cdb	 d;
	const char	*name;
	size_t		 i;
	int		 k, rv;

	if ((rv = client_open(&c, env, "client-check", argc, argv)) >= 0)
		goto done;
	rv = 2;
	if ((name = c.dbname) == NULL)
		name = c.env->conf.log_name != NULL ? c.env->conf.log_name :
		    c.env->conf.nmirrors == 1 ? c.env->conf.mirrors[0].name :
		    NULL;
	if (name == NULL) {
		client_err(&c, "which database? use --db");
		goto done;
	}
	if ((k = client_db_find(&c, name)) < 0 || client_db_open(&c, k, &d) != 0)
		goto done;
	if (go_in_path() ? settings_go(&c) != 0 : settings_env(&c) != 0)
		goto done;
	printf("client-check: info: %s at %s, settings from %s\n", d.name,
	    c.url, c.fromgo ? "go env -json" : "the environment (no go "
	    "command in PATH)");
	for (i = 0; i < sizeof(folklore) / sizeof(folklore[0]); i++)
		if (getenv(folklore[i]) != NULL)
			client_finding(&c, folklore[i], "not a go command variable: "
			    "it does nothing (GOSUMDB, GONOSUMDB and GOPRIVATE "
			    "decide what is verified); unset it");
	check_goflags(&c);
	if (check_gosumdb(&c, &d))
		check_route(&c, &d);
	if (d.mirror)
		each_glob(c.env->conf.log_private, private_at_mirror, &c);
	else if (check_private_log(&c, &d) != 0)
		goto done;
	if (check_latest(&c, &d) != 0)
		goto done;
	if (c.findings > 0)
		printf("client-check: %d finding%s for %s\n", c.findings,
		    c.findings == 1 ? "" : "s", d.name);
	else
		printf("client-check: ok: no findings for %s\n", d.name);
	rv = c.findings > 0 ? 1 : 0;
 done:
	client_close(&c);
	return rv;
}

const struct cmd_entry cmd_client_check_entry = {
	.name = "client-check",
	.opts = "c:h",
	.longopts = client_longopts,
	.flags = NEED_CONFIG,
	.usage = client_check_usage,
	.exec = check,
};
