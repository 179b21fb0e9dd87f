/*
 * datatile.c: fuzz record_split_data_tile(), which the mirror runs on
 * every data tile an upstream sends: it accepts exactly the number of
 * records the tile holds (each followed by a blank line), the records
 * rebuild the tile byte for byte, and the mirror's record_parse() and
 * leaf hashes run on each.
 */

#include <event2/buffer.h>

#include "fuzz.h"
#include "sumdb.h"

#define TILE_MAX	256		/* records in a full data tile */

/* The records p holds, found the simple way, or -1 if malformed. */
static int
count_records(const uint8_t *p, size_t len)
{
	size_t	 i, start = 0;
	int	 n = 0;

	for (i = 0; i + 1 < len; i++) {
		if (p[i] != '\n' || p[i + 1] != '\n')
			continue;
		if (!record_text_valid(p + start, i + 1 - start))
			return -1;
		n++;
		start = i + 2;
		i++;
	}
	return start == len ? n : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	static const int ws[] = { 1, 2, 255, TILE_MAX };
	struct span	 out[TILE_MAX + 1];
	struct record	 rec;
	struct evbuffer	*b;
	uint8_t		 leaf[SUMDB_HASH_SIZE];
	size_t		 i;
	int		 n, k;

	n = count_records(p, len);
	/* The widths the mirror asks for: a tile's, and a full one. */
	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		if (ws[i] != n)
			assert(record_split_data_tile(p, len, ws[i], out) != 0);
	assert(record_split_data_tile(p, len, 0, out) == (len == 0 ? 0 :
	    SUMDB_EFORMAT));
	if (n <= 0 || n > TILE_MAX)
		return 0;
	assert(record_split_data_tile(p, len, n, out) == 0);
	assert(record_split_data_tile(p, len, n + 1, out) != 0);
	assert((b = evbuffer_new()) != NULL);
	for (k = 0; k < n; k++) {
		assert(out[k].p >= p && out[k].p + out[k].len <= p + len);
		assert(record_append_data_tile(out[k].p, out[k].len, b) == 0);
		tlog_record_hash(out[k].p, out[k].len, leaf);
		record_parse(out[k].p, out[k].len, &rec);
	}
	assert(evbuffer_get_length(b) == len &&
	    memcmp(evbuffer_pullup(b, -1), p, len) == 0);
	evbuffer_free(b);
	return 0;
}
