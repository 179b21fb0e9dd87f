/*
 * record.c: the records of a checksum database: the go.sum text of one
 * module@version, the lookup response that carries it with its id and
 * a signed tree note, and data tiles, which hold consecutive record
 * texts each followed by a newline (the format of sum.golang.org and
 * of x/mod from v0.22.0; no id lines).
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <string.h>

#include "sumdb.h"

#define H1_LEN	47		/* "h1:" and 44 base64 characters */

int
record_text_valid(const uint8_t *text, size_t len)
{
	size_t	 i;

	if (len == 0 || text[len - 1] != '\n' || !sumdb_utf8_valid(text, len))
		return 0;
	for (i = 0; i < len; i++) {
		/* Eight bytes none of which is below 0x20 (a newline). */
		while (len - i >= 8) {
			uint64_t	 w;

			memcpy(&w, text + i, 8);
			if (((w - 0x2020202020202020ULL) & ~w &
			    0x8080808080808080ULL) != 0)
				break;
			i += 8;
		}
		if (i == len)
			break;
		if (text[i] < 0x20 && text[i] != '\n')
			return 0;
		if (text[i] == '\n' && i > 0 && text[i - 1] == '\n')
			return 0;
	}
	return 1;
}

/* Whether s is "h1:" and the base64 of a 32-byte hash. */
static int
h1_valid(const char *s, size_t len)
{
	uint8_t	 h[SUMDB_HASH_SIZE];

	return len == H1_LEN && memcmp(s, "h1:", 3) == 0 &&
	    sumdb_b64_decode(s + 3, len - 3, h, sizeof(h)) == SUMDB_HASH_SIZE;
}

/*
 * Parse one go.sum line "<path> <version><suffix> <hash>\n" at p.
 * Returns the length of the line, or -1.
 */
