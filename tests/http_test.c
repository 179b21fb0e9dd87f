/*
 * http_test.c: unit tests of the HTTP layer (daemon/http/), linked with
 * its whole archive and the core only: a request head as parse.c reads
 * it (every refusal with its exact status, each size boundary), and a
 * worker's cache of unchanging answers (cache.c): hits, misses, keys
 * per database, the byte budget and least-recently-used eviction.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

/* http_parse_head() of the whole of s, with at most max bytes. */
static int
parse(const char *s, size_t max, struct httphead *h)
{
	return http_parse_head(s, strlen(s), max, h);
}

/* parse() of a POST request with header fields (each ending in CRLF). */
static int
parse_fields(const char *fields, struct httphead *h)
{
	char	 buf[256];

	snprintf(buf, sizeof(buf), "POST /audit HTTP/1.1\r\n%s\r\n", fields);
	return parse(buf, 8192, h);
}

/* A request's header fields and what http_parse_head() makes of them. */
struct fieldcase {
	const char	*fields;
	int		 code;
	int64_t		 length;	/* when code is 0 */
	int		 chunked;
};

static void
check_fields(const struct fieldcase *t, size_t n)
{
	struct httphead	 h;
	size_t		 i;
	int		 r;

	for (i = 0; i < n; i++) {
		if ((r = parse_fields(t[i].fields, &h)) != t[i].code)
			fail_msg("fields %zu (%s): got %d, want %d", i,
			    t[i].fields, r, t[i].code);
		if (r == 0) {
			assert_int_equal(h.length, t[i].length);
			assert_int_equal(h.chunked, t[i].chunked);
		}
	}
}

static void
test_parse_get(void **state)
{
	const char	*s = "GET /lookup/golang.org/x/mod@v0.27.0 HTTP/1.1\r\n"
	    "Host: sum.example\r\nUser-Agent: Go-http-client/1.1\r\n\r\n";
	struct httphead	 h;

	(void)state;
	assert_int_equal(parse(s, 8192, &h), 0);
	assert_string_equal(h.method, "GET");
	assert_int_equal(h.targetlen, strlen("/lookup/golang.org/x/"
	    "mod@v0.27.0"));
	assert_memory_equal(h.target, "/lookup/golang.org/x/mod@v0.27.0",
	    h.targetlen);
	assert_ptr_equal(h.target, s + 4);
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.length, -1);
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.close, 0);
	assert_int_equal(h.keepalive, 0);
	assert_int_equal(h.expect100, 0);
	assert_int_equal(h.headlen, strlen(s));

	/* Bare LF line ends; empty lines before the request skipped. */
	s = "\r\n\nHEAD /latest HTTP/1.1\nHost: a\n\n";
	assert_int_equal(parse(s, 8192, &h), 0);
	assert_string_equal(h.method, "HEAD");
	assert_memory_equal(h.target, "/latest", 7);
	assert_int_equal(h.headlen, strlen(s));

	/* Connection: close, among other tokens, in any case. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: Upgrade ,"
	    " CLOSE\r\n\r\n", 8192, &h), 0);
	assert_int_equal(h.close, 1);
	assert_int_equal(h.keepalive, 0);
	/* A token that only starts like one is not it. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: closed\r\n"
	    "\r\n", 8192, &h), 0);
	assert_int_equal(h.close, 0);
}

static void
test_parse_http10(void **state)
{
	struct httphead	 h;

	(void)state;
	assert_int_equal(parse("GET /latest HTTP/1.0\r\n"
	    "Connection: keep-alive\r\n\r\n", 8192, &h), 0);
	assert_int_equal(h.minor, 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(h.close, 0);
	assert_int_equal(parse("GET /latest HTTP/1.0\r\n\r\n", 8192, &h), 0);
	assert_int_equal(h.minor, 0);
	assert_int_equal(h.keepalive, 0);
	assert_int_equal(parse("GET / HTTP/1.0\r\nconnection: Keep-Alive, "
	    "close\r\n\r\n", 8192, &h), 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(h.close, 1);
}

static void
test_parse_pipelined(void **state)
{
	const char	*first = "GET /tile/8/0/000 HTTP/1.1\r\nHost: a\r\n"
	    "\r\n";
	char		 buf[256];
	struct httphead	 h;

	(void)state;
	snprintf(buf, sizeof(buf), "%sGET /latest HTTP/1.1\r\n\r\nPOST", first);
	assert_int_equal(parse(buf, 8192, &h), 0);
	assert_int_equal(h.headlen, strlen(first));
	assert_memory_equal(h.target, "/tile/8/0/000", h.targetlen);
	/* The next head starts at headlen. */
	assert_int_equal(parse(buf + h.headlen, 8192, &h), 0);
	assert_memory_equal(h.target, "/latest", h.targetlen);
	assert_int_equal(h.headlen, strlen("GET /latest HTTP/1.1\r\n\r\n"));
	/* A head with a body: the body is not part of it. */
	snprintf(buf, sizeof(buf), "POST /audit HTTP/1.1\r\nContent-Length: "
	    "4\r\n\r\nabcd");
	assert_int_equal(parse(buf, 8192, &h), 0);
	assert_int_equal(h.length, 4);
	assert_int_equal(h.headlen, strlen(buf) - 4);
}

