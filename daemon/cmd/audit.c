/*
 * audit.c: "sumdbd audit GOSUM...": check go.sum and go.work.sum files
 * against the local store with the audit engine (daemon/audit.c), with
 * no network unless --online asks the running daemon's mirror.
 */

#include <event2/buffer.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "store.h"

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "online", no_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd audit [-c FILE] [--db NAME] [--json] [--online] "
	    "GOSUM...\n"
	    "  Check every line of go.sum or go.work.sum files against the\n"
	    "  records this store holds for database NAME (default: the\n"
	    "  private log, or the only mirror): verified, mismatch, unknown\n"
	    "  (not in the log) or skipped (a private pattern, or a version\n"
	    "  the log cannot hold), with the record and tree checked\n"
	    "  against, and an explanation for each mismatch; a private\n"
	    "  log's record admitted on first use that a mirror's verified\n"
	    "  record contradicts is a mismatch too.  --online asks\n"
	    "  the running daemon's mirror (its upstream, verified) for the\n"
	    "  lines the store lacks.  Exit 0 when\n"
	    "  no line mismatches, 1 when one does, 2 on errors.\n");
}


/*
 * --online: the lines this store lacks are looked up through the
 * running daemon's mirror, which asks its upstream and verifies and
 * stores the answer as it does for any client; audit_lines() then finds
 * them in the store.  A 404 means the upstream does not have the
 * version.  0, or -1 with the reason printed.
 */
static int
ask_daemon(struct env *env, struct audit *au, int64_t log)
{
	struct evbuffer	*body = NULL;
	struct aline	*a;
	char		 base[1100], url[8192], err[256], line[256];
	char		 ep[SUMDB_PATH_MAX], ev[SUMDB_PATH_MAX];
	const char	*host = env->conf.listen;
	int64_t		 id;
	size_t		 i;
	int		 r, st, rv = -1;

	/* The daemon's own address; a wildcard one means this host. */
	if (strncmp(host, "0.0.0.0:", 8) == 0)
		snprintf(base, sizeof(base), "http://127.0.0.1%s", host + 7);
	else if (strncmp(host, "[::]:", 5) == 0)
		snprintf(base, sizeof(base), "http://[::1]%s", host + 4);
	else
		snprintf(base, sizeof(base), "http://%s", host);
	if (fetch_client_init(env) != 0 || (body = evbuffer_new()) == NULL)
		goto done;
	for (i = 0; i < au->n; i++) {
		a = &au->a[i];
		if (audit_skips(env->conf.log_private, a))
			continue;
		if (a->first != i) {
			a->absent = au->a[a->first].absent;
			continue;
		}
		if ((r = store_lookup(env->st, log, a->path, a->version, &id,
		    NULL)) < 0)
			goto done;
		if (r == 1)
			continue;
		if (modpath_escape_path(a->path, strlen(a->path), ep,
		    sizeof(ep)) < 0 || modpath_escape_version(a->version,
		    strlen(a->version), ev, sizeof(ev)) < 0)
			continue;
		snprintf(url, sizeof(url), "%s/sumdb/%s/lookup/%s@%s", base,
		    au->name, ep, ev);
		err[0] = '\0';
		st = fetch_wait(env, url, 1 << 20, 60000, body, err,
		    sizeof(err));
		if (st == 404) {
			a->absent = 1;
			continue;
		}
		if (st != 200) {
			evbuffer_add(body, "", 1);	/* a C string */
			line[0] = '\0';
			if (st > 0)
				snprintf(line, sizeof(line), "%d %s", st,
				    (const char *)evbuffer_pullup(body, -1));
			line[strcspn(line, "\n")] = '\0';
			fprintf(stderr, "sumdbd audit: --online: %s: %s\n", url,
			    st > 0 ? line : err[0] != '\0' ? err :
			    "no answer");
			goto done;
		}
	}
	rv = 0;
 done:
	if (body != NULL)
		evbuffer_free(body);
	fetch_client_free(env);
	return rv;
}

