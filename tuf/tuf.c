/*
 * tuf.c: TUF keys, keyids, signatures and the checks of one role's
 * metadata.  A keyid is the sha256 of the key's canonical JSON with
 * exactly keytype, keyval.public and scheme, which every client
 * computes alike.  A role is trusted when a threshold of distinct keys
 * listed for it signed the canonical "signed" part; signatures by other
 * keys are ignored, and a keyid twice in "signatures" is malformed, as
 * python-tuf and tuf-js have it.
 */

#include <sodium.h>

#include <stdlib.h>
#include <string.h>

#include "tuf.h"

struct tuf_signer {
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];
	uint8_t		 seed[crypto_sign_SEEDBYTES];
	struct tuf_key	 key;
};

const char *
tuf_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case TUF_EFORMAT:
		return "malformed metadata";
	case TUF_ESIG:
		return "signature threshold not met";
	case TUF_EEXPIRED:
		return "expired";
	case TUF_EVERSION:
		return "unexpected type or version";
	case TUF_ENOMEM:
		return "out of memory";
	case TUF_EHASH:
		return "length or hash differs";
	}
	return "unknown error";
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		/* Lowercase only, as everyone writes it. */
		hi = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' && hi <= 'f' ?
		    hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' && lo <= 'f' ?
		    lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

json_t *
tuf_key_json(const struct tuf_key *k)
{
	char	 hex[65];

	sodium_bin2hex(hex, sizeof(hex), k->pub, sizeof(k->pub));
	return json_pack("{s:s, s:{s:s}, s:s}", "keytype", "ed25519",
	    "keyval", "public", hex, "scheme", "ed25519");
}

int
tuf_key_init(const uint8_t pub[32], struct tuf_key *k)
{
	json_t	*v;
	char	*c;
	size_t	 len;
	uint8_t	 h[32];
	int	 r;

	memcpy(k->pub, pub, 32);
	if ((v = tuf_key_json(k)) == NULL)
		return TUF_ENOMEM;
	r = tuf_canonical(v, &c, &len);
	json_decref(v);
	if (r != 0)
		return r;
	crypto_hash_sha256(h, (const uint8_t *)c, len);
	free(c);
	sodium_bin2hex(k->keyid, sizeof(k->keyid), h, sizeof(h));
	return 0;
}

int
tuf_key_parse(const json_t *v, struct tuf_key *k)
{
	const char	*type = NULL, *scheme = NULL, *pub = NULL;
	uint8_t		 raw[32];

	if (json_unpack((json_t *)v, "{s:s, s:s, s:{s:s}}", "keytype", &type,
	    "scheme", &scheme, "keyval", "public", &pub) != 0 ||
	    strcmp(type, "ed25519") != 0 || strcmp(scheme, "ed25519") != 0 ||
	    unhex(pub, raw, sizeof(raw)) != 0)
		return TUF_EFORMAT;
	return tuf_key_init(raw, k);
}

struct tuf_signer *
tuf_signer_new(const uint8_t *seed)
{
	struct tuf_signer	*s;
	uint8_t			 pub[crypto_sign_PUBLICKEYBYTES];

	if (sodium_init() < 0 || (s = sodium_malloc(sizeof(*s))) == NULL)
		return NULL;
	if (seed != NULL)
		memcpy(s->seed, seed, sizeof(s->seed));
	else
		randombytes_buf(s->seed, sizeof(s->seed));
	if (crypto_sign_seed_keypair(pub, s->sk, s->seed) != 0 ||
	    tuf_key_init(pub, &s->key) != 0) {
		sodium_free(s);
		return NULL;
	}
	return s;
}

void
tuf_signer_free(struct tuf_signer *s)
{
	if (s != NULL)
		sodium_free(s);
}

const struct tuf_key *
tuf_signer_key(const struct tuf_signer *s)
{
	return &s->key;
}

void
tuf_signer_seed(const struct tuf_signer *s, uint8_t out[32])
{
	memcpy(out, s->seed, 32);
}

