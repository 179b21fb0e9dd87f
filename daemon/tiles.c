/*
 * tiles.c: one tile reader with backends, as redis's rio.c has one
 * stream with several: a struct tiles holds a backend's operations and
 * state, and every caller reads tiles, and the hashes in them, through
 * the same struct tile_reader and tlog_hash_reader.  The backends here
 * are the store, and tiles held in memory (fetched from an upstream, or
 * taken from a bundle) over the store, which records the tiles it
 * lacks so that the caller can fetch them and read again; the HTTP
 * backend is in tiles_http.c.  Stored tiles are read into scratch
 * buffers that live until the next read.
 */

#include <event2/buffer.h>

#include <stdlib.h>
#include <string.h>

#include "sumdbd.h"
#include "store.h"

static int	stored_read(void *, const struct tile *, size_t,
		    const uint8_t **, size_t *);
static void	stored_save(void *, const struct tile *, size_t,
		    const uint8_t **, const size_t *);

static const struct tiles_ops store_ops = {
	"store", stored_read, stored_save, NULL
};

/*
 * The first tile kept in memory for t's level and index that is at
 * least as wide and need bytes long, or NULL.
 */
static const struct tilemem *
mem_find(const struct tiles *ts, const struct tile *t, size_t need)
{
	size_t	 k;

	for (k = 0; k < ts->nmem; k++)
		if (ts->mem[k].t.l == t->l && ts->mem[k].t.n == t->n &&
		    ts->mem[k].t.w >= t->w && ts->mem[k].len >= need)
			return &ts->mem[k];
	return NULL;
}

void
tiles_scratch_free(struct tiles *ts)
{
	size_t	 i;

	for (i = 0; i < ts->nscratch; i++)
		evbuffer_free(ts->scratch[i]);
	ts->nscratch = 0;
}

/* Stored tile t into a scratch buffer: 1, or 0 if it is not there. */
static int
stored(struct tiles *ts, const struct tile *t, size_t need,
    const uint8_t **data, size_t *len)
{
	struct evbuffer	*b;

	if (ts->nostore || ts->st == NULL || ts->nscratch == TILES_SCRATCH ||
	    (b = evbuffer_new()) == NULL)
		return 0;
	ts->scratch[ts->nscratch++] = b;
	if (store_tile(ts->st, ts->log, t->l, t->n, b) != 1 ||
	    evbuffer_get_length(b) < need)
		return 0;
	*data = evbuffer_pullup(b, -1);
	*len = need;
	return 1;
}

int
tiles_need(struct tiles *ts, const struct tile *t)
{
	struct tile	*m;
	size_t		 k;

	for (k = 0; k < ts->nmissing; k++)
		if (ts->missing[k].l == t->l && ts->missing[k].n == t->n &&
		    ts->missing[k].w >= t->w)
			return 0;
	if ((m = reallocarray(ts->missing, ts->nmissing + 1,
	    sizeof(*m))) == NULL)
		return -1;
	ts->missing = m;
	ts->missing[ts->nmissing++] = *t;
	return 0;
}

/* The store backend, with the memory overlay in front. */
static int
stored_read(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    size_t *len)
{
	struct tiles		*ts = arg;
	const struct tilemem	*m;
	size_t			 i, need;
	int			 miss = 0;

	tiles_scratch_free(ts);
	for (i = 0; i < n; i++) {
		need = (size_t)t[i].w * SUMDB_HASH_SIZE;
		data[i] = NULL;
		if ((m = mem_find(ts, &t[i], need)) != NULL) {
			data[i] = m->data;
			len[i] = need;
			continue;
		}
		if (stored(ts, &t[i], need, &data[i], &len[i]))
			continue;
		if (!ts->overlay)
			return -1;
		miss = 1;
		if (tiles_need(ts, &t[i]) != 0)
			return -1;
	}
	return miss ? -1 : 0;
}

/*
 * Append tile t's bytes p[0..len-1] to the array *a of *n (room for
 * *cap): copied with copy, else borrowed.  0, or -1 out of memory.
 */
static int
hold(struct tilemem **a, size_t *n, size_t *cap, const struct tile *t,
    const uint8_t *p, size_t len, int copy)
{
	struct tilemem	*m;
	size_t		 c;

	if (*n == *cap) {
		c = *cap ? *cap * 2 : 8;
		if ((m = reallocarray(*a, c, sizeof(*m))) == NULL)
			return -1;
		*a = m;
		*cap = c;
	}
	m = &(*a)[*n];
	m->t = *t;
	m->len = len;
	m->owned = copy;
	if (copy) {
		if ((m->data = malloc(len > 0 ? len : 1)) == NULL)
			return -1;
		memcpy(m->data, p, len);
	} else
		m->data = (uint8_t *)p;
	(*n)++;
	return 0;
}

/*
 * Authenticated tiles are stored, in the caller's transaction, or kept
 * for the caller to store.
 */
