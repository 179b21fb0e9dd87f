/*
 * notetool.c: a test helper around daemon/sumdb's notes, so that shell
 * tests can cross-check them with x/mod:
 *	notetool sign KEYFILE TEXTFILE	print the note signed with KEYFILE
 *	notetool verify VKEY NOTEFILE	print the text if the note verifies
 */

#include <event2/buffer.h>
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb.h"

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	uint8_t	*p = NULL;
	size_t	 cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(2);
	}
	*len = 0;
	do {
		if ((p = realloc(p, cap += 65536)) == NULL)
			exit(2);
		n = fread(p + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return p;
}

int
main(int argc, char **argv)
{
	struct note_signer	*s;
	struct note_verifier	 v;
	struct note		 n;
	struct evbuffer		*out;
	uint8_t			*key, *msg;
	size_t			 klen, mlen;
	int			 err, r;

	if (argc != 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: notetool sign|verify KEY FILE\n");
		return 2;
	}
	out = evbuffer_new();
	msg = slurp(argv[3], &mlen);
	if (strcmp(argv[1], "sign") == 0) {
		key = slurp(argv[2], &klen);
		while (klen > 0 && key[klen - 1] == '\n')
			klen--;
		if ((s = note_signer_parse((char *)key, klen, &err)) == NULL) {
			fprintf(stderr, "notetool: %s\n", sumdb_strerror(err));
			return 1;
		}
		if ((r = note_sign(msg, mlen, &s, 1, out)) != 0) {
			fprintf(stderr, "notetool: %s\n", sumdb_strerror(r));
			return 1;
		}
		note_signer_free(s);
		free(key);
	} else {
		if (note_verifier_parse(argv[2], strlen(argv[2]), &v) != 0) {
			fprintf(stderr, "notetool: bad verifier key\n");
			return 1;
		}
		if ((r = note_open(msg, mlen, &v, 1, &n)) != 0) {
			fprintf(stderr, "notetool: %s\n", sumdb_strerror(r));
			return 1;
		}
		evbuffer_add(out, n.text, n.textlen);
	}
	fwrite(evbuffer_pullup(out, -1), 1, evbuffer_get_length(out), stdout);
	evbuffer_free(out);
	free(msg);
	return 0;
}
