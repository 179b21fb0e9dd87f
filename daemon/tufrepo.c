/*
 * tufrepo.c: the TUF repository sumdbd publishes under /tuf/: for each
 * database its verifier key and its newest trust base as targets.
 * Root keys stay offline: `sumdbd tuf init` makes them and the first
 * root, `sumdbd tuf rotate` writes root N+1 signed by the old and the
 * new root keys.  The targets, snapshot and timestamp keys are online:
 * the daemon signs targets and snapshot when a trust base changes, and
 * timestamp on a timer, every version strictly increasing and every
 * published file kept byte for byte.  Main thread only.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"
#include "tuf.h"

#define ROOT_EXPIRY	(365 * 86400)

static const char *online_roles[3] = { "targets", "snapshot", "timestamp" };

struct tufrepo {
	struct tuf_signer	*key[3];	/* targets, snapshot, timestamp */
	struct event		*resign_ev;
	struct event		*publish_ev;
};

/* Read one hex seed per line ("ROLE HEX" or "HEX"), mode 0600 only. */
static int
read_seeds(const char *path, char roles[][16], uint8_t (*seeds)[32], int max)
{
	FILE		*f;
	char		 line[256], *sp, *hex, iobuf[BUFSIZ];
	int		 n = 0, fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("TUF keys '%s'", path);
		return -1;
	}
	if (!secret_file_ok(fd, path, "TUF keys")) {
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	/* Our own buffer, so that the seeds it held can be wiped. */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	while (fgets(line, sizeof(line), f) != NULL && n < max) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		roles[n][0] = '\0';
		hex = line;
		if ((sp = strchr(line, ' ')) != NULL) {
			*sp = '\0';
			snprintf(roles[n], sizeof(roles[n]), "%.15s", line);
			hex = sp + 1;
		}
		if (sodium_hex2bin(seeds[n], 32, hex, strlen(hex), NULL, NULL,
		    NULL) != 0 || strlen(hex) != 64) {
			log_warnx("TUF keys '%s': malformed line", path);
			n = -1;
			break;
		}
		n++;
	}
	fclose(f);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(iobuf, sizeof(iobuf));
	return n;
}

/* Write seeds to a new file of mode 0600 (never over an old one). */
static int
write_seeds(const char *path, const char *const *roles,
    struct tuf_signer *const *s, int n)
{
	uint8_t	 seed[32];
	char	 hex[65], iobuf[BUFSIZ];
	FILE	*f;
	int	 fd, i, rv = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("'%s'", path);
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));	/* wiped below */
	for (i = 0; i < n; i++) {
		tuf_signer_seed(s[i], seed);
		sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
		fprintf(f, "%s%s%s\n", roles != NULL ? roles[i] : "",
		    roles != NULL ? " " : "", hex);
	}
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(hex, sizeof(hex));
	if (fflush(f) == 0 && fsync(fd) == 0)
		rv = 0;
	if (fclose(f) != 0)
		rv = -1;
	sodium_memzero(iobuf, sizeof(iobuf));
	if (rv != 0)
		log_warn("writing '%s'", path);
	return rv;
}

static json_t *
expires(time_t from, int64_t seconds)
{
	char	 buf[21];

	if (tuf_format_time(from + (time_t)seconds, buf) != 0)
		return NULL;
	return json_string(buf);
}

/* The newest metadata of role as parsed JSON, or NULL; *v its version. */
static json_t *
newest(struct store *st, const char *role, int64_t *v)
{
	struct evbuffer	*b;
	json_t		*md = NULL;

	*v = 0;
	if ((b = evbuffer_new()) == NULL)
		return NULL;
	if (store_tuf_get(st, role, -1, b, v) == 1)
		md = tuf_parse(evbuffer_pullup(b, -1), evbuffer_get_length(b));
	evbuffer_free(b);
	return md;
}

/* Sign signed_ with s and store it as role's version v; 0 or -1. */
static int
publish_role(struct store *st, const char *role, int64_t v, json_t *signed_,
    struct tuf_signer *const *s, size_t n, struct tuf_meta *meta)
{
	char	*out = NULL;
	size_t	 len;
	int	 r;

