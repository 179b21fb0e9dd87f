/*
 * tlog.c: the Merkle tree of a transparent log (RFC 6962, x/mod
 * sumdb/tlog): leaf and node hashes, the append-only stored-hash
 * layout, tree hashes, inclusion and consistency proofs, and the tree
 * note text.  Proofs are produced by reading the stored hashes they
 * need in one batch through a tlog_hash_reader, and checked with the
 * iterative algorithms of RFC 9162 section 2.1.
 */

#include <event2/buffer.h>

#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

#define TREE_PREFIX	"go.sum database tree\n"
#define TREE_PREFIX_LEN	(sizeof(TREE_PREFIX) - 1)

/* The most stored hashes a proof or a tree hash reads (2 per level). */
#define NEED_MAX	(2 * SUMDB_PROOF_MAX)

struct need {
	int64_t		 index[NEED_MAX];
	size_t		 n;
};

void
tlog_record_hash(const uint8_t *data, size_t len,
    uint8_t out[SUMDB_HASH_SIZE])
{
	sumdb_sha256_prefixed(0x00, data, len, out);
}

void
tlog_node_hash(const uint8_t l[SUMDB_HASH_SIZE],
    const uint8_t r[SUMDB_HASH_SIZE], uint8_t out[SUMDB_HASH_SIZE])
{
	uint8_t	 buf[1 + 2 * SUMDB_HASH_SIZE];

	buf[0] = 0x01;
	memcpy(buf + 1, l, SUMDB_HASH_SIZE);
	memcpy(buf + 1 + SUMDB_HASH_SIZE, r, SUMDB_HASH_SIZE);
	sumdb_sha256(buf, sizeof(buf), out);
}

void
tlog_empty_hash(uint8_t out[SUMDB_HASH_SIZE])
{
	sumdb_sha256("", 0, out);
}

int64_t
tlog_stored_hash_index(int level, int64_t n)
{
	int64_t	 i = 0;
	int	 l;

	/* Hashes at (level, n) come right after the last leaf beneath. */
	for (l = level; l > 0; l--)
		n = 2 * n + 1;
	for (; n > 0; n >>= 1)
		i += n;
	return i + level;
}

void
tlog_split_stored_hash_index(int64_t index, int *level, int64_t *n)
{
	int64_t	 m = index / 2, indexn, x;

	/* Start low and walk forward: record m adds 1+ctz(m+1) hashes. */
	indexn = tlog_stored_hash_index(0, m);
	for (;;) {
		x = indexn + 1 + __builtin_ctzll((uint64_t)(m + 1));
		if (x > index)
			break;
		m++;
		indexn = x;
	}
	*level = (int)(index - indexn);
	*n = m >> *level;
}

int64_t
tlog_stored_hash_count(int64_t n)
{
	int64_t		 count;
	uint64_t	 i;

	if (n <= 0)
		return 0;
	count = tlog_stored_hash_index(0, n - 1) + 1;
	for (i = (uint64_t)(n - 1); i & 1; i >>= 1)
		count++;
	return count;
}

static int
read_hashes(const struct tlog_hash_reader *r, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	if (n == 0)
		return 0;
	return r->read_hashes(r->arg, index, n, out) == 0 ? 0 : SUMDB_EREAD;
}

int
tlog_stored_hashes_for_record(int64_t n, const uint8_t h[SUMDB_HASH_SIZE],
    const struct tlog_hash_reader *r, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	int64_t	 index[64];
	uint8_t	 old[64][SUMDB_HASH_SIZE];
	int	 i, m;

	if (n < 0)
		return SUMDB_ERANGE;
	m = __builtin_ctzll((uint64_t)(n + 1));
	for (i = 0; i < m; i++)
		index[m - 1 - i] = tlog_stored_hash_index(i, (n >> i) - 1);
	if (read_hashes(r, index, m, old) != 0)
		return SUMDB_EREAD;
	memcpy(out[0], h, SUMDB_HASH_SIZE);
	for (i = 0; i < m; i++)
		tlog_node_hash(old[m - 1 - i], out[i], out[i + 1]);
	return m + 1;
}

