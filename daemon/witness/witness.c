/*
 * witness.c: add-checkpoint (c2sp.org/tlog-witness v1.0.0).  A request
 * is checked in the order the spec gives its answers: the body parses
 * (400), the origin is a configured log (404), a key of that log signed
 * the checkpoint (403), old is not beyond its size (400), old is the
 * size we last cosigned (409, with that size), the same size has the
 * same root (409), the consistency proof verifies (422).  The state is
 * read and replaced in one durable transaction on the main thread, so
 * two requests never both move it from the same size, and a
 * cosignature is only sent once the new state is on disk.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "witness.h"

#define WLOG_KEYS	CONFIG_URLS_MAX
#define TYPE_SIZE	"text/x.tlog.size"
#define TYPE_SIGS	"text/plain; charset=utf-8"

/* A log we witness: its origin line and its keys. */
struct wlog {
	const char		*name;		/* the config's: its state's */
	const char		*origin;	/* its checkpoints' */
	struct db		*mirror;	/* a mirror of the log, or NULL */
	struct note_verifier	 keys[WLOG_KEYS];
	size_t			 nkeys;
};

/* Answers counted for /metrics, by status. */
static const int codes[] = { 200, 400, 403, 404, 409, 413, 422, 500, 503 };
#define NCODES	(sizeof(codes) / sizeof(codes[0]))

struct witness {
	struct note_signer	*signer;
	struct wlog		 logs[CONFIG_WLOGS_MAX];
	size_t			 nlogs;
	uint64_t		 answers[NCODES];
};

/* The database of mirror mc. */
static struct db *
mirror_db(struct env *env, const struct config_mirror *mc)
{
	int	 i;

	for (i = 0; i < env->ndbs; i++)
		if (env->dbs[i]->kind == DB_MIRROR && env->dbs[i]->mc == mc)
			return env->dbs[i];
	return NULL;
}

/*
 * The log of a checkpoint with origin (len bytes): among those of that
 * origin, the first whose keys verify note.  NULL with *status 404 (no
 * such origin), 403 (no valid signature) or 400 (malformed).
 */
static struct wlog *
find_log(struct witness *w, const uint8_t *origin, size_t len,
    const uint8_t *note, size_t notelen, struct note *n, int *status)
{
	size_t	 i;
	int	 r;

	*status = 404;
	for (i = 0; i < w->nlogs; i++) {
		if (strlen(w->logs[i].origin) != len ||
		    memcmp(w->logs[i].origin, origin, len) != 0)
			continue;
		if ((r = note_open(note, notelen, w->logs[i].keys,
		    w->logs[i].nkeys, n)) == 0)
			return &w->logs[i];
		*status = r == SUMDB_ESIG ? 403 : 400;
		if (r != SUMDB_ESIG)
			return NULL;
	}
	return NULL;
}

/* Answer m with status and a one-line reason, or a body of type. */
static void
answer(struct witness *w, struct missreq *m, int status, const char *type,
    struct evbuffer *body, const char *why)
{
	size_t	 i, len;

	for (i = 0; i < NCODES; i++)
		if (codes[i] == status)
			w->answers[i]++;
	if (body != NULL && (len = evbuffer_get_length(body)) > 0 &&
	    (m->out = malloc(len)) != NULL) {
		evbuffer_remove(body, m->out, len);
		m->outlen = len;
		m->type = type;
	} else if (body != NULL)
		status = 500, why = "out of memory";
	handoff_answer(m, status, -1, why);
}

/*
 * The state of log l: the witness table's row (by l's name), or for a
 * log that a local mirror mirrors (the same key), that mirror's newest
 * trust base: the witness and the mirror are one view of the log.
 * 1, 0 none, -1.
 */
static int
state(struct env *env, const struct wlog *l, int64_t *size,
    uint8_t root[SUMDB_HASH_SIZE], struct evbuffer *note)
{
	if (l->mirror != NULL)
		return store_latest(env->st, l->mirror->log, note, size, root);
	return store_witness_get(env->st, l->name, size, root, note);
}

/*
 * The checks against the state, in one transaction; then the new state
 * and the cosignature into out.  Returns the status; a 409 for a wrong
 * old size puts "<size>\n" in out and sets *type.
 */
