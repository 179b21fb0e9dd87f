/*
 * sync.c: verifying mirrors of other checksum databases.  Nothing
 * from an upstream is stored or served before it is verified: the note
 * signature under the configured key, the consistency of every new
 * checkpoint with the newest trust base (stored with its proof in the
 * same transaction), every tile against the signed root, every
 * record's inclusion, and that no other hash is stored for the same
 * module@version.  A refusal keeps the evidence; a fork also freezes the
 * mirror until `sumdbd unfreeze`.
 *
 * Verification is synchronous code over a tile reader that knows only
 * what is stored or already fetched; when it lacks tiles it says which,
 * the job fetches them (from each upstream URL in turn) and runs again.
 * Everything here runs in the main thread.
 */

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mirror.h"
#include "store.h"

#define V_OK		0
#define V_MISSING	1	/* tiles to fetch, then run again */
#define V_REFUSED	-1	/* upstream misbehaved; evidence kept */
#define V_ERROR		-2	/* our own failure */
#define V_UPSTREAM	-3	/* the upstream could not be read */
#define V_NOTFOUND	-4	/* the upstream does not have it */
#define V_FORK		-5	/* contained(): not contained */
#define MAX_ROUNDS	4
#define MAX_FETCHES	16	/* upstream requests in flight per job */
#define LOOKUP_MAX	(64 << 10)

enum mkind { J_SYNC, J_LOOKUP, J_TILE, J_FULL };

#define FULL_SEGMENT	256	/* data tiles verified and stored at once */

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

static void	job_run(struct mjob *);
static void	job_finish(struct mjob *, int);
static void	uget_start(struct uget *);
static void	answer_got(struct uget *, int, struct evbuffer *);
static int	fetch_next(struct mjob *);
static void	sync_done(struct env *, struct db *, int);
static const char *mirror_url(struct db *, int);
static void	job_start(struct mjob *);
static void	job_admit(struct mjob *);
static void	full_start(struct db *);
static void	full_done(struct db *, int);

/* Keep the evidence of a refusal, outside any open transaction. */
static void
evidence(struct mjob *j, enum refusal kind, const char *old, size_t oldlen,
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

static void
freeze(struct mjob *j, const char *why)
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
static int
job_verdict(struct mjob *j, int r)
{
	if (r == SUMDB_EREAD && j->tiles.nmissing > 0)
		return V_MISSING;
	if (r == SUMDB_EPROOF)
		return V_REFUSED;
	return r == 0 && !j->tiles.storeerr ? V_OK : V_ERROR;
}

/* Read hashes at index[] of tree through the job's tiles. */
static int
job_hashes(struct mjob *j, const struct tlog_tree *tree, const int64_t *index,
    size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	return job_verdict(j, tiles_hashes(&j->tiles, tree, index, n, out));
}

/* job_hashes() of a signed tree: tiles that do not match it are evidence. */
static int
signed_hashes(struct mjob *j, const struct tlog_tree *tree,
    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	int	 r;

	if ((r = job_hashes(j, tree, index, n, out)) == V_REFUSED)
		evidence(j, R_TILE, NULL, 0, NULL, 0, NULL, 0,
		    "tiles for tree %lld do not match its signed root",
		    (long long)tree->n);
	return r;
}

/*
 * Whether tree old is contained in tree new, through the job's tiles
 * for new: V_OK (the proof in *pf), V_MISSING, V_ERROR, V_REFUSED for
 * tiles that do not authenticate (no evidence kept yet), or V_FORK
 * (the fork material in *pf).
 */
static int
contained(struct mjob *j, const struct tlog_tree *old,
    const struct tlog_tree *new, struct trust_proof *pf)
{
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	int			 r, v;

	tiles_hash_reader(&j->tiles, new, &thr, &hr);
	r = trust_extends(old, new, &hr, pf);
	v = job_verdict(j, thr.err);
	if (j->tiles.storeerr)
		return V_ERROR;
	if (r == 0)
		return V_OK;
	if (r == TRUST_EREAD && v != V_OK)
		return v;
	return V_FORK;
}

/*
 * Take the checkpoint (tree, note) into the trust base chain, inside the
 * caller's transaction: first one, same, older (must be contained in
 * the newest), or newer (must extend it; stored with its proof).
 * *newest is the newest trust base afterwards.  latest: it came from
 * /latest, where an older tree is a rollback.
 */
static int
advance(struct mjob *j, const struct tlog_tree *tree, const uint8_t *note,
    size_t notelen, int latest, struct tlog_tree *newest)
{
	struct env		*env = j->env;
	struct db		*db = j->db;
	struct evbuffer		*old = NULL;
	struct tlog_tree	 tb;
	struct trust_proof	 pf;
	int			 r, rv = V_ERROR;

	if ((old = evbuffer_new()) == NULL)
		return V_ERROR;
	if ((r = store_latest(env->st, db->log, old, &tb.n, tb.hash)) < 0)
		goto done;
	if (r == 0) {
		/* The first trust base: its signature is all we can check. */
		if (store_add_checkpoint(env->st, db->log, tree->n, tree->hash,
		    note, notelen, -1, NULL, 0, j->source) != 0)
			goto done;
		*newest = *tree;
		rv = V_OK;
		goto done;
	}
	if (tree->n == tb.n) {
		if (memcmp(tree->hash, tb.hash, SUMDB_HASH_SIZE) == 0) {
			*newest = tb;
			rv = V_OK;
			goto done;
		}
		evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
		    evbuffer_get_length(old), (const char *)note, notelen, NULL,
		    0, "fork: tree %lld with another root", (long long)tree->n);
		freeze(j, "fork: a checkpoint of the same size with another "
		    "root");
		rv = V_REFUSED;
		goto done;
	}
	if (tree->n < tb.n) {
		/* Older: it must be contained in the newest trust base. */
		if ((r = contained(j, tree, &tb, &pf)) != V_OK) {
			if (r == V_MISSING || r == V_ERROR) {
				rv = r;
				goto done;
			}
			if (r == V_REFUSED) {
				/* Our trust base is trusted: the tiles lie. */
				evidence(j, R_TILE, NULL, 0, NULL, 0, NULL, 0,
				    "tiles do not match our trust base %lld",
				    (long long)tb.n);
				rv = V_REFUSED;
				goto done;
			}
			evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
			    evbuffer_get_length(old), (const char *)note,
			    notelen, pf.nmat ? (uint8_t *)pf.mat : NULL,
			    pf.nmat * SUMDB_HASH_SIZE,
			    "fork: tree %lld is not contained in our tree "
			    "%lld", (long long)tree->n, (long long)tb.n);
			freeze(j, "fork: an older checkpoint that our trust "
			    "base does not contain");
			rv = V_REFUSED;
			goto done;
		}
		if (latest) {
			evidence(j, R_ROLLBACK, (char *)evbuffer_pullup(old, -1),
			    evbuffer_get_length(old), (const char *)note,
			    notelen, NULL, 0, "rollback: /latest is tree %lld, "
			    "older than our trust base %lld",
			    (long long)tree->n, (long long)tb.n);
			rv = V_REFUSED;
			goto done;
		}
		*newest = tb;
		rv = V_OK;
		goto done;
	}
	/* Newer: it must extend the newest trust base, provably. */
	if ((r = contained(j, &tb, tree, &pf)) != V_OK) {
		if (r == V_MISSING || r == V_ERROR) {
			rv = r;
			goto done;
		}
		if (r == V_REFUSED && !j->tiles.nostore) {
			/*
			 * With our stored tiles the new root does not come
			 * out: a fork, or forged tiles.  The upstream's own
			 * tiles tell which.
			 */
			j->tiles.nostore = 1;
			rv = V_MISSING;
			goto done;
		}
		if (r == V_REFUSED) {
			evidence(j, R_TILE, NULL, 0, (const char *)note,
			    notelen, NULL, 0, "tiles for tree %lld do not "
			    "match its signed root", (long long)tree->n);
			rv = V_REFUSED;
			goto done;
		}
		evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
		    evbuffer_get_length(old), (const char *)note, notelen,
		    pf.nmat ? (uint8_t *)pf.mat : NULL,
		    pf.nmat * SUMDB_HASH_SIZE,
		    "fork: tree %lld does not extend our tree %lld",
		    (long long)tree->n, (long long)tb.n);
		freeze(j, "fork: a newer checkpoint that does not extend our "
		    "trust base");
		rv = V_REFUSED;
		goto done;
	}
	if (store_add_checkpoint(env->st, db->log, tree->n, tree->hash, note,
	    notelen, tb.n, (const uint8_t *)pf.proof, pf.np * SUMDB_HASH_SIZE,
	    j->source) != 0)
		goto done;
	log_info("mirror '%s': trust base %lld -> %lld from '%s'", db->name,
	    (long long)tb.n, (long long)tree->n, j->source);
	*newest = *tree;
	rv = V_OK;
 done:
	evbuffer_free(old);
	return rv;
}

