/*
 * sumdb_test.c: unit tests of daemon/sumdb against golang.org/x/mod.
 * Known answers come from tests/testdata/kat.txt (made by xmodref kat);
 * random tree vectors, module zips and their h1 from xmodref at test
 * time (files named by SUMDB_RANDOM and SUMDB_ZIPS); real sum.golang.org
 * data from tests/testdata/real.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <sodium.h>
#include <zip.h>

#include <fcntl.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sumdb.h"

#define SUMDB_KEY "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

static const char *testdata = "tests/testdata";

/* Helpers. */

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	uint8_t	*p;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, n, f), (size_t)n);
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode hex s ("-" is empty) into a malloc'd NUL-terminated buffer. */
static uint8_t *
unhex(const char *s, size_t *len)
{
	size_t	 n = strlen(s), i;
	uint8_t	*p;

	if (strcmp(s, "-") == 0)
		n = 0;
	assert_int_equal(n % 2, 0);
	p = malloc(n / 2 + 1);
	assert_non_null(p);
	for (i = 0; i < n / 2; i++) {
		assert_true(hexval(s[2 * i]) >= 0 && hexval(s[2 * i + 1]) >= 0);
		p[i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
	}
	p[n / 2] = '\0';
	*len = n / 2;
	return p;
}

static void
unhex32(const char *s, uint8_t out[SUMDB_HASH_SIZE])
{
	size_t	 len;
	uint8_t	*p = unhex(s, &len);

	assert_int_equal(len, SUMDB_HASH_SIZE);
	memcpy(out, p, SUMDB_HASH_SIZE);
	free(p);
}

/* Split line into at most max whitespace-separated fields. */
static int
fields(char *line, char **f, int max)
{
	int	 n = 0;
	char	*p, *save = NULL;

	for (p = strtok_r(line, " \n", &save); p != NULL && n < max;
	    p = strtok_r(NULL, " \n", &save))
		f[n++] = p;
	return n;
}

/* Parse a comma-separated hex proof into proof; returns its length. */
static size_t
parse_proof(const char *s, uint8_t (*proof)[SUMDB_HASH_SIZE])
{
	char	*copy, *p, *save = NULL;
	size_t	 n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	copy = strdup(s);
	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		assert_true(n < SUMDB_PROOF_MAX);
		unhex32(p, proof[n++]);
	}
	free(copy);
	return n;
}

static char *
buf_str(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = malloc(len + 1);

	assert_non_null(s);
	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	return s;
}

/* An in-memory log with the records of xmodref's recordText(). */

struct memlog {
	uint8_t		(*h)[SUMDB_HASH_SIZE];
	int64_t		 nh, cap;
	int64_t		 n;		/* records */
};

static int
memlog_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct memlog	*l = arg;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (index[i] < 0 || index[i] >= l->nh)
			return -1;
		memcpy(out[i], l->h[index[i]], SUMDB_HASH_SIZE);
	}
	return 0;
}

static void
record_text(int64_t i, char *buf, size_t size)
{
	snprintf(buf, size, "example.com/m%lld v1.0.%lld h1:record%lld\n",
	    (long long)(i % 97), (long long)i, (long long)i);
}

static void
memlog_build(struct memlog *l, int64_t n)
{
	struct tlog_hash_reader	 hr = { memlog_read, l };
	uint8_t			 leaf[SUMDB_HASH_SIZE];
	uint8_t			 add[65][SUMDB_HASH_SIZE];
	char			 text[128];
	int64_t			 i;
	int			 k, m;

	memset(l, 0, sizeof(*l));
	l->cap = tlog_stored_hash_count(n);
	l->h = calloc(l->cap, SUMDB_HASH_SIZE);
	assert_non_null(l->h);
	for (i = 0; i < n; i++) {
		record_text(i, text, sizeof(text));
		tlog_record_hash((uint8_t *)text, strlen(text), leaf);
		assert_int_equal(l->nh, tlog_stored_hash_index(0, i));
		m = tlog_stored_hashes_for_record(i, leaf, &hr, add);
		assert_true(m >= 1);
		for (k = 0; k < m; k++)
			memcpy(l->h[l->nh++], add[k], SUMDB_HASH_SIZE);
		l->n++;
	}
	assert_int_equal(l->nh, l->cap);
}

/*
 * Check the tree, record proof and tree proof lines of xmodref (KAT or
 * random) against l, and that altered proofs fail.
 */
