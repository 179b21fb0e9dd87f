/*
 * public.c: public module versions in the private log, admitted only as
 * a mirror's verified records ([log] public = NAME).  A lookup miss of
 * a path outside [log] private asks that mirror for its record of
 * exactly that module version: from its store if it holds it (a full
 * mirror, an offline one fed by bundles, or one asked before), else
 * through its own db->ops->miss, which verifies the upstream's answer
 * (signature, consistency with its trust base, inclusion through
 * authenticated tiles) before it stores and answers.  The record's text
 * then goes to the batch byte for byte, with its provenance (writer.c
 * stores both in one transaction).  With verify_goproxy the GOPROXY's
 * hashes are compared with it first: a difference is kept as evidence,
 * and the upstream's record is admitted all the same.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pending.h"
#include "store.h"
#include "sumdb.h"

#define RETRY_AFTER	5	/* s, after an unreachable upstream */

/* Public lookups not admitted, by reason, for /metrics. */
enum { PR_NOT_FOUND, PR_UNAVAILABLE, PR_NONE, PR_N };
static const char *const prname[PR_N] = {
	"not_found", "unavailable", "none"
};
static uint64_t	 prefused[PR_N];	/* atomic */
static uint64_t	 admitted;		/* atomic: verified, to the batch */
static uint64_t	 mismatches;		/* atomic: verify_goproxy */

void
public_refused_none(void)
{
	__atomic_add_fetch(&prefused[PR_NONE], 1, __ATOMIC_RELAXED);
}

/* Refuse p: the mirror does not have it (k PR_NOT_FOUND), or cannot say. */
static void
refuse(struct pending *p, int k, const char *why)
{
	struct db	*mirror = p->mirror;
	char		 err[2600];
	int		 frozen;

	__atomic_add_fetch(&prefused[k], 1, __ATOMIC_RELAXED);
	frozen = __atomic_load_n(&mirror->frozen, __ATOMIC_ACQUIRE);
	if (k == PR_NOT_FOUND)
		snprintf(err, sizeof(err), "not found: %s@%s is not in %s: if "
		    "this module is yours, add its path to [log] private",
		    p->rec.path, p->rec.version, mirror->name);
	else
		snprintf(err, sizeof(err), "public module versions are not "
		    "admitted now: mirror '%s': %s", mirror->name, why);
	log_info("%s@%s: %s", p->rec.path, p->rec.version, err);
	pending_done(p, k == PR_NOT_FOUND ? 404 : 503, err,
	    k == PR_UNAVAILABLE && !frozen ? RETRY_AFTER : 0);
}

static void
admit(struct pending *p)
{
	__atomic_add_fetch(&admitted, 1, __ATOMIC_RELAXED);
	pending_done(p, 200, NULL, 0);
}

/* Keep the evidence of a GOPROXY that serves other content. */
static void
mismatch(struct pending *p, const char *ziphash, const char *modhash,
    const struct record *up, int zipdiff, int moddiff)
{
	struct env	*env = p->env;
	struct evbuffer	*gp;
	char		 detail[3000];

	__atomic_add_fetch(&mismatches, 1, __ATOMIC_RELAXED);
	snprintf(detail, sizeof(detail), "%s@%s: the GOPROXY's %s differs "
	    "from %s's: zip %s (%s: %.*s), go.mod %s (%s: %.*s)",
	    p->rec.path, p->rec.version, zipdiff && moddiff ?
	    "zip and go.mod hashes" : zipdiff ? "zip hash" : "go.mod hash",
	    p->mirror->name, ziphash, p->mirror->name, (int)up->ziphashlen,
	    up->ziphash, modhash, p->mirror->name, (int)up->modhashlen,
	    up->modhash);
	log_warnx("verify_goproxy: %s; admitted %s's record; GOPROXY %s",
	    detail, p->mirror->name, env->conf.log_goproxy);
	if ((gp = evbuffer_new()) == NULL ||
	    record_format(p->rec.path, p->rec.version, ziphash, modhash,
	    gp) != 0 ||
	    store_add_evidence(env->st, p->db->log, "goproxy",
	    env->conf.log_goproxy, detail, evbuffer_pullup(gp, -1),
	    evbuffer_get_length(gp), (const uint8_t *)p->rec.text,
	    p->rec.textlen, NULL, 0) != 0)
		log_warnx("verify_goproxy: keeping the evidence: %s",
		    store_errmsg(env->st));
	if (gp != NULL)
		evbuffer_free(gp);
}

/* modfetch()'s callback with verify_goproxy: compare, then admit. */
static void
compared(int status, const char *ziphash, const char *modhash,
    const char *err, void *arg)
{
	struct pending	*p = arg;
	struct record	 up;
	int		 zipdiff, moddiff;

	if (status != 200)
		log_warnx("verify_goproxy: %s@%s: the GOPROXY cannot serve it "
		    "(%s); admitted %s's record", p->rec.path, p->rec.version,
		    err, p->mirror->name);
	else if (record_parse((const uint8_t *)p->rec.text, p->rec.textlen,
	    &up) == 0) {
		zipdiff = up.ziphashlen != strlen(ziphash) ||
		    memcmp(up.ziphash, ziphash, up.ziphashlen) != 0;
		moddiff = up.modhashlen != strlen(modhash) ||
		    memcmp(up.modhash, modhash, up.modhashlen) != 0;
		if (zipdiff || moddiff)
			mismatch(p, ziphash, modhash, &up, zipdiff, moddiff);
	}
	admit(p);
}

