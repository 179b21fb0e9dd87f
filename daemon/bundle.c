/*
 * bundle.c: differential bundles, everything between two trust bases of
 * one log in one file, so that an offline site can take it across an
 * air gap and verify every byte: `sumdbd export` writes one, `sumdbd
 * import` checks it against the importer's own newest trust base and
 * stores it in one transaction, or writes nothing.
 *
 * The format (also in README.md): a text header, then length-prefixed
 * sections, then the SHA-256 of all that precedes it:
 *
 *	sumdbd bundle 1\n
 *	db NAME\n
 *	from N\n		to M\n
 *	note LEN\n<from note>	(LEN 0 when N is 0)
 *	note LEN\n<to note>
 *	proof K\n<K base64 hashes, one per line>
 *	records FIRST COUNT\n	then COUNT times: LEN\n<record text>
 *	tiles COUNT\n		then COUNT times: PATH LEN\n<tile bytes>
 *	end <hex sha256>\n
 */

#include <event2/buffer.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"

#define BUNDLE_MAGIC	"sumdbd bundle 1\n"
#define BUNDLE_MAX	((size_t)4 << 30)

/* The database called name, without the daemon: its log id and key. */
static int
find_db(struct env *env, const char *name, int64_t *log,
    struct note_verifier *v)
{
	int	 i;

	for (i = 0; i < env->conf.nmirrors; i++)
		if (strcmp(env->conf.mirrors[i].name, name) == 0) {
			if (note_verifier_parse(env->conf.mirrors[i].key,
			    strlen(env->conf.mirrors[i].key), v) != 0)
				return -1;
			return store_log(env->st, name, "mirror", log);
		}
	if (env->conf.log_name != NULL && strcmp(env->conf.log_name, name) ==
	    0) {
		if (env_open_log(env, 0) != 0)
			return -1;
		*v = env->log->vkey;
		*log = env->log->log;
		return 0;
	}
	return -1;
}

/* Append a stored tile to the bundle being written. */
struct addtile {
	struct evbuffer	*out, *tmp;
	struct store	*st;
	int64_t		 log;
};

static int
add_tile(void *arg, const struct tile *t)
{
	struct addtile	*a = arg;
	char		 path[SUMDB_TILE_PATH_MAX];
	size_t		 need = (size_t)t->w * SUMDB_HASH_SIZE;

	evbuffer_drain(a->tmp, evbuffer_get_length(a->tmp));
	if (tile_format(t, path, sizeof(path)) < 0 ||
	    store_tile(a->st, a->log, t->l, t->n, a->tmp) != 1 ||
	    evbuffer_get_length(a->tmp) < need)
		return -1;
	if (evbuffer_add_printf(a->out, "%s %zu\n", path, need) < 0 ||
	    evbuffer_add(a->out, evbuffer_pullup(a->tmp, -1), need) != 0)
		return -1;
	return 0;
}

static int
count_tile(void *arg, const struct tile *t)
{
	(void)t;
	(*(size_t *)arg)++;
	return 0;
}

