/*
 * evidence.c: what a mirror keeps when it refuses an upstream's answer:
 * the refusal counted by kind, the evidence (both notes, the proof or
 * fork material, the reason) stored outside any open transaction, and,
 * after a fork, the frozen state that keeps it serving its last good
 * tree until sumdbd unfreeze.
 */

#include <event2/buffer.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "job.h"
#include "store.h"

/*
 * Keep the evidence of a refusal of what source sent db, outside any
 * open transaction: counted, logged, and stored unless max_evidence of
 * its kind are kept already.
 */
static void
db_evidence(struct db *db, enum refusal kind, const char *source,
    const char *old, size_t oldlen, const char *new, size_t newlen,
    const uint8_t *material, size_t matlen, const char *detail)
{
	struct env	*env = db->env;
	int64_t		 kept;

	store_rollback(env->st);
	__atomic_add_fetch(&db->refusals[kind], 1, __ATOMIC_RELAXED);
	log_warnx("mirror '%s': refused from '%s': %s", db->name, source,
	    detail);
	if (old != NULL)
		log_warnx("mirror '%s': our note:\n%.*s", db->name,
		    (int)oldlen, old);
	if (new != NULL)
		log_warnx("mirror '%s': their note:\n%.*s", db->name,
		    (int)newlen, new);
	/*
	 * An upstream that misbehaves on every lookup would fill the
	 * store: keep the first max_evidence of each kind, count the rest.
	 */
	if (store_count_evidence(env->st, db->log, refusal_name(kind),
	    &kept) != 0) {
		log_warnx("mirror '%s': counting evidence: %s", db->name,
		    store_errmsg(env->st));
		return;
	}
	if (kept >= db->mc->max_evidence) {
		log_warnx("mirror '%s': %lld pieces of %s evidence kept already "
		    "(max_evidence): not this one", db->name, (long long)kept,
		    refusal_name(kind));
		return;
	}
	if (store_add_evidence(env->st, db->log, refusal_name(kind), source,
	    detail, (const uint8_t *)old, oldlen, (const uint8_t *)new,
	    newlen, material, matlen) != 0)
		log_warnx("mirror '%s': storing evidence: %s", db->name,
		    store_errmsg(env->st));
}

void
job_evidence(struct mjob *j, enum refusal kind, const char *old, size_t oldlen,
    const char *new, size_t newlen, const uint8_t *material, size_t matlen,
    const char *fmt, ...)
{
	char		 detail[1024];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(j->err, sizeof(j->err), "refused: %s", detail);
	db_evidence(j->db, kind, j->source[0] ? j->source : "upstream", old,
	    oldlen, new, newlen, material, matlen, detail);
}

/* Freeze db: it keeps serving its last good tree until unfrozen. */
static void
db_freeze(struct db *db, const char *why)
{
	snprintf(db->frozen_why, sizeof(db->frozen_why), "%s", why);
	if (store_set_frozen(db->env->st, db->log, why) != 0)
		log_warnx("mirror '%s': %s", db->name,
		    store_errmsg(db->env->st));
	__atomic_store_n(&db->frozen, 1, __ATOMIC_RELEASE);
	log_warnx("mirror '%s' frozen: %s; it keeps serving tree %lld; "
	    "'sumdbd unfreeze %s' resumes it", db->name, why,
	    (long long)db->size, db->name);
}

void
job_freeze(struct mjob *j, const char *why)
{
	db_freeze(j->db, why);
}

void
mirror_split(struct db *db, const char *peer, const uint8_t *ours,
    size_t ourslen, const uint8_t *theirs, size_t theirslen,
    const uint8_t *material, size_t matlen, const char *why)
{
	log_warnx("mirror '%s': SPLIT VIEW seen by witness '%s': %s", db->name,
	    peer, why);
	db_evidence(db, R_SPLIT, peer, (const char *)ours, ourslen,
	    (const char *)theirs, theirslen, material, matlen, why);
	if (!__atomic_load_n(&db->frozen, __ATOMIC_ACQUIRE))
		db_freeze(db, "split view: a witness holds another tree of "
		    "this log");
}

/* What tile_read_hashes() code r means for the job. */
int
job_verdict(struct mjob *j, int r)
{
	if (r == SUMDB_EREAD && j->tiles.nmissing > 0)
		return V_MISSING;
	if (r == SUMDB_EPROOF)
		return V_REFUSED;
	return r == 0 && !j->tiles.storeerr ? V_OK : V_ERROR;
}
