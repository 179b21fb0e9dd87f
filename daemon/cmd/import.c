/*
 * tufclient.c: `sumdbd import URL`: the TUF client workflow of the
 * specification (section 5) against a repository such as another
 * sumdbd's /tuf/, from a pinned root: the root chain (each N+1 signed by
 * the old and the new root, versions without gaps), timestamp, snapshot
 * and targets (thresholds, rollback, freeze, mix-and-match, lengths and
 * hashes), then every bundle of our databases that extends our trust
 * base, verified as a target before it is imported.  The trusted
 * metadata is kept byte for byte in a state directory between runs, so
 * rollbacks are caught across them.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"
#include "tuf.h"

#define ROOT_MAX	512000
#define TIMESTAMP_MAX	16384
#define SNAPSHOT_MAX	2000000
#define TARGETS_MAX	5000000
#define ROTATIONS_MAX	256
#define BUNDLE_MAX	((int64_t)1 << 30)	/* one bundle target */

/*
 * The last refusal's reason, printed, kept as evidence by the importer
 * that made it, then cleared.  (Moved here from bundle.c, whose
 * bundle_import() now returns its reason instead.)
 */
static char	import_refusal[512];

static int
import_refuse(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
import_refuse(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(import_refusal, sizeof(import_refusal), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sumdbd import: refused: %s\n", import_refusal);
	return 1;
}

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
keep_refusal(struct env *env, const char *url, struct evbuffer *b)
{
	const char	*name = env->conf.nmirrors > 0 ?
			    env->conf.mirrors[0].name : env->conf.log_name;
	char		 detail[600];
	int64_t		 log;

	if (name == NULL || store_log(env->st, name, env->conf.nmirrors > 0 ?
	    "mirror" : "private", &log) != 0)
		return;
	snprintf(detail, sizeof(detail), "TUF: %s", import_refusal);
	if (store_add_evidence(env->st, log, "import", url, detail, NULL, 0,
	    NULL, 0, b != NULL ? evbuffer_pullup(b, -1) : NULL,
	    b != NULL ? evbuffer_get_length(b) : 0) != 0)
		log_warnx("import: keeping the evidence: %s",
		    store_errmsg(env->st));
}

/* The trusted copy of role in state, parsed, with its bytes in b. */
static json_t *
load(const char *state, const char *role, struct evbuffer *b)
{
	char	 path[2048];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s.json", state, role);
	evbuffer_drain(b, evbuffer_get_length(b));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	while (evbuffer_read(b, fd, 65536) > 0)
		;
	close(fd);
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

static json_t *
signed_part(const json_t *md)
{
	return json_object_get(md, "signed");
}

static int64_t
version_of(const json_t *md)
{
	return json_integer_value(json_object_get(signed_part(md), "version"));
}

/* Verify md as role under root, with the common checks. */
static int
check_role(const json_t *root, const json_t *md, const char *role,
    time_t now, int64_t *v, const char *what)
{
	struct tuf_role	 r;
	int		 e;

	if (md == NULL)
		return import_refuse("%s: malformed metadata", what);
	if (tuf_root_role(signed_part(root), role, &r) != 0)
		return import_refuse("the root has no %s role", role);
	if ((e = tuf_verify(md, &r)) != 0)
		return import_refuse("%s: %s", what, tuf_strerror(e));
	if ((e = tuf_check(md, role, now, v)) != 0)
		return import_refuse("%s: %s", what, tuf_strerror(e));
	return 0;
}

int
import_tuf(struct env *env, const char *url, const char *rootfile,
    const char *statedir)
{
	struct evbuffer	*b = NULL, *tb = NULL;
	struct tuf_role	 oldr, newr;
	struct tuf_meta	 m, om;
	json_t		*root = NULL, *next = NULL, *ts = NULL, *ots = NULL;
	json_t		*snap = NULL, *osnap = NULL, *targets = NULL, *e;
	const char	*key, *tpath;
	char		 state[2048], base[2048], u[4096], prefix[1100];
	char		 hex[65], *slash;
	time_t		 now = time(NULL);
	int64_t		 v, nv, from, to, size, log;
	uint8_t		 rootsum[32];
	size_t		 blen;
	int		 i, k, e2, rv = 2, imported = 0, rc;

	if (fetch_client_init(env) != 0 || (b = evbuffer_new()) == NULL ||
	    (tb = evbuffer_new()) == NULL)
		goto done;
	blen = strlen(url);
	while (blen > 0 && url[blen - 1] == '/')
		blen--;
	snprintf(base, sizeof(base), "%.*s", (int)blen, url);
	if (statedir != NULL)
		snprintf(state, sizeof(state), "%s", statedir);
	else
		snprintf(state, sizeof(state), "%s.tuf", env->conf.database);
	if (mkdir(state, 0700) == -1 && errno != EEXIST) {
		log_warn("'%s'", state);
		goto done;
	}
	rv = 1;

	/* 5.2: the trusted root, else the pinned one, which signs itself. */
	if ((root = load(state, "root", b)) == NULL) {
		int	 fd;

		if (rootfile == NULL) {
			import_refuse("no trusted root in '%s': pin one with --root",
			    state);
			goto done;
		}
		if ((fd = open(rootfile, O_RDONLY | O_CLOEXEC)) == -1) {
			log_warn("'%s'", rootfile);
			rv = 2;
			goto done;
		}
		evbuffer_drain(b, evbuffer_get_length(b));
		while (evbuffer_read(b, fd, 65536) > 0)
			;
		close(fd);
		if ((root = tuf_parse(evbuffer_pullup(b, -1),
		    evbuffer_get_length(b))) == NULL ||
		    tuf_root_role(signed_part(root), "root", &oldr) != 0 ||
		    tuf_verify(root, &oldr) != 0) {
			import_refuse("the pinned root does not verify itself");
			goto done;
		}
		if (save(state, "root", b) != 0)
			goto done;
	}
	crypto_hash_sha256(rootsum, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));

	/* 5.3: the root chain, N+1 signed by both N and N+1. */
	for (k = 0; k < ROTATIONS_MAX; k++) {
		v = version_of(root);
		snprintf(u, sizeof(u), "%s/%lld.root.json", base,
		    (long long)(v + 1));
		if ((rc = get(env, u, ROOT_MAX, b)) == 404 || rc == 403)
			break;
		if (rc != 200) {
			import_refuse("'%s': unreachable or too large", u);
			goto done;
		}
		next = tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
		if (next == NULL || tuf_root_role(signed_part(root), "root",
		    &oldr) != 0 || tuf_root_role(signed_part(next), "root",
		    &newr) != 0) {
			import_refuse("root %lld: malformed", (long long)(v + 1));
			goto done;
		}
		if ((e2 = tuf_verify(next, &oldr)) != 0 ||
		    (e2 = tuf_verify(next, &newr)) != 0) {
			import_refuse("root %lld: not signed by a threshold of root "
			    "%lld and of itself: %s", (long long)(v + 1),
			    (long long)v, tuf_strerror(e2));
			goto done;
		}
		e2 = tuf_check(next, "root", now, &nv);
		if ((e2 != 0 && e2 != TUF_EEXPIRED) || nv != v + 1) {
			import_refuse("root chain: '%s' is version %lld, not %lld",
			    u, (long long)nv, (long long)(v + 1));
			goto done;
		}
		json_decref(root);
		root = next;
		next = NULL;
		if (save(state, "root", b) != 0)
			goto done;
	}
	if ((e2 = tuf_check(root, "root", now, &v)) != 0) {
		import_refuse("root %lld: %s", (long long)version_of(root),
		    tuf_strerror(e2));
		goto done;
	}

	/* 5.4: timestamp. */
	snprintf(u, sizeof(u), "%s/timestamp.json", base);
	if (get(env, u, TIMESTAMP_MAX, b) != 200) {
		import_refuse("'%s': unreachable or too large", u);
		goto done;
	}
	ts = tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
	if (check_role(root, ts, "timestamp", now, &v, "timestamp") != 0)
		goto done;
	if ((ots = load(state, "timestamp", tb)) != NULL &&
	    check_role(root, ots, "timestamp", 0, &nv, "trusted timestamp") ==
	    0) {
		if (v < nv) {
			import_refuse("timestamp rollback: version %lld, we trust "
			    "%lld", (long long)v, (long long)nv);
			goto done;
		}
		if (tuf_meta_get(ts, "snapshot.json", &m) != 0 ||
		    tuf_meta_get(ots, "snapshot.json", &om) != 0 ||
		    m.version < om.version) {
			import_refuse("snapshot rollback in the timestamp: version "
			    "%lld, we trust %lld", (long long)m.version,
			    (long long)om.version);
			goto done;
		}
	}
	if (tuf_meta_get(ts, "snapshot.json", &m) != 0) {
		import_refuse("timestamp: no snapshot.json");
		goto done;
	}
	if (save(state, "timestamp", b) != 0)
		goto done;

	/* 5.5: snapshot, exactly as the timestamp says. */
	snprintf(u, sizeof(u), "%s/%lld.snapshot.json", base,
	    (long long)m.version);
	if (m.length > SNAPSHOT_MAX) {
		import_refuse("snapshot %lld: the timestamp lists %lld bytes, over the "
		    "limit of %d", (long long)m.version, (long long)m.length,
		    SNAPSHOT_MAX);
		goto done;
	}
	if (get(env, u, m.length >= 0 ? (size_t)m.length : SNAPSHOT_MAX, b) !=
	    200) {
		import_refuse("'%s': unreachable or too large", u);
		goto done;
	}
	if (tuf_meta_match(&m, evbuffer_pullup(b, -1), evbuffer_get_length(b))
	    != 0) {
		import_refuse("snapshot %lld: length or hash differs from the "
		    "timestamp's (mix-and-match)", (long long)m.version);
		goto done;
	}
	snap = tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
	if (check_role(root, snap, "snapshot", now, &v, "snapshot") != 0)
		goto done;
	if (v != m.version) {
		import_refuse("snapshot: version %lld, the timestamp says %lld",
		    (long long)v, (long long)m.version);
		goto done;
	}
	if ((osnap = load(state, "snapshot", tb)) != NULL)
		json_object_foreach(json_object_get(signed_part(osnap),
		    "meta"), key, e) {
			if (tuf_meta_get(snap, key, &m) != 0 ||
			    tuf_meta_get(osnap, key, &om) != 0 ||
			    m.version < om.version) {
				import_refuse("snapshot rollback of '%s'", key);
				goto done;
			}
		}
	if (tuf_meta_get(snap, "targets.json", &m) != 0) {
		import_refuse("snapshot: no targets.json");
		goto done;
	}
	if (save(state, "snapshot", b) != 0)
		goto done;

	/* 5.6: targets. */
	snprintf(u, sizeof(u), "%s/%lld.targets.json", base,
	    (long long)m.version);
	if (m.length > TARGETS_MAX) {
		import_refuse("targets %lld: the snapshot lists %lld bytes, over the "
		    "limit of %d", (long long)m.version, (long long)m.length,
		    TARGETS_MAX);
		goto done;
	}
	if (get(env, u, m.length >= 0 ? (size_t)m.length : TARGETS_MAX, b) !=
	    200) {
		import_refuse("'%s': unreachable or too large", u);
		goto done;
	}
	if (tuf_meta_match(&m, evbuffer_pullup(b, -1), evbuffer_get_length(b))
	    != 0) {
		import_refuse("targets %lld: length or hash differs from the "
		    "snapshot's (mix-and-match)", (long long)m.version);
		goto done;
	}
	targets = tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
	if (check_role(root, targets, "targets", now, &v, "targets") != 0)
		goto done;
	if (v != m.version) {
		import_refuse("targets: version %lld, the snapshot says %lld",
		    (long long)v, (long long)m.version);
		goto done;
	}
	if (save(state, "targets", b) != 0)
		goto done;

	/*
	 * 5.7: the bundles of our mirrors, in order, each verified (our
	 * own log grows only by our signatures: bundle_import() says so).
	 */
	for (i = 0; i < env->conf.nmirrors; i++) {
		const char	*name = env->conf.mirrors[i].name;
		uint8_t		 r32[32];

		if (store_log(env->st, name, "mirror", &log) != 0)
			continue;
		snprintf(prefix, sizeof(prefix), "%s/bundles/", name);
		for (;;) {
			json_t	*best = NULL;
			int64_t	 bestfrom = -1, bestto = -1;

			if ((rc = store_latest(env->st, log, NULL, &size,
			    r32)) < 0)
				goto done;
			if (rc == 0)
				size = 0;
			/* The bundle from our size that goes furthest. */
			json_object_foreach(json_object_get(signed_part(targets),
			    "targets"), tpath, e) {
				if (strncmp(tpath, prefix, strlen(prefix)) != 0 ||
				    sscanf(tpath + strlen(prefix), "%lld-%lld",
				    (long long *)&from, (long long *)&to) != 2)
					continue;
				if (from <= size && to > size && to > bestto) {
					best = e;
					bestfrom = from;
					bestto = to;
				}
			}
			if (best == NULL)
				break;
			json_object_foreach(json_object_get(signed_part(targets),
			    "targets"), tpath, e)
				if (e == best)
					break;
			if (tuf_target_get(targets, tpath, &m) != 0) {
				import_refuse("target '%s': no length of at least 0 "
				    "and sha256 of 64 hex digits", tpath);
				goto done;
			}
			if (m.length > BUNDLE_MAX) {
				import_refuse("target '%s': %lld bytes, over the "
				    "limit of %lld", tpath, (long long)m.length,
				    (long long)BUNDLE_MAX);
				goto done;
			}
			sodium_bin2hex(hex, sizeof(hex), m.sha256, 32);
			slash = strrchr(tpath, '/');
			snprintf(u, sizeof(u), "%s/targets/%.*s%s.%s", base,
			    (int)(slash + 1 - tpath), tpath, hex, slash + 1);
			if (get(env, u, (size_t)m.length, b) != 200 ||
			    tuf_meta_match(&m, evbuffer_pullup(b, -1),
			    evbuffer_get_length(b)) != 0) {
				import_refuse("target '%s': its length or hash differs "
				    "from the signed targets", tpath);
				goto done;
			}
			/*
			 * It must hold what its name says, or the loop would
			 * pick it again: bundle_import() checks the header's
			 * sizes against the signed checkpoints.
			 */
			if (bundle_sizes(evbuffer_pullup(b, -1),
			    evbuffer_get_length(b), &nv, &v) != 0 ||
			    nv != bestfrom || v != bestto) {
				import_refuse("target '%s' does not hold the trees "
				    "its name gives", tpath);
				goto done;
			}
			if ((rc = bundle_import(env, evbuffer_pullup(b, -1),
			    evbuffer_get_length(b), u, import_refusal,
			    sizeof(import_refusal))) != 0) {
				/* Its evidence is kept already. */
				if (rc == IMPORT_REFUSED)
					fprintf(stderr, "sumdbd import: "
					    "refused: %s\n", import_refusal);
				import_refusal[0] = '\0';
				rv = rc == IMPORT_REFUSED ? 1 : 2;
				goto done;
			}
			imported++;
		}
	}
	printf("TUF: root %lld, targets %lld: %d bundle%s imported\n",
	    (long long)version_of(root), (long long)version_of(targets),
	    imported, imported == 1 ? "" : "s");
	rv = 0;
 done:
	if (rv == 1 && import_refusal[0] != '\0')
		keep_refusal(env, url, b);
	if (b != NULL)
		evbuffer_free(b);
	if (tb != NULL)
		evbuffer_free(tb);
	json_decref(root);
	json_decref(next);
	json_decref(ts);
	json_decref(ots);
	json_decref(snap);
	json_decref(osnap);
	json_decref(targets);
	fetch_client_free(env);
	return rv;
}