int
bundle_write(struct store *st, int64_t log, const char *name, int64_t fromn,
    int64_t ton, struct evbuffer *out, char *err, size_t errsize)
{
	struct tiles		 ts;
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;
	struct trust_proof	 pf;
	struct tlog_tree	 to, from;
	struct evbuffer		*tmp = NULL, *note = NULL;
	struct addtile		 at;
	uint8_t			 sum[32];
	char			 b64[SUMDB_B64_SIZE(32)], hex[65];
	int64_t			 id;
	size_t			 ntiles = 0, i;
	int			 r, rv = -1;

	tiles_store_init(&ts, st, log);
	from.n = fromn;
	to.n = ton;
	if ((tmp = evbuffer_new()) == NULL || (note = evbuffer_new()) ==
	    NULL) {
		snprintf(err, errsize, "out of memory");
		goto done;
	}
	if (store_checkpoint(st, log, to.n, note, to.hash) != 1 ||
	    (from.n > 0 && store_checkpoint(st, log, from.n, tmp,
	    from.hash) != 1) || from.n > to.n || from.n < 0) {
		snprintf(err, errsize, "%lld and %lld must be trust bases of "
		    "'%s', in order", (long long)from.n, (long long)to.n, name);
		goto done;
	}
	tiles_hash_reader(&ts, &to, &thr, &hr);
	if ((r = trust_extends(&from, &to, &hr, &pf)) == TRUST_EREAD) {
		snprintf(err, errsize, "the tiles for the proof from %lld to "
		    "%lld are not stored", (long long)from.n, (long long)to.n);
		goto done;
	}
	if (r != 0) {
		snprintf(err, errsize, "trust bases %lld and %lld of '%s' are "
		    "not consistent: run sumdbd fsck", (long long)from.n,
		    (long long)to.n, name);
		goto done;
	}
	evbuffer_add_printf(out, BUNDLE_MAGIC "db %s\nfrom %lld\nto %lld\n"
	    "note %zu\n", name, (long long)from.n, (long long)to.n,
	    evbuffer_get_length(tmp));
	evbuffer_add_buffer(out, tmp);
	evbuffer_add_printf(out, "note %zu\n", evbuffer_get_length(note));
	evbuffer_add_buffer(out, note);
	evbuffer_add_printf(out, "proof %zu\n", pf.np);
	for (i = 0; i < pf.np; i++) {
		sumdb_b64_encode(pf.proof[i], SUMDB_HASH_SIZE, b64);
		evbuffer_add_printf(out, "%s\n", b64);
	}
	evbuffer_add_printf(out, "records %lld %lld\n", (long long)from.n,
	    (long long)(to.n - from.n));
	for (id = from.n; id < to.n; id++) {
		evbuffer_drain(tmp, evbuffer_get_length(tmp));
		if (store_record(st, log, id, tmp) != 1) {
			snprintf(err, errsize, "record %lld of '%s' is not "
			    "stored: a bundle needs every record (the private "
			    "log or a full mirror)", (long long)id, name);
			goto done;
		}
		evbuffer_add_printf(out, "%zu\n", evbuffer_get_length(tmp));
		evbuffer_add_buffer(out, tmp);
	}
	tile_new_tiles(SUMDB_TILE_HEIGHT, from.n, to.n, count_tile, &ntiles);
	evbuffer_add_printf(out, "tiles %zu\n", ntiles);
	at.out = out;
	at.tmp = tmp;
	at.st = st;
	at.log = log;
	if (tile_new_tiles(SUMDB_TILE_HEIGHT, from.n, to.n, add_tile, &at) !=
	    0) {
		snprintf(err, errsize, "a tile between %lld and %lld is not "
		    "stored", (long long)from.n, (long long)to.n);
		goto done;
	}
	crypto_hash_sha256(sum, evbuffer_pullup(out, -1),
	    evbuffer_get_length(out));
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	evbuffer_add_printf(out, "end %s\n", hex);
	rv = 0;
 done:
	if (tmp != NULL)
		evbuffer_free(tmp);
	if (note != NULL)
		evbuffer_free(note);
	tiles_free(&ts);
	return rv;
}

static void
export_usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd export [-c FILE] --db NAME [--from N] [--to M] "
	    "OUT\n"
	    "  Write the differential bundle of database NAME between its\n"
	    "  trust bases N (default 0: everything) and M (default the\n"
	    "  newest): both checkpoints, the consistency proof, the records\n"
	    "  and the tiles added.  It needs every record in between: the\n"
	    "  private log, or a full mirror.\n");
}

