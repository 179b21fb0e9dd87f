/*
 * tuf_test.c: unit tests of tuf/: the known answers of the TUF
 * reference (RFC 8032 test key, its keyid, a signed timestamp, as
 * tuf-js and securesystemslib compute them), canonical JSON's rules,
 * thresholds over distinct keys, root rotation, meta and times, and
 * the client workflow's checks (update.c).
 */

#include <sodium.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tuf.h"

#define SEED	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define PUBLIC	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define KEYID	"74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916"
#define CSIGNED	"{\"_type\":\"timestamp\",\"expires\":\"2030-01-01T00:00:00Z\"," \
	"\"meta\":{\"snapshot.json\":{\"hashes\":{\"sha256\":" \
	"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}," \
	"\"length\":3,\"version\":1}},\"spec_version\":\"1.0.31\",\"version\":1}"
#define SIG	"6b46d39ad35cda5bca81765489fbb4858936d3ada7c323e432dc8aa6cffb" \
	"f98e0b9344d7ba6ba03e67d3661f3721a1dcda5c1ce50ec964227eecfb2f1dcb3e0a"

static struct tuf_signer *
kat_signer(void)
{
	uint8_t	 seed[32];

	assert_int_equal(sodium_hex2bin(seed, sizeof(seed), SEED, 64, NULL,
	    NULL, NULL), 0);
	return tuf_signer_new(seed);
}

static void
test_kat(void **state)
{
	struct tuf_signer	*s = kat_signer();
	struct tuf_key		 k;
	json_t			*md, *signed_, *kj;
	char			*out, *c;
	size_t			 len, clen;
	char			 pub[65];

	(void)state;
	assert_non_null(s);
	sodium_bin2hex(pub, sizeof(pub), tuf_signer_key(s)->pub, 32);
	assert_string_equal(pub, PUBLIC);
	assert_string_equal(tuf_signer_key(s)->keyid, KEYID);
	kj = tuf_key_json(tuf_signer_key(s));
	assert_int_equal(tuf_key_parse(kj, &k), 0);
	assert_string_equal(k.keyid, KEYID);
	json_decref(kj);
	/* Parse the canonical signed part, sign it: the reference's sig. */
	signed_ = tuf_parse((const uint8_t *)CSIGNED, strlen(CSIGNED));
	assert_non_null(signed_);
	assert_int_equal(tuf_canonical(signed_, &c, &clen), 0);
	assert_string_equal(c, CSIGNED);
	assert_int_equal(tuf_sign(signed_, &s, 1, &out, &len), 0);
	assert_non_null(strstr(out, "\"sig\":\"" SIG "\""));
	assert_non_null(strstr(out, "\"keyid\":\"" KEYID "\""));
	md = tuf_parse((uint8_t *)out, len);
	assert_non_null(md);
	free(out);
	free(c);
	json_decref(md);
	json_decref(signed_);
	tuf_signer_free(s);
}