int
tuf_sign(const json_t *signed_, struct tuf_signer *const *s, size_t n,
    char **out, size_t *len)
{
	json_t		*env = NULL, *sigs = NULL;
	char		*c = NULL, hex[2 * crypto_sign_BYTES + 1];
	uint8_t		 sig[crypto_sign_BYTES];
	size_t		 clen, i, k;
	int		 r = TUF_ENOMEM;

	if ((r = tuf_canonical(signed_, &c, &clen)) != 0)
		return r;
	r = TUF_ENOMEM;
	if ((sigs = json_array()) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(s[k]->key.keyid, s[i]->key.keyid) == 0)
				break;
		if (k < i)
			continue;	/* one signature per key */
		crypto_sign_detached(sig, NULL, (const uint8_t *)c, clen,
		    s[i]->sk);
		sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
		if (json_array_append_new(sigs, json_pack("{s:s, s:s}",
		    "keyid", s[i]->key.keyid, "sig", hex)) != 0)
			goto done;
	}
	if ((env = json_pack("{s:O, s:O}", "signed", signed_, "signatures",
	    sigs)) == NULL)
		goto done;
	r = tuf_canonical(env, out, len);
 done:
	free(c);
	json_decref(sigs);
	json_decref(env);
	return r;
}

int
tuf_root_role(const json_t *root, const char *name, struct tuf_role *r)
{
	json_t		*keys, *role, *ids, *id, *kv, *th;
	struct tuf_key	 k;
	size_t		 i, j;

	memset(r, 0, sizeof(*r));
	if ((keys = json_object_get(root, "keys")) == NULL ||
	    !json_is_object(keys) ||
	    (role = json_object_get(json_object_get(root, "roles"), name)) ==
	    NULL || (ids = json_object_get(role, "keyids")) == NULL ||
	    !json_is_array(ids) || (th = json_object_get(role, "threshold")) ==
	    NULL || !json_is_integer(th) || json_integer_value(th) < 1)
		return TUF_EFORMAT;
	r->threshold = json_integer_value(th);
	json_array_foreach(ids, i, id) {
		if (!json_is_string(id))
			return TUF_EFORMAT;
		if ((kv = json_object_get(keys, json_string_value(id))) ==
		    NULL)
			continue;	/* listed but unknown: skipped */
		if (tuf_key_parse(kv, &k) != 0 ||
		    strcmp(k.keyid, json_string_value(id)) != 0)
			continue;	/* only correct keyids count */
		for (j = 0; j < r->nkeys; j++)
			if (memcmp(r->keys[j].pub, k.pub, 32) == 0)
				break;
		if (j == r->nkeys && r->nkeys < TUF_ROLE_KEYS_MAX)
			r->keys[r->nkeys++] = k;
	}
	return 0;
}

int
tuf_verify(const json_t *md, const struct tuf_role *r)
{
	json_t		*signed_, *sigs, *s;
	const char	*keyid, *hex;
	uint8_t		 sig[crypto_sign_BYTES];
	char		*c = NULL;
	size_t		 clen, i, k, j;
	uint32_t	 counted = 0;
	int64_t		 valid = 0;
	int		 rv;

	if ((signed_ = json_object_get(md, "signed")) == NULL ||
	    !json_is_object(signed_) ||
	    (sigs = json_object_get(md, "signatures")) == NULL ||
	    !json_is_array(sigs))
		return TUF_EFORMAT;
	json_array_foreach(sigs, i, s) {
		if (json_unpack(s, "{s:s, s:s}", "keyid", &keyid, "sig",
		    &hex) != 0)
			return TUF_EFORMAT;
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(sigs, j), "keyid")), keyid) == 0)
				return TUF_EFORMAT;	/* keyid twice */
	}
	if ((rv = tuf_canonical(signed_, &c, &clen)) != 0)
		return rv;
	json_array_foreach(sigs, i, s) {
		keyid = json_string_value(json_object_get(s, "keyid"));
		hex = json_string_value(json_object_get(s, "sig"));
		for (k = 0; k < r->nkeys; k++)
			if (strcmp(r->keys[k].keyid, keyid) == 0)
				break;
		if (k == r->nkeys || (counted & (UINT32_C(1) << k)) ||
		    unhex(hex, sig, sizeof(sig)) != 0)
			continue;
		if (crypto_sign_verify_detached(sig, (const uint8_t *)c, clen,
		    r->keys[k].pub) != 0)
			continue;
		counted |= UINT32_C(1) << k;
		valid++;
	}
	free(c);
	return r->threshold >= 1 && valid >= r->threshold ? 0 : TUF_ESIG;
}

