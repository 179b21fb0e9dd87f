/*
 * fsck.c: "sumdbd fsck": recompute everything stored and report each
 * problem.  Per database: SQLite's own integrity (which covers the
 * (module, version) uniqueness index); every record against its
 * columns and its leaf hash (in the stored hashes of the private log,
 * in the level-0 tiles of a mirror); the private log's stored hashes
 * and tiles recomputed from its records; every checkpoint's signature,
 * note and root; and every consistency proof in the trust base chain.
 * The private log's public records (paths outside [log] private): one
 * with provenance must be byte for byte the mirror record its row
 * names, in a stored trust base of that mirror that holds it; one
 * without (trust on first use: public = goproxy, or admitted before
 * public = NAME) is compared with each mirror's verified record of the
 * same module version, and every difference is a problem.  The
 * witness's state: per [witness-log], the checkpoint it last cosigned
 * carries a valid signature of the log and the witness's own
 * cosignature, and its size and root are the ones stored with it.
 */

#include <event2/buffer.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "store.h"

struct fsck {
	struct env		*env;
	const char		*name;
	int64_t			 log;
	int			 private;
	struct note_verifier	 v;
	int64_t			 nrec;		/* records seen, in order */
	int64_t			 next;		/* the id expected next */
	struct hasharray	 ha;		/* recomputed hashes */
	int64_t			 caph;
	struct evbuffer		*buf;
	struct evbuffer		*tile0;		/* a mirror's level-0 tile */
	int64_t			 tile0n;	/* which, or -1 */
	int64_t			 prevsize;	/* previous checkpoint */
	uint8_t			 prevroot[SUMDB_HASH_SIZE];
	int			 problems;
	/* The private log's public records. */
	int64_t			 mlog[CONFIG_MIRRORS_MAX]; /* mirrors' logs */
	int64_t			 checked[CONFIG_MIRRORS_MAX];
	int64_t			 differ[CONFIG_MIRRORS_MAX];
	int64_t			 prov;		/* with provenance */
	int64_t			 tofu;		/* without */
};