/* Open a note from the upstream: signature, then tree. */
static int
open_note(struct mjob *j, const uint8_t *msg, size_t len,
    struct tlog_tree *tree)
{
	struct note	 n;
	int		 r;

	if ((r = note_open(msg, len, &j->db->vkey, 1, &n)) != 0) {
		evidence(j, r == SUMDB_ESIG ? R_SIGNATURE : R_MALFORMED, NULL,
		    0, (const char *)msg, len, NULL, 0, "note: %s",
		    r == SUMDB_ESIG ? "no valid signature by our key" :
		    sumdb_strerror(r));
		return V_REFUSED;
	}
	if (tlog_parse_tree(n.text, n.textlen, tree) != 0) {
		evidence(j, R_MALFORMED, NULL, 0, (const char *)msg, len, NULL,
		    0, "malformed tree note");
		return V_REFUSED;
	}
	return V_OK;
}

static int
verify_sync(struct mjob *j)
{
	struct tlog_tree	 tree, newest;
	const uint8_t		*msg = evbuffer_pullup(j->answer, -1);
	size_t			 len = evbuffer_get_length(j->answer);
	int			 r;

	if ((r = open_note(j, msg, len, &tree)) != V_OK)
		return r;
	__atomic_store_n(&j->db->upstream_size, tree.n, __ATOMIC_RELAXED);
	if (store_begin(j->env->st, 1) != 0)
		return V_ERROR;
	if ((r = advance(j, &tree, msg, len, 1, &newest)) != V_OK) {
		store_rollback(j->env->st);
		return r;
	}
	return store_commit(j->env->st) == 0 ? V_OK : V_ERROR;
}

static int
verify_lookup(struct mjob *j)
{
	struct env	*env = j->env;
	struct db	*db = j->db;
	struct tlog_tree tree, newest;
	struct span	 text, note;
	struct record	 rec;
	struct evbuffer	*old = NULL;
	const uint8_t	*msg = evbuffer_pullup(j->answer, -1);
	size_t		 len = evbuffer_get_length(j->answer);
	uint8_t		 leaf[SUMDB_HASH_SIZE], h[1][SUMDB_HASH_SIZE];
	int64_t		 id, idx, oldid;
	int		 r, rv = V_ERROR;

	if (record_parse_lookup(msg, len, &id, &text, &note) != 0) {
		evidence(j, R_MALFORMED, NULL, 0, NULL, 0, msg, len,
		    "malformed lookup answer for %s@%s", j->path, j->version);
		return V_REFUSED;
	}
	if (record_parse(text.p, text.len, &rec) != 0 ||
	    rec.pathlen != strlen(j->path) ||
	    memcmp(rec.path, j->path, rec.pathlen) != 0 ||
	    rec.versionlen != strlen(j->version) ||
	    memcmp(rec.version, j->version, rec.versionlen) != 0) {
		evidence(j, R_UNRELATED, NULL, 0, NULL, 0, msg, len,
		    "lookup of %s@%s answered with another record", j->path,
		    j->version);
		return V_REFUSED;
	}
	if ((r = open_note(j, note.p, note.len, &tree)) != V_OK)
		return r;
	if (store_begin(env->st, 1) != 0)
		return V_ERROR;
	if ((r = advance(j, &tree, note.p, note.len, 0, &newest)) != V_OK) {
		store_rollback(env->st);
		return r;
	}
	if (id >= newest.n) {
		evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, msg, len,
		    "record %lld of %s@%s is beyond tree %lld", (long long)id,
		    j->path, j->version, (long long)newest.n);
		return V_REFUSED;
	}
	/* Its inclusion, through tiles authenticated by the newest root. */
	idx = tlog_stored_hash_index(0, id);
	if ((r = signed_hashes(j, &newest, &idx, 1, h)) != V_OK) {
		store_rollback(env->st);
		return r;
	}
	tlog_record_hash(text.p, text.len, leaf);
	if (memcmp(leaf, h[0], SUMDB_HASH_SIZE) != 0) {
		evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, msg, len,
		    "record %lld (%s@%s) is not in tree %lld", (long long)id,
		    j->path, j->version, (long long)newest.n);
		return V_REFUSED;
	}
	/* First logged is final: no second hash for a module version. */
	if ((old = evbuffer_new()) == NULL)
		goto done;
	if ((r = store_lookup(env->st, db->log, j->path, j->version, &oldid,
	    old)) < 0)
		goto done;
	if (r == 1 && (oldid != id || evbuffer_get_length(old) != text.len ||
	    memcmp(evbuffer_pullup(old, -1), text.p, text.len) != 0)) {
		evidence(j, R_CONFLICT, NULL, 0, NULL, 0, msg, len,
		    "%s@%s is stored as record %lld; the upstream now "
		    "answers record %lld", j->path, j->version,
		    (long long)oldid, (long long)id);
		rv = V_REFUSED;
		goto done;
	}
	if (r == 0 && (r = store_add_record(env->st, db->log, id, j->path,
	    j->version, text.p, text.len)) != 0) {
		if (r == 1)
			evidence(j, R_CONFLICT, NULL, 0, NULL, 0, msg, len,
			    "%s@%s is stored with another record", j->path,
			    j->version);
		rv = r == 1 ? V_REFUSED : V_ERROR;
		goto done;
	}
	if (store_commit(env->st) != 0)
		goto done;
	if (r == 0)
		__atomic_add_fetch(&db->added, 1, __ATOMIC_RELAXED);
	j->want.n = id;		/* the answer */
	rv = V_OK;
 done:
	if (rv != V_OK)
		store_rollback(env->st);
	if (old != NULL)
		evbuffer_free(old);
	return rv;
}

