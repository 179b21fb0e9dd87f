/*
 * cosigned.c: "sumdbd verify-cosigned": whether a checkpoint (a file,
 * or a checksum database's /latest) is signed by the log's key and
 * cosigned (c2sp.org/tlog-cosignature) by at least K of the given
 * witnesses: the policy a client that cares about split views applies
 * before it trusts a checkpoint.  Exit 0 when it holds, 1 when it does
 * not, 2 on usage or runtime errors.
 */

#include <event2/buffer.h>

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define OPTS		"hq:w:"
#define WITNESSES_MAX	63
#define NOTE_GET_MAX	(1 << 20)

static const struct option longopts[] = {
	{ "quorum", required_argument, NULL, 'q' },
	{ "witness", required_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd verify-cosigned [-q K] -w WITNESSKEY [-w ...] "
	    "LOGKEY FILE|URL\n"
	    "  Check that the checkpoint in FILE, or at URL/latest (a "
	    "checksum\n"
	    "  database), is signed by LOGKEY and cosigned by at least K "
	    "of the\n"
	    "  witnesses (cosignature/v1 verifier keys; K defaults to all "
	    "of them).\n"
	    "  Exit 0 when it is, 1 when it is not, 2 on errors.\n");
}

/* The checkpoint at src: a URL's /latest, or a file. 0 or -1. */
static int
read_note(struct env *env, const char *src, struct evbuffer *out)
{
	char	 url[4096], err[512];
	int	 fd, st;

	if (strncmp(src, "http://", 7) == 0 ||
	    strncmp(src, "https://", 8) == 0) {
		snprintf(url, sizeof(url), "%s%slatest", src,
		    src[strlen(src) - 1] == '/' ? "" : "/");
		err[0] = '\0';
		if (fetch_client_init(env) != 0)
			return -1;
		st = fetch_wait(env, url, NOTE_GET_MAX, 30000, out, err,
		    sizeof(err));
		fetch_client_free(env);
		if (st != 200) {
			log_warnx("verify-cosigned: %s: %s", url, st > 0 ?
			    "not 200" : err);
			return -1;
		}
		return 0;
	}
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    evbuffer_read(out, fd, NOTE_GET_MAX) < 0) {
		log_warn("verify-cosigned: '%s'", src);
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
verify_cosigned(struct env *env, int argc, char **argv)
{
	struct note_verifier	*v = NULL;
	struct evbuffer		*b = NULL;
	struct tlog_tree	 t;
	struct note		 n;
	size_t			 nv = 1, i, k, olen;
	long			 quorum = -1;
	char			*end;
	int			 ch, r, rv = 2;

	if ((v = calloc(1 + WITNESSES_MAX, sizeof(*v))) == NULL) {
		log_warn("calloc");
		return 2;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, OPTS, longopts, NULL)) != -1) {
		if (ch == 'q') {
			quorum = strtol(optarg, &end, 10);
			if (*end != '\0' || quorum < 1 ||
			    quorum > WITNESSES_MAX) {
				log_warnx("verify-cosigned: -q %s: want 1 to "
				    "%d", optarg, WITNESSES_MAX);
				goto done;
			}
		} else if (ch == 'w') {
			if (nv == 1 + WITNESSES_MAX ||
			    note_cosigner_parse(optarg, strlen(optarg),
			    &v[nv]) != 0) {
				log_warnx("verify-cosigned: -w '%s': not a "
				    "witness's cosignature/v1 key", optarg);
				goto done;
			}
			nv++;
		}
	}
	argv += optind;
	if (nv == 1 || (quorum > 0 && (size_t)quorum > nv - 1)) {
		usage(stderr);
		goto done;
	}
	if (quorum < 0)
		quorum = (long)(nv - 1);
	if (note_verifier_parse(argv[0], strlen(argv[0]), &v[0]) != 0) {
		log_warnx("verify-cosigned: '%s': not a log's verifier key",
		    argv[0]);
		goto done;
	}
	if ((b = evbuffer_new()) == NULL || read_note(env, argv[1], b) != 0)
		goto done;
	r = note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), v, nv,
	    &n);
	if (r != 0 || !(n.verified & 1) || tlog_parse_checkpoint(n.text,
	    n.textlen, &olen, &t) != 0) {
		printf("verify-cosigned: %s: %s\n", argv[1], r == SUMDB_ESIG ||
		    (r == 0 && !(n.verified & 1)) ? "not signed by the log's "
		    "key (or a signature does not verify)" :
		    "not a signed checkpoint");
		rv = 1;
		goto done;
	}
	for (i = 1, k = 0; i < nv; i++)
		k += (n.verified >> i) & 1;
	printf("verify-cosigned: tree %lld: %zu of %zu witnesses cosigned "
	    "(%ld wanted)", (long long)t.n, k, nv - 1, quorum);
	for (i = 1; i < nv; i++)
		if ((n.verified >> i) & 1)
			printf(" %s", v[i].name);
	printf("\n");
	rv = k >= (size_t)quorum ? 0 : 1;
 done:
	if (b != NULL)
		evbuffer_free(b);
	free(v);
	return rv;
}

const struct cmd_entry cmd_verify_cosigned_entry = {
	.name = "verify-cosigned",
	.opts = OPTS,
	.longopts = longopts,
	.lower = 2,
	.upper = 2,
	.usage = usage,
	.exec = verify_cosigned,
};
