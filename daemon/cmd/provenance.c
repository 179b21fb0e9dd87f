/*
 * provenance.c: "sumdbd provenance MODULE@VERSION": export the proof
 * that a public record of the private log is byte for byte the record
 * of the mirror it was admitted from, checkable with golang.org/x/mod
 * alone (tests/xmodref provenance does) given the two verifier keys:
 * the private log's record, its inclusion proof and the log's signed
 * checkpoint, then the mirror's record (from the provenance row), its
 * inclusion proof read from the mirror's stored tiles and the mirror's
 * signed checkpoint that proof is for.  The format, one part per log:
 *
 *	sumdbd provenance 1\n
 *	module PATH VERSION\n
 *	log NAME VKEY\n			the private log
 *	record ID LEN\n<LEN bytes: the record text>
 *	proof N\n<N lines: a hash, standard base64>
 *	checkpoint LEN\n<LEN bytes: the signed tree note>
 *	upstream NAME VKEY\n		the mirror, e.g. sum.golang.org
 *	record ID LEN\n<text>	proof N\n<hashes>	checkpoint LEN\n<note>
 *
 * A proof is tlog's RecordProof of record ID in the checkpoint's tree,
 * leaf's sibling first.  The mirror's tree is the trust base named by
 * the provenance row, or its newest checkpoint when the stored tiles
 * cannot prove the record in that one (a lazy mirror keeps only the
 * tiles it read).
 */

#include <event2/buffer.h>

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"

#define OPTS	"c:ho:"

/* One log's part of an export, read from the store. */
struct part {
	const char		*what;		/* "log" or "upstream" */
	char			 name[SUMDB_NAME_MAX + 1];
	char			 vkey[1024];
	int64_t			 log;		/* in the store */
	int64_t			 id;		/* the record */
	struct tlog_tree	 tree;		/* the checkpoint's */
	struct evbuffer		*text;
	struct evbuffer		*note;
	uint8_t			 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	size_t			 np;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd provenance [-c FILE] [-o FILE] MODULE@VERSION\n"
	    "  Export, for a public record of the private log admitted as a\n"
	    "  mirror's verified record, both records with their inclusion\n"
	    "  proofs and both signed checkpoints, so that anyone holding the\n"
	    "  two verifier keys can check with golang.org/x/mod that the\n"
	    "  texts are equal.  To -o FILE or stdout.  Exit 0, 1 when the\n"
	    "  version has no provenance or cannot be proven, 2 on errors.\n");
}

/* The part's text appended to out, in the format above. */
static int
put_part(struct evbuffer *out, const struct part *p)
{
	char	 b64[SUMDB_B64_SIZE(SUMDB_HASH_SIZE)];
	size_t	 i;

	if (evbuffer_add_printf(out, "%s %s %s\nrecord %lld %zu\n", p->what,
	    p->name, p->vkey, (long long)p->id,
	    evbuffer_get_length(p->text)) < 0 ||
	    evbuffer_add(out, evbuffer_pullup(p->text, -1),
	    evbuffer_get_length(p->text)) != 0 ||
	    evbuffer_add_printf(out, "proof %zu\n", p->np) < 0)
		return -1;
	for (i = 0; i < p->np; i++) {
		sumdb_b64_encode(p->proof[i], SUMDB_HASH_SIZE, b64);
		if (evbuffer_add_printf(out, "%s\n", b64) < 0)
			return -1;
	}
	if (evbuffer_add_printf(out, "checkpoint %zu\n",
	    evbuffer_get_length(p->note)) < 0 ||
	    evbuffer_add(out, evbuffer_pullup(p->note, -1),
	    evbuffer_get_length(p->note)) != 0)
		return -1;
	return 0;
}

/*
 * The inclusion proof of p's record in the mirror's checkpoint of size
 * tree, read from its stored tiles: 0, 1 when they cannot prove it, or
 * -1 on a store error.
 */