/*
 * The database to audit: name, or the private log, or the only mirror;
 * *mc its mirror config (NULL for the private log) and *kind.  0, or -1
 * with the reason printed.
 */
static int
which_db(struct env *env, const char **name, const char **kind,
    const struct config_mirror **mc)
{
	size_t	 i;

	if (*name == NULL)
		*name = env->conf.log_name != NULL ? env->conf.log_name :
		    env->conf.nmirrors == 1 ? env->conf.mirrors[0].name : NULL;
	if (*name == NULL) {
		fprintf(stderr, "sumdbd audit: which database? use --db\n");
		return -1;
	}
	*kind = NULL;
	*mc = NULL;
	if (env->conf.log_name != NULL && strcmp(*name, env->conf.log_name) ==
	    0)
		*kind = "private";
	for (i = 0; i < (size_t)env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, *name) == 0) {
			*kind = "mirror";
			*mc = &env->conf.mirrors[i];
		}
	if (*kind == NULL) {
		fprintf(stderr, "sumdbd audit: no database '%s' in %s\n", *name,
		    env->confpath);
		return -1;
	}
	return 0;
}

/* Add the lines of the files argv[0..argc-1]; 0, or -1 with the reason. */
static int
read_files(struct audit *au, int argc, char **argv)
{
	char	 buf[8192];
	FILE	*f;
	int	 k, lineno, r;

	for (k = 0; k < argc; k++) {
		if ((f = fopen(argv[k], "r")) == NULL) {
			fprintf(stderr, "sumdbd audit: '%s': %m\n", argv[k]);
			return -1;
		}
		for (lineno = 1; fgets(buf, sizeof(buf), f) != NULL; lineno++)
			if ((r = audit_add(au, argv[k], lineno, buf)) != 0) {
				if (r > 0)
					fprintf(stderr, "%s:%d: not a go.sum "
					    "line\n", argv[k], lineno);
				fclose(f);
				return -1;
			}
		fclose(f);
	}
	return 0;
}

static int
audit(struct env *env, int argc, char **argv)
{
	struct audit		 au;
	const struct config_mirror *mc;
	json_t			*out = NULL;
	const char		*name = NULL, *kind;
	int64_t			 log;
	int			 ch, json = 0, online = 0, rv = 2;

	memset(&au, 0, sizeof(au));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'd')
			name = optarg;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'o')
			online = 1;
	}
	if (which_db(env, &name, &kind, &mc) != 0)
		goto done;
	au.name = name;
	if (env_open_store(env, 0) != 0 || store_log(env->st, name, kind,
	    &log) != 0)
		goto done;
	if (read_files(&au, argc - optind, argv + optind) != 0)
		goto done;
	if (online && mc == NULL) {
		fprintf(stderr, "sumdbd audit: --online: '%s' is the private "
		    "log, which knows every version it has\n", name);
		goto done;
	}
	if (online && mc != NULL && mc->offline) {
		fprintf(stderr, "sumdbd audit: --online: mirror '%s' is "
		    "offline\n", name);
		goto done;
	}
	if (audit_link(&au) != 0 || (online && ask_daemon(env, &au, log) != 0))
		goto done;
	if (audit_begin(&au, env->st, log, mc == NULL ? -1 :
	    strcmp(mc->mode, "full") == 0) != 0 || audit_lines(&au, env->st,
	    log, env->conf.log_private, 0, au.n) != 0 ||
	    (mc == NULL && audit_tofu(&au, env->st, log, &env->conf) != 0))
		goto done;
	audit_end(&au);
	if (json) {
		if ((out = audit_json(&au)) == NULL)
			goto done;
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	} else
		audit_text(&au);
	rv = au.counts[S_MISMATCH] > 0 ? 1 : 0;
 done:
	json_decref(out);
	audit_free(&au);
	return rv;
}

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.opts = "c:h",
	.longopts = longopts,
	.lower = 1,
	.upper = -1,
	.flags = NEED_CONFIG,
	.usage = usage,
	.exec = audit,
};
