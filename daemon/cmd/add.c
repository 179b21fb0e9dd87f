/*
 * add.c: "sumdbd add MODULE@VERSION...": append records to the private
 * log offline, computing their h1: hashes from a GOPROXY (http, https
 * or a local file:// tree), at most [log] max_fetches at once, in one
 * batch signed once.  Paths outside [log] accept are refused unfetched,
 * and so are public paths unless [log] public = goproxy: those the
 * daemon admits only as a mirror's verified records, or not at all.
 */

#include <event2/event.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "privlog/privlog.h"
#include "sumdb.h"

#define OPTS	"c:hp:"

struct addrun;

struct addjob {
	struct newrec	*rec;
	int		 status;	/* -1: not fetched */
	char		 err[2400];
	struct addrun	*run;
};

/* The fetches: the next to start, and how many are running. */
struct addrun {
	struct env	*env;
	const char	*goproxy;
	struct addjob	*jobs;
	int		 n, next, running;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd add [-c FILE] [-p GOPROXY] MODULE@VERSION...\n"
	    "  Append the records of MODULE@VERSION to the private log of\n"
	    "  FILE's [log] section, hashing the module as GOPROXY (default:\n"
	    "  [log] goproxy; http://, https:// or file://) serves it, and\n"
	    "  sign the new tree once.  A version already logged with the\n"
	    "  same hashes is left as it is.  Paths outside [log] private\n"
	    "  are refused unless [log] public = goproxy.  Exit 0 when every\n"
	    "  record is in the log, 1 when one is refused or not found, 2\n"
	    "  on errors.\n");
}

static void	added(int, const char *, const char *, const char *, void *);

/*
 * Whether the route of path lets add hash it from a GOPROXY: a public
 * path with [log] public = NAME is admitted only as NAME's verified
 * record (by the daemon), and with public = none not at all; the
 * one-line reason goes to err, which stays empty otherwise.
 */
static void
refuse_public(const struct config *c, const char *path, char *err,
    size_t size)
{
	enum log_route	 r = config_log_route(c, path);

	if (r == ROUTE_MIRROR)
		snprintf(err, size, "%s is public: admitted only as %s's "
		    "verified record; add its path to [log] private or set "
		    "public = goproxy", path, config_log_public(c));
	else if (r == ROUTE_REFUSE)
		snprintf(err, size, "%s is not a private path of this log "
		    "([log] public = none): if this module is yours, add its "
		    "path to [log] private", path);
}

/* Start fetches until max_fetches run; stop the loop when all ended. */
static void
start_more(struct addrun *run)
{
	struct addjob	*j;

	while (run->running < run->env->conf.log_max_fetches &&
	    run->next < run->n) {
		j = &run->jobs[run->next++];
		if (j->err[0] != '\0')		/* refused already */
			continue;
		run->running++;
		if (modfetch(run->env, run->goproxy, j->rec->path,
		    j->rec->version, added, j) != 0) {
			run->running--;
			snprintf(j->err, sizeof(j->err), "cannot fetch");
		}
	}
	if (run->running == 0 && run->next == run->n)
		event_base_loopexit(run->env->base, NULL);
}

static void
added(int status, const char *ziphash, const char *modhash, const char *err,
    void *arg)
{
	struct addjob	*j = arg;

	j->status = status;
	if (status == 200) {
		snprintf(j->rec->ziphash, sizeof(j->rec->ziphash), "%s",
		    ziphash);
		snprintf(j->rec->modhash, sizeof(j->rec->modhash), "%s",
		    modhash);
	} else
		snprintf(j->err, sizeof(j->err), "%s", err);
	j->run->running--;
	start_more(j->run);
}