int
cmd_export(int argc, char **argv)
{
	static struct option	 longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct env		 env;
	struct note_verifier	 v;
	struct evbuffer		*out = NULL;
	const char		*conf = "/etc/sumdbd/sumdbd.conf", *name = NULL;
	uint8_t			 root[32];
	char			 err[1024];
	int64_t			 log, from = 0, to = -1;
	int			 ch, fd = -1, rv = 2;

	memset(&env, 0, sizeof(env));
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			name = optarg;
			break;
		case 'f':
			from = strtoll(optarg, NULL, 10);
			break;
		case 't':
			to = strtoll(optarg, NULL, 10);
			break;
		case 'h':
			export_usage(stdout);
			return 0;
		default:
			export_usage(stderr);
			return 2;
		}
	}
	if (name == NULL || argc - optind != 1 || from < 0) {
		export_usage(stderr);
		return 2;
	}
	if (env_load_config(&env, conf) != 0 || env_open_store(&env, 0) != 0)
		goto done;
	if (find_db(&env, name, &log, &v) != 0) {
		fprintf(stderr, "sumdbd export: no database '%s' in %s\n", name,
		    conf);
		goto done;
	}
	if (to < 0 && store_latest(env.st, log, NULL, &to, root) != 1) {
		fprintf(stderr, "sumdbd export: '%s' has no trust base\n", name);
		goto done;
	}
	if ((out = evbuffer_new()) == NULL)
		goto done;
	if (bundle_write(env.st, log, name, from, to, out, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "sumdbd export: %s\n", err);
		goto done;
	}
	if ((fd = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("'%s'", argv[optind]);
		goto done;
	}
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0) {
			log_warn("writing '%s'", argv[optind]);
			goto done;
		}
	if (fsync(fd) != 0) {
		log_warn("'%s'", argv[optind]);
		goto done;
	}
	printf("%s: %s from %lld to %lld\n", argv[optind], name,
	    (long long)from, (long long)to);
	rv = 0;
 done:
	if (fd != -1)
		close(fd);
	if (out != NULL)
		evbuffer_free(out);
	env_free(&env);
	return rv;
}

/* A cursor over the bundle's bytes. */
struct cur {
	const uint8_t	*p, *end;
};

/* A bundle as bundle_head() and bundle_body() parse it. */
struct bundle {
	struct cur	 c;		/* what is left to parse */
	int		 named;		/* name was read */
	char		 name[2200];	/* the database */
	int64_t		 from, to;	/* tree sizes, as the header says */
	struct span	 fromnote, tonote;
	uint8_t		 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	size_t		 np;
	int64_t		 first, count;	/* records first.. */
	struct span	*recs;		/* count record texts */
	int64_t		 ntiles;
	struct tile	*t;		/* ntiles tiles and their bytes */
	struct span	*data;
	char		 err[128];	/* why it is malformed */
};

/* The next line (without '\n') as a NUL-terminated copy in buf. */
static int
cur_line(struct cur *c, char *buf, size_t size)
{
	const uint8_t	*nl;
	size_t		 len;

	if ((nl = memchr(c->p, '\n', c->end - c->p)) == NULL ||
	    (len = nl - c->p) >= size || memchr(c->p, '\0', len) != NULL)
		return -1;
	memcpy(buf, c->p, len);
	buf[len] = '\0';
	c->p = nl + 1;
	return 0;
}

static int
cur_bytes(struct cur *c, size_t len, struct span *s)
{
	if ((size_t)(c->end - c->p) < len)
		return -1;
	s->p = c->p;
	s->len = len;
	c->p += len;
	return 0;
}

/* "KEY N\n": N in *n. */
static int
cur_num(struct cur *c, const char *key, int64_t *n)
{
	char	 line[128], *sp;

	if (cur_line(c, line, sizeof(line)) != 0 ||
	    (sp = strchr(line, ' ')) == NULL)
		return -1;
	*sp = '\0';
	if (strcmp(line, key) != 0 || sumdb_parse_int64(sp + 1,
	    strlen(sp + 1), n) != 0)
		return -1;
	return 0;
}