/*
 * Record id of p's mirror is p's: take its text and the trust base
 * that holds it, then compare (verify_goproxy) or admit.
 */
static void
take(struct pending *p, int64_t id)
{
	struct env	*env = p->env;
	struct db	*mirror = p->mirror;
	struct evbuffer	*b;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int64_t		 size = 0;
	size_t		 len = 0;

	if ((b = evbuffer_new()) == NULL ||
	    store_record(env->st, mirror->log, id, b) != 1 ||
	    store_latest(env->st, mirror->log, NULL, &size, root) != 1 ||
	    id >= size || (len = evbuffer_get_length(b)) == 0 ||
	    len > sizeof(p->rec.text)) {
		log_warnx("%s@%s: mirror '%s' record %lld (tree %lld, %zu "
		    "bytes): %s", p->rec.path, p->rec.version, mirror->name,
		    (long long)id, (long long)size, len,
		    store_errmsg(env->st));
		if (b != NULL)
			evbuffer_free(b);
		pending_done(p, 500, "internal error", 0);
		return;
	}
	memcpy(p->rec.text, evbuffer_pullup(b, -1), len);
	p->rec.textlen = len;
	p->rec.up_log = mirror->log;
	p->rec.up_id = id;
	p->rec.up_tree = size;
	evbuffer_free(b);
	if (env->conf.log_verify_goproxy && env->conf.log_goproxy != NULL) {
		if (modfetch(env, env->conf.log_goproxy, p->rec.path,
		    p->rec.version, compared, p) == 0)
			return;
		log_warnx("verify_goproxy: %s@%s: cannot fetch it",
		    p->rec.path, p->rec.version);
	}
	admit(p);
}

/* The mirror's answer to the lookup public_start() asked. */
static void
asked(struct missreq *m)
{
	struct pending	*p = m->arg;
	int		 status = m->status;
	int64_t		 id = m->id;
	char		 err[sizeof(m->err)];

	snprintf(err, sizeof(err), "%s", m->err);
	free(m);
	if (status == 200)
		take(p, id);
	else
		refuse(p, status == 404 ? PR_NOT_FOUND : PR_UNAVAILABLE, err);
}

void
public_start(struct pending *p, struct db *mirror)
{
	struct env	*env = p->env;
	struct missreq	*m;
	int64_t		 id;
	int		 r;

	p->mirror = mirror;
	if (__atomic_load_n(&mirror->frozen, __ATOMIC_ACQUIRE)) {
		refuse(p, PR_UNAVAILABLE, "frozen after a refused checkpoint "
		    "(see sumdbd unfreeze)");
		return;
	}
	if ((r = store_lookup(env->st, mirror->log, p->rec.path,
	    p->rec.version, &id, NULL)) < 0) {
		log_warnx("lookup: %s", store_errmsg(env->st));
		pending_done(p, 500, "internal error", 0);
		return;
	}
	if (r == 1) {
		take(p, id);
		return;
	}
	if (mirror->mc->offline) {
		refuse(p, PR_NOT_FOUND, NULL);
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		pending_done(p, 500, "out of memory", 0);
		return;
	}
	m->done = asked;
	m->arg = p;
	m->db = mirror;
	m->kind = MISS_LOOKUP;
	snprintf(m->path, sizeof(m->path), "%s", p->rec.path);
	snprintf(m->version, sizeof(m->version), "%s", p->rec.version);
	snprintf(m->peer, sizeof(m->peer), "%s", p->client);
	mirror->ops->miss(mirror, m);
}

/* Any thread: admissions and refusals, for /metrics. */
static void
metrics(struct env *env, struct evbuffer *out)
{
	int	 k;

	(void)env;
	evbuffer_add_printf(out, "# HELP sumdbd_log_public_admitted_total "
	    "Public module versions verified by the [log] public mirror and "
	    "queued for the private log.\n"
	    "# TYPE sumdbd_log_public_admitted_total counter\n"
	    "sumdbd_log_public_admitted_total %llu\n"
	    "# HELP sumdbd_log_goproxy_mismatches_total Public module "
	    "versions whose GOPROXY hashes differ from the mirror's "
	    "(verify_goproxy).\n"
	    "# TYPE sumdbd_log_goproxy_mismatches_total counter\n"
	    "sumdbd_log_goproxy_mismatches_total %llu\n"
	    "# HELP sumdbd_log_public_refused_total Public module versions "
	    "the private log did not admit, by reason.\n"
	    "# TYPE sumdbd_log_public_refused_total counter\n",
	    (unsigned long long)__atomic_load_n(&admitted, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&mismatches,
	    __ATOMIC_RELAXED));
	for (k = 0; k < PR_N; k++)
		evbuffer_add_printf(out, "sumdbd_log_public_refused_total"
		    "{reason=\"%s\"} %llu\n", prname[k], (unsigned long long)
		    __atomic_load_n(&prefused[k], __ATOMIC_RELAXED));
}

int
public_init(struct env *env)
{
	return env_metrics_add(env, metrics);
}