static void
test_parse_partial(void **state)
{
	static const char *const partial[] = {
		"", "\r\n", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r",
		"GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r",
	};
	struct httphead	 h;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		assert_int_equal(parse(partial[i], 8192, &h), HTTP_PARTIAL);
	/* A refusal needs no more bytes: it comes before the end. */
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost", 8192, &h), 505);
}

static void
test_parse_max(void **state)
{
	const char	*s = "GET /latest HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t		 len = strlen(s);
	char		 buf[512];
	struct httphead	 h;

	(void)state;
	/* The head exactly max bytes long; one byte more is too long. */
	assert_int_equal(http_parse_head(s, len, len, &h), 0);
	assert_int_equal(h.headlen, len);
	assert_int_equal(http_parse_head(s, len, len - 1, &h), 431);
	/* Bytes after the head do not count. */
	snprintf(buf, sizeof(buf), "%sGET", s);
	assert_int_equal(http_parse_head(buf, strlen(buf), len, &h), 0);
	assert_int_equal(h.headlen, len);
	/* Incomplete at max bytes: no more will be read. */
	assert_int_equal(http_parse_head(s, len - 1, len - 1, &h), 431);
	assert_int_equal(http_parse_head(s, len - 1, len, &h), HTTP_PARTIAL);
	/*
	 * A long request line: 211 bytes with its CRLF, the head 213.  A
	 * line cut by max is 414, the fields cut by max 431.
	 */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	memcpy(buf + 200, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(http_parse_head(buf, 213, 213, &h), 0);
	assert_int_equal(h.targetlen, 196);
	assert_int_equal(h.headlen, 213);
	assert_int_equal(http_parse_head(buf, 213, 212, &h), 431);
	assert_int_equal(http_parse_head(buf, 213, 211, &h), 431);
	assert_int_equal(http_parse_head(buf, 213, 210, &h), 414);
	assert_int_equal(http_parse_head(buf, 213, 100, &h), 414);
	assert_int_equal(http_parse_head(buf, 100, 1000, &h), HTTP_PARTIAL);
}

static void
test_parse_request_line(void **state)
{
	const struct {
		const char	*s;
		int		 code;
	} t[] = {
		{ "GET /\r\n\r\n", 400 },		/* no version */
		{ "GET\r\n\r\n", 400 },			/* no target */
		{ " / HTTP/1.1\r\n\r\n", 400 },		/* no method */
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },	/* empty target */
		{ "GET / HTTP/1.1 \r\n\r\n", 400 },	/* a space more */
		{ "G@T / HTTP/1.1\r\n\r\n", 400 },	/* not a token */
		{ "GET /a\x7f HTTP/1.1\r\n\r\n", 400 },	/* DEL */
		{ "GET /a\tb HTTP/1.1\r\n\r\n", 400 },	/* tab */
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.10\r\n\r\n", 400 },
		{ "GET / HTTP/1\r\n\r\n", 400 },
		{ "GET / HTTP/x.1\r\n\r\n", 400 },
		{ "GET / HTTP/1,1\r\n\r\n", 400 },
		{ "GET / HTTP/0.9\r\n\r\n", 505 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/3.0\r\n\r\n", 505 },
		/* The HTTP/2 connection preface, sent to an HTTP/1 server. */
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505 },
		/* 15 bytes of method fit, 16 do not. */
		{ "ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", 501 },
		{ "ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n", 0 },
		{ "GET / HTTP/1.9\r\n\r\n", 0 },
	};
	struct httphead	 h;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(t[i].s, 8192, &h) != t[i].code)
			fail_msg("request line %zu: got %d, want %d", i,
			    parse(t[i].s, 8192, &h), t[i].code);
	}
	assert_int_equal(parse("ABCDEFGHIJKLMNO / HTTP/1.9\r\n\r\n", 8192, &h),
	    0);
	assert_string_equal(h.method, "ABCDEFGHIJKLMNO");
	assert_int_equal(h.minor, 9);
	/* A NUL byte anywhere in a line. */
	assert_int_equal(http_parse_head("GET /\0 HTTP/1.1\r\n\r\n", 19, 8192,
	    &h), 400);
	assert_int_equal(http_parse_head("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24,
	    8192, &h), 400);
}