/* Set b's reason; returns -1. */
static int
malformed(struct bundle *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
malformed(struct bundle *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parse the envelope of bundle bytes data[0..len-1]: magic, checksum,
 * database, sizes, notes and proof, leaving b->c at the records.  No
 * signature is checked.  b is reset first.  Returns 0, or -1 with the
 * reason in b->err (b->named tells whether the name was read).
 */
static int
bundle_head(struct bundle *b, const uint8_t *data, size_t len)
{
	struct cur	*c = &b->c;
	uint8_t		 sum[32];
	char		 line[2200], hex[65];
	int64_t		 k;
	size_t		 i;

	memset(b, 0, sizeof(*b));
	c->p = data;
	c->end = data + len;
	if (len < strlen(BUNDLE_MAGIC) + 70 ||
	    memcmp(c->p, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) != 0)
		return malformed(b, "not a sumdbd bundle");
	/* The trailer: the sha256 of everything before it. */
	if (c->end[-1] != '\n' || memcmp(c->end - 69, "end ", 4) != 0)
		return malformed(b, "truncated bundle");
	crypto_hash_sha256(sum, c->p, len - 69);
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	if (memcmp(c->end - 65, hex, 64) != 0)
		return malformed(b, "the bundle's checksum does not match: "
		    "damaged");
	c->end -= 69;		/* "end " HEX "\n" */
	c->p += strlen(BUNDLE_MAGIC);
	if (cur_line(c, line, sizeof(line)) != 0 ||
	    strncmp(line, "db ", 3) != 0)
		return malformed(b, "malformed bundle header");
	snprintf(b->name, sizeof(b->name), "%s", line + 3);
	b->named = 1;
	if (cur_num(c, "from", &b->from) != 0 || cur_num(c, "to", &b->to) !=
	    0 || b->from > b->to || cur_num(c, "note", &k) != 0 ||
	    cur_bytes(c, (size_t)k, &b->fromnote) != 0 ||
	    cur_num(c, "note", &k) != 0 ||
	    cur_bytes(c, (size_t)k, &b->tonote) != 0 ||
	    cur_num(c, "proof", &k) != 0 || k > SUMDB_PROOF_MAX)
		return malformed(b, "malformed bundle header");
	b->np = (size_t)k;
	for (i = 0; i < b->np; i++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    sumdb_b64_decode(line, strlen(line), b->proof[i],
		    SUMDB_HASH_SIZE) != SUMDB_HASH_SIZE)
			return malformed(b, "malformed proof");
	return 0;
}

/*
 * Parse what follows the envelope: count records from first, then
 * tiles, then nothing.  Returns 0, -1 with the reason in b->err, or -2
 * when out of memory.  bundle_free() releases b either way.
 */
static int
bundle_body(struct bundle *b, int64_t first, int64_t count)
{
	struct cur	*c = &b->c;
	char		 line[2200], *sp;
	int64_t		 k, len;

	/*
	 * A record takes 3 bytes at least ("1\n\n"), a tile more than 32:
	 * a count the bytes left cannot hold is malformed, not allocated.
	 */
	if (cur_line(c, line, sizeof(line)) != 0 ||
	    sscanf(line, "records %lld %lld", (long long *)&b->first,
	    (long long *)&b->count) != 2 || b->first != first ||
	    b->count != count || count > 100000000 ||
	    count > (c->end - c->p) / 3)
		return malformed(b, "malformed records section");
	if (count > 0 && (b->recs = calloc(count, sizeof(*b->recs))) == NULL)
		return -2;
	for (k = 0; k < count; k++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    sumdb_parse_int64(line, strlen(line), &len) != 0 ||
		    cur_bytes(c, (size_t)len, &b->recs[k]) != 0 ||
		    !record_text_valid(b->recs[k].p, b->recs[k].len))
			return malformed(b, "malformed record %lld",
			    (long long)(first + k));
	if (cur_num(c, "tiles", &b->ntiles) != 0 || b->ntiles > 100000000 ||
	    b->ntiles > (c->end - c->p) / SUMDB_HASH_SIZE)
		return malformed(b, "malformed tiles section");
	if (b->ntiles > 0 && ((b->t = calloc(b->ntiles, sizeof(*b->t))) ==
	    NULL || (b->data = calloc(b->ntiles, sizeof(*b->data))) == NULL))
		return -2;
	for (k = 0; k < b->ntiles; k++)
		if (cur_line(c, line, sizeof(line)) != 0 ||
		    (sp = strchr(line, ' ')) == NULL ||
		    tile_parse(line, sp - line, &b->t[k]) != 0 ||
		    b->t[k].l < 0 || b->t[k].h != SUMDB_TILE_HEIGHT ||
		    sumdb_parse_int64(sp + 1, strlen(sp + 1), &len) != 0 ||
		    len != (int64_t)b->t[k].w * SUMDB_HASH_SIZE ||
		    cur_bytes(c, (size_t)len, &b->data[k]) != 0)
			return malformed(b, "malformed tile %lld", (long long)k);
	if (c->p != c->end)
		return malformed(b, "trailing bytes in the bundle");
	return 0;
}

static void
bundle_free(struct bundle *b)
{
	free(b->recs);
	free(b->t);
	free(b->data);
	b->recs = NULL;
	b->t = NULL;
	b->data = NULL;
}

static void
import_usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd import [-c FILE] BUNDLE\n"
	    "       sumdbd import [-c FILE] --root ROOT.json [--state DIR] URL\n"
	    "  With a URL (http, https or file) of a TUF repository, run the\n"
	    "  TUF client workflow from the pinned ROOT (then from DIR, which\n"
	    "  keeps the trusted metadata between runs; default: the\n"
	    "  database's path with .tuf) and import every published bundle\n"
	    "  of our databases that extends our trust base, in order.\n"
	    "  Verify a differential bundle against this store's newest trust\n"
	    "  base of its database and store it: the to-checkpoint must verify\n"
	    "  under the configured key and extend our trust base, and every\n"
	    "  record and tile must authenticate.  Any failure writes nothing\n"
	    "  and exits 1 with the reason.\n");
}

