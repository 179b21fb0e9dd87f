/*
 * config.c: fuzz config_load() on arbitrary files (written to a
 * memfd), as `sumdbd -n` and SIGHUP read them.  Every error names a
 * reason; a config that loads holds only values in its bounds, loads
 * again to no difference (config_reload()), and its [log] private
 * patterns match paths without trouble.  The input is also tried as a
 * duration, a size and a list of patterns.
 */

#include <sys/mman.h>

#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static const char *paths[] = {
	"example.com/private/mod", "github.com/org/repo/v2", "corp.example",
	"a/b/c/d/e/f/g/h", "",
};
#define NPATHS	(sizeof(paths) / sizeof(paths[0]))

static void
diff(void *arg, const char *section, const char *name, int live)
{
	(void)arg;
	(void)section;
	(void)name;
	(void)live;
	abort();	/* the same file twice: nothing differs */
}

static void
check_loaded(const struct config *c)
{
	int	 i;

	assert(c->listen != NULL && c->database != NULL);
	assert(c->max_connections >= 1 && c->max_header_size >= 1024);
	assert(c->workers >= 0 && c->workers <= 64);
	assert(c->nmirrors >= 0 && c->nmirrors <= CONFIG_MIRRORS_MAX);
	assert((c->log_name == NULL) == (c->log_key == NULL));
	assert((c->tls_certificate == NULL) == (c->tls_key == NULL));
	for (i = 0; i < c->nmirrors; i++) {
		assert(c->mirrors[i].name != NULL && c->mirrors[i].key != NULL);
		assert(c->mirrors[i].nurls >= 0 &&
		    c->mirrors[i].nurls <= CONFIG_URLS_MAX);
		assert(c->mirrors[i].nurls > 0 || c->mirrors[i].offline);
		assert(strcmp(c->mirrors[i].mode, "lazy") == 0 ||
		    strcmp(c->mirrors[i].mode, "full") == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	static int	 fd = -1;
	static char	 path[64];
	struct config	 c, c2;
	char		 err[256], err2[256], *s;
	int64_t		 v;
	size_t		 i;
	int		 r, r2, line, line2;

	if (fd == -1) {
		assert((fd = memfd_create("sumdbd.conf", MFD_CLOEXEC)) != -1);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	assert(ftruncate(fd, 0) == 0);
	assert(pwrite(fd, p, len, 0) == (ssize_t)len);
	r = config_load(path, &c, &line, err, sizeof(err));
	assert(r == 0 || r == CONFIG_ESYNTAX || r == CONFIG_EKEY ||
	    r == CONFIG_EVALUE || r == CONFIG_EMISSING || r == CONFIG_ENOMEM);
	assert(line >= 0);
	if (r != 0)
		assert(err[0] != '\0');
	else {
		check_loaded(&c);
		r2 = config_load(path, &c2, &line2, err2, sizeof(err2));
		assert(r2 == 0);
		assert(config_reload(&c, &c2, diff, NULL) == 0);
		config_free(&c2);
		for (i = 0; i < NPATHS; i++)
			config_match_patterns(c.log_private, paths[i]);
	}
	config_free(&c);

	s = fuzz_str(p, len);
	if (config_duration(s, &v) == 0)
		assert(v >= 0);
	if (config_size(s, &v) == 0)
		assert(v >= 0);
	for (i = 0; i < NPATHS; i++)
		config_match_patterns(s, paths[i]);
	free(s);
	return 0;
}