static void
test_canonical(void **state)
{
	json_t	*v;
	char	*out;
	size_t	 len;

	(void)state;
	v = json_pack("{s:s, s:i, s:[b,n], s:{s:s}}", "b", "x\"y\\z", "a", 5,
	    "c", 1, "A", "z", "\xc3\xbc");
	assert_int_equal(tuf_canonical(v, &out, &len), 0);
	assert_string_equal(out, "{\"A\":{\"z\":\"\xc3\xbc\"},\"a\":5,"
	    "\"b\":\"x\\\"y\\\\z\",\"c\":[true,null]}");
	free(out);
	json_decref(v);
	/* Reals, control characters, negative or too large integers. */
	v = json_pack("{s:f}", "x", 1.5);
	assert_int_equal(tuf_canonical(v, &out, &len), TUF_EFORMAT);
	json_decref(v);
	v = json_pack("{s:s}", "x", "a\nb");
	assert_int_equal(tuf_canonical(v, &out, &len), TUF_EFORMAT);
	json_decref(v);
	v = json_pack("{s:I}", "x", (json_int_t)-1);
	assert_int_equal(tuf_canonical(v, &out, &len), TUF_EFORMAT);
	json_decref(v);
	v = json_pack("{s:I}", "x", (json_int_t)TUF_INT_MAX + 1);
	assert_int_equal(tuf_canonical(v, &out, &len), TUF_EFORMAT);
	json_decref(v);
	v = json_pack("{s:I}", "x", (json_int_t)TUF_INT_MAX);
	assert_int_equal(tuf_canonical(v, &out, &len), 0);
	free(out);
	json_decref(v);
	/* Parsing: duplicates, reals, not an object, garbage. */
	assert_null(tuf_parse((const uint8_t *)"{\"a\":1,\"a\":2}", 13));
	assert_null(tuf_parse((const uint8_t *)"{\"a\":1.0}", 9));
	assert_null(tuf_parse((const uint8_t *)"[1]", 3));
	assert_null(tuf_parse((const uint8_t *)"{", 1));
	assert_null(tuf_parse(NULL, 0));
}

