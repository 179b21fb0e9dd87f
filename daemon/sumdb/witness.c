/*
 * witness.c: the bytes of c2sp.org/tlog-witness add-checkpoint: the
 * request body ("old N", up to 63 consistency-proof hashes in base64,
 * an empty line, the signed checkpoint) parsed and written, and the
 * answers a witness gives (cosignature lines; "N\n" with a 409).
 */

#include <event2/buffer.h>

#include <string.h>

#include "sumdb.h"

#define OLD_PREFIX	"old "
#define OLD_PREFIX_LEN	4

int
witness_parse_req(const uint8_t *body, size_t len, struct witness_req *r)
{
	const uint8_t	*p = body, *end = body + len, *nl;

	if (len > WITNESS_REQ_MAX)
		return SUMDB_ELIMIT;
	if ((nl = memchr(p, '\n', len)) == NULL ||
	    nl - p < OLD_PREFIX_LEN ||
	    memcmp(p, OLD_PREFIX, OLD_PREFIX_LEN) != 0 ||
	    sumdb_parse_int64((const char *)p + OLD_PREFIX_LEN,
	    nl - p - OLD_PREFIX_LEN, &r->old) != 0)
		return SUMDB_EFORMAT;
	r->nproof = 0;
	for (p = nl + 1; p < end && *p != '\n'; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL ||
		    r->nproof == WITNESS_PROOF_MAX ||
		    sumdb_b64_decode((const char *)p, nl - p,
		    r->proof[r->nproof], SUMDB_HASH_SIZE) != SUMDB_HASH_SIZE)
			return SUMDB_EFORMAT;
		r->nproof++;
	}
	if (p >= end)
		return SUMDB_EFORMAT;		/* no empty line */
	r->note = p + 1;
	r->notelen = end - r->note;
	if (r->notelen == 0)
		return SUMDB_EFORMAT;
	return 0;
}

int
witness_format_req(int64_t old, const uint8_t (*proof)[SUMDB_HASH_SIZE],
    size_t np, const uint8_t *note, size_t notelen, struct evbuffer *out)
{
	char	 b64[SUMDB_B64_SIZE(SUMDB_HASH_SIZE)];
	size_t	 i;

	if (old < 0 || np > WITNESS_PROOF_MAX)
		return SUMDB_EFORMAT;
	if (evbuffer_add_printf(out, OLD_PREFIX "%lld\n", (long long)old) < 0)
		return SUMDB_ENOMEM;
	for (i = 0; i < np; i++) {
		sumdb_b64_encode(proof[i], SUMDB_HASH_SIZE, b64);
		if (evbuffer_add_printf(out, "%s\n", b64) < 0)
			return SUMDB_ENOMEM;
	}
	if (evbuffer_add(out, "\n", 1) != 0 ||
	    evbuffer_add(out, note, notelen) != 0)
		return SUMDB_ENOMEM;
	return 0;
}

int
witness_parse_size(const uint8_t *body, size_t len, int64_t *size)
{
	if (len < 2 || body[len - 1] != '\n' ||
	    sumdb_parse_int64((const char *)body, len - 1, size) != 0)
		return SUMDB_EFORMAT;
	return 0;
}
