/*
 * audit.c: fuzz the go.sum reading of `sumdbd audit` and POST /audit
 * (audit_add() and parse_line() in daemon/audit.c, included here for
 * its static functions): the body is split into lines as serve_audit()
 * splits it, and every line accepted is skipped or checked against the
 * [log] private patterns, explained, and reported in the JSON answer,
 * which must always be possible.
 */

#include "../../daemon/audit.c"

#include "fuzz.h"

static char patterns[] = "example.com/private,*.corp.example,github.com/org/*";

/*
 * Statuses as audit_check() gives them, from the lines' own bytes, and
 * explanations, each line seeing the one before as its sibling.
 */
static void
check_lines(struct audit *au, const struct config *conf)
{
	struct aline	*a;
	size_t		 i;

	for (i = 0; i < au->n; i++) {
		a = &au->a[i];
		assert(strncmp(a->hash, "h1:", 3) == 0);
		assert(a->path[0] != '\0' && a->version[0] != '\0');
		if (audit_skips(conf->log_private, a))
			a->status = S_SKIPPED;
		else
			a->status = (unsigned char)a->hash[3] % 3;
		if (a->status == S_VERIFIED || a->status == S_MISMATCH) {
			a->record = (int64_t)i;
			snprintf(a->expected, sizeof(a->expected), "%.*s",
			    (int)sizeof(a->expected) - 1,
			    a->status == S_VERIFIED ? a->hash : EMPTY_GOMOD);
		}
		a->why = explain(a, i > 0 ? a - 1 : NULL, (int)(i & 1));
		au->counts[a->status]++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	struct audit	 au;
	struct config	 conf;
	const uint8_t	*nl, *end = p + len;
	json_t		*o;
	char		*line, *s;
	int		 lineno, r = 0;

	memset(&au, 0, sizeof(au));
	memset(&conf, 0, sizeof(conf));
	conf.log_private = patterns;
	au.name = "sum.golang.org";
	au.tree = 42;
	/* serve_audit(): lines end at '\n', the last one may not. */
	for (lineno = 1; p < end && r == 0; lineno++) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		line = fuzz_str(p, nl - p);
		if (strlen(line) == (size_t)(nl - p))	/* no NUL byte */
			r = audit_add(&au, "go.sum", lineno, line);
		else
			r = 1;
		free(line);
		assert(r >= 0);
		p = nl < end ? nl + 1 : end;
	}
	if (r > 0) {		/* a 400 */
		audit_free(&au);
		return 0;
	}
	check_lines(&au, &conf);
	assert((o = audit_json(&au)) != NULL);
	assert((s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL);
	free(s);
	json_decref(o);
	audit_free(&au);
	return 0;
}