static int
parse_line(const char *p, const char *end, const char *suffix,
    const char **path, size_t *pathlen, const char **version,
    size_t *versionlen, const char **hash, size_t *hashlen)
{
	const char	*sp1, *sp2, *nl;
	size_t		 slen = strlen(suffix);

	if ((nl = memchr(p, '\n', end - p)) == NULL ||
	    (sp1 = memchr(p, ' ', nl - p)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', nl - sp1 - 1)) == NULL ||
	    memchr(sp2 + 1, ' ', nl - sp2 - 1) != NULL)
		return -1;
	*path = p;
	*pathlen = sp1 - p;
	*version = sp1 + 1;
	*versionlen = sp2 - sp1 - 1;
	if (*versionlen <= slen ||
	    memcmp(sp2 - slen, suffix, slen) != 0)
		return -1;
	*versionlen -= slen;
	*hash = sp2 + 1;
	*hashlen = nl - sp2 - 1;
	if (*pathlen == 0 || !h1_valid(*hash, *hashlen))
		return -1;
	return (int)(nl + 1 - p);
}

int
record_parse(const uint8_t *text, size_t len, struct record *r)
{
	const char	*p = (const char *)text, *end = p + len;
	const char	*path2, *version2;
	size_t		 pathlen2, versionlen2;
	int		 n;

	if (!record_text_valid(text, len))
		return SUMDB_EFORMAT;
	if ((n = parse_line(p, end, "", &r->path, &r->pathlen, &r->version,
	    &r->versionlen, &r->ziphash, &r->ziphashlen)) < 0)
		return SUMDB_EFORMAT;
	p += n;
	if ((n = parse_line(p, end, "/go.mod", &path2, &pathlen2, &version2,
	    &versionlen2, &r->modhash, &r->modhashlen)) < 0)
		return SUMDB_EFORMAT;
	if (p + n != end || pathlen2 != r->pathlen ||
	    versionlen2 != r->versionlen ||
	    memcmp(path2, r->path, r->pathlen) != 0 ||
	    memcmp(version2, r->version, r->versionlen) != 0)
		return SUMDB_EFORMAT;
	return 0;
}

int
record_parse_of(const uint8_t *text, size_t len, const char *path,
    const char *version, struct record *r)
{
	if (record_parse(text, len, r) != 0 ||
	    r->pathlen != strlen(path) ||
	    memcmp(r->path, path, r->pathlen) != 0 ||
	    r->versionlen != strlen(version) ||
	    memcmp(r->version, version, r->versionlen) != 0)
		return SUMDB_EFORMAT;
	return 0;
}

int
record_format(const char *path, const char *version, const char *ziphash,
    const char *modhash, struct evbuffer *out)
{
	if (!h1_valid(ziphash, strlen(ziphash)) ||
	    !h1_valid(modhash, strlen(modhash)) ||
	    modpath_check(path, strlen(path), version, strlen(version)) != 0)
		return SUMDB_EFORMAT;
	if (evbuffer_add_printf(out, "%s %s %s\n%s %s/go.mod %s\n", path,
	    version, ziphash, path, version, modhash) < 0)
		return SUMDB_ENOMEM;
	return 0;
}

void
record_unnamed(int64_t id, char path[SUMDB_PATH_MAX],
    char version[SUMDB_PATH_MAX])
{
	snprintf(path, SUMDB_PATH_MAX, "#");
	snprintf(version, SUMDB_PATH_MAX, "#%lld", (long long)id);
}

void
record_key(const uint8_t *text, size_t len, int64_t id,
    char path[SUMDB_PATH_MAX], char version[SUMDB_PATH_MAX])
{
	struct record	 rec;

	if (record_parse(text, len, &rec) != 0 ||
	    rec.pathlen >= SUMDB_PATH_MAX || rec.versionlen >= SUMDB_PATH_MAX) {
		record_unnamed(id, path, version);
		return;
	}
	memcpy(path, rec.path, rec.pathlen);
	path[rec.pathlen] = '\0';
	memcpy(version, rec.version, rec.versionlen);
	version[rec.versionlen] = '\0';
}

int
record_parse_lookup(const uint8_t *msg, size_t len, int64_t *id,
    struct span *text, struct span *note)
{
	const uint8_t	*nl, *p, *end = msg + len;

	if (len == 0 || (nl = memchr(msg, '\n', len)) == NULL ||
	    sumdb_parse_int64((const char *)msg, nl - msg, id) != 0)
		return SUMDB_EFORMAT;
	for (p = nl + 1; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			break;
	if (p + 1 >= end)
		return SUMDB_EFORMAT;
	text->p = nl + 1;
	text->len = p + 1 - text->p;
	note->p = p + 2;
	note->len = end - note->p;
	if (!record_text_valid(text->p, text->len))
		return SUMDB_EFORMAT;
	return 0;
}

int
record_format_lookup(int64_t id, const uint8_t *text, size_t textlen,
    const uint8_t *note, size_t notelen, struct evbuffer *out)
{
	if (id < 0 || !record_text_valid(text, textlen))
		return SUMDB_EFORMAT;
	if (evbuffer_add_printf(out, "%lld\n", (long long)id) < 0 ||
	    evbuffer_add(out, text, textlen) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0 ||
	    evbuffer_add(out, note, notelen) != 0)
		return SUMDB_ENOMEM;
	return 0;
}

int
record_split_data_tile(const uint8_t *p, size_t len, size_t n,
    struct span *out)
{
	const uint8_t	*end = p + len, *q;
	size_t		 i;

	for (i = 0; i < n; i++) {
		/* A record ends at the first blank line: it has none. */
		for (q = p; (q = memchr(q, '\n', (size_t)(end - q))) !=
		    NULL && q + 1 < end && q[1] != '\n'; q++)
			;
		if (q == NULL || q + 1 >= end)
			return SUMDB_EFORMAT;
		out[i].p = p;
		out[i].len = q + 1 - p;
		if (!record_text_valid(out[i].p, out[i].len))
			return SUMDB_EFORMAT;
		p = q + 2;
	}
	return p == end ? 0 : SUMDB_EFORMAT;
}

int
record_append_data_tile(const uint8_t *text, size_t len,
    struct evbuffer *out)
{
	if (!record_text_valid(text, len))
		return SUMDB_EFORMAT;
	if (evbuffer_add(out, text, len) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0)
		return SUMDB_ENOMEM;
	return 0;
}
