/*
 * note.c: signed notes (c2sp.org/signed-note, golang.org/x/mod/sumdb/note):
 * verifier and signer keys, key hashes, key generation, and signing and
 * verifying notes with Ed25519, and witness cosignatures
 * (c2sp.org/tlog-cosignature, cosignature/v1: key type 0x04, Ed25519
 * over "cosignature/v1\ntime T\n" and the note text, with T in the
 * signature).  Signer keys live in libsodium guarded memory from the
 * moment they are decoded.
 */

#include <sys/types.h>

#include <event2/buffer.h>
#include <sodium.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

#define SIG_PREFIX	"\xe2\x80\x94 "		/* "— " */
#define SIG_PREFIX_LEN	4
#define COSIG_HEAD	"cosignature/v1\ntime "
#define COSIG_LEN	(4 + 8 + crypto_sign_BYTES)	/* hash, time, sig */

struct note_signer {
	int		 alg;		/* NOTE_ED25519 or NOTE_COSIG_V1 */
	char		 name[SUMDB_NAME_MAX];
	uint32_t	 hash;
	uint8_t		 pub[crypto_sign_PUBLICKEYBYTES];
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];  /* seed || pub */
	uint8_t		 seed[crypto_sign_SEEDBYTES];
};

/* Decode one UTF-8 rune at p; returns its length, or 0 if invalid. */
static size_t
rune(const uint8_t *p, size_t len, uint32_t *r)
{
	size_t	 n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*r = p[0];
		return 1;
	}
	n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 :
	    (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || n > len || !sumdb_utf8_valid(p, n))
		return 0;
	if (n == 2)
		*r = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	else if (n == 3)
		*r = (uint32_t)(p[0] & 0x0f) << 12 |
		    (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	else
		*r = (uint32_t)(p[0] & 0x07) << 18 |
		    (uint32_t)(p[1] & 0x3f) << 12 |
		    (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	return n;
}

/* Go's unicode.IsSpace. */
static int
is_space(uint32_t r)
{
	return (r >= 0x09 && r <= 0x0d) || r == 0x20 || r == 0x85 ||
	    r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200a) ||
	    r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f ||
	    r == 0x3000;
}

/*
 * x/mod isValidName, and no NUL: we keep names as C strings, so x/mod
 * would hash "a\0b" where we would use "a".
 */
int
note_name_valid(const char *name, size_t len)
{
	const uint8_t	*p = (const uint8_t *)name;
	size_t		 i, n;
	uint32_t	 r;

	if (len == 0 || len >= SUMDB_NAME_MAX)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = rune(p + i, len - i, &r)) == 0)
			return 0;
		if (r == '+' || r == '\0' || is_space(r))
			return 0;
	}
	return 1;
}

