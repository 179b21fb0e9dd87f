/*
 * key.c: fuzz the parsing of verifier keys ("NAME+HASH+KEY", from the
 * config and GOSUMDB) and signer keys ("PRIVATE+KEY+...", from the key
 * file).  A key that parses formats to the same length and name and
 * parses again to the same key, and a signer signs what its verifier
 * opens.
 */

#include <event2/buffer.h>

#include "fuzz.h"
#include "sumdb.h"

static void
check_verifier(const char *s, size_t len)
{
	struct note_verifier	 v, v2;
	struct evbuffer		*b;
	size_t			 namelen;
	int			 r;

	r = note_verifier_parse(s, len, &v);
	assert(r == 0 || r == SUMDB_EKEY);
	if (r != 0)
		return;
	namelen = strlen(v.name);
	assert(note_name_valid(v.name, namelen));
	assert(namelen < len && memcmp(v.name, s, namelen) == 0 &&
	    s[namelen] == '+');
	assert(note_key_hash(v.alg, v.name, namelen, v.pub) == v.hash);
	assert((b = evbuffer_new()) != NULL);
	assert(note_verifier_format(&v, b) == 0);
	/* Only the hash's case and base64's spare bits may differ. */
	assert(evbuffer_get_length(b) == len);
	assert(note_verifier_parse((const char *)evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), &v2) == 0);
	assert(strcmp(v.name, v2.name) == 0 && v.hash == v2.hash &&
	    memcmp(v.pub, v2.pub, sizeof(v.pub)) == 0);
	evbuffer_free(b);
}

static void
check_signer(const char *s, size_t len)
{
	static const uint8_t	 text[] = "go.sum database tree\n1\n"
				    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	struct note_signer	*sg, *sg2;
	struct note_verifier	 v, v2;
	struct evbuffer		*b;
	struct note		 n;
	char			 buf[1024];
	int			 err = 0, k;

	sg = note_signer_parse(s, len, &err);
	if (sg == NULL) {
		assert(err == SUMDB_EKEY || err == SUMDB_ENOMEM);
		return;
	}
	note_signer_verifier(sg, &v);
	assert(note_key_hash(v.alg, v.name, strlen(v.name), v.pub) == v.hash);
	k = note_signer_format(sg, buf, sizeof(buf));
	assert(k > 0 && (size_t)k == len);
	sg2 = note_signer_parse(buf, (size_t)k, &err);
	assert(sg2 != NULL);
	note_signer_verifier(sg2, &v2);
	assert(strcmp(v.name, v2.name) == 0 && v.hash == v2.hash &&
	    memcmp(v.pub, v2.pub, sizeof(v.pub)) == 0);
	assert((b = evbuffer_new()) != NULL);
	assert(note_sign(text, sizeof(text) - 1, &sg, 1, b) == 0);
	assert(note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), &v,
	    1, &n) == 0);
	evbuffer_free(b);
	note_signer_free(sg);
	note_signer_free(sg2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	char	*s = fuzz_str(p, len);

	note_name_valid(s, len);
	check_verifier(s, len);
	check_signer(s, len);
	free(s);
	return 0;
}
