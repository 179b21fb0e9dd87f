/*
 * bundle.c: differential bundles, everything between two trust bases of
 * one log in one file, so that an offline site can take it across an
 * air gap and verify every byte: `sumdbd export` writes one, `sumdbd
 * import` checks it against the importer's own newest trust base and
 * stores it in one transaction, or writes nothing.
 *
 * The format is parsed by the library (daemon/sumdb/bundle.c, which
 * describes it); here a bundle is written from the store and imported:
 * checked against our own trust base through trust.c, its tiles and
 * records authenticated through tiles.c.
 */

#include <event2/buffer.h>
#include <sodium.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"

int
bundle_find_db(struct env *env, const char *name, int64_t *log,
    struct note_verifier *v)
{
	int	 i;

	for (i = 0; i < env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, name) == 0) {
			if (note_verifier_parse(env->conf.mirrors[i].key,
			    strlen(env->conf.mirrors[i].key), v) != 0)
				return -1;
			return store_log(env->st, name, "mirror", log);
		}
	if (env->conf.log_name != NULL && strcmp(env->conf.log_name, name) ==
	    0) {
		if (env_open_log(env) != 0)
			return -1;
		*v = env->log->vkey;
		*log = env->log->log;
		return 0;
	}
	return -1;
}

/* Append a stored tile to the bundle being written. */
struct addtile {
	struct evbuffer	*out, *tmp;
	struct store	*st;
	int64_t		 log;
};

static int
add_tile(void *arg, const struct tile *t)
{
	struct addtile	*a = arg;
	char		 path[SUMDB_TILE_PATH_MAX];
	size_t		 need = (size_t)t->w * SUMDB_HASH_SIZE;

	evbuffer_drain(a->tmp, evbuffer_get_length(a->tmp));
	if (tile_format(t, path, sizeof(path)) < 0 ||
	    store_tile(a->st, a->log, t->l, t->n, a->tmp) != 1 ||
	    evbuffer_get_length(a->tmp) < need)
		return -1;
	if (evbuffer_add_printf(a->out, "%s %zu\n", path, need) < 0 ||
	    evbuffer_add(a->out, evbuffer_pullup(a->tmp, -1), need) != 0)
		return -1;
	return 0;
}

static int
count_tile(void *arg, const struct tile *t)
{
	(void)t;
	(*(size_t *)arg)++;
	return 0;
}

