/*
 * tuf.c: "sumdbd tuf init|rotate": make the offline root keys and sign
 * the first root of the TUF repository, or root N+1 with the old and
 * new root keys (the TUF publisher, daemon/tufrepo.c, does the work).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd tuf init [-c FILE] [-n KEYS] [-t THRESHOLD] DIR\n"
	    "       sumdbd tuf rotate [-c FILE] [-n KEYS] [-t THRESHOLD] "
	    "OLDDIR NEWDIR\n"
	    "  init makes KEYS (default 1) root keys in DIR, which should be\n"
	    "  offline media, the online targets, snapshot and timestamp keys\n"
	    "  in the [tuf] keys file, and signs the first root with\n"
	    "  THRESHOLD (default KEYS) of the root keys.  rotate makes new\n"
	    "  root keys in NEWDIR and signs root N+1 with the old keys in\n"
	    "  OLDDIR and the new ones; all published roots stay served.\n");
}

static int
tuf(struct env *env, int argc, char **argv)
{
	const char	*verb = argv[0];
	int64_t		 v;
	int		 ch, nkeys = 1, threshold = 0, init;

	optind = 0;
	while ((ch = getopt(argc, argv, "c:hn:t:")) != -1) {
		if (ch == 'n')
			nkeys = atoi(optarg);
		else if (ch == 't')
			threshold = atoi(optarg);
	}
	argc -= optind;
	argv += optind;
	if (threshold == 0)
		threshold = nkeys;
	init = strcmp(verb, "init") == 0;
	if (nkeys < 1 || nkeys > ROOT_KEYS_MAX || threshold < 1 ||
	    threshold > nkeys || (init ? argc != 1 :
	    strcmp(verb, "rotate") == 0 ? argc != 2 : 1)) {
		usage(stderr);
		return 2;
	}
	if (env->conf.tuf_keys == NULL) {
		fprintf(stderr, "%s: no [tuf] keys\n", env->confpath);
		return 2;
	}
	if (env_open_store(env, 1) != 0)
		return 2;
	if (init) {
		if (tufrepo_init(env, argv[0], nkeys, threshold) != 0)
			return 2;
		printf("TUF root 1 signed by %d of %d root keys in '%s'; "
		    "online keys in '%s'\n", threshold, nkeys, argv[0],
		    env->conf.tuf_keys);
		return 0;
	}
	if (tufrepo_rotate(env, argv[0], argv[1], nkeys, threshold, &v) != 0)
		return 2;
	printf("TUF root %lld signed by the old and the new root keys; new "
	    "keys in '%s'\n", (long long)v, argv[1]);
	return 0;
}

const struct cmd_entry cmd_tuf_entry = {
	.name = "tuf",
	.opts = "c:hn:t:",
	.lower = 1,
	.upper = 2,
	.flags = NEED_CONFIG | CMD_VERB,
	.usage = usage,
	.exec = tuf,
};