static void
test_parse_length(void **state)
{
	const struct fieldcase t[] = {
		{ "Content-Length: 5\r\n", 0, 5, 0 },
		{ "content-length:5\r\n", 0, 5, 0 },
		{ "Content-Length: 0\r\n", 0, 0, 0 },
		{ "Content-Length: 5\r\nContent-Length: 5\r\n", 0, 5, 0 },
		{ "Content-Length: 5\r\nContent-Length: 6\r\n", 400, 0, 0 },
		{ "Content-Length: \r\n", 400, 0, 0 },
		{ "Content-Length: -1\r\n", 400, 0, 0 },
		{ "Content-Length: +5\r\n", 400, 0, 0 },
		{ "Content-Length: 5, 5\r\n", 400, 0, 0 },
		{ "Content-Length: 0x10\r\n", 400, 0, 0 },
		{ "Content-Length: 999999999999999999\r\n", 0,
		    999999999999999999LL, 0 },
		{ "Content-Length: 1000000000000000000\r\n", 400, 0, 0 },
		{ "Transfer-Encoding: chunked\r\n", 501, 0, 0 },
		{ "Transfer-Encoding: gzip\r\n", 501, 0, 0 },
		{ "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400,
		    0, 0 },
		{ "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400,
		    0, 0 },
	};

	(void)state;
	check_fields(t, sizeof(t) / sizeof(t[0]));
}

static void
test_parse_fields(void **state)
{
	const struct fieldcase t[] = {
		{ "Expect: 100-continue\r\n", 0, -1, 0 },
		{ "Expect: 100-Continue\r\n", 0, -1, 0 },
		{ "Expect: 200-ok\r\n", 417, -1, 0 },
		{ "Expect: 100-continue, x\r\n", 417, -1, 0 },
		{ "Host: a\r\n b\r\n", 400, -1, 0 },	/* obs-fold */
		{ "Host: a\r\n\tb\r\n", 400, -1, 0 },
		{ "X: a\x01z\r\n", 400, -1, 0 },
		{ "X: a\x7fz\r\n", 400, -1, 0 },
		{ "X: a\rz\r\n", 400, -1, 0 },
		{ "X: a\tz \t\r\n", 0, -1, 0 },	/* tab, padding */
		{ "X: caf\xc3\xa9\r\n", 0, -1, 0 },	/* obs-text */
		{ "X-Empty:\r\n", 0, -1, 0 },
		{ "No colon\r\n", 400, -1, 0 },
		{ ": x\r\n", 400, -1, 0 },		/* empty name */
		{ "Bad Name: x\r\n", 400, -1, 0 },
		{ "Bad\x01: x\r\n", 400, -1, 0 },
		{ "Host : a\r\n", 400, -1, 0 },	/* space before : */
	};
	struct httphead	 h;

	(void)state;
	check_fields(t, sizeof(t) / sizeof(t[0]));
	assert_int_equal(parse_fields("Expect: 100-continue\r\n"
	    "Content-Length: 3\r\n", &h), 0);
	assert_int_equal(h.expect100, 1);
	assert_int_equal(h.length, 3);
	assert_null(h.authz);
	/* Credentials: one Authorization field, its value trimmed. */
	assert_int_equal(parse_fields("authorization:  Basic YTpi \r\n",
	    &h), 0);
	assert_int_equal(h.authzlen, 10);
	assert_memory_equal(h.authz, "Basic YTpi", 10);
	assert_int_equal(parse_fields("Authorization: Basic YTpi\r\n"
	    "Authorization: Basic YTpj\r\n", &h), 400);
}

