/*
 * note.c: fuzz note_open(), as sync and lookups use it on upstream
 * checkpoints, against sum.golang.org's key alone and against several
 * keys at once, then tlog_parse_tree() on the text it returns.  The
 * input is also signed as a text: our own notes always open again.
 */

#include <event2/buffer.h>

#include "fuzz.h"
#include "sumdb.h"

static const char *vkeys[] = {
	"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	"sum.golang.org+dc35b526+AVl4rbBLCEgRIxKekU7oZkNn2ysMtN+8XPDZevgfIg19",
	"gosum.io+4a5aef7b+AdyKOHqXxhI3pVEzTTbzENggk4v8QjdgU/HaoYCcMGAC",
};
#define NV	(sizeof(vkeys) / sizeof(vkeys[0]))

static const char skey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

static struct note_verifier	 v[NV];
static struct note_signer	*signer;

static void
init(void)
{
	size_t	 i;
	int	 err;

	for (i = 0; i < NV; i++)
		assert(note_verifier_parse(vkeys[i], strlen(vkeys[i]),
		    &v[i]) == 0);
	signer = note_signer_parse(skey, strlen(skey), &err);
	assert(signer != NULL);
}

/* What every accepted note satisfies. */
static void
check_open(const uint8_t *p, size_t len, const struct note *n, size_t nv)
{
	struct tlog_tree	 t;
	struct evbuffer		*b;

	assert(n->text == p && n->textlen < len);
	assert(n->textlen > 0 && p[n->textlen - 1] == '\n' &&
	    p[n->textlen] == '\n');
	assert(n->nverified >= 1 && n->nverified <= nv);
	assert((size_t)__builtin_popcountll(n->verified) == n->nverified);
	assert(n->verified >> nv == 0);
	if (tlog_parse_tree(n->text, n->textlen, &t) != 0)
		return;
	/* The tree note text starts with what tlog_format_tree() writes. */
	assert(t.n >= 0);
	assert((b = evbuffer_new()) != NULL);
	assert(tlog_format_tree(&t, b) == 0);
	assert(evbuffer_get_length(b) <= n->textlen);
	assert(memcmp(evbuffer_pullup(b, -1), n->text,
	    evbuffer_get_length(b)) == 0);
	evbuffer_free(b);
}

/* Sign p as a text: it opens again, to the same text, if it is valid. */
static void
roundtrip(const uint8_t *p, size_t len)
{
	struct note_verifier	 sv;
	struct note		 n;
	struct evbuffer		*b;
	size_t			 i;
	int			 r, valid;

	if (len == 0 || p[len - 1] != '\n' || len > 4096)
		return;
	valid = sumdb_utf8_valid(p, len);
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 && p[i] != '\n')
			valid = 0;
	assert((b = evbuffer_new()) != NULL);
	assert(note_sign(p, len, &signer, 1, b) == 0);
	note_signer_verifier(signer, &sv);
	r = note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), &sv, 1,
	    &n);
	if (valid) {
		assert(r == 0);
		assert(n.textlen == len && memcmp(n.text, p, len) == 0);
		assert(n.nverified == 1 && n.nunverified == 0);
	} else
		assert(r == SUMDB_EFORMAT);
	evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	struct note	 n;
	int		 r;

	if (signer == NULL)
		init();
	r = note_open(p, len, v, 1, &n);
	assert(r == 0 || r == SUMDB_EFORMAT || r == SUMDB_ESIG ||
	    r == SUMDB_ELIMIT);
	if (r == 0)
		check_open(p, len, &n, 1);
	r = note_open(p, len, v, NV, &n);
	assert(r == 0 || r == SUMDB_EFORMAT || r == SUMDB_ESIG ||
	    r == SUMDB_ELIMIT);
	if (r == 0)
		check_open(p, len, &n, NV);
	/* No key: nothing verifies. */
	assert(note_open(p, len, v, 0, &n) != 0);
	roundtrip(p, len);
	return 0;
}