/* Refused bundles up to this size are kept whole as evidence. */
#define EVIDENCE_BUNDLE_MAX	(16 << 20)

int
bundle_sizes(const uint8_t *p, size_t len, int64_t *from, int64_t *to)
{
	struct bundle	 b;
	int		 r;

	if ((r = bundle_head(&b, p, len)) == 0) {
		*from = b.from;
		*to = b.to;
	}
	bundle_free(&b);
	return r;
}

/* A bundle being imported. */
struct import {
	struct env		*env;
	const char		*source;
	char			*err;		/* the refusal's reason */
	size_t			 errsize;
	struct bundle		 b;
	struct note_verifier	 v;
	int64_t			 log;		/* -1 until known */
	struct tlog_tree	 from, to;
	struct tlog_tree	 tb;		/* our newest trust base */
	int			 found;		/* tb is there */
	struct trust_proof	 pf;		/* tb in to */
	struct tiles		 ts;		/* bundle tiles over stored */
};

/* Set the refusal's reason; returns IMPORT_REFUSED. */
static int
refuse(struct import *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct import *im, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(im->err, im->errsize, fmt, ap);
	va_end(ap);
	return IMPORT_REFUSED;
}

/*
 * The envelope of data[0..len-1]: magic, checksum, database, sizes,
 * notes, proof; then both checkpoints under our key, consistent.
 */
static int
import_open(struct import *im, const uint8_t *data, size_t len)
{
	struct env	*env = im->env;
	struct bundle	*b = &im->b;
	struct note	 n;
	const char	*name = b->name;
	int		 r;

	r = bundle_head(b, data, len);
	if (r != 0 && !b->named)
		return refuse(im, "%s", b->err);
	/*
	 * Our own log grows only by our own signatures: an import could
	 * store a tree that its appended but unsigned records do not make.
	 */
	if (env->conf.log_name != NULL && strcmp(env->conf.log_name, name) ==
	    0)
		return refuse(im, "the bundle is for '%s', this server's own "
		    "log: bundles are imported only into a [mirror] of it",
		    name);
	if (find_db(env, name, &im->log, &im->v) != 0)
		return refuse(im, "the bundle is for database '%s', which %s "
		    "does not have", name, env->confpath);
	if (r != 0)
		return refuse(im, "%s", b->err);
	im->from.n = b->from;
	if (note_open(b->tonote.p, b->tonote.len, &im->v, 1, &n) != 0 ||
	    tlog_parse_tree(n.text, n.textlen, &im->to) != 0 || im->to.n == 0)
		return refuse(im, "the to-checkpoint does not verify under "
		    "%s's key", name);
	if (im->to.n != b->to)
		return refuse(im, "the bundle's header says tree %lld, its "
		    "to-checkpoint is tree %lld", (long long)b->to,
		    (long long)im->to.n);
	if (im->from.n > 0 && (note_open(b->fromnote.p, b->fromnote.len,
	    &im->v, 1, &n) != 0 || tlog_parse_tree(n.text, n.textlen,
	    &im->from) != 0))
		return refuse(im, "the from-checkpoint does not verify under "
		    "%s's key", name);
	if (trust_check(&im->from, &im->to,
	    (const uint8_t (*)[SUMDB_HASH_SIZE])b->proof, b->np) != 0)
		return refuse(im, "the to-checkpoint does not extend the "
		    "from-checkpoint");
	return 0;
}

