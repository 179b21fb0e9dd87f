/*
 * tmpdir.h: a temporary directory for the unit tests that need real
 * files (privlog_test, mirror_test): a config, a key, a store with its
 * journal.  Header only: each test includes it once.
 */

#ifndef TMPDIR_H
#define TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Make a new directory /tmp/NAME.XXXXXX into dir (of size bytes) and
 * name its config file there into conf.  0, or -1 with errno set.
 */
static inline int
tmpdir_make(char *dir, size_t size, const char *name, char *conf,
    size_t confsize)
{
	snprintf(dir, size, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf, confsize, "%s/sumdbd.conf", dir);
	return 0;
}

static inline int
tmpdir_unlink(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove dir and all it holds (not following links); 0, or -1. */
static inline int
tmpdir_remove(const char *dir)
{
	return nftw(dir, tmpdir_unlink, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* TMPDIR_H */