static void
stored_save(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    const size_t *len)
{
	struct tiles	*ts = arg;
	size_t		 i;

	if (ts->keep) {
		for (i = 0; i < n; i++)
			if (hold(&ts->kept, &ts->nkept, &ts->capkept, &t[i],
			    data[i], len[i], 1) != 0)
				ts->storeerr = 1;
		return;
	}
	if (!ts->save)
		return;
	for (i = 0; i < n; i++)
		if (store_put_tile(ts->st, ts->log, t[i].l, t[i].n, data[i],
		    len[i]) != 0)
			ts->storeerr = 1;
}

void
tiles_init(struct tiles *ts, const struct tiles_ops *ops, void *state)
{
	memset(ts, 0, sizeof(*ts));
	ts->ops = ops;
	ts->state = state;
	ts->tr.height = SUMDB_TILE_HEIGHT;
	ts->tr.read_tiles = ops->read;
	ts->tr.save_tiles = ops->save;
	ts->tr.arg = ts;
}

void
tiles_store_init(struct tiles *ts, struct store *st, int64_t log)
{
	tiles_init(ts, &store_ops, NULL);
	ts->st = st;
	ts->log = log;
}

void
tiles_overlay_init(struct tiles *ts, struct store *st, int64_t log,
    int save)
{
	tiles_store_init(ts, st, log);
	ts->overlay = 1;
	ts->save = save;
}

int
tiles_overlay_add(struct tiles *ts, const struct tile *t, const uint8_t *p,
    size_t len, int copy)
{
	return hold(&ts->mem, &ts->nmem, &ts->capmem, t, p, len, copy);
}

/* The tiles ts kept (ts->keep), and how many: the caller's to free. */
struct tilemem *
tiles_take_kept(struct tiles *ts, size_t *n)
{
	struct tilemem	*k = ts->kept;

	*n = ts->nkept;
	ts->kept = NULL;
	ts->nkept = ts->capkept = 0;
	return k;
}

void
tiles_mem_free(struct tilemem *m, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (m[i].owned)
			free(m[i].data);
	free(m);
}

const struct tilemem *
tiles_overlay_find(const struct tiles *ts, int l, int64_t n)
{
	struct tile	 t = { SUMDB_TILE_HEIGHT, l, n, 0 };

	return mem_find(ts, &t, 0);
}

struct tile *
tiles_take_missing(struct tiles *ts, size_t *n)
{
	struct tile	*m = ts->missing;

	*n = ts->nmissing;
	ts->missing = NULL;
	ts->nmissing = 0;
	return m;
}

void
tiles_reset(struct tiles *ts)
{
	struct tilemem	*k;
	size_t		 n;

	tiles_scratch_free(ts);
	k = tiles_take_kept(ts, &n);
	tiles_mem_free(k, n);
	ts->nmissing = 0;
	ts->storeerr = 0;
	ts->err[0] = '\0';
}

void
tiles_free(struct tiles *ts)
{
	struct tilemem	*k;
	size_t		 n;

	tiles_scratch_free(ts);
	if (ts->ops != NULL && ts->ops->free != NULL)
		ts->ops->free(ts);
	tiles_mem_free(ts->mem, ts->nmem);
	k = tiles_take_kept(ts, &n);
	tiles_mem_free(k, n);
	free(ts->missing);
	ts->mem = NULL;
	ts->missing = NULL;
	ts->nmem = ts->capmem = ts->nmissing = 0;
}

int
tiles_hashes(struct tiles *ts, const struct tlog_tree *tree,
    const int64_t *index, size_t n, uint8_t (*out)[SUMDB_HASH_SIZE])
{
	int	 r;

	r = tile_read_hashes(tree, &ts->tr, index, n, out);
	tiles_scratch_free(ts);
	return r;
}

void
tiles_hash_reader(struct tiles *ts, const struct tlog_tree *tree,
    struct tile_hash_reader *thr, struct tlog_hash_reader *hr)
{
	tile_hash_reader_init(thr, tree, &ts->tr, hr);
}

/* The store's own stored hashes (the private log keeps them all). */
static int
stored_hashes_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct tiles	*ts = arg;

	return store_read_hashes(ts->st, ts->log, index, n, out);
}

void
tiles_stored_hash_reader(struct tiles *ts, struct tlog_hash_reader *hr)
{
	hr->read_hashes = stored_hashes_read;
	hr->arg = ts;
}

/* Hashes held in memory, by stored hash index. */
static int
array_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	const struct hasharray	*a = arg;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (index[i] < 0 || index[i] >= a->n)
			return -1;
		memcpy(out[i], a->h[index[i]], SUMDB_HASH_SIZE);
	}
	return 0;
}

void
tiles_array_hash_reader(struct hasharray *a, struct tlog_hash_reader *hr)
{
	hr->read_hashes = array_read;
	hr->arg = a;
}
