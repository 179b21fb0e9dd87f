/*
 * client.c: sumdbd client-config and client-check (being written).
 */

#include <stdio.h>

#include "daemon.h"

int
cmd_client_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sumdbd client-config: not built yet\n");
	return 2;
}

int
cmd_client_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sumdbd client-check: not built yet\n");
	return 2;
}
