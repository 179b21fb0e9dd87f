/*
 * writer.c: writing the private log.  Records are appended in one
 * transaction with their stored hashes and the hash tiles they change,
 * made durable, and only then signed: a checkpoint is signed after the
 * tree it names is proven to extend the last signed one, computed from
 * what is stored, so no crash or restart can make the log sign two
 * inconsistent trees.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privlog.h"
#include "store.h"
#include "sumdb.h"

/* Store the tiles that growing from oldn to newn records changed. */
struct tilectx {
	struct store		*st;
	int64_t			 log;
	struct tlog_hash_reader	*hr;
	struct evbuffer		*buf;
};

static int
put_tile(void *arg, const struct tile *t)
{
	struct tilectx	*tc = arg;
	int		 r;

	evbuffer_drain(tc->buf, evbuffer_get_length(tc->buf));
	if ((r = tile_read_data(t, tc->hr, tc->buf)) != 0)
		return r;
	return store_put_tile(tc->st, tc->log, t->l, t->n,
	    evbuffer_pullup(tc->buf, -1), evbuffer_get_length(tc->buf)) == 0 ?
	    0 : SUMDB_EREAD;
}

/* Whether r's verbatim text is a valid record of r's path@version. */
static int
verbatim_ok(const struct newrec *r)
{
	struct record	 rec;

	return r->textlen <= sizeof(r->text) &&
	    record_parse_of((const uint8_t *)r->text, r->textlen, r->path,
	    r->version, &rec) == 0;
}

/* Add one record at id n; fills r's status. Returns -1 on store errors. */
static int
append_one(struct env *env, struct db *db, struct newrec *r, int64_t *n,
    struct evbuffer *text, struct tlog_hash_reader *hr)
{
	struct evbuffer	*old = NULL;
	uint8_t		 leaf[SUMDB_HASH_SIZE], add[65][SUMDB_HASH_SIZE];
	int64_t		 id;
	int		 found, m, rv = -1;

	evbuffer_drain(text, evbuffer_get_length(text));
	if (r->textlen > 0 ? !verbatim_ok(r) ||
	    evbuffer_add(text, r->text, r->textlen) != 0 :
	    record_format(r->path, r->version, r->ziphash, r->modhash,
	    text) != 0) {
		r->status = -1;
		snprintf(r->reason, sizeof(r->reason), "invalid record for "
		    "%s@%s", r->path, r->version);
		return 0;
	}
	if ((old = evbuffer_new()) == NULL)
		return -1;
	found = store_lookup(env->st, db->log, r->path, r->version, &id, old);
	if (found < 0)
		goto done;
	if (found) {
		/* First logged is final: never a second hash. */
		r->id = id;
		if (evbuffer_get_length(old) != evbuffer_get_length(text) ||
		    memcmp(evbuffer_pullup(old, -1), evbuffer_pullup(text, -1),
		    evbuffer_get_length(text)) != 0) {
			r->status = -1;
			snprintf(r->reason, sizeof(r->reason), "%s@%s is "
			    "already recorded with other hashes (record %lld)",
			    r->path, r->version, (long long)id);
		} else
			r->status = 0;
		rv = 0;
		goto done;
	}
	if (store_add_record(env->st, db->log, *n, r->path, r->version,
	    evbuffer_pullup(text, -1), evbuffer_get_length(text)) != 0)
		goto done;
	if (r->up_log > 0 && store_add_provenance(env->st, db->log, *n,
	    r->up_log, r->up_id, r->up_tree) != 0)
		goto done;
	tlog_record_hash(evbuffer_pullup(text, -1), evbuffer_get_length(text),
	    leaf);
	if ((m = tlog_stored_hashes_for_record(*n, leaf, hr, add)) < 0 ||
	    store_add_hashes(env->st, db->log, tlog_stored_hash_index(0, *n),
	    (const uint8_t (*)[SUMDB_HASH_SIZE])add, m) != 0)
		goto done;
	r->id = (*n)++;
	r->status = 0;
	rv = 0;
 done:
	if (old != NULL)
		evbuffer_free(old);
	return rv;
}

int
logw_append(struct env *env, struct db *db, struct newrec *r, size_t n)
{
	struct tiles		 ts;
	struct tlog_hash_reader	 hr;
	struct tilectx		 tc = { env->st, db->log, &hr, NULL };
	struct evbuffer		*text = NULL;
	int64_t			 size, oldsize;
	size_t			 i;
	int			 rv = -1;

	if (db->broken) {
		log_warnx("log '%s' is frozen: not appending", db->name);
		return -1;
	}
	tiles_store_init(&ts, env->st, db->log);
	tiles_stored_hash_reader(&ts, &hr);
	if ((text = evbuffer_new()) == NULL || (tc.buf = evbuffer_new()) ==
	    NULL) {
		log_warn("evbuffer_new");
		goto done;
	}
	if (store_begin(env->st, 1) != 0 ||
	    store_size(env->st, db->log, &size) != 0)
		goto bad;
	oldsize = size;
	for (i = 0; i < n; i++)
		if (append_one(env, db, &r[i], &size, text, &hr) != 0)
			goto bad;
	if (tile_new_tiles(SUMDB_TILE_HEIGHT, oldsize, size, put_tile, &tc) != 0)
		goto bad;
	if (store_commit(env->st) != 0)
		goto bad;
	__atomic_add_fetch(&db->added, size - oldsize, __ATOMIC_RELAXED);
	if (size > oldsize)
		log_info("log '%s': appended records %lld to %lld", db->name,
		    (long long)oldsize, (long long)size - 1);
	rv = logw_sign(env, db);
	goto done;
 bad:
	log_warnx("log '%s': appending: %s", db->name, store_errmsg(env->st));
	store_rollback(env->st);
 done:
	if (text != NULL)
		evbuffer_free(text);
	if (tc.buf != NULL)
		evbuffer_free(tc.buf);
	return rv;
}

