/*
 * log.c: log lines to stderr, where the journal collects them, or to
 * syslog once the daemon has detached.  Only the daemon logs; the
 * libraries return error codes.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "sumdbd.h"

static int	 log_verbose;
static int	 log_syslog;

/* With foreground 0, lines go to syslog from now on. */
void
log_init(int foreground, int verbose)
{
	log_verbose = verbose;
	if (!foreground && !log_syslog)
		openlog("sumdbd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = !foreground;
}

/*
 * Control characters in s as \xNN, in place: logged paths and upstream
 * answers come from outside, and must not forge lines or drive a
 * terminal.  s has room for size bytes.
 */
static void
escape_controls(char *s, size_t size)
{
	char		 tmp[2048];
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; s[i] != '\0' && o + 5 < sizeof(tmp); i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += snprintf(tmp + o, sizeof(tmp) - o, "\\x%02x", c);
		else
			tmp[o++] = (char)c;
	}
	tmp[o] = '\0';
	snprintf(s, size, "%s", tmp);
}

static void
vlog(const char *prefix, int with_errno, int saved, const char *fmt,
    va_list ap)
{
	char	 msg[2048];
	int	 pri;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape_controls(msg, sizeof(msg));
	if (log_syslog) {
		/* syslog names the program: keep what follows "sumdbd: ". */
		pri = strstr(prefix, "fatal") != NULL ? LOG_CRIT :
		    strstr(prefix, "debug") != NULL ? LOG_DEBUG : LOG_NOTICE;
		if (with_errno)
			syslog(pri, "%s%s: %s", prefix + 8, msg,
			    strerror(saved));
		else
			syslog(pri, "%s%s", prefix + 8, msg);
		return;
	}
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
