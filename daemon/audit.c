/*
 * audit.c: "sumdbd audit": check go.sum and go.work.sum files against
 * the local store, with no network.  Every line is verified, mismatch,
 * unknown (not in the log) or skipped (a private pattern, or a version
 * the log cannot hold), with the record and the tree it was checked
 * against; each mismatch gets an explanation people can act on.
 */

#include <event2/buffer.h>
#include <jansson.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "store.h"

/* The h1 of an empty go.mod: what truncated downloads hash to. */
#define EMPTY_GOMOD	"h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY="

enum status { S_VERIFIED, S_MISMATCH, S_UNKNOWN, S_SKIPPED };
static const char *status_names[] = { "verified", "mismatch", "unknown",
    "skipped" };

struct aline {
	char		 file[1024];
	int		 line;
	char		 path[SUMDB_PATH_MAX];
	char		 version[SUMDB_PATH_MAX];
	int		 gomod;		/* the /go.mod line */
	char		 hash[128];
	enum status	 status;
	int64_t		 record;	/* -1 if none */
	char		 expected[SUMDB_H1_SIZE];
	const char	*why;		/* explanation, or NULL */
};

static void
audit_usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd audit [-c FILE] [--db NAME] [--json] GOSUM...\n"
	    "  Check every line of go.sum or go.work.sum files against the\n"
	    "  records this store holds for database NAME (default: the\n"
	    "  private log, or the only mirror): verified, mismatch, unknown\n"
	    "  (not in the log) or skipped (a private pattern, or a version\n"
	    "  the log cannot hold), with the record and tree checked\n"
	    "  against, and an explanation for each mismatch.  Exit 0 when\n"
	    "  no line mismatches, 1 when one does, 2 on errors.\n");
}

/* Parse one go.sum line into a; 0, or -1 if it is malformed. */
static int
parse_line(char *s, struct aline *a)
{
	char	*f[4], *save = NULL, *p;
	int	 n = 0;
	size_t	 len;

	for (p = strtok_r(s, " \t", &save); p != NULL && n < 4;
	    p = strtok_r(NULL, " \t", &save))
		f[n++] = p;
	if (n != 3 || strlen(f[0]) >= sizeof(a->path) ||
	    strlen(f[1]) >= sizeof(a->version) ||
	    strlen(f[2]) >= sizeof(a->hash))
		return -1;
	snprintf(a->path, sizeof(a->path), "%s", f[0]);
	len = strlen(f[1]);
	a->gomod = len > 7 && strcmp(f[1] + len - 7, "/go.mod") == 0;
	snprintf(a->version, sizeof(a->version), "%.*s",
	    (int)(a->gomod ? len - 7 : len), f[1]);
	snprintf(a->hash, sizeof(a->hash), "%s", f[2]);
	return strncmp(a->hash, "h1:", 3) == 0 ? 0 : -1;
}