static void
test_times(void **state)
{
	time_t	 t;
	char	 buf[21];

	(void)state;
	assert_int_equal(tuf_parse_time("2030-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1893456000);
	assert_int_equal(tuf_format_time(t, buf), 0);
	assert_string_equal(buf, "2030-01-01T00:00:00Z");
	assert_int_equal(tuf_parse_time("2030-01-01T00:00:00.000Z", &t),
	    TUF_EFORMAT);
	assert_int_equal(tuf_parse_time("2030-01-01T00:00:00+00:00", &t),
	    TUF_EFORMAT);
	assert_int_equal(tuf_parse_time("2030-02-30T00:00:00Z", &t),
	    TUF_EFORMAT);
	assert_int_equal(tuf_parse_time("2030-01-01 00:00:00Z", &t),
	    TUF_EFORMAT);
	assert_int_equal(tuf_parse_time("", &t), TUF_EFORMAT);
}

/* A root signed part with role "root" and "timestamp" of keys k[]. */
static json_t *
make_root(int version, struct tuf_signer **k, size_t n, int threshold)
{
	json_t	*keys = json_object(), *ids = json_array(), *root;
	size_t	 i;

	for (i = 0; i < n; i++) {
		json_object_set_new(keys, tuf_signer_key(k[i])->keyid,
		    tuf_key_json(tuf_signer_key(k[i])));
		json_array_append_new(ids,
		    json_string(tuf_signer_key(k[i])->keyid));
	}
	root = json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:{s:{s:O, s:i}, "
	    "s:{s:O, s:i}}}", "_type", "root", "spec_version", "1.0.31",
	    "version", version, "expires", "2099-01-01T00:00:00Z",
	    "consistent_snapshot", 1, "keys", keys, "roles", "root", "keyids",
	    ids, "threshold", threshold, "timestamp", "keyids", ids,
	    "threshold", threshold);
	json_decref(ids);
	return root;
}

static json_t *
signed_md(const json_t *signed_, struct tuf_signer **k, size_t n)
{
	char	*out;
	size_t	 len;
	json_t	*md;

	assert_int_equal(tuf_sign(signed_, k, n, &out, &len), 0);
	md = tuf_parse((uint8_t *)out, len);
	free(out);
	assert_non_null(md);
	return md;
}

static void
test_thresholds(void **state)
{
	struct tuf_signer	*k[4], *two[2], *dup[2];
	struct tuf_role		 role;
	json_t			*root, *md, *sigs;
	int64_t			 v;
	int			 i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_non_null(k[i] = tuf_signer_new(NULL));
	root = make_root(1, k, 3, 2);
	assert_int_equal(tuf_root_role(root, "root", &role), 0);
	assert_int_equal(role.nkeys, 3);
	assert_int_equal(role.threshold, 2);
	assert_int_equal(tuf_root_role(root, "targets", &role), TUF_EFORMAT);
	assert_int_equal(tuf_root_role(root, "root", &role), 0);
	/* Two of three: trusted; one: not; an outsider does not count. */
	md = signed_md(root, k, 2);
	assert_int_equal(tuf_verify(md, &role), 0);
	assert_int_equal(tuf_check(md, "root", time(NULL), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(tuf_check(md, "timestamp", time(NULL), &v),
	    TUF_EVERSION);
	assert_int_equal(tuf_check(md, "root", 4102444800 + 1, &v),
	    TUF_EEXPIRED);
	json_decref(md);
	two[0] = k[0];
	two[1] = k[3];
	md = signed_md(root, two, 2);
	assert_int_equal(tuf_verify(md, &role), TUF_ESIG);
	json_decref(md);
	/* One key signing twice counts once, and a repeated keyid is bad. */
	dup[0] = k[1];
	dup[1] = k[1];
	md = signed_md(root, dup, 2);
	assert_int_equal(json_array_size(json_object_get(md, "signatures")),
	    1);
	assert_int_equal(tuf_verify(md, &role), TUF_ESIG);
	sigs = json_object_get(md, "signatures");
	json_array_append(sigs, json_array_get(sigs, 0));
	assert_int_equal(tuf_verify(md, &role), TUF_EFORMAT);
	json_decref(md);
	/* A changed signed part, or a bad signature, fails. */
	md = signed_md(root, k, 2);
	json_object_set_new(json_object_get(md, "signed"), "version",
	    json_integer(2));
	assert_int_equal(tuf_verify(md, &role), TUF_ESIG);
	json_decref(md);
	json_decref(root);
	for (i = 0; i < 4; i++)
		tuf_signer_free(k[i]);
}

/* Root N+1 must carry thresholds of both the old and the new root. */
static void
test_rotation(void **state)
{
	struct tuf_signer	*old[2], *new[3], *both[5];
	struct tuf_role		 oldrole, newrole;
	json_t			*r1, *r2, *md;
	int			 i;

	(void)state;
	for (i = 0; i < 2; i++)
		old[i] = tuf_signer_new(NULL);
	for (i = 0; i < 3; i++)
		new[i] = tuf_signer_new(NULL);
	r1 = make_root(1, old, 2, 2);
	r2 = make_root(2, new, 3, 3);
	assert_int_equal(tuf_root_role(r1, "root", &oldrole), 0);
	assert_int_equal(tuf_root_role(r2, "root", &newrole), 0);
	for (i = 0; i < 2; i++)
		both[i] = old[i];
	for (i = 0; i < 3; i++)
		both[2 + i] = new[i];
	md = signed_md(r2, both, 5);
	assert_int_equal(tuf_verify(md, &oldrole), 0);
	assert_int_equal(tuf_verify(md, &newrole), 0);
	json_decref(md);
	/* Only the new keys: the old root does not vouch for it. */
	md = signed_md(r2, new, 3);
	assert_int_equal(tuf_verify(md, &oldrole), TUF_ESIG);
	assert_int_equal(tuf_verify(md, &newrole), 0);
	json_decref(md);
	/* Old keys and two new ones: under the new threshold of three. */
	md = signed_md(r2, both, 4);
	assert_int_equal(tuf_verify(md, &oldrole), 0);
	assert_int_equal(tuf_verify(md, &newrole), TUF_ESIG);
	json_decref(md);
	json_decref(r1);
	json_decref(r2);
	for (i = 0; i < 2; i++)
		tuf_signer_free(old[i]);
	for (i = 0; i < 3; i++)
		tuf_signer_free(new[i]);
}

static void
test_meta(void **state)
{
	json_t		*md;
	struct tuf_meta	 m;

	(void)state;
	md = json_pack("{s:{s:{s:{s:i, s:i, s:{s:s}}}}}", "signed", "meta",
	    "snapshot.json", "version", 4, "length", 3, "hashes", "sha256",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(tuf_meta_get(md, "snapshot.json", &m), 0);
	assert_int_equal(m.version, 4);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"abd", 3),
	    TUF_EHASH);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"abcd", 4),
	    TUF_EHASH);
	assert_int_equal(tuf_meta_get(md, "targets.json", &m), TUF_EFORMAT);
	json_decref(md);
	/* A negative length is not "unlisted": it is malformed. */
	md = json_pack("{s:{s:{s:{s:i, s:i}}}}", "signed", "meta",
	    "snapshot.json", "version", 4, "length", -1);
	assert_int_equal(tuf_meta_get(md, "snapshot.json", &m), TUF_EFORMAT);
	json_decref(md);
}

/* A target must pin a length of at least 0 and a 64-hex sha256. */
static json_t *
target(json_t *length, const char *sha256)
{
	json_t	*e = json_object(), *md;

	if (length != NULL)
		json_object_set_new(e, "length", length);
	if (sha256 != NULL)
		json_object_set_new(e, "hashes", json_pack("{s:s}", "sha256",
		    sha256));
	md = json_pack("{s:{s:{s:o}}}", "signed", "targets", "a/b", e);
	return md;
}

static void
test_target(void **state)
{
	const char	*abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
			    "b410ff61f20015ad";
	struct tuf_meta	 m;
	json_t		*md;

	(void)state;
	md = target(json_integer(3), abc);
	assert_int_equal(tuf_target_get(md, "a/b", &m), 0);
	assert_int_equal(m.length, 3);
	assert_int_equal(m.has_sha256, 1);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(tuf_target_get(md, "a/c", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_integer(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
	    "649b934ca495991b7852b855");
	assert_int_equal(tuf_target_get(md, "a/b", &m), 0);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"", 0), 0);
	json_decref(md);
	md = target(NULL, abc);				/* no length */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_integer(-1), abc);		/* negative */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_string("3"), abc);		/* not an integer */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_integer(3), NULL);		/* no sha256 */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_integer(3), "ba7816bf");	/* short */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = target(json_integer(3), "BA7816BF8F01CFEA414140DE5DAE2223B00361A3"
	    "96177A9CB410FF61F20015AD");		/* upper case */
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
	md = json_pack("{s:{s:{s:i}}}", "signed", "targets", "a/b", 3);
	assert_int_equal(tuf_target_get(md, "a/b", &m), TUF_EFORMAT);
	json_decref(md);
}

