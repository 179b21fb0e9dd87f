/*
 * parse.c: the head of an HTTP/1.1 request (RFC 9112): the request
 * line and the header fields sumdbd acts on.  Pure: it only reads the
 * bytes it is given, so it is fuzzed alone (tests/fuzz).
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HEADERS_MAX	100	/* header fields in one request */

static int
tchar(int ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) !=
	    NULL);
}

/* Whether the comma-separated list v (of len bytes) holds token t. */
static int
has_token(const char *v, size_t len, const char *t)
{
	size_t	 tl = strlen(t), i = 0, j;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < len && v[j] != ','; j++)
			;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (j - i == tl && strncasecmp(v + i, t, tl) == 0)
			return 1;
		while (i < len && v[i] != ',')
			i++;
	}
	return 0;
}

/* The field name:value of len bytes, into h; 0 or a status. */
static int
field(const char *p, size_t len, struct httphead *h)
{
	const char	*colon, *v;
	size_t		 nlen, vlen, i;
	int64_t		 n;

	if ((colon = memchr(p, ':', len)) == NULL || colon == p)
		return 400;
	nlen = colon - p;
	for (i = 0; i < nlen; i++)
		if (!tchar((unsigned char)p[i]))
			return 400;
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			return 400;
	if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		if (vlen == 0 || vlen > 18)
			return 400;
		for (n = 0, i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)v[i]))
				return 400;
			n = n * 10 + (v[i] - '0');
		}
		if (h->length >= 0 && h->length != n)
			return 400;
		h->length = n;
	} else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0)
		h->chunked = 1;
	else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
		if (has_token(v, vlen, "close"))
			h->close = 1;
		if (has_token(v, vlen, "keep-alive"))
			h->keepalive = 1;
	} else if (nlen == 13 && strncasecmp(p, "Authorization", 13) == 0) {
		if (h->authz != NULL)
			return 400;
		h->authz = v;
		h->authzlen = vlen;
	} else if (nlen == 6 && strncasecmp(p, "Expect", 6) == 0) {
		if (vlen == 12 && strncasecmp(v, "100-continue", 12) == 0)
			h->expect100 = 1;
		else
			return 417;
	}
	return 0;
}

/* The request line "METHOD SP TARGET SP HTTP/1.x"; 0 or a status. */
static int
request_line(const char *p, size_t len, struct httphead *h)
{
	const char	*sp1, *sp2;
	size_t		 i, mlen;

	if ((sp1 = memchr(p, ' ', len)) == NULL)
		return 400;
	mlen = sp1 - p;
	if (mlen == 0 || mlen >= sizeof(h->method))
		return mlen == 0 ? 400 : 501;
	for (i = 0; i < mlen; i++)
		if (!tchar((unsigned char)p[i]))
			return 400;
	memcpy(h->method, p, mlen);
	h->method[mlen] = '\0';
	if ((sp2 = memchr(sp1 + 1, ' ', len - mlen - 1)) == NULL ||
	    sp2 == sp1 + 1)
		return 400;
	h->target = sp1 + 1;
	h->targetlen = sp2 - sp1 - 1;
	for (i = 0; i < h->targetlen; i++)
		if ((unsigned char)h->target[i] <= 0x20 ||
		    h->target[i] == 0x7f)
			return 400;
	len -= sp2 + 1 - p;
	p = sp2 + 1;
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)p[5]) || p[6] != '.' ||
	    !isdigit((unsigned char)p[7]))
		return 400;
	if (p[5] != '1')
		return 505;
	h->minor = p[7] - '0';
	return 0;
}

int
http_parse_head(const char *buf, size_t len, size_t max, struct httphead *h)
{
	const char	*p = buf, *end, *nl;
	size_t		 n, avail = len < max ? len : max;
	int		 r, line = 0;

	memset(h, 0, sizeof(*h));
	h->length = -1;
	/* Empty lines before a request are ignored (RFC 9112, 2.2). */
	while (p < buf + avail && (*p == '\r' || *p == '\n'))
		p++;
	for (;;) {
		end = buf + avail;
		if ((nl = memchr(p, '\n', end - p)) == NULL) {
			if (len < max)
				return HTTP_PARTIAL;
			return line == 0 ? 414 : 431;
		}
		n = nl - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL)
			return 400;
		if (line == 0)
			r = request_line(p, n, h);
		else if (n == 0) {
			h->headlen = nl + 1 - buf;
			break;
		} else if (*p == ' ' || *p == '\t')
			r = 400;	/* obsolete line folding */
		else if (line > HEADERS_MAX)
			r = 431;
		else
			r = field(p, n, h);
		if (r != 0)
			return r;
		line++;
		p = nl + 1;
	}
	if (h->chunked)
		return h->length >= 0 ? 400 : 501;
	return 0;
}