static void
problem(struct fsck *f, const char *fmt, ...)
{
	va_list	 ap;

	printf("fsck: %s: ", f->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	f->problems++;
}

/* "h1:ZIP go.mod h1:MOD" of record text, or "a malformed record". */
static void
hashes(const uint8_t *text, size_t len, char *buf, size_t size)
{
	struct record	 r;

	if (record_parse(text, len, &r) != 0)
		snprintf(buf, size, "a malformed record");
	else
		snprintf(buf, size, "%.*s go.mod %.*s", (int)r.ziphashlen,
		    r.ziphash, (int)r.modhashlen, r.modhash);
}

/*
 * Record id has a provenance row: record upid of log up, in its trust
 * base of size uptree.  That record must be stored with the same bytes,
 * upid < uptree, and the trust base a stored checkpoint.
 */
static void
check_provenance(struct fsck *f, int64_t id, const uint8_t *text,
    size_t len, int64_t up, int64_t upid, int64_t uptree)
{
	struct store	*st = f->env->st;
	uint8_t		 root[SUMDB_HASH_SIZE];
	char		 name[SUMDB_NAME_MAX + 1];

	f->prov++;
	if (store_log_name(st, up, name, sizeof(name)) != 1) {
		problem(f, "record %lld: its provenance names log %lld, which "
		    "the store does not have", (long long)id, (long long)up);
		return;
	}
	evbuffer_drain(f->buf, evbuffer_get_length(f->buf));
	if (store_record(st, up, upid, f->buf) != 1)
		problem(f, "record %lld: its provenance names %s record %lld, "
		    "which is not stored", (long long)id, name,
		    (long long)upid);
	else if (evbuffer_get_length(f->buf) != len ||
	    memcmp(evbuffer_pullup(f->buf, -1), text, len) != 0)
		problem(f, "record %lld: its text is not that of %s record "
		    "%lld, which its provenance names", (long long)id, name,
		    (long long)upid);
	if (upid >= uptree)
		problem(f, "record %lld: its provenance puts %s record %lld in "
		    "tree %lld, which does not hold it", (long long)id, name,
		    (long long)upid, (long long)uptree);
	else if (store_checkpoint(st, up, uptree, NULL, root) != 1)
		problem(f, "record %lld: its provenance names %s's tree %lld, "
		    "which is not a stored checkpoint", (long long)id, name,
		    (long long)uptree);
}

/*
 * Record id, public and without provenance, against mirror k's
 * verified record of path@version, where it has one: any difference is
 * loud, with both records' hashes.
 */
static void
compare_mirror(struct fsck *f, int k, int64_t id, const char *path,
    const char *version, const uint8_t *text, size_t len)
{
	const char	*mname = f->env->conf.mirrors[k].name;
	char		 ours[256], theirs[256];
	int64_t		 mid;
	int		 r;

	evbuffer_drain(f->buf, evbuffer_get_length(f->buf));
	if ((r = store_lookup(f->env->st, f->mlog[k], path, version, &mid,
	    f->buf)) != 1) {
		if (r < 0)
			problem(f, "record %lld: looking it up in %s: %s",
			    (long long)id, mname, store_errmsg(f->env->st));
		return;
	}
	f->checked[k]++;
	if (evbuffer_get_length(f->buf) == len &&
	    memcmp(evbuffer_pullup(f->buf, -1), text, len) == 0)
		return;
	f->differ[k]++;
	hashes(text, len, ours, sizeof(ours));
	hashes(evbuffer_pullup(f->buf, -1), evbuffer_get_length(f->buf),
	    theirs, sizeof(theirs));
	problem(f, "MISMATCH %s@%s: record %lld, admitted on first use "
	    "without provenance, has %s; mirror %s's verified record %lld "
	    "has %s", path, version, (long long)id, ours, mname,
	    (long long)mid, theirs);
}

/* The checks of a private log's record as a public record. */
static void
check_public(struct fsck *f, int64_t id, const char *path,
    const char *version, const uint8_t *text, size_t len)
{
	int64_t	 up, upid, uptree;
	int	 k, r;

	if ((r = store_provenance(f->env->st, f->log, id, &up, &upid,
	    &uptree)) == 1) {
		check_provenance(f, id, text, len, up, upid, uptree);
		return;
	}
	if (r < 0)
		problem(f, "record %lld: its provenance: %s", (long long)id,
		    store_errmsg(f->env->st));
	if (r < 0 || path[0] == '#' ||
	    config_log_route(&f->env->conf, path) == ROUTE_PRIVATE)
		return;
	f->tofu++;
	for (k = 0; k < f->env->conf.nmirrors; k++)
		compare_mirror(f, k, id, path, version, text, len);
}

/* A provenance row must belong to a record of the log. */
static int
check_row(void *arg, int64_t id, int64_t up, int64_t upid, int64_t uptree)
{
	struct fsck	*f = arg;

	(void)up;
	(void)upid;
	(void)uptree;
	if (id < 0 || id >= f->nrec)
		problem(f, "provenance of record %lld: the log has no such "
		    "record", (long long)id);
	return 0;
}

/* What the public records came to, after the records line. */
static void
public_summary(struct fsck *f)
{
	const struct config	*c = &f->env->conf;
	int			 k;

	if (f->prov + f->tofu == 0)
		return;
	printf("fsck: %s: public records with provenance: %lld\n", f->name,
	    (long long)f->prov);
	printf("fsck: %s: public records without provenance: %lld (trust on "
	    "first use)", f->name, (long long)f->tofu);
	for (k = 0; k < c->nmirrors; k++)
		printf(", %lld checked against mirror %s, %lld mismatch%s",
		    (long long)f->checked[k], c->mirrors[k].name,
		    (long long)f->differ[k], f->differ[k] == 1 ? "" : "es");
	printf("%s\n", c->nmirrors == 0 ? ", no mirror to check them "
	    "against" : "");
}

static int
check_record(void *arg, int64_t id, const char *path, const char *version,
    const uint8_t *text, size_t len)
{
	struct fsck		*f = arg;
	struct tlog_hash_reader	 hr;
	struct record		 rec;
	uint8_t			 leaf[SUMDB_HASH_SIZE], add[65][SUMDB_HASH_SIZE];
	uint8_t			 stored[1][SUMDB_HASH_SIZE];
	int64_t			 idx;
	int			 m, k;

	tiles_array_hash_reader(&f->ha, &hr);
	f->nrec++;
	if (text == NULL || !record_text_valid(text, len)) {
		problem(f, "record %lld: malformed text", (long long)id);
		return 0;
	}
	if (path[0] != '#' &&
	    record_parse_of(text, len, path, version, &rec) != 0)
		problem(f, "record %lld: its text is not %s@%s", (long long)id,
		    path, version);
	tlog_record_hash(text, len, leaf);
	if (!f->private) {
		/* A mirror: the leaf in its level-0 tile, when stored. */
		if (f->tile0n != id >> 8) {
			evbuffer_drain(f->tile0, evbuffer_get_length(f->tile0));
			if (store_tile(f->env->st, f->log, 0, id >> 8, f->tile0) !=
			    1)
				evbuffer_drain(f->tile0,
				    evbuffer_get_length(f->tile0));
			f->tile0n = id >> 8;
		}
		if (evbuffer_get_length(f->tile0) >= (size_t)((id & 255) + 1) *
		    SUMDB_HASH_SIZE && memcmp(evbuffer_pullup(f->tile0, -1) +
		    (id & 255) * SUMDB_HASH_SIZE, leaf, SUMDB_HASH_SIZE) != 0)
			problem(f, "record %lld: its hash is not the one in "
			    "tile 0/%lld", (long long)id, (long long)(id >> 8));
		return 0;
	}
	check_public(f, id, path, version, text, len);
	/* The private log: records are dense, and rebuild every hash. */
	if (id != f->next) {
		problem(f, "records %lld to %lld are missing",
		    (long long)f->next, (long long)id - 1);
		return 1;	/* the hashes cannot be rebuilt past a gap */
	}
	f->next++;
	if ((m = tlog_stored_hashes_for_record(id, leaf, &hr, add)) < 0)
		return 1;
	if (f->ha.n + m > f->caph) {
		f->caph = (f->ha.n + m) * 2;
		if ((f->ha.h = reallocarray(f->ha.h, f->caph,
		    sizeof(*f->ha.h))) == NULL)
			return 1;
	}
	for (k = 0; k < m; k++) {
		memcpy(f->ha.h[f->ha.n], add[k], SUMDB_HASH_SIZE);
		idx = f->ha.n++;
		if (store_read_hashes(f->env->st, f->log, &idx, 1, stored) !=
		    0)
			problem(f, "stored hash %lld is missing",
			    (long long)idx);
		else if (memcmp(stored[0], add[k], SUMDB_HASH_SIZE) != 0)
			problem(f, "stored hash %lld differs from the one its "
			    "records give%s", (long long)idx, k == 0 ?
			    " (the record's own leaf)" : "");
	}
	return 0;
}

static int
check_checkpoint(void *arg, int64_t size, const uint8_t *root,
    const uint8_t *note, size_t notelen, int64_t prev, const uint8_t *proof,
    size_t prooflen)
{
	struct fsck		*f = arg;
	struct tlog_hash_reader	 hr;
	struct tiles		 ts;
	struct note		 n;
	struct tlog_tree	 t, prevt, cur;
	uint8_t			 h[SUMDB_HASH_SIZE];
	int			 r;

	tiles_array_hash_reader(&f->ha, &hr);
	if (root == NULL || note == NULL) {
		problem(f, "checkpoint %lld: malformed row", (long long)size);
		return 0;
	}
	if (note_open(note, notelen, &f->v, 1, &n) != 0 ||
	    tlog_parse_tree(n.text, n.textlen, &t) != 0) {
		problem(f, "checkpoint %lld: its note does not verify under "
		    "%s's key", (long long)size, f->name);
		return 0;
	}
	if (t.n != size || memcmp(t.hash, root, SUMDB_HASH_SIZE) != 0)
		problem(f, "checkpoint %lld: its columns are not its note's",
		    (long long)size);
	if (f->private) {
		if (size <= f->next && tlog_tree_hash(size, &hr, h) == 0 &&
		    memcmp(h, t.hash, SUMDB_HASH_SIZE) != 0)
			problem(f, "checkpoint %lld: its root is not the one "
			    "its records give", (long long)size);
	} else {
		/* The root from the stored tiles, where they are all there. */
		tiles_store_init(&ts, f->env->st, f->log);
		r = tiles_hashes(&ts, &t, NULL, 0, NULL);
		tiles_free(&ts);
		if (r == SUMDB_EPROOF)
			problem(f, "checkpoint %lld: the stored tiles do not "
			    "give its root", (long long)size);
	}
	/* The chain: each trust base proven to extend the previous. */
	prevt.n = prev;
	memcpy(prevt.hash, f->prevroot, SUMDB_HASH_SIZE);
	cur.n = size;
	memcpy(cur.hash, t.hash, SUMDB_HASH_SIZE);
	if (prev >= 0) {
		if (prev != f->prevsize)
			problem(f, "checkpoint %lld: its proof starts at %lld, "
			    "not at the previous checkpoint %lld",
			    (long long)size, (long long)prev,
			    (long long)f->prevsize);
		else if (prev > 0 && (prooflen % SUMDB_HASH_SIZE != 0 ||
		    trust_check(&prevt, &cur,
		    (const uint8_t (*)[SUMDB_HASH_SIZE])proof,
		    prooflen / SUMDB_HASH_SIZE) != 0))
			problem(f, "checkpoint %lld: the consistency proof from "
			    "%lld does not verify", (long long)size,
			    (long long)prev);
	} else if (f->prevsize > 0)
		problem(f, "checkpoint %lld: no proof links it to checkpoint "
		    "%lld", (long long)size, (long long)f->prevsize);
	f->prevsize = size;
	memcpy(f->prevroot, t.hash, SUMDB_HASH_SIZE);
	return 0;
}

static void
integrity(void *arg, const char *msg)
{
	struct fsck	*f = arg;

	problem(f, "SQLite: %s", msg);
}

static int
check_db(struct env *env, const char *name, int private,
    const struct note_verifier *v, int *problems)
{
	struct fsck	 f;
	int		 k, rv = -1;

	memset(&f, 0, sizeof(f));
	f.env = env;
	f.name = name;
	f.private = private;
	f.v = *v;
	if (store_log(env->st, name, private ? "private" : "mirror", &f.log) !=
	    0 || (f.buf = evbuffer_new()) == NULL ||
	    (f.tile0 = evbuffer_new()) == NULL)
		goto done;
	f.tile0n = -1;
	for (k = 0; private && k < env->conf.nmirrors; k++)
		if (store_log(env->st, env->conf.mirrors[k].name, "mirror",
		    &f.mlog[k]) != 0)
			goto done;
	if (store_each_record(env->st, f.log, check_record, &f) < 0 ||
	    store_each_checkpoint(env->st, f.log, check_checkpoint, &f) < 0 ||
	    (private && store_each_provenance(env->st, f.log, check_row,
	    &f) < 0))
		goto done;
	printf("fsck: %s: %lld records, %d problem%s\n", name,
	    (long long)f.nrec, f.problems, f.problems == 1 ? "" : "s");
	public_summary(&f);
	*problems += f.problems;
	rv = 0;
 done:
	if (rv != 0)
		log_warnx("fsck: %s: %s", name, store_errmsg(env->st));
	if (f.buf != NULL)
		evbuffer_free(f.buf);
	if (f.tile0 != NULL)
		evbuffer_free(f.tile0);
	free(f.ha.h);
	return rv;
}

/* The witness's state of each log it witnesses. */
static int
check_witness(struct env *env, int *problems)
{
	const struct config	*c = &env->conf;
	struct note_signer	*s;
	struct note_verifier	 v[1 + CONFIG_URLS_MAX];
	struct evbuffer		*b = NULL;
	struct note		 n;
	struct tlog_tree	 t;
	uint8_t			 root[SUMDB_HASH_SIZE];
	int64_t			 size;
	size_t			 olen;
	int			 i, k, r, bad, rv = -1;

	if (c->witness_name == NULL)
		return 0;
	if ((s = env_load_key(c->witness_key, NOTE_COSIG_V1)) == NULL)
		return -1;
	note_signer_verifier(s, &v[0]);
	note_signer_free(s);
	if ((b = evbuffer_new()) == NULL)
		goto done;
	for (i = 0; i < c->nwlogs; i++) {
		for (k = 0; k < c->wlogs[i].nkeys; k++)
			if (note_verifier_parse(c->wlogs[i].keys[k],
			    strlen(c->wlogs[i].keys[k]), &v[1 + k]) != 0) {
				log_warnx("fsck: [witness-log %s]: bad key",
				    c->wlogs[i].name);
				goto done;
			}
		evbuffer_drain(b, evbuffer_get_length(b));
		if ((r = store_witness_get(env->st, c->wlogs[i].name, &size,
		    root, b)) < 0) {
			log_warnx("fsck: witness: %s", store_errmsg(env->st));
			goto done;
		}
		if (r == 0)
			continue;
		bad = 0;
		if (note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b),
		    v, 1 + k, &n) != 0 || !(n.verified & 1) || n.nverified < 2)
			bad = printf("fsck: witness: '%s': the checkpoint lacks "
			    "a valid signature of the log or the witness\n",
			    c->wlogs[i].name);
		else if (tlog_parse_checkpoint(n.text, n.textlen, &olen,
		    &t) != 0 || olen != strlen(config_wlog_origin(
		    &c->wlogs[i])) || memcmp(n.text, config_wlog_origin(
		    &c->wlogs[i]), olen) != 0 ||
		    t.n != size || memcmp(t.hash, root, sizeof(root)) != 0)
			bad = printf("fsck: witness: '%s': the checkpoint is "
			    "not the size and root stored\n",
			    c->wlogs[i].name);
		printf("fsck: witness: '%s' at %lld, %d problem%s\n",
		    c->wlogs[i].name, (long long)size, bad != 0,
		    bad != 0 ? "" : "s");
		*problems += bad != 0;
	}
	rv = 0;
 done:
	if (b != NULL)
		evbuffer_free(b);
	return rv;
}