/* update.c: the client workflow's checks over fetched bytes. */

/* A root of version v: every role the keys k[0..n-1], threshold t. */
static json_t *
full_root(int v, struct tuf_signer **k, size_t n, int t)
{
	json_t	*root = make_root(v, k, n, t), *roles;

	roles = json_object_get(root, "roles");
	json_object_set(roles, "snapshot", json_object_get(roles,
	    "timestamp"));
	json_object_set(roles, "targets", json_object_get(roles,
	    "timestamp"));
	return root;
}

/* signed_ signed by k[0..n-1], as the bytes a client fetches. */
static char *
sign_bytes(json_t *signed_, struct tuf_signer **k, size_t n, size_t *len)
{
	char	*out;

	assert_int_equal(tuf_sign(signed_, k, n, &out, len), 0);
	json_decref(signed_);
	return out;
}

/* A signed part of type, version v, expiring at expires. */
static json_t *
role_md(const char *type, int v, const char *expires)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "_type", type,
	    "spec_version", "1.0.31", "version", v, "expires", expires);
}

/* The meta entry for bytes p[0..len-1] at version v. */
static void
meta_of(const char *p, size_t len, int v, struct tuf_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->version = v;
	m->length = (int64_t)len;
	crypto_hash_sha256(m->sha256, (const uint8_t *)p, len);
	m->has_sha256 = 1;
}

