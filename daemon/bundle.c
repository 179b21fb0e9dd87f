/*
 * bundle.c: differential bundles, everything between two trust bases of
 * one log in one file, so that an offline site can take it across an
 * air gap and verify every byte: `sumdbd export` writes one, `sumdbd
 * import` checks it against the importer's own newest trust base and
 * stores it in one transaction, or writes nothing.
 *
 * The format (also in README.md): a text header, then length-prefixed
 * sections, then the SHA-256 of all that precedes it:
 *
 *	sumdbd bundle 1\n
 *	db NAME\n
 *	from N\n		to M\n
 *	note LEN\n<from note>	(LEN 0 when N is 0)
 *	note LEN\n<to note>
 *	proof K\n<K base64 hashes, one per line>
 *	records FIRST COUNT\n	then COUNT times: LEN\n<record text>
 *	tiles COUNT\n		then COUNT times: PATH LEN\n<tile bytes>
 *	end <hex sha256>\n
 */

#include <event2/buffer.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"

/* Tiles held in memory (from a bundle), then the store's. */
struct btiles {
	struct store	*st;
	int64_t		 log;
	struct tile	*t;
	struct span	*data;
	size_t		 n;
	struct evbuffer	*scratch[64];
	size_t		 nscratch;
	int		 storeerr;
	int		 save;		/* store authenticated bundle tiles */
};

static int
btiles_read(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    size_t *len)
{
	struct btiles	*bt = arg;
	struct evbuffer	*b;
	size_t		 i, k, need;

	for (i = 0; i < n; i++) {
		need = (size_t)t[i].w * SUMDB_HASH_SIZE;
		data[i] = NULL;
		for (k = 0; k < bt->n; k++)
			if (bt->t[k].l == t[i].l && bt->t[k].n == t[i].n &&
			    bt->data[k].len >= need) {
				data[i] = bt->data[k].p;
				len[i] = need;
				break;
			}
		if (data[i] != NULL)
			continue;
		if (bt->nscratch == sizeof(bt->scratch) / sizeof(bt->scratch[0]))
			return -1;
		if ((b = evbuffer_new()) == NULL)
			return -1;
		bt->scratch[bt->nscratch++] = b;
		if (store_tile(bt->st, bt->log, t[i].l, t[i].n, b) != 1 ||
		    evbuffer_get_length(b) < need)
			return -1;
		data[i] = evbuffer_pullup(b, -1);
		len[i] = need;
	}
	return 0;
}

static void
btiles_save(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    const size_t *len)
{
	struct btiles	*bt = arg;
	size_t		 i;

	if (!bt->save)
		return;
	for (i = 0; i < n; i++)
		if (store_put_tile(bt->st, bt->log, t[i].l, t[i].n, data[i],
		    len[i]) != 0)
			bt->storeerr = 1;
}

static void
btiles_release(struct btiles *bt)
{
	size_t	 i;

	for (i = 0; i < bt->nscratch; i++)
		evbuffer_free(bt->scratch[i]);
	bt->nscratch = 0;
}

static int
btiles_hashes(struct btiles *bt, const struct tlog_tree *tree,
    const int64_t *idx, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct tile_reader	 tr = { SUMDB_TILE_HEIGHT, btiles_read,
				    btiles_save, bt };
	int			 r;

	r = tile_read_hashes(tree, &tr, idx, n, out);
	btiles_release(bt);
	return r;
}

struct bhr {
	struct btiles		*bt;
	struct tlog_tree	 tree;
};

