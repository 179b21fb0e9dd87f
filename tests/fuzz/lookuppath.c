/*
 * lookuppath.c: fuzz modpath_parse_lookup() as serve.c uses it on the
 * "M@V" of /lookup/M@V (a C string): an accepted one names a valid
 * module version and is exactly the escaped form of what it returns.
 * Every path and version accepted escapes and unescapes back.
 */

#include <stdio.h>

#include "fuzz.h"
#include "sumdb.h"

static void
check_lookup(const char *s, size_t len)
{
	char	 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	char	 ep[3 * SUMDB_PATH_MAX], ev[3 * SUMDB_PATH_MAX];
	char	 again[6 * SUMDB_PATH_MAX + 2];
	int	 epl, evl, n;

	if (modpath_parse_lookup(s, len, path, version) != 0)
		return;
	assert(modpath_check_path(path, strlen(path)));
	assert(modpath_semver_canonical(version, strlen(version)));
	assert(modpath_check(path, strlen(path), version,
	    strlen(version)) == 0);
	epl = modpath_escape_path(path, strlen(path), ep, sizeof(ep));
	evl = modpath_escape_version(version, strlen(version), ev,
	    sizeof(ev));
	assert(epl > 0 && evl > 0);
	n = snprintf(again, sizeof(again), "%s@%s", ep, ev);
	assert(n > 0 && (size_t)n == len && memcmp(again, s, len) == 0);
}

/* The input as a path and as a version: escaping is invertible. */
static void
check_escape(const char *s, size_t len)
{
	char	 esc[3 * SUMDB_PATH_MAX], back[3 * SUMDB_PATH_MAX];
	int	 n, m;

	if ((n = modpath_escape_path(s, len, esc, sizeof(esc))) >= 0) {
		assert(modpath_check_path(s, len));
		m = modpath_unescape_path(esc, n, back, sizeof(back));
		assert(m >= 0 && (size_t)m == len && memcmp(back, s, len) == 0);
	}
	if ((n = modpath_escape_version(s, len, esc, sizeof(esc))) >= 0) {
		m = modpath_unescape_version(esc, n, back, sizeof(back));
		assert(m >= 0 && (size_t)m == len && memcmp(back, s, len) == 0);
	}
	modpath_semver_valid(s, len);
	modpath_semver_canonical(s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	char	*s = fuzz_str(p, len);

	check_lookup(s, strlen(s));	/* as serve.c passes it */
	check_escape(s, strlen(s));
	free(s);
	return 0;
}
