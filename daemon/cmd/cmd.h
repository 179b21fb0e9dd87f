/*
 * cmd.h: the subcommands, "sumdbd NAME [options] [operands]", and the
 * table that runs them.  Each command file defines one struct cmd_entry
 * (tmux's cmd-*.c pattern): its name, its options, how many operands it
 * takes, what it needs opened, its usage text and the function that does
 * the work.  cmd.c parses the options common to all of them (-c FILE,
 * -h), loads and opens what the entry's flags ask for, runs the command
 * and closes everything after it.  Main thread only.
 */

#ifndef CMD_H
#define CMD_H

#include <getopt.h>
#include <stdio.h>

#include "sumdbd.h"

/* What cmd_run() opens before it calls a command. */
#define NEED_CONFIG	0x01	/* the config, -c FILE or SUMDBD_CONFIG */
#define NEED_STORE	0x02	/* the store, which must exist already */
#define NEED_LOG	0x04	/* the private log if configured, read-only */
#define CREATE_STORE	0x08	/* with NEED_STORE: create it if missing */
/* The first operand is a verb and the options follow it ("tuf init"). */
#define CMD_VERB	0x10

struct cmd_entry {
	const char	*name;		/* argv[1] */
	/*
	 * getopt_long()'s strings for all of its options: "c:h" for the
	 * common ones (a command without -c leaves it out), then its own.
	 */
	const char	*opts;
	const struct option *longopts;	/* or NULL */
	int		 lower, upper;	/* operands; upper -1: no limit */
	int		 flags;		/* NEED_*, CMD_* */
	/* The usage text: all of it to stdout for -h, else to stderr. */
	void		(*usage)(FILE *);
	/*
	 * The command, with env ready as flags asked.  argv[0] is the name
	 * (the verb with CMD_VERB); argv was parsed already and permuted
	 * so that the options come first, and optind indexes the first
	 * operand.  A command with options of its own sets optind = 0 and
	 * reads them again with getopt_long() over opts and longopts,
	 * skipping 'c' and 'h'.  It closes nothing that env holds.
	 * Returns the exit status.
	 */
	int		(*exec)(struct env *env, int argc, char **argv);
};

extern const struct cmd_entry cmd_keygen_entry;
extern const struct cmd_entry cmd_add_entry;
extern const struct cmd_entry cmd_unfreeze_entry;
extern const struct cmd_entry cmd_migrate_entry;
extern const struct cmd_entry cmd_tuf_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_audit_entry;
extern const struct cmd_entry cmd_fsck_entry;
extern const struct cmd_entry cmd_evidence_entry;
extern const struct cmd_entry cmd_provenance_entry;
extern const struct cmd_entry cmd_verify_cosigned_entry;
extern const struct cmd_entry cmd_client_config_entry;
extern const struct cmd_entry cmd_client_check_entry;
extern const struct cmd_entry cmd_passwd_entry;

/* The entry of command name, or NULL if there is none. */
const struct cmd_entry *cmd_find(const char *name);

/*
 * Run the command that argv[1] names, argv[0] being the program: parse
 * -c and -h and check the entry's options and operand count (-h prints
 * the usage to stdout and returns 0; a usage error prints it to stderr
 * and returns 2), load the config and open the store and the log as the
 * entry's flags say (2 if that fails, the reason printed), run it, then
 * free what it opened.  Returns the exit status, 2 for an unknown name.
 */
int	cmd_run(int argc, char **argv);

#endif /* CMD_H */
