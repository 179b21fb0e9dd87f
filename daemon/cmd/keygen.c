/*
 * keygen.c: "sumdbd keygen [--witness] NAME": make an Ed25519 key pair
 * for a checksum database (or, with --witness, for a witness's
 * cosignature/v1 key), write the PRIVATE+KEY+... signer key to a file
 * of mode 0600 that did not exist before, and print the verifier key
 * that clients put in GOSUMDB (or in their witness lists).
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sumdb.h"

#define OPTS	"ho:w"

static const struct option longopts[] = {
	{ "witness", no_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd keygen [-o FILE] [-w | --witness] NAME\n"
	    "  Generate the signing key of checksum database NAME (host or\n"
	    "  host/path, as in GOSUMDB), or with --witness the\n"
	    "  cosignature/v1 key of witness NAME (c2sp.org/tlog-witness).\n"
	    "  The PRIVATE+KEY+... key goes to FILE (default NAME.key, '/'\n"
	    "  replaced by '_'), created with mode 0600; an existing file is\n"
	    "  never overwritten.  The verifier key is printed on standard\n"
	    "  output.\n");
}

/*
 * Whether name can be a GOSUMDB name: host[:port][/path], which the go
 * command parses as https://NAME with nothing but host and path.
 */
static int
name_ok(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || name[0] == '/' || name[len - 1] == '/' ||
	    strstr(name, "//") != NULL ||
	    !note_name_valid(name, len))
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    strchr(".-_~:/", name[i]) != NULL))
			return 0;
	return 1;
}

static int
keygen(struct env *env, int argc, char **argv)
{
	struct note_signer	*s = NULL;
	struct note_verifier	 v;
	struct evbuffer		*vkey = NULL;
	char			*skey = NULL, path[1024], *p;
	const char		*out = NULL;
	size_t			 skeysize = 256;
	int			 ch, fd = -1, n, err, rv = 2;
	int			 alg = NOTE_ED25519;

	(void)env;
	optind = 0;
	while ((ch = getopt_long(argc, argv, OPTS, longopts, NULL)) != -1)
		if (ch == 'o')
			out = optarg;
		else if (ch == 'w')
			alg = NOTE_COSIG_V1;
	argv += optind;
	if (!name_ok(argv[0])) {
		log_warnx("keygen: invalid %s name '%s' "
		    "(want host[:port][/path])",
		    alg == NOTE_ED25519 ? "database" : "witness", argv[0]);
		return 2;
	}
	if (out == NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s.key", argv[0]) >=
		    sizeof(path)) {
			log_warnx("keygen: name too long");
			return 2;
		}
		for (p = path; *p != '\0'; p++)
			if (*p == '/')
				*p = '_';
		out = path;
	}
	if ((s = note_signer_generate(argv[0], alg, &err)) == NULL) {
		log_warnx("keygen: %s", sumdb_strerror(err));
		goto done;
	}
	if ((skey = sodium_malloc(skeysize)) == NULL) {
		log_warn("keygen: sodium_malloc");
		goto done;
	}
	if ((n = note_signer_format(s, skey, skeysize - 1)) < 0) {
		log_warnx("keygen: %s", sumdb_strerror(n));
		goto done;
	}
	skey[n++] = '\n';
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("keygen: '%s'", out);
		goto done;
	}
	if (fchmod(fd, 0600) == -1 || write(fd, skey, n) != n ||
	    fsync(fd) == -1) {
		log_warn("keygen: writing '%s'", out);
		unlink(out);
		goto done;
	}
	note_signer_verifier(s, &v);
	if ((vkey = evbuffer_new()) == NULL ||
	    note_verifier_format(&v, vkey) != 0 ||
	    evbuffer_add(vkey, "\n", 1) != 0) {
		log_warnx("keygen: out of memory");
		unlink(out);
		goto done;
	}
	fwrite(evbuffer_pullup(vkey, -1), 1, evbuffer_get_length(vkey),
	    stdout);
	fflush(stdout);
	fprintf(stderr, "sumdbd: signing key written to '%s'\n", out);
	rv = 0;
 done:
	if (fd != -1 && close(fd) == -1 && rv == 0) {
		log_warn("keygen: closing '%s'", out);
		rv = 2;
	}
	if (vkey != NULL)
		evbuffer_free(vkey);
	if (skey != NULL)
		sodium_free(skey);
	note_signer_free(s);
	return rv;
}

const struct cmd_entry cmd_keygen_entry = {
	.name = "keygen",
	.opts = OPTS,
	.longopts = longopts,
	.lower = 1,
	.upper = 1,
	.usage = usage,
	.exec = keygen,
};
