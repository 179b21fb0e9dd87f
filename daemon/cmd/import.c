/*
 * import.c: `sumdbd import BUNDLE`, and `sumdbd import URL`: the TUF
 * client workflow of the
 * specification (section 5) against a repository such as another
 * sumdbd's /tuf/, from a pinned root: the root chain (each N+1 signed by
 * the old and the new root, versions without gaps), timestamp, snapshot
 * and targets (thresholds, rollback, freeze, mix-and-match, lengths and
 * hashes), then every bundle of our databases that extends our trust
 * base, verified as a target before it is imported.  The trusted
 * metadata is kept byte for byte in a state directory between runs, so
 * rollbacks are caught across them.  The checks over the fetched
 * bytes are tuf/update.c's; this file fetches, keeps the state, and
 * imports.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "tuf.h"

#define ROOT_MAX	512000
#define TIMESTAMP_MAX	16384
#define SNAPSHOT_MAX	2000000
#define TARGETS_MAX	5000000
#define ROTATIONS_MAX	256
#define BUNDLE_TARGET_MAX ((int64_t)1 << 30)	/* one bundle target */
#define BUNDLE_MAX	((size_t)4 << 30)	/* one bundle file */

/* GET url into out, waiting for it: the status, or -1. */
static int
get(struct env *env, const char *url, size_t maxlen, struct evbuffer *out)
{
	return fetch_wait(env, url, maxlen, 60000, out, NULL, 0);
}

/*
 * Keep a refused TUF import as evidence of the database it feeds (the
 * first mirror, else the private log): the reason, the URL and the last
 * metadata fetched, which is the one refused.
 */
static void
keep_refusal(struct env *env, const char *url, struct evbuffer *b,
    const char *reason)
{
	const char	*name = env->conf.nmirrors > 0 ?
			    env->conf.mirrors[0].name : env->conf.log_name;
	char		 detail[600];
	int64_t		 log;

	if (name == NULL || store_log(env->st, name, env->conf.nmirrors > 0 ?
	    "mirror" : "private", &log) != 0)
		return;
	snprintf(detail, sizeof(detail), "TUF: %s", reason);
	if (store_add_evidence(env->st, log, "import", url, detail, NULL, 0,
	    NULL, 0, b != NULL ? evbuffer_pullup(b, -1) : NULL,
	    b != NULL ? evbuffer_get_length(b) : 0) != 0)
		log_warnx("import: keeping the evidence: %s",
		    store_errmsg(env->st));
}

/*
 * Read file path whole into b (emptied first), at most max bytes: 0, 1
 * when it is larger, or -1 with errno set.
 */
static int
read_whole(const char *path, struct evbuffer *b, size_t max)
{
	int	 fd, r, saved;

	evbuffer_drain(b, evbuffer_get_length(b));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((r = evbuffer_read(b, fd, 1 << 20)) > 0)
		if (evbuffer_get_length(b) > max) {
			close(fd);
			return 1;
		}
	saved = errno;
	close(fd);
	errno = saved;
	return r < 0 ? -1 : 0;
}

/* The trusted copy of role in state, parsed, with its bytes in b. */
static json_t *
load(const char *state, const char *role, struct evbuffer *b)
{
	char	 path[2048];

	snprintf(path, sizeof(path), "%s/%s.json", state, role);
	if (read_whole(path, b, SIZE_MAX) != 0)
		return NULL;
	return tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
}

/* Keep b as the trusted copy of role, atomically. */
static int
save(const char *state, const char *role, struct evbuffer *b)
{
	char	 path[2048], tmp[2100];
	size_t	 len = evbuffer_get_length(b);
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s.json", state, role);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1 || write(fd, evbuffer_pullup(b, -1), len) != (ssize_t)len ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		log_warn("'%s'", path);
		return -1;
	}
	return 0;
}

/* One run of the TUF client workflow, what it trusts and fetched. */
struct tufrun {
	struct env	*env;
	char		 base[2048];	/* the repository, without '/' */
	char		 state[2048];	/* the trusted metadata's directory */
	time_t		 now;
	struct evbuffer	*b;		/* the last bytes fetched */
	struct evbuffer	*tb;		/* a trusted copy, loaded */
	json_t		*root, *targets;
	char		*err;
	size_t		 errsize;
	int		 kept;		/* evidence kept by bundle_import() */
};

/* The reason into t->err; returns IMPORT_REFUSED. */
static int
refuse(struct tufrun *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct tufrun *t, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(t->err, t->errsize, fmt, ap);
	va_end(ap);
	return IMPORT_REFUSED;
}

/* GET url into t->b, refused unless it answers 200. */
static int
get_ok(struct tufrun *t, const char *url, size_t maxlen)
{
	if (get(t->env, url, maxlen, t->b) != 200)
		return refuse(t, "'%s': unreachable or too large", url);
	return 0;
}

