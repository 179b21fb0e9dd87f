/*
 * gosum.c: the lines of go.sum and go.work.sum files, as `sumdbd audit`
 * and POST /audit read them: "PATH VERSION h1:HASH" for a module's zip,
 * "PATH VERSION/go.mod h1:HASH" for its go.mod.
 */

#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

int
gosum_parse_line(char *s, struct gosum_line *g)
{
	char	*f[4], *save = NULL, *p;
	int	 n = 0;
	size_t	 len, plen, vlen, hlen;

	/* Every field goes into the JSON report, which holds only UTF-8. */
	if (!sumdb_utf8_valid((const uint8_t *)s, strlen(s)))
		return SUMDB_EFORMAT;
	for (p = strtok_r(s, " \t", &save); p != NULL && n < 4;
	    p = strtok_r(NULL, " \t", &save))
		f[n++] = p;
	if (n != 3 || (plen = strlen(f[0])) >= SUMDB_PATH_MAX ||
	    (len = strlen(f[1])) >= SUMDB_PATH_MAX ||
	    (hlen = strlen(f[2])) >= 128 || strncmp(f[2], "h1:", 3) != 0)
		return SUMDB_EFORMAT;
	g->gomod = len > 7 && strcmp(f[1] + len - 7, "/go.mod") == 0;
	vlen = g->gomod ? len - 7 : len;
	if ((g->buf = malloc(plen + vlen + hlen + 3)) == NULL)
		return SUMDB_ENOMEM;
	g->path = g->buf;
	g->version = g->path + plen + 1;
	g->hash = g->version + vlen + 1;
	memcpy(g->path, f[0], plen + 1);
	memcpy(g->version, f[1], vlen);
	g->version[vlen] = '\0';
	memcpy(g->hash, f[2], hlen + 1);
	return 0;
}
