/*
 * pending.h: what batch.c and public.c share, and nothing outside
 * daemon/privlog/ includes: a module version the private log is
 * resolving for its waiting lookups.  Main thread.
 */

#ifndef PRIVLOG_PENDING_H
#define PRIVLOG_PENDING_H

#include "privlog.h"

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	struct env		*env;
	struct db		*db;
	struct newrec		 rec;
	struct misslist		 waiters;
	char			 client[64];	/* who started the fetch */
	struct db		*mirror;	/* public: the mirror asked */
};

/*
 * batch.c: p (on db->fetching) is resolved: with 200, p->rec is
 * queued for the next batch; else every waiter is answered with status
 * and the one-line err (with Retry-After: retry_after s if > 0) and p
 * is freed.
 */
void	pending_done(struct pending *p, int status, const char *err,
	    int retry_after);

/* public.c: public module versions, from a mirror's verified records */
/*
 * Resolve p, whose path is public with [log] public = NAME (mirror):
 * the mirror's verified record of p's module version, from its store
 * or its upstream, checked against the GOPROXY's hashes with
 * verify_goproxy; ends in pending_done(), perhaps before this returns.
 */
void	public_start(struct pending *p, struct db *mirror);
/* Count a lookup refused because [log] public = none. */
void	public_refused_none(void);
/* Register public admissions' /metrics; 0 or -1. */
int	public_init(struct env *env);

#endif /* PRIVLOG_PENDING_H */