int
bundle_write(struct store *st, int64_t log, const char *name, int64_t fromn,
    int64_t ton, struct evbuffer *out, char *err, size_t errsize)
{
	struct tiles		 ts;
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	struct trust_proof	 pf;
	struct tlog_tree	 to, from;
	struct evbuffer		*tmp = NULL, *note = NULL;
	struct addtile		 at;
	uint8_t			 sum[32];
	char			 b64[SUMDB_B64_SIZE(32)], hex[65];
	int64_t			 id;
	size_t			 ntiles = 0, i;
	int			 r, rv = -1;

	tiles_store_init(&ts, st, log);
	from.n = fromn;
	to.n = ton;
	if ((tmp = evbuffer_new()) == NULL || (note = evbuffer_new()) ==
	    NULL) {
		snprintf(err, errsize, "out of memory");
		goto done;
	}
	if (store_checkpoint(st, log, to.n, note, to.hash) != 1 ||
	    (from.n > 0 && store_checkpoint(st, log, from.n, tmp,
	    from.hash) != 1) || from.n > to.n || from.n < 0) {
		snprintf(err, errsize, "%lld and %lld must be trust bases of "
		    "'%s', in order", (long long)from.n, (long long)to.n, name);
		goto done;
	}
	tiles_hash_reader(&ts, &to, &thr, &hr);
	if ((r = trust_extends(&from, &to, &hr, &pf)) == TRUST_EREAD) {
		snprintf(err, errsize, "the tiles for the proof from %lld to "
		    "%lld are not stored", (long long)from.n, (long long)to.n);
		goto done;
	}
	if (r != 0) {
		snprintf(err, errsize, "trust bases %lld and %lld of '%s' are "
		    "not consistent: run sumdbd fsck", (long long)from.n,
		    (long long)to.n, name);
		goto done;
	}
	evbuffer_add_printf(out, BUNDLE_MAGIC "db %s\nfrom %lld\nto %lld\n"
	    "note %zu\n", name, (long long)from.n, (long long)to.n,
	    evbuffer_get_length(tmp));
	evbuffer_add_buffer(out, tmp);
	evbuffer_add_printf(out, "note %zu\n", evbuffer_get_length(note));
	evbuffer_add_buffer(out, note);
	evbuffer_add_printf(out, "proof %zu\n", pf.np);
	for (i = 0; i < pf.np; i++) {
		sumdb_b64_encode(pf.proof[i], SUMDB_HASH_SIZE, b64);
		evbuffer_add_printf(out, "%s\n", b64);
	}
	evbuffer_add_printf(out, "records %lld %lld\n", (long long)from.n,
	    (long long)(to.n - from.n));
	for (id = from.n; id < to.n; id++) {
		evbuffer_drain(tmp, evbuffer_get_length(tmp));
		if (store_record(st, log, id, tmp) != 1) {
			snprintf(err, errsize, "record %lld of '%s' is not "
			    "stored: a bundle needs every record (the private "
			    "log or a full mirror)", (long long)id, name);
			goto done;
		}
		evbuffer_add_printf(out, "%zu\n", evbuffer_get_length(tmp));
		evbuffer_add_buffer(out, tmp);
	}
	tile_new_tiles(SUMDB_TILE_HEIGHT, from.n, to.n, count_tile, &ntiles);
	evbuffer_add_printf(out, "tiles %zu\n", ntiles);
	at.out = out;
	at.tmp = tmp;
	at.st = st;
	at.log = log;
	if (tile_new_tiles(SUMDB_TILE_HEIGHT, from.n, to.n, add_tile, &at) !=
	    0) {
		snprintf(err, errsize, "a tile between %lld and %lld is not "
		    "stored", (long long)from.n, (long long)to.n);
		goto done;
	}
	crypto_hash_sha256(sum, evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	evbuffer_add_printf(out, "end %s\n", hex);
	rv = 0;
 done:
	if (tmp != NULL)
		evbuffer_free(tmp);
	if (note != NULL)
		evbuffer_free(note);
	tiles_free(&ts);
	return rv;
}

/* Refused bundles up to this size are kept whole as evidence. */
#define EVIDENCE_BUNDLE_MAX	(16 << 20)

/* A bundle being imported. */
struct import {
	struct env		*env;
	const char		*source;
	char			*err;		/* the refusal's reason */
	size_t			 errsize;
	struct bundle		 b;
	struct note_verifier	 v;
	int64_t			 log;		/* -1 until known */
	struct tlog_tree	 from, to;
	struct tlog_tree	 tb;		/* our newest trust base */
	int			 found;		/* tb is there */
	struct trust_proof	 pf;		/* tb in to */
	struct tiles		 ts;		/* bundle tiles over stored */
};

/* Set the refusal's reason; returns IMPORT_REFUSED. */
static int
refuse(struct import *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct import *im, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(im->err, im->errsize, fmt, ap);
	va_end(ap);
	return IMPORT_REFUSED;
}

/*
 * The envelope of data[0..len-1]: magic, checksum, database, sizes,
 * notes, proof; then both checkpoints under our key, consistent.
 */
static int
check_envelope(struct import *im, const uint8_t *data, size_t len)
{
	struct env	*env = im->env;
	struct bundle	*b = &im->b;
	struct note	 n;
	const char	*name = b->name;
	int		 r;

	r = bundle_head(b, data, len);
	if (r != 0 && !b->named)
		return refuse(im, "%s", b->err);
	/*
	 * Our own log grows only by our own signatures: an import could
	 * store a tree that its appended but unsigned records do not make.
	 */
	if (env->conf.log_name != NULL && strcmp(env->conf.log_name, name) ==
	    0)
		return refuse(im, "the bundle is for '%s', this server's own "
		    "log: bundles are imported only into a [mirror] of it",
		    name);
	if (bundle_find_db(env, name, &im->log, &im->v) != 0)
		return refuse(im, "the bundle is for database '%s', which %s "
		    "does not have", name, env->confpath);
	if (r != 0)
		return refuse(im, "%s", b->err);
	im->from.n = b->from;
	if (note_open(b->tonote.p, b->tonote.len, &im->v, 1, &n) != 0 ||
	    tlog_parse_tree(n.text, n.textlen, &im->to) != 0 || im->to.n == 0)
		return refuse(im, "the to-checkpoint does not verify under "
		    "%s's key", name);
	if (im->to.n != b->to)
		return refuse(im, "the bundle's header says tree %lld, its "
		    "to-checkpoint is tree %lld", (long long)b->to,
		    (long long)im->to.n);
	if (im->from.n > 0 && (note_open(b->fromnote.p, b->fromnote.len,
	    &im->v, 1, &n) != 0 || tlog_parse_tree(n.text, n.textlen,
	    &im->from) != 0))
		return refuse(im, "the from-checkpoint does not verify under "
		    "%s's key", name);
	if (trust_check(&im->from, &im->to,
	    (const uint8_t (*)[SUMDB_HASH_SIZE])b->proof, b->np) != 0)
		return refuse(im, "the to-checkpoint does not extend the "
		    "from-checkpoint");
	return 0;
}

/* The records and tiles; the tiles held over the store's. */
static int
parse_body(struct import *im)
{
	struct bundle	*b = &im->b;
	int64_t		 k;
	int		 r;

	if ((r = bundle_body(b, im->from.n, im->to.n - im->from.n)) == SUMDB_ENOMEM)
		return IMPORT_ERROR;
	if (r != 0)
		return refuse(im, "%s", b->err);
	tiles_overlay_init(&im->ts, im->env->st, im->log, 1);
	for (k = 0; k < b->ntiles; k++)
		if (tiles_overlay_add(&im->ts, &b->t[k], b->data[k].p,
		    b->data[k].len, 0) != 0)
			return IMPORT_ERROR;
	return 0;
}

/* Against our own newest trust base, in the caller's transaction. */
static int
check_base(struct import *im)
{
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;

	if ((im->found = store_latest(im->env->st, im->log, NULL, &im->tb.n,
	    im->tb.hash)) < 0)
		return IMPORT_ERROR;
	if (!im->found)
		return 0;
	if (im->tb.n > im->to.n)
		return refuse(im, "the bundle ends at %lld, before our trust "
		    "base %lld", (long long)im->to.n, (long long)im->tb.n);
	if (im->from.n > im->tb.n)
		return refuse(im, "the bundle starts at %lld, after our trust "
		    "base %lld: import the bundles before it first",
		    (long long)im->from.n, (long long)im->tb.n);
	tiles_hash_reader(&im->ts, &im->to, &thr, &hr);
	if (trust_extends(&im->tb, &im->to, &hr, &im->pf) != 0)
		return refuse(im, "the to-checkpoint %lld forks from our trust "
		    "base %lld (or its tiles do not match it)",
		    (long long)im->to.n, (long long)im->tb.n);
	return 0;
}

/* Every tile of the bundle authenticates against the to-tree. */
static int
check_tiles(struct import *im)
{
	struct bundle	*b = &im->b;
	int64_t		 ti[256], k;
	uint8_t		 th[256][SUMDB_HASH_SIZE];
	int		 w;

	for (k = 0; k < b->ntiles; k++) {
		if (!tile_in_tree(&b->t[k], im->to.n))
			return refuse(im, "tile %lld lies beyond tree %lld",
			    (long long)k, (long long)im->to.n);
		for (w = 0; w < b->t[k].w; w++)
			ti[w] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT *
			    b->t[k].l, (b->t[k].n << SUMDB_TILE_HEIGHT) + w);
		if (tiles_hashes(&im->ts, &im->to, ti, b->t[k].w, th) != 0 ||
		    memcmp(th, b->data[k].p, b->data[k].len) != 0)
			return refuse(im, "tile %lld does not authenticate "
			    "against tree %lld", (long long)k,
			    (long long)im->to.n);
	}
	return 0;
}