/* The records and tiles; the tiles held over the store's. */
static int
import_body(struct import *im)
{
	struct bundle	*b = &im->b;
	int64_t		 k;
	int		 r;

	if ((r = bundle_body(b, im->from.n, im->to.n - im->from.n)) == -2)
		return IMPORT_ERROR;
	if (r != 0)
		return refuse(im, "%s", b->err);
	tiles_overlay_init(&im->ts, im->env->st, im->log, 1);
	for (k = 0; k < b->ntiles; k++)
		if (tiles_overlay_add(&im->ts, &b->t[k], b->data[k].p,
		    b->data[k].len, 0) != 0)
			return IMPORT_ERROR;
	return 0;
}

/* Against our own newest trust base, in the caller's transaction. */
static int
import_base(struct import *im)
{
	struct tile_hash_reader	 thr;
	struct tlog_hash_reader	 hr;

	if ((im->found = store_latest(im->env->st, im->log, NULL, &im->tb.n,
	    im->tb.hash)) < 0)
		return IMPORT_ERROR;
	if (!im->found)
		return 0;
	if (im->tb.n > im->to.n)
		return refuse(im, "the bundle ends at %lld, before our trust "
		    "base %lld", (long long)im->to.n, (long long)im->tb.n);
	if (im->from.n > im->tb.n)
		return refuse(im, "the bundle starts at %lld, after our trust "
		    "base %lld: import the bundles before it first",
		    (long long)im->from.n, (long long)im->tb.n);
	tiles_hash_reader(&im->ts, &im->to, &thr, &hr);
	if (trust_extends(&im->tb, &im->to, &hr, &im->pf) != 0)
		return refuse(im, "the to-checkpoint %lld forks from our trust "
		    "base %lld (or its tiles do not match it)",
		    (long long)im->to.n, (long long)im->tb.n);
	return 0;
}

/* Every tile of the bundle authenticates against the to-tree. */
static int
import_tiles(struct import *im)
{
	struct bundle	*b = &im->b;
	int64_t		 ti[256], k;
	uint8_t		 th[256][SUMDB_HASH_SIZE];
	int		 w;

	for (k = 0; k < b->ntiles; k++) {
		if (!tile_in_tree(&b->t[k], im->to.n))
			return refuse(im, "tile %lld lies beyond tree %lld",
			    (long long)k, (long long)im->to.n);
		for (w = 0; w < b->t[k].w; w++)
			ti[w] = tlog_stored_hash_index(SUMDB_TILE_HEIGHT *
			    b->t[k].l, (b->t[k].n << SUMDB_TILE_HEIGHT) + w);
		if (tiles_hashes(&im->ts, &im->to, ti, b->t[k].w, th) != 0 ||
		    memcmp(th, b->data[k].p, b->data[k].len) != 0)
			return refuse(im, "tile %lld does not authenticate "
			    "against tree %lld", (long long)k,
			    (long long)im->to.n);
	}
	return 0;
}

/*
 * Record id's text is stored already (an overlapping or repeated
 * bundle), or stored now under its name.
 */
static int
import_record(struct import *im, int64_t id, const struct span *text,
    struct evbuffer *stored)
{
	struct env	*env = im->env;
	struct record	 rec;
	char		 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	int		 r;