static int
check_tree_line(struct memlog *l, char **f, int nf)
{
	struct tlog_hash_reader	 hr = { memlog_read, l };
	uint8_t			 want[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	uint8_t			 got[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	uint8_t			 th[SUMDB_HASH_SIZE], h[SUMDB_HASH_SIZE];
	uint8_t			 mh[SUMDB_HASH_SIZE], leaf[SUMDB_HASH_SIZE];
	char			 text[128];
	int64_t			 t, n;
	size_t			 nwant, ngot, i;

	if (strcmp(f[0], "tree") == 0 && nf == 3) {
		t = strtoll(f[1], NULL, 10);
		unhex32(f[2], th);
		assert_int_equal(tlog_tree_hash(t, &hr, h), 0);
		assert_memory_equal(h, th, SUMDB_HASH_SIZE);
		return 1;
	}
	if (strcmp(f[0], "recproof") == 0 && nf == 4) {
		t = strtoll(f[1], NULL, 10);
		n = strtoll(f[2], NULL, 10);
		nwant = parse_proof(f[3], want);
		assert_int_equal(tlog_prove_record(t, n, &hr, got, &ngot), 0);
		assert_int_equal(ngot, nwant);
		assert_memory_equal(got, want, ngot * SUMDB_HASH_SIZE);
		assert_int_equal(tlog_tree_hash(t, &hr, th), 0);
		record_text(n, text, sizeof(text));
		tlog_record_hash((uint8_t *)text, strlen(text), leaf);
		assert_int_equal(tlog_check_record((const uint8_t (*)[32])got,
		    ngot, t, th, n, leaf), 0);
		/* Altered: each hash, the leaf, the index, the size, length. */
		for (i = 0; i < ngot; i++) {
			got[i][i % SUMDB_HASH_SIZE] ^= 0x01;
			assert_int_equal(tlog_check_record(
			    (const uint8_t (*)[32])got, ngot, t, th, n, leaf),
			    SUMDB_EPROOF);
			got[i][i % SUMDB_HASH_SIZE] ^= 0x01;
		}
		leaf[5] ^= 0x80;
		assert_int_not_equal(tlog_check_record(
		    (const uint8_t (*)[32])got, ngot, t, th, n, leaf), 0);
		leaf[5] ^= 0x80;
		if (t > 1)
			assert_int_not_equal(tlog_check_record(
			    (const uint8_t (*)[32])got, ngot, t, th,
			    (n + 1) % t, leaf), 0);
		if (ngot > 0)
			assert_int_not_equal(tlog_check_record(
			    (const uint8_t (*)[32])got, ngot - 1, t, th, n,
			    leaf), 0);
		memcpy(got[ngot], th, SUMDB_HASH_SIZE);
		assert_int_not_equal(tlog_check_record(
		    (const uint8_t (*)[32])got, ngot + 1, t, th, n, leaf), 0);
		return 1;
	}
	if (strcmp(f[0], "treeproof") == 0 && nf == 5) {
		t = strtoll(f[1], NULL, 10);
		n = strtoll(f[2], NULL, 10);
		unhex32(f[3], mh);
		nwant = parse_proof(f[4], want);
		assert_int_equal(tlog_tree_hash(n, &hr, h), 0);
		assert_memory_equal(h, mh, SUMDB_HASH_SIZE);
		assert_int_equal(tlog_prove_tree(t, n, &hr, got, &ngot), 0);
		assert_int_equal(ngot, nwant);
		assert_memory_equal(got, want, ngot * SUMDB_HASH_SIZE);
		assert_int_equal(tlog_tree_hash(t, &hr, th), 0);
		assert_int_equal(tlog_check_tree((const uint8_t (*)[32])got,
		    ngot, t, th, n, mh), 0);
		for (i = 0; i < ngot; i++) {
			got[i][(i * 7) % SUMDB_HASH_SIZE] ^= 0x10;
			assert_int_equal(tlog_check_tree(
			    (const uint8_t (*)[32])got, ngot, t, th, n, mh),
			    SUMDB_EPROOF);
			got[i][(i * 7) % SUMDB_HASH_SIZE] ^= 0x10;
		}
		mh[0] ^= 1;
		assert_int_equal(tlog_check_tree((const uint8_t (*)[32])got,
		    ngot, t, th, n, mh), SUMDB_EPROOF);
		mh[0] ^= 1;
		th[31] ^= 1;
		assert_int_equal(tlog_check_tree((const uint8_t (*)[32])got,
		    ngot, t, th, n, mh), SUMDB_EPROOF);
		th[31] ^= 1;
		if (ngot > 0)
			assert_int_equal(tlog_check_tree(
			    (const uint8_t (*)[32])got, ngot - 1, t, th, n, mh),
			    SUMDB_EPROOF);
		memcpy(got[ngot], mh, SUMDB_HASH_SIZE);
		assert_int_equal(tlog_check_tree((const uint8_t (*)[32])got,
		    ngot + 1, t, th, n, mh), SUMDB_EPROOF);
		if (n < t)
			assert_int_equal(tlog_check_tree(
			    (const uint8_t (*)[32])got, ngot, t, th, n + 1, mh),
			    SUMDB_EPROOF);
		return 1;
	}
	return 0;
}

/* Known answers from x/mod. */

static int
kat_hashes(char **f, int nf)
{
	uint8_t		*d, *a, *b, want[SUMDB_HASH_SIZE], got[SUMDB_HASH_SIZE];
	size_t		 len, alen, blen;
	int64_t		 n, idx;
	int		 level, l2;

	if (strcmp(f[0], "recordhash") == 0 && nf == 3) {
		d = unhex(f[1], &len);
		unhex32(f[2], want);
		tlog_record_hash(d, len, got);
		assert_memory_equal(got, want, SUMDB_HASH_SIZE);
		free(d);
		return 1;
	}
	if (strcmp(f[0], "nodehash") == 0 && nf == 4) {
		a = unhex(f[1], &alen);
		b = unhex(f[2], &blen);
		unhex32(f[3], want);
		tlog_node_hash(a, b, got);
		assert_memory_equal(got, want, SUMDB_HASH_SIZE);
		free(a);
		free(b);
		return 1;
	}
	if (strcmp(f[0], "shi") == 0 && nf == 4) {
		level = atoi(f[1]);
		n = strtoll(f[2], NULL, 10);
		idx = strtoll(f[3], NULL, 10);
		assert_int_equal(tlog_stored_hash_index(level, n), idx);
		tlog_split_stored_hash_index(idx, &l2, &n);
		assert_int_equal(l2, level);
		assert_int_equal(n, strtoll(f[2], NULL, 10));
		return 1;
	}
	if (strcmp(f[0], "shc") == 0 && nf == 3) {
		assert_int_equal(tlog_stored_hash_count(strtoll(f[1], NULL,
		    10)), strtoll(f[2], NULL, 10));
		return 1;
	}
	return 0;
}

static int
kat_tiles(char **f, int nf)
{
	struct tile	 t, t2;
	char		 buf[SUMDB_TILE_PATH_MAX];
	int		 r;

	if (strcmp(f[0], "tilepath") == 0 && nf == 6) {
		t.h = atoi(f[1]);
		t.l = atoi(f[2]);
		t.n = strtoll(f[3], NULL, 10);
		t.w = atoi(f[4]);
		r = tile_format(&t, buf, sizeof(buf));
		assert_int_equal(r, strlen(f[5]));
		assert_string_equal(buf, f[5]);
		assert_int_equal(tile_parse(buf, r, &t2), 0);
		assert_true(t.h == t2.h && t.l == t2.l && t.n == t2.n &&
		    t.w == t2.w);
		/* One byte short of its buffer: refused, never cut. */
		assert_int_equal(tile_format(&t, buf, r), SUMDB_ELIMIT);
		return 1;
	}
	if (strcmp(f[0], "tileparse") == 0 && (nf == 3 || nf == 7)) {
		r = tile_parse(f[1], strlen(f[1]), &t);
		/*
		 * Deliberately stricter than x/mod 0.7.0, which has no upper
		 * bound on the level: levels above 63 cannot exist.
		 */
		if (strcmp(f[1], "tile/8/64/000") == 0) {
			assert_int_equal(r, SUMDB_EFORMAT);
			return 1;
		}
		if (strcmp(f[2], "err") == 0) {
			if (r == 0)
				fail_msg("tile_parse('%s') accepted", f[1]);
			return 1;
		}
		if (r != 0)
			fail_msg("tile_parse('%s') refused", f[1]);
		assert_int_equal(t.h, atoi(f[3]));
		assert_int_equal(t.l, atoi(f[4]));
		assert_int_equal(t.n, strtoll(f[5], NULL, 10));
		assert_int_equal(t.w, atoi(f[6]));
		return 1;
	}
	if (strcmp(f[0], "tileforindex") == 0 && nf == 6) {
		tile_for_index(atoi(f[1]), strtoll(f[2], NULL, 10), &t);
		assert_int_equal(t.l, atoi(f[3]));
		assert_int_equal(t.n, strtoll(f[4], NULL, 10));
		assert_int_equal(t.w, atoi(f[5]));
		return 1;
	}
	return 0;
}

static void
want_string(int r, const char *buf, const char *wanthex, const char *what,
    const char *in)
{
	uint8_t	*want;
	size_t	 len;

	if (strcmp(wanthex, "err") == 0) {
		if (r >= 0)
			fail_msg("%s(%s) accepted: '%s'", what, in, buf);
		return;
	}
	want = unhex(wanthex, &len);
	if (r < 0)
		fail_msg("%s(%s) refused", what, in);
	assert_int_equal(r, len);
	assert_memory_equal(buf, want, len);
	free(want);
}

static int
kat_modpath(char **f, int nf)
{
	uint8_t	*p, *v;
	size_t	 plen, vlen;
	char	 buf[SUMDB_PATH_MAX * 2];
	int	 r;

	if (nf < 3 || strstr(" checkpath escpath unescpath escver unescver "
	    "semver check ", f[0]) == NULL)
		return 0;
	p = unhex(f[1], &plen);
	if (strcmp(f[0], "checkpath") == 0) {
		r = modpath_check_path((char *)p, plen);
		if (r != (strcmp(f[2], "ok") == 0))
			fail_msg("checkpath('%s') = %d", (char *)p, r);
	} else if (strcmp(f[0], "escpath") == 0) {
		r = modpath_escape_path((char *)p, plen, buf, sizeof(buf));
		want_string(r, buf, f[2], "escape_path", (char *)p);
	} else if (strcmp(f[0], "unescpath") == 0) {
		r = modpath_unescape_path((char *)p, plen, buf, sizeof(buf));
		want_string(r, buf, f[2], "unescape_path", (char *)p);
	} else if (strcmp(f[0], "escver") == 0) {
		r = modpath_escape_version((char *)p, plen, buf, sizeof(buf));
		want_string(r, buf, f[2], "escape_version", (char *)p);
	} else if (strcmp(f[0], "unescver") == 0) {
		r = modpath_unescape_version((char *)p, plen, buf,
		    sizeof(buf));
		want_string(r, buf, f[2], "unescape_version", (char *)p);
	} else if (strcmp(f[0], "semver") == 0 && nf == 4) {
		if (modpath_semver_valid((char *)p, plen) !=
		    (strcmp(f[2], "true") == 0))
			fail_msg("semver_valid('%s')", (char *)p);
		if (modpath_semver_canonical((char *)p, plen) !=
		    (strcmp(f[3], "true") == 0))
			fail_msg("semver_canonical('%s')", (char *)p);
	} else if (strcmp(f[0], "check") == 0 && nf == 4) {
		v = unhex(f[2], &vlen);
		r = modpath_check((char *)p, plen, (char *)v, vlen);
		if ((r == 0) != (strcmp(f[3], "ok") == 0))
			fail_msg("check('%s', '%s') = %d", (char *)p,
			    (char *)v, r);
		free(v);
	} else {
		free(p);
		return 0;
	}
	free(p);
	return 1;
}

static int
kat_keys(char **f, int nf)
{
	struct note_verifier	 v, v2;
	struct note_signer	*s, *sv[1];
	struct evbuffer		*b;
	uint8_t			*k, *text, *msg;
	size_t			 klen, tlen, mlen;
	char			 skey[256], *out;
	int			 err, r;

	if (strcmp(f[0], "keypair") == 0 && nf == 3) {
		s = note_signer_parse(f[1], strlen(f[1]), &err);
		assert_non_null(s);
		assert_int_equal(note_verifier_parse(f[2], strlen(f[2]), &v), 0);
		note_signer_verifier(s, &v2);
		assert_string_equal(v.name, v2.name);
		assert_int_equal(v.hash, v2.hash);
		assert_memory_equal(v.pub, v2.pub, sizeof(v.pub));
		r = note_signer_format(s, skey, sizeof(skey));
		assert_int_equal(r, strlen(f[1]));
		assert_string_equal(skey, f[1]);
		assert_int_equal(note_signer_format(s, skey, r), SUMDB_ELIMIT);
		b = evbuffer_new();
		assert_int_equal(note_verifier_format(&v, b), 0);
		out = buf_str(b);
		assert_string_equal(out, f[2]);
		free(out);
		evbuffer_free(b);
		note_signer_free(s);
		return 1;
	}
	if (strcmp(f[0], "signed") == 0 && nf == 4) {
		s = note_signer_parse(f[1], strlen(f[1]), &err);
		assert_non_null(s);
		text = unhex(f[2], &tlen);
		msg = unhex(f[3], &mlen);
		b = evbuffer_new();
		sv[0] = s;
		assert_int_equal(note_sign(text, tlen, sv, 1, b), 0);
		assert_int_equal(evbuffer_get_length(b), mlen);
		assert_memory_equal(evbuffer_pullup(b, -1), msg, mlen);
		evbuffer_free(b);
		free(text);
		free(msg);
		note_signer_free(s);
		return 1;
	}
	if (strcmp(f[0], "vkey") == 0 && nf >= 3) {
		k = unhex(f[1], &klen);
		r = note_verifier_parse((char *)k, klen, &v);
		/*
		 * x/mod's base64 skips CR and LF anywhere in a key; ours
		 * does not: a key with a line break in it is malformed.
		 */
		if (strpbrk((char *)k, "\r\n") != NULL) {
			assert_int_equal(r, SUMDB_EKEY);
			free(k);
			return 1;
		}
		if (strcmp(f[2], "err") == 0) {
			if (r == 0)
				fail_msg("vkey '%s' accepted", (char *)k);
		} else {
			if (r != 0)
				fail_msg("vkey '%s' refused", (char *)k);
			assert_int_equal(v.hash, strtoul(f[4], NULL, 16));
		}
		free(k);
		return 1;
	}
	if (strcmp(f[0], "skey") == 0 && nf >= 3) {
		k = unhex(f[1], &klen);
		s = note_signer_parse((char *)k, klen, &err);
		if (strcmp(f[2], "err") == 0) {
			if (s != NULL)
				fail_msg("skey '%s' accepted", (char *)k);
			assert_int_equal(err, SUMDB_EKEY);
		} else {
			if (s == NULL)
				fail_msg("skey '%s' refused", (char *)k);
			note_signer_verifier(s, &v);
			assert_int_equal(v.hash, strtoul(f[4], NULL, 16));
		}
		note_signer_free(s);
		free(k);
		return 1;
	}
	if (strcmp(f[0], "keyname") == 0 && nf == 3) {
		k = unhex(f[1], &klen);
		if (note_name_valid((char *)k, klen) !=
		    (strcmp(f[2], "true") == 0))
			fail_msg("keyname '%s'", (char *)k);
		free(k);
		return 1;
	}
	return 0;
}

/*
 * Witness keys and cosignatures (cosignature/v1) from xmodref, which
 * makes them with Go's crypto/ed25519 as c2sp.org/tlog-cosignature
 * says: "cosigkey SKEY VKEY KEYID", then "cosign VKEY T TEXT LINE" for
 * that key.
 */
static int
kat_cosig(char **f, int nf)
{
	static char		 skey[256];
	struct note_signer	*s;
	struct note_verifier	 v, v2;
	struct note		 n;
	struct evbuffer		*b;
	uint8_t			*text, *line, *msg;
	size_t			 tlen, llen;
	char			 buf[256], *out;
	int			 err;

	if (strcmp(f[0], "cosigkey") == 0 && nf == 4) {
		snprintf(skey, sizeof(skey), "%s", f[1]);
		assert_non_null(s = note_signer_parse(f[1], strlen(f[1]),
		    &err));
		assert_int_equal(note_signer_alg(s), NOTE_COSIG_V1);
		assert_int_equal(note_signer_format(s, buf, sizeof(buf)),
		    strlen(f[1]));
		assert_string_equal(buf, f[1]);
		assert_int_equal(note_cosigner_parse(f[2], strlen(f[2]), &v),
		    0);
		assert_int_equal(v.alg, NOTE_COSIG_V1);
		assert_int_equal(v.hash, strtoul(f[3], NULL, 16));
		assert_int_equal(note_key_hash(NOTE_COSIG_V1, v.name,
		    strlen(v.name), v.pub), v.hash);
		note_signer_verifier(s, &v2);
		assert_int_equal(v2.alg, v.alg);
		assert_int_equal(v2.hash, v.hash);
		assert_string_equal(v2.name, v.name);
		assert_memory_equal(v2.pub, v.pub, sizeof(v.pub));
		b = evbuffer_new();
		assert_int_equal(note_verifier_format(&v, b), 0);
		out = buf_str(b);
		assert_string_equal(out, f[2]);
		free(out);
		/* Not a log's key, and it signs no note as one. */
		assert_int_equal(note_verifier_parse(f[2], strlen(f[2]), &v2),
		    SUMDB_EKEY);
		assert_int_equal(note_sign((const uint8_t *)"t\n", 2, &s, 1,
		    b), SUMDB_EKEY);
		evbuffer_free(b);
		note_signer_free(s);
		return 1;
	}
	if (strcmp(f[0], "cosign") != 0 || nf != 5)
		return 0;
	assert_non_null(s = note_signer_parse(skey, strlen(skey), &err));
	assert_int_equal(note_cosigner_parse(f[1], strlen(f[1]), &v), 0);
	text = unhex(f[3], &tlen);
	line = unhex(f[4], &llen);
	b = evbuffer_new();
	assert_int_equal(note_cosign(text, tlen, s, strtoll(f[2], NULL, 10),
	    b), 0);
	assert_int_equal(evbuffer_get_length(b), llen);
	assert_memory_equal(evbuffer_pullup(b, -1), line, llen);
	/* The note with it opens under the cosigner's key alone. */
	evbuffer_drain(b, llen);
	evbuffer_add(b, text, tlen);
	evbuffer_add(b, "\n", 1);
	evbuffer_add(b, line, llen);
	msg = evbuffer_pullup(b, -1);
	assert_int_equal(note_open(msg, evbuffer_get_length(b), &v, 1, &n),
	    0);
	assert_int_equal(n.nverified, 1);
	assert_int_equal(n.textlen, tlen);
	/* Any other text, or another time, does not verify. */
	msg[0] ^= 1;
	assert_int_equal(note_open(msg, evbuffer_get_length(b), &v, 1, &n),
	    SUMDB_ESIG);
	msg[0] ^= 1;
	assert_int_equal(note_sign(text, tlen, &s, 1, b), SUMDB_EKEY);
	evbuffer_free(b);
	free(text);
	free(line);
	note_signer_free(s);
	return 1;
}

static int
kat_notes(char **f, int nf)
{
	struct note_verifier	 v[3];
	struct note		 n;
	char			*keys, *p, *save = NULL;
	uint8_t			*msg, *text;
	size_t			 mlen, tlen, nv = 0;
	int			 r;

	if (strcmp(f[0], "noteopen") != 0 || nf < 4)
		return 0;
	keys = strdup(f[1]);
	for (p = strtok_r(keys, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		assert_int_equal(note_verifier_parse(p, strlen(p), &v[nv++]),
		    0);
	free(keys);
	msg = unhex(f[2], &mlen);
	r = note_open(msg, mlen, v, nv, &n);
	if (strcmp(f[3], "err") == 0) {
		if (r == 0)
			fail_msg("note_open accepted '%s'", (char *)msg);
	} else {
		if (r != 0)
			fail_msg("note_open refused '%s': %s", (char *)msg,
			    sumdb_strerror(r));
		text = unhex(f[4], &tlen);
		assert_int_equal(n.textlen, tlen);
		assert_memory_equal(n.text, text, tlen);
		assert_int_equal(n.nverified, strtoul(f[5], NULL, 10));
		assert_int_equal(n.nunverified, strtoul(f[6], NULL, 10));
		free(text);
	}
	free(msg);
	return 1;
}

static int
kat_formats(char **f, int nf)
{
	struct tlog_tree	 t;
	struct span		 text, note;
	struct dirhash_file	 files[16];
	uint8_t			*m, *d[32], *want;
	size_t			 mlen, wlen, n = 0, i, len;
	int64_t			 id;
	char			 h1[SUMDB_H1_SIZE], *list, *p, *save = NULL;
	int			 r;

	if (strcmp(f[0], "parsetree") == 0 && nf >= 3) {
		m = unhex(f[1], &mlen);
		r = tlog_parse_tree(m, mlen, &t);
		if (strcmp(f[2], "err") == 0)
			assert_int_not_equal(r, 0);
		else {
			assert_int_equal(r, 0);
			assert_int_equal(t.n, strtoll(f[3], NULL, 10));
			want = unhex(f[4], &wlen);
			assert_memory_equal(t.hash, want, SUMDB_HASH_SIZE);
			free(want);
		}
		free(m);
		return 1;
	}
	if (strcmp(f[0], "parserecord") == 0 && nf >= 3) {
		m = unhex(f[1], &mlen);
		r = record_parse_lookup(m, mlen, &id, &text, &note);
		if (strcmp(f[2], "err") == 0)
			assert_int_not_equal(r, 0);
		else {
			assert_int_equal(r, 0);
			assert_int_equal(id, strtoll(f[3], NULL, 10));
			want = unhex(f[4], &wlen);
			assert_int_equal(text.len, wlen);
			assert_memory_equal(text.p, want, wlen);
			free(want);
			want = unhex(f[5], &wlen);
			assert_int_equal(note.len, wlen);
			assert_memory_equal(note.p, want, wlen);
			free(want);
		}
		free(m);
		return 1;
	}
	if (strcmp(f[0], "hash1") == 0 && nf == 3) {
		list = strdup(f[1]);
		for (p = strtok_r(list, ",", &save); p != NULL;
		    p = strtok_r(NULL, ",", &save)) {
			*strchr(p, ':') = '\0';
			d[2 * n] = unhex(p, &len);
			d[2 * n + 1] = unhex(p + strlen(p) + 1, &len);
			files[n].name = (char *)d[2 * n];
			files[n].data = d[2 * n + 1];
			files[n].len = len;
			n++;
		}
		free(list);
		assert_int_equal(dirhash_hash1(files, n, h1), 0);
		assert_string_equal(h1, f[2]);
		for (i = 0; i < 2 * n; i++)
			free(d[i]);
		return 1;
	}
	return 0;
}

static void
test_kat(void **state)
{
	struct memlog	 l;
	char		 path[512], line[200000], *f[8];
	FILE		*fp;
	int		 nf, lines = 0;

	(void)state;
	memlog_build(&l, 70);
	snprintf(path, sizeof(path), "%s/kat.txt", testdata);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || (nf = fields(line, f, 8)) == 0)
			continue;
		if (!(check_tree_line(&l, f, nf) || kat_hashes(f, nf) ||
		    kat_tiles(f, nf) || kat_modpath(f, nf) ||
		    kat_keys(f, nf) || kat_notes(f, nf) ||
		    kat_cosig(f, nf) || kat_formats(f, nf)))
			fail_msg("kat.txt: unknown line '%s'", f[0]);
		lines++;
	}
	fclose(fp);
	free(l.h);
	assert_true(lines > 5000);
	print_message("kat: %d vectors\n", lines);
}

/* Random trees up to 100,000 records, checked against x/mod. */
static void
test_random_trees(void **state)
{
	struct memlog	 l;
	const char	*path = getenv("SUMDB_RANDOM");
	char		 line[16384], *f[8];
	FILE		*fp;
	int		 nf, n = 0;

	(void)state;
	if (path == NULL)
		fail_msg("SUMDB_RANDOM is not set: run through tests/run.sh");
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_int_equal(fields(line, f, 8), 2);
	assert_string_equal(f[0], "log");
	memlog_build(&l, strtoll(f[1], NULL, 10));
	while (fgets(line, sizeof(line), fp) != NULL) {
		nf = fields(line, f, 8);
		if (!check_tree_line(&l, f, nf))
			fail_msg("random: bad line '%s'", f[0]);
		n++;
	}
	fclose(fp);
	free(l.h);
	assert_true(n >= 30);
	print_message("random: %d vectors\n", n);
}

/* Real sum.golang.org data: lookups, checkpoints, tiles. */

struct filetiles {
	const char	*dir;
	uint8_t		*data[64];	/* tiles read by the last call */
	size_t		 ndata;
	struct tile	 read[64];	/* every tile ever asked for */
	size_t		 nread;
	struct tile	 corrupt;	/* flip a byte of this tile */
	int		 corrupting;
	int		 saved;
};

static void
filetiles_release(struct filetiles *ft)
{
	size_t	 i;

	for (i = 0; i < ft->ndata; i++)
		free(ft->data[i]);
	ft->ndata = 0;
}

static int
same_tile(const struct tile *a, const struct tile *b)
{
	return a->h == b->h && a->l == b->l && a->n == b->n && a->w == b->w;
}

static int
filetiles_read(void *arg, const struct tile *t, size_t n,
    const uint8_t **data, size_t *len)
{
	struct filetiles	*ft = arg;
	char			 tp[SUMDB_TILE_PATH_MAX], path[1024];
	size_t			 i, k;
	uint8_t			*p;

	filetiles_release(ft);
	for (i = 0; i < n; i++) {
		assert_true(tile_format(&t[i], tp, sizeof(tp)) > 0);
		snprintf(path, sizeof(path), "%s/%s", ft->dir, tp);
		if ((p = read_file(path, &len[i])) == NULL)
			return -1;
		assert_true(ft->ndata < 64);
		ft->data[ft->ndata++] = p;
		data[i] = p;
		if (ft->corrupting && same_tile(&t[i], &ft->corrupt))
			p[len[i] / 2] ^= 0x04;
		for (k = 0; k < ft->nread; k++)
			if (same_tile(&ft->read[k], &t[i]))
				break;
		if (k == ft->nread && ft->nread < 64)
			ft->read[ft->nread++] = t[i];
	}
	return 0;
}

static void
filetiles_save(void *arg, const struct tile *t, size_t n,
    const uint8_t **data, const size_t *len)
{
	struct filetiles	*ft = arg;

	(void)t;
	(void)n;
	(void)data;
	(void)len;
	ft->saved++;
}

/* Open the note msg with the sum.golang.org key; parse its tree. */
static int
open_tree(const uint8_t *msg, size_t len, struct tlog_tree *t)
{
	struct note_verifier	 v;
	struct note		 n;
	int			 r;

	assert_int_equal(note_verifier_parse(SUMDB_KEY, strlen(SUMDB_KEY),
	    &v), 0);
	if ((r = note_open(msg, len, &v, 1, &n)) != 0)
		return r;
	return tlog_parse_tree(n.text, n.textlen, t);
}

/*
 * Prove record id with leaf hash leaf in latest, and latest consistent
 * with the lookup's tree, through the tiles.  Returns 0 or an error.
 */
static int
prove_lookup(struct filetiles *ft, const struct tlog_tree *latest,
    const struct tlog_tree *lt, int64_t id, const uint8_t *leaf)
{
	struct tile_reader	 tr = { SUMDB_TILE_HEIGHT, filetiles_read,
				    filetiles_save, ft };
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	uint8_t			 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	uint8_t			 h[1][SUMDB_HASH_SIZE];
	int64_t			 idx;
	size_t			 np;
	int			 r;

	tile_hash_reader_init(&thr, latest, &tr, &hr);
	/* As the go command does: the leaf hash read from tiles. */
	idx = tlog_stored_hash_index(0, id);
	if ((r = tile_read_hashes(latest, &tr, &idx, 1, h)) != 0)
		return r;
	if (memcmp(h[0], leaf, SUMDB_HASH_SIZE) != 0)
		return SUMDB_EPROOF;
	if ((r = tlog_prove_record(latest->n, id, &hr, proof, &np)) != 0)
		return r;
	if ((r = tlog_check_record((const uint8_t (*)[32])proof, np,
	    latest->n, latest->hash, id, leaf)) != 0)
		return r;
	if ((r = tlog_prove_tree(latest->n, lt->n, &hr, proof, &np)) != 0)
		return r;
	return tlog_check_tree((const uint8_t (*)[32])proof, np, latest->n,
	    latest->hash, lt->n, lt->hash);
}

static void
check_lookup(const char *dir, const char *file, const struct tlog_tree *latest,
    struct filetiles *ft, int *ntiles_corrupted)
{
	struct tlog_tree	 lt, t2;
	struct span		 text, note;
	struct record		 rec;
	uint8_t			*msg, leaf[SUMDB_HASH_SIZE];
	size_t			 len, i, k;
	int64_t			 id;

	(void)dir;
	msg = read_file(file, &len);
	assert_non_null(msg);
	assert_int_equal(record_parse_lookup(msg, len, &id, &text, &note), 0);
	assert_int_equal(record_parse(text.p, text.len, &rec), 0);
	assert_int_equal(open_tree(note.p, note.len, &lt), 0);
	assert_true(id < lt.n && lt.n <= latest->n);
	tlog_record_hash(text.p, text.len, leaf);
	ft->nread = 0;
	if (prove_lookup(ft, latest, &lt, id, leaf) != 0)
		fail_msg("%s: does not verify", file);
	filetiles_release(ft);

	/* A flipped byte anywhere in the record fails. */
	for (i = 0; i < text.len; i++) {
		((uint8_t *)text.p)[i] ^= 0x20;
		tlog_record_hash(text.p, text.len, leaf);
		assert_int_not_equal(prove_lookup(ft, latest, &lt, id, leaf), 0);
		filetiles_release(ft);
		((uint8_t *)text.p)[i] ^= 0x20;
	}
	tlog_record_hash(text.p, text.len, leaf);
	/* In the note: text, signature, or a different key. */
	for (i = 0; i < note.len; i += 7) {
		if (note.p[i] == '\n' || note.p[i] == '=')
			continue;
		((uint8_t *)note.p)[i] ^= 0x01;
		assert_int_not_equal(open_tree(note.p, note.len, &t2), 0);
		((uint8_t *)note.p)[i] ^= 0x01;
	}
	/* In any tile the proofs read. */
	for (k = 0; k < ft->nread; k++) {
		ft->corrupt = ft->read[k];
		ft->corrupting = 1;
		if (prove_lookup(ft, latest, &lt, id, leaf) == 0) {
			char tp[SUMDB_TILE_PATH_MAX];
			tile_format(&ft->corrupt, tp, sizeof(tp));
			fail_msg("%s: corrupt tile %s accepted", file, tp);
		}
		filetiles_release(ft);
		ft->corrupting = 0;
		(*ntiles_corrupted)++;
	}
	/* A wrong id. */
	assert_int_not_equal(prove_lookup(ft, latest, &lt, id ^ 1, leaf), 0);
	filetiles_release(ft);
	free(msg);
}

static void
test_real_data(void **state)
{
	const char	*caches[] = { "cache-2022-tree9039468",
			    "cache-2025-tree42965376" };
	struct filetiles ft;
	struct tlog_tree latest;
	char		 dir[512], path[1024], cmd[1200], line[1024];
	uint8_t		*msg;
	size_t		 len, c;
	FILE		*p;
	int		 nlookups = 0, ncorrupt = 0;

	(void)state;
	for (c = 0; c < 2; c++) {
		snprintf(dir, sizeof(dir), "%s/real/%s", testdata, caches[c]);
		snprintf(path, sizeof(path), "%s/latest", dir);
		msg = read_file(path, &len);
		assert_non_null(msg);
		assert_int_equal(open_tree(msg, len, &latest), 0);
		free(msg);
		memset(&ft, 0, sizeof(ft));
		ft.dir = dir;
		snprintf(cmd, sizeof(cmd), "find %s/lookup -type f | sort",
		    dir);
		p = popen(cmd, "r");
		assert_non_null(p);
		while (fgets(line, sizeof(line), p) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			check_lookup(dir, line, &latest, &ft, &ncorrupt);
			nlookups++;
		}
		pclose(p);
		assert_true(ft.saved > 0);
	}
	snprintf(path, sizeof(path), "%s/real/notes/sth-35225469.note",
	    testdata);
	msg = read_file(path, &len);
	assert_non_null(msg);
	assert_int_equal(open_tree(msg, len, &latest), 0);
	assert_int_equal(latest.n, 35225469);
	free(msg);
	assert_int_equal(nlookups, 30);
	print_message("real: %d lookups verified, %d corrupted tiles "
	    "refused\n", nlookups, ncorrupt);
}

/* The spec's tile table for N = 65,209,736 (checked with x/mod). */
struct tilelist {
	char	 paths[64][SUMDB_TILE_PATH_MAX];
	int	 n;
	int	 full;
};

static int
collect_tile(void *arg, const struct tile *t)
{
	struct tilelist	*tl = arg;

	if (t->w == 1 << t->h) {
		tl->full++;
		return 0;
	}
	assert_true(tl->n < 64);
	tile_format(t, tl->paths[tl->n++], SUMDB_TILE_PATH_MAX);
	return 0;
}

static void
test_new_tiles(void **state)
{
	struct tilelist	 tl;

	(void)state;
	memset(&tl, 0, sizeof(tl));
	assert_int_equal(tile_new_tiles(8, 0, 65209736, collect_tile, &tl), 0);
	assert_int_equal(tl.n, 4);
	assert_string_equal(tl.paths[0], "tile/8/0/x254/725.p/136");
	assert_string_equal(tl.paths[1], "tile/8/1/995.p/5");
	assert_string_equal(tl.paths[2], "tile/8/2/003.p/227");
	assert_string_equal(tl.paths[3], "tile/8/3/000.p/3");
	assert_int_equal(tl.full, 254725 + 995 + 3);
	/* Growth by one record inside a tile: one partial per level. */
	memset(&tl, 0, sizeof(tl));
	assert_int_equal(tile_new_tiles(8, 65209736, 65209737, collect_tile,
	    &tl), 0);
	assert_int_equal(tl.full, 0);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.paths[0], "tile/8/0/x254/725.p/137");
	/* Completing a tile: the full tile and nothing partial at level 0. */
	memset(&tl, 0, sizeof(tl));
	assert_int_equal(tile_new_tiles(8, 255, 256, collect_tile, &tl), 0);
	assert_int_equal(tl.full, 1);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.paths[0], "tile/8/1/000.p/1");
	memset(&tl, 0, sizeof(tl));
	assert_int_equal(tile_new_tiles(8, 5, 5, collect_tile, &tl), 0);
	assert_int_equal(tl.n + tl.full, 0);
}

