/*
 * verify.c: nothing from an upstream is stored or served before it is
 * verified here: the note signature under the configured key, the
 * consistency of every new checkpoint with the newest trust base
 * (trust.c; stored with its proof in the same transaction), every tile
 * against the signed root (tiles.c), every record's inclusion, and that
 * no other hash is stored for the same module@version.
 *
 * Verification is synchronous code over a tile reader that knows only
 * what is stored or already fetched; when it lacks tiles it says which
 * (V_MISSING), the job fetches them and runs it again.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "store.h"

/* Read hashes at index[] of tree through the job's tiles. */
static int
job_hashes(struct mjob *j, const struct tlog_tree *tree, const int64_t *index,
    size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	return job_verdict(j, tiles_hashes(&j->tiles, tree, index, n, out));
}

/* job_hashes() of a signed tree: tiles that do not match it are evidence. */
int
job_signed_hashes(struct mjob *j, const struct tlog_tree *tree,
    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	int	 r;

	if ((r = job_hashes(j, tree, index, n, out)) == V_REFUSED)
		job_evidence(j, R_TILE, NULL, 0, NULL, 0, NULL, 0,
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
 * Store a new trust base, with our witness's cosignature after the
 * upstream's signatures if we are a witness: what /latest serves.
 */
static int
add_trust_base(struct mjob *j, const struct tlog_tree *tree,
    const uint8_t *note, size_t notelen, int64_t prev,
    const struct trust_proof *pf)
{
	struct env	*env = j->env;
	struct evbuffer	*b = NULL;
	struct note	 n;
	int		 rv = -1;

	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add(b, note, notelen) != 0)
		goto done;
	if (env->cosigner != NULL && note_open(note, notelen, &j->db->vkey, 1,
	    &n) == 0 && n.nverified + n.nunverified < SUMDB_NOTE_MAXSIGS &&
	    note_cosign(n.text, n.textlen, env->cosigner, time(NULL), b) != 0)
		goto done;
	rv = store_add_checkpoint(env->st, j->db->log, tree->n, tree->hash,
	    evbuffer_pullup(b, -1), evbuffer_get_length(b), prev,
	    pf != NULL ? (const uint8_t *)pf->proof : NULL,
	    pf != NULL ? pf->np * SUMDB_HASH_SIZE : 0, j->source);
 done:
	if (b != NULL)
		evbuffer_free(b);
	return rv;
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
		if (add_trust_base(j, tree, note, notelen, -1, NULL) != 0)
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
		job_evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
		    evbuffer_get_length(old), (const char *)note, notelen, NULL,
		    0, "fork: tree %lld with another root", (long long)tree->n);
		job_freeze(j, "fork: a checkpoint of the same size with another "
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
				job_evidence(j, R_TILE, NULL, 0, NULL, 0, NULL, 0,
				    "tiles do not match our trust base %lld",
				    (long long)tb.n);
				rv = V_REFUSED;
				goto done;
			}
			job_evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
			    evbuffer_get_length(old), (const char *)note,
			    notelen, pf.nmat ? (uint8_t *)pf.mat : NULL,
			    pf.nmat * SUMDB_HASH_SIZE,
			    "fork: tree %lld is not contained in our tree "
			    "%lld", (long long)tree->n, (long long)tb.n);
			job_freeze(j, "fork: an older checkpoint that our trust "
			    "base does not contain");
			rv = V_REFUSED;
			goto done;
		}
		if (latest) {
			job_evidence(j, R_ROLLBACK, (char *)evbuffer_pullup(old, -1),
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
			job_evidence(j, R_TILE, NULL, 0, (const char *)note,
			    notelen, NULL, 0, "tiles for tree %lld do not "
			    "match its signed root", (long long)tree->n);
			rv = V_REFUSED;
			goto done;
		}
		job_evidence(j, R_FORK, (char *)evbuffer_pullup(old, -1),
		    evbuffer_get_length(old), (const char *)note, notelen,
		    pf.nmat ? (uint8_t *)pf.mat : NULL,
		    pf.nmat * SUMDB_HASH_SIZE,
		    "fork: tree %lld does not extend our tree %lld",
		    (long long)tree->n, (long long)tb.n);
		job_freeze(j, "fork: a newer checkpoint that does not extend our "
		    "trust base");
		rv = V_REFUSED;
		goto done;
	}
	if (add_trust_base(j, tree, note, notelen, tb.n, &pf) != 0)
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
		job_evidence(j, r == SUMDB_ESIG ? R_SIGNATURE : R_MALFORMED, NULL,
		    0, (const char *)msg, len, NULL, 0, "note: %s",
		    r == SUMDB_ESIG ? "no valid signature by our key" :
		    sumdb_strerror(r));
		return V_REFUSED;
	}
	if (tlog_parse_tree(n.text, n.textlen, tree) != 0) {
		job_evidence(j, R_MALFORMED, NULL, 0, (const char *)msg, len, NULL,
		    0, "malformed tree note");
		return V_REFUSED;
	}
	return V_OK;
}