/*
 * Record id's text is stored already (an overlapping or repeated
 * bundle), or stored now under its name.
 */
static int
check_record(struct import *im, int64_t id, const struct span *text,
    struct evbuffer *stored)
{
	struct env	*env = im->env;
	char		 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	int		 r;

	record_key(text->p, text->len, id, path, version);
	/* The same bytes, or our store and the signed tree disagree. */
	evbuffer_drain(stored, evbuffer_get_length(stored));
	if ((r = store_record(env->st, im->log, id, stored)) == 1) {
		if (evbuffer_get_length(stored) == text->len &&
		    memcmp(evbuffer_pullup(stored, -1), text->p, text->len) ==
		    0)
			return 0;
		return refuse(im, "record %lld is stored with other bytes "
		    "than tree %lld holds: run sumdbd fsck", (long long)id,
		    (long long)im->to.n);
	}
	if (r < 0)
		return IMPORT_ERROR;
	r = store_add_record(env->st, im->log, id, path, version, text->p,
	    text->len);
	if (r == 1)
		return refuse(im, "%s@%s is stored with another hash", path,
		    version);
	return r < 0 ? IMPORT_ERROR : 0;
}

/* And every record against its authenticated leaf, then stored. */
static int
check_records(struct import *im)
{
	struct bundle	*b = &im->b;
	struct evbuffer	*stored = NULL;
	uint8_t		 leaf[SUMDB_HASH_SIZE];
	uint8_t		(*leaves)[SUMDB_HASH_SIZE] = NULL;
	int64_t		*idx = NULL, k;
	int		 rv = IMPORT_ERROR;

	if ((stored = evbuffer_new()) == NULL || (b->count > 0 &&
	    ((leaves = calloc(b->count, sizeof(*leaves))) == NULL ||
	    (idx = calloc(b->count, sizeof(*idx))) == NULL)))
		goto done;
	for (k = 0; k < b->count; k++)
		idx[k] = tlog_stored_hash_index(0, b->first + k);
	if (b->count > 0 && tiles_hashes(&im->ts, &im->to, idx, b->count,
	    leaves) != 0) {
		rv = refuse(im, "the records' tiles do not authenticate");
		goto done;
	}
	for (k = 0; k < b->count; k++) {
		tlog_record_hash(b->recs[k].p, b->recs[k].len, leaf);
		if (memcmp(leaf, leaves[k], SUMDB_HASH_SIZE) != 0) {
			rv = refuse(im, "record %lld is not in tree %lld",
			    (long long)(b->first + k), (long long)im->to.n);
			goto done;
		}
		if ((rv = check_record(im, b->first + k, &b->recs[k],
		    stored)) != 0)
			goto done;
	}
	rv = 0;
 done:
	if (stored != NULL)
		evbuffer_free(stored);
	free(leaves);
	free(idx);
	return rv;
}

