/*
 * passwd.c: "sumdbd passwd [-c FILE | -f USERS] NAME": set a user's
 * password in the users file of inbound authentication ([server]
 * users, or USERS), reading it from stdin (one line; without echo on a
 * terminal).  The file is replaced atomically (users.c); a running
 * daemon loads it at SIGHUP.
 */

#include <sodium.h>
#include <termios.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define PASSWORD_MAX	1024

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd passwd [-c FILE | -f USERS] NAME\n"
	    "  Set user NAME's password, read from stdin (one line), in the\n"
	    "  users file USERS or [server] users of the config.  The file\n"
	    "  is written anew (mode 0600) and renamed over the old one;\n"
	    "  send the daemon SIGHUP to load it.  Exit 0, or 2 on errors.\n");
}

/* One line from stdin into pw (PASSWORD_MAX bytes); its length or -1. */
static ssize_t
read_password(const char *name, char *pw)
{
	struct termios	 t, quiet;
	int		 tty = isatty(STDIN_FILENO), echo = 0;
	size_t		 len;

	if (tty) {
		fprintf(stderr, "password for '%s': ", name);
		if (tcgetattr(STDIN_FILENO, &t) == 0) {
			quiet = t;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	if (fgets(pw, PASSWORD_MAX, stdin) == NULL)
		pw[0] = '\0';
	if (echo) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fprintf(stderr, "\n");
	}
	len = strlen(pw);
	if (len == PASSWORD_MAX - 1 && pw[len - 1] != '\n') {
		fprintf(stderr, "sumdbd passwd: the password is longer than "
		    "%d bytes\n", PASSWORD_MAX - 2);
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if ((len = strlen(pw)) == 0) {
		fprintf(stderr, "sumdbd passwd: no password on stdin\n");
		return -1;
	}
	return (ssize_t)len;
}

static int
passwd(struct env *env, int argc, char **argv)
{
	const char	*conf = SUMDBD_CONFIG, *path = NULL;
	const char	*name;
	char		*pw = NULL;
	ssize_t		 len;
	int		 ch, cset = 0, rv = 2;

	optind = 0;
	while ((ch = getopt(argc, argv, "c:f:h")) != -1)
		if (ch == 'c') {
			conf = optarg;
			cset = 1;
		} else if (ch == 'f')
			path = optarg;
	if (path != NULL && cset) {
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	if (!users_name_ok(name, strlen(name))) {
		fprintf(stderr, "sumdbd passwd: '%s': a name is 1 to 64 of "
		    "A-Z a-z 0-9 _ - @\n", name);
		return 2;
	}
	if (path == NULL) {
		if (env_load_config(env, conf) != 0)
			return 2;
		if ((path = env->conf.users) == NULL) {
			fprintf(stderr, "sumdbd passwd: %s has no [server] "
			    "users: set it, or use -f USERS\n", conf);
			return 2;
		}
	}
	if ((pw = sodium_malloc(PASSWORD_MAX)) == NULL) {
		log_warn("sodium_malloc");
		return 2;
	}
	if ((len = read_password(name, pw)) >= 0 &&
	    users_set(path, name, pw, (size_t)len) == 0)
		rv = 0;
	sodium_free(pw);
	return rv;
}

const struct cmd_entry cmd_passwd_entry = {
	.name = "passwd",
	.opts = "c:f:h",
	.lower = 1,
	.upper = 1,
	.usage = usage,
	.exec = passwd,
};