/* Tile data read back from a log, and the tile hash reader on it. */
struct logtiles {
	struct memlog	*l;
	uint8_t		*bufs[64];
	size_t		 nbufs;
};

static int
logtiles_read(void *arg, const struct tile *t, size_t n,
    const uint8_t **data, size_t *len)
{
	struct logtiles		*lt = arg;
	struct tlog_hash_reader	 hr = { memlog_read, lt->l };
	struct evbuffer		*b;
	size_t			 i;

	for (i = 0; i < lt->nbufs; i++)
		free(lt->bufs[i]);
	lt->nbufs = 0;
	for (i = 0; i < n; i++) {
		assert_true(lt->nbufs < 64);
		b = evbuffer_new();
		if (tile_read_data(&t[i], &hr, b) != 0) {
			evbuffer_free(b);
			return -1;
		}
		len[i] = evbuffer_get_length(b);
		lt->bufs[lt->nbufs] = malloc(len[i]);
		evbuffer_copyout(b, lt->bufs[lt->nbufs], len[i]);
		data[i] = lt->bufs[lt->nbufs++];
		evbuffer_free(b);
	}
	return 0;
}

static void
test_tile_reader(void **state)
{
	struct memlog		 l;
	struct logtiles		 lt = { &l, { NULL }, 0 };
	struct tile_reader	 tr = { 2, logtiles_read, NULL, &lt };
	struct tlog_hash_reader	 mr = { memlog_read, &l }, hr;
	struct tile_hash_reader	 thr;
	struct tlog_tree	 tree;
	struct tile		 t;
	uint8_t			 a[SUMDB_HASH_SIZE], b[SUMDB_HASH_SIZE];
	uint8_t			 h[3][SUMDB_HASH_SIZE];
	int64_t			 idx[3], n, size;
	size_t			 i;

	(void)state;
	/* Height 2 makes many levels from a small log. */
	memlog_build(&l, 1000);
	for (size = 1; size <= 1000; size += 37) {
		tree.n = size;
		assert_int_equal(tlog_tree_hash(size, &mr, tree.hash), 0);
		tile_hash_reader_init(&thr, &tree, &tr, &hr);
		for (n = 0; n < size; n += 13) {
			assert_int_equal(tlog_tree_hash(n + 1, &hr, a), 0);
			assert_int_equal(tlog_tree_hash(n + 1, &mr, b), 0);
			assert_memory_equal(a, b, SUMDB_HASH_SIZE);
		}
		idx[0] = 0;
		idx[1] = tlog_stored_hash_index(0, size - 1);
		idx[2] = tlog_stored_hash_index(0, size / 2);
		assert_int_equal(tile_read_hashes(&tree, &tr, idx, 3, h), 0);
		for (i = 0; i < 3; i++)
			assert_memory_equal(h[i], l.h[idx[i]], SUMDB_HASH_SIZE);
		idx[0] = tlog_stored_hash_index(0, size);
		assert_int_equal(tile_read_hashes(&tree, &tr, idx, 1, h),
		    SUMDB_ERANGE);
		tree.hash[3] ^= 1;
		idx[0] = 0;
		assert_int_equal(tile_read_hashes(&tree, &tr, idx, 1, h),
		    SUMDB_EPROOF);
	}
	for (i = 0; i < lt.nbufs; i++)
		free(lt.bufs[i]);
	tree.n = 0;
	assert_int_equal(tile_read_hashes(&tree, &tr, idx, 1, h), SUMDB_ERANGE);
	/* Data tiles have no hashes to read. */
	t.h = 8;
	t.l = -1;
	t.n = 0;
	t.w = 1;
	assert_int_equal(tile_read_data(&t, &mr, NULL), SUMDB_EFORMAT);
	free(l.h);
}

