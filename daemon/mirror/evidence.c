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

/* Keep the evidence of a refusal, outside any open transaction. */
void
job_evidence(struct mjob *j, enum refusal kind, const char *old, size_t oldlen,
    const char *new, size_t newlen, const uint8_t *material, size_t matlen,
    const char *fmt, ...)
{
	struct env	*env = j->env;
	struct db	*db = j->db;
	char		 detail[1024];
	int64_t		 kept;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	store_rollback(env->st);
	__atomic_add_fetch(&db->refusals[kind], 1, __ATOMIC_RELAXED);
	snprintf(j->err, sizeof(j->err), "refused: %s", detail);
	log_warnx("mirror '%s': refused from '%s': %s", db->name,
	    j->source[0] ? j->source : "upstream", detail);
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
	if (store_add_evidence(env->st, db->log, refusal_name(kind),
	    j->source[0] ? j->source : "upstream", detail,
	    (const uint8_t *)old, oldlen, (const uint8_t *)new, newlen,
	    material, matlen) != 0)
		log_warnx("mirror '%s': storing evidence: %s", db->name,
		    store_errmsg(env->st));
}

void
job_freeze(struct mjob *j, const char *why)
{
	struct db	*db = j->db;

	snprintf(db->frozen_why, sizeof(db->frozen_why), "%s", why);
	if (store_set_frozen(j->env->st, db->log, why) != 0)
		log_warnx("mirror '%s': %s", db->name,
		    store_errmsg(j->env->st));
	__atomic_store_n(&db->frozen, 1, __ATOMIC_RELEASE);
	log_warnx("mirror '%s' frozen: %s; it keeps serving tree %lld; "
	    "'sumdbd unfreeze %s' resumes it", db->name, why,
	    (long long)db->size, db->name);
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