static int
need_tile(struct mjob *j, const struct tile *t)
{
	return tiles_need(&j->tiles, t) == 0 ? V_MISSING : V_ERROR;
}

static int
verify_tile(struct mjob *j)
{
	struct env		*env = j->env;
	struct db		*db = j->db;
	struct tlog_tree	 tb;
	const struct tilemem	*m;
	struct span		*recs = NULL;
	struct record		 rec;
	int64_t			*idx = NULL, first;
	uint8_t			(*h)[SUMDB_HASH_SIZE] = NULL;
	uint8_t			 leaf[SUMDB_HASH_SIZE];
	char			 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	size_t			 k, w = (size_t)j->want.w;
	int			 level = j->want.l < 0 ? 0 : j->want.l;
	int			 r, rv = V_ERROR, ndup = 0;
	int64_t			 dup = -1, nadd = 0;

	if (store_begin(env->st, 1) != 0)
		return V_ERROR;
	if ((r = store_latest(env->st, db->log, NULL, &tb.n, tb.hash)) != 1)
		goto done;
	if (!tile_in_tree(&j->want, tb.n)) {
		snprintf(j->err, sizeof(j->err), "not found: tile beyond tree "
		    "size %lld", (long long)tb.n);
		rv = V_NOTFOUND;
		goto done;
	}
	if ((idx = calloc(w, sizeof(*idx))) == NULL ||
	    (h = calloc(w, sizeof(*h))) == NULL ||
	    (recs = calloc(w, sizeof(*recs))) == NULL)
		goto done;
	first = j->want.n << j->want.h;
	for (k = 0; k < w; k++)
		idx[k] = tlog_stored_hash_index(level * j->want.h,
		    first + (int64_t)k);
	if ((rv = signed_hashes(j, &tb, idx, w, h)) != V_OK)
		goto done;
	if (j->want.l >= 0) {
		rv = store_commit(env->st) == 0 ? V_OK : V_ERROR;
		goto done;
	}
	/* A data tile: each record must hash to its authenticated leaf. */
	/* The data tile's bytes, kept as evidence. */
	if ((m = tiles_overlay_find(&j->tiles, -1, j->want.n)) == NULL) {
		rv = need_tile(j, &j->want);
		goto done;
	}
	if (record_split_data_tile(m->data, m->len, m->t.w, recs) != 0) {
		evidence(j, R_MALFORMED, NULL, 0, NULL, 0, m->data, m->len,
		    "malformed data tile");
		rv = V_REFUSED;
		goto done;
	}
	for (k = 0; k < w; k++) {
		tlog_record_hash(recs[k].p, recs[k].len, leaf);
		if (memcmp(leaf, h[k], SUMDB_HASH_SIZE) != 0) {
			evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0,
			    m->data, m->len, "data tile record %lld is not in tree %lld",
			    (long long)(first + (int64_t)k), (long long)tb.n);
			rv = V_REFUSED;
			goto done;
		}
		/* Authenticated records the sumdb format cannot name. */
		if (record_parse(recs[k].p, recs[k].len, &rec) != 0 ||
		    rec.pathlen >= sizeof(path) ||
		    rec.versionlen >= sizeof(version)) {
			snprintf(path, sizeof(path), "#");
			snprintf(version, sizeof(version), "#%lld",
			    (long long)(first + (int64_t)k));
		} else {
			memcpy(path, rec.path, rec.pathlen);
			path[rec.pathlen] = '\0';
			memcpy(version, rec.version, rec.versionlen);
			version[rec.versionlen] = '\0';
		}
		if (store_record(env->st, db->log, first + (int64_t)k, NULL) ==
		    1)
			continue;
		if ((r = store_add_record(env->st, db->log, first + (int64_t)k,
		    path, version, recs[k].p, recs[k].len)) < 0)
			goto done;
		nadd++;
		if (r == 1) {
			/*
			 * The upstream logged path@version twice: lookups
			 * keep the first; this one is kept unnamed.
			 */
			if (ndup++ == 0)
				dup = first + (int64_t)k;
			snprintf(path, sizeof(path), "#");
			snprintf(version, sizeof(version), "#%lld",
			    (long long)(first + (int64_t)k));
			if (store_add_record(env->st, db->log, first +
			    (int64_t)k, path, version, recs[k].p,
			    recs[k].len) != 0)
				goto done;
		}
	}
	rv = store_commit(env->st) == 0 ? V_OK : V_ERROR;
	if (rv == V_OK)
		__atomic_add_fetch(&db->added, nadd, __ATOMIC_RELAXED);
	if (rv == V_OK && ndup > 0)
		evidence(j, R_CONFLICT, NULL, 0, NULL, 0, m->data, m->len,
		    "record %lld and %d more name a module version logged "
		    "before, with other hashes; lookups keep the first",
		    (long long)dup, ndup - 1);
 done:
	if (rv != V_OK)
		store_rollback(env->st);
	free(idx);
	free(h);
	free(recs);
	return rv;
}