	if (record_parse(text->p, text->len, &rec) != 0 ||
	    rec.pathlen >= sizeof(path) || rec.versionlen >= sizeof(version)) {
		snprintf(path, sizeof(path), "#");
		snprintf(version, sizeof(version), "#%lld", (long long)id);
	} else {
		memcpy(path, rec.path, rec.pathlen);
		path[rec.pathlen] = '\0';
		memcpy(version, rec.version, rec.versionlen);
		version[rec.versionlen] = '\0';
	}
	/* The same bytes, or our store and the signed tree disagree. */
	evbuffer_drain(stored, evbuffer_get_length(stored));
	if ((r = store_record(env->st, im->log, id, stored)) == 1) {
		if (evbuffer_get_length(stored) == text->len &&
		    memcmp(evbuffer_pullup(stored, -1), text->p, text->len) ==
		    0)
			return 0;
		return refuse(im, "record %lld is stored with other bytes "
		    "than tree %lld holds: run sumdbd fsck", (long long)id,
		    (long long)im->to.n);
	}
	if (r < 0)
		return IMPORT_ERROR;
	r = store_add_record(env->st, im->log, id, path, version, text->p,
	    text->len);
	if (r == 1)
		return refuse(im, "%s@%s is stored with another hash", path,
		    version);
	return r < 0 ? IMPORT_ERROR : 0;
}

/* And every record against its authenticated leaf, then stored. */
static int
import_records(struct import *im)
{
	struct bundle	*b = &im->b;
	struct evbuffer	*stored = NULL;
	uint8_t		 leaf[SUMDB_HASH_SIZE];
	uint8_t		(*leaves)[SUMDB_HASH_SIZE] = NULL;
	int64_t		*idx = NULL, k;
	int		 rv = IMPORT_ERROR;

	if ((stored = evbuffer_new()) == NULL || (b->count > 0 &&
	    ((leaves = calloc(b->count, sizeof(*leaves))) == NULL ||
	    (idx = calloc(b->count, sizeof(*idx))) == NULL)))
		goto done;
	for (k = 0; k < b->count; k++)
		idx[k] = tlog_stored_hash_index(0, b->first + k);
	if (b->count > 0 && tiles_hashes(&im->ts, &im->to, idx, b->count,
	    leaves) != 0) {
		rv = refuse(im, "the records' tiles do not authenticate");
		goto done;
	}
	for (k = 0; k < b->count; k++) {
		tlog_record_hash(b->recs[k].p, b->recs[k].len, leaf);
		if (memcmp(leaf, leaves[k], SUMDB_HASH_SIZE) != 0) {
			rv = refuse(im, "record %lld is not in tree %lld",
			    (long long)(b->first + k), (long long)im->to.n);
			goto done;
		}
		if ((rv = import_record(im, b->first + k, &b->recs[k],
		    stored)) != 0)
			goto done;
	}
	rv = 0;
 done:
	if (stored != NULL)
		evbuffer_free(stored);
	free(leaves);
	free(idx);
	return rv;
}

/* The checkpoint with its proof, and full mode's progress; commit. */
static int
import_store(struct import *im)
{
	struct env	*env = im->env;
	struct bundle	*b = &im->b;
	int64_t		 fullnext;

	if (im->ts.storeerr || (im->to.n > im->tb.n &&
	    store_add_checkpoint(env->st, im->log, im->to.n, im->to.hash,
	    b->tonote.p, b->tonote.len, im->found ? im->tb.n : -1,
	    (const uint8_t *)im->pf.proof, im->pf.np * SUMDB_HASH_SIZE,
	    im->source) != 0))
		return IMPORT_ERROR;
	/*
	 * Every record below full_next is stored: move it only when the
	 * bundle starts at or below it, or a gap would read as "not in log".
	 */
	if (store_full_next(env->st, im->log, &fullnext) != 0)
		return IMPORT_ERROR;
	if (im->from.n <= fullnext && im->to.n > fullnext &&
	    store_set_full_next(env->st, im->log, im->to.n) != 0)
		return IMPORT_ERROR;
	if (store_commit(env->st) != 0)
		return IMPORT_ERROR;
	return 0;
}

