/*
 * lookup.c: fuzz the mirror's reading of a lookup answer from its
 * upstream ("ID\nRECORD\nNOTE", verify_lookup() in mirror.c):
 * record_parse_lookup(), record_parse() of the record, note_open() of
 * the note under sum.golang.org's key and tlog_parse_tree().  An
 * accepted answer is exactly what record_format_lookup() writes for
 * its parts.
 */

#include <event2/buffer.h>

#include "fuzz.h"
#include "sumdb.h"

static const char vkey[] =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	static struct note_verifier	 v;
	struct span			 text, note;
	struct record			 rec;
	struct note			 n;
	struct tlog_tree		 t;
	struct evbuffer			*b;
	int64_t				 id;

	if (v.name[0] == '\0')
		assert(note_verifier_parse(vkey, strlen(vkey), &v) == 0);
	if (record_parse_lookup(p, len, &id, &text, &note) != 0)
		return 0;
	assert(id >= 0);
	assert(text.p > p && text.p + text.len < p + len);
	assert(note.p == text.p + text.len + 1 && note.p + note.len ==
	    p + len);
	assert(record_text_valid(text.p, text.len));
	assert((b = evbuffer_new()) != NULL);
	assert(record_format_lookup(id, text.p, text.len, note.p, note.len,
	    b) == 0);
	assert(evbuffer_get_length(b) == len &&
	    memcmp(evbuffer_pullup(b, -1), p, len) == 0);
	evbuffer_free(b);
	if (record_parse(text.p, text.len, &rec) != 0)
		return 0;
	if (note_open(note.p, note.len, &v, 1, &n) != 0)
		return 0;
	if (tlog_parse_tree(n.text, n.textlen, &t) == 0)
		assert(t.n >= 0);
	return 0;
}