	if ((r = tuf_sign(signed_, s, n, &out, &len)) != 0) {
		log_warnx("TUF %s: %s", role, tuf_strerror(r));
		return -1;
	}
	if (store_tuf_put(st, role, v, (uint8_t *)out, len) != 0) {
		log_warnx("TUF %s: %s", role, store_errmsg(st));
		free(out);
		return -1;
	}
	if (meta != NULL) {
		meta->version = v;
		meta->length = (int64_t)len;
		crypto_hash_sha256(meta->sha256, (uint8_t *)out, len);
		meta->has_sha256 = 1;
	}
	free(out);
	return 0;
}

static json_t *
meta_json(const struct tuf_meta *m)
{
	char	 hex[65];

	sodium_bin2hex(hex, sizeof(hex), m->sha256, sizeof(m->sha256));
	return json_pack("{s:I, s:I, s:{s:s}}", "version",
	    (json_int_t)m->version, "length", (json_int_t)m->length, "hashes",
	    "sha256", hex);
}

/* Add target path with bytes p to targets (and to the store). */
static int
add_target(struct store *st, json_t *targets, const char *path,
    const uint8_t *p, size_t len, json_t *custom)
{
	uint8_t	 h[32];
	char	 hex[65];

	crypto_hash_sha256(h, p, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (store_target_put(st, path, hex, p, len) != 0)
		return -1;
	return json_object_set_new(targets, path, json_pack("{s:I, s:{s:s}, "
	    "s:o}", "length", (json_int_t)len, "hashes", "sha256", hex,
	    "custom", custom != NULL ? custom : json_object()));
}

/*
 * The differential bundles of db: those listed in the old targets are
 * kept (the newest bundle_keep of them), and a new one from the last
 * bundle's end to the newest trust base is written when that is
 * bundle_step records or more.  Only a database with every record has
 * bundles: the private log, or a full mirror that finished.
 */
static int
add_bundles(struct env *env, struct db *db, json_t *targets,
    const json_t *old, int64_t size)
{
	struct evbuffer	*b;
	const char	*path;
	json_t		*e, *keep = NULL;
	char		 prefix[1100], tpath[1200], err[1024];
	int64_t		 last = 0, f, t, oldest;
	size_t		 n = 0, plen;
	int		 rv = -1;

	if (db->kind == DB_MIRROR && (strcmp(db->mc->mode, "full") != 0 ||
	    db->full_next < size))
		return 0;
	snprintf(prefix, sizeof(prefix), "%s/bundles/", db->name);
	plen = strlen(prefix);
	if ((keep = json_object()) == NULL)
		return -1;
	json_object_foreach((json_t *)old, path, e) {
		if (strncmp(path, prefix, plen) != 0 ||
		    sscanf(path + plen, "%lld-%lld", (long long *)&f,
		    (long long *)&t) != 2)
			continue;
		json_object_set(keep, path, e);
		if (t > last)
			last = t;
		n++;
	}
	if (size > last && size - last >= env->conf.tuf_bundle_step) {
		if ((b = evbuffer_new()) == NULL)
			goto done;
		snprintf(tpath, sizeof(tpath), "%s%lld-%lld", prefix,
		    (long long)last, (long long)size);
		if (bundle_write(env->st, db->log, db->name, last, size, b, err,
		    sizeof(err)) != 0) {
			log_warnx("TUF: bundle '%s': %s", tpath, err);
			evbuffer_free(b);
			goto done;
		}
		if (add_target(env->st, keep, tpath, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b), json_pack("{s:I, s:I}", "from",
		    (json_int_t)last, "to", (json_int_t)size)) != 0) {
			evbuffer_free(b);
			goto done;
		}
		evbuffer_free(b);
		n++;
	}
	/* Prune: only the newest bundle_keep stay listed. */
	while (n > (size_t)env->conf.tuf_bundle_keep) {
		const char	*victim = NULL;

		oldest = INT64_MAX;
		json_object_foreach(keep, path, e)
			if (sscanf(path + plen, "%lld-", (long long *)&f) == 1 &&
			    f < oldest) {
				oldest = f;
				victim = path;
			}
		if (victim == NULL)
			break;
		json_object_del(keep, victim);
		n--;
	}
	json_object_update(targets, keep);
	rv = 0;
 done:
	json_decref(keep);
	return rv;
}

/*
 * The targets of every database: its key, its witnesses, its newest
 * published note and bundles; and our witness's key.
 */