static int
bhr_read(void *arg, const int64_t *idx, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct bhr	*h = arg;

	return btiles_hashes(h->bt, &h->tree, idx, n, out) == 0 ? 0 : -1;
}

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
	struct btiles		 bt;
	struct bhr		 h;
	struct tlog_hash_reader	 hr = { bhr_read, &h };
	struct tlog_tree	 to, from;
	struct evbuffer		*tmp = NULL, *note = NULL;
	struct addtile		 at;
	uint8_t			 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	uint8_t			 sum[32];
	char			 b64[SUMDB_B64_SIZE(32)], hex[65];
	int64_t			 id;
	size_t			 np = 0, ntiles = 0, i;
	int			 rv = -1;

	memset(&bt, 0, sizeof(bt));
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
	bt.st = st;
	bt.log = log;
	h.bt = &bt;
	h.tree = to;
	if (from.n > 0 && from.n < to.n &&
	    tlog_prove_tree(to.n, from.n, &hr, proof, &np) != 0) {
		snprintf(err, errsize, "the tiles for the proof from %lld to "
		    "%lld are not stored", (long long)from.n, (long long)to.n);
		goto done;
	}
	evbuffer_add_printf(out, BUNDLE_MAGIC "db %s\nfrom %lld\nto %lld\n"
	    "note %zu\n", name, (long long)from.n, (long long)to.n,
	    evbuffer_get_length(tmp));
	evbuffer_add_buffer(out, tmp);
	evbuffer_add_printf(out, "note %zu\n", evbuffer_get_length(note));
	evbuffer_add_buffer(out, note);
	evbuffer_add_printf(out, "proof %zu\n", np);
	for (i = 0; i < np; i++) {
		sumdb_b64_encode(proof[i], SUMDB_HASH_SIZE, b64);
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
	btiles_release(&bt);
	return rv;
}

/* Refused bundles up to this size are kept whole as evidence. */
#define EVIDENCE_BUNDLE_MAX	(16 << 20)

/*
 * The last refusal's reason, kept as evidence by bundle_import() and
 * handed to its caller in err (until bundle_import() writes err itself).
 */
static char	import_refusal[512];

