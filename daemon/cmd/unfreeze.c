/*
 * unfreeze.c: "sumdbd unfreeze NAME": let a mirror that froze after it
 * refused a fork verify and advance again.  The evidence stays; a
 * running daemon sees the change at its next poll.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd unfreeze [-c FILE] NAME\n"
	    "  Let mirror NAME, frozen after it refused a fork, verify and\n"
	    "  advance again.  The evidence stays.  A running daemon sees it\n"
	    "  at its next poll.\n");
}

static int
unfreeze(struct env *env, int argc, char **argv)
{
	const char	*name = argv[optind];
	char		 why[512];
	int64_t		 log;
	int		 i, r;

	(void)argc;
	for (i = 0; i < env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, name) == 0)
			break;
	if (i == env->conf.nmirrors) {
		fprintf(stderr, "sumdbd unfreeze: no [mirror %s] in %s\n",
		    name, env->confpath);
		return 2;
	}
	if (env_open_store(env, 0) != 0)
		return 2;
	if (store_log(env->st, name, "mirror", &log) != 0 ||
	    (r = store_frozen(env->st, log, why, sizeof(why))) < 0 ||
	    (r == 1 && store_set_frozen(env->st, log, NULL) != 0)) {
		log_warnx("%s", store_errmsg(env->st));
		return 2;
	}
	if (r == 1)
		printf("mirror '%s' unfrozen (it was: %s)\n", name, why);
	else
		printf("mirror '%s' was not frozen\n", name);
	return 0;
}

const struct cmd_entry cmd_unfreeze_entry = {
	.name = "unfreeze",
	.opts = "c:h",
	.lower = 1,
	.upper = 1,
	.flags = NEED_CONFIG,
	.usage = usage,
	.exec = unfreeze,
};
