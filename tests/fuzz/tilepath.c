/*
 * tilepath.c: fuzz tile_parse() as serve.c and the mirror use it on a
 * request's path ("tile/8/0/x001/234.p/17", a C string).  An accepted
 * path is valid and is exactly what tile_format() writes for it, and
 * tile_in_tree(), which serve.c then asks, holds exactly.  The first
 * bytes also make a tile whose path must parse back to it.
 */

#include "fuzz.h"
#include "sumdb.h"

/* tile_in_tree(), as serve.c, the mirror and import ask it, in wide math. */
static void
check_in_tree(const struct tile *t, int64_t size)
{
	unsigned __int128	 end, avail;
	int			 shift = (t->l < 0 ? 0 : t->l) * t->h;

	avail = shift >= 64 ? 0 : (uint64_t)size >> shift;
	end = ((unsigned __int128)t->n << t->h) + (unsigned)t->w;
	assert(tile_in_tree(t, size) == (end <= avail));
}

static void
check_path(const char *s, size_t len)
{
	struct tile	 t;
	char		 buf[SUMDB_TILE_PATH_MAX];
	int		 r;

	if ((r = tile_parse(s, len, &t)) != 0) {
		assert(r == SUMDB_EFORMAT);
		return;
	}
	assert(tile_valid(&t));
	r = tile_format(&t, buf, sizeof(buf));
	assert(r > 0 && (size_t)r == len && memcmp(buf, s, len) == 0);
	check_in_tree(&t, 0);
	check_in_tree(&t, 42965376);
	check_in_tree(&t, INT64_MAX);
}

/*
 * A tile from the input's first bytes: its path parses back to it, and
 * it is in a tree of the next bytes' size exactly when it should be.
 */
static void
check_tile(const uint8_t *p, size_t len)
{
	struct tile	 t, t2;
	char		 buf[SUMDB_TILE_PATH_MAX];
	int64_t		 size;
	int		 r;

	if (len < 14)
		return;
	t.h = p[0];
	t.l = (int8_t)p[1];
	memcpy(&t.n, p + 2, sizeof(t.n));
	memcpy(&t.w, p + 10, sizeof(t.w));
	if ((r = tile_format(&t, buf, sizeof(buf))) < 0) {
		assert(!tile_valid(&t));
		return;
	}
	assert(tile_valid(&t));
	assert(tile_parse(buf, r, &t2) == 0);
	assert(t.h == t2.h && t.l == t2.l && t.n == t2.n && t.w == t2.w);
	if (len >= 22) {		/* and a tree size */
		memcpy(&size, p + 14, sizeof(size));
		check_in_tree(&t, size & INT64_MAX);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	char	*s = fuzz_str(p, len);

	check_path(s, strlen(s));	/* as serve.c passes it */
	check_path(s, len);
	check_tile(p, len);
	free(s);
	return 0;
}