/* md with meta[name] = {version v, length and sha256 of m}. */
static json_t *
with_meta(json_t *md, const char *name, int v, const struct tuf_meta *m)
{
	char	 hex[65];
	json_t	*meta;

	if ((meta = json_object_get(md, "meta")) == NULL) {
		meta = json_object();
		json_object_set_new(md, "meta", meta);
	}
	if (m == NULL) {
		json_object_set_new(meta, name, json_pack("{s:i}", "version",
		    v));
		return md;
	}
	sodium_bin2hex(hex, sizeof(hex), m->sha256, 32);
	json_object_set_new(meta, name, json_pack("{s:i, s:I, s:{s:s}}",
	    "version", v, "length", (json_int_t)m->length, "hashes",
	    "sha256", hex));
	return md;
}

#define FUTURE	"2099-01-01T00:00:00Z"
#define PAST	"2001-01-01T00:00:00Z"

static void
test_update_roots(void **state)
{
	struct tuf_signer	*k[3], *both[3];
	json_t			*r1, *r2, *next;
	char			*p, err[256];
	size_t			 len;
	int			 i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_non_null(k[i] = tuf_signer_new(NULL));
	/* 5.2: the pinned root signs itself, with its threshold. */
	p = sign_bytes(full_root(1, k, 2, 2), k, 2, &len);
	assert_int_equal(tuf_update_pinned((uint8_t *)p, len, &r1, err,
	    sizeof(err)), 0);
	free(p);
	p = sign_bytes(full_root(1, k, 2, 2), k, 1, &len);
	assert_int_equal(tuf_update_pinned((uint8_t *)p, len, &next, err,
	    sizeof(err)), TUF_ESIG);
	assert_null(next);
	assert_string_equal(err, "the pinned root does not verify itself");
	free(p);
	assert_int_equal(tuf_update_pinned((uint8_t *)"{", 1, &next, err,
	    sizeof(err)), TUF_EFORMAT);
	/* 5.3: root 2 of new keys, signed by old and new thresholds. */
	both[0] = k[0];
	both[1] = k[1];
	both[2] = k[2];
	p = sign_bytes(full_root(2, k + 2, 1, 1), both, 3, &len);
	assert_int_equal(tuf_update_root(r1, (uint8_t *)p, len, "u", 0,
	    &r2, err, sizeof(err)), 0);
	assert_int_equal(tuf_version(r2), 2);
	free(p);
	/* Threshold of the old root not met: one of two. */
	p = sign_bytes(full_root(2, k + 2, 1, 1), both + 1, 2, &len);
	assert_int_equal(tuf_update_root(r1, (uint8_t *)p, len, "u", 0,
	    &next, err, sizeof(err)), TUF_ESIG);
	assert_null(next);
	assert_string_equal(err, "root 2: not signed by a threshold of root 1 "
	    "and of itself: signature threshold not met");
	free(p);
	/* A gap in the chain: version 3 after 1. */
	p = sign_bytes(full_root(3, k, 2, 2), k, 2, &len);
	assert_int_equal(tuf_update_root(r1, (uint8_t *)p, len, "u/2", 0,
	    &next, err, sizeof(err)), TUF_EVERSION);
	assert_string_equal(err, "root chain: 'u/2' is version 3, not 2");
	free(p);
	assert_int_equal(tuf_update_root(r1, (uint8_t *)"[]", 2, "u", 0,
	    &next, err, sizeof(err)), TUF_EFORMAT);
	assert_string_equal(err, "root 2: malformed");
	/* The end of the chain must not be expired. */
	assert_int_equal(tuf_update_root_check(r2, time(NULL), err,
	    sizeof(err)), 0);
	assert_int_equal(tuf_update_root_check(r2, 4102444800 + 1, err,
	    sizeof(err)), TUF_EEXPIRED);
	assert_string_equal(err, "root 2: expired");
	json_decref(r1);
	json_decref(r2);
	for (i = 0; i < 3; i++)
		tuf_signer_free(k[i]);
}

