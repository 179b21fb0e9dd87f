/*
 * update.c: the TUF client workflow's checks over fetched metadata
 * (specification section 5.2 to 5.6): the pinned root, the root chain
 * (each N+1 signed by a threshold of N and of itself, versions without
 * gaps), then timestamp, snapshot and targets, each against the
 * trusted root and the trusted copies (thresholds, rollback, freeze,
 * mix-and-match, lengths and hashes).  Pure functions over bytes and
 * parsed metadata: the caller fetches, keeps the state and decides.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tuf.h"

/* The reason into err; returns code. */
static int
refuse(char *err, size_t errsize, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(char *err, size_t errsize, int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return code;
}

json_t *
tuf_signed(const json_t *md)
{
	return json_object_get(md, "signed");
}

int64_t
tuf_version(const json_t *md)
{
	return json_integer_value(json_object_get(tuf_signed(md), "version"));
}

/* Verify md as role under root, with the common checks. */
static int
check_role(const json_t *root, const json_t *md, const char *role,
    time_t now, int64_t *v, const char *what, char *err, size_t errsize)
{
	struct tuf_role	 r;
	int		 e;

	if (md == NULL)
		return refuse(err, errsize, TUF_EFORMAT, "%s: malformed "
		    "metadata", what);
	if (tuf_root_role(tuf_signed(root), role, &r) != 0)
		return refuse(err, errsize, TUF_EFORMAT, "the root has no %s "
		    "role", role);
	if ((e = tuf_verify(md, &r)) != 0)
		return refuse(err, errsize, e, "%s: %s", what, tuf_strerror(e));
	if ((e = tuf_check(md, role, now, v)) != 0)
		return refuse(err, errsize, e, "%s: %s", what, tuf_strerror(e));
	return 0;
}

int
tuf_update_pinned(const uint8_t *p, size_t len, json_t **root, char *err,
    size_t errsize)
{
	struct tuf_role	 r;
	int		 e = TUF_EFORMAT;

	if ((*root = tuf_parse(p, len)) == NULL ||
	    tuf_root_role(tuf_signed(*root), "root", &r) != 0 ||
	    (e = tuf_verify(*root, &r)) != 0) {
		json_decref(*root);
		*root = NULL;
		return refuse(err, errsize, e, "the pinned root does not "
		    "verify itself");
	}
	return 0;
}

int
tuf_update_root(const json_t *root, const uint8_t *p, size_t len,
    const char *name, time_t now, json_t **next, char *err, size_t errsize)
{
	struct tuf_role	 oldr, newr;
	int64_t		 v = tuf_version(root), nv = 0;
	int		 e, rv;

	*next = tuf_parse(p, len);
	if (*next == NULL || tuf_root_role(tuf_signed(root), "root",
	    &oldr) != 0 || tuf_root_role(tuf_signed(*next), "root",
	    &newr) != 0) {
		rv = refuse(err, errsize, TUF_EFORMAT, "root %lld: malformed",
		    (long long)(v + 1));
		goto fail;
	}
	if ((e = tuf_verify(*next, &oldr)) != 0 ||
	    (e = tuf_verify(*next, &newr)) != 0) {
		rv = refuse(err, errsize, e, "root %lld: not signed by a "
		    "threshold of root %lld and of itself: %s",
		    (long long)(v + 1), (long long)v, tuf_strerror(e));
		goto fail;
	}
	e = tuf_check(*next, "root", now, &nv);
	if ((e != 0 && e != TUF_EEXPIRED) || nv != v + 1) {
		rv = refuse(err, errsize, e != 0 ? e : TUF_EVERSION,
		    "root chain: '%s' is version %lld, not %lld", name,
		    (long long)nv, (long long)(v + 1));
		goto fail;
	}
	return 0;
 fail:
	json_decref(*next);
	*next = NULL;
	return rv;
}

int
tuf_update_root_check(const json_t *root, time_t now, char *err,
    size_t errsize)
{
	int64_t	 v;
	int	 e;

	if ((e = tuf_check(root, "root", now, &v)) != 0)
		return refuse(err, errsize, e, "root %lld: %s",
		    (long long)tuf_version(root), tuf_strerror(e));
	return 0;
}

/* The checks of timestamp ts against the trusted one, ots. */
static int
timestamp_rollback(const json_t *root, const json_t *ts, const json_t *ots,
    int64_t v, char *err, size_t errsize)
{
	struct tuf_meta	 m, om;
	char		 ignored[8];
	int64_t		 nv;

	/* A trusted timestamp that no longer verifies is no reference. */
	if (ots == NULL || check_role(root, ots, "timestamp", 0, &nv,
	    "trusted timestamp", ignored, sizeof(ignored)) != 0)
		return 0;
	if (v < nv)
		return refuse(err, errsize, TUF_EVERSION, "timestamp rollback: "
		    "version %lld, we trust %lld", (long long)v, (long long)nv);
	memset(&m, 0, sizeof(m));
	memset(&om, 0, sizeof(om));
	if (tuf_meta_get(ts, "snapshot.json", &m) != 0 ||
	    tuf_meta_get(ots, "snapshot.json", &om) != 0 ||
	    m.version < om.version)
		return refuse(err, errsize, TUF_EVERSION, "snapshot rollback "
		    "in the timestamp: version %lld, we trust %lld",
		    (long long)m.version, (long long)om.version);
	return 0;
}

int
tuf_update_timestamp(const json_t *root, const json_t *trusted,
    const uint8_t *p, size_t len, time_t now, json_t **ts,
    struct tuf_meta *snapshot, char *err, size_t errsize)
{
	int64_t	 v;
	int	 rv;

	*ts = tuf_parse(p, len);
	if ((rv = check_role(root, *ts, "timestamp", now, &v, "timestamp",
	    err, errsize)) != 0 ||
	    (rv = timestamp_rollback(root, *ts, trusted, v, err,
	    errsize)) != 0)
		goto fail;
	if (tuf_meta_get(*ts, "snapshot.json", snapshot) != 0) {
		rv = refuse(err, errsize, TUF_EFORMAT, "timestamp: no "
		    "snapshot.json");
		goto fail;
	}
	return 0;
 fail:
	json_decref(*ts);
	*ts = NULL;
	return rv;
}

/*
 * The metadata of role that lister (the role listing it) says is m:
 * its length and hash, then signed under root, not expired, and
 * version m->version.  *md as the checks of tuf.h.
 */
static int
listed_role(const json_t *root, const char *role, const char *lister,
    const struct tuf_meta *m, const uint8_t *p, size_t len, time_t now,
    json_t **md, char *err, size_t errsize)
{
	int64_t	 v;
	int	 rv;

	*md = NULL;
	if (tuf_meta_match(m, p, len) != 0)
		return refuse(err, errsize, TUF_EHASH, "%s %lld: length or "
		    "hash differs from the %s's (mix-and-match)", role,
		    (long long)m->version, lister);
	*md = tuf_parse(p, len);
	if ((rv = check_role(root, *md, role, now, &v, role, err,
	    errsize)) != 0)
		goto fail;
	if (v != m->version) {
		rv = refuse(err, errsize, TUF_EVERSION, "%s: version %lld, "
		    "the %s says %lld", role, (long long)v, lister,
		    (long long)m->version);
		goto fail;
	}
	return 0;
 fail:
	json_decref(*md);
	*md = NULL;
	return rv;
}

int
tuf_update_snapshot(const json_t *root, const json_t *trusted,
    const struct tuf_meta *m, const uint8_t *p, size_t len, time_t now,
    json_t **snap, struct tuf_meta *targets, char *err, size_t errsize)
{
	struct tuf_meta	 nm, om;
	const char	*key;
	json_t		*e;
	int		 rv;

	if ((rv = listed_role(root, "snapshot", "timestamp", m, p, len, now,
	    snap, err, errsize)) != 0)
		return rv;
	json_object_foreach(json_object_get(tuf_signed(trusted), "meta"),
	    key, e) {
		if (tuf_meta_get(*snap, key, &nm) != 0 ||
		    tuf_meta_get(trusted, key, &om) != 0 ||
		    nm.version < om.version) {
			rv = refuse(err, errsize, TUF_EVERSION, "snapshot "
			    "rollback of '%s'", key);
			goto fail;
		}
	}
	if (tuf_meta_get(*snap, "targets.json", targets) != 0) {
		rv = refuse(err, errsize, TUF_EFORMAT, "snapshot: no "
		    "targets.json");
		goto fail;
	}
	return 0;
 fail:
	json_decref(*snap);
	*snap = NULL;
	return rv;
}

int
tuf_update_targets(const json_t *root, const struct tuf_meta *m,
    const uint8_t *p, size_t len, time_t now, json_t **targets, char *err,
    size_t errsize)
{
	return listed_role(root, "targets", "snapshot", m, p, len, now,
	    targets, err, errsize);
}