static void
usage(FILE *f)
{
	/* The explanation only for -h, as before. */
	fprintf(f, "usage: sumdbd fsck [-c FILE]\n");
	if (f == stdout)
		printf("  Recompute everything the store holds and report "
		    "each problem;\n  exit 0 when there is none, 1 "
		    "when there is one, 2 on errors.\n");
}

static int
fsck(struct env *env, int argc, char **argv)
{
	struct note_verifier	 v;
	struct fsck		 top;
	int			 i, problems = 0, rv = 2;

	(void)argc;
	(void)argv;
	memset(&top, 0, sizeof(top));
	top.name = "store";
	if (store_integrity(env->st, integrity, &top) < 0)
		goto done;
	problems += top.problems;
	if (env->conf.log_name != NULL) {
		if (env_open_log(env) != 0 ||
		    check_db(env, env->log->name, 1, &env->log->vkey,
		    &problems) != 0)
			goto done;
	}
	for (i = 0; i < env->conf.nmirrors; i++) {
		if (note_verifier_parse(env->conf.mirrors[i].key,
		    strlen(env->conf.mirrors[i].key), &v) != 0 ||
		    check_db(env, env->conf.mirrors[i].name, 0, &v,
		    &problems) != 0)
			goto done;
	}
	if (check_witness(env, &problems) != 0)
		goto done;
	rv = problems > 0 ? 1 : 0;
 done:
	return rv;
}

const struct cmd_entry cmd_fsck_entry = {
	.name = "fsck",
	.opts = "c:h",
	.upper = -1,
	.flags = NEED_CONFIG | NEED_STORE,
	.usage = usage,
	.exec = fsck,
};
