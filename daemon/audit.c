/*
 * audit.c: the audit engine of "sumdbd audit" (cmd/audit.c) and POST
 * /audit: check go.sum and go.work.sum lines against the local store,
 * with no network.  Every line is verified, mismatch, unknown (not in
 * the log) or skipped (a private pattern, or a version the log cannot
 * hold), with the record and the tree it was checked against; each
 * mismatch gets an explanation people can act on.
 */

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sumdbd.h"
#include "store.h"

/* The h1 of an empty go.mod: what truncated downloads hash to. */
#define EMPTY_GOMOD	"h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY="

static const char *status_names[] = { "verified", "mismatch", "unknown",
    "skipped" };

/* Parse one go.sum line into a, allocating a->buf; 0, -1, or -2. */
static int
parse_line(char *s, struct aline *a)
{
	struct gosum_line	 g;
	int			 r;

	if ((r = gosum_parse_line(s, &g)) != 0)
		return r == SUMDB_ENOMEM ? -2 : -1;
	a->buf = g.buf;
	a->path = g.path;
	a->version = g.version;
	a->hash = g.hash;
	a->gomod = g.gomod;
	return 0;
}

/* A line whose log record, admitted on first use, a mirror disputes. */
static const char *
explain_tofu(const struct aline *a)
{
	if (strcmp(a->hash, a->expected) == 0)
		return "the log admitted this version on first use from a "
		    "GOPROXY (no provenance), and the mirror's verified record "
		    "differs: that GOPROXY served other content than the "
		    "upstream database vouches for; use the mirror's hash and "
		    "check the GOPROXY";
	if (strcmp(a->hash, a->mhash) == 0)
		return "the log's record, admitted on first use from a GOPROXY "
		    "(no provenance), differs from the mirror's verified "
		    "record, which this line matches: the log holds what a "
		    "GOPROXY served, which the upstream database does not "
		    "vouch for; this line is right";
	return "matches neither the log's record, admitted on first use "
	    "from a GOPROXY (no provenance), nor the mirror's verified "
	    "record, which differ as well: check which GOPROXY served it";
}

/* The explanation of a's status, seeing its sibling line (if any). */
static const char *
explain(const struct aline *a, const struct aline *sib, int complete)
{
	if (a->mirror != NULL)
		return explain_tofu(a);
	if (a->status == S_UNKNOWN)
		return complete || a->absent ? "the log has never seen this version: a "
		    "typo, a version never published to it, or a private "
		    "module (check the tag exists and GOPRIVATE/GONOSUMDB)" :
		    "not in this store: a full mirror or --online would know "
		    "whether the log has it";
	if (a->status != S_MISMATCH)
		return NULL;
	if (a->gomod && strcmp(a->hash, EMPTY_GOMOD) == 0)
		return "the go.mod hash is that of an empty file: a truncated "
		    "download or a broken proxy, not the module; remove the "
		    "line and download again through a proxy you trust";
	if (!a->gomod && sib != NULL && sib->status == S_VERIFIED)
		return "the zip differs while go.mod matches: the version was "
		    "retagged at its origin, or a proxy repackaged the zip; "
		    "compare the zip from proxy.golang.org and ask the "
		    "maintainers whether the tag moved";
	if (sib != NULL && sib->status == S_MISMATCH)
		return "both the zip and go.mod differ: other content entirely "
		    "(another source, a replaced tag, or a tampered download); "
		    "check which GOPROXY served it";
	return "the hash differs from the logged one: check which GOPROXY "
	    "served this module and whether the version was retagged";
}

/* Lines the log cannot hold: private patterns, invalid versions. */
int
audit_skips(const char *private, const struct aline *a)
{
	return config_match_patterns(private, a->path) ||
	    modpath_check(a->path, strlen(a->path), a->version,
	    strlen(a->version)) != 0;
}

void
audit_free(struct audit *au)
{
	size_t	 i;

	for (i = 0; i < au->n; i++)
		free(au->a[i].buf);
	free(au->a);
	au->a = NULL;
	au->n = au->cap = 0;
}

/*
 * Add line lineno of file (s, modified; file is borrowed for the
 * audit's life); 0, 1 if malformed, -1 on ENOMEM.
 */
int
audit_add(struct audit *au, const char *file, int lineno, char *s)
{
	struct aline	*a;
	int		 r;

	s[strcspn(s, "\r\n")] = '\0';
	if (s[0] == '\0')
		return 0;
	if (au->n == au->cap) {
		if ((a = reallocarray(au->a, au->cap ? 2 * au->cap : 64,
		    sizeof(*a))) == NULL)
			return -1;
		au->a = a;
		au->cap = au->cap ? 2 * au->cap : 64;
	}
	a = &au->a[au->n];
	memset(a, 0, sizeof(*a));
	a->file = file;
	a->line = lineno;
	a->record = -1;
	if ((r = parse_line(s, a)) != 0)
		return r == -2 ? -1 : 1;
	au->n++;
	return 0;
}