/* The largest power of two strictly less than n (n > 1), and its log. */
static int64_t
maxpow2(int64_t n, int *level)
{
	int	 l = 63 - __builtin_clzll((uint64_t)(n - 1));

	if (level != NULL)
		*level = l;
	return INT64_C(1) << l;
}

static int
need_add(struct need *nd, int64_t index)
{
	if (nd->n == NEED_MAX)
		return -1;
	nd->index[nd->n++] = index;
	return 0;
}

/* The stored hashes of the perfect subtrees that make up [lo, hi). */
static int
subtree_index(int64_t lo, int64_t hi, struct need *nd)
{
	int64_t	 k;
	int	 level;

	while (lo < hi) {
		k = maxpow2(hi - lo + 1, &level);
		if (need_add(nd, tlog_stored_hash_index(level, lo >> level)))
			return -1;
		lo += k;
	}
	return 0;
}

/*
 * Fold the subtree hashes of [lo, hi), starting at *h, into out and
 * advance *h past them.
 */
static void
subtree_hash(int64_t lo, int64_t hi, const uint8_t (**h)[SUMDB_HASH_SIZE],
    uint8_t out[SUMDB_HASH_SIZE])
{
	int	 ntree = 0, i;

	while (lo < hi) {
		lo += maxpow2(hi - lo + 1, NULL);
		ntree++;
	}
	memcpy(out, (*h)[ntree - 1], SUMDB_HASH_SIZE);
	for (i = ntree - 2; i >= 0; i--)
		tlog_node_hash((*h)[i], out, out);
	*h += ntree;
}

int
tlog_tree_hash(int64_t n, const struct tlog_hash_reader *r,
    uint8_t out[SUMDB_HASH_SIZE])
{
	struct need			 nd = { .n = 0 };
	uint8_t				 h[NEED_MAX][SUMDB_HASH_SIZE];
	const uint8_t			(*p)[SUMDB_HASH_SIZE] = h;

	if (n < 0)
		return SUMDB_ERANGE;
	if (n == 0) {
		tlog_empty_hash(out);
		return 0;
	}
	if (subtree_index(0, n, &nd) != 0)
		return SUMDB_ERANGE;
	if (read_hashes(r, nd.index, nd.n, h) != 0)
		return SUMDB_EREAD;
	subtree_hash(0, n, &p, out);
	return 0;
}

static int
leaf_proof_index(int64_t lo, int64_t hi, int64_t n, struct need *nd)
{
	int64_t	 k;

	if (lo + 1 == hi)
		return 0;
	k = maxpow2(hi - lo, NULL);
	if (n < lo + k)
		return leaf_proof_index(lo, lo + k, n, nd) ||
		    subtree_index(lo + k, hi, nd) ? -1 : 0;
	return subtree_index(lo, lo + k, nd) ||
	    leaf_proof_index(lo + k, hi, n, nd) ? -1 : 0;
}

static void
leaf_proof(int64_t lo, int64_t hi, int64_t n,
    const uint8_t (**h)[SUMDB_HASH_SIZE], uint8_t (*proof)[SUMDB_HASH_SIZE],
    size_t *np)
{
	uint8_t	 th[SUMDB_HASH_SIZE];
	int64_t	 k;

	if (lo + 1 == hi)
		return;
	k = maxpow2(hi - lo, NULL);
	if (n < lo + k) {
		leaf_proof(lo, lo + k, n, h, proof, np);
		subtree_hash(lo + k, hi, h, th);
	} else {
		subtree_hash(lo, lo + k, h, th);
		leaf_proof(lo + k, hi, n, h, proof, np);
	}
	memcpy(proof[(*np)++], th, SUMDB_HASH_SIZE);
}

