/*
 * log.c: log lines to stderr, where the journal collects them.  Only
 * the daemon logs; the libraries return error codes.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static int	 log_verbose;

void
log_init(int foreground, int verbose)
{
	(void)foreground;
	log_verbose = verbose;
}

static void
vlog(const char *prefix, int with_errno, int saved, const char *fmt,
    va_list ap)
{
	char	 msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s%s: %s\n", prefix, msg, strerror(saved));
	else
		fprintf(stderr, "%s%s\n", prefix, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog("sumdbd: ", 1, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("sumdbd: ", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("sumdbd: ", 0, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("sumdbd: debug: ", 0, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog("sumdbd: fatal: ", 1, saved, fmt, ap);
	va_end(ap);
	exit(2);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("sumdbd: fatal: ", 0, 0, fmt, ap);
	va_end(ap);
	exit(2);
}
