/*
 * bundle.c: fuzz the bundle parser of `sumdbd import` (bundle_head(),
 * bundle_body() and bundle_sizes() in daemon/sumdb/bundle.c), then what
 * the import checks before it touches the store:
 * both checkpoints under the log's key, the consistency proof, every
 * tile against the to-tree (from the bundle's own tiles) and every
 * record against its leaf.  Each input runs twice: as it is, and with
 * its checksum trailer recomputed, so that mutations get past it.
 */

#include <sodium.h>

#include "fuzz.h"
#include "sumdb.h"

/* The key of the seed bundles (tests/fuzz/seed.sh). */
static const char vkey[] =
    "sumdb.test.example+ef2cd172+AZH4HXVorpQQHcoUUBMqBGQMzCgguGmw/TXoshYOnX1B";

/* The bundle's tiles only, as the import's tile overlay finds them. */
static int
only_read(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    size_t *len)
{
	struct bundle	*b = arg;
	size_t		 i, need;
	int64_t		 k;

	for (i = 0; i < n; i++) {
		need = (size_t)t[i].w * SUMDB_HASH_SIZE;
		for (k = 0; k < b->ntiles; k++)
			if (b->t[k].l == t[i].l && b->t[k].n == t[i].n &&
			    b->data[k].len >= need)
				break;
		if (k == b->ntiles)
			return -1;
		data[i] = b->data[k].p;
		len[i] = need;
	}
	return 0;
}

/* bundle_import()'s checks of tiles and records, without the store. */
static void
authenticate(struct bundle *b, const struct tlog_tree *to)
{
	struct tile_reader	 tr = { SUMDB_TILE_HEIGHT, only_read, NULL, b };
	struct record		 rec;
	int64_t			 ti[256], k, idx;
	uint8_t			 th[256][SUMDB_HASH_SIZE];
	uint8_t			 leaf[SUMDB_HASH_SIZE], h[1][SUMDB_HASH_SIZE];
	int			 w;

	for (k = 0; k < b->ntiles; k++) {
		if (!tile_in_tree(&b->t[k], to->n))
			return;		/* refused */
		for (w = 0; w < b->t[k].w; w++)
			ti[w] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT *
			    b->t[k].l, (b->t[k].n << SUMDB_TILE_HEIGHT) + w);
		if (tile_read_hashes(to, &tr, ti, b->t[k].w, th) != 0 ||
		    memcmp(th, b->data[k].p, b->data[k].len) != 0)
			return;		/* refused */
	}
	for (k = 0; k < b->count; k++) {
		idx = tlog_stored_hash_index(0, b->first + k);
		if (tile_read_hashes(to, &tr, &idx, 1, h) != 0)
			continue;
		tlog_record_hash(b->recs[k].p, b->recs[k].len, leaf);
		if (memcmp(leaf, h[0], SUMDB_HASH_SIZE) == 0)
			record_parse(b->recs[k].p, b->recs[k].len, &rec);
	}
}

static void
check(const uint8_t *p, size_t len)
{
	static struct note_verifier	 v;
	struct bundle			 b;
	struct note			 n;
	struct tlog_tree		 from, to;
	int64_t				 k, sfrom, sto;
	int				 r, sizes, verified;

	if (v.name[0] == '\0')
		assert(note_verifier_parse(vkey, strlen(vkey), &v) == 0);
	/* bundle_sizes() agrees with the head. */
	sizes = bundle_sizes(p, len, &sfrom, &sto);
	if ((r = bundle_head(&b, p, len)) != 0) {
		assert(r == SUMDB_EFORMAT && b.err[0] != '\0' && sizes == r);
		bundle_free(&b);
		return;
	}
	assert(sizes == 0 && sfrom == b.from && sto == b.to);
	assert(b.named && b.from >= 0 && b.from <= b.to);
	assert(b.np <= SUMDB_PROOF_MAX);
	assert(b.tonote.p >= p && b.tonote.p + b.tonote.len <= p + len);
	/* The sizes the import takes: the signed ones, when they verify. */
	from.n = b.from;
	verified = note_open(b.tonote.p, b.tonote.len, &v, 1, &n) == 0 &&
	    tlog_parse_tree(n.text, n.textlen, &to) == 0 && to.n > 0;
	if (verified && from.n > 0)
		verified = note_open(b.fromnote.p, b.fromnote.len, &v, 1,
		    &n) == 0 && tlog_parse_tree(n.text, n.textlen, &from) ==
		    0 && tlog_check_tree((const uint8_t (*)[32])b.proof, b.np,
		    to.n, to.hash, from.n, from.hash) == 0;
	if (!verified) {
		from.n = b.from;
		to.n = b.to;
	}
	if ((r = bundle_body(&b, from.n, to.n - from.n)) != 0) {
		assert((r == SUMDB_EFORMAT && b.err[0] != '\0') ||
		    r == SUMDB_ENOMEM);
		bundle_free(&b);
		return;
	}
	assert(b.first == from.n && b.count == to.n - from.n);
	assert(b.c.p == b.c.end);
	for (k = 0; k < b.count; k++)
		assert(record_text_valid(b.recs[k].p, b.recs[k].len));
	for (k = 0; k < b.ntiles; k++)
		assert(b.t[k].h == SUMDB_TILE_HEIGHT && b.t[k].l >= 0 &&
		    b.data[k].len == (size_t)b.t[k].w * SUMDB_HASH_SIZE);
	if (verified)
		authenticate(&b, &to);
	bundle_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	uint8_t	*q, sum[32];
	char	 hex[65];
	size_t	 body = len;

	check(p, len);
	/* Again with the right trailer: "end " HEX "\n". */
	if (len >= 69 && memcmp(p + len - 69, "end ", 4) == 0 &&
	    p[len - 1] == '\n')
		body = len - 69;
	if ((q = malloc(body + 69)) == NULL)
		abort();
	memcpy(q, p, body);
	crypto_hash_sha256(sum, q, body);
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	memcpy(q + body, "end ", 4);
	memcpy(q + body + 4, hex, 64);
	q[body + 68] = '\n';
	check(q, body + 69);
	free(q);
	return 0;
}
