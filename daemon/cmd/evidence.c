/*
 * evidence.c: "sumdbd evidence list | show ID | export ID FILE": what
 * the mirrors refused, with the raw bytes, the source and the time.  An
 * export is self-contained: the database's key, both signed notes and
 * the proof material, so a third party can check the misbehaviour with
 * golang.org/x/mod alone (tests/xmodref checkevidence does).  "privacy"
 * lists the client addresses that asked a mirror for private paths.
 *
 *	sumdbd evidence 1\n
 *	kind KIND\n	db NAME\n	key VKEY\n
 *	source URL\n	time UNIX\n	detail TEXT\n
 *	old LEN\n<our note>		new LEN\n<their note>
 *	material LEN\n<bytes: for a fork of another size, the new tree's
 *		hash at our size, then the proof it is in the new tree>
 */

#include <event2/buffer.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: sumdbd evidence [-c FILE] list | show ID | "
	    "export ID FILE | privacy\n");
}

struct ev {
	struct env	*env;
	int		 mode;		/* 0 list, 1 show, 2 export, 3 privacy */
	struct evbuffer	*out;
	int		 n;
};

/* Seconds since the epoch as an ISO 8601 UTC time in buf[32]. */
static const char *
utc(int64_t secs, char buf[32])
{
	time_t		 t = (time_t)secs;
	struct tm	 tm;

	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return buf;
}

static const char *
key_of(struct env *env, const char *name, char *buf, size_t size)
{
	int	 i;

	for (i = 0; i < env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, name) == 0) {
			snprintf(buf, size, "%s", env->conf.mirrors[i].key);
			return buf;
		}
	return NULL;
}

static int
each(void *arg, int64_t id, const char *db, const char *kind,
    const char *source, int64_t created, const char *detail,
    const struct store_blob *b)
{
	struct ev	*e = arg;
	char		 when[32], key[1024];
	const char	*names[3] = { "old", "new", "material" };
	int		 k;

	e->n++;
	utc(created, when);
	if (e->mode == 0) {
		printf("%lld\t%s\t%s\t%s\t%s\t%s\n", (long long)id, when, db,
		    kind, source, detail);
		return 0;
	}
	if (e->mode == 1) {
		printf("evidence %lld\nwhen: %s\ndatabase: %s\nkind: %s\n"
		    "source: %s\ndetail: %s\n", (long long)id, when, db, kind,
		    source, detail);
		for (k = 0; k < 2; k++)
			if (b[k].p != NULL)
				printf("%s note:\n%.*s", k == 0 ? "our" : "their",
				    (int)b[k].len, (const char *)b[k].p);
		if (b[2].p != NULL)
			printf("material: %zu bytes\n", b[2].len);
		return 0;
	}
	evbuffer_add_printf(e->out, "sumdbd evidence 1\nkind %s\ndb %s\n"
	    "key %s\nsource %s\ntime %lld\ndetail %s\n", kind, db,
	    key_of(e->env, db, key, sizeof(key)) != NULL ? key : "-",
	    source, (long long)created, detail);
	for (k = 0; k < 3; k++) {
		evbuffer_add_printf(e->out, "%s %zu\n", names[k],
		    b[k].p != NULL ? b[k].len : 0);
		if (b[k].p != NULL)
			evbuffer_add(e->out, b[k].p, b[k].len);
	}
	return 0;
}

/* A privacy row: who asked a mirror for private paths. */
static int
privacy_row(void *arg, const char *db, const char *addr, int64_t count,
    int64_t first, int64_t last, const char *path)
{
	char		 t0[32], t1[32];

	(void)arg;
	printf("%s\t%s\t%lld\t%s\t%s\t%s\n", db, addr, (long long)count,
	    utc(first, t0), utc(last, t1), path);
	return 0;
}

static int
evidence(struct env *env, int argc, char **argv)
{
	struct ev	 e;
	int64_t		 id = -1;
	int		 fd = -1, rv = 2, want;

	memset(&e, 0, sizeof(e));
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		e.mode = 0;
	else if (argc == 1 && strcmp(argv[0], "privacy") == 0)
		e.mode = 3;
	else if (argc == 2 && strcmp(argv[0], "show") == 0)
		e.mode = 1;
	else if (argc == 3 && strcmp(argv[0], "export") == 0)
		e.mode = 2;
	else {
		usage(stderr);
		return 2;
	}
	if (e.mode > 0 && e.mode < 3 && sumdb_parse_int64(argv[1], strlen(argv[1]), &id) !=
	    0) {
		fprintf(stderr, "sumdbd evidence: '%s' is not an id\n", argv[1]);
		return 2;
	}
	e.env = env;
	if (e.mode == 3) {
		if (store_each_privacy(env->st, privacy_row, NULL) != 0) {
			log_warnx("privacy: %s", store_errmsg(env->st));
			goto done;
		}
		rv = 0;
		goto done;
	}
	if ((e.out = evbuffer_new()) == NULL)
		goto done;
	want = store_each_evidence(env->st, id, each, &e);
	if (want < 0) {
		log_warnx("evidence: %s", store_errmsg(env->st));
		goto done;
	}
	if (e.mode > 0 && e.n == 0) {
		fprintf(stderr, "sumdbd evidence: no evidence %lld\n",
		    (long long)id);
		rv = 1;
		goto done;
	}
	if (e.mode == 2) {
		if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1) {
			log_warn("'%s'", argv[2]);
			goto done;
		}
		while (evbuffer_get_length(e.out) > 0)
			if (evbuffer_write(e.out, fd) <= 0) {
				log_warn("'%s'", argv[2]);
				goto done;
			}
	}
	rv = 0;
 done:
	if (fd != -1)
		close(fd);
	if (e.out != NULL)
		evbuffer_free(e.out);
	return rv;
}

const struct cmd_entry cmd_evidence_entry = {
	.name = "evidence",
	.opts = "c:h",
	.lower = 1,
	.upper = 3,
	.flags = NEED_CONFIG | NEED_STORE,
	.usage = usage,
	.exec = evidence,
};