static int
prove_mirror(struct store *st, struct part *p, int64_t tree)
{
	struct tiles		 ts;
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	int			 r;

	evbuffer_drain(p->note, evbuffer_get_length(p->note));
	p->tree.n = tree;
	if ((r = store_checkpoint(st, p->log, tree, p->note,
	    p->tree.hash)) != 1)
		return r < 0 ? -1 : 1;
	tiles_store_init(&ts, st, p->log);
	tiles_hash_reader(&ts, &p->tree, &thr, &hr);
	r = tlog_prove_record(tree, p->id, &hr, p->proof, &p->np);
	tiles_free(&ts);
	return r == 0 ? 0 : 1;
}

/*
 * The mirror's part of record id (of path, mv being path@version) of
 * the private log, from its provenance row.  0, 1 with the reason
 * printed, or -1.
 */
static int
mirror_part(struct env *env, int64_t id, const char *path, const char *mv,
    struct part *p)
{
	struct store	*st = env->st;
	int64_t		 tree, newest = -1;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int		 i, r;

	if ((r = store_provenance(st, env->log->log, id, &p->log, &p->id,
	    &tree)) != 1) {
		if (r == 0)
			fprintf(stderr, "sumdbd provenance: %s: record %lld "
			    "has no provenance: %s\n", mv, (long long)id,
			    config_log_route(&env->conf, path) ==
			    ROUTE_PRIVATE ? "a [log] private path, hashed "
			    "from the GOPROXY" : "admitted on first use from "
			    "a GOPROXY ([log] public = goproxy, or before "
			    "public = NAME)");
		return r == 0 ? 1 : -1;
	}
	if (store_log_name(st, p->log, p->name, sizeof(p->name)) != 1)
		return -1;
	for (i = 0; i < env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, p->name) == 0)
			snprintf(p->vkey, sizeof(p->vkey), "%s",
			    env->conf.mirrors[i].key);
	if (p->vkey[0] == '\0') {
		fprintf(stderr, "sumdbd provenance: %s: its mirror '%s' is not "
		    "configured: its key is unknown\n", mv, p->name);
		return 1;
	}
	if (store_record(st, p->log, p->id, p->text) != 1)
		return -1;
	if ((r = prove_mirror(st, p, tree)) != 1)
		return r;
	if (store_latest(st, p->log, NULL, &newest, root) != 1)
		newest = tree;
	if (newest != tree && (r = prove_mirror(st, p, newest)) != 1)
		return r;
	fprintf(stderr, "sumdbd provenance: %s: the stored tiles of '%s' "
	    "cannot prove its record %lld in tree %lld%s\n", mv, p->name,
	    (long long)p->id, (long long)tree, newest != tree ?
	    " nor in its newest" : "");
	return 1;
}

/* The private log's part: record id, proven in its newest checkpoint. */
static int
log_part(struct env *env, const char *mv, struct part *p)
{
	struct tiles		 ts;
	struct tlog_hash_reader	 hr;
	struct evbuffer		*k;
	int			 r;

	snprintf(p->name, sizeof(p->name), "%s", env->log->name);
	p->log = env->log->log;
	if ((k = evbuffer_new()) == NULL || note_verifier_format(
	    &env->log->vkey, k) != 0 || evbuffer_get_length(k) >=
	    sizeof(p->vkey)) {
		if (k != NULL)
			evbuffer_free(k);
		return -1;
	}
	evbuffer_remove(k, p->vkey, evbuffer_get_length(k));
	evbuffer_free(k);
	if (store_latest(env->st, p->log, p->note, &p->tree.n,
	    p->tree.hash) != 1 || p->id >= p->tree.n) {
		fprintf(stderr, "sumdbd provenance: %s: record %lld is not "
		    "signed yet\n", mv, (long long)p->id);
		return 1;
	}
	tiles_store_init(&ts, env->st, p->log);
	tiles_stored_hash_reader(&ts, &hr);
	r = tlog_prove_record(p->tree.n, p->id, &hr, p->proof, &p->np);
	tiles_free(&ts);
	return r == 0 ? 0 : -1;
}

/*
 * Find mv, path@version, in the private log; path[SUMDB_PATH_MAX] gets
 * the path.  0, 1 (the reason printed), or -1.
 */
