/*
 * audit.c: fuzz the go.sum reading of `sumdbd audit` and POST /audit
 * (gosum_parse_line() in daemon/sumdb/gosum.c): the body is split into
 * lines as serve_audit() splits it and each line is trimmed as
 * audit_add() trims it; every line accepted has a non-empty path and
 * version, an "h1:" hash, the fields within their bounds, and can be
 * checked against the [log] private patterns and module rules and
 * reported in JSON, which holds only UTF-8.
 */

#include <jansson.h>

#include "fuzz.h"
#include "config.h"
#include "sumdb.h"

static const char patterns[] =
    "example.com/private,*.corp.example,github.com/org/*";

/* What audit_add() does with line s (modified): 0, 1 if malformed. */
static int
check_line(char *s)
{
	struct gosum_line	 g;
	json_t			*o;
	size_t			 vlen;
	int			 r;

	s[strcspn(s, "\r\n")] = '\0';
	if (s[0] == '\0')
		return 0;
	if ((r = gosum_parse_line(s, &g)) != 0) {
		assert(r == SUMDB_EFORMAT);
		return 1;
	}
	assert(g.path == g.buf && strncmp(g.hash, "h1:", 3) == 0);
	assert(g.path[0] != '\0' && strlen(g.path) < SUMDB_PATH_MAX);
	vlen = strlen(g.version);
	assert(vlen < SUMDB_PATH_MAX && strlen(g.hash) < 128);
	/* audit_skips(): both run on every line. */
	(void)config_match_patterns(patterns, g.path);
	(void)modpath_check(g.path, strlen(g.path), g.version, vlen);
	/* The report: jansson refuses strings that are not UTF-8. */
	assert((o = json_pack("{s:s, s:s, s:s, s:b}", "path", g.path,
	    "version", g.version, "hash", g.hash, "gomod", g.gomod)) != NULL);
	json_decref(o);
	free(g.buf);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	const uint8_t	*nl, *end = p + len;
	char		*line;
	int		 r = 0;

	/* serve_audit(): lines end at '\n', the last one may not. */
	while (p < end && r == 0) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		line = fuzz_str(p, nl - p);
		if (strlen(line) == (size_t)(nl - p))	/* no NUL byte */
			r = check_line(line);
		else
			r = 1;
		free(line);
		p = nl < end ? nl + 1 : end;
	}
	return 0;
}