/* Module zips built by xmodref, hashed by x/mod's dirhash. */
static void
test_zips(void **state)
{
	const char	*dir = getenv("SUMDB_ZIPS");
	char		 path[1024], line[1024], *f[4], h1[SUMDB_H1_SIZE];
	uint8_t		*data;
	size_t		 len;
	FILE		*fp;
	int		 fd, nzip = 0, nmod = 0;

	(void)state;
	if (dir == NULL)
		fail_msg("SUMDB_ZIPS is not set: run through tests/run.sh");
	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_int_equal(fields(line, f, 4), 3);
		snprintf(path, sizeof(path), "%s/%s", dir, f[1]);
		data = read_file(path, &len);
		assert_non_null(data);
		if (strcmp(f[0], "zip") == 0) {
			/* From a file, the same. */
			fd = open(path, O_RDONLY);
			assert_true(fd != -1);
			assert_int_equal(dirhash_zip_fd(fd, NULL, h1), 0);
			if (strcmp(h1, f[2]) != 0)
				fail_msg("%s: from fd h1 %s, x/mod says %s",
				    f[1], h1, f[2]);
			close(fd);
			assert_int_equal(dirhash_zip(data, len, NULL, h1), 0);
			nzip++;
			/* Entries outside the module's prefix are refused. */
			assert_int_equal(dirhash_zip(data, len,
			    "example.com/other@v1.0.0/", h1), len > 22 ?
			    SUMDB_EFORMAT : 0);
			assert_int_equal(dirhash_zip(data, len, NULL, h1), 0);
			/* Truncated or damaged zips are refused. */
			if (len > 22)
				assert_int_equal(dirhash_zip(data, len - 1,
				    NULL, h1), SUMDB_EFORMAT);
		} else {
			assert_int_equal(dirhash_gomod(data, len, h1), 0);
			nmod++;
		}
		if (strcmp(h1, f[2]) != 0)
			fail_msg("%s: h1 %s, x/mod says %s", f[1], h1, f[2]);
		free(data);
	}
	fclose(fp);
	assert_true(nzip >= 8 && nmod >= 3);
	assert_int_equal(dirhash_zip((const uint8_t *)"PK", 2, NULL, h1),
	    SUMDB_EFORMAT);
	assert_int_equal(dirhash_zip((const uint8_t *)"", 0, NULL, h1),
	    SUMDB_EFORMAT);
	print_message("zips: %d zips and %d go.mod files match x/mod\n",
	    nzip, nmod);
}