static int
find(struct env *env, const char *mv, char *path, struct part *p)
{
	char	 version[SUMDB_PATH_MAX];
	char	*at = strrchr(mv, '@');
	int	 r;

	if (at == NULL || (size_t)(at - mv) >= SUMDB_PATH_MAX ||
	    strlen(at + 1) >= sizeof(version)) {
		fprintf(stderr, "sumdbd provenance: '%s': want "
		    "MODULE@VERSION\n", mv);
		return 1;
	}
	snprintf(path, SUMDB_PATH_MAX, "%.*s", (int)(at - mv), mv);
	snprintf(version, sizeof(version), "%s", at + 1);
	if ((r = store_lookup(env->st, env->log->log, path, version, &p->id,
	    p->text)) == 0)
		fprintf(stderr, "sumdbd provenance: %s: not in %s\n", mv,
		    env->log->name);
	return r == 1 ? 0 : r == 0 ? 1 : -1;
}

/* Write out to file (NULL: stdout).  0, or -1 with the reason logged. */
static int
write_out(struct evbuffer *out, const char *file)
{
	int	 fd = 1, rv = -1;

	if (file != NULL && (fd = open(file, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) == -1) {
		log_warn("'%s'", file);
		return -1;
	}
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0) {
			log_warn("'%s'", file != NULL ? file : "stdout");
			goto done;
		}
	rv = 0;
 done:
	if (file != NULL && close(fd) != 0 && rv == 0) {
		log_warn("'%s'", file);
		rv = -1;
	}
	return rv;
}

static int
provenance(struct env *env, int argc, char **argv)
{
	struct part	 org, up;
	struct evbuffer	*out = NULL;
	const char	*file = NULL, *mv;
	char		 path[SUMDB_PATH_MAX];
	int		 ch, r, rv = 2;

	memset(&org, 0, sizeof(org));
	memset(&up, 0, sizeof(up));
	optind = 0;
	while ((ch = getopt(argc, argv, OPTS)) != -1)
		if (ch == 'o')
			file = optarg;
	mv = argv[optind];
	org.what = "log";
	up.what = "upstream";
	if (env->log == NULL) {
		fprintf(stderr, "%s: no [log] section\n", env->confpath);
		goto done;
	}
	if ((org.text = evbuffer_new()) == NULL ||
	    (org.note = evbuffer_new()) == NULL ||
	    (up.text = evbuffer_new()) == NULL ||
	    (up.note = evbuffer_new()) == NULL ||
	    (out = evbuffer_new()) == NULL)
		goto done;
	if ((r = find(env, mv, path, &org)) != 0 ||
	    (r = mirror_part(env, org.id, path, mv, &up)) != 0 ||
	    (r = log_part(env, mv, &org)) != 0) {
		rv = r > 0 ? 1 : 2;
		goto done;
	}
	if (evbuffer_get_length(org.text) != evbuffer_get_length(up.text) ||
	    memcmp(evbuffer_pullup(org.text, -1), evbuffer_pullup(up.text, -1),
	    evbuffer_get_length(up.text)) != 0) {
		fprintf(stderr, "sumdbd provenance: %s: record %lld is not "
		    "%s's record %lld: run sumdbd fsck\n", mv,
		    (long long)org.id, up.name, (long long)up.id);
		rv = 1;
		goto done;
	}
	if (evbuffer_add_printf(out, "sumdbd provenance 1\nmodule %s %s\n",
	    path, mv + strlen(path) + 1) < 0 ||
	    put_part(out, &org) != 0 || put_part(out, &up) != 0 ||
	    write_out(out, file) != 0)
		goto done;
	rv = 0;
 done:
	if (rv == 2)
		log_warnx("provenance: %s", env->st != NULL ?
		    store_errmsg(env->st) : "out of memory");
	if (out != NULL)
		evbuffer_free(out);
	if (org.text != NULL)
		evbuffer_free(org.text);
	if (org.note != NULL)
		evbuffer_free(org.note);
	if (up.text != NULL)
		evbuffer_free(up.text);
	if (up.note != NULL)
		evbuffer_free(up.note);
	return rv;
}

const struct cmd_entry cmd_provenance_entry = {
	.name = "provenance",
	.opts = OPTS,
	.lower = 1,
	.upper = 1,
	.flags = NEED_CONFIG | NEED_STORE | NEED_LOG,
	.usage = usage,
	.exec = provenance,
};
