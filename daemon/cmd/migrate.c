/*
 * migrate.c: "sumdbd migrate FROM TO": copy a store into another, empty
 * one (an SQLite file into PostgreSQL, or back) and verify it, every
 * row of every table byte for byte.  Run it with the daemons stopped;
 * then point [server] database at TO.
 */

#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd migrate FROM TO\n"
	    "  Copy the store FROM (an SQLite file or a postgresql:// URI)\n"
	    "  into TO, which must be empty (a new file, or a database\n"
	    "  without sumdbd's tables), and verify the copy row by row.\n"
	    "  Stop the daemons using FROM first.\n");
}

static void
copied(void *arg, const char *table, int64_t rows)
{
	(void)arg;
	printf("migrate: %s: %lld rows\n", table, (long long)rows);
}

static int
migrate(struct env *env, int argc, char **argv)
{
	struct store	*from, *to;
	char		 err[512];
	int		 rv = 1;

	(void)env;
	(void)argc;
	if (!config_is_pg(argv[optind]) && access(argv[optind], F_OK) != 0) {
		fprintf(stderr, "sumdbd migrate: %s: no such store\n",
		    argv[optind]);
		return 2;
	}
	if ((from = store_open(argv[optind], err, sizeof(err))) == NULL) {
		fprintf(stderr, "sumdbd migrate: %s: %s\n", argv[optind], err);
		return 2;
	}
	if ((to = store_open(argv[optind + 1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "sumdbd migrate: %s: %s\n", argv[optind + 1],
		    err);
		store_close(from);
		return 2;
	}
	if (store_copy(from, to, copied, NULL) != 0)
		fprintf(stderr, "sumdbd migrate: %s\n", store_errmsg(to));
	else {
		printf("migrate: verified: every row of every table the same "
		    "in %s\n", argv[optind + 1]);
		rv = 0;
	}
	store_close(from);
	store_close(to);
	return rv;
}

const struct cmd_entry cmd_migrate_entry = {
	.name = "migrate",
	.opts = "h",
	.lower = 2,
	.upper = 2,
	.flags = 0,
	.usage = usage,
	.exec = migrate,
};
