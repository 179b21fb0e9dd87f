/*
 * http.c: fuzz http_parse_head(), which reads the head of every request
 * a client sends.  Its answer is one of the statuses the server sends
 * for it, or partial, or 0; an accepted head lies inside the bytes and
 * the limit, its target and method are well formed, the same head alone
 * parses to the same result, and no shorter prefix is accepted.  Both
 * a generous and a tiny max_header_size are tried, and prefixes of the
 * input get the same answer or none yet.
 */

#include "fuzz.h"
#include "http/http.h"

static void
check(const char *p, size_t len, size_t max)
{
	struct httphead	 h, h2;
	size_t		 i;
	int		 r;

	r = http_parse_head(p, len, max, &h);
	assert(r == 0 || r == HTTP_PARTIAL || r == 400 || r == 414 ||
	    r == 417 || r == 431 || r == 501 || r == 505);
	if (r == HTTP_PARTIAL)
		assert(len < max);
	/* However the bytes arrive, the answer is the same or not yet. */
	for (i = 1; i < 4 && r != HTTP_PARTIAL; i++) {
		int	 rp = http_parse_head(p, len * i / 4, max, &h2);

		assert(rp == HTTP_PARTIAL || rp == r);
	}
	if (r != 0)
		return;
	assert(h.headlen > 0 && h.headlen <= len && h.headlen <= max);
	assert(h.method[0] != '\0' && strlen(h.method) < sizeof(h.method));
	assert(h.target > p && h.target + h.targetlen < p + h.headlen);
	assert(h.targetlen > 0);
	for (i = 0; i < h.targetlen; i++)
		assert((unsigned char)h.target[i] > 0x20 &&
		    h.target[i] != 0x7f);
	assert(h.minor >= 0 && h.minor <= 9);
	assert(h.length >= -1 && h.length < INT64_C(1000000000000000000));
	assert(!h.chunked);
	/* The head alone, and one byte less. */
	assert(http_parse_head(p, h.headlen, max, &h2) == 0);
	assert(h2.headlen == h.headlen && h2.length == h.length &&
	    h2.targetlen == h.targetlen && h2.minor == h.minor);
	assert(http_parse_head(p, h.headlen - 1, max, &h2) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	check((const char *)p, len, 8192);
	check((const char *)p, len, 64);
	return 0;
}
