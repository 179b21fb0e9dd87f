/*
 * tufjson.c: fuzz TUF metadata as `sumdbd import` reads it from a
 * repository: tuf_parse(), then every role's checks (tuf_root_role(),
 * tuf_verify(), tuf_check(), tuf_meta_get(), tuf_key_parse()).  What
 * parses has one canonical form: tuf_canonical() writes what an
 * independent OLPC encoder here writes, and it parses back to the same
 * value.  Its "signed" part, signed by us, verifies.
 */

#include <stdio.h>

#include "fuzz.h"
#include "tuf.h"

static const char *roles[] = { "root", "targets", "snapshot", "timestamp" };
#define NROLES	(sizeof(roles) / sizeof(roles[0]))

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
put(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = 2 * (b->len + len + 1);
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void
put_string(struct buf *b, const char *s, size_t len)
{
	size_t	 i;

	put(b, "\"", 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(b, "\\", 1);
		put(b, s + i, 1);
	}
	put(b, "\"", 1);
}

static int
keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* OLPC canonical JSON, as securesystemslib writes it. */
static void
olpc(struct buf *b, const json_t *v)
{
	const char	**keys, *key;
	json_t		 *e;
	char		  num[32];
	size_t		  i, n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
			abort();
		i = 0;
		json_object_foreach((json_t *)v, key, e)
			keys[i++] = key;
		qsort(keys, n, sizeof(*keys), keycmp);
		put(b, "{", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				put(b, ",", 1);
			put_string(b, keys[i], strlen(keys[i]));
			put(b, ":", 1);
			olpc(b, json_object_get(v, keys[i]));
		}
		put(b, "}", 1);
		free(keys);
		break;
	case JSON_ARRAY:
		put(b, "[", 1);
		json_array_foreach(v, i, e) {
			if (i > 0)
				put(b, ",", 1);
			olpc(b, e);
		}
		put(b, "]", 1);
		break;
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(v));
		put(b, num, n);
		break;
	case JSON_TRUE:
		put(b, "true", 4);
		break;
	case JSON_FALSE:
		put(b, "false", 5);
		break;
	case JSON_NULL:
		put(b, "null", 4);
		break;
	default:
		abort();	/* tuf_parse() refuses reals */
	}
}

/* Canonical JSON: one form, the OLPC one, and it round-trips. */
static void
check_canonical(const json_t *v)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*v2;
	char		*c, *c2;
	size_t		 len, len2;

	assert(tuf_canonical(v, &c, &len) == 0);
	olpc(&b, v);
	assert(b.len == len && memcmp(b.p, c, len) == 0);
	assert((v2 = tuf_parse((const uint8_t *)c, len)) != NULL);
	assert(json_equal((json_t *)v, v2));
	assert(tuf_canonical(v2, &c2, &len2) == 0);
	assert(len2 == len && memcmp(c2, c, len) == 0);
	json_decref(v2);
	free(c);
	free(c2);
	free(b.p);
}

/* Every key object in "keys": parsed, it formats and parses the same. */
static void
check_keys(const json_t *keys)
{
	struct tuf_key	 k, k2;
	const char	*id;
	json_t		*e, *kj;

	json_object_foreach((json_t *)keys, id, e) {
		if (tuf_key_parse(e, &k) != 0)
			continue;
		assert(strlen(k.keyid) == TUF_KEYID_LEN);
		assert((kj = tuf_key_json(&k)) != NULL);
		assert(tuf_key_parse(kj, &k2) == 0);
		assert(memcmp(k.pub, k2.pub, 32) == 0 &&
		    strcmp(k.keyid, k2.keyid) == 0);
		json_decref(kj);
	}
}

/* Our signature over md's signed part verifies under our key alone. */
static void
check_sign(const json_t *md)
{
	static struct tuf_signer	*s;
	static const uint8_t		 seed[32] = { 1, 2, 3 };
	struct tuf_role			 r;
	json_t				*v;
	char				*out;
	size_t				 len;

	if (s == NULL)
		assert((s = tuf_signer_new(seed)) != NULL);
	if (!json_is_object(json_object_get(md, "signed")))
		return;
	assert(tuf_sign(json_object_get(md, "signed"), &s, 1, &out,
	    &len) == 0);
	assert((v = tuf_parse((const uint8_t *)out, len)) != NULL);
	memset(&r, 0, sizeof(r));
	r.keys[0] = *tuf_signer_key(s);
	r.nkeys = 1;
	r.threshold = 1;
	assert(tuf_verify(v, &r) == 0);
	r.threshold = 2;
	assert(tuf_verify(v, &r) == TUF_ESIG);
	json_decref(v);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	struct tuf_role	 r;
	struct tuf_meta	 m;
	json_t		*md, *sp;
	char		*c;
	size_t		 i, clen, k;
	int64_t		 version;
	int		 e;

	if ((md = tuf_parse(p, len)) == NULL)
		return 0;
	check_canonical(md);
	sp = json_object_get(md, "signed");
	check_keys(json_object_get(sp, "keys"));
	assert(tuf_canonical(md, &c, &clen) == 0);
	for (i = 0; i < NROLES; i++) {
		if (tuf_root_role(sp, roles[i], &r) == 0) {
			assert(r.threshold >= 1 && r.nkeys <= TUF_ROLE_KEYS_MAX);
			for (k = 0; k < r.nkeys; k++)
				assert(strlen(r.keys[k].keyid) == TUF_KEYID_LEN);
			e = tuf_verify(md, &r);
			assert(e == 0 || e == TUF_EFORMAT || e == TUF_ESIG);
		}
		e = tuf_check(md, roles[i], 1700000000, &version);
		assert(e == 0 || e == TUF_EFORMAT || e == TUF_EVERSION ||
		    e == TUF_EEXPIRED);
		if (e == 0 || e == TUF_EEXPIRED)
			assert(version >= 1 && version <= TUF_INT_MAX);
	}
	if (tuf_meta_get(md, "snapshot.json", &m) == 0)
		tuf_meta_match(&m, (const uint8_t *)c, clen);
	if (tuf_meta_get(md, "targets.json", &m) == 0)
		tuf_meta_match(&m, (const uint8_t *)c, clen);
	free(c);
	check_sign(md);
	json_decref(md);
	return 0;
}
