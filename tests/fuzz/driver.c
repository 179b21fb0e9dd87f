/*
 * driver.c: a main() for the fuzz targets without libFuzzer, so that
 * `make check` can run every target over its corpus with gcc (and with
 * ASan and UBSan under SAN=1), and so a crash found by `make fuzz`
 * reproduces under a debugger:
 *	NAME FILE|DIR...
 * runs LLVMFuzzerTestOneInput() once on every file (every file of each
 * directory, in name order), each in a buffer of exactly its size.
 * Exits 0, 2 if a file cannot be read, or dies with the target.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE	*f;
	uint8_t	*p = NULL, *q;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((q = realloc(p, cap)) == NULL) {
				perror(path);
				free(p);
				fclose(f);
				return -1;
			}
			p = q;
		}
		n = fread(p + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		perror(path);
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Exactly len bytes, so that ASan sees a read past the end. */
	if ((q = malloc(len > 0 ? len : 1)) == NULL) {
		free(p);
		return -1;
	}
	memcpy(q, p, len);
	free(p);
	LLVMFuzzerTestOneInput(q, len);
	free(q);
	return 0;
}

static int
skip(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	struct dirent	**ents;
	struct stat	 sb;
	char		 path[4096];
	const char	*name;
	int		 i, k, n, runs = 0, rv = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) != 0) {
			perror(argv[i]);
			rv = 2;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			if (run_file(argv[i]) != 0)
				rv = 2;
			else
				runs++;
			continue;
		}
		if ((n = scandir(argv[i], &ents, skip, alphasort)) < 0) {
			perror(argv[i]);
			rv = 2;
			continue;
		}
		for (k = 0; k < n; k++) {
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    ents[k]->d_name);
			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
				if (run_file(path) != 0)
					rv = 2;
				else
					runs++;
			}
			free(ents[k]);
		}
		free(ents);
	}
	name = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	printf("fuzz %s: %d inputs, no crash\n", name, runs);
	return rv;
}