/*
 * Full mode after a restart: the last stored level-0 tile k must still
 * hash to its signed subtree hash h.  0, or -1 (logged: the store is
 * damaged).
 */
static int
full_resumed(struct mjob *j, int64_t k, const uint8_t h[SUMDB_HASH_SIZE])
{
	struct db	*db = j->db;
	struct evbuffer	*b;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int		 r;

	if ((b = evbuffer_new()) == NULL)
		return -1;
	r = store_tile(j->env->st, db->log, 0, k, b);
	if (r == 1 && evbuffer_get_length(b) == 256 * SUMDB_HASH_SIZE)
		tile_data_hash(evbuffer_pullup(b, -1), 256 * SUMDB_HASH_SIZE,
		    root);
	if (r != 1 || evbuffer_get_length(b) != 256 * SUMDB_HASH_SIZE ||
	    memcmp(root, h, SUMDB_HASH_SIZE) != 0) {
		evbuffer_free(b);
		log_warnx("mirror '%s': stored tile %lld does not match the "
		    "signed tree: the store is damaged; run sumdbd fsck",
		    db->name, (long long)k);
		return -1;
	}
	evbuffer_free(b);
	db->full_checked = 1;
	return 0;
}

/*
 * Full mode: store the authenticated records recs[0..n-1] from id
 * first on, those from next on, counted in *nadd.  0, or -1.
 */
static int
full_add(struct mjob *j, int64_t first, const struct span *recs, int n,
    int64_t next, int64_t *nadd)
{
	struct env	*env = j->env;
	struct db	*db = j->db;
	struct record	 rec;
	char		 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	int64_t		 id;
	int		 i, r;

	for (i = 0; i < n; i++) {
		id = first + i;
		if (id < next)
			continue;
		if (record_parse(recs[i].p, recs[i].len, &rec) != 0 ||
		    rec.pathlen >= sizeof(path) ||
		    rec.versionlen >= sizeof(version)) {
			snprintf(path, sizeof(path), "#");
			snprintf(version, sizeof(version), "#%lld",
			    (long long)id);
		} else {
			memcpy(path, rec.path, rec.pathlen);
			path[rec.pathlen] = '\0';
			memcpy(version, rec.version, rec.versionlen);
			version[rec.versionlen] = '\0';
		}
		r = store_add_record(env->st, db->log, id, path, version,
		    recs[i].p, recs[i].len);
		if (r == 1) {
			/* Logged twice upstream: kept unnamed. */
			snprintf(path, sizeof(path), "#");
			snprintf(version, sizeof(version), "#%lld",
			    (long long)id);
			r = store_add_record(env->st, db->log, id, path,
			    version, recs[i].p, recs[i].len);
			__atomic_add_fetch(&db->refusals[R_CONFLICT], 1,
			    __ATOMIC_RELAXED);
		}
		if (r < 0 || r == 1)
			return -1;
		(*nadd)++;
	}
	return 0;
}

/*
 * Full mode: a segment of data tiles from record db->full_next, each
 * verified against its subtree hash authenticated by the newest trust
 * base (or, for the last partial tile, against its authenticated
 * leaves), then stored with its level-0 hash tile in one transaction.
 */
static int
verify_full(struct mjob *j)
{
	struct env		*env = j->env;
	struct db		*db = j->db;
	struct tlog_tree	 tb;
	struct tile		 dt = { SUMDB_TILE_HEIGHT, -1, 0, 0 };
	const struct tilemem	*m;
	struct span		 recs[256];
	int64_t			 idx[FULL_SEGMENT + 1], k0, k, next;
	int64_t			 nfull, leafidx[256];
	uint8_t			 h[FULL_SEGMENT + 1][SUMDB_HASH_SIZE];
	uint8_t			 leaves[256][SUMDB_HASH_SIZE];
	uint8_t			 lh[256][SUMDB_HASH_SIZE];
	uint8_t			 root[SUMDB_HASH_SIZE];
	int			 i, n, w, r, rv = V_ERROR, miss = 0, resume;
	int64_t			 nadd = 0;

	/*
	 * Not synced to disk at each segment: WAL keeps the store
	 * consistent through a crash, the progress is in the same
	 * transaction, and a lost segment is fetched again.
	 */
	if (store_begin(env->st, 0) != 0)
		return V_ERROR;
	if (store_latest(env->st, db->log, NULL, &tb.n, tb.hash) != 1 ||
	    store_full_next(env->st, db->log, &next) != 0)
		goto done;
	k0 = next >> SUMDB_TILE_HEIGHT;
	nfull = (tb.n >> SUMDB_TILE_HEIGHT) - k0;
	if (nfull > FULL_SEGMENT)
		nfull = FULL_SEGMENT;
	/* After a restart, check the last stored tile again first. */
	resume = !db->full_checked && k0 > 0 && (next & 255) == 0;
	n = 0;
	if (resume)
		idx[n++] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT, k0 - 1);
	for (k = 0; k < nfull; k++)
		idx[n++] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT, k0 + k);
	if (n > 0 && (rv = signed_hashes(j, &tb, idx, n, h)) != V_OK)
		goto done;
	rv = V_ERROR;
	if (resume && full_resumed(j, k0 - 1, h[0]) != 0)
		goto done;
	/* The data tiles, all fetched before anything is stored. */
	for (k = 0; k < nfull; k++)
		if (tiles_overlay_find(&j->tiles, -1, k0 + k) == NULL) {
			dt.n = k0 + k;
			dt.w = 256;
			if (need_tile(j, &dt) != V_MISSING)
				goto done;
			miss = 1;
		}
	w = 0;
	if (nfull < FULL_SEGMENT && (tb.n & 255) != 0 &&
	    k0 + nfull == tb.n >> SUMDB_TILE_HEIGHT) {
		/* The right edge: a partial tile of w records. */
		w = (int)(tb.n & 255);
		for (i = 0; i < w; i++)
			leafidx[i] = tlog_stored_hash_index(0,
			    ((k0 + nfull) << 8) + i);
		if ((rv = signed_hashes(j, &tb, leafidx, w, lh)) != V_OK)
			goto done;
		rv = V_ERROR;
		if ((m = tiles_overlay_find(&j->tiles, -1, k0 + nfull)) ==
		    NULL || m->t.w != w) {
			dt.n = k0 + nfull;
			dt.w = w;
			if (need_tile(j, &dt) != V_MISSING)
				goto done;
			miss = 1;
		}
	}
	if (miss) {
		rv = V_MISSING;
		goto done;
	}
	for (k = 0; k <= nfull; k++) {
		int	 tw = k < nfull ? 256 : w;

		if (tw == 0)
			break;
		m = tiles_overlay_find(&j->tiles, -1, k0 + k);
		if (record_split_data_tile(m->data, m->len, tw, recs) != 0) {
			evidence(j, R_MALFORMED, NULL, 0, NULL, 0, m->data,
			    m->len, "malformed data tile %lld",
			    (long long)(k0 + k));
			rv = V_REFUSED;
			goto done;
		}
		for (i = 0; i < tw; i++)
			tlog_record_hash(recs[i].p, recs[i].len, leaves[i]);
		if (k < nfull) {
			tile_data_hash((uint8_t *)leaves, sizeof(leaves), root);
			r = memcmp(root, h[resume + k], SUMDB_HASH_SIZE);
		} else
			r = memcmp(leaves, lh, (size_t)tw * SUMDB_HASH_SIZE);
		if (r != 0) {
			evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, m->data,
			    m->len, "data tile %lld does not match tree %lld",
			    (long long)(k0 + k), (long long)tb.n);
			rv = V_REFUSED;
			goto done;
		}
		if (full_add(j, (k0 + k) << 8, recs, tw, next, &nadd) != 0)
			goto done;
		if (store_put_tile(env->st, db->log, 0, k0 + k,
		    (uint8_t *)leaves, (size_t)tw * SUMDB_HASH_SIZE) != 0)
			goto done;
	}
	next = ((k0 + nfull) << 8) + w;
	if (store_set_full_next(env->st, db->log, next) != 0 ||
	    store_commit(env->st) != 0)
		goto done;
	__atomic_store_n(&db->full_next, next, __ATOMIC_RELAXED);
	__atomic_add_fetch(&db->added, nadd, __ATOMIC_RELAXED);
	rv = V_OK;
 done:
	if (rv != V_OK)
		store_rollback(env->st);
	return rv;
}