static int
line_cmp(const void *x, const void *y)
{
	const struct aline	*a = *(const struct aline *const *)x;
	const struct aline	*b = *(const struct aline *const *)y;
	int			 c;

	if ((c = strcmp(a->path, b->path)) != 0 ||
	    (c = strcmp(a->version, b->version)) != 0)
		return c;
	return a < b ? -1 : a > b;
}

/*
 * Link the lines of each module version: first, the earliest line of
 * its path@version; sib, a line of the other kind (zip, go.mod).  One
 * sort: O(n log n).  0, or -1 on ENOMEM.
 */
int
audit_link(struct audit *au)
{
	struct aline	**v, *a;
	size_t		 i, j, k, kinds[2];

	if (au->n == 0)
		return 0;
	if ((v = reallocarray(NULL, au->n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < au->n; i++)
		v[i] = &au->a[i];
	qsort(v, au->n, sizeof(*v), line_cmp);
	for (i = 0; i < au->n; i = j) {
		kinds[0] = kinds[1] = SIZE_MAX;
		for (j = i; j < au->n && strcmp(v[j]->path, v[i]->path) == 0 &&
		    strcmp(v[j]->version, v[i]->version) == 0; j++)
			kinds[v[j]->gomod] = (size_t)(v[j] - au->a);
		for (k = i; k < j; k++) {
			a = v[k];
			a->first = (size_t)(v[i] - au->a);
			a->sib = kinds[!a->gomod];
		}
	}
	free(v);
	return 0;
}

/*
 * Start checking au against log in st: its tree, and whether the store
 * holds all of it (full: a full mirror's; the private log always).
 * 0 or -1.
 */
int
audit_begin(struct audit *au, struct store *st, int64_t log, int full)
{
	uint8_t		 root[SUMDB_HASH_SIZE];
	int64_t		 next = 0;
	int		 r;

	if ((r = store_published(st, log, NULL, &au->tree, root)) < 0)
		return -1;
	if (r == 0)
		au->tree = 0;
	au->complete = full < 0 || (full && store_full_next(st, log,
	    &next) == 0 && next >= au->tree && au->tree > 0);
	return 0;
}

/*
 * Check lines from..to-1 against log in st; private: the patterns
 * skipped.  0 or -1.
 */
int
audit_lines(struct audit *au, struct store *st, int64_t log,
    const char *private, size_t from, size_t to)
{
	struct evbuffer	*text;
	struct record	 rec;
	int64_t		 id;
	size_t		 i;
	int		 r, rv = -1;

	if ((text = evbuffer_new()) == NULL)
		return -1;
	for (i = from; i < to && i < au->n; i++) {
		struct aline	*a = &au->a[i];

		if (audit_skips(private, a)) {
			a->status = S_SKIPPED;
			continue;
		}
		evbuffer_drain(text, evbuffer_get_length(text));
		if ((r = store_lookup(st, log, a->path, a->version, &id,
		    text)) < 0)
			goto done;
		if (r == 0 || id >= au->tree || record_parse(evbuffer_pullup(
		    text, -1), evbuffer_get_length(text), &rec) != 0) {
			a->status = S_UNKNOWN;
			continue;
		}
		a->record = id;
		snprintf(a->expected, sizeof(a->expected), "%.*s",
		    (int)(a->gomod ? rec.modhashlen : rec.ziphashlen),
		    a->gomod ? rec.modhash : rec.ziphash);
		a->status = strcmp(a->expected, a->hash) == 0 ?
		    S_VERIFIED : S_MISMATCH;
	}
	rv = 0;
 done:
	evbuffer_free(text);
	return rv;
}

/*
 * Line a's hash in mirror log mlog's record of its module version, if
 * the mirror has one: 1 (the hash in out), 0, or -1.
 */
static int
mirror_hash(struct store *st, int64_t mlog, const struct aline *a,
    struct evbuffer *text, char out[SUMDB_H1_SIZE])
{
	struct record	 rec;
	int64_t		 id;
	int		 r;

	evbuffer_drain(text, evbuffer_get_length(text));
	if ((r = store_lookup(st, mlog, a->path, a->version, &id, text)) != 1)
		return r;
	if (record_parse(evbuffer_pullup(text, -1), evbuffer_get_length(text),
	    &rec) != 0)
		return 0;
	snprintf(out, SUMDB_H1_SIZE, "%.*s",
	    (int)(a->gomod ? rec.modhashlen : rec.ziphashlen),
	    a->gomod ? rec.modhash : rec.ziphash);
	return 1;
}

/* Line a against each mirror, if its record was admitted on first use. */
static int
tofu_line(struct aline *a, struct store *st, int64_t log,
    const struct config *c, const int64_t *mlog, struct evbuffer *text)
{
	int64_t	 up, upid, uptree;
	int	 k, r;

	if (a->record < 0 || config_log_route(c, a->path) == ROUTE_PRIVATE)
		return 0;
	if ((r = store_provenance(st, log, a->record, &up, &upid,
	    &uptree)) != 0)
		return r < 0 ? -1 : 0;
	for (k = 0; k < c->nmirrors; k++) {
		if ((r = mirror_hash(st, mlog[k], a, text, a->mhash)) < 0)
			return -1;
		if (r == 1 && strcmp(a->mhash, a->expected) != 0) {
			a->mirror = c->mirrors[k].name;
			a->status = S_MISMATCH;
			return 0;
		}
	}
	return 0;
}

int
audit_tofu(struct audit *au, struct store *st, int64_t log,
    const struct config *c)
{
	struct evbuffer	*text;
	int64_t		 mlog[CONFIG_MIRRORS_MAX];
	size_t		 i;
	int		 k, rv = -1;

	if ((text = evbuffer_new()) == NULL)
		return -1;
	for (k = 0; k < c->nmirrors; k++)
		if (store_log(st, c->mirrors[k].name, "mirror", &mlog[k]) != 0)
			goto done;
	for (i = 0; i < au->n; i++)
		if (tofu_line(&au->a[i], st, log, c, mlog, text) != 0)
			goto done;
	rv = 0;
 done:
	evbuffer_free(text);
	return rv;
}

/* Every line checked: explain each, seeing its sibling, and count. */
void
audit_end(struct audit *au)
{
	struct aline	*a;
	size_t		 i;

	for (i = 0; i < au->n; i++) {
		a = &au->a[i];
		a->why = explain(a, a->sib != SIZE_MAX ? &au->a[a->sib] : NULL,
		    au->complete);
		au->counts[a->status]++;
	}
}

/* The report as one JSON object, or NULL. */
json_t *
audit_json(const struct audit *au)
{
	json_t		*lines, *o;
	size_t		 i;
	const struct aline *a;

	if ((lines = json_array()) == NULL)
		return NULL;
	for (i = 0; i < au->n; i++) {
		a = &au->a[i];
		o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}",
		    "file", a->file, "line", a->line, "module", a->path,
		    "version", a->version, "kind", a->gomod ? "go.mod" : "zip",
		    "hash", a->hash, "status", status_names[a->status]);
		if (o == NULL) {
			json_decref(lines);
			return NULL;
		}
		if (a->record >= 0) {
			json_object_set_new(o, "record",
			    json_integer(a->record));
			json_object_set_new(o, "tree", json_integer(au->tree));
			json_object_set_new(o, "logged",
			    json_string(a->expected));
		}
		if (a->mirror != NULL) {
			json_object_set_new(o, "mirror",
			    json_string(a->mirror));
			json_object_set_new(o, "mirror_hash",
			    json_string(a->mhash));
		}
		if (a->why != NULL)
			json_object_set_new(o, "explanation",
			    json_string(a->why));
		json_array_append_new(lines, o);
	}
	return json_pack("{s:s, s:I, s:o, s:{s:i, s:i, s:i, s:i}}",
	    "db", au->name, "tree", (json_int_t)au->tree, "lines", lines,
	    "summary", "verified", au->counts[0], "mismatch", au->counts[1],
	    "unknown", au->counts[2], "skipped", au->counts[3]);
}

void
audit_text(const struct audit *au)
{
	const struct aline	*a;
	size_t			 i;

	for (i = 0; i < au->n; i++) {
		a = &au->a[i];
		printf("%s:%d: %s %s %s%s", a->file, a->line,
		    status_names[a->status], a->path, a->version,
		    a->gomod ? "/go.mod" : "");
		if (a->record >= 0)
			printf(" (record %lld, tree %lld)",
			    (long long)a->record, (long long)au->tree);
		if (a->status == S_MISMATCH)
			printf(": go.sum has %s, the log %s", a->hash,
			    a->expected);
		if (a->mirror != NULL)
			printf(" (first use), mirror %s %s", a->mirror,
			    a->mhash);
		if (a->why != NULL)
			printf(": %s", a->why);
		printf("\n");
	}
	printf("%s at tree %lld: %d verified, %d mismatch, %d unknown, "
	    "%d skipped\n", au->name, (long long)au->tree, au->counts[0],
	    au->counts[1], au->counts[2], au->counts[3]);
}
