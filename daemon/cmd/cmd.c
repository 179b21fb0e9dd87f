/*
 * cmd.c: the table of subcommands and what they all do alike: find the
 * command argv[1] names, parse -c FILE and -h, check its options and
 * operand count, load the config and open the store and the log it
 * needs, run it, and free all that after it (git's run_builtin() and
 * tmux's cmd_entry).  The commands' own options stay with them.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_keygen_entry,
	&cmd_add_entry,
	&cmd_unfreeze_entry,
	&cmd_migrate_entry,
	&cmd_tuf_entry,
	&cmd_evidence_entry,
	&cmd_provenance_entry,
	&cmd_fsck_entry,
	&cmd_audit_entry,
	&cmd_export_entry,
	&cmd_import_entry,
	&cmd_client_config_entry,
	&cmd_client_check_entry,
	&cmd_passwd_entry,
	&cmd_verify_cosigned_entry,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

/*
 * The common options and the operand count; the config path in *conf.
 * Returns -1 to go on, or the exit status.
 */
static int
parse(const struct cmd_entry *e, int argc, char **argv, const char **conf)
{
	int	 ch, n;

	optind = 0;
	while ((ch = getopt_long(argc, argv, e->opts, e->longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			e->usage(stdout);
			return 0;
		}
		if (ch == '?' || ch == ':') {
			e->usage(stderr);
			return 2;
		}
		if (ch == 'c')
			*conf = optarg;
	}
	n = argc - optind;
	if (n < e->lower || (e->upper >= 0 && n > e->upper)) {
		e->usage(stderr);
		return 2;
	}
	return -1;
}

int
cmd_run(int argc, char **argv)
{
	const struct cmd_entry	*e;
	struct env		 env;
	const char		*conf = SUMDBD_CONFIG;
	int			 rv;

	if (argc < 2 || (e = cmd_find(argv[1])) == NULL)
		return 2;
	argc--;
	argv++;
	if (e->flags & CMD_VERB) {
		if (argc < 2) {
			e->usage(stderr);
			return 2;
		}
		argc--;
		argv++;
	}
	if ((rv = parse(e, argc, argv, &conf)) >= 0)
		return rv;
	memset(&env, 0, sizeof(env));
	if ((e->flags & NEED_CONFIG) && env_load_config(&env, conf) != 0)
		return 2;
	rv = 2;
	if (((e->flags & NEED_STORE) && env_open_store(&env,
	    (e->flags & CREATE_STORE) != 0) != 0) ||
	    ((e->flags & NEED_LOG) && env_open_log(&env) != 0))
		goto done;
	rv = e->exec(&env, argc, argv);
 done:
	/* The loop and resolver a command set up outlive what used them. */
	env_free(&env);
	fetch_client_free(&env);
	return rv;
}