int
tlog_prove_record(int64_t t, int64_t n, const struct tlog_hash_reader *r,
    uint8_t (*proof)[SUMDB_HASH_SIZE], size_t *np)
{
	struct need			 nd = { .n = 0 };
	uint8_t				 h[NEED_MAX][SUMDB_HASH_SIZE];
	const uint8_t			(*p)[SUMDB_HASH_SIZE] = h;

	*np = 0;
	if (t <= 0 || n < 0 || n >= t)
		return SUMDB_ERANGE;
	if (leaf_proof_index(0, t, n, &nd) != 0)
		return SUMDB_ERANGE;
	if (read_hashes(r, nd.index, nd.n, h) != 0)
		return SUMDB_EREAD;
	leaf_proof(0, t, n, &p, proof, np);
	return 0;
}

static int
tree_proof_index(int64_t lo, int64_t hi, int64_t n, struct need *nd)
{
	int64_t	 k;

	if (n == hi)
		return lo == 0 ? 0 : subtree_index(lo, hi, nd);
	k = maxpow2(hi - lo, NULL);
	if (n <= lo + k)
		return tree_proof_index(lo, lo + k, n, nd) ||
		    subtree_index(lo + k, hi, nd) ? -1 : 0;
	return subtree_index(lo, lo + k, nd) ||
	    tree_proof_index(lo + k, hi, n, nd) ? -1 : 0;
}

static void
tree_proof(int64_t lo, int64_t hi, int64_t n,
    const uint8_t (**h)[SUMDB_HASH_SIZE], uint8_t (*proof)[SUMDB_HASH_SIZE],
    size_t *np)
{
	uint8_t	 th[SUMDB_HASH_SIZE];
	int64_t	 k;

	if (n == hi) {
		if (lo == 0)
			return;
		subtree_hash(lo, hi, h, th);
		memcpy(proof[(*np)++], th, SUMDB_HASH_SIZE);
		return;
	}
	k = maxpow2(hi - lo, NULL);
	if (n <= lo + k) {
		tree_proof(lo, lo + k, n, h, proof, np);
		subtree_hash(lo + k, hi, h, th);
	} else {
		subtree_hash(lo, lo + k, h, th);
		tree_proof(lo + k, hi, n, h, proof, np);
	}
	memcpy(proof[(*np)++], th, SUMDB_HASH_SIZE);
}

int
tlog_prove_tree(int64_t t, int64_t n, const struct tlog_hash_reader *r,
    uint8_t (*proof)[SUMDB_HASH_SIZE], size_t *np)
{
	struct need			 nd = { .n = 0 };
	uint8_t				 h[NEED_MAX][SUMDB_HASH_SIZE];
	const uint8_t			(*p)[SUMDB_HASH_SIZE] = h;

	*np = 0;
	if (t < 1 || n < 1 || n > t)
		return SUMDB_ERANGE;
	if (tree_proof_index(0, t, n, &nd) != 0)
		return SUMDB_ERANGE;
	if (read_hashes(r, nd.index, nd.n, h) != 0)
		return SUMDB_EREAD;
	tree_proof(0, t, n, &p, proof, np);
	return 0;
}

int
tlog_check_record(const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np,
    int64_t t, const uint8_t th[SUMDB_HASH_SIZE], int64_t n,
    const uint8_t h[SUMDB_HASH_SIZE])
{
	uint8_t		 r[SUMDB_HASH_SIZE];
	uint64_t	 fn, sn;
	size_t		 i;

	if (t <= 0 || n < 0 || n >= t || np > SUMDB_PROOF_MAX)
		return SUMDB_EPROOF;
	fn = (uint64_t)n;
	sn = (uint64_t)(t - 1);
	memcpy(r, h, SUMDB_HASH_SIZE);
	for (i = 0; i < np; i++) {
		if (sn == 0)
			return SUMDB_EPROOF;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			tlog_node_hash(r, proof[i], r);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, th, SUMDB_HASH_SIZE) != 0)
		return SUMDB_EPROOF;
	return 0;
}