static json_t *
build_targets(struct env *env, const json_t *old)
{
	struct note_verifier	 v;
	struct evbuffer	*b = NULL;
	json_t		*t = NULL;
	struct db	*db;
	char		 path[1100];
	uint8_t		 root[32];
	int64_t		 size;
	int		 i, r;

	if ((t = json_object()) == NULL || (b = evbuffer_new()) == NULL)
		goto bad;
	/* Our own witness's key, for those who list it. */
	if (env->cosigner != NULL) {
		note_signer_verifier(env->cosigner, &v);
		if (note_verifier_format(&v, b) != 0 ||
		    evbuffer_add(b, "\n", 1) != 0 ||
		    add_target(env->st, t, "witness/key", evbuffer_pullup(b,
		    -1), evbuffer_get_length(b), NULL) != 0)
			goto bad;
	}
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		evbuffer_drain(b, evbuffer_get_length(b));
		if (note_verifier_format(&db->vkey, b) != 0 ||
		    evbuffer_add(b, "\n", 1) != 0)
			goto bad;
		snprintf(path, sizeof(path), "%s/key", db->name);
		if (add_target(env->st, t, path, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b), NULL) != 0)
			goto bad;
		/* Its witnesses and quorum: what its checkpoints carry. */
		evbuffer_drain(b, evbuffer_get_length(b));
		snprintf(path, sizeof(path), "%s/witnesses", db->name);
		if (db->npeers > 0 && (peers_policy(db, b) != 0 ||
		    add_target(env->st, t, path, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b), NULL) != 0))
			goto bad;
		evbuffer_drain(b, evbuffer_get_length(b));
		if ((r = store_published(env->st, db->log, b, &size, root)) < 0)
			goto bad;
		if (r == 0)
			continue;
		snprintf(path, sizeof(path), "%s/latest", db->name);
		if (add_target(env->st, t, path, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b), json_pack("{s:I}", "tree_size",
		    (json_int_t)size)) != 0 ||
		    add_bundles(env, db, t, old, size) != 0)
			goto bad;
	}
	evbuffer_free(b);
	return t;
 bad:
	log_warnx("TUF targets: %s", store_errmsg(env->st));
	if (b != NULL)
		evbuffer_free(b);
	json_decref(t);
	return NULL;
}

/* The meta entry of the stored role version v: length and sha256. */
static int
stored_meta(struct store *st, const char *role, int64_t v,
    struct tuf_meta *m)
{
	struct evbuffer	*b;
	int		 r;

	if ((b = evbuffer_new()) == NULL)
		return -1;
	if ((r = store_tuf_get(st, role, v, b, NULL)) == 1) {
		m->version = v;
		m->length = (int64_t)evbuffer_get_length(b);
		crypto_hash_sha256(m->sha256, evbuffer_pullup(b, -1),
		    evbuffer_get_length(b));
		m->has_sha256 = 1;
	}
	evbuffer_free(b);
	return r == 1 ? 0 : -1;
}

/* Whether md expires within seconds of now (or cannot say). */
static int
expiring(const json_t *md, time_t now, int64_t seconds)
{
	const char	*e;
	time_t		 exp;

	if ((e = json_string_value(json_object_get(json_object_get(md,
	    "signed"), "expires"))) == NULL || tuf_parse_time(e, &exp) != 0)
		return 1;
	return exp - now < seconds;
}

/*
 * Publish what changed: targets if their list differs (or half their
 * life is gone), snapshot if targets changed (or likewise), and always a
 * new timestamp.  One transaction.
 */