static void
tile_got(struct uget *u, int status, struct evbuffer *body)
{
	struct mjob	*j = u->j;
	size_t		 want = (size_t)u->t.w * SUMDB_HASH_SIZE;
	size_t		 len = body != NULL ? evbuffer_get_length(body) : 0;

	if ((status == 404 || status == 410) && !u->full &&
	    u->t.w < (1 << u->t.h)) {
		/* Older servers keep only full tiles: take a prefix. */
		struct tile	 full = u->t;

		full.w = 1 << full.h;
		u->full = 1;
		tile_format(&full, u->path, sizeof(u->path));
		uget_start(u);
		return;
	}
	if (status != 200) {
		if (!j->failed)
			snprintf(j->err, sizeof(j->err), "upstream: tile '%s': "
			    "%s", u->path, status < 0 ? "unreachable" :
			    status == 404 || status == 410 ? "not found" :
			    "error");
		j->failed = 1;
	} else if (u->t.l >= 0 && (u->full ? len != (size_t)SUMDB_HASH_SIZE <<
	    u->t.h : len != want)) {
		if (!j->failed)
			evidence(j, R_TILE, NULL, 0, NULL, 0,
			    evbuffer_pullup(body, -1), len, "tile '%s': %zu "
			    "bytes, want %zu", u->path, len, u->full ?
			    (size_t)SUMDB_HASH_SIZE << u->t.h : want);
		j->failed = 2;
	} else if (u->t.l < 0 && u->full) {
		/* A full data tile for a partial request: its prefix. */
		struct span	 recs[256];
		struct tile	 full = u->t;

		full.w = 1 << full.h;
		if (record_split_data_tile(evbuffer_pullup(body, -1), len,
		    full.w, recs) != 0) {
			evidence(j, R_MALFORMED, NULL, 0, NULL, 0,
			    evbuffer_pullup(body, -1), len,
			    "malformed data tile '%s'", u->path);
			j->failed = 2;
		} else if (tiles_overlay_add(&j->tiles, &u->t, recs[0].p,
		    (size_t)(recs[u->t.w - 1].p + recs[u->t.w - 1].len + 1 -
		    recs[0].p), 1) != 0)
			j->failed = 3;
	} else if (tiles_overlay_add(&j->tiles, &u->t,
	    evbuffer_pullup(body, -1), u->t.l < 0 ? len : want, 1) != 0)
		j->failed = 3;
	free(u);
	j->outstanding--;
	if (!j->failed && fetch_next(j) == 0)
		return;
	if (j->outstanding == 0) {
		if (j->failed == 2)
			job_finish(j, V_REFUSED);
		else if (j->failed)
			job_finish(j, j->failed == 3 ? V_ERROR : V_UPSTREAM);
		else
			job_run(j);
	}
}

static void
uget_done(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct uget	*u = arg;
	struct mjob	*j = u->j;

	/* Unreachable or failing: the next URL, if there is one. */
	if ((status < 0 || status >= 500) &&
	    u->urlidx + 1 < j->db->mc->nurls) {
		u->urlidx++;
		uget_start(u);
		return;
	}
	if (status < 0 && err != NULL)
		log_info("mirror '%s': %s", j->db->name, err);
	if (u->done == answer_got)
		snprintf(j->source, sizeof(j->source), "%s/%s",
		    mirror_url(j->db, u->urlidx), u->path);
	u->done(u, status, body);
}

static void
uget_start(struct uget *u)
{
	struct mjob	*j = u->j;
	char		 url[4096];
	const char	*base = mirror_url(j->db, u->urlidx);
	size_t		 blen = strlen(base);

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	snprintf(url, sizeof(url), "%.*s/%s", (int)blen, base, u->path);
	if (fetch_get(j->env, url, u->maxlen, j->db->mc->fetch_timeout,
	    j->db->mc->redirect_other_hosts ? FETCH_ANYHOST : 0, uget_done,
	    u) != 0)
		u->done(u, -1, NULL);
}