/*
 * store_index() of the records a full mirror had unindexed below the
 * bundle's: one named a module version a lower record has.
 */
static void
import_conflict(void *arg, int64_t id, int64_t first)
{
	(void)arg;
	log_warnx("import: record %lld names the module version of record "
	    "%lld; lookups keep the first", (long long)id, (long long)first);
}

/* The checkpoint with its proof, and full mode's progress; commit. */
static int
commit_import(struct import *im)
{
	struct env	*env = im->env;
	struct bundle	*b = &im->b;
	int64_t		 fullnext;

	if (im->ts.storeerr || (im->to.n > im->tb.n &&
	    store_add_checkpoint(env->st, im->log, im->to.n, im->to.hash,
	    b->tonote.p, b->tonote.len, im->found ? im->tb.n : -1,
	    (const uint8_t *)im->pf.proof, im->pf.np * SUMDB_HASH_SIZE,
	    im->source) != 0))
		return IMPORT_ERROR;
	/*
	 * Every record below full_next is stored: move it only when the
	 * bundle starts at or below it, or a gap would read as "not in log".
	 */
	if (store_full_next(env->st, im->log, &fullnext) != 0)
		return IMPORT_ERROR;
	if (im->from.n <= fullnext && im->to.n > fullnext &&
	    (store_set_full_next(env->st, im->log, im->to.n) != 0 ||
	    store_index(env->st, im->log, im->to.n, import_conflict, im) != 0))
		return IMPORT_ERROR;
	if (store_commit(env->st) != 0)
		return IMPORT_ERROR;
	return 0;
}

/*
 * A refused bundle for one of our databases is evidence: the reason,
 * its signed to-checkpoint, and the bundle itself when it is not too
 * large to keep.
 */
static void
keep_evidence(struct import *im, const uint8_t *data, size_t len)
{
	struct env	*env = im->env;

	if (store_add_evidence(env->st, im->log, "import", im->source,
	    im->err, NULL, 0, im->b.tonote.p, im->b.tonote.len,
	    len <= EVIDENCE_BUNDLE_MAX ? data : NULL,
	    len <= EVIDENCE_BUNDLE_MAX ? len : 0) != 0)
		log_warnx("import: keeping the evidence: %s",
		    store_errmsg(env->st));
}

int
bundle_import(struct env *env, const uint8_t *data, size_t len,
    const char *source, char *err, size_t errsize)
{
	struct import	 im;
	int		 rv, txn = 0;

	memset(&im, 0, sizeof(im));
	im.env = env;
	im.source = source;
	im.err = err;
	im.errsize = errsize;
	im.log = -1;
	err[0] = '\0';
	if ((rv = check_envelope(&im, data, len)) != 0 ||
	    (rv = parse_body(&im)) != 0)
		goto done;
	if (store_begin(env->st, 1) != 0) {
		rv = IMPORT_ERROR;
		goto done;
	}
	txn = 1;
	if ((rv = check_base(&im)) != 0 || (rv = check_tiles(&im)) != 0 ||
	    (rv = check_records(&im)) != 0 || (rv = commit_import(&im)) != 0)
		goto done;
	txn = 0;
	printf("imported %s: trust base %lld -> %lld, %lld records, %lld "
	    "tiles\n", im.b.name, im.found ? (long long)im.tb.n : 0LL,
	    (long long)im.to.n, (long long)im.b.count,
	    (long long)im.b.ntiles);
 done:
	if (rv == IMPORT_ERROR)
		log_warnx("import: %s", store_errmsg(env->st));
	if (txn)
		store_rollback(env->st);
	if (rv == IMPORT_REFUSED && im.log >= 0)
		keep_evidence(&im, data, len);
	tiles_free(&im.ts);
	bundle_free(&im.b);
	return rv;
}
