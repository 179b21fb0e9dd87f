/*
 * main.c: sumdbd's entry point: options and the offline subcommands.
 */

#include <stdio.h>
#include <string.h>

#include "daemon.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd keygen [-o FILE] NAME\n"
	    "       sumdbd COMMAND --help\n");
}

int
main(int argc, char **argv)
{
	log_init(1, 0);
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
