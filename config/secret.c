/*
 * secret.c: secret files (keys, credentials): regular files that only
 * their owner can read, read whole into memory that is wiped when freed.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int
config_secret_check(int fd, const char *path, char *err, size_t errsize)
{
	struct stat	 sb;
	const char	*cred = getenv("CREDENTIALS_DIRECTORY");
	mode_t		 deny = S_IRWXG | S_IRWXO;
	size_t		 len;

	if (fstat(fd, &sb) == -1) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsize, "not a regular file");
		return -1;
	}
	/*
	 * A systemd credential may be mode 0440, owned by root and
	 * readable by the service through an ACL: inside
	 * $CREDENTIALS_DIRECTORY group read is allowed, group write never.
	 */
	if (cred != NULL && (len = strlen(cred)) > 0 &&
	    strncmp(path, cred, len) == 0 && path[len] == '/')
		deny = S_IWGRP | S_IXGRP | S_IRWXO;
	if (sb.st_mode & deny) {
		snprintf(err, errsize, "readable by group or others (mode "
		    "%04o); run chmod 600 '%s'",
		    (unsigned)(sb.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

char *
config_secret_line(const char *path, char *err, size_t errsize)
{
	char	 buf[CONFIG_SECRET_MAX + 2], why[256], *s;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errsize, "'%s': %s", path, strerror(errno));
		return NULL;
	}
	if (config_secret_check(fd, path, why, sizeof(why)) != 0) {
		snprintf(err, errsize, "'%s': %s", path, why);
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errsize, "'%s': %s", path,
			    strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	s = NULL;
	if (len == 0 || len > CONFIG_SECRET_MAX)
		snprintf(err, errsize, "'%s': want one line of 1 to %d bytes",
		    path, CONFIG_SECRET_MAX);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL)
		snprintf(err, errsize, "'%s': want one line", path);
	else if ((s = strdup(buf)) == NULL)
		snprintf(err, errsize, "out of memory");
	explicit_bzero(buf, sizeof(buf));
	return s;
}

void
config_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