static int
import_refuse(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
import_refuse(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(import_refusal, sizeof(import_refusal), fmt, ap);
	va_end(ap);
	return 1;
}

/*
 * Verify bundle bytes against our newest trust base of their database
 * and store them, in one transaction or not at all.  Returns 0,
 * IMPORT_REFUSED (the reason in err, the evidence kept) or IMPORT_ERROR.
 */
int
bundle_import(struct env *env, const uint8_t *data, size_t flen,
    const char *source, char *err, size_t errsize)
{
	struct note_verifier	 v;
	struct note		 n;
	struct btiles		 bt;
	struct bhr		 h;
	struct tlog_hash_reader	 hr = { bhr_read, &h };
	struct tlog_tree	 from, to, tb;
	struct bundle		 b;
	struct span		*recs;
	struct record		 rec;
	uint8_t			 tbproof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	uint8_t			 leaf[SUMDB_HASH_SIZE];
	uint8_t			(*leaves)[SUMDB_HASH_SIZE] = NULL;
	int64_t			*idx = NULL, log = -1, first, count, k, ntiles;
	int64_t			 fullnext;
	struct evbuffer		*stored = NULL;
	char			*name = b.name;
	char			 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	size_t			 ntb = 0;
	int			 r, found, rv = 1, txn = 0;

	memset(&bt, 0, sizeof(bt));
	/* The envelope: magic, checksum, database, sizes, notes, proof. */
	r = bundle_head(&b, data, flen);
	if (r != 0 && !b.named) {
		import_refuse("%s", b.err);
		goto done;
	}
	/*
	 * Our own log grows only by our own signatures: an import could
	 * store a tree that its appended but unsigned records do not make.
	 */
	if (env->conf.log_name != NULL && strcmp(env->conf.log_name, name) ==
	    0) {
		import_refuse("the bundle is for '%s', this server's own log: "
		    "bundles are imported only into a [mirror] of it", name);
		goto done;
	}
	if (bundle_find_db(env, name, &log, &v) != 0) {
		import_refuse("the bundle is for database '%s', which %s does not "
		    "have", name, env->confpath);
		goto done;
	}
	if (r != 0) {
		import_refuse("%s", b.err);
		goto done;
	}
	from.n = b.from;
	/* Both checkpoints verify under our key, and are consistent. */
	if (note_open(b.tonote.p, b.tonote.len, &v, 1, &n) != 0 ||
	    tlog_parse_tree(n.text, n.textlen, &to) != 0 || to.n == 0) {
		import_refuse("the to-checkpoint does not verify under %s's key",
		    name);
		goto done;
	}
	if (to.n != b.to) {
		import_refuse("the bundle's header says tree %lld, its "
		    "to-checkpoint is tree %lld", (long long)b.to,
		    (long long)to.n);
		goto done;
	}
	if (from.n > 0 && (note_open(b.fromnote.p, b.fromnote.len, &v, 1,
	    &n) != 0 || tlog_parse_tree(n.text, n.textlen, &from) != 0)) {
		import_refuse("the from-checkpoint does not verify under %s's key",
		    name);
		goto done;
	}
	if (from.n > 0 && tlog_check_tree((const uint8_t (*)[32])b.proof,
	    b.np, to.n, to.hash, from.n, from.hash) != 0) {
		import_refuse("the to-checkpoint does not extend the from-checkpoint");
		goto done;
	}
	/* The records and tiles. */
	if ((r = bundle_body(&b, from.n, to.n - from.n)) == SUMDB_ENOMEM) {
		rv = 2;
		goto done;
	}
	if (r != 0) {
		import_refuse("%s", b.err);
		goto done;
	}
	first = b.first;
	count = b.count;
	recs = b.recs;
	ntiles = b.ntiles;
	if ((stored = evbuffer_new()) == NULL || (count > 0 &&
	    ((leaves = calloc(count, sizeof(*leaves))) == NULL ||
	    (idx = calloc(count, sizeof(*idx))) == NULL))) {
		rv = 2;
		goto done;
	}
	bt.t = b.t;
	bt.data = b.data;
	bt.n = (size_t)ntiles;

	/* Against our own newest trust base, in one transaction. */
	if (store_begin(env->st, 1) != 0) {
		rv = 2;
		goto done;
	}
	txn = 1;
	bt.st = env->st;
	bt.log = log;
	bt.save = 1;
	h.bt = &bt;
	h.tree = to;
	if ((found = store_latest(env->st, log, NULL, &tb.n, tb.hash)) < 0) {
		rv = 2;
		goto done;
	}
	if (found && tb.n > to.n) {
		import_refuse("the bundle ends at %lld, before our trust base %lld",
		    (long long)to.n, (long long)tb.n);
		goto done;
	}
	if (found && from.n > tb.n) {
		import_refuse("the bundle starts at %lld, after our trust base %lld: "
		    "import the bundles before it first", (long long)from.n,
		    (long long)tb.n);
		goto done;
	}
	if (found && tb.n > 0 && (tlog_prove_tree(to.n, tb.n, &hr, tbproof,
	    &ntb) != 0 || tlog_check_tree((const uint8_t (*)[32])tbproof, ntb,
	    to.n, to.hash, tb.n, tb.hash) != 0)) {
		import_refuse("the to-checkpoint %lld forks from our trust base "
		    "%lld (or its tiles do not match it)", (long long)to.n,
		    (long long)tb.n);
		goto done;
	}
	/* Every tile of the bundle authenticates against the to-tree. */
	for (k = 0; k < ntiles; k++) {
		int64_t	 ti[256];
		uint8_t	 th[256][SUMDB_HASH_SIZE];
		int	 w;

		if (!tile_in_tree(&bt.t[k], to.n)) {
			import_refuse("tile %lld lies beyond tree %lld",
			    (long long)k, (long long)to.n);
			goto done;
		}

		for (w = 0; w < bt.t[k].w; w++)
			ti[w] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT *
			    bt.t[k].l, (bt.t[k].n << SUMDB_TILE_HEIGHT) + w);
		if (btiles_hashes(&bt, &to, ti, bt.t[k].w, th) != 0 ||
		    memcmp(th, bt.data[k].p, bt.data[k].len) != 0) {
			import_refuse("tile %lld does not authenticate against tree "
			    "%lld", (long long)k, (long long)to.n);
			goto done;
		}
	}
	/* And every record against its authenticated leaf. */
	for (k = 0; k < count; k++)
		idx[k] = tlog_stored_hash_index(0, first + k);
	if (count > 0 && btiles_hashes(&bt, &to, idx, count, leaves) != 0) {
		import_refuse("the records' tiles do not authenticate");
		goto done;
	}
	for (k = 0; k < count; k++) {
		tlog_record_hash(recs[k].p, recs[k].len, leaf);
		if (memcmp(leaf, leaves[k], SUMDB_HASH_SIZE) != 0) {
			import_refuse("record %lld is not in tree %lld",
			    (long long)(first + k), (long long)to.n);
			goto done;
		}
		if (record_parse(recs[k].p, recs[k].len, &rec) != 0 ||
		    rec.pathlen >= sizeof(path) ||
		    rec.versionlen >= sizeof(version)) {
			snprintf(path, sizeof(path), "#");
			snprintf(version, sizeof(version), "#%lld",
			    (long long)(first + k));
		} else {
			memcpy(path, rec.path, rec.pathlen);
			path[rec.pathlen] = '\0';
			memcpy(version, rec.version, rec.versionlen);
			version[rec.versionlen] = '\0';
		}
		/*
		 * Stored already (an overlapping or repeated bundle): the
		 * same bytes, or our store and the signed tree disagree.
		 */
		evbuffer_drain(stored, evbuffer_get_length(stored));
		if ((r = store_record(env->st, log, first + k, stored)) == 1) {
			if (evbuffer_get_length(stored) == recs[k].len &&
			    memcmp(evbuffer_pullup(stored, -1), recs[k].p,
			    recs[k].len) == 0)
				continue;
			import_refuse("record %lld is stored with other bytes than "
			    "tree %lld holds: run sumdbd fsck", (long long)(first +
			    k), (long long)to.n);
			goto done;
		}
		if (r < 0) {
			rv = 2;
			goto done;
		}
		r = store_add_record(env->st, log, first + k, path, version,
		    recs[k].p, recs[k].len);
		if (r == 1) {
			import_refuse("%s@%s is stored with another hash", path,
			    version);
			goto done;
		}
		if (r < 0) {
			rv = 2;
			goto done;
		}
	}
	if (bt.storeerr || (to.n > tb.n && store_add_checkpoint(env->st, log,
	    to.n, to.hash, b.tonote.p, b.tonote.len, found ? tb.n : -1,
	    (const uint8_t *)tbproof, ntb * SUMDB_HASH_SIZE, source) !=
	    0)) {
		rv = 2;
		goto done;
	}
	/*
	 * Every record below full_next is stored: move it only when the
	 * bundle starts at or below it, or a gap would read as "not in log".
	 */
	if (store_full_next(env->st, log, &fullnext) != 0) {
		rv = 2;
		goto done;
	}
	if (from.n <= fullnext && to.n > fullnext &&
	    store_set_full_next(env->st, log, to.n) != 0) {
		rv = 2;
		goto done;
	}
	if (store_commit(env->st) != 0) {
		rv = 2;
		goto done;
	}
	txn = 0;
	printf("imported %s: trust base %lld -> %lld, %lld records, %lld "
	    "tiles\n", name, found ? (long long)tb.n : 0LL, (long long)to.n,
	    (long long)count, (long long)ntiles);
	rv = 0;
 done:
	if (rv == 2)
		log_warnx("import: %s", store_errmsg(env->st));
	if (txn)
		store_rollback(env->st);
	/*
	 * A refused bundle for one of our databases is evidence: the
	 * reason, its signed to-checkpoint, and the bundle itself when it
	 * is not too large to keep.
	 */
	if (rv == 1)
		snprintf(err, errsize, "%s", import_refusal);
	if (rv == 1 && log >= 0) {
		if (store_add_evidence(env->st, log, "import", source,
		    import_refusal, NULL, 0, b.tonote.p, b.tonote.len,
		    flen <= EVIDENCE_BUNDLE_MAX ? data : NULL,
		    flen <= EVIDENCE_BUNDLE_MAX ? flen : 0) != 0)
			log_warnx("import: keeping the evidence: %s",
			    store_errmsg(env->st));
		import_refusal[0] = '\0';	/* kept: not again by the caller */
	}
	btiles_release(&bt);
	bundle_free(&b);
	if (stored != NULL)
		evbuffer_free(stored);
	free(leaves);
	free(idx);
	return rv == 0 ? 0 : rv == 1 ? IMPORT_REFUSED : IMPORT_ERROR;
}