/*
 * A refused bundle for one of our databases is evidence: the reason,
 * its signed to-checkpoint, and the bundle itself when it is not too
 * large to keep.
 */
static void
import_evidence(struct import *im, const uint8_t *data, size_t len)
{
	struct env	*env = im->env;

	if (store_add_evidence(env->st, im->log, "import", im->source,
	    im->err, NULL, 0, im->b.tonote.p, im->b.tonote.len,
	    len <= EVIDENCE_BUNDLE_MAX ? data : NULL,
	    len <= EVIDENCE_BUNDLE_MAX ? len : 0) != 0)
		log_warnx("import: keeping the evidence: %s",
		    store_errmsg(env->st));
}

int
bundle_import(struct env *env, const uint8_t *data, size_t len,
    const char *source, char *err, size_t errsize)
{
	struct import	 im;
	int		 rv, txn = 0;

	memset(&im, 0, sizeof(im));
	im.env = env;
	im.source = source;
	im.err = err;
	im.errsize = errsize;
	im.log = -1;
	err[0] = '\0';
	if ((rv = import_open(&im, data, len)) != 0 ||
	    (rv = import_body(&im)) != 0)
		goto done;
	if (store_begin(env->st, 1) != 0) {
		rv = IMPORT_ERROR;
		goto done;
	}
	txn = 1;
	if ((rv = import_base(&im)) != 0 || (rv = import_tiles(&im)) != 0 ||
	    (rv = import_records(&im)) != 0 || (rv = import_store(&im)) != 0)
		goto done;
	txn = 0;
	printf("imported %s: trust base %lld -> %lld, %lld records, %lld "
	    "tiles\n", im.b.name, im.found ? (long long)im.tb.n : 0LL,
	    (long long)im.to.n, (long long)im.b.count,
	    (long long)im.b.ntiles);
 done:
	if (rv == IMPORT_ERROR)
		log_warnx("import: %s", store_errmsg(env->st));
	if (txn)
		store_rollback(env->st);
	if (rv == IMPORT_REFUSED && im.log >= 0)
		import_evidence(&im, data, len);
	tiles_free(&im.ts);
	bundle_free(&im.b);
	return rv;
}

int
cmd_import(int argc, char **argv)
{
	static struct option	 longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct env		 env;
	struct evbuffer		*file = NULL;
	const char		*conf = "/etc/sumdbd/sumdbd.conf";
	const char		*root = NULL, *state = NULL;
	char			 err[512];
	int			 ch, fd = -1, r, rv = 2;

	memset(&env, 0, sizeof(env));
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'h':
			import_usage(stdout);
			return 0;
		default:
			import_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		import_usage(stderr);
		return 2;
	}
	if (env_load_config(&env, conf) != 0 || env_open_store(&env, 1) != 0)
		goto done;
	if (strncmp(argv[optind], "http://", 7) == 0 ||
	    strncmp(argv[optind], "https://", 8) == 0 ||
	    strncmp(argv[optind], "file://", 7) == 0) {
		rv = import_tuf(&env, argv[optind], root, state);
		goto done;
	}
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("'%s'", argv[optind]);
		goto done;
	}
	if ((file = evbuffer_new()) == NULL)
		goto done;
	while ((r = evbuffer_read(file, fd, 1 << 20)) > 0)
		if (evbuffer_get_length(file) > BUNDLE_MAX) {
			fprintf(stderr, "sumdbd import: refused: bundle larger "
			    "than %zu bytes\n", BUNDLE_MAX);
			rv = 1;
			goto done;
		}
	if (r < 0) {
		log_warn("'%s'", argv[optind]);
		goto done;
	}
	r = bundle_import(&env, evbuffer_pullup(file, -1),
	    evbuffer_get_length(file), argv[optind], err, sizeof(err));
	if (r == IMPORT_REFUSED)
		fprintf(stderr, "sumdbd import: refused: %s\n", err);
	rv = r == 0 ? 0 : r == IMPORT_REFUSED ? 1 : 2;
 done:
	if (fd != -1)
		close(fd);
	if (file != NULL)
		evbuffer_free(file);
	env_free(&env);
	return rv;
}