/*
 * Write a zip of one file, name, of len zero bytes (deflated) to a new
 * unlinked file; its descriptor.
 */
static int
zeros_zip(const char *name, size_t len)
{
	char		 path[] = "/tmp/sumdb_test.XXXXXX";
	zip_source_t	*src;
	zip_t		*za;
	uint8_t		*zero;
	int		 fd, err;

	assert_non_null(zero = calloc(1, len + 1));
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	assert_non_null(za = zip_open(path, ZIP_TRUNCATE, &err));
	assert_non_null(src = zip_source_buffer(za, zero, len, 0));
	assert_true(zip_file_add(za, name, src, 0) >= 0);
	/* libzip writes a new file and renames it: open it after. */
	assert_int_equal(zip_close(za), 0);
	assert_true((fd = open(path, O_RDONLY)) != -1);
	unlink(path);
	free(zero);
	return fd;
}

/* x/mod/zip's limits: the root go.mod and LICENSE, 16 MiB each. */
static void
test_zip_limits(void **state)
{
	const char	*p = "example.com/m@v1.0.0/";
	char		 h1[SUMDB_H1_SIZE], name[64];
	int		 fd;

	(void)state;
	snprintf(name, sizeof(name), "%sLICENSE", p);
	fd = zeros_zip(name, DIRHASH_FILE_MAX);
	assert_int_equal(dirhash_zip_fd(fd, p, h1), 0);
	close(fd);
	fd = zeros_zip(name, DIRHASH_FILE_MAX + 1);
	assert_int_equal(dirhash_zip_fd(fd, p, h1), SUMDB_ELIMIT);
	assert_int_equal(dirhash_zip_fd(fd, NULL, h1), 0);
	close(fd);
	snprintf(name, sizeof(name), "%sgo.mod", p);
	fd = zeros_zip(name, DIRHASH_FILE_MAX + 1);
	assert_int_equal(dirhash_zip_fd(fd, p, h1), SUMDB_ELIMIT);
	close(fd);
	/* Only at the module's root. */
	snprintf(name, sizeof(name), "%ssub/go.mod", p);
	fd = zeros_zip(name, DIRHASH_FILE_MAX + 1);
	assert_int_equal(dirhash_zip_fd(fd, p, h1), 0);
	close(fd);
	/* Not a zip, not a regular file. */
	assert_true((fd = open("/dev/null", O_RDONLY)) != -1);
	assert_int_equal(dirhash_zip_fd(fd, p, h1), SUMDB_EREAD);
	close(fd);
	assert_int_equal(dirhash_zip_fd(-1, p, h1), SUMDB_EREAD);
}

/* The h1 vectors of the protocol reference. */
static void
test_h1_vectors(void **state)
{
	const char		*mod = "module example.com/m\n\ngo 1.22\n";
	struct dirhash_file	 f[2];
	char			 h1[SUMDB_H1_SIZE];

	(void)state;
	assert_int_equal(dirhash_gomod((const uint8_t *)mod, strlen(mod), h1),
	    0);
	assert_string_equal(h1, "h1:EculYu4HXNFHQ6xGnQKwKFirMeGiETFkl+nChQNYHQA=");
	f[0].name = "a\nb";
	f[0].data = (const uint8_t *)"";
	f[0].len = 0;
	assert_int_equal(dirhash_hash1(f, 1, h1), SUMDB_EFORMAT);
	f[0].name = "x";
	f[1] = f[0];
	assert_int_equal(dirhash_hash1(f, 2, h1), SUMDB_EFORMAT);
}

/* Bad inputs for every parser. */

static void
test_bad_notes(void **state)
{
	struct note_verifier	 v;
	struct note_signer	*s, *sv[1];
	struct note		 n;
	struct evbuffer		*b;
	const char		*sk = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
				    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
	uint8_t			*big, *msg;
	size_t			 len;
	int			 err;

	(void)state;
	s = note_signer_parse(sk, strlen(sk), &err);
	assert_non_null(s);
	note_signer_verifier(s, &v);
	sv[0] = s;
	b = evbuffer_new();
	/* Text must end in a newline, and not be empty. */
	assert_int_equal(note_sign((const uint8_t *)"x", 1, sv, 1, b),
	    SUMDB_EFORMAT);
	assert_int_equal(note_sign((const uint8_t *)"", 0, sv, 1, b),
	    SUMDB_EFORMAT);
	assert_int_equal(evbuffer_get_length(b), 0);
	/* Exactly SUMDB_NOTE_MAX bytes opens; one more does not. */
	big = malloc(SUMDB_NOTE_MAX + 1);
	memset(big, 'a', SUMDB_NOTE_MAX);
	len = SUMDB_NOTE_MAX - 111;	/* room for the separator and sig */
	big[len - 1] = '\n';
	assert_int_equal(note_sign(big, len, sv, 1, b), 0);
	msg = evbuffer_pullup(b, -1);
	assert_int_equal(evbuffer_get_length(b), SUMDB_NOTE_MAX);
	assert_int_equal(note_open(msg, SUMDB_NOTE_MAX, &v, 1, &n), 0);
	assert_int_equal(n.textlen, len);
	evbuffer_drain(b, evbuffer_get_length(b));
	len++;
	big[len - 2] = 'a';
	big[len - 1] = '\n';
	assert_int_equal(note_sign(big, len, sv, 1, b), 0);
	assert_int_equal(evbuffer_get_length(b), SUMDB_NOTE_MAX + 1);
	assert_int_equal(note_open(evbuffer_pullup(b, -1), SUMDB_NOTE_MAX + 1,
	    &v, 1, &n), SUMDB_ELIMIT);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* Truncations of a good note all fail. */
	assert_int_equal(note_sign((const uint8_t *)"hello\n", 6, sv, 1, b),
	    0);
	len = evbuffer_get_length(b);
	msg = evbuffer_pullup(b, -1);
	assert_int_equal(note_open(msg, len, &v, 1, &n), 0);
	for (; len > 0; len--)
		assert_int_not_equal(note_open(msg, len - 1, &v, 1, &n), 0);
	/* No verifiers: nothing verifies. */
	assert_int_equal(note_open(msg, evbuffer_get_length(b), NULL, 0, &n),
	    SUMDB_ESIG);
	evbuffer_free(b);
	free(big);
	note_signer_free(s);
	/* Bad names for keys. */
	assert_null(note_signer_generate("a b", NOTE_ED25519, &err));
	assert_int_equal(err, SUMDB_EKEY);
	assert_null(note_signer_generate("", NOTE_ED25519, &err));
	assert_null(note_signer_parse("", 0, &err));
}

/*
 * c2sp.org/tlog-cosignature's example line, and add-checkpoint bodies
 * (c2sp.org/tlog-witness's example among them) and checkpoints.
 */
