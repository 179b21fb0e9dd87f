/*
 * privlog.h: the private log's writer, daemon/privlog/ (main thread):
 * lookup misses fetched from the GOPROXY and hashed (modfetch.c),
 * collected in a batch, appended and signed (writer.c).
 */

#ifndef PRIVLOG_H
#define PRIVLOG_H

#include "sumdbd.h"

/* writer.c: appending to the private log and signing it */
struct newrec {
	char		 path[1024];
	char		 version[1024];
	char		 ziphash[48];
	char		 modhash[48];
	/*
	 * A public record: the mirror's verified text, appended byte for
	 * byte (textlen 0: formatted from the hashes), and where it came
	 * from (up_log 0: nowhere, a hashed record).
	 */
	char		 text[4400];
	size_t		 textlen;
	int64_t		 up_log;	/* the mirror's store log */
	int64_t		 up_id;		/* its record id there */
	int64_t		 up_tree;	/* the trust base it is in */
	int64_t		 id;		/* out: its id */
	int		 status;	/* out: 0 added or present, -1 refused */
	char		 reason[2400];	/* out: why it was refused */
};
/*
 * Append the records r[0..n-1] to db in one transaction, each with its
 * provenance if it has one (each r gets its id, or status -1 and the
 * reason when refused: another hash for the same module version), then
 * sign the new tree.  0, or -1 when nothing could be stored.
 */
int	logw_append(struct env *env, struct db *db, struct newrec *r,
	    size_t n);
/*
 * Sign db's records not yet covered by a checkpoint, after checking that
 * the new tree extends the last signed one; a tree that does not marks
 * db broken.  0, or -1.
 */
int	logw_sign(struct env *env, struct db *db);
/*
 * env_open_log() for writing: also sign what a crash left unsigned.
 * 0, or -1.
 */
int	logw_open(struct env *env);
/* A witnessed log: note when a checkpoint already waits (start-up). */
void	logw_held(struct env *env, struct db *db);

/* modfetch.c: a module version's h1: hashes from a GOPROXY */
typedef void (*modfetch_cb)(int status, const char *ziphash,
    const char *modhash, const char *err, void *arg);
/*
 * Fetch path@version's go.mod and zip from goproxy (the zip into an
 * unlinked file in the directory of [server] database) and hash both
 * in a thread of their own.  cb runs once, from the loop (or before
 * this returns, if nothing could be fetched), with 200 and both h1:
 * hashes, or 404 (not in the GOPROXY), 502 (a failed fetch, a bad or
 * oversized module) or 500, and a one-line err; all valid during the
 * call only.  Returns 0, or -1 (cb never runs) if it could not start.
 */
int	modfetch(struct env *env, const char *goproxy, const char *path,
	    const char *version, modfetch_cb cb, void *arg);
/* Hashes running now (any thread may ask). */
int64_t	modfetch_hashing(void);
/*
 * Main thread, at exit: wait for the hashes in flight and drop them;
 * their callbacks never run.
 */
void	modfetch_stop(void);

/* batch.c: lookup misses of the private log */
/*
 * Main thread, at start-up: env->log's db->ops (its misses are fetched,
 * batched and signed), its batch timer and its /metrics; 0 or -1.
 */
int	privlog_init(struct env *env);
/* At exit, after the workers stopped: drop fetches and batches. */
void	privlog_free(struct env *env);

#endif /* PRIVLOG_H */
