/*
 * encode.c: the small encodings every sumdb format shares: SHA-256,
 * base64 as Go's StdEncoding writes and reads it, canonical decimals,
 * UTF-8 validity, and the names of the library's error codes.
 */

/*
 * OpenSSL 3 deprecates SHA256_Init() and friends, but they reach the
 * CPU's SHA extensions without the per-call fetch and context setup of
 * EVP (and of the one-shot SHA256(), which goes through EVP), and that
 * overhead dominates when hashing 65-byte tree nodes.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/sha.h>

#include <string.h>

#include "sumdb.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *
sumdb_strerror(int code)
{
	switch (code) {
	case SUMDB_OK:
		return "success";
	case SUMDB_EFORMAT:
		return "malformed input";
	case SUMDB_ESIG:
		return "invalid or missing signature";
	case SUMDB_EPROOF:
		return "proof does not verify";
	case SUMDB_ENOMEM:
		return "out of memory";
	case SUMDB_EKEY:
		return "malformed key";
	case SUMDB_ERANGE:
		return "index outside the tree";
	case SUMDB_EREAD:
		return "reading hashes or tiles failed";
	case SUMDB_ELIMIT:
		return "input exceeds a size limit";
	}
	return "unknown error";
}

void
sumdb_sha256(const void *p, size_t len, uint8_t out[SUMDB_HASH_SIZE])
{
	SHA256_CTX	 ctx;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, p, len);
	SHA256_Final(out, &ctx);
}

void
sumdb_sha256_prefixed(uint8_t prefix, const void *p, size_t len,
    uint8_t out[SUMDB_HASH_SIZE])
{
	SHA256_CTX	 ctx;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, &prefix, 1);
	SHA256_Update(&ctx, p, len);
	SHA256_Final(out, &ctx);
}

size_t
sumdb_b64_encode(const uint8_t *p, size_t len, char *out)
{
	size_t		 i, o = 0;
	uint32_t	 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
sumdb_b64_decode(const char *s, size_t len, uint8_t *out, size_t outsize)
{
	size_t		 i, o = 0, pad = 0;
	uint32_t	 v;
	int		 j, d;

	if (len % 4 != 0)
		return SUMDB_EFORMAT;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	if (len / 4 * 3 - pad > outsize || len / 4 * 3 > INT32_MAX)
		return SUMDB_EFORMAT;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			if (i + j >= len - pad) {
				v <<= 6;
				continue;
			}
			if ((d = b64val((unsigned char)s[i + j])) < 0)
				return SUMDB_EFORMAT;
			v = v << 6 | (uint32_t)d;
		}
		if (out != NULL)
			out[o] = v >> 16;
		o++;
		if (i + 4 < len || pad < 2) {
			if (out != NULL)
				out[o] = (v >> 8) & 0xff;
			o++;
		}
		if (i + 4 < len || pad < 1) {
			if (out != NULL)
				out[o] = v & 0xff;
			o++;
		}
	}
	return (int)o;
}

int
sumdb_parse_int64(const char *s, size_t len, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 i;

	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return SUMDB_EFORMAT;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SUMDB_EFORMAT;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return SUMDB_EFORMAT;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
sumdb_utf8_valid(const uint8_t *p, size_t len)
{
	size_t		 i = 0, k, n;
	uint32_t	 c, min;

	while (i < len) {
		/* ASCII, eight bytes at a time: most of every record. */
		while (len - i >= 8) {
			uint64_t	 w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i == len)
			break;
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
