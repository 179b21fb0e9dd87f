/*
 * export.c: "sumdbd export --db NAME [--from N] [--to M] OUT": write the
 * differential bundle of one database between two of its trust bases
 * (bundle.c has the format), for an offline site's "sumdbd import".
 */

#include <event2/buffer.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "from", required_argument, NULL, 'f' },
	{ "to", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd export [-c FILE] --db NAME [--from N] [--to M] "
	    "OUT\n"
	    "  Write the differential bundle of database NAME between its\n"
	    "  trust bases N (default 0: everything) and M (default the\n"
	    "  newest): both checkpoints, the consistency proof, the records\n"
	    "  and the tiles added.  It needs every record in between: the\n"
	    "  private log, or a full mirror.\n");
}

/* Write out to the new file path; 0, or -1 with the reason logged. */
static int
write_out(struct evbuffer *out, const char *path)
{
	int	 fd, rv = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("'%s'", path);
		return -1;
	}
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0) {
			log_warn("writing '%s'", path);
			goto done;
		}
	if (fsync(fd) != 0) {
		log_warn("'%s'", path);
		goto done;
	}
	rv = 0;
 done:
	close(fd);
	return rv;
}

static int
export(struct env *env, int argc, char **argv)
{
	struct note_verifier	 v;
	struct evbuffer		*out = NULL;
	const char		*name = NULL, *path;
	uint8_t			 root[32];
	char			 err[1024];
	int64_t			 log, from = 0, to = -1;
	int			 ch, rv = 2;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (ch == 'd')
			name = optarg;
		else if (ch == 'f')
			from = strtoll(optarg, NULL, 10);
		else if (ch == 't')
			to = strtoll(optarg, NULL, 10);
	}
	if (name == NULL || from < 0) {
		usage(stderr);
		return 2;
	}
	path = argv[optind];
	if (bundle_find_db(env, name, &log, &v) != 0) {
		fprintf(stderr, "sumdbd export: no database '%s' in %s\n", name,
		    env->confpath);
		return 2;
	}
	if (to < 0 && store_latest(env->st, log, NULL, &to, root) != 1) {
		fprintf(stderr, "sumdbd export: '%s' has no trust base\n", name);
		return 2;
	}
	if ((out = evbuffer_new()) == NULL)
		return 2;
	if (bundle_write(env->st, log, name, from, to, out, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "sumdbd export: %s\n", err);
		goto done;
	}
	if (write_out(out, path) != 0)
		goto done;
	printf("%s: %s from %lld to %lld\n", path, name, (long long)from,
	    (long long)to);
	rv = 0;
 done:
	evbuffer_free(out);
	return rv;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.opts = "c:h",
	.longopts = longopts,
	.lower = 1,
	.upper = 1,
	.flags = NEED_CONFIG | NEED_STORE,
	.usage = usage,
	.exec = export,
};
