/*
 * bundle.c: the parser of sumdbd's differential bundles (written by
 * `sumdbd export`, read by `sumdbd import`): everything between two
 * trust bases of one log in one file.  Only the format: no signature,
 * proof or tile is checked here, and nothing is stored.
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

#include <sodium.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

/* The next line (without '\n') as a NUL-terminated copy in buf. */
static int
cur_line(struct bundle_cur *c, char *buf, size_t size)
{
	const uint8_t	*nl;
	size_t		 len;

	if ((nl = memchr(c->p, '\n', c->end - c->p)) == NULL ||
	    (len = nl - c->p) >= size || memchr(c->p, '\0', len) != NULL)
		return -1;
	memcpy(buf, c->p, len);
	buf[len] = '\0';
	c->p = nl + 1;
	return 0;
}

static int
cur_bytes(struct bundle_cur *c, size_t len, struct span *s)
{
	if ((size_t)(c->end - c->p) < len)
		return -1;
	s->p = c->p;
	s->len = len;
	c->p += len;
	return 0;
}

/* "KEY N\n": N in *n. */
static int
cur_num(struct bundle_cur *c, const char *key, int64_t *n)
{
	char	 line[128], *sp;

	if (cur_line(c, line, sizeof(line)) != 0 ||
	    (sp = strchr(line, ' ')) == NULL)
		return -1;
	*sp = '\0';
	if (strcmp(line, key) != 0 || sumdb_parse_int64(sp + 1,
	    strlen(sp + 1), n) != 0)
		return -1;
	return 0;
}

/* Set b's reason; returns SUMDB_EFORMAT. */
static int
malformed(struct bundle *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
malformed(struct bundle *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return SUMDB_EFORMAT;
}

int
bundle_head(struct bundle *b, const uint8_t *data, size_t len)
{
	struct bundle_cur	*c = &b->c;
	uint8_t		 sum[32];
	char		 line[2200], hex[65];
	int64_t		 k;
	size_t		 i;

	memset(b, 0, sizeof(*b));
	c->p = data;
	c->end = data + len;
	if (len < strlen(BUNDLE_MAGIC) + 70 ||
	    memcmp(c->p, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) != 0)
		return malformed(b, "not a sumdbd bundle");
	/* The trailer: the sha256 of everything before it. */
	if (c->end[-1] != '\n' || memcmp(c->end - 69, "end ", 4) != 0)
		return malformed(b, "truncated bundle");
	crypto_hash_sha256(sum, c->p, len - 69);
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	if (memcmp(c->end - 65, hex, 64) != 0)
		return malformed(b, "the bundle's checksum does not match: "
		    "damaged");
	c->end -= 69;		/* "end " HEX "\n" */
	c->p += strlen(BUNDLE_MAGIC);
	if (cur_line(c, line, sizeof(line)) != 0 ||
	    strncmp(line, "db ", 3) != 0)
		return malformed(b, "malformed bundle header");
	snprintf(b->name, sizeof(b->name), "%s", line + 3);
	b->named = 1;
	if (cur_num(c, "from", &b->from) != 0 || cur_num(c, "to", &b->to) !=
	    0 || b->from > b->to || cur_num(c, "note", &k) != 0 ||
	    cur_bytes(c, (size_t)k, &b->fromnote) != 0 ||
	    cur_num(c, "note", &k) != 0 ||
	    cur_bytes(c, (size_t)k, &b->tonote) != 0 ||
	    cur_num(c, "proof", &k) != 0 || k > SUMDB_PROOF_MAX)
		return malformed(b, "malformed bundle header");
	b->np = (size_t)k;
	for (i = 0; i < b->np; i++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    sumdb_b64_decode(line, strlen(line), b->proof[i],
		    SUMDB_HASH_SIZE) != SUMDB_HASH_SIZE)
			return malformed(b, "malformed proof");
	return 0;
}

int
bundle_body(struct bundle *b, int64_t first, int64_t count)
{
	struct bundle_cur	*c = &b->c;
	char		 line[2200], *sp;
	int64_t		 k, len;

	/*
	 * A record takes 3 bytes at least ("1\n\n"), a tile more than 32:
	 * a count the bytes left cannot hold is malformed, not allocated.
	 */
	if (cur_line(c, line, sizeof(line)) != 0 ||
	    sscanf(line, "records %lld %lld", (long long *)&b->first,
	    (long long *)&b->count) != 2 || b->first != first ||
	    b->count != count || count > 100000000 ||
	    count > (c->end - c->p) / 3)
		return malformed(b, "malformed records section");
	if (count > 0 && (b->recs = calloc(count, sizeof(*b->recs))) == NULL)
		return SUMDB_ENOMEM;
	for (k = 0; k < count; k++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    sumdb_parse_int64(line, strlen(line), &len) != 0 ||
		    cur_bytes(c, (size_t)len, &b->recs[k]) != 0 ||
		    !record_text_valid(b->recs[k].p, b->recs[k].len))
			return malformed(b, "malformed record %lld",
			    (long long)(first + k));
	if (cur_num(c, "tiles", &b->ntiles) != 0 || b->ntiles > 100000000 ||
	    b->ntiles > (c->end - c->p) / SUMDB_HASH_SIZE)
		return malformed(b, "malformed tiles section");
	if (b->ntiles > 0 && ((b->t = calloc(b->ntiles, sizeof(*b->t))) ==
	    NULL || (b->data = calloc(b->ntiles, sizeof(*b->data))) == NULL))
		return SUMDB_ENOMEM;
	for (k = 0; k < b->ntiles; k++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    (sp = strchr(line, ' ')) == NULL ||
		    tile_parse(line, sp - line, &b->t[k]) != 0 ||
		    b->t[k].l < 0 || b->t[k].h != SUMDB_TILE_HEIGHT ||
		    sumdb_parse_int64(sp + 1, strlen(sp + 1), &len) != 0 ||
		    len != (int64_t)b->t[k].w * SUMDB_HASH_SIZE ||
		    cur_bytes(c, (size_t)len, &b->data[k]) != 0)
			return malformed(b, "malformed tile %lld", (long long)k);
	if (c->p != c->end)
		return malformed(b, "trailing bytes in the bundle");
	return 0;
}

void
bundle_free(struct bundle *b)
{
	free(b->recs);
	free(b->t);
	free(b->data);
	b->recs = NULL;
	b->t = NULL;
	b->data = NULL;
}

int
bundle_sizes(const uint8_t *p, size_t len, int64_t *from, int64_t *to)
{
	struct bundle	 b;
	int		 r;

	if ((r = bundle_head(&b, p, len)) == 0) {
		*from = b.from;
		*to = b.to;
	}
	bundle_free(&b);
	return r;
}