int
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
	if (store_commit(j->env->st) != 0)
		return V_ERROR;
	peers_kick(j->db);
	return V_OK;
}

int
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
		job_evidence(j, R_MALFORMED, NULL, 0, NULL, 0, msg, len,
		    "malformed lookup answer for %s@%s", j->path, j->version);
		return V_REFUSED;
	}
	if (record_parse_of(text.p, text.len, j->path, j->version, &rec) !=
	    0) {
		job_evidence(j, R_UNRELATED, NULL, 0, NULL, 0, msg, len,
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
		job_evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, msg, len,
		    "record %lld of %s@%s is beyond tree %lld", (long long)id,
		    j->path, j->version, (long long)newest.n);
		return V_REFUSED;
	}
	/* Its inclusion, through tiles authenticated by the newest root. */
	idx = tlog_stored_hash_index(0, id);
	if ((r = job_signed_hashes(j, &newest, &idx, 1, h)) != V_OK) {
		store_rollback(env->st);
		return r;
	}
	tlog_record_hash(text.p, text.len, leaf);
	if (memcmp(leaf, h[0], SUMDB_HASH_SIZE) != 0) {
		job_evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0, msg, len,
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
		job_evidence(j, R_CONFLICT, NULL, 0, NULL, 0, msg, len,
		    "%s@%s is stored as record %lld; the upstream now "
		    "answers record %lld", j->path, j->version,
		    (long long)oldid, (long long)id);
		rv = V_REFUSED;
		goto done;
	}
	if (r == 0 && (r = store_add_record(env->st, db->log, id, j->path,
	    j->version, text.p, text.len)) != 0) {
		if (r == 1)
			job_evidence(j, R_CONFLICT, NULL, 0, NULL, 0, msg, len,
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

int
job_need_tile(struct mjob *j, const struct tile *t)
{
	return tiles_need(&j->tiles, t) == 0 ? V_MISSING : V_ERROR;
}

int
verify_tile(struct mjob *j)
{
	struct env		*env = j->env;
	struct db		*db = j->db;
	struct tlog_tree	 tb;
	const struct tilemem	*m;
	struct span		*recs = NULL;
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
	if ((rv = job_signed_hashes(j, &tb, idx, w, h)) != V_OK)
		goto done;
	if (j->want.l >= 0) {
		rv = store_commit(env->st) == 0 ? V_OK : V_ERROR;
		goto done;
	}
	/* A data tile: each record must hash to its authenticated leaf. */
	/* The data tile's bytes, kept as evidence. */
	if ((m = tiles_overlay_find(&j->tiles, -1, j->want.n)) == NULL) {
		rv = job_need_tile(j, &j->want);
		goto done;
	}
	if (record_split_data_tile(m->data, m->len, m->t.w, recs) != 0) {
		job_evidence(j, R_MALFORMED, NULL, 0, NULL, 0, m->data, m->len,
		    "malformed data tile");
		rv = V_REFUSED;
		goto done;
	}
	for (k = 0; k < w; k++) {
		tlog_record_hash(recs[k].p, recs[k].len, leaf);
		if (memcmp(leaf, h[k], SUMDB_HASH_SIZE) != 0) {
			job_evidence(j, R_NOT_IN_TREE, NULL, 0, NULL, 0,
			    m->data, m->len, "data tile record %lld is not in tree %lld",
			    (long long)(first + (int64_t)k), (long long)tb.n);
			rv = V_REFUSED;
			goto done;
		}
		/* Authenticated records the sumdb format cannot name. */
		record_key(recs[k].p, recs[k].len, first + (int64_t)k, path,
		    version);
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
			record_unnamed(first + (int64_t)k, path, version);
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
		job_evidence(j, R_CONFLICT, NULL, 0, NULL, 0, m->data, m->len,
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