static void
test_witness_formats(void **state)
{
	static const char	 example[] = "jWbPPwAAAABkGFDLEZMHwSRaJNiIDo"
	    "e9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUB"
	    "kBIfZ+qnA==";
	static const char	 body[] =
	    "old 20852014\n"
	    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
	    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
	    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
	    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
	    "\n"
	    "example.com/behind-the-sofa\n"
	    "20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	    "\n"
	    "\xe2\x80\x94 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1"
	    "Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOA"
	    "YQ8=\n";
	static const char	*bad[] = {
		"old 1\n\n", "old 01\n\nx\n", "old -1\n\nx\n",
		"old 1\nAAAA\n\nx\n", "old 1\nx\n", "old1\n\nx\n",
		"0\n\nx\n", "old 1", "",
	};
	struct witness_req	 r;
	struct tlog_tree	 t;
	struct evbuffer		*b;
	uint8_t			 raw[80], *big;
	size_t			 i, olen;
	const uint8_t		*text;

	(void)state;
	/* key ID 8d66cf3f, time 1679315147, a 64-byte signature */
	assert_int_equal(sumdb_b64_decode(example, strlen(example), raw,
	    sizeof(raw)), 4 + 8 + 64);
	assert_memory_equal(raw, "\x8d\x66\xcf\x3f", 4);
	assert_memory_equal(raw + 4, "\0\0\0\0\x64\x18\x50\xcb", 8);
	assert_int_equal(0x641850cb, 1679315147);

	assert_int_equal(witness_parse_req((const uint8_t *)body,
	    strlen(body), &r), 0);
	assert_int_equal(r.old, 20852014);
	assert_int_equal(r.nproof, 4);
	assert_int_equal(r.proof[0][0], 0x3e);		/* "PlRN" */
	assert_int_equal(r.proof[3][31], 0xfd);		/* ".../0=" */
	text = r.note;
	assert_memory_equal(text, "example.com/behind", 18);
	/* It writes back the same bytes. */
	b = evbuffer_new();
	assert_int_equal(witness_format_req(r.old, r.proof, r.nproof, r.note,
	    r.notelen, b), 0);
	assert_int_equal(evbuffer_get_length(b), strlen(body));
	assert_memory_equal(evbuffer_pullup(b, -1), body, strlen(body));
	evbuffer_free(b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (witness_parse_req((const uint8_t *)bad[i], strlen(bad[i]),
		    &r) == 0)
			fail_msg("add-checkpoint body '%s' parsed", bad[i]);
	/* 63 proof lines parse, 64 do not; bodies over the limit fail. */
	big = calloc(1, WITNESS_REQ_MAX + 1);
	b = evbuffer_new();
	evbuffer_add_printf(b, "old 5\n");
	for (i = 0; i < 64; i++)
		evbuffer_add_printf(b, "%s\n",
		    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=");
	evbuffer_add_printf(b, "\nx\n");
	assert_int_equal(witness_parse_req(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), &r), SUMDB_EFORMAT);
	evbuffer_drain(b, 6 + 45);
	evbuffer_prepend(b, "old 5\n", 6);
	assert_int_equal(witness_parse_req(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), &r), 0);
	assert_int_equal(r.nproof, 63);
	evbuffer_free(b);
	memcpy(big, body, strlen(body));
	assert_int_equal(witness_parse_req(big, WITNESS_REQ_MAX + 1, &r),
	    SUMDB_ELIMIT);
	free(big);
	assert_int_equal(witness_parse_size((const uint8_t *)"42\n", 3,
	    (int64_t *)&i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(witness_parse_size((const uint8_t *)"042\n", 4,
	    (int64_t *)&i), SUMDB_EFORMAT);
	assert_int_equal(witness_parse_size((const uint8_t *)"42", 2,
	    (int64_t *)&i), SUMDB_EFORMAT);

	/* Checkpoints of any origin, with extension lines. */
	assert_int_equal(tlog_parse_checkpoint(text, 82, &olen, &t), 0);
	assert_int_equal(olen, 27);
	assert_int_equal(t.n, 20852163);
#define CK(s)	tlog_parse_checkpoint((const uint8_t *)(s), strlen(s), \
	    &olen, &t)
	assert_int_equal(CK("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	    "\next\n"), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(CK("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	    "\next\n\nmore\n"), SUMDB_EFORMAT);
	assert_int_equal(CK("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	    "\n"), SUMDB_EFORMAT);
	assert_int_equal(CK("o\n00\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF"
	    "U=\n"), SUMDB_EFORMAT);
	assert_int_equal(CK("o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF"
	    "U="), SUMDB_EFORMAT);
	assert_int_equal(CK("o\n1\nAAAA\n"), SUMDB_EFORMAT);
#undef CK
}

static void
test_generate(void **state)
{
	struct note_signer	*s, *s2, *sv[2];
	struct note_verifier	 v[2];
	struct note		 n;
	struct evbuffer		*b;
	char			 skey[256];
	int			 err, len;

	(void)state;
	s = note_signer_generate("sumdb.corp.example", NOTE_ED25519,
	    &err);
	s2 = note_signer_generate("witness.example", NOTE_ED25519,
	    &err);
	assert_non_null(s);
	assert_non_null(s2);
	len = note_signer_format(s, skey, sizeof(skey));
	assert_true(len > 0);
	assert_memory_equal(skey, "PRIVATE+KEY+sumdb.corp.example+", 31);
	note_signer_free(s);
	s = note_signer_parse(skey, len, &err);
	assert_non_null(s);
	note_signer_verifier(s, &v[0]);
	note_signer_verifier(s2, &v[1]);
	sv[0] = s;
	sv[1] = s2;
	b = evbuffer_new();
	/* Cosigned: both keys count; with one key known, one unverified. */
	assert_int_equal(note_sign((const uint8_t *)"text\n", 5, sv, 2, b), 0);
	assert_int_equal(note_open(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), v, 2, &n), 0);
	assert_int_equal(n.nverified, 2);
	assert_int_equal(n.verified, 3);
	assert_int_equal(note_open(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), &v[1], 1, &n), 0);
	assert_int_equal(n.nverified, 1);
	assert_int_equal(n.nunverified, 1);
	/* A wrong key with the right name and hash fails the signature. */
	v[0].pub[0] ^= 1;
	assert_int_equal(note_open(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), v, 1, &n), SUMDB_ESIG);
	evbuffer_free(b);
	note_signer_free(s);
	note_signer_free(s2);
	note_signer_free(NULL);
}

static void
test_bad_records(void **state)
{
	struct record	 r;
	struct span	 sp[3];
	struct evbuffer	*b;
	const char	*good = "golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
			    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n";
	const char	*bad[] = {
		"",
		"\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/text v0.3.1/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/texts v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRW=\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text v0.3.0 h2:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n"
		    "golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text  v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/text  v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
		"golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n"
		    "golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
	};
	size_t		 i, len = strlen(good);
	char		*copy, *long_;
	char		 kpath[SUMDB_PATH_MAX], kversion[SUMDB_PATH_MAX];
	char		 want[32];

	(void)state;
	assert_int_equal(record_parse((const uint8_t *)good, len, &r), 0);
	assert_int_equal(r.pathlen, strlen("golang.org/x/text"));
	assert_memory_equal(r.version, "v0.3.0", r.versionlen);
	assert_memory_equal(r.modhash, "h1:NqM8", 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (record_parse((const uint8_t *)bad[i], strlen(bad[i]),
		    &r) == 0)
			fail_msg("record_parse accepted bad[%zu]", i);
	/* The key a record is stored under: its own, else "#" "#ID". */
	record_key((const uint8_t *)good, len, 7, kpath, kversion);
	assert_string_equal(kpath, "golang.org/x/text");
	assert_string_equal(kversion, "v0.3.0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		record_key((const uint8_t *)bad[i], strlen(bad[i]),
		    INT64_C(66700000) + (int64_t)i, kpath, kversion);
		assert_string_equal(kpath, "#");
		snprintf(want, sizeof(want), "#%lld", 66700000LL + (long long)i);
		assert_string_equal(kversion, want);
	}
	record_unnamed(0, kpath, kversion);
	assert_string_equal(kpath, "#");
	assert_string_equal(kversion, "#0");
	/* A path one byte over what the index holds is kept unnamed. */
	assert_non_null(long_ = malloc(2 * SUMDB_PATH_MAX + 256));
	memset(kpath, 'a', SUMDB_PATH_MAX);
	snprintf(long_, 2 * SUMDB_PATH_MAX + 256, "x.org/%.*s v1.0.0 "
	    "h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\nx.org/%.*s "
	    "v1.0.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=\n",
	    SUMDB_PATH_MAX - 6, kpath, SUMDB_PATH_MAX - 6, kpath);
	assert_int_equal(record_parse((const uint8_t *)long_, strlen(long_),
	    &r), 0);
	assert_int_equal(r.pathlen, SUMDB_PATH_MAX);
	record_key((const uint8_t *)long_, strlen(long_), 5, kpath, kversion);
	assert_string_equal(kpath, "#");
	assert_string_equal(kversion, "#5");
	free(long_);
	/* NUL and control bytes. */
	copy = strdup(good);
	copy[5] = '\0';
	assert_int_equal(record_parse((uint8_t *)copy, len, &r),
	    SUMDB_EFORMAT);
	copy[5] = '\r';
	assert_int_equal(record_parse((uint8_t *)copy, len, &r),
	    SUMDB_EFORMAT);
	free(copy);
	/* A record of exactly one module version, no prefix or longer name. */
	assert_int_equal(record_parse_of((uint8_t *)good, len,
	    "golang.org/x/text", "v0.3.0", &r), 0);
	assert_int_equal(record_parse_of((uint8_t *)good, len,
	    "golang.org/x/tex", "v0.3.0", &r), SUMDB_EFORMAT);
	assert_int_equal(record_parse_of((uint8_t *)good, len,
	    "golang.org/x/text", "v0.3.00", &r), SUMDB_EFORMAT);
	assert_int_equal(record_parse_of((uint8_t *)good, len - 1,
	    "golang.org/x/text", "v0.3.0", &r), SUMDB_EFORMAT);
	/* Round trip through record_format. */
	b = evbuffer_new();
	assert_int_equal(record_format("golang.org/x/text", "v0.3.0",
	    "h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=",
	    "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=", b), 0);
	assert_int_equal(evbuffer_get_length(b), len);
	assert_memory_equal(evbuffer_pullup(b, -1), good, len);
	assert_int_equal(record_format("golang.org/x/text", "v0.3",
	    "h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=",
	    "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=", b),
	    SUMDB_EFORMAT);
	evbuffer_drain(b, len);
	/* Data tiles: records each followed by a newline, no ids. */
	assert_int_equal(record_append_data_tile((const uint8_t *)good, len,
	    b), 0);
	assert_int_equal(record_append_data_tile((const uint8_t *)"a\n", 2,
	    b), 0);
	assert_int_equal(record_append_data_tile((const uint8_t *)"a", 1, b),
	    SUMDB_EFORMAT);
	assert_int_equal(evbuffer_get_length(b), len + 1 + 3);
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    len + 4, 2, sp), 0);
	assert_int_equal(sp[0].len, len);
	assert_int_equal(sp[1].len, 2);
	/* Too few, too many, one byte short, one byte over. */
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    len + 4, 3, sp), SUMDB_EFORMAT);
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    len + 4, 1, sp), SUMDB_EFORMAT);
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    len + 3, 2, sp), SUMDB_EFORMAT);
	evbuffer_add(b, "\n", 1);
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    len + 5, 2, sp), SUMDB_EFORMAT);
	assert_int_equal(record_split_data_tile(NULL, 0, 0, sp), 0);
	/* x/mod 0.7.0's wrong format, with ids, is not a data tile. */
	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add_printf(b, "0\n%s\n", good);
	assert_int_equal(record_split_data_tile(evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), 1, sp), 0);
	assert_int_equal(record_parse(sp[0].p, sp[0].len, &r), SUMDB_EFORMAT);
	evbuffer_free(b);
}

