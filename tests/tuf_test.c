/*
 * tuf_test.c: unit tests of tuf/: the known answers of the TUF
 * reference (RFC 8032 test key, its keyid, a signed timestamp, as
 * tuf-js and securesystemslib compute them), canonical JSON's rules,
 * thresholds over distinct keys, root rotation, meta and times.
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
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