/* Start the next queued tile fetch; 0, or -1 if none could start. */
static int
fetch_next(struct mjob *j)
{
	struct uget	*u;

	if (j->fetchnext == j->nfetchq)
		return -1;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		j->failed = 3;
		j->fetchnext = j->nfetchq;
		return -1;
	}
	u->j = j;
	u->t = j->fetchq[j->fetchnext++];
	u->maxlen = (size_t)j->db->mc->max_response;
	u->done = tile_got;
	tile_format(&u->t, u->path, sizeof(u->path));
	j->outstanding++;
	uget_start(u);
	return 0;
}

/* Fetch the missing tiles, a few at a time, then run the job again. */
static void
fetch_missing(struct mjob *j)
{
	free(j->fetchq);
	j->fetchq = tiles_take_missing(&j->tiles, &j->nfetchq);
	j->fetchnext = 0;
	j->failed = 0;
	j->outstanding = 0;
	while (j->outstanding < MAX_FETCHES && fetch_next(j) == 0)
		;
	if (j->outstanding == 0)
		job_finish(j, V_ERROR);
}

static void
job_run(struct mjob *j)
{
	int	 r;

	tiles_reset(&j->tiles);
	switch (j->kind) {
	case J_SYNC:
		r = verify_sync(j);
		break;
	case J_LOOKUP:
		r = verify_lookup(j);
		break;
	case J_FULL:
		r = verify_full(j);
		break;
	default:
		r = verify_tile(j);
		break;
	}
	tiles_scratch_free(&j->tiles);
	if (r == V_MISSING && j->tiles.nmissing > 0 &&
	    ++j->rounds <= MAX_ROUNDS) {
		fetch_missing(j);
		return;
	}
	if (r == V_MISSING && j->tiles.nmissing == 0 &&
	    ++j->rounds <= MAX_ROUNDS) {
		job_run(j);
		return;
	}
	if (r == V_MISSING) {
		snprintf(j->err, sizeof(j->err), "upstream: tiles still "
		    "missing after %d rounds", MAX_ROUNDS);
		r = V_UPSTREAM;
	}
	job_finish(j, r);
}

/*
 * Upstream URL i; a SIGHUP may have shortened the list under a fetch in
 * flight.
 */
static const char *
mirror_url(struct db *db, int i)
{
	return db->mc->urls[i < db->mc->nurls ? i : db->mc->nurls - 1];
}

static void
job_finish(struct mjob *j, int r)
{
	struct db	*db = j->db;
	struct mjob	*q = NULL;
	struct missreq	*m;
	int		 status;

	(void)db_refresh(j->env, db);
	if (r == V_OK)
		status = 200;
	else if (r == V_NOTFOUND)
		status = 404;
	else if (r == V_REFUSED || r == V_UPSTREAM)
		status = 502;
	else
		status = 500;
	if (r == V_UPSTREAM) {
		__atomic_add_fetch(&db->refusals[R_UPSTREAM], 1,
		    __ATOMIC_RELAXED);
		log_warnx("mirror '%s': %s", db->name, j->err);
	}
	if (r == V_ERROR && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "internal error");
	while ((m = TAILQ_FIRST(&j->waiters)) != NULL) {
		TAILQ_REMOVE(&j->waiters, m, entry);
		handoff_answer(m, status, j->want.n, j->err);
	}
	if (j->kind == J_SYNC) {
		db->sync = NULL;
		if (r == V_OK)
			__atomic_store_n(&db->verified_at, (int64_t)time(NULL),
			    __ATOMIC_RELAXED);
		sync_done(j->env, db, r);
	} else if (j->kind == J_FULL)
		full_done(db, r);
	else
		TAILQ_REMOVE(&db->jobs, j, entry);
	if (j->admitted) {
		db->nrunning--;
		TAILQ_FOREACH(q, &db->jobs, entry)
			if (q->queued)
				break;
	}
	tiles_free(&j->tiles);
	free(j->fetchq);
	if (j->answer != NULL)
		evbuffer_free(j->answer);
	free(j);
	/* The next client miss in line, now that a place is free. */
	if (q != NULL)
		job_admit(q);
}

static struct mjob *
job_new(struct env *env, struct db *db, enum mkind kind)
{
	struct mjob	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->answer = evbuffer_new()) == NULL) {
		free(j);
		return NULL;
	}
	j->env = env;
	j->db = db;
	j->kind = kind;
	tiles_overlay_init(&j->tiles, env->st, db->log, 1);
	TAILQ_INIT(&j->waiters);
	return j;
}

/* The answer to a lookup or to /latest: keep it, then verify. */
static void
answer_got(struct uget *u, int status, struct evbuffer *body)
{
	struct mjob	*j = u->j;

	free(u);
	if (status == 404 || status == 410) {
		snprintf(j->err, sizeof(j->err), "not found: %s",
		    j->kind == J_LOOKUP ? "the upstream does not have it" :
		    "the upstream has no /latest");
		job_finish(j, V_NOTFOUND);
		return;
	}
	if (status != 200) {
		snprintf(j->err, sizeof(j->err), "upstream: '%s': %s",
		    j->source, status < 0 ? "unreachable, too large or too "
		    "slow" : "error status");
		job_finish(j, V_UPSTREAM);
		return;
	}
	evbuffer_add_buffer(j->answer, body);
	job_run(j);
}

static void
job_get(struct mjob *j, const char *path, size_t maxlen)
{
	struct uget	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		job_finish(j, V_ERROR);
		return;
	}
	u->j = j;
	u->maxlen = maxlen;
	u->done = answer_got;
	snprintf(u->path, sizeof(u->path), "%s", path);
	uget_start(u);
}

/*
 * After a sync: poll again after the poll interval, or sooner after a
 * failure (1 s, doubling); start the lookups that waited for a first
 * trust base.
 */