int
tuf_check(const json_t *md, const char *type, time_t now, int64_t *version)
{
	json_t		*s = json_object_get(md, "signed");
	const char	*t = NULL, *spec = NULL, *exp = NULL, *p;
	json_int_t	 v = 0;
	time_t		 expires;
	int		 dots = 0;

	if (s == NULL || json_unpack(s, "{s:s, s:s, s:I, s:s}", "_type", &t,
	    "spec_version", &spec, "version", &v, "expires", &exp) != 0)
		return TUF_EFORMAT;
	if (strcmp(t, type) != 0)
		return TUF_EVERSION;
	/* spec_version: 2 or 3 numeric parts, major 1. */
	if (strncmp(spec, "1.", 2) != 0)
		return TUF_EFORMAT;
	for (p = spec + 1; *p != '\0'; p++) {
		if (*p == '.') {
			if (p[1] == '\0' || p[1] == '.')
				return TUF_EFORMAT;
			dots++;
		} else if (*p < '0' || *p > '9')
			return TUF_EFORMAT;
	}
	if (dots > 2 || v < 1 || v > TUF_INT_MAX ||
	    tuf_parse_time(exp, &expires) != 0)
		return TUF_EFORMAT;
	*version = v;
	return now >= expires ? TUF_EEXPIRED : 0;
}

int
tuf_meta_get(const json_t *md, const char *name, struct tuf_meta *m)
{
	json_t		*e, *len, *h;
	const char	*sha;

	memset(m, 0, sizeof(*m));
	m->length = -1;
	if ((e = json_object_get(json_object_get(json_object_get(md,
	    "signed"), "meta"), name)) == NULL || !json_is_integer(
	    json_object_get(e, "version")))
		return TUF_EFORMAT;
	m->version = json_integer_value(json_object_get(e, "version"));
	if (m->version < 1)
		return TUF_EFORMAT;
	if ((len = json_object_get(e, "length")) != NULL) {
		if (!json_is_integer(len) || json_integer_value(len) < 0)
			return TUF_EFORMAT;
		m->length = json_integer_value(len);
	}
	if ((h = json_object_get(e, "hashes")) != NULL) {
		if ((sha = json_string_value(json_object_get(h, "sha256"))) ==
		    NULL || unhex(sha, m->sha256, sizeof(m->sha256)) != 0)
			return TUF_EFORMAT;
		m->has_sha256 = 1;
	}
	return 0;
}

int
tuf_target_get(const json_t *md, const char *path, struct tuf_meta *m)
{
	json_t	*e, *len;

	memset(m, 0, sizeof(*m));
	m->length = -1;
	if ((e = json_object_get(json_object_get(json_object_get(md,
	    "signed"), "targets"), path)) == NULL ||
	    (len = json_object_get(e, "length")) == NULL ||
	    !json_is_integer(len) || json_integer_value(len) < 0 ||
	    unhex(json_string_value(json_object_get(json_object_get(e,
	    "hashes"), "sha256")), m->sha256, sizeof(m->sha256)) != 0)
		return TUF_EFORMAT;
	m->length = json_integer_value(len);
	m->has_sha256 = 1;
	return 0;
}

int
tuf_meta_match(const struct tuf_meta *m, const uint8_t *p, size_t len)
{
	uint8_t	 h[32];

	if (m->length >= 0 && (size_t)m->length != len)
		return TUF_EHASH;
	if (m->has_sha256) {
		crypto_hash_sha256(h, p, len);
		if (sodium_memcmp(h, m->sha256, sizeof(h)) != 0)
			return TUF_EHASH;
	}
	return 0;
}