static int
add(struct env *env, struct witness *w, const struct wlog *l,
    const char *origin, const struct witness_req *r, const struct note *n,
    const struct tlog_tree *t, struct evbuffer *out, const char **type,
    char *why, size_t whysize)
{
	struct store	*st = env->st;
	struct db	*db = l->mirror;
	struct evbuffer	*note = NULL, *ours = NULL;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int64_t		 size = 0, now = time(NULL);
	int		 found, status = 500, split = 0;

	if ((ours = evbuffer_new()) == NULL || store_begin(st, 1) != 0 ||
	    (found = state(env, l, &size, root, ours)) < 0) {
		snprintf(why, whysize, "internal error");
		log_warnx("witness: state of '%s': %s", origin,
		    store_errmsg(st));
		goto done;
	}
	if (db != NULL && !found) {
		/* Its view comes from its upstream first. */
		snprintf(why, whysize, "the mirror of this log has no trust "
		    "base yet");
		status = 503;
		goto done;
	}
	if (r->old != size) {
		evbuffer_add_printf(out, "%lld\n", (long long)size);
		*type = TYPE_SIZE;
		snprintf(why, whysize, "old size %lld is not %lld",
		    (long long)r->old, (long long)size);
		status = 409;
		goto done;
	}
	if (found && t->n == size && memcmp(t->hash, root, sizeof(root)) !=
	    0) {
		snprintf(why, whysize, "another root for size %lld",
		    (long long)size);
		log_warnx("witness: log '%s' shows another root for size "
		    "%lld than the one cosigned", origin, (long long)size);
		/* Two signed trees of one size: the log forked. */
		split = db != NULL;
		status = 409;
		goto done;
	}
	if (r->old == 0 || t->n == r->old ? r->nproof != 0 :
	    tlog_check_tree(r->proof, r->nproof, t->n, t->hash, r->old,
	    root) != 0) {
		snprintf(why, whysize, "the consistency proof from %lld to "
		    "%lld does not verify", (long long)r->old,
		    (long long)t->n);
		log_warnx("witness: log '%s': %s", origin, why);
		status = 422;
		goto done;
	}
	if (db != NULL && t->n > size &&
	    __atomic_load_n(&db->frozen, __ATOMIC_ACQUIRE)) {
		snprintf(why, whysize, "the mirror of this log is frozen: "
		    "%.160s", db->frozen_why);
		status = 503;
		goto done;
	}
	/* What the monitoring GET serves: the checkpoint, cosigned. */
	if ((note = evbuffer_new()) == NULL ||
	    evbuffer_add(note, r->note, r->notelen) != 0 ||
	    note_cosign(n->text, n->textlen, w->signer, now, out) != 0 ||
	    (n->nverified + n->nunverified < SUMDB_NOTE_MAXSIGS &&
	    evbuffer_add(note, evbuffer_pullup(out, -1),
	    evbuffer_get_length(out)) != 0)) {
		snprintf(why, whysize, "out of memory");
		goto done;
	}
	if (db != NULL && t->n > size &&
	    store_add_checkpoint(st, db->log, t->n, t->hash,
	    evbuffer_pullup(note, -1), evbuffer_get_length(note), size,
	    (const uint8_t *)r->proof, r->nproof * SUMDB_HASH_SIZE,
	    "witness") != 0) {
		snprintf(why, whysize, "internal error");
		log_warnx("witness: a trust base of '%s': %s", db->name,
		    store_errmsg(st));
		goto done;
	}
	/*
	 * The same tree again changes nothing: no write, so that repeated
	 * submissions cost no sync to disk.
	 */
	if ((!found || t->n > size) && (store_witness_set(st, l->name, t->n,
	    t->hash, evbuffer_pullup(note, -1), evbuffer_get_length(note),
	    now) != 0 || store_commit(st) != 0)) {
		snprintf(why, whysize, "internal error");
		log_warnx("witness: storing the state of '%s': %s", origin,
		    store_errmsg(st));
		goto done;
	}
	*type = TYPE_SIGS;
	log_debug("witness: cosigned '%s' at %lld (from %lld)", origin,
	    (long long)t->n, (long long)r->old);
	if (db != NULL && t->n > size) {
		log_info("mirror '%s': trust base %lld -> %lld from a witness "
		    "submission", db->name, (long long)size, (long long)t->n);
		(void)db_refresh(env, db);
		peers_kick(db);
	}
	status = 200;
 done:
	store_rollback(st);
	if (split && db->ops != NULL && db->ops->split != NULL)
		db->ops->split(db, "add-checkpoint", evbuffer_pullup(ours, -1),
		    evbuffer_get_length(ours), r->note, r->notelen, NULL, 0,
		    why);
	if (status != 200 && status != 409)
		evbuffer_drain(out, evbuffer_get_length(out));
	if (note != NULL)
		evbuffer_free(note);
	if (ours != NULL)
		evbuffer_free(ours);
	return status;
}