/* Root metadata 1 of two new keys k[0..1] for every role, both needed. */
static json_t *
two_key_root(struct tuf_signer **k)
{
	assert_non_null(k[0] = tuf_signer_new(NULL));
	assert_non_null(k[1] = tuf_signer_new(NULL));
	return json_pack("{s:o}", "signed", full_root(1, k, 2, 2));
}

/* Timestamp version tv listing snapshot version sv, signed by k[0..n-1]. */
static char *
timestamp(int tv, int sv, const char *expires, struct tuf_signer **k,
    size_t n, size_t *len)
{
	struct tuf_meta	 m;

	meta_of("snap", 4, sv, &m);
	return sign_bytes(with_meta(role_md("timestamp", tv, expires),
	    "snapshot.json", sv, &m), k, n, len);
}

static void
test_update_timestamp(void **state)
{
	struct tuf_signer	*k[2];
	struct tuf_meta		 m;
	json_t			*root, *ts, *trusted;
	char			*p, err[256];
	size_t			 len;
	time_t			 now = time(NULL);
	int			 i;

	(void)state;
	root = two_key_root(k);
	/* Threshold met: its snapshot entry. */
	p = timestamp(5, 7, FUTURE, k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, NULL, (uint8_t *)p, len,
	    now, &ts, &m, err, sizeof(err)), 0);
	assert_int_equal(m.version, 7);
	assert_int_equal(m.length, 4);
	assert_int_equal(tuf_meta_match(&m, (const uint8_t *)"snap", 4), 0);
	trusted = tuf_parse((uint8_t *)p, len);
	free(p);
	json_decref(ts);
	/* Not met: one key of two. */
	p = timestamp(6, 7, FUTURE, k, 1, &len);
	assert_int_equal(tuf_update_timestamp(root, trusted, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), TUF_ESIG);
	assert_null(ts);
	assert_string_equal(err, "timestamp: signature threshold not met");
	free(p);
	/* Expired. */
	p = timestamp(6, 7, PAST, k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, trusted, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), TUF_EEXPIRED);
	assert_string_equal(err, "timestamp: expired");
	free(p);
	/* Rollbacks of the timestamp, and of its snapshot. */
	p = timestamp(4, 7, FUTURE, k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, trusted, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), TUF_EVERSION);
	assert_string_equal(err, "timestamp rollback: version 4, we trust 5");
	free(p);
	p = timestamp(6, 6, FUTURE, k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, trusted, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), TUF_EVERSION);
	assert_string_equal(err, "snapshot rollback in the timestamp: "
	    "version 6, we trust 7");
	free(p);
	/* The same version again is no rollback. */
	p = timestamp(5, 7, FUTURE, k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, trusted, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), 0);
	json_decref(ts);
	free(p);
	/* No snapshot.json (with a trusted one, that is a rollback). */
	p = sign_bytes(role_md("timestamp", 6, FUTURE), k, 2, &len);
	assert_int_equal(tuf_update_timestamp(root, NULL, (uint8_t *)p,
	    len, now, &ts, &m, err, sizeof(err)), TUF_EFORMAT);
	assert_string_equal(err, "timestamp: no snapshot.json");
	free(p);
	json_decref(trusted);
	json_decref(root);
	for (i = 0; i < 2; i++)
		tuf_signer_free(k[i]);
}

/* tuf_update_snapshot() of p that must fail: its code. */
static int
snapshot_refused(const json_t *root, const json_t *trusted,
    const struct tuf_meta *m, const char *p, size_t len, char err[256])
{
	struct tuf_meta	 tm;
	json_t		*snap;
	int		 r;

	r = tuf_update_snapshot(root, trusted, m, (const uint8_t *)p, len,
	    time(NULL), &snap, &tm, err, 256);
	assert_int_not_equal(r, 0);
	assert_null(snap);
	return r;
}