static void
test_bad_lookups(void **state)
{
	char		 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	char		 longp[3000];
	struct span	 t, n;
	int64_t		 id;
	const char	*bad[] = { "", "@", "example.com/m", "example.com/m@",
			    "@v1.0.0", "example.com/m@v1.0.0@v1.0.0",
			    "example.com/M@v1.0.0", "example.com/!m!@v1.0.0",
			    "example.com/!M@v1.0.0", "example.com/m@v1.0",
			    "example.com/m@v1.0.0-!r!c1x!", "../etc/passwd@v1.0.0",
			    "example.com/../x@v1.0.0", "example.com/m@v2.0.0",
			    "example.com/m@v1.0.0\n", "example.com/m@v1.0.0+meta",
			    "example.com/m/v2@v1.0.0", "example.com/m@V1.0.0" };
	size_t		 i;

	(void)state;
	assert_int_equal(modpath_parse_lookup("github.com/!burnt!sushi/toml@v0.3.1",
	    35, path, version), 0);
	assert_string_equal(path, "github.com/BurntSushi/toml");
	assert_string_equal(version, "v0.3.1");
	assert_int_equal(modpath_parse_lookup("example.com/m@v1.0.0-!r!c1", 26,
	    path, version), 0);
	assert_string_equal(version, "v1.0.0-RC1");
	assert_int_equal(modpath_parse_lookup(
	    "github.com/!data!dog/datadog-go@v3.2.0+incompatible", 51, path,
	    version), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (modpath_parse_lookup(bad[i], strlen(bad[i]), path,
		    version) == 0)
			fail_msg("lookup '%s' accepted", bad[i]);
	/* Over-long paths are refused, not truncated. */
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "example.com/", 12);
	memcpy(longp + 2000, "@v1.0.0", 8);
	assert_int_equal(modpath_parse_lookup(longp, strlen(longp), path,
	    version), SUMDB_EFORMAT);
	assert_int_equal(modpath_escape_path("example.com/M", 13, path, 4),
	    SUMDB_ELIMIT);
	assert_int_equal(modpath_escape_path("example.com/M", 13, path, 15),
	    14);
	assert_int_equal(modpath_escape_path("example.com/M", 13, path, 14),
	    SUMDB_ELIMIT);
	/* Lookup responses, beyond the KAT cases: strict ids. */
	assert_int_equal(record_parse_lookup((const uint8_t *)"01\na\n\nn", 7,
	    &id, &t, &n), SUMDB_EFORMAT);
	assert_int_equal(record_parse_lookup((const uint8_t *)"-1\na\n\nn", 7,
	    &id, &t, &n), SUMDB_EFORMAT);
	assert_int_equal(record_parse_lookup((const uint8_t *)"+1\na\n\nn", 7,
	    &id, &t, &n), SUMDB_EFORMAT);
	assert_int_equal(record_parse_lookup(NULL, 0, &id, &t, &n),
	    SUMDB_EFORMAT);
	assert_int_equal(record_parse_lookup((const uint8_t *)"1\na\n\n", 5,
	    &id, &t, &n), 0);
	assert_int_equal(n.len, 0);
}