/* A TUF check's answer: 0, or refused with its reason in t->err. */
static int
checked(int e)
{
	return e == 0 ? 0 : IMPORT_REFUSED;
}

/* 5.2: the trusted root, else the pinned one, which signs itself. */
static int
pinned_root(struct tufrun *t, const char *rootfile)
{
	if ((t->root = load(t->state, "root", t->b)) != NULL)
		return 0;
	if (rootfile == NULL)
		return refuse(t, "no trusted root in '%s': pin one with "
		    "--root", t->state);
	if (read_whole(rootfile, t->b, SIZE_MAX) != 0) {
		log_warn("'%s'", rootfile);
		return IMPORT_ERROR;
	}
	if (tuf_update_pinned(evbuffer_pullup(t->b, -1),
	    evbuffer_get_length(t->b), &t->root, t->err, t->errsize) != 0)
		return IMPORT_REFUSED;
	return save(t->state, "root", t->b) == 0 ? 0 : IMPORT_ERROR;
}

/* 5.3: the root chain, N+1 signed by both N and N+1. */
static int
root_chain(struct tufrun *t)
{
	json_t	*next;
	char	 u[4096];
	int	 k, rc;

	for (k = 0; k < ROTATIONS_MAX; k++) {
		snprintf(u, sizeof(u), "%s/%lld.root.json", t->base,
		    (long long)(tuf_version(t->root) + 1));
		if ((rc = get(t->env, u, ROOT_MAX, t->b)) == 404 || rc == 403)
			break;
		if (rc != 200)
			return refuse(t, "'%s': unreachable or too large", u);
		if (tuf_update_root(t->root, evbuffer_pullup(t->b, -1),
		    evbuffer_get_length(t->b), u, t->now, &next, t->err,
		    t->errsize) != 0)
			return IMPORT_REFUSED;
		json_decref(t->root);
		t->root = next;
		if (save(t->state, "root", t->b) != 0)
			return IMPORT_ERROR;
	}
	return checked(tuf_update_root_check(t->root, t->now, t->err,
	    t->errsize));
}

/*
 * Fetch role's version m->version into t->b, as lister (the role whose
 * meta m is) says: at most max bytes, and exactly its length when it
 * gives one.  0, or IMPORT_*.
 */
static int
get_role(struct tufrun *t, const char *role, const char *lister,
    const struct tuf_meta *m, int max)
{
	char	 u[4096];

	if (m->length > max)
		return refuse(t, "%s %lld: the %s lists %lld bytes, over the "
		    "limit of %d", role, (long long)m->version, lister,
		    (long long)m->length, max);
	snprintf(u, sizeof(u), "%s/%lld.%s.json", t->base,
	    (long long)m->version, role);
	return get_ok(t, u, m->length >= 0 ? (size_t)m->length :
	    (size_t)max);
}

/*
 * 5.4 to 5.6: timestamp, snapshot exactly as the timestamp says, then
 * targets exactly as the snapshot says, each kept once it passed.
 */
static int
top_roles(struct tufrun *t)
{
	struct tuf_meta	 m;
	json_t		*ts = NULL, *ots = NULL, *snap = NULL, *osnap = NULL;
	char		 u[4096];
	int		 rv;

	snprintf(u, sizeof(u), "%s/timestamp.json", t->base);
	if ((rv = get_ok(t, u, TIMESTAMP_MAX)) != 0)
		goto done;
	ots = load(t->state, "timestamp", t->tb);
	if ((rv = checked(tuf_update_timestamp(t->root, ots,
	    evbuffer_pullup(t->b, -1), evbuffer_get_length(t->b), t->now, &ts,
	    &m, t->err, t->errsize))) != 0)
		goto done;
	if (save(t->state, "timestamp", t->b) != 0) {
		rv = IMPORT_ERROR;
		goto done;
	}

	if ((rv = get_role(t, "snapshot", "timestamp", &m, SNAPSHOT_MAX)) !=
	    0)
		goto done;
	osnap = load(t->state, "snapshot", t->tb);
	if ((rv = checked(tuf_update_snapshot(t->root, osnap, &m,
	    evbuffer_pullup(t->b, -1), evbuffer_get_length(t->b), t->now,
	    &snap, &m, t->err, t->errsize))) != 0)
		goto done;
	if (save(t->state, "snapshot", t->b) != 0) {
		rv = IMPORT_ERROR;
		goto done;
	}

	if ((rv = get_role(t, "targets", "snapshot", &m, TARGETS_MAX)) != 0 ||
	    (rv = checked(tuf_update_targets(t->root, &m,
	    evbuffer_pullup(t->b, -1), evbuffer_get_length(t->b), t->now,
	    &t->targets, t->err, t->errsize))) != 0)
		goto done;
	if (save(t->state, "targets", t->b) != 0)
		rv = IMPORT_ERROR;
 done:
	json_decref(ts);
	json_decref(ots);
	json_decref(snap);
	json_decref(osnap);
	return rv;
}