int
logw_sign(struct env *env, struct db *db)
{
	struct tiles		 ts;
	struct tlog_hash_reader	 hr;
	struct tlog_tree	 tree, old;
	struct trust_proof	 pf;
	struct evbuffer		*text = NULL, *note = NULL;
	int64_t			 pub = 0;
	int			 found, r, rv = -1;

	tiles_store_init(&ts, env->st, db->log);
	tiles_stored_hash_reader(&ts, &hr);
	old.n = 0;
	pf.np = 0;
	if ((text = evbuffer_new()) == NULL || (note = evbuffer_new()) ==
	    NULL) {
		log_warn("evbuffer_new");
		goto done;
	}
	if (store_begin(env->st, 1) != 0 ||
	    store_size(env->st, db->log, &tree.n) != 0 ||
	    (found = store_latest(env->st, db->log, NULL, &old.n,
	    old.hash)) < 0 ||
	    (db->quorum > 0 && store_published(env->st, db->log, NULL,
	    &pub, (uint8_t[SUMDB_HASH_SIZE]){ 0 }) < 0))
		goto bad;
	/*
	 * A witnessed log signs its next checkpoint once the last one is
	 * published: one waits for its witnesses at a time, and the
	 * records logged meanwhile go into the next.
	 */
	if (db->quorum > 0 && found && old.n > pub) {
		store_rollback(env->st);
		rv = 0;
		goto done;
	}
	/* An empty tree is not signed: old clients hash it differently. */
	if (tree.n == 0 || (found && tree.n == old.n)) {
		store_rollback(env->st);
		rv = 0;
		goto done;
	}
	if (found && tree.n < old.n) {
		log_warnx("log '%s': %lld records stored but checkpoint %lld "
		    "signed: refusing to sign a shorter tree", db->name,
		    (long long)tree.n, (long long)old.n);
		goto frozen;
	}
	if (tlog_tree_hash(tree.n, &hr, tree.hash) != 0)
		goto bad;
	/* The stored tree must extend the signed one, provably. */
	if (found && (r = trust_extends(&old, &tree, &hr, &pf)) != 0) {
		if (r == TRUST_EREAD)
			goto bad;
		log_warnx("log '%s': stored tree of %lld records does not "
		    "extend signed checkpoint %lld: refusing to sign",
		    db->name, (long long)tree.n, (long long)old.n);
		goto frozen;
	}
	if (tlog_format_tree(&tree, text) != 0 ||
	    note_sign(evbuffer_pullup(text, -1), evbuffer_get_length(text),
	    &db->signer, 1, note) != 0) {
		log_warnx("log '%s': signing failed", db->name);
		goto bad;
	}
	if (store_add_checkpoint(env->st, db->log, tree.n, tree.hash,
	    evbuffer_pullup(note, -1), evbuffer_get_length(note),
	    found ? old.n : -1, (const uint8_t *)pf.proof,
	    pf.np * SUMDB_HASH_SIZE, NULL) != 0 ||
	    (db->quorum > 0 && store_set_published(env->st, db->log, tree.n,
	    0) != 0) || store_commit(env->st) != 0)
		goto bad;
	log_info("log '%s': signed tree %lld%s", db->name, (long long)tree.n,
	    db->quorum > 0 ? ", held for its witnesses" : "");
	if (db->quorum > 0) {
		__atomic_store_n(&db->held_since, (int64_t)time(NULL),
		    __ATOMIC_RELAXED);
		peers_kick(db);
	}
	rv = db_refresh(env, db);
	goto done;
 frozen:
	__atomic_store_n(&db->broken, 1, __ATOMIC_RELEASE);
	store_rollback(env->st);
	goto done;
 bad:
	log_warnx("log '%s': signing: %s", db->name, store_errmsg(env->st));
	store_rollback(env->st);
 done:
	if (text != NULL)
		evbuffer_free(text);
	if (note != NULL)
		evbuffer_free(note);
	return rv;
}

void
logw_held(struct env *env, struct db *db)
{
	uint8_t		 root[SUMDB_HASH_SIZE];
	int64_t		 latest, pub = 0;

	if (store_latest(env->st, db->log, NULL, &latest, root) == 1 &&
	    store_published(env->st, db->log, NULL, &pub, root) >= 0 &&
	    latest > pub)
		__atomic_store_n(&db->held_since, (int64_t)time(NULL),
		    __ATOMIC_RELAXED);
}

int
logw_open(struct env *env)
{
	if (env_open_log(env) != 0)
		return -1;
	/*
	 * Sign what a crash left unsigned; refuse a tree that forked.  A
	 * node that does not write does it when it becomes the writer.
	 */
	if (env->log != NULL && env->st != NULL && env_writer(env) &&
	    logw_sign(env, env->log) != 0)
		return -1;
	return 0;
}
