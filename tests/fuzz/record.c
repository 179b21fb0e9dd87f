/*
 * record.c: fuzz record_parse(), which reads the record text of every
 * lookup answer and bundle record: an accepted record has both lines
 * of one module@version, and when that module@version is valid
 * record_format() writes exactly the input back.
 */

#include <event2/buffer.h>

#include "fuzz.h"
#include "sumdb.h"

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	struct record	 r;
	struct evbuffer	*b;
	char		*path, *version, *zh, *mh;
	int		 valid;

	valid = record_text_valid(p, len);
	if (record_parse(p, len, &r) != 0)
		return 0;
	assert(valid);
	assert(r.pathlen > 0 && r.ziphashlen == 47 && r.modhashlen == 47);
	assert((const uint8_t *)r.path == p);
	assert(r.version == r.path + r.pathlen + 1);
	path = fuzz_str((const uint8_t *)r.path, r.pathlen);
	version = fuzz_str((const uint8_t *)r.version, r.versionlen);
	zh = fuzz_str((const uint8_t *)r.ziphash, r.ziphashlen);
	mh = fuzz_str((const uint8_t *)r.modhash, r.modhashlen);
	assert((b = evbuffer_new()) != NULL);
	if (modpath_check(path, r.pathlen, version, r.versionlen) == 0) {
		assert(record_format(path, version, zh, mh, b) == 0);
		assert(evbuffer_get_length(b) == len &&
		    memcmp(evbuffer_pullup(b, -1), p, len) == 0);
	}
	evbuffer_free(b);
	free(path);
	free(version);
	free(zh);
	free(mh);
	return 0;
}