static void
sync_done(struct env *env, struct db *db, int r)
{
	struct mjob	*j;
	struct timeval	 tv;
	int64_t		 ms = db->mc->poll;

	(void)env;
	if (r == V_UPSTREAM || r == V_NOTFOUND || r == V_ERROR) {
		/* Capped at the poll interval: never overflows. */
		db->backoff = db->backoff == 0 ? 1000 : db->backoff * 2;
		if (db->backoff > ms)
			db->backoff = ms;
		ms = db->backoff;
	} else
		db->backoff = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (db->poll_ev != NULL)
		evtimer_add(db->poll_ev, &tv);
	while ((j = TAILQ_FIRST(&db->waitsync)) != NULL) {
		TAILQ_REMOVE(&db->waitsync, j, entry);
		TAILQ_INSERT_TAIL(&db->jobs, j, entry);
		job_admit(j);
	}
	if (strcmp(db->mc->mode, "full") == 0)
		full_start(db);
}

/* Full mode: the next segment, unless one runs or all is stored. */
static void
full_start(struct db *db)
{
	struct mjob	*j;

	if (db->full_job != NULL || db->frozen || db->full_next >= db->size)
		return;
	if ((j = job_new(db->env, db, J_FULL)) == NULL)
		return;
	snprintf(j->key, sizeof(j->key), "full");
	db->full_job = j;
	if (db->full_t0 == 0) {
		/* Bulk inserts want a large page cache; serving does not. */
		store_cache(db->env->st, 65536);
		db->full_t0 = mono();
		db->full_n0 = db->full_next;
		db->full_log = db->full_t0;
	}
	job_run(j);
}

static void
full_next_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	full_start(arg);
}

static void
full_done(struct db *db, int r)
{
	struct timeval	 tv = { 0, 0 };
	double		 t = mono(), dt = t - db->full_t0;

	db->full_job = NULL;
	if (dt > 0)
		__atomic_store_n(&db->full_rate, (int64_t)((db->full_next -
		    db->full_n0) / dt), __ATOMIC_RELAXED);
	if (r != V_OK) {
		log_warnx("mirror '%s': full sync stopped at record %lld; it "
		    "resumes at the next poll", db->name,
		    (long long)db->full_next);
		db->full_t0 = 0;
		return;
	}
	if (db->full_next >= db->size || t - db->full_log >= 5) {
		db->full_log = t;
		log_info("mirror '%s': full: %lld of %lld records, %lld "
		    "records/s, ETA %lld s", db->name,
		    (long long)db->full_next, (long long)db->size,
		    (long long)db->full_rate, db->full_rate > 0 ?
		    (long long)((db->size - db->full_next) / db->full_rate) :
		    0LL);
	}
	if (db->full_next >= db->size) {
		db->full_t0 = 0;
		store_cache(db->env->st, 4096);
		malloc_trim(0);
		return;
	}
	event_base_once(db->env->base, -1, EV_TIMEOUT, full_next_cb, db,
	    &tv);
}

static void
poll_latest(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env = db->env;
	char		 why[512];
	int		 r;

	(void)fd;
	(void)ev;
	/* An operator may have unfrozen it meanwhile. */
	if ((r = store_frozen(env->st, db->log, why, sizeof(why))) == 0 &&
	    db->frozen) {
		log_info("mirror '%s': unfrozen by the operator", db->name);
		__atomic_store_n(&db->frozen, 0, __ATOMIC_RELEASE);
	}
	if (db->frozen || db->sync != NULL) {
		sync_done(env, db, V_OK);
		return;
	}
	db->last_poll = mono();
	if ((db->sync = job_new(env, db, J_SYNC)) == NULL) {
		sync_done(env, db, V_ERROR);
		return;
	}
	snprintf(db->sync->key, sizeof(db->sync->key), "latest");
	job_get(db->sync, "latest", 64 << 10);
}

/* db->ops->miss: a lookup or tile a worker did not find stored. */
static void
mirror_miss(struct db *db, struct missreq *m)
{
	struct env	*env = db->env;
	struct mjob	*j;
	char		 key[2200];

	if (db->frozen) {
		handoff_answer(m, 503, -1, "mirror frozen after a refused "
		    "checkpoint: see sumdbd unfreeze");
		return;
	}
	/* A full mirror that holds the whole tree has nothing to ask. */
	if (m->kind == MISS_LOOKUP && strcmp(db->mc->mode, "full") == 0 &&
	    db->size > 0 && db->full_next >= db->size) {
		snprintf(key, sizeof(key), "not found: not in mirrored log at "
		    "tree %lld", (long long)db->size);
		handoff_answer(m, 404, -1, key);
		return;
	}
	if (m->kind == MISS_LOOKUP)
		snprintf(key, sizeof(key), "lookup %s@%s", m->path, m->version);
	else
		snprintf(key, sizeof(key), "%s", m->tilepath);
	TAILQ_FOREACH(j, &db->jobs, entry)
		if (strcmp(j->key, key) == 0) {
			TAILQ_INSERT_TAIL(&j->waiters, m, entry);
			return;
		}
	TAILQ_FOREACH(j, &db->waitsync, entry)
		if (strcmp(j->key, key) == 0) {
			TAILQ_INSERT_TAIL(&j->waiters, m, entry);
			return;
		}
	if ((j = job_new(env, db, m->kind == MISS_LOOKUP ? J_LOOKUP :
	    J_TILE)) == NULL) {
		handoff_answer(m, 500, -1, "out of memory");
		return;
	}
	snprintf(j->key, sizeof(j->key), "%s", key);
	TAILQ_INSERT_TAIL(&j->waiters, m, entry);
	if (m->kind == MISS_TILE &&
	    tile_parse(m->tilepath, strlen(m->tilepath), &j->want) != 0) {
		TAILQ_INSERT_TAIL(&db->jobs, j, entry);
		job_finish(j, V_ERROR);
		return;
	}
	snprintf(j->path, sizeof(j->path), "%s", m->path);
	snprintf(j->version, sizeof(j->version), "%s", m->version);
	/*
	 * Without a trust base, or for a tile beyond it, take the
	 * upstream's /latest first (a tile: at most once a second).
	 */
	if (m->kind == MISS_TILE && !tile_in_tree(&j->want, db->size)) {
		if (db->mc->offline || (db->sync == NULL &&
		    mono() - db->last_poll < 1)) {
			snprintf(j->err, sizeof(j->err), "not found: tile "
			    "beyond tree size %lld", (long long)db->size);
			TAILQ_INSERT_TAIL(&db->jobs, j, entry);
			job_finish(j, V_NOTFOUND);
			return;
		}
		TAILQ_INSERT_TAIL(&db->waitsync, j, entry);
		if (db->sync == NULL) {
			event_del(db->poll_ev);
			poll_latest(-1, 0, db);
		}
		return;
	}
	if (db->size == 0 && !db->mc->offline) {
		TAILQ_INSERT_TAIL(&db->waitsync, j, entry);
		if (db->sync == NULL) {
			event_del(db->poll_ev);
			poll_latest(-1, 0, db);
		}
		return;
	}
	TAILQ_INSERT_TAIL(&db->jobs, j, entry);
	job_admit(j);
}