/*
 * The target under prefix that goes furthest from tree size (from at
 * or below it): its path (borrowed from t->targets) and sizes, or NULL.
 */
static const char *
best_target(struct tufrun *t, const char *prefix, int64_t size,
    int64_t *bestfrom, int64_t *bestto)
{
	const char	*tpath, *best = NULL;
	json_t		*e;
	int64_t		 from, to;

	*bestto = -1;
	json_object_foreach(json_object_get(tuf_signed(t->targets),
	    "targets"), tpath, e) {
		if (strncmp(tpath, prefix, strlen(prefix)) != 0 ||
		    sscanf(tpath + strlen(prefix), "%lld-%lld",
		    (long long *)&from, (long long *)&to) != 2)
			continue;
		if (from <= size && to > size && to > *bestto) {
			best = tpath;
			*bestfrom = from;
			*bestto = to;
		}
	}
	return best;
}

/* Fetch the bundle target tpath into t->b and import it. */
static int
take_target(struct tufrun *t, const char *tpath, int64_t from,
    int64_t to)
{
	struct tuf_meta	 m;
	char		 u[4096], hex[65];
	const char	*slash;
	int64_t		 nfrom, nto;
	int		 rv;

	if (tuf_target_get(t->targets, tpath, &m) != 0)
		return refuse(t, "target '%s': no length of at least 0 and "
		    "sha256 of 64 hex digits", tpath);
	if (m.length > BUNDLE_TARGET_MAX)
		return refuse(t, "target '%s': %lld bytes, over the limit of "
		    "%lld", tpath, (long long)m.length,
		    (long long)BUNDLE_TARGET_MAX);
	sodium_bin2hex(hex, sizeof(hex), m.sha256, 32);
	slash = strrchr(tpath, '/');
	snprintf(u, sizeof(u), "%s/targets/%.*s%s.%s", t->base,
	    (int)(slash + 1 - tpath), tpath, hex, slash + 1);
	if (get(t->env, u, (size_t)m.length, t->b) != 200 ||
	    tuf_meta_match(&m, evbuffer_pullup(t->b, -1),
	    evbuffer_get_length(t->b)) != 0)
		return refuse(t, "target '%s': its length or hash differs from "
		    "the signed targets", tpath);
	/*
	 * It must hold what its name says, or the loop would pick it
	 * again: bundle_import() checks the header's sizes against the
	 * signed checkpoints.
	 */
	if (bundle_sizes(evbuffer_pullup(t->b, -1), evbuffer_get_length(t->b),
	    &nfrom, &nto) != 0 || nfrom != from || nto != to)
		return refuse(t, "target '%s' does not hold the trees its name "
		    "gives", tpath);
	rv = bundle_import(t->env, evbuffer_pullup(t->b, -1),
	    evbuffer_get_length(t->b), u, t->err, t->errsize);
	if (rv == IMPORT_REFUSED)
		t->kept = 1;	/* by bundle_import(), with the bundle */
	return rv;
}

/*
 * 5.7: the bundles of our mirrors, in order, each verified (our own log
 * grows only by our signatures: bundle_import() says so).  *imported
 * counts them.
 */
static int
take_bundles(struct tufrun *t, int *imported)
{
	struct env	*env = t->env;
	const char	*name, *tpath;
	char		 prefix[1100];
	uint8_t		 r32[32];
	int64_t		 log, size, from, to;
	int		 i, rc;

	for (i = 0; i < env->conf.nmirrors; i++) {
		name = env->conf.mirrors[i].name;
		if (store_log(env->st, name, "mirror", &log) != 0)
			continue;
		snprintf(prefix, sizeof(prefix), "%s/bundles/", name);
		for (;;) {
			if ((rc = store_latest(env->st, log, NULL, &size,
			    r32)) < 0)
				return IMPORT_ERROR;
			if (rc == 0)
				size = 0;
			if ((tpath = best_target(t, prefix, size, &from,
			    &to)) == NULL)
				break;
			if ((rc = take_target(t, tpath, from, to)) != 0)
				return rc;
			(*imported)++;
		}
	}
	return 0;
}

/*
 * Run the TUF client workflow against the repository at url, from the
 * trusted metadata in directory statedir (NULL: [server] state_dir's
 * tuf, or the SQLite database's path with .tuf), else the pinned root file (may be NULL), and import every
 * bundle of our mirrors it lists that extends our trust base.  Returns
 * 0, IMPORT_REFUSED (the reason in err, evidence kept) or IMPORT_ERROR
 * (logged).
 */
