/*
 * tuftool.c: a test helper that signs TUF metadata the way an attacker
 * holding some keys would, to build the repositories the TUF tests
 * refuse:
 *	tuftool sign KEYSPEC... < SIGNED.json > METADATA.json
 * KEYSPEC is a key file (every seed in it) or FILE:ROLE (its ROLE line);
 * a KEYSPEC given twice signs twice, to test keys counted twice.
 */

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuf.h"

int
main(int argc, char **argv)
{
	struct tuf_signer	*s[64];
	json_t			*signed_, *md, *sigs;
	json_error_t		 err;
	FILE			*f;
	char			 line[256], path[1024], *role, *sp, *out;
	uint8_t			 seed[32];
	size_t			 len;
	int			 i, n = 0, dup = 0;

	if (argc < 3 || strcmp(argv[1], "sign") != 0 || sodium_init() < 0) {
		fprintf(stderr, "usage: tuftool sign KEYSPEC... < SIGNED\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		snprintf(path, sizeof(path), "%s", argv[i]);
		role = NULL;
		if ((sp = strrchr(path, ':')) != NULL) {
			*sp = '\0';
			role = sp + 1;
		}
		if ((f = fopen(path, "r")) == NULL) {
			perror(path);
			return 2;
		}
		while (fgets(line, sizeof(line), f) != NULL && n < 64) {
			line[strcspn(line, "\n")] = '\0';
			sp = strchr(line, ' ');
			if (role != NULL && (sp == NULL ||
			    strncmp(line, role, sp - line) != 0 ||
			    strlen(role) != (size_t)(sp - line)))
				continue;
			if (sodium_hex2bin(seed, 32, sp != NULL ? sp + 1 : line,
			    64, NULL, NULL, NULL) != 0)
				continue;
			s[n++] = tuf_signer_new(seed);
		}
		fclose(f);
	}
	if ((signed_ = json_loadf(stdin, 0, &err)) == NULL) {
		fprintf(stderr, "tuftool: %s\n", err.text);
		return 2;
	}
	/* tuf_sign keeps one signature per key: add repeats by hand. */
	for (i = 1; i < n; i++)
		if (strcmp(tuf_signer_key(s[i])->keyid,
		    tuf_signer_key(s[0])->keyid) == 0)
			dup = 1;
	if (tuf_sign(signed_, s, n, &out, &len) != 0 ||
	    (md = json_loads(out, 0, &err)) == NULL) {
		fprintf(stderr, "tuftool: cannot sign\n");
		return 2;
	}
	if (dup) {
		sigs = json_object_get(md, "signatures");
		json_array_append(sigs, json_array_get(sigs, 0));
	}
	free(out);
	out = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s", out);
	free(out);
	json_decref(md);
	json_decref(signed_);
	for (i = 0; i < n; i++)
		tuf_signer_free(s[i]);
	return 0;
}