static int
add(struct env *env, int argc, char **argv)
{
	struct newrec	*recs = NULL;
	struct addjob	*jobs = NULL;
	struct addrun	 run;
	const char	*goproxy = NULL;
	char		*at;
	int		 ch, i, n, nok = 0, rv = 2;

	optind = 0;
	while ((ch = getopt(argc, argv, OPTS)) != -1)
		if (ch == 'p')
			goproxy = optarg;
	argc -= optind;
	argv += optind;
	n = argc;
	if (env->conf.log_name == NULL) {
		fprintf(stderr, "%s: no [log] section\n", env->confpath);
		goto done;
	}
	if (goproxy == NULL && (goproxy = env->conf.log_goproxy) == NULL) {
		fprintf(stderr, "sumdbd add: no GOPROXY: use -p or set "
		    "[log] goproxy\n");
		goto done;
	}
	if ((recs = calloc(n, sizeof(*recs))) == NULL ||
	    (jobs = calloc(n, sizeof(*jobs))) == NULL) {
		log_warn("calloc");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if ((at = strrchr(argv[i], '@')) == NULL ||
		    (size_t)(at - argv[i]) >= sizeof(recs[i].path) ||
		    strlen(at + 1) >= sizeof(recs[i].version)) {
			fprintf(stderr, "sumdbd add: '%s': want "
			    "MODULE@VERSION\n", argv[i]);
			goto done;
		}
		memcpy(recs[i].path, argv[i], at - argv[i]);
		strcpy(recs[i].version, at + 1);
		recs[i].id = -1;
		if (modpath_check(recs[i].path, strlen(recs[i].path),
		    recs[i].version, strlen(recs[i].version)) != 0) {
			fprintf(stderr, "sumdbd add: '%s': not a valid module "
			    "path and canonical version\n", argv[i]);
			goto done;
		}
		jobs[i].rec = &recs[i];
		jobs[i].run = &run;
		jobs[i].status = -1;
		if (env->conf.log_accept != NULL &&
		    !config_match_patterns(env->conf.log_accept, recs[i].path))
			snprintf(jobs[i].err, sizeof(jobs[i].err), "not "
			    "accepted by this log ([log] accept = %s)",
			    env->conf.log_accept);
		else
			refuse_public(&env->conf, recs[i].path, jobs[i].err,
			    sizeof(jobs[i].err));
	}
	if (env_open_store(env, 1) != 0 || logw_open(env) != 0)
		goto done;
	if (fetch_client_init(env) != 0)
		goto done;
	memset(&run, 0, sizeof(run));
	run.env = env;
	run.goproxy = goproxy;
	run.jobs = jobs;
	run.n = n;
	start_more(&run);
	/* Until start_more() says all are done: hashing has no event. */
	if (run.running > 0)
		event_base_loop(env->base, EVLOOP_NO_EXIT_ON_EMPTY);
	/* Append what hashed; report the rest. */
	for (i = 0; i < n; i++) {
		if (jobs[i].status == 200)
			recs[nok++] = recs[i];
		else
			fprintf(stderr, "sumdbd add: %s@%s: %s\n",
			    recs[i].path, recs[i].version, jobs[i].err);
	}
	if (nok > 0 && logw_append(env, env->log, recs, nok) != 0)
		goto done;
	for (i = 0; i < nok; i++) {
		if (recs[i].status == 0)
			printf("%s %s: record %lld\n", recs[i].path,
			    recs[i].version, (long long)recs[i].id);
		else
			fprintf(stderr, "sumdbd add: %s\n", recs[i].reason);
	}
	rv = 0;
	for (i = 0; i < nok; i++)
		if (recs[i].status != 0)
			rv = 1;
	if (nok < n)
		rv = 1;
 done:
	modfetch_stop();	/* none run unless the loop was cut short */
	free(recs);
	free(jobs);
	return rv;
}

const struct cmd_entry cmd_add_entry = {
	.name = "add",
	.opts = OPTS,
	.lower = 1,
	.upper = -1,
	.flags = NEED_CONFIG,
	.usage = usage,
	.exec = add,
};