uint32_t
note_key_hash(int alg, const char *name, size_t namelen,
    const uint8_t pub[32])
{
	crypto_hash_sha256_state	 st;
	uint8_t				 h[SUMDB_HASH_SIZE];
	const uint8_t			 sep[2] = { '\n', alg };

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, namelen);
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pub, 32);
	crypto_hash_sha256_final(&st, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

/* Parse exactly 8 hex digits, either case (Go's ParseUint(s, 16, 32)). */
static int
parse_hash(const char *s, size_t len, uint32_t *out)
{
	uint32_t	 v = 0;
	size_t		 i;
	int		 d;

	if (len != 8)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/*
 * Split s at the first '+': *fieldlen is the length before it, and the
 * return value points after it (or at the end if there is none).
 */
static const char *
chop(const char *s, const char *end, size_t *fieldlen)
{
	const char	*p;

	if ((p = memchr(s, '+', end - s)) == NULL) {
		*fieldlen = end - s;
		return end;
	}
	*fieldlen = p - s;
	return p + 1;
}

/*
 * Parse "<name>+<hash>+<base64(alg || key)>" from s, alg being one of
 * the bits of algs (1 << NOTE_ED25519, 1 << NOTE_COSIG_V1); the decoded
 * key (after the algorithm byte) is written to key, which holds 32
 * bytes, and the algorithm to *alg.
 */
static int
parse_key(const char *s, const char *end, unsigned algs, int *alg,
    char *name, uint32_t *hash, uint8_t *key)
{
	uint8_t		 raw[33];
	const char	*h, *k;
	size_t		 namelen, hashlen, keylen;
	int		 n;

	h = chop(s, end, &namelen);
	k = chop(h, end, &hashlen);
	keylen = end - k;
	if (!note_name_valid(s, namelen) || parse_hash(h, hashlen, hash) != 0)
		return SUMDB_EKEY;
	n = sumdb_b64_decode(k, keylen, raw, sizeof(raw));
	if (n != 33 || raw[0] > 31 || !(algs & 1U << raw[0])) {
		sodium_memzero(raw, sizeof(raw));
		return SUMDB_EKEY;
	}
	*alg = raw[0];
	memcpy(name, s, namelen);
	name[namelen] = '\0';
	memcpy(key, raw + 1, 32);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

static int
verifier_parse(const char *vkey, size_t len, int alg,
    struct note_verifier *v)
{
	if (parse_key(vkey, vkey + len, 1U << alg, &v->alg, v->name, &v->hash,
	    v->pub) != 0)
		return SUMDB_EKEY;
	if (note_key_hash(v->alg, v->name, strlen(v->name), v->pub) !=
	    v->hash)
		return SUMDB_EKEY;
	return 0;
}

int
note_verifier_parse(const char *vkey, size_t len, struct note_verifier *v)
{
	return verifier_parse(vkey, len, NOTE_ED25519, v);
}

int
note_cosigner_parse(const char *vkey, size_t len, struct note_verifier *v)
{
	return verifier_parse(vkey, len, NOTE_COSIG_V1, v);
}

int
note_verifier_format(const struct note_verifier *v, struct evbuffer *out)
{
	uint8_t	 raw[33];
	char	 b64[SUMDB_B64_SIZE(33)];

	raw[0] = v->alg;
	memcpy(raw + 1, v->pub, 32);
	sumdb_b64_encode(raw, sizeof(raw), b64);
	if (evbuffer_add_printf(out, "%s+%08x+%s", v->name, v->hash, b64) < 0)
		return SUMDB_ENOMEM;
	return 0;
}

static struct note_signer *
signer_alloc(int *err)
{
	struct note_signer	*s;

	if (sodium_init() < 0 ||
	    (s = sodium_malloc(sizeof(*s))) == NULL) {
		*err = SUMDB_ENOMEM;
		return NULL;
	}
	sodium_memzero(s, sizeof(*s));
	return s;
}

struct note_signer *
note_signer_parse(const char *skey, size_t len, int *err)
{
	struct note_signer	*s;
	const char		*end = skey + len;
	uint8_t			*seed;

	if (len < 12 || memcmp(skey, "PRIVATE+KEY+", 12) != 0) {
		*err = SUMDB_EKEY;
		return NULL;
	}
	if ((s = signer_alloc(err)) == NULL)
		return NULL;
	/* The seed goes straight into the guarded struct. */
	seed = s->seed;
	if (parse_key(skey + 12, end, 1U << NOTE_ED25519 |
	    1U << NOTE_COSIG_V1, &s->alg, s->name, &s->hash, seed) != 0)
		goto bad;
	if (crypto_sign_seed_keypair(s->pub, s->sk, seed) != 0)
		goto bad;
	sodium_memzero(s->seed, sizeof(s->seed));
	if (note_key_hash(s->alg, s->name, strlen(s->name), s->pub) !=
	    s->hash)
		goto bad;
	return s;
 bad:
	note_signer_free(s);
	*err = SUMDB_EKEY;
	return NULL;
}

struct note_signer *
note_signer_generate(const char *name, int alg, int *err)
{
	struct note_signer	*s;
	size_t			 namelen = strlen(name);

	if (!note_name_valid(name, namelen) ||
	    (alg != NOTE_ED25519 && alg != NOTE_COSIG_V1)) {
		*err = SUMDB_EKEY;
		return NULL;
	}
	if ((s = signer_alloc(err)) == NULL)
		return NULL;
	crypto_sign_keypair(s->pub, s->sk);
	memcpy(s->name, name, namelen + 1);
	s->alg = alg;
	s->hash = note_key_hash(alg, name, namelen, s->pub);
	return s;
}

void
note_signer_free(struct note_signer *s)
{
	if (s != NULL)
		sodium_free(s);		/* wipes the memory */
}

int
note_signer_alg(const struct note_signer *s)
{
	return s->alg;
}

void
note_signer_verifier(const struct note_signer *s, struct note_verifier *v)
{
	v->alg = s->alg;
	memcpy(v->name, s->name, sizeof(v->name));
	v->hash = s->hash;
	memcpy(v->pub, s->pub, sizeof(v->pub));
}

int
note_signer_format(const struct note_signer *s, char *buf, size_t bufsize)
{
	uint8_t		 raw[33];
	char		 b64[SUMDB_B64_SIZE(33)];
	int		 n;

	raw[0] = s->alg;
	memcpy(raw + 1, s->sk, 32);	/* the seed */
	sumdb_b64_encode(raw, sizeof(raw), b64);
	n = snprintf(buf, bufsize, "PRIVATE+KEY+%s+%08x+%s", s->name, s->hash,
	    b64);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= bufsize) {
		sodium_memzero(buf, bufsize);
		return SUMDB_ELIMIT;
	}
	return n;
}

/* Index of the verifier for (name, hash) in v, or -1. */
static int
find_verifier(const struct note_verifier *v, size_t nv, const char *name,
    size_t namelen, uint32_t hash)
{
	size_t	 i;

	for (i = 0; i < nv; i++)
		if (v[i].hash == hash && strlen(v[i].name) == namelen &&
		    memcmp(v[i].name, name, namelen) == 0)
			return (int)i;
	return -1;
}

/* Whether the line at l (length len) appears among the earlier lines. */
static int
seen_line(const uint8_t *sigs, const uint8_t *l, size_t len)
{
	const uint8_t	*p = sigs, *e;

	while (p < l) {
		e = memchr(p, '\n', l - p);
		if ((size_t)(e - p) == len && memcmp(p, l, len) == 0)
			return 1;
		p = e + 1;
	}
	return 0;
}

/*
 * The message a cosignature/v1 signs at time t: "cosignature/v1\ntime
 * <t>\n" and the note text.  Returns it, to free, or NULL.
 */
static uint8_t *
cosig_message(const uint8_t *text, size_t len, uint64_t t, size_t *msglen)
{
	uint8_t	*m;
	int	 hl;

	if ((m = malloc(sizeof(COSIG_HEAD) + 21 + len)) == NULL)
		return NULL;
	hl = snprintf((char *)m, sizeof(COSIG_HEAD) + 21, COSIG_HEAD "%llu\n",
	    (unsigned long long)t);
	memcpy(m + hl, text, len);
	*msglen = hl + len;
	return m;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Check signature raw (key hash, and for a cosignature its time, then
 * the Ed25519 signature) of text by v.  Returns 0 or SUMDB_ESIG (or
 * SUMDB_ENOMEM).
 */
static int
check_sig(const struct note_verifier *v, const uint8_t *raw,
    const uint8_t *text, size_t len)
{
	uint8_t		*m;
	size_t		 mlen;
	uint64_t	 t;
	int		 r;

	if (v->alg == NOTE_ED25519)
		return crypto_sign_verify_detached(raw + 4, text, len,
		    v->pub) == 0 ? 0 : SUMDB_ESIG;
	if ((t = get64(raw + 4)) > INT64_MAX)
		return SUMDB_ESIG;
	if ((m = cosig_message(text, len, t, &mlen)) == NULL)
		return SUMDB_ENOMEM;
	r = crypto_sign_verify_detached(raw + 12, m, mlen, v->pub);
	free(m);
	return r == 0 ? 0 : SUMDB_ESIG;
}

int
note_open(const uint8_t *msg, size_t len, const struct note_verifier *v,
    size_t nv, struct note *n)
{
	const uint8_t	*sigs, *end = msg + len, *line, *nl, *sp, *b64;
	uint8_t		 raw[COSIG_LEN];
	uint64_t	 verified = 0;
	size_t		 i, namelen, nsig = 0, nunverified = 0, nverified = 0;
	uint32_t	 hash;
	int		 k, r, rawlen;

	if (len > SUMDB_NOTE_MAX)
		return SUMDB_ELIMIT;
	if (nv > 64 || !sumdb_utf8_valid(msg, len))
		return SUMDB_EFORMAT;
	for (i = 0; i < len; i++)
		if (msg[i] < 0x20 && msg[i] != '\n')
			return SUMDB_EFORMAT;

	/* Text and signatures are split at the last blank line. */
	for (i = len; i >= 2; i--)
		if (msg[i - 2] == '\n' && msg[i - 1] == '\n')
			break;
	if (i < 2)
		return SUMDB_EFORMAT;
	sigs = msg + i;
	if (sigs == end || end[-1] != '\n')
		return SUMDB_EFORMAT;

	for (line = sigs; line < end; line = nl + 1) {
		nl = memchr(line, '\n', end - line);
		if (nl - line < SIG_PREFIX_LEN ||
		    memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
			return SUMDB_EFORMAT;
		sp = memchr(line + SIG_PREFIX_LEN, ' ',
		    nl - line - SIG_PREFIX_LEN);
		if (sp == NULL)
			return SUMDB_EFORMAT;	/* empty base64 */
		namelen = sp - line - SIG_PREFIX_LEN;
		b64 = sp + 1;
		/* Other algorithms' signatures may be long: check, then
		 * decode only the key hash unless the key is ours. */
		rawlen = sumdb_b64_decode((const char *)b64, nl - b64, NULL,
		    SIZE_MAX);
		if (!note_name_valid((const char *)line + SIG_PREFIX_LEN,
		    namelen) || b64 == nl || rawlen < 5)
			return SUMDB_EFORMAT;
		sumdb_b64_decode((const char *)b64, 8, raw, 6);
		if (++nsig > SUMDB_NOTE_MAXSIGS)
			return SUMDB_EFORMAT;
		hash = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		    (uint32_t)raw[2] << 8 | raw[3];
		k = find_verifier(v, nv,
		    (const char *)line + SIG_PREFIX_LEN, namelen, hash);
		if (k < 0) {
			if (!seen_line(sigs, line, nl - line))
				nunverified++;
			continue;
		}
		if (verified & (UINT64_C(1) << k))
			continue;	/* one signature per key counts */
		if (rawlen != (int)(v[k].alg == NOTE_COSIG_V1 ? COSIG_LEN :
		    4 + crypto_sign_BYTES) ||
		    sumdb_b64_decode((const char *)b64, nl - b64, raw,
		    sizeof(raw)) != rawlen)
			return SUMDB_ESIG;
		if ((r = check_sig(&v[k], raw, msg, sigs - 1 - msg)) != 0)
			return r;
		verified |= UINT64_C(1) << k;
		nverified++;
	}
	if (nverified == 0)
		return SUMDB_ESIG;
	n->text = msg;
	n->textlen = sigs - 1 - msg;
	n->verified = verified;
	n->nverified = nverified;
	n->nunverified = nunverified;
	return 0;
}

int
note_sign(const uint8_t *text, size_t len, struct note_signer *const *s,
    size_t ns, struct evbuffer *out)
{
	uint8_t		 raw[4 + crypto_sign_BYTES];
	char		 b64[SUMDB_B64_SIZE(sizeof(raw))];
	size_t		 i;

	if (len == 0 || text[len - 1] != '\n' || len > SUMDB_NOTE_MAX)
		return SUMDB_EFORMAT;
	if (evbuffer_add(out, text, len) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0)
		return SUMDB_ENOMEM;
	for (i = 0; i < ns; i++) {
		if (s[i]->alg != NOTE_ED25519)
			return SUMDB_EKEY;
		raw[0] = s[i]->hash >> 24;
		raw[1] = s[i]->hash >> 16;
		raw[2] = s[i]->hash >> 8;
		raw[3] = s[i]->hash;
		crypto_sign_detached(raw + 4, NULL, text, len, s[i]->sk);
		sumdb_b64_encode(raw, sizeof(raw), b64);
		if (evbuffer_add_printf(out, SIG_PREFIX "%s %s\n", s[i]->name,
		    b64) < 0)
			return SUMDB_ENOMEM;
	}
	return 0;
}

int
note_cosign(const uint8_t *text, size_t len, const struct note_signer *s,
    int64_t t, struct evbuffer *out)
{
	uint8_t		 raw[COSIG_LEN], *m;
	char		 b64[SUMDB_B64_SIZE(COSIG_LEN)];
	size_t		 mlen;
	int		 i;

	if (s->alg != NOTE_COSIG_V1 || t < 0)
		return SUMDB_EKEY;
	if (len == 0 || text[len - 1] != '\n' || len > SUMDB_NOTE_MAX)
		return SUMDB_EFORMAT;
	if ((m = cosig_message(text, len, t, &mlen)) == NULL)
		return SUMDB_ENOMEM;
	for (i = 0; i < 4; i++)
		raw[i] = s->hash >> (24 - 8 * i);
	for (i = 0; i < 8; i++)
		raw[4 + i] = (uint64_t)t >> (56 - 8 * i);
	crypto_sign_detached(raw + 12, NULL, m, mlen, s->sk);
	free(m);
	sumdb_b64_encode(raw, sizeof(raw), b64);
	if (evbuffer_add_printf(out, SIG_PREFIX "%s %s\n", s->name, b64) < 0)
		return SUMDB_ENOMEM;
	return 0;
}