static void
test_update_snapshot_targets(void **state)
{
	struct tuf_signer	*k[2];
	struct tuf_meta		 m, tm, bad;
	json_t			*root, *snap, *targets;
	char			*p, *tp, err[256];
	size_t			 len, tlen;
	time_t			 now = time(NULL);
	int			 i;

	(void)state;
	root = two_key_root(k);
	/* Targets 3, listed by snapshot 7, listed by the timestamp. */
	tp = sign_bytes(json_pack("{s:s, s:s, s:i, s:s, s:{}}", "_type",
	    "targets", "spec_version", "1.0.31", "version", 3, "expires",
	    FUTURE, "targets"), k, 2, &tlen);
	meta_of(tp, tlen, 3, &tm);
	p = sign_bytes(with_meta(role_md("snapshot", 7, FUTURE),
	    "targets.json", 3, &tm), k, 2, &len);
	meta_of(p, len, 7, &m);
	assert_int_equal(tuf_update_snapshot(root, NULL, &m, (uint8_t *)p,
	    len, now, &snap, &tm, err, sizeof(err)), 0);
	assert_int_equal(tm.version, 3);
	assert_int_equal(tm.length, (int64_t)tlen);
	/* Length or hash not the timestamp's: mix-and-match. */
	bad = m;
	bad.length--;
	assert_int_equal(snapshot_refused(root, NULL, &bad, p, len, err),
	    TUF_EHASH);
	assert_string_equal(err, "snapshot 7: length or hash differs from "
	    "the timestamp's (mix-and-match)");
	bad = m;
	bad.sha256[0] ^= 1;
	assert_int_equal(snapshot_refused(root, NULL, &bad, p, len, err),
	    TUF_EHASH);
	/* Another version than the timestamp's. */
	bad = m;
	bad.version = 8;
	assert_int_equal(snapshot_refused(root, NULL, &bad, p, len, err),
	    TUF_EVERSION);
	assert_string_equal(err, "snapshot: version 7, the timestamp says 8");
	free(p);
	/* targets.json at 2 after a trusted 3: a rollback; or expired. */
	for (i = 0; i < 2; i++) {
		p = sign_bytes(with_meta(role_md("snapshot", 8, i ? PAST :
		    FUTURE), "targets.json", i ? 3 : 2, &tm), k, 2, &len);
		meta_of(p, len, 8, &m);
		assert_int_equal(snapshot_refused(root, snap, &m, p, len, err),
		    i ? TUF_EEXPIRED : TUF_EVERSION);
		assert_string_equal(err, i ? "snapshot: expired" :
		    "snapshot rollback of 'targets.json'");
		free(p);
	}
	/* Targets: as the snapshot lists them, or refused. */
	meta_of(tp, tlen, 3, &tm);
	assert_int_equal(tuf_update_targets(root, &tm, (uint8_t *)tp, tlen,
	    now, &targets, err, sizeof(err)), 0);
	assert_int_equal(tuf_version(targets), 3);
	json_decref(targets);
	assert_int_equal(tuf_update_targets(root, &tm, (uint8_t *)tp,
	    tlen - 1, now, &targets, err, sizeof(err)), TUF_EHASH);
	assert_string_equal(err, "targets 3: length or hash differs from the "
	    "snapshot's (mix-and-match)");
	tm.version = 4;
	assert_int_equal(tuf_update_targets(root, &tm, (uint8_t *)tp, tlen,
	    now, &targets, err, sizeof(err)), TUF_EVERSION);
	assert_string_equal(err, "targets: version 3, the snapshot says 4");
	assert_int_equal(tuf_update_targets(root, &tm, (uint8_t *)tp, tlen,
	    4102444800 + 1, &targets, err, sizeof(err)), TUF_EEXPIRED);
	assert_string_equal(err, "targets: expired");
	free(tp);
	json_decref(snap);
	json_decref(root);
	for (i = 0; i < 2; i++)
		tuf_signer_free(k[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_update_roots),
		cmocka_unit_test(test_update_timestamp),
		cmocka_unit_test(test_update_snapshot_targets),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