static int
publish(struct env *env)
{
	struct tufrepo	*tr = env->tuf;
	struct tuf_meta	 tm, sm;
	json_t		*targets = NULL, *oldt = NULL, *olds = NULL;
	json_t		*signed_ = NULL;
	time_t		 now = time(NULL);
	int64_t		 tv, sv, tsv;
	int		 newt, rv = -1;

	/* The writer node publishes; the others serve what it stored. */
	if (!env_writer(env))
		return 0;

	if (store_begin(env->st, 1) != 0)
		return -1;
	oldt = newest(env->st, "targets", &tv);
	if ((targets = build_targets(env, json_object_get(json_object_get(oldt,
	    "signed"), "targets"))) == NULL)
		goto done;
	olds = newest(env->st, "snapshot", &sv);
	json_decref(newest(env->st, "timestamp", &tsv));
	newt = oldt == NULL || !json_equal(targets, json_object_get(
	    json_object_get(oldt, "signed"), "targets")) ||
	    expiring(oldt, now, env->conf.tuf_targets_expiry / 2000);
	if (newt) {
		signed_ = json_pack("{s:s, s:s, s:I, s:o, s:O}", "_type",
		    "targets", "spec_version", TUF_SPEC_VERSION, "version",
		    (json_int_t)(tv + 1), "expires", expires(now,
		    env->conf.tuf_targets_expiry / 1000), "targets", targets);
		if (signed_ == NULL || publish_role(env->st, "targets",
		    tv + 1, signed_, &tr->key[0], 1, &tm) != 0)
			goto done;
		json_decref(signed_);
		signed_ = NULL;
	} else if (stored_meta(env->st, "targets", tv, &tm) != 0)
		goto done;
	if (newt || olds == NULL ||
	    expiring(olds, now, env->conf.tuf_snapshot_expiry / 2000)) {
		signed_ = json_pack("{s:s, s:s, s:I, s:o, s:{s:o}}", "_type",
		    "snapshot", "spec_version", TUF_SPEC_VERSION, "version",
		    (json_int_t)(sv + 1), "expires", expires(now,
		    env->conf.tuf_snapshot_expiry / 1000), "meta",
		    "targets.json", meta_json(&tm));
		if (signed_ == NULL || publish_role(env->st, "snapshot",
		    sv + 1, signed_, &tr->key[1], 1, &sm) != 0)
			goto done;
		json_decref(signed_);
		signed_ = NULL;
	} else if (stored_meta(env->st, "snapshot", sv, &sm) != 0)
		goto done;
	signed_ = json_pack("{s:s, s:s, s:I, s:o, s:{s:o}}", "_type",
	    "timestamp", "spec_version", TUF_SPEC_VERSION, "version",
	    (json_int_t)(tsv + 1), "expires", expires(now,
	    env->conf.tuf_timestamp_expiry / 1000), "meta", "snapshot.json",
	    meta_json(&sm));
	if (signed_ == NULL || publish_role(env->st, "timestamp", tsv + 1,
	    signed_, &tr->key[2], 1, NULL) != 0)
		goto done;
	if (store_commit(env->st) != 0)
		goto done;
	log_debug("TUF: timestamp %lld", (long long)(tsv + 1));
	rv = 0;
 done:
	if (rv != 0)
		store_rollback(env->st);
	json_decref(signed_);
	json_decref(targets);
	json_decref(oldt);
	json_decref(olds);
	return rv;
}

static void
resign_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;
	struct timeval	 tv;

	(void)fd;
	(void)ev;
	if (publish(env) != 0)
		log_warnx("TUF: publishing failed; retrying in a minute");
	tv.tv_sec = env->conf.tuf_resign / 1000;
	tv.tv_usec = (env->conf.tuf_resign % 1000) * 1000;
	evtimer_add(env->tuf->resign_ev, &tv);
}

static void
publish_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;

	(void)fd;
	(void)ev;
	if (publish(env) != 0)
		log_warnx("TUF: publishing failed");
}

/* db_changed hook: publish new targets a second after the change. */
static void
changed(struct env *env, struct db *db, void *arg)
{
	struct timeval	 tv = { 1, 0 };

	(void)db;
	(void)arg;
	if (env->tuf != NULL && env->tuf->publish_ev != NULL &&
	    !evtimer_pending(env->tuf->publish_ev, NULL))
		evtimer_add(env->tuf->publish_ev, &tv);
}

/* This node became the writer: publish what changed meanwhile. */
static void
became_writer(struct env *env)
{
	changed(env, NULL, NULL);
}

int
tufrepo_open(struct env *env)
{
	struct tufrepo	*tr;
	struct tuf_role	 role;
	json_t		*root;
	uint8_t		 seeds[3][32];
	char		 roles[3][16];
	int64_t		 v;
	int		 n, i, k;

	if (env->conf.tuf_keys == NULL)
		return 0;
	if ((root = newest(env->st, "root", &v)) == NULL) {
		log_warnx("TUF: no root in the store; run sumdbd tuf init");
		return -1;
	}
	if ((tr = calloc(1, sizeof(*tr))) == NULL)
		return -1;
	env->tuf = tr;
	n = read_seeds(env->conf.tuf_keys, roles, seeds, 3);
	for (i = 0; i < n; i++)
		for (k = 0; k < 3; k++)
			if (strcmp(roles[i], online_roles[k]) == 0)
				tr->key[k] = tuf_signer_new(seeds[i]);
	sodium_memzero(seeds, sizeof(seeds));
	for (k = 0; k < 3; k++) {
		if (tr->key[k] == NULL) {
			log_warnx("TUF keys '%s': no %s key", env->conf.tuf_keys,
			    online_roles[k]);
			goto bad;
		}
		if (tuf_root_role(json_object_get(root, "signed"),
		    online_roles[k], &role) != 0)
			goto bad;
		for (i = 0; i < (int)role.nkeys; i++)
			if (strcmp(role.keys[i].keyid,
			    tuf_signer_key(tr->key[k])->keyid) == 0)
				break;
		if (i == (int)role.nkeys) {
			log_warnx("TUF: root %lld does not list our %s key",
			    (long long)v, online_roles[k]);
			goto bad;
		}
	}
	json_decref(root);
	return 0;
 bad:
	json_decref(root);
	return -1;
}

