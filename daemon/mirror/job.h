/*
 * job.h: what the files of daemon/mirror/ share, and nothing outside
 * includes: a mirror's jobs (a sync of /latest, a lookup, a tile, a
 * segment of the full log), their upstream GETs, and the calls between
 * sync.c, job.c, verify.c, full.c and evidence.c.  Main thread.
 */

#ifndef MIRROR_JOB_H
#define MIRROR_JOB_H

#include "mirror.h"

/* What a verification step returns. */
#define V_OK		0
#define V_MISSING	1	/* tiles to fetch, then run again */
#define V_REFUSED	-1	/* upstream misbehaved; evidence kept */
#define V_ERROR		-2	/* our own failure */
#define V_UPSTREAM	-3	/* the upstream could not be read */
#define V_NOTFOUND	-4	/* the upstream does not have it */
#define V_FORK		-5	/* contained(): not contained */
#define MAX_ROUNDS	4
#define LOOKUP_MAX	(64 << 10)
#define FULL_SEGMENT	256	/* data tiles verified and stored at once */
#define FULL_AHEAD	2	/* segments verified, not yet stored */

enum mkind { J_SYNC, J_LOOKUP, J_TILE, J_FULL };

struct mjob {
	TAILQ_ENTRY(mjob)	 entry;
	struct env		*env;
	struct db		*db;
	enum mkind		 kind;
	char			 key[2200];	/* what it is about */
	struct misslist		 waiters;
	char			 path[1024];	/* lookup: module path */
	char			 version[1024];
	struct tile		 want;		/* tile job */
	struct evbuffer		*answer;	/* lookup or /latest body */
	char			 source[4096];	/* URL it came from */
	struct tiles		 tiles;		/* fetched over stored */
	int			 outstanding;
	int			 rounds;
	int			 failed;
	struct tile		*fetchq;	/* tiles being fetched */
	size_t			 nfetchq, fetchnext;
	int			 admitted;	/* counted in db->nrunning */
	int			 queued;	/* on db->jobs, not started */
	char			 err[8192];
};

/* One upstream GET, with fallback to the next URL on failure. */
struct uget {
	struct mjob	*j;
	char		 path[256 + 2100];
	int		 urlidx;
	size_t		 maxlen;
	struct tile	 t;		/* a tile fetch */
	int		 full;		/* fetching the full tile for a .p/W */
	void		(*done)(struct uget *, int, struct evbuffer *);
};

/* evidence.c: refusals kept as evidence, freezing */
/* Keep the evidence of a refusal, outside any open transaction. */
void	job_evidence(struct mjob *j, enum refusal kind, const char *old,
	    size_t oldlen, const char *new, size_t newlen,
	    const uint8_t *material, size_t matlen, const char *fmt, ...)
	    __attribute__((format(printf, 9, 10)));
/*
 * Freeze j's mirror after a fork: why is kept in the store and logged;
 * it keeps serving its trust base until sumdbd unfreeze.
 */
void	job_freeze(struct mjob *j, const char *why);
/* db->ops->split: a witness holds another tree: evidence, freeze. */
void	mirror_split(struct db *db, const char *peer, const uint8_t *ours,
	    size_t ourslen, const uint8_t *theirs, size_t theirslen,
	    const uint8_t *material, size_t matlen, const char *why);
/* What tile_read_hashes() code r means for the job. */
int	job_verdict(struct mjob *j, int r);

/* verify.c: checkpoints, lookups and tiles */
/* job_hashes() of a signed tree: tiles that do not match it are evidence. */
int	job_signed_hashes(struct mjob *j, const struct tlog_tree *tree,
	    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE]);
/*
 * A sync job: verify the upstream's /latest in j->answer against the
 * trust base and advance it.  A V_* code.
 */
int	verify_sync(struct mjob *j);
/*
 * A lookup job: verify the upstream's lookup answer in j->answer (its
 * record included in its signed tree, through tiles) and store the
 * record.  A V_* code.
 */
int	verify_lookup(struct mjob *j);
/* Record tile t as one j must fetch: V_MISSING, or V_ERROR. */
int	job_need_tile(struct mjob *j, const struct tile *t);
/*
 * A tile job: authenticate the fetched tile j->want against the trust
 * base and store it (data tiles with their records).  A V_* code.
 */
int	verify_tile(struct mjob *j);

/* full.c: the whole log, a segment at a time */
/*
 * Full mode: a segment of data tiles from record db->full_next, each
 * verified against its subtree hash authenticated by the newest trust
 * base (or, for the last partial tile, against its authenticated
 * leaves), then stored with its level-0 hash tile in one transaction.
 */
int	verify_full(struct mjob *j);
/* Full mode: the next segment, unless one runs or all is stored. */
void	full_start(struct db *db);
/*
 * Full mode, nothing in flight: go on from the progress stored (after
 * a failure, or on a node that became the writer).
 */
void	full_reset(struct db *db);
/* Full mode: the segment in flight ended with r; schedule the next. */
void	full_done(struct db *db, int r);

/* job.c: jobs and their upstream GETs */
/* Run j's verification; fetch what it lacks and run again, or finish. */
void	job_run(struct mjob *j);
/* End j with V_* code r: answer its waiters, free it, start the next. */
void	job_finish(struct mjob *j, int r);
/* A new job of kind on db, not started; NULL when out of memory. */
struct mjob *job_new(struct env *env, struct db *db, enum mkind kind);
/*
 * Fetch path (at most maxlen bytes) from db's upstream URLs in turn
 * into j->answer, then run j.
 */
void	job_get(struct mjob *j, const char *path, size_t maxlen);
/*
 * A client's job on the jobs list: start it if fewer than max_fetches
 * run, else it waits there (still found by mirror_miss) for job_finish.
 */
void	job_admit(struct mjob *j);

/* sync.c: polling the upstream */
/*
 * After a sync: poll again after the poll interval, or sooner after a
 * failure (1 s, doubling); start the lookups that waited for a first
 * trust base.
 */
void	sync_done(struct env *env, struct db *db, int r);

#endif /* MIRROR_JOB_H */