static int
tuf_import(struct env *env, const char *url, const char *rootfile,
    const char *statedir, char *err, size_t errsize)
{
	struct tufrun	 t;
	size_t		 blen;
	int		 imported = 0, rv = IMPORT_ERROR;

	memset(&t, 0, sizeof(t));
	t.env = env;
	t.now = time(NULL);
	t.err = err;
	t.errsize = errsize;
	err[0] = '\0';
	if (fetch_client_init(env) != 0 || (t.b = evbuffer_new()) == NULL ||
	    (t.tb = evbuffer_new()) == NULL)
		goto done;
	blen = strlen(url);
	while (blen > 0 && url[blen - 1] == '/')
		blen--;
	snprintf(t.base, sizeof(t.base), "%.*s", (int)blen, url);
	if (statedir != NULL)
		snprintf(t.state, sizeof(t.state), "%s", statedir);
	else if (env->conf.state_dir != NULL)
		snprintf(t.state, sizeof(t.state), "%s/tuf",
		    env->conf.state_dir);
	else
		snprintf(t.state, sizeof(t.state), "%s.tuf",
		    env->conf.database);
	if (mkdir(t.state, 0700) == -1 && errno != EEXIST) {
		log_warn("'%s'", t.state);
		goto done;
	}
	if ((rv = pinned_root(&t, rootfile)) != 0 ||
	    (rv = root_chain(&t)) != 0 || (rv = top_roles(&t)) != 0 ||
	    (rv = take_bundles(&t, &imported)) != 0)
		goto done;
	printf("TUF: root %lld, targets %lld: %d bundle%s imported\n",
	    (long long)tuf_version(t.root), (long long)tuf_version(t.targets),
	    imported, imported == 1 ? "" : "s");
 done:
	if (rv == IMPORT_REFUSED && !t.kept)
		keep_refusal(env, url, t.b, err);
	if (t.b != NULL)
		evbuffer_free(t.b);
	if (t.tb != NULL)
		evbuffer_free(t.tb);
	json_decref(t.root);
	json_decref(t.targets);
	fetch_client_free(env);
	return rv;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd import [-c FILE] BUNDLE\n"
	    "       sumdbd import [-c FILE] --root ROOT.json [--state DIR] URL\n"
	    "  With a URL (http, https or file) of a TUF repository, run the\n"
	    "  TUF client workflow from the pinned ROOT (then from DIR, which\n"
	    "  keeps the trusted metadata between runs; default: the\n"
	    "  database's path with .tuf) and import every published bundle\n"
	    "  of our databases that extends our trust base, in order.\n"
	    "  Verify a differential bundle against this store's newest trust\n"
	    "  base of its database and store it: the to-checkpoint must verify\n"
	    "  under the configured key and extend our trust base, and every\n"
	    "  record and tile must authenticate.  Any failure writes nothing\n"
	    "  and exits 1 with the reason.\n");
}

static const struct option longopts[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "state", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Read the bundle file path whole into file; 0, or IMPORT_*. */
static int
read_bundle(const char *path, struct evbuffer *file, char *err,
    size_t errsize)
{
	int	 r;

	if ((r = read_whole(path, file, BUNDLE_MAX)) == 1) {
		snprintf(err, errsize, "bundle larger than %zu bytes",
		    BUNDLE_MAX);
		return IMPORT_REFUSED;
	}
	if (r != 0) {
		log_warn("'%s'", path);
		return IMPORT_ERROR;
	}
	return 0;
}

static int
import(struct env *env, int argc, char **argv)
{
	struct evbuffer	*file = NULL;
	const char	*root = NULL, *state = NULL, *src;
	char		 err[512];
	int		 ch, rv = IMPORT_ERROR;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'r')
			root = optarg;
		else if (ch == 's')
			state = optarg;
	}
	src = argv[optind];
	if (strncmp(src, "http://", 7) == 0 ||
	    strncmp(src, "https://", 8) == 0 ||
	    strncmp(src, "file://", 7) == 0)
		rv = tuf_import(env, src, root, state, err, sizeof(err));
	else if ((file = evbuffer_new()) != NULL &&
	    (rv = read_bundle(src, file, err, sizeof(err))) == 0)
		rv = bundle_import(env, evbuffer_pullup(file, -1),
		    evbuffer_get_length(file), src, err, sizeof(err));
	if (rv == IMPORT_REFUSED)
		fprintf(stderr, "sumdbd import: refused: %s\n", err);
	if (file != NULL)
		evbuffer_free(file);
	return rv == 0 ? 0 : rv == IMPORT_REFUSED ? 1 : 2;
}

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.opts = "c:h",
	.longopts = longopts,
	.lower = 1,
	.upper = 1,
	.flags = NEED_CONFIG | NEED_STORE | CREATE_STORE,
	.usage = usage,
	.exec = import,
};
