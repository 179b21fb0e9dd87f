/*
 * tile.c: tiles of a transparent log (x/mod sumdb/tlog tile.go,
 * c2sp.org/tlog-tiles): canonical tile paths, tile coordinates of a
 * stored hash, hashes from tile data, the tiles a tree adds, and the
 * tile hash reader, which authenticates every tile it reads against a
 * signed tree before it hands out a hash or lets the tiles be saved.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

int
tile_valid(const struct tile *t)
{
	return t->h >= 1 && t->h <= 30 && t->l >= -1 && t->l <= 63 &&
	    t->n >= 0 &&
	    t->w >= 1 && t->w <= (1 << t->h);
}

int
tile_in_tree(const struct tile *t, int64_t size)
{
	int64_t	 avail;
	int	 level = t->l < 0 ? 0 : t->l;

	/* The hashes of that tree at the tile's level. */
	avail = level * t->h >= 63 ? 0 : size >> (level * t->h);
	/* n first: then n << h cannot overflow, nor avail - (n << h). */
	return t->n <= (avail >> t->h) && t->w <= avail - (t->n << t->h);
}

int
tile_format(const struct tile *t, char *buf, size_t size)
{
	int	 g[8], ng = 0, r, o;
	int64_t	 n = t->n;

	if (!tile_valid(t))
		return SUMDB_EFORMAT;
	/* Three-digit groups, most significant first, "x" on all but last. */
	do {
		g[ng++] = (int)(n % 1000);
		n /= 1000;
	} while (n > 0);
	if (t->l == -1)
		o = snprintf(buf, size, "tile/%d/data/", t->h);
	else
		o = snprintf(buf, size, "tile/%d/%d/", t->h, t->l);
	while (o >= 0 && (size_t)o < size && ng-- > 0) {
		r = snprintf(buf + o, size - o, ng > 0 ? "x%03d/" : "%03d",
		    g[ng]);
		o = r < 0 ? r : o + r;
	}
	if (o >= 0 && (size_t)o < size && t->w != 1 << t->h) {
		r = snprintf(buf + o, size - o, ".p/%d", t->w);
		o = r < 0 ? r : o + r;
	}
	if (o < 0 || (size_t)o >= size)
		return SUMDB_ELIMIT;
	return o;
}

