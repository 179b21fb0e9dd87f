/*
 * daemon.h: the sumdbd program: shared state and the prototypes of
 * the files in daemon/, sectioned by file.
 */

#ifndef DAEMON_H
#define DAEMON_H

#include <stdarg.h>

/* log.c */
void	log_init(int foreground, int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* keygen.c */
int	cmd_keygen(int argc, char **argv);

#endif /* DAEMON_H */