/* The explanation of a's status, seeing its sibling line (if any). */
static const char *
explain(const struct aline *a, const struct aline *sib, int complete)
{
	if (a->status == S_UNKNOWN)
		return complete ? "the log has never seen this version: a "
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

int
cmd_audit(int argc, char **argv)
{
	static struct option	 longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct env		 env;
	struct evbuffer		*text = NULL;
	struct aline		*a = NULL, *sib;
	struct record		 rec;
	json_t			*out = NULL, *lines, *o;
	const char		*conf = "/etc/sumdbd/sumdbd.conf", *name = NULL;
	const char		*kind = NULL;
	char			 buf[8192];
	uint8_t			 root[32];
	FILE			*f;
	int64_t			 log, id, tree = 0;
	size_t			 n = 0, cap = 0, i, k;
	int			 ch, json = 0, rv = 2, lineno, complete = 0;
	int			 counts[4] = { 0, 0, 0, 0 }, r;

	memset(&env, 0, sizeof(env));
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			name = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			audit_usage(stdout);
			return 0;
		default:
			audit_usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 1) {
		audit_usage(stderr);
		return 2;
	}
	if (env_load_config(&env, conf) != 0)
		return 2;
	if (name == NULL)
		name = env.conf.log_name != NULL ? env.conf.log_name :
		    env.conf.nmirrors == 1 ? env.conf.mirrors[0].name : NULL;
	if (name == NULL) {
		fprintf(stderr, "sumdbd audit: which database? use --db\n");
		goto done;
	}
	if (env.conf.log_name != NULL && strcmp(name, env.conf.log_name) == 0) {
		kind = "private";
		complete = 1;
	}
	for (i = 0; i < (size_t)env.conf.nmirrors; i++)
		if (strcmp(env.conf.mirrors[i].name, name) == 0)
			kind = "mirror";
	if (kind == NULL) {
		fprintf(stderr, "sumdbd audit: no database '%s' in %s\n", name,
		    conf);
		goto done;
	}
	if (env_open_store(&env) != 0 || store_log(env.st, name, kind,
	    &log) != 0 || (text = evbuffer_new()) == NULL)
		goto done;
	if ((r = store_latest(env.st, log, NULL, &tree, root)) < 0)
		goto done;
	if (r == 0)
		tree = 0;
	if (!complete) {
		int64_t	 next = 0;

		/* A full mirror that has it all knows what it lacks. */
		for (i = 0; i < (size_t)env.conf.nmirrors; i++)
			if (strcmp(env.conf.mirrors[i].name, name) == 0 &&
			    strcmp(env.conf.mirrors[i].mode, "full") == 0 &&
			    store_full_next(env.st, log, &next) == 0 &&
			    next >= tree && tree > 0)
				complete = 1;
	}
	for (k = (size_t)optind; k < (size_t)argc; k++) {
		if ((f = fopen(argv[k], "r")) == NULL) {
			fprintf(stderr, "sumdbd audit: '%s': %m\n", argv[k]);
			goto done;
		}
		for (lineno = 1; fgets(buf, sizeof(buf), f) != NULL; lineno++) {
			buf[strcspn(buf, "\r\n")] = '\0';
			if (buf[0] == '\0')
				continue;
			if (n == cap && (a = reallocarray(a, cap = cap ? 2 * cap :
			    64, sizeof(*a))) == NULL) {
				fclose(f);
				goto done;
			}
			memset(&a[n], 0, sizeof(a[n]));
			snprintf(a[n].file, sizeof(a[n].file), "%s", argv[k]);
			a[n].line = lineno;
			a[n].record = -1;
			if (parse_line(buf, &a[n]) != 0) {
				fprintf(stderr, "%s:%d: not a go.sum line\n",
				    argv[k], lineno);
				fclose(f);
				goto done;
			}
			n++;
		}
		fclose(f);
	}
	for (i = 0; i < n; i++) {
		if (config_match_patterns(env.conf.log_private, a[i].path) ||
		    modpath_check(a[i].path, strlen(a[i].path), a[i].version,
		    strlen(a[i].version)) != 0) {
			a[i].status = S_SKIPPED;
			continue;
		}
		evbuffer_drain(text, evbuffer_get_length(text));
		if ((r = store_lookup(env.st, log, a[i].path, a[i].version, &id,
		    text)) < 0)
			goto done;
		if (r == 0 || id >= tree || record_parse(evbuffer_pullup(text,
		    -1), evbuffer_get_length(text), &rec) != 0) {
			a[i].status = S_UNKNOWN;
			continue;
		}
		a[i].record = id;
		snprintf(a[i].expected, sizeof(a[i].expected), "%.*s",
		    (int)(a[i].gomod ? rec.modhashlen : rec.ziphashlen),
		    a[i].gomod ? rec.modhash : rec.ziphash);
		a[i].status = strcmp(a[i].expected, a[i].hash) == 0 ?
		    S_VERIFIED : S_MISMATCH;
	}
	for (i = 0; i < n; i++) {
		for (sib = NULL, k = 0; k < n; k++)
			if (k != i && a[k].gomod != a[i].gomod &&
			    strcmp(a[k].path, a[i].path) == 0 &&
			    strcmp(a[k].version, a[i].version) == 0)
				sib = &a[k];
		a[i].why = explain(&a[i], sib, complete);
		counts[a[i].status]++;
	}
	if (json) {
		lines = json_array();
		for (i = 0; i < n; i++) {
			o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}",
			    "file", a[i].file, "line", a[i].line, "module",
			    a[i].path, "version", a[i].version, "kind",
			    a[i].gomod ? "go.mod" : "zip", "hash", a[i].hash,
			    "status", status_names[a[i].status]);
			if (a[i].record >= 0) {
				json_object_set_new(o, "record",
				    json_integer(a[i].record));
				json_object_set_new(o, "tree", json_integer(tree));
				json_object_set_new(o, "logged",
				    json_string(a[i].expected));
			}
			if (a[i].why != NULL)
				json_object_set_new(o, "explanation",
				    json_string(a[i].why));
			json_array_append_new(lines, o);
		}
		out = json_pack("{s:s, s:I, s:o, s:{s:i, s:i, s:i, s:i}}",
		    "db", name, "tree", (json_int_t)tree, "lines", lines,
		    "summary", "verified", counts[0], "mismatch", counts[1],
		    "unknown", counts[2], "skipped", counts[3]);
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	} else {
		for (i = 0; i < n; i++) {
			printf("%s:%d: %s %s %s%s", a[i].file, a[i].line,
			    status_names[a[i].status], a[i].path, a[i].version,
			    a[i].gomod ? "/go.mod" : "");
			if (a[i].record >= 0)
				printf(" (record %lld, tree %lld)",
				    (long long)a[i].record, (long long)tree);
			if (a[i].status == S_MISMATCH)
				printf(": go.sum has %s, the log %s", a[i].hash,
				    a[i].expected);
			if (a[i].why != NULL)
				printf(": %s", a[i].why);
			printf("\n");
		}
		printf("%s at tree %lld: %d verified, %d mismatch, %d unknown, "
		    "%d skipped\n", name, (long long)tree, counts[0], counts[1],
		    counts[2], counts[3]);
	}
	rv = counts[S_MISMATCH] > 0 ? 1 : 0;
 done:
	json_decref(out);
	if (text != NULL)
		evbuffer_free(text);
	free(a);
	env_free(&env);
	return rv;
}