/* 100 header fields are allowed, 101 are too many. */
static void
test_parse_many_fields(void **state)
{
	char		*buf;
	size_t		 off = 0, size = 64 + 101 * 16;
	struct httphead	 h;
	int		 i;

	(void)state;
	assert_non_null(buf = malloc(size));
	off += snprintf(buf, size, "GET / HTTP/1.1\r\n");
	for (i = 0; i < 100; i++)
		off += snprintf(buf + off, size - off, "X-%03d: v\r\n", i);
	snprintf(buf + off, size - off, "\r\n");
	assert_int_equal(parse(buf, 8192, &h), 0);
	snprintf(buf + off, size - off, "X-100: v\r\n\r\n");
	assert_int_equal(parse(buf, 8192, &h), 431);
	free(buf);
}

/* The bytes a cache entry of key and len bytes of data takes. */
static size_t
entry_size(size_t len, const char *key)
{
	struct cache	 c;
	uint8_t		 data[64] = { 0 };
	size_t		 n;

	assert_true(len <= sizeof(data));
	assert_int_equal(cache_init(&c, 1 << 20), 0);
	cache_put(&c, 0, key, data, len, 0);
	n = c.bytes;
	cache_free(&c);
	assert_true(n > len + strlen(key));
	return n;
}

/* Whether db's key is cached with byte b repeated len times and id. */
static void
assert_cached(struct cache *c, int db, const char *key, size_t len,
    uint8_t b, int64_t id)
{
	const struct centry	*e;
	const uint8_t		*p;
	size_t			 got, i;
	int64_t			 gotid;

	if ((e = cache_get(c, db, key)) == NULL)
		fail_msg("%d %s: not cached", db, key);
	p = cache_data(e, &got, &gotid);
	assert_int_equal(got, len);
	assert_int_equal(gotid, id);
	for (i = 0; i < len; i++)
		assert_int_equal(p[i], b);
	p = cache_data(e, &got, NULL);	/* id is optional */
	assert_int_equal(got, len);
}

static void
test_cache_hit_miss(void **state)
{
	struct cache	 c;
	const uint8_t	*p;
	size_t		 len;

	(void)state;
	assert_int_equal(cache_init(&c, 1 << 20), 0);
	assert_null(cache_get(&c, 0, "tile/8/0/000"));
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.hits, 0);
	cache_put(&c, 0, "tile/8/0/000", "\1\1\1", 3, -1);
	assert_cached(&c, 0, "tile/8/0/000", 3, 1, -1);
	assert_int_equal(c.hits, 1);
	/* Keys are whole paths, not prefixes. */
	assert_null(cache_get(&c, 0, "tile/8/0/00"));
	assert_null(cache_get(&c, 0, "tile/8/0/000.p/1"));
	assert_int_equal(c.misses, 3);
	/* The same key in another database is another answer. */
	assert_null(cache_get(&c, 1, "tile/8/0/000"));
	cache_put(&c, 1, "tile/8/0/000", "\2\2", 2, 7);
	assert_cached(&c, 1, "tile/8/0/000", 2, 2, 7);
	assert_cached(&c, 0, "tile/8/0/000", 3, 1, -1);
	/* Answers never change: a second put keeps the first. */
	len = c.bytes;
	cache_put(&c, 0, "tile/8/0/000", "\3\3\3\3", 4, 9);
	assert_int_equal(c.bytes, len);
	assert_cached(&c, 0, "tile/8/0/000", 3, 1, -1);
	/* An empty answer is an answer. */
	cache_put(&c, 0, "lookup/m@v1.0.0", "", 0, 42);
	assert_non_null(p = cache_data(cache_get(&c, 0, "lookup/m@v1.0.0"),
	    &len, NULL));
	assert_int_equal(len, 0);
	cache_free(&c);
	assert_null(c.tab);
	assert_int_equal(c.bytes, 0);
}