void
tufrepo_start(struct env *env)
{
	if (env->tuf == NULL)
		return;
	if ((env->tuf->resign_ev = evtimer_new(env->base, resign_cb, env)) ==
	    NULL || (env->tuf->publish_ev = evtimer_new(env->base, publish_cb,
	    env)) == NULL || db_subscribe(env, changed, NULL) != 0 ||
	    env_on_writer(env, became_writer) != 0)
		fatalx("TUF: out of memory");
	resign_cb(-1, 0, env);
}

void
tufrepo_free(struct env *env)
{
	int	 k;

	if (env->tuf == NULL)
		return;
	for (k = 0; k < 3; k++)
		tuf_signer_free(env->tuf->key[k]);
	if (env->tuf->resign_ev != NULL)
		event_free(env->tuf->resign_ev);
	if (env->tuf->publish_ev != NULL)
		event_free(env->tuf->publish_ev);
	free(env->tuf);
	env->tuf = NULL;
}

/* Build and sign root version v; the keys' seeds are the callers'. */
static int
make_root(struct store *st, int64_t v, struct tuf_signer **rootk, int nroot,
    int threshold, struct tuf_signer **online, struct tuf_signer **signers,
    int nsigners)
{
	json_t	*keys, *roles, *ids, *signed_;
	int	 i, k, rv;

	keys = json_object();
	roles = json_object();
	ids = json_array();
	for (i = 0; i < nroot; i++) {
		json_object_set_new(keys, tuf_signer_key(rootk[i])->keyid,
		    tuf_key_json(tuf_signer_key(rootk[i])));
		json_array_append_new(ids,
		    json_string(tuf_signer_key(rootk[i])->keyid));
	}
	json_object_set_new(roles, "root", json_pack("{s:o, s:i}", "keyids",
	    ids, "threshold", threshold));
	for (k = 0; k < 3; k++) {
		json_object_set_new(keys, tuf_signer_key(online[k])->keyid,
		    tuf_key_json(tuf_signer_key(online[k])));
		json_object_set_new(roles, online_roles[k], json_pack(
		    "{s:[s], s:i}", "keyids", tuf_signer_key(online[k])->keyid,
		    "threshold", 1));
	}
	signed_ = json_pack("{s:s, s:s, s:I, s:o, s:b, s:o, s:o}", "_type",
	    "root", "spec_version", TUF_SPEC_VERSION, "version",
	    (json_int_t)v, "expires", expires(time(NULL), ROOT_EXPIRY),
	    "consistent_snapshot", 1, "keys", keys, "roles", roles);
	if (signed_ == NULL)
		return -1;
	rv = publish_role(st, "root", v, signed_, signers, nsigners, NULL);
	json_decref(signed_);
	return rv;
}

/* Load every root key seed file in dir. */
static int
load_root_keys(const char *dir, struct tuf_signer **k, int max)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[1100], roles[1][16];
	uint8_t		 seed[1][32];
	int		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warn("'%s'", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < max) {
		if (strncmp(e->d_name, "root-", 5) != 0 ||
		    strstr(e->d_name, ".key") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (read_seeds(path, roles, seed, 1) != 1 ||
		    (k[n] = tuf_signer_new(seed[0])) == NULL) {
			closedir(d);
			return -1;
		}
		n++;
	}
	sodium_memzero(seed, sizeof(seed));
	closedir(d);
	return n;
}

/* New root keys, written to dir as root-<keyid>.key. */
static int
new_root_keys(const char *dir, struct tuf_signer **k, int n)
{
	char	 path[1100];
	int	 i;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("'%s'", dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((k[i] = tuf_signer_new(NULL)) == NULL)
			return -1;
		snprintf(path, sizeof(path), "%s/root-%.16s.key", dir,
		    tuf_signer_key(k[i])->keyid);
		if (write_seeds(path, NULL, &k[i], 1) != 0)
			return -1;
	}
	return 0;
}