static void
test_base64(void **state)
{
	uint8_t	 out[8];
	char	 enc[16];

	(void)state;
	assert_int_equal(sumdb_b64_decode("", 0, out, 8), 0);
	assert_int_equal(sumdb_b64_decode("YQ==", 4, out, 8), 1);
	assert_int_equal(out[0], 'a');
	assert_int_equal(sumdb_b64_decode("YWI=", 4, out, 8), 2);
	assert_int_equal(sumdb_b64_decode("YWJj", 4, out, 8), 3);
	assert_int_equal(sumdb_b64_decode("YWJj", 4, out, 2), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YWJj", 4, NULL, 3), 3);
	assert_int_equal(sumdb_b64_decode("YQ=", 3, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YQ", 2, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("Y===", 4, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("====", 4, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YQ==YQ==", 8, out, 8),
	    SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YW-j", 4, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YW\nj", 4, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_decode("YW\0j", 4, out, 8), SUMDB_EFORMAT);
	assert_int_equal(sumdb_b64_encode((const uint8_t *)"ab", 2, enc), 4);
	assert_string_equal(enc, "YWI=");
	assert_int_equal(sumdb_b64_encode((const uint8_t *)"", 0, enc), 0);
	assert_string_equal(enc, "");
}

static void
test_numbers_utf8(void **state)
{
	int64_t	 v;

	(void)state;
	assert_int_equal(sumdb_parse_int64("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sumdb_parse_int64("9223372036854775807", 19, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(sumdb_parse_int64("9223372036854775808", 19, &v),
	    SUMDB_EFORMAT);
	assert_int_equal(sumdb_parse_int64("00", 2, &v), SUMDB_EFORMAT);
	assert_int_equal(sumdb_parse_int64("", 0, &v), SUMDB_EFORMAT);
	assert_int_equal(sumdb_parse_int64("1 ", 2, &v), SUMDB_EFORMAT);
	assert_true(sumdb_utf8_valid((const uint8_t *)"\xc3\xbc", 2));
	assert_false(sumdb_utf8_valid((const uint8_t *)"\xc3", 1));
	assert_false(sumdb_utf8_valid((const uint8_t *)"\xc0\x80", 2));
	assert_false(sumdb_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
	assert_false(sumdb_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_true(sumdb_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
}

static void
test_bad_trees(void **state)
{
	struct tlog_tree	 t;
	struct tile		 tl;
	uint8_t			 h[SUMDB_HASH_SIZE], proof[1][SUMDB_HASH_SIZE];
	char			 p[200];

	(void)state;
	/* The empty tree is SHA-256("") (x/mod >= v0.19.0). */
	tlog_empty_hash(h);
	assert_memory_equal(h, "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14", 8);
	assert_int_equal(tlog_tree_hash(0, NULL, t.hash), 0);
	assert_memory_equal(t.hash, h, SUMDB_HASH_SIZE);
	assert_int_equal(tlog_tree_hash(-1, NULL, t.hash), SUMDB_ERANGE);
	/* Proof arguments out of range. */
	assert_int_equal(tlog_check_record(proof, 0, 0, h, 0, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_record(proof, 0, 1, h, 1, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_record(proof, 0, 1, h, -1, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_record(proof, 0, 1, h, 0, h), 0);
	assert_int_equal(tlog_check_record(proof, SUMDB_PROOF_MAX + 1, 1, h, 0,
	    h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_tree(proof, 0, 1, h, 0, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_tree(proof, 0, 1, h, 2, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_tree(proof, 0, 5, h, 5, h), 0);
	assert_int_equal(tlog_check_tree(proof, 1, 5, h, 5, h), SUMDB_EPROOF);
	assert_int_equal(tlog_check_tree(proof, 0, 5, h, 4, h), SUMDB_EPROOF);
	/* Tile paths: too long, NUL, and a number that overflows. */
	memset(p, '1', sizeof(p));
	assert_int_equal(tile_parse(p, sizeof(p), &tl), SUMDB_EFORMAT);
	assert_int_equal(tile_parse("tile/8/0/000\0", 13, &tl), SUMDB_EFORMAT);
	assert_int_equal(tile_parse("", 0, &tl), SUMDB_EFORMAT);
	snprintf(p, sizeof(p), "tile/8/0/x999/x999/x999/x999/x999/x999/999");
	assert_int_equal(tile_parse(p, strlen(p), &tl), SUMDB_EFORMAT);
	snprintf(p, sizeof(p), "tile/8/0/x009/x223/x372/x036/x854/x775/807");
	assert_int_equal(tile_parse(p, strlen(p), &tl), 0);
	assert_int_equal(tl.n, INT64_MAX);
	snprintf(p, sizeof(p), "tile/8/0/x009/x223/x372/x036/x854/x775/808");
	assert_int_equal(tile_parse(p, strlen(p), &tl), SUMDB_EFORMAT);
	tl.h = 8;
	tl.l = 0;
	tl.n = 0;
	tl.w = 257;
	assert_int_equal(tile_format(&tl, p, sizeof(p)), SUMDB_EFORMAT);
	tl.w = 256;
	assert_int_equal(tile_hash_from_tile(&tl, (const uint8_t *)p, 100, 0,
	    h), SUMDB_EFORMAT);
}

/* bundle.c: the bundle format, without signatures. */

#define B_TILE	"tile/8/0/000.p/2 64\n" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define B_PROOF	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

/* The pieces of a test bundle, each to replace for a malformation. */
struct bparts {
	const char	*head;		/* magic and db */
	const char	*sizes;		/* from, to */
	const char	*notes;		/* both notes */
	const char	*proof;
	const char	*records;
	const char	*tiles;
};

static const struct bparts good = {
	"sumdbd bundle 1\ndb test.example\n",
	"from 0\nto 2\n",
	"note 0\nnote 10\ntree note\n",
	"proof 1\n" B_PROOF,
	"records 0 2\n8\nrec one\n8\nrec two\n",
	"tiles 1\n" B_TILE,
};

/* The bundle of parts, with its trailer, in buf; its length. */
static size_t
bundle_of(const struct bparts *bp, uint8_t *buf, size_t size)
{
	uint8_t	 sum[32];
	char	 hex[65];
	int	 n;

	n = snprintf((char *)buf, size, "%s%s%s%s%s%s", bp->head, bp->sizes,
	    bp->notes, bp->proof, bp->records, bp->tiles);
	assert_true(n > 0 && (size_t)n + 70 < size);
	crypto_hash_sha256(sum, buf, n);
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	return n + snprintf((char *)buf + n, size - n, "end %s\n", hex);
}

/* bundle_head() then bundle_body() of parts: 0 or the reason in err. */
static int
bundle_parse(const struct bparts *bp, char *err, size_t errsize)
{
	struct bundle	 b;
	uint8_t		 buf[1024];
	size_t		 len = bundle_of(bp, buf, sizeof(buf));
	int		 r;

	if ((r = bundle_head(&b, buf, len)) == 0)
		r = bundle_body(&b, b.from, b.to - b.from);
	snprintf(err, errsize, "%s", r == 0 ? "" : b.err);
	bundle_free(&b);
	return r;
}

/* Bundles with one piece replaced, and why each is malformed. */
static const struct {
	size_t		 off;		/* in struct bparts */
	const char	*text;
	const char	*err;		/* NULL: well-formed */
} bad_bundles[] = {
#define HEADER	"malformed bundle header"
	{ offsetof(struct bparts, head),
	  "sumdbd bundle 1\nname test.example\n", HEADER },
	{ offsetof(struct bparts, sizes), "from 3\nto 2\n", HEADER },
	{ offsetof(struct bparts, sizes), "from 0\nto two\n", HEADER },
	/* Note lengths one over, one short, far over. */
	{ offsetof(struct bparts, notes), "note 0\nnote 11\ntree note\n",
	  HEADER },
	{ offsetof(struct bparts, notes), "note 0\nnote 9\ntree note\n",
	  HEADER },
	{ offsetof(struct bparts, notes), "note 0\nnote 100000\ntree note\n",
	  HEADER },
	/* The proof: over the limit, or not base64 hashes. */
	{ offsetof(struct bparts, proof), "proof 65\n", HEADER },
	{ offsetof(struct bparts, proof), "proof 1\nAAAA\n",
	  "malformed proof" },
	{ offsetof(struct bparts, proof), "proof 2\n" B_PROOF,
	  "malformed proof" },
	/* Records: counts, lengths one over or short, invalid text. */
	{ offsetof(struct bparts, records),
	  "records 0 3\n8\nrec one\n8\nrec two\n",
	  "malformed records section" },
	{ offsetof(struct bparts, records),
	  "records 0 2\n8\nrec one\n9\nrec two\n", "malformed record 1" },
	{ offsetof(struct bparts, records),
	  "records 0 2\n7\nrec one\n8\nrec two\n", "malformed record 0" },
	{ offsetof(struct bparts, records),
	  "records 0 2\n8\nrec one\n8\nrec\ttwo\n", "malformed record 1" },
	{ offsetof(struct bparts, records), "records 0 99999999\n",
	  "malformed records section" },
	/* Tiles: counts, lengths, heights, then nothing. */
	{ offsetof(struct bparts, tiles), "tiles 2\n" B_TILE,
	  "malformed tile 1" },
	{ offsetof(struct bparts, tiles), "tiles 3000\n" B_TILE,
	  "malformed tiles section" },
	{ offsetof(struct bparts, tiles), "tiles 1\ntile/8/0/000.p/2 63\n"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	  "malformed tile 0" },
	{ offsetof(struct bparts, tiles), "tiles 1\ntile/4/0/000.p/2 64\n"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  "malformed tile 0" },
	{ offsetof(struct bparts, tiles), "tiles 1\n" B_TILE "x",
	  "trailing bytes in the bundle" },
	{ offsetof(struct bparts, tiles), "tiles 0\n", NULL },
#undef HEADER
};

static void
test_bundle(void **state)
{
	struct bundle	 b;
	struct bparts	 bp;
	uint8_t		 buf[1024];
	char		 err[128];
	size_t		 len, i;
	int64_t		 from, to;

	(void)state;
	len = bundle_of(&good, buf, sizeof(buf));
	assert_int_equal(bundle_head(&b, buf, len), 0);
	assert_true(b.named);
	assert_string_equal(b.name, "test.example");
	assert_int_equal(b.from, 0);
	assert_int_equal(b.to, 2);
	assert_int_equal(b.fromnote.len, 0);
	assert_int_equal(b.tonote.len, 10);
	assert_memory_equal(b.tonote.p, "tree note\n", 10);
	assert_int_equal(b.np, 1);
	assert_int_equal(bundle_body(&b, 0, 2), 0);
	assert_int_equal(b.count, 2);
	assert_memory_equal(b.recs[1].p, "rec two\n", 8);
	assert_int_equal(b.ntiles, 1);
	assert_int_equal(b.t[0].w, 2);
	assert_int_equal(b.data[0].len, 64);
	assert_ptr_equal(b.c.p, b.c.end);
	bundle_free(&b);
	assert_int_equal(bundle_sizes(buf, len, &from, &to), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, 2);
	/* The records the caller expects, from its signed checkpoints. */
	assert_int_equal(bundle_head(&b, buf, len), 0);
	assert_int_equal(bundle_body(&b, 1, 1), SUMDB_EFORMAT);
	assert_string_equal(b.err, "malformed records section");
	bundle_free(&b);

	/* The envelope: short, magic, trailer, checksum. */
	assert_int_equal(bundle_head(&b, buf, strlen("sumdbd bundle 1\n") +
	    69), SUMDB_EFORMAT);
	assert_string_equal(b.err, "not a sumdbd bundle");
	assert_false(b.named);
	buf[0] = 'S';
	assert_int_equal(bundle_head(&b, buf, len), SUMDB_EFORMAT);
	assert_string_equal(b.err, "not a sumdbd bundle");
	buf[0] = 's';
	assert_int_equal(bundle_head(&b, buf, len - 1), SUMDB_EFORMAT);
	assert_string_equal(b.err, "truncated bundle");
	assert_int_equal(bundle_sizes(buf, len - 1, &from, &to),
	    SUMDB_EFORMAT);
	buf[len - 2] ^= 1;
	assert_int_equal(bundle_head(&b, buf, len), SUMDB_EFORMAT);
	assert_string_equal(b.err, "the bundle's checksum does not match: "
	    "damaged");
	buf[len - 2] ^= 1;
	buf[30] ^= 1;
	assert_int_equal(bundle_head(&b, buf, len), SUMDB_EFORMAT);
	assert_string_equal(b.err, "the bundle's checksum does not match: "
	    "damaged");

	/* Each piece malformed in turn: its reason. */
	for (i = 0; i < sizeof(bad_bundles) / sizeof(bad_bundles[0]); i++) {
		bp = good;
		*(const char **)((char *)&bp + bad_bundles[i].off) =
		    bad_bundles[i].text;
		assert_int_equal(bundle_parse(&bp, err, sizeof(err)),
		    bad_bundles[i].err != NULL ? SUMDB_EFORMAT : 0);
		if (bad_bundles[i].err != NULL)
			assert_string_equal(err, bad_bundles[i].err);
	}
}

/* gosum.c: go.sum lines, and what they hold. */
static const struct {
	const char	*line, *path, *version, *hash;
	int		 gomod;
} good_lines[] = {
	{ "golang.org/x/mod v0.1.0 h1:abc=", "golang.org/x/mod", "v0.1.0",
	  "h1:abc=", 0 },
	{ "\tgolang.org/x/mod  v0.1.0/go.mod\th1:x ", "golang.org/x/mod",
	  "v0.1.0", "h1:x", 1 },
	/* "/go.mod" alone is a version, not a suffix. */
	{ "m /go.mod h1:x", "m", "/go.mod", "h1:x", 0 },
};

static void
test_gosum(void **state)
{
	struct gosum_line	 g;
	char			 s[2 * SUMDB_PATH_MAX + 256];
	size_t			 i;
	static const char	*bad[] = {
		"",
		"   \t ",
		"golang.org/x/mod v0.1.0",
		"golang.org/x/mod v0.1.0 h1:abc extra",
		"golang.org/x/mod v0.1.0 sha256:abc",
		"golang.org/x/mod v0.1.0 H1:abc",
		"golang.org/x/mod v0.1.0 h1",
		"golang.org/x/\xff v0.1.0 h1:abc",
	};

	(void)state;
	for (i = 0; i < sizeof(good_lines) / sizeof(good_lines[0]); i++) {
		snprintf(s, sizeof(s), "%s", good_lines[i].line);
		assert_int_equal(gosum_parse_line(s, &g), 0);
		assert_string_equal(g.path, good_lines[i].path);
		assert_string_equal(g.version, good_lines[i].version);
		assert_string_equal(g.hash, good_lines[i].hash);
		assert_int_equal(g.gomod, good_lines[i].gomod);
		free(g.buf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "%s", bad[i]);
		assert_int_equal(gosum_parse_line(s, &g), SUMDB_EFORMAT);
	}
	/* Bounds: a path of SUMDB_PATH_MAX - 1 bytes, a hash of 127. */
	memset(s, 'a', SUMDB_PATH_MAX - 1);
	snprintf(s + SUMDB_PATH_MAX - 1, sizeof(s) - SUMDB_PATH_MAX + 1,
	    " v1.0.0 h1:%0124d", 0);
	assert_int_equal(gosum_parse_line(s, &g), 0);
	assert_int_equal(strlen(g.path), SUMDB_PATH_MAX - 1);
	assert_int_equal(strlen(g.hash), 127);
	free(g.buf);
	memset(s, 'a', SUMDB_PATH_MAX);
	snprintf(s + SUMDB_PATH_MAX, sizeof(s) - SUMDB_PATH_MAX,
	    " v1.0.0 h1:x");
	assert_int_equal(gosum_parse_line(s, &g), SUMDB_EFORMAT);
	snprintf(s, sizeof(s), "m v1.0.0 h1:%0125d", 0);
	assert_int_equal(gosum_parse_line(s, &g), SUMDB_EFORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_real_data),
		cmocka_unit_test(test_new_tiles),
		cmocka_unit_test(test_tile_reader),
		cmocka_unit_test(test_zips),
		cmocka_unit_test(test_zip_limits),
		cmocka_unit_test(test_h1_vectors),
		cmocka_unit_test(test_bad_notes),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_witness_formats),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_bad_lookups),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_numbers_utf8),
		cmocka_unit_test(test_bad_trees),
		cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_gosum),
	};

	if (getenv("SUMDB_TESTDATA") != NULL)
		testdata = getenv("SUMDB_TESTDATA");
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