/* env->witness_add: one add-checkpoint, answered before it returns. */
static void
witness_add(struct env *env, struct missreq *m)
{
	struct witness		*w = env->witness;
	struct witness_req	 r;
	struct wlog		*l;
	struct note		 n;
	struct tlog_tree	 t;
	struct evbuffer		*out = NULL;
	const uint8_t		*nl;
	const char		*type = NULL;
	char			 why[256];
	size_t			 originlen;
	int			 rc, status;

	if ((rc = witness_parse_req(m->in, m->inlen, &r)) != 0) {
		answer(w, m, rc == SUMDB_ELIMIT ? 413 : 400, NULL, NULL,
		    "malformed add-checkpoint body");
		return;
	}
	/* The origin is the note's first line; whose keys apply. */
	if ((nl = memchr(r.note, '\n', r.notelen)) == NULL ||
	    nl - r.note >= SUMDB_NAME_MAX) {
		answer(w, m, 400, NULL, NULL, "malformed checkpoint");
		return;
	}
	if ((l = find_log(w, r.note, nl - r.note, r.note, r.notelen, &n,
	    &status)) == NULL) {
		answer(w, m, status, NULL, NULL, status == 404 ?
		    "unknown log origin" : status == 403 ? "no valid "
		    "signature by a key of the log" : "malformed checkpoint");
		return;
	}
	if (tlog_parse_checkpoint(n.text, n.textlen, &originlen, &t) != 0) {
		answer(w, m, 400, NULL, NULL, "malformed checkpoint");
		return;
	}
	if (r.old > t.n) {
		answer(w, m, 400, NULL, NULL, "old size beyond the checkpoint");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		answer(w, m, 500, NULL, NULL, "out of memory");
		return;
	}
	why[0] = '\0';
	status = add(env, w, l, l->name, &r, &n, &t, out, &type, why,
	    sizeof(why));
	answer(w, m, status, type, type != NULL ? out : NULL, why);
	evbuffer_free(out);
}

static void
metrics(struct env *env, struct evbuffer *out)
{
	struct witness	*w = env->witness;
	size_t		 i;

	evbuffer_add_printf(out, "# HELP sumdbd_witness_answers_total "
	    "add-checkpoint answers by status.\n"
	    "# TYPE sumdbd_witness_answers_total counter\n");
	for (i = 0; i < NCODES; i++)
		evbuffer_add_printf(out, "sumdbd_witness_answers_total"
		    "{code=\"%d\"} %llu\n", codes[i],
		    (unsigned long long)w->answers[i]);
}

int
witness_open(struct env *env)
{
	const struct config	*c = &env->conf;
	struct witness		*w;
	struct wlog		*l;
	struct note_verifier	 v;
	int			 i, k;

	if (c->witness_name == NULL)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	env->witness = w;
	if ((w->signer = env_load_key(c->witness_key, NOTE_COSIG_V1)) ==
	    NULL)
		return -1;
	note_signer_verifier(w->signer, &v);
	if (strcmp(v.name, c->witness_name) != 0) {
		log_warnx("witness key '%s' is for '%s', not for [witness] "
		    "name '%s'", c->witness_key, v.name, c->witness_name);
		return -1;
	}
	for (i = 0; i < c->nwlogs; i++) {
		l = &w->logs[w->nlogs++];
		l->name = c->wlogs[i].name;
		l->origin = config_wlog_origin(&c->wlogs[i]);
		if ((k = config_wlog_mirror(c, i)) >= 0)
			l->mirror = mirror_db(env, &c->mirrors[k]);
		if (c->wlogs[i].nkeys == 0) {
			log_warnx("%s:%d: [witness-log %s] needs a key",
			    env->confpath, c->wlogs[i].line, l->name);
			return -1;
		}
		for (k = 0; k < c->wlogs[i].nkeys; k++)
			if (note_verifier_parse(c->wlogs[i].keys[k],
			    strlen(c->wlogs[i].keys[k]),
			    &l->keys[l->nkeys++]) != 0) {
				log_warnx("%s:%d: [witness-log %s] key '%s': "
				    "not a verifier key", env->confpath,
				    c->wlogs[i].line, l->name,
				    c->wlogs[i].keys[k]);
				return -1;
			}
	}
	env->witness_add = witness_add;
	env->cosigner = w->signer;
	if (env_metrics_add(env, metrics) != 0)
		return -1;
	log_info("witness '%s' cosigning for %zu logs", c->witness_name,
	    w->nlogs);
	return 0;
}

void
witness_free(struct env *env)
{
	struct witness	*w = env->witness;

	if (w == NULL)
		return;
	note_signer_free(w->signer);
	free(w);
	env->witness = NULL;
	env->cosigner = NULL;
	env->witness_add = NULL;
}