int
tlog_check_tree(const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np,
    int64_t t, const uint8_t th[SUMDB_HASH_SIZE], int64_t n,
    const uint8_t h[SUMDB_HASH_SIZE])
{
	uint8_t		 fr[SUMDB_HASH_SIZE], sr[SUMDB_HASH_SIZE];
	const uint8_t	*c;
	uint64_t	 fn, sn;
	size_t		 i;

	if (t < 1 || n < 1 || n > t || np > SUMDB_PROOF_MAX)
		return SUMDB_EPROOF;
	if (n == t)
		return np == 0 && memcmp(h, th, SUMDB_HASH_SIZE) == 0 ?
		    0 : SUMDB_EPROOF;
	if (np == 0)
		return SUMDB_EPROOF;
	fn = (uint64_t)(n - 1);
	sn = (uint64_t)(t - 1);
	/* If n is a power of two, its root is the proof's implicit head. */
	if ((n & (n - 1)) == 0) {
		c = h;
		i = 0;
	} else {
		c = proof[0];
		i = 1;
	}
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, c, SUMDB_HASH_SIZE);
	memcpy(sr, c, SUMDB_HASH_SIZE);
	for (; i < np; i++) {
		if (sn == 0)
			return SUMDB_EPROOF;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(proof[i], fr, fr);
			tlog_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			tlog_node_hash(sr, proof[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, h, SUMDB_HASH_SIZE) != 0 ||
	    memcmp(sr, th, SUMDB_HASH_SIZE) != 0)
		return SUMDB_EPROOF;
	return 0;
}

int
tlog_format_tree(const struct tlog_tree *t, struct evbuffer *out)
{
	char	 b64[SUMDB_B64_SIZE(SUMDB_HASH_SIZE)];

	sumdb_b64_encode(t->hash, SUMDB_HASH_SIZE, b64);
	if (evbuffer_add_printf(out, TREE_PREFIX "%lld\n%s\n",
	    (long long)t->n, b64) < 0)
		return SUMDB_ENOMEM;
	return 0;
}

/*
 * The size and root lines at p of a checkpoint ending at end, into *t.
 * Returns where the next line starts, or NULL if they do not parse.
 */
static const uint8_t *
size_root(const uint8_t *p, const uint8_t *end, struct tlog_tree *t)
{
	const uint8_t	*nl1, *nl2;

	if ((nl1 = memchr(p, '\n', end - p)) == NULL ||
	    (nl2 = memchr(nl1 + 1, '\n', end - nl1 - 1)) == NULL ||
	    sumdb_parse_int64((const char *)p, nl1 - p, &t->n) != 0 ||
	    sumdb_b64_decode((const char *)nl1 + 1, nl2 - nl1 - 1, t->hash,
	    SUMDB_HASH_SIZE) != SUMDB_HASH_SIZE)
		return NULL;
	return nl2 + 1;
}

int
tlog_parse_checkpoint(const uint8_t *text, size_t len, size_t *originlen,
    struct tlog_tree *t)
{
	const uint8_t	*end = text + len, *nl0, *p;

	if (len > SUMDB_NOTE_MAX || len == 0 || end[-1] != '\n' ||
	    (nl0 = memchr(text, '\n', len)) == NULL || nl0 == text ||
	    (p = size_root(nl0 + 1, end, t)) == NULL)
		return SUMDB_EFORMAT;
	for (; p < end; p++)
		if (*p == '\n' && p[-1] == '\n')
			return SUMDB_EFORMAT;	/* an empty extension line */
	*originlen = nl0 - text;
	return 0;
}

int
tlog_parse_tree(const uint8_t *text, size_t len, struct tlog_tree *t)
{
	if (len > SUMDB_NOTE_MAX || len < TREE_PREFIX_LEN ||
	    memcmp(text, TREE_PREFIX, TREE_PREFIX_LEN) != 0 ||
	    size_root(text + TREE_PREFIX_LEN, text + len, t) == NULL)
		return SUMDB_EFORMAT;
	return 0;
}