static void
test_cache_evict(void **state)
{
	struct cache	 c;
	uint8_t		 data[64];
	char		 key[8];
	size_t		 max, len, i;

	(void)state;
	/* Entries of max/8 bytes each: eight fill the cache exactly. */
	len = 40;
	max = 8 * entry_size(len, "k0");
	memset(data, 0, sizeof(data));
	assert_int_equal(cache_init(&c, max), 0);
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		memset(data, (int)i, len);
		cache_put(&c, 0, key, data, len, (int64_t)i);
	}
	assert_int_equal(c.bytes, max);
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_non_null(cache_get(&c, 0, key));
	}
	/* k0 is the least recently used; using it makes k1 so. */
	assert_non_null(cache_get(&c, 0, "k0"));
	memset(data, 8, len);
	cache_put(&c, 0, "k8", data, len, 8);
	assert_int_equal(c.bytes, max);
	assert_null(cache_get(&c, 0, "k1"));
	memset(data, 9, len);
	cache_put(&c, 0, "k9", data, len, 9);
	assert_null(cache_get(&c, 0, "k2"));
	assert_int_equal(c.bytes, max);
	for (i = 0; i < 10; i++) {
		if (i == 1 || i == 2)
			continue;
		snprintf(key, sizeof(key), "k%zu", i);
		assert_cached(&c, 0, key, len, (uint8_t)i, (int64_t)i);
	}
	cache_free(&c);
}

static void
test_cache_too_large(void **state)
{
	struct cache	 c;
	uint8_t		 data[64] = { 0 };
	size_t		 ovh, max;

	(void)state;
	/* An entry of up to max/8 bytes is kept, one byte more is not. */
	ovh = entry_size(0, "big");
	max = 8 * (ovh + 40);
	assert_int_equal(cache_init(&c, max), 0);
	cache_put(&c, 0, "big", data, 41, 1);
	assert_null(cache_get(&c, 0, "big"));
	assert_int_equal(c.bytes, 0);
	cache_put(&c, 0, "big", data, 40, 1);
	assert_cached(&c, 0, "big", 40, 0, 1);
	assert_int_equal(c.bytes, max / 8);
	cache_free(&c);
	/* A cache of size 0 keeps nothing and counts nothing. */
	assert_int_equal(cache_init(&c, 0), 0);
	cache_put(&c, 0, "k", data, 1, 1);
	assert_null(cache_get(&c, 0, "k"));
	assert_int_equal(c.bytes, 0);
	assert_int_equal(c.misses, 0);
	cache_free(&c);
	/* Freeing an empty cache, and freeing twice. */
	assert_int_equal(cache_init(&c, 1024), 0);
	cache_free(&c);
	cache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_http10),
		cmocka_unit_test(test_parse_pipelined),
		cmocka_unit_test(test_parse_partial),
		cmocka_unit_test(test_parse_max),
		cmocka_unit_test(test_parse_request_line),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_many_fields),
		cmocka_unit_test(test_cache_hit_miss),
		cmocka_unit_test(test_cache_evict),
		cmocka_unit_test(test_cache_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