/* Parse up to maxdigits decimal digits (any form) into *v. */
static int
parse_num(const char *s, size_t len, size_t maxdigits, int64_t *v)
{
	size_t	 i;

	if (len == 0 || len > maxdigits)
		return -1;
	*v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
tile_parse(const char *path, size_t len, struct tile *t)
{
	const char	*f[16];
	size_t		 flen[16], nf = 0, i, last;
	const char	*p = path, *end = path + len, *slash;
	char		 canon[SUMDB_TILE_PATH_MAX];
	int64_t		 v;
	int		 r;

	if (len == 0 || len >= SUMDB_TILE_PATH_MAX)
		return SUMDB_EFORMAT;
	for (;;) {
		if (nf == 16)
			return SUMDB_EFORMAT;
		slash = memchr(p, '/', end - p);
		f[nf] = p;
		flen[nf] = (slash != NULL ? slash : end) - p;
		nf++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (nf < 4 || flen[0] != 4 || memcmp(f[0], "tile", 4) != 0)
		return SUMDB_EFORMAT;
	if (parse_num(f[1], flen[1], 2, &v) != 0 || v < 1 || v > 30)
		return SUMDB_EFORMAT;
	t->h = (int)v;
	if (flen[2] == 4 && memcmp(f[2], "data", 4) == 0)
		t->l = -1;
	else if (parse_num(f[2], flen[2], 2, &v) == 0 && v <= 63)
		t->l = (int)v;
	else
		return SUMDB_EFORMAT;
	t->w = 1 << t->h;
	last = nf - 1;
	if (flen[nf - 2] > 2 && memcmp(f[nf - 2] + flen[nf - 2] - 2, ".p",
	    2) == 0) {
		if (parse_num(f[nf - 1], flen[nf - 1], 10, &v) != 0 ||
		    v < 1 || v >= (1 << t->h))
			return SUMDB_EFORMAT;
		t->w = (int)v;
		flen[nf - 2] -= 2;
		last = nf - 2;
	}
	t->n = 0;
	for (i = 3; i <= last; i++) {
		p = f[i];
		if (flen[i] > 0 && p[0] == 'x' && i < last)
			r = parse_num(p + 1, flen[i] - 1, 3, &v);
		else
			r = parse_num(p, flen[i], 3, &v);
		if (r != 0 || t->n > (INT64_MAX - v) / 1000)
			return SUMDB_EFORMAT;
		t->n = t->n * 1000 + v;
	}
	/* Only the canonical spelling names a tile. */
	if ((r = tile_format(t, canon, sizeof(canon))) < 0 ||
	    (size_t)r != len || memcmp(canon, path, len) != 0)
		return SUMDB_EFORMAT;
	return 0;
}

/* The tile of height h holding index; *start, *end: its byte range. */
static void
tile_for_index_range(int h, int64_t index, struct tile *t, size_t *start,
    size_t *end)
{
	int64_t	 n;
	int	 level;

	tlog_split_stored_hash_index(index, &level, &n);
	t->h = h;
	t->l = level / h;
	level -= t->l * h;		/* now the level within the tile */
	t->n = n << level >> h;
	n -= t->n << h >> level;	/* now n within the tile's level */
	t->w = (int)((n + 1) << level);
	*start = (size_t)(n << level) * SUMDB_HASH_SIZE;
	*end = (size_t)((n + 1) << level) * SUMDB_HASH_SIZE;
}

void
tile_for_index(int h, int64_t index, struct tile *t)
{
	size_t	 start, end;

	tile_for_index_range(h, index, t, &start, &end);
}

/* The hash of a power-of-two run of tile entries. */
static void
tile_hash(const uint8_t *data, size_t len, uint8_t out[SUMDB_HASH_SIZE])
{
	uint8_t	 l[SUMDB_HASH_SIZE], r[SUMDB_HASH_SIZE];

	if (len == SUMDB_HASH_SIZE) {
		memcpy(out, data, SUMDB_HASH_SIZE);
		return;
	}
	tile_hash(data, len / 2, l);
	tile_hash(data + len / 2, len / 2, r);
	tlog_node_hash(l, r, out);
}

void
tile_data_hash(const uint8_t *data, size_t len, uint8_t out[SUMDB_HASH_SIZE])
{
	tile_hash(data, len, out);
}

int
tile_hash_from_tile(const struct tile *t, const uint8_t *data, size_t len,
    int64_t index, uint8_t out[SUMDB_HASH_SIZE])
{
	struct tile	 t1;
	size_t		 start, end;

	if (!tile_valid(t) || t->l < 0 ||
	    len < (size_t)t->w * SUMDB_HASH_SIZE || index < 0)
		return SUMDB_EFORMAT;
	tile_for_index_range(t->h, index, &t1, &start, &end);
	if (t->l != t1.l || t->n != t1.n || t->w < t1.w)
		return SUMDB_EFORMAT;
	tile_hash(data + start, end - start, out);
	return 0;
}

int
tile_new_tiles(int h, int64_t oldn, int64_t newn,
    int (*fn)(void *, const struct tile *), void *arg)
{
	struct tile	 t;
	int64_t		 on, nn, n;
	int		 level, r;

	t.h = h;
	for (level = 0; level * h < 63 && (newn >> (level * h)) > 0;
	    level++) {
		on = oldn >> (level * h);
		nn = newn >> (level * h);
		if (on == nn)
			continue;
		t.l = level;
		t.w = 1 << h;
		for (n = on >> h; n < nn >> h; n++) {
			t.n = n;
			if ((r = fn(arg, &t)) != 0)
				return r;
		}
		t.n = nn >> h;
		if ((t.w = (int)(nn - (t.n << h))) > 0 &&
		    (r = fn(arg, &t)) != 0)
			return r;
	}
	return 0;
}

int
tile_read_data(const struct tile *t, const struct tlog_hash_reader *r,
    struct evbuffer *out)
{
	int64_t		*index = NULL, start;
	uint8_t		(*h)[SUMDB_HASH_SIZE] = NULL;
	int		 i, rv;

	/* Its hashes must have stored-hash indexes that fit an int64_t. */
	if (!tile_valid(t) || t->l < 0 || t->h * (t->l + 1) >= 60 ||
	    t->n >= INT64_C(1) << (60 - t->h * (t->l + 1)))
		return SUMDB_EFORMAT;
	if ((index = calloc(t->w, sizeof(*index))) == NULL ||
	    (h = calloc(t->w, sizeof(*h))) == NULL) {
		rv = SUMDB_ENOMEM;
		goto done;
	}
	start = t->n << t->h;
	for (i = 0; i < t->w; i++)
		index[i] = tlog_stored_hash_index(t->h * t->l, start + i);
	if (r->read_hashes(r->arg, index, t->w, h) != 0) {
		rv = SUMDB_EREAD;
		goto done;
	}
	rv = evbuffer_add(out, h, (size_t)t->w * SUMDB_HASH_SIZE) == 0 ?
	    0 : SUMDB_ENOMEM;
 done:
	free(index);
	free(h);
	return rv;
}

/*
 * The tile k levels above t, widened as far as a tree of n records
 * allows.  Returns 0, or -1 if it lies outside the tree.
 */
static int
tile_parent(const struct tile *t, int k, int64_t n, struct tile *p)
{
	int64_t	 max;

	*p = *t;
	p->l += k;
	if (p->l * p->h >= 63)
		return -1;
	p->n >>= k * p->h;
	p->w = 1 << p->h;
	max = n >> (p->l * p->h);
	if ((p->n << p->h) + p->w >= max) {
		if ((p->n << p->h) >= max)
			return -1;
		p->w = (int)(max - (p->n << p->h));
	}
	return 0;
}

static int
tile_equal(const struct tile *a, const struct tile *b)
{
	return a->h == b->h && a->l == b->l && a->n == b->n && a->w == b->w;
}

/* The plan of tile_read_hashes(): the tiles to read, in order. */
struct plan {
	struct tile	*t;
	size_t		 n, cap;
};

/* Index of t in the plan, or -1. */
static int
plan_find(const struct plan *pl, const struct tile *t)
{
	size_t	 i;

	for (i = 0; i < pl->n; i++)
		if (tile_equal(&pl->t[i], t))
			return (int)i;
	return -1;
}

static int
plan_add(struct plan *pl, const struct tile *t)
{
	struct tile	*nt;
	size_t		 cap;

	if (pl->n == pl->cap) {
		cap = pl->cap ? pl->cap * 2 : 16;
		if ((nt = reallocarray(pl->t, cap, sizeof(*nt))) == NULL)
			return -1;
		pl->t = nt;
		pl->cap = cap;
	}
	pl->t[pl->n] = *t;
	return (int)pl->n++;
}

int
tile_read_hashes(const struct tlog_tree *tree, const struct tile_reader *tr,
    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct plan	 pl = { NULL, 0, 0 };
	struct tile	 t, p;
	int64_t		 stx[64], lo, k;
	int		 stxorder[64], *order = NULL, nstx = 0, level, i, j;
	const uint8_t	**data = NULL;
	size_t		*len = NULL, ns, x;
	uint8_t		 th[SUMDB_HASH_SIZE], h[SUMDB_HASH_SIZE];
	int		 h8 = tr->height, kk, rv = SUMDB_ENOMEM;

	if (tree->n <= 0 || h8 < 1 || h8 > 30)
		return SUMDB_ERANGE;

	/* The tiles holding the subtrees whose fold is the tree hash. */
	for (lo = 0; lo < tree->n; lo += k) {
		k = INT64_C(1) << (63 - __builtin_clzll(tree->n - lo));
		level = __builtin_ctzll(k);
		stx[nstx] = tlog_stored_hash_index(level, lo >> level);
		tile_for_index(h8, stx[nstx], &t);
		if (tile_parent(&t, 0, tree->n, &p) != 0)
			goto bad;
		if ((j = plan_find(&pl, &p)) < 0 && (j = plan_add(&pl, &p)) < 0)
			goto done;
		stxorder[nstx++] = j;
	}
	ns = pl.n;

	/* Each requested hash: walk up to a planned tile, then back down. */
	if (n > 0 && (order = calloc(n, sizeof(*order))) == NULL)
		goto done;
	for (x = 0; x < n; x++) {
		if (index[x] < 0 ||
		    index[x] >= tlog_stored_hash_index(0, tree->n)) {
			rv = SUMDB_ERANGE;
			goto done;
		}
		tile_for_index(h8, index[x], &t);
		for (kk = 0;; kk++) {
			if (tile_parent(&t, kk, tree->n, &p) != 0)
				goto bad;
			if ((j = plan_find(&pl, &p)) >= 0)
				break;
		}
		order[x] = j;
		for (kk--; kk >= 0; kk--) {
			if (tile_parent(&t, kk, tree->n, &p) != 0 ||
			    p.w != 1 << p.h)
				goto bad;
			if ((j = plan_add(&pl, &p)) < 0)
				goto done;
			order[x] = j;
		}
	}

	if ((data = calloc(pl.n, sizeof(*data))) == NULL ||
	    (len = calloc(pl.n, sizeof(*len))) == NULL)
		goto done;
	if (tr->read_tiles(tr->arg, pl.t, pl.n, data, len) != 0) {
		rv = SUMDB_EREAD;
		goto done;
	}
	for (x = 0; x < pl.n; x++)
		if (data[x] == NULL ||
		    len[x] != (size_t)pl.t[x].w * SUMDB_HASH_SIZE)
			goto bad;

	/* Authenticate the right-edge tiles against the tree hash. */
	for (i = nstx - 1; i >= 0; i--) {
		j = stxorder[i];
		if (tile_hash_from_tile(&pl.t[j], data[j], len[j], stx[i],
		    h) != 0)
			goto bad;
		if (i == nstx - 1)
			memcpy(th, h, SUMDB_HASH_SIZE);
		else
			tlog_node_hash(h, th, th);
	}
	if (memcmp(th, tree->hash, SUMDB_HASH_SIZE) != 0)
		goto bad;

	/* And every other tile against its authenticated parent. */
	for (x = ns; x < pl.n; x++) {
		if (tile_parent(&pl.t[x], 1, tree->n, &p) != 0 ||
		    (j = plan_find(&pl, &p)) < 0 || (size_t)j >= x)
			goto bad;
		if (tile_hash_from_tile(&p, data[j], len[j],
		    tlog_stored_hash_index(p.l * p.h, pl.t[x].n), h) != 0)
			goto bad;
		tile_hash(data[x], len[x], th);
		if (memcmp(h, th, SUMDB_HASH_SIZE) != 0)
			goto bad;
	}

	if (tr->save_tiles != NULL)
		tr->save_tiles(tr->arg, pl.t, pl.n, data, len);

	for (x = 0; x < n; x++) {
		j = order[x];
		if (tile_hash_from_tile(&pl.t[j], data[j], len[j], index[x],
		    out[x]) != 0)
			goto bad;
	}
	rv = 0;
	goto done;
 bad:
	rv = SUMDB_EPROOF;
 done:
	free(pl.t);
	free(order);
	free(data);
	free(len);
	return rv;
}

static int
tile_hash_reader_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct tile_hash_reader	*thr = arg;

	thr->err = tile_read_hashes(&thr->tree, thr->tr, index, n, out);
	return thr->err;
}

void
tile_hash_reader_init(struct tile_hash_reader *thr,
    const struct tlog_tree *tree, const struct tile_reader *tr,
    struct tlog_hash_reader *hr)
{
	thr->tree = *tree;
	thr->tr = tr;
	thr->err = 0;
	hr->read_hashes = tile_hash_reader_read;
	hr->arg = thr;
}