/* Free the signers of k[0..n-1]. */
static void
free_keys(struct tuf_signer **k, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		tuf_signer_free(k[i]);
}

int
tufrepo_init(struct env *env, const char *dir, int nkeys, int threshold)
{
	struct tuf_signer	*rootk[ROOT_KEYS_MAX] = { NULL };
	struct tuf_signer	*online[3] = { NULL };
	json_t			*root;
	int64_t			 v;
	int			 k, rv = -1;

	if ((root = newest(env->st, "root", &v)) != NULL) {
		fprintf(stderr, "sumdbd tuf init: root %lld exists; "
		    "use rotate\n", (long long)v);
		goto done;
	}
	for (k = 0; k < 3; k++)
		if ((online[k] = tuf_signer_new(NULL)) == NULL)
			goto done;
	if (new_root_keys(dir, rootk, nkeys) != 0 ||
	    write_seeds(env->conf.tuf_keys, online_roles, online, 3) != 0)
		goto done;
	if (make_root(env->st, 1, rootk, nkeys, threshold, online,
	    rootk, threshold) != 0) {
		unlink(env->conf.tuf_keys);
		goto done;
	}
	rv = 0;
 done:
	json_decref(root);
	free_keys(rootk, ROOT_KEYS_MAX);
	free_keys(online, 3);
	return rv;
}

/* The online keys from the [tuf] keys file into online[3]; 0 or -1. */
static int
load_online_keys(const char *path, struct tuf_signer **online)
{
	uint8_t		 seeds[3][32];
	char		 roles[3][16];
	int		 i, k;

	if (read_seeds(path, roles, seeds, 3) != 3)
		return -1;
	for (i = 0; i < 3; i++)
		for (k = 0; k < 3; k++)
			if (strcmp(roles[i], online_roles[k]) == 0)
				online[k] = tuf_signer_new(seeds[i]);
	sodium_memzero(seeds, sizeof(seeds));
	for (k = 0; k < 3; k++)
		if (online[k] == NULL)
			return -1;
	return 0;
}

int
tufrepo_rotate(struct env *env, const char *olddir, const char *newdir,
    int nkeys, int threshold, int64_t *newv)
{
	struct tuf_signer	*rootk[ROOT_KEYS_MAX] = { NULL };
	struct tuf_signer	*oldk[ROOT_KEYS_MAX] = { NULL };
	struct tuf_signer	*online[3] = { NULL }, *all[2 * ROOT_KEYS_MAX];
	struct tuf_role		 oldrole;
	json_t			*root;
	int64_t			 v;
	int			 i, k, nold, nall = 0, rv = -1;

	if ((root = newest(env->st, "root", &v)) == NULL) {
		fprintf(stderr, "sumdbd tuf rotate: no root; run tuf init\n");
		goto done;
	}
	if (tuf_root_role(json_object_get(root, "signed"), "root", &oldrole) !=
	    0 || (nold = load_root_keys(olddir, oldk, ROOT_KEYS_MAX)) < 0)
		goto done;
	for (i = 0; i < nold; i++)
		for (k = 0; k < (int)oldrole.nkeys; k++)
			if (strcmp(oldrole.keys[k].keyid,
			    tuf_signer_key(oldk[i])->keyid) == 0)
				all[nall++] = oldk[i];
	if (nall < oldrole.threshold) {
		fprintf(stderr, "sumdbd tuf rotate: '%s' holds %d of root "
		    "%lld's keys; it needs %lld\n", olddir, nall,
		    (long long)v, (long long)oldrole.threshold);
		goto done;
	}
	if (load_online_keys(env->conf.tuf_keys, online) != 0 ||
	    new_root_keys(newdir, rootk, nkeys) != 0)
		goto done;
	for (i = 0; i < threshold; i++)
		all[nall++] = rootk[i];
	if (store_begin(env->st, 1) != 0 ||
	    make_root(env->st, v + 1, rootk, nkeys, threshold, online, all,
	    nall) != 0 || store_commit(env->st) != 0) {
		store_rollback(env->st);
		goto done;
	}
	*newv = v + 1;
	rv = 0;
 done:
	json_decref(root);
	free_keys(rootk, ROOT_KEYS_MAX);
	free_keys(oldk, ROOT_KEYS_MAX);
	free_keys(online, 3);
	return rv;
}