/*
 * A client's job on the jobs list: start it if fewer than max_fetches
 * run, else it waits there (still found by mirror_miss) for job_finish.
 */
static void
job_admit(struct mjob *j)
{
	struct db	*db = j->db;

	if (db->nrunning >= db->mc->max_fetches) {
		j->queued = 1;
		return;
	}
	j->queued = 0;
	j->admitted = 1;
	db->nrunning++;
	job_start(j);
}

/* A job on the jobs list: fetch its lookup answer, or verify its tile. */
static void
job_start(struct mjob *j)
{
	char	 ep[SUMDB_PATH_MAX * 2], ev[SUMDB_PATH_MAX * 2];
	char	 path[4600];

	if (j->kind == J_TILE) {
		job_run(j);
		return;
	}
	if (modpath_escape_path(j->path, strlen(j->path), ep, sizeof(ep)) < 0 ||
	    modpath_escape_version(j->version, strlen(j->version), ev,
	    sizeof(ev)) < 0) {
		job_finish(j, V_ERROR);
		return;
	}
	snprintf(path, sizeof(path), "lookup/%s@%s", ep, ev);
	job_get(j, path, LOOKUP_MAX);
}

static const struct dbops mirror_ops = { mirror_miss };

int
mirror_open(struct env *env)
{
	struct config_mirror	*mc;
	struct db		*db;
	int			 i, r;

	for (i = 0; i < env->conf.nmirrors; i++) {
		mc = &env->conf.mirrors[i];
		if ((db = calloc(1, sizeof(*db))) == NULL ||
		    (db->name = strdup(mc->name)) == NULL) {
			log_warn("calloc");
			free(db);
			return -1;
		}
		TAILQ_INIT(&db->fetching);
		TAILQ_INIT(&db->ready);
		TAILQ_INIT(&db->jobs);
		TAILQ_INIT(&db->fulljobs);
		TAILQ_INIT(&db->waitsync);
		db->kind = DB_MIRROR;
		db->ops = &mirror_ops;
		db->mc = mc;
		db->idx = env->ndbs;
		db->env = env;
		env->dbs[env->ndbs++] = db;
		if (note_verifier_parse(mc->key, strlen(mc->key),
		    &db->vkey) != 0) {
			log_warnx("%s:%d: [mirror %s] key: not a verifier key",
			    env->confpath, mc->line, mc->name);
			return -1;
		}
		if (strcmp(db->vkey.name, mc->name) != 0) {
			log_warnx("%s:%d: [mirror %s]: the key is for '%s'",
			    env->confpath, mc->line, mc->name,
			    db->vkey.name);
			return -1;
		}
		if (store_log(env->st, db->name, "mirror", &db->log) != 0 ||
		    (r = store_frozen(env->st, db->log, db->frozen_why,
		    sizeof(db->frozen_why))) < 0) {
			log_warnx("mirror '%s': %s", db->name,
			    store_errmsg(env->st));
			return -1;
		}
		db->frozen = r;
		db->upstream_size = -1;
		if (store_full_next(env->st, db->log, &db->full_next) != 0) {
			log_warnx("mirror '%s': %s", db->name,
			    store_errmsg(env->st));
			return -1;
		}
		if (r)
			log_warnx("mirror '%s' is frozen: %s; 'sumdbd unfreeze "
			    "%s' resumes it", db->name, db->frozen_why,
			    db->name);
		(void)db_refresh(env, db);
	}
	return 0;
}

/* Offline: what `sumdbd import` stored since, every second. */
static void
reload(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct timeval	 tv = { 1, 0 };
	int64_t		 size = db->size;

	(void)fd;
	(void)ev;
	if (store_latest(db->env->st, db->log, NULL, &size, (uint8_t[32]){ 0 }) ==
	    1 && size != db->size) {
		log_info("mirror '%s': trust base %lld from an import",
		    db->name, (long long)size);
		(void)db_refresh(db->env, db);
	}
	evtimer_add(db->poll_ev, &tv);
}

void
mirror_start(struct env *env)
{
	struct db	*db;
	struct timeval	 now = { 0, 0 };
	int		 i;

	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (db->kind != DB_MIRROR)
			continue;
		/* Only mirrors count private-path lookups to store. */
		if (privacy_start(env) != 0)
			fatalx("mirror: out of memory");
		log_info("mirror '%s': %s, %s, trust base %lld", db->name,
		    db->mc->mode, db->mc->offline ? "offline" : "online",
		    (long long)db->size);
		if (db->mc->offline) {
			/* Imports change the store under us: look again. */
			if ((db->poll_ev = evtimer_new(env->base, reload, db)) ==
			    NULL)
				fatalx("mirror: out of memory");
			evtimer_add(db->poll_ev, &now);
			continue;
		}
		if ((db->poll_ev = evtimer_new(env->base, poll_latest, db)) ==
		    NULL)
			fatalx("mirror: out of memory");
		evtimer_add(db->poll_ev, &now);
	}
}

void
mirror_free(struct env *env)
{
	struct db	*db;
	struct mjob	*j, *next;
	struct missreq	*m;
	int		 i;

	privacy_stop(env);
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (db->kind != DB_MIRROR)
			continue;
		/* Jobs in flight die with the event loop; queued ones here. */
		for (j = TAILQ_FIRST(&db->jobs); j != NULL; j = next) {
			next = TAILQ_NEXT(j, entry);
			if (!j->queued)
				continue;
			while ((m = TAILQ_FIRST(&j->waiters)) != NULL) {
				TAILQ_REMOVE(&j->waiters, m, entry);
				free(m);
			}
			TAILQ_REMOVE(&db->jobs, j, entry);
			evbuffer_free(j->answer);
			free(j);
		}
		if (db->poll_ev != NULL)
			event_free(db->poll_ev);
		free(db->name);
		free(db);
		env->dbs[i] = NULL;
	}
}
