/*
 * serve.c: /latest, /lookup and /tile of a database, answered from the
 * store by a worker thread.  Only what the newest signed checkpoint
 * covers is served: tiles beyond it are 404, and a partial tile is
 * served as the prefix of the stored one.  A lookup or tile that misses
 * goes to the main thread through the handoff queue (handoff.c), whose
 * answer comes back to serve_answered().  Each worker keeps its own copy
 * of the newest checkpoint and reloads it when the database's
 * generation changes.
 */


#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "store.h"
#include "sumdb.h"


/*
 * Hand a miss to the main thread (handoff.c): a lookup of a @ b, or
 * (mirrors) the tile whose path is a.  serve_answered() replies.
 */
static void
miss(struct worker *w, struct db *db, struct hreq *req, int kind,
    const char *a, const char *b)
{
	struct missreq	*m;

	if (db->kind == DB_PRIVATE && !w->conf.goproxy &&
	    !w->conf.witnessed_log) {
		http_error(req, 404, "not found: %s@%s is not in the log",
		    a, b);
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	m->port = &w->port;
	m->db = db;
	m->req = req;
	m->kind = kind;
	if (db->kind == DB_PRIVATE)
		snprintf(m->peer, sizeof(m->peer), "%s", http_peer(req));
	if (kind == MISS_TILE)
		snprintf(m->tilepath, sizeof(m->tilepath), "%s", a);
	else {
		snprintf(m->path, sizeof(m->path), "%s", a);
		snprintf(m->version, sizeof(m->version), "%s", b);
	}
	handoff_post(w->env, m);
}

struct dbview *
serve_view(struct worker *w, struct db *db, int force)
{
	struct dbview	*v = &w->views[db->idx];
	uint8_t		 root[SUMDB_HASH_SIZE];
	unsigned	 gen = __atomic_load_n(&db->gen, __ATOMIC_ACQUIRE);
	int		 r;

	if (!force && v->gen == gen)
		return v;
	evbuffer_drain(v->latest, evbuffer_get_length(v->latest));
	if ((r = store_published(w->st, db->log, v->latest, &v->size, root)) <
	    0) {
		log_warnx("log '%s': %s", db->name, store_errmsg(w->st));
		return NULL;
	}
	if (r == 0)
		v->size = 0;
	v->gen = gen;
	return v;
}

/*
 * A mirror that cannot answer from its store: offline, frozen, or a
 * private path.  Replies and returns -1 then, else returns 0.
 */
static int
refuse_mirror(struct worker *w, struct db *db, struct hreq *req,
    const char *modpath)
{
	struct dbview	*v;

	if (modpath != NULL && config_match_patterns(w->conf.private,
	    modpath)) {
		privacy_count(db, http_peer(req), modpath);
		http_error(req, 404, "not found: %s is a private module path: "
		    "not forwarded to the upstream", modpath);
		return -1;
	}
	if (w->conf.offline[db->idx]) {
		v = serve_view(w, db, 0);
		http_error(req, 404, "not found: not in mirrored log at tree "
		    "%lld", v != NULL ? (long long)v->size : 0LL);
		return -1;
	}
	if (__atomic_load_n(&db->frozen, __ATOMIC_ACQUIRE)) {
		http_error(req, 503, "mirror frozen after a refused checkpoint: "
		    "see sumdbd unfreeze");
		return -1;
	}
	return 0;
}

static void
answer_latest(struct worker *w, struct db *db, struct hreq *req)
{
	struct dbview	*v;
	struct evbuffer	*body;

	if ((v = serve_view(w, db, 0)) == NULL) {
		http_error(req, 500, "internal error");
		return;
	}
	if (v->size == 0) {
		http_error(req, 404, "not found: no signed tree yet");
		return;
	}
	/* http_reply() drains the body: send a copy. */
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, evbuffer_pullup(v->latest, -1),
	    evbuffer_get_length(v->latest)) != 0) {
		http_error(req, 500, "out of memory");
	} else
		http_reply(req, 200, TYPE_TEXT, CACHE_LATEST, body);
	if (body != NULL)
		evbuffer_free(body);
}

/*
 * Whether record id of db is in a published checkpoint: 1 with the view
 * in *vp, 0 not yet, -1 on errors.  Another process may have signed
 * more since we last looked: the view is read again once.
 */
static int
view_for(struct worker *w, struct db *db, int64_t id, struct dbview **vp)
{
	struct dbview	*v;

	if ((v = serve_view(w, db, 0)) == NULL ||
	    (id >= v->size && (v = serve_view(w, db, 1)) == NULL))
		return -1;
	*vp = v;
	return id < v->size;
}

/* The view of db in which record id is signed; NULL after an answer. */
static struct dbview *
signed_view(struct worker *w, struct db *db, struct hreq *req, int64_t id)
{
	struct dbview	*v = NULL;
	int		 r;

	if ((r = view_for(w, db, id, &v)) < 0)
		http_error(req, 500, "internal error");
	else if (r == 0)
		http_error(req, 404, "not found: record %lld is not yet "
		    "signed", (long long)id);
	return r == 1 ? v : NULL;
}

/* Send "<id>\n<text>\n" (len bytes at p) and the newest note. */
static void
lookup_reply(struct hreq *req, struct dbview *v, const void *p, size_t len)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL || evbuffer_expand(body, len +
	    evbuffer_get_length(v->latest)) != 0) {
		http_error(req, 500, "out of memory");
	} else {
		evbuffer_add(body, p, len);
		evbuffer_add(body, evbuffer_pullup(v->latest, -1),
		    evbuffer_get_length(v->latest));
		http_reply(req, 200, TYPE_TEXT, CACHE_SHORT, body);
	}
	if (body != NULL)
		evbuffer_free(body);
}

static void
answer_cached(struct worker *w, struct db *db, struct hreq *req,
    const struct centry *e)
{
	struct dbview	*v;
	const uint8_t	*p;
	size_t		 len;
	int64_t		 id;

	p = cache_data(e, &len, &id);
	if ((v = signed_view(w, db, req, id)) != NULL)
		lookup_reply(req, v, p, len);
}

/*
 * Answer a lookup of record id of db: "<id>\n<text>\n<note>"; with key
 * (the lookup's path), keep the record part in the worker's cache.  The
 * text is read from the store unless given (and then drained).
 */
static void
record_answer(struct worker *w, struct db *db, struct hreq *req,
    int64_t id, const char *key, struct evbuffer *text)
{
	struct dbview	*v;
	struct evbuffer	*rec;
	int		 r;

	if ((v = signed_view(w, db, req, id)) == NULL)
		return;
	if ((rec = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(rec, "%lld\n", (long long)id);
	if (text != NULL)
		r = evbuffer_add_buffer(rec, text) == 0 ? 1 : -1;
	else
		r = store_record(w->st, db->log, id, rec);
	if (r != 1) {
		log_warnx("record %lld of '%s': %s", (long long)id, db->name,
		    r < 0 ? store_errmsg(w->st) : "missing");
		http_error(req, 500, "internal error");
	} else {
		evbuffer_add(rec, "\n", 1);
		if (key != NULL)
			cache_put(&w->cache, db->idx, key,
			    evbuffer_pullup(rec, -1), evbuffer_get_length(rec),
			    id);
		lookup_reply(req, v, evbuffer_pullup(rec, -1),
		    evbuffer_get_length(rec));
	}
	evbuffer_free(rec);
}

/* Answer a lookup of record id of db (after a miss was filled). */
static void
answer_record(struct worker *w, struct db *db, struct hreq *req,
    int64_t id)
{
	record_answer(w, db, req, id, NULL, NULL);
}

/*
 * Whether record id of the private log is stored but not in a published
 * checkpoint yet (a witnessed log's waits for its quorum; a writer node
 * died between its append and its signature): the main thread (or the
 * writer node) answers the lookup once it is.
 */
static int
waits(struct worker *w, struct db *db, int64_t id)
{
	struct dbview	*v;

	return db->kind == DB_PRIVATE && view_for(w, db, id, &v) == 0;
}

static void
answer_lookup(struct worker *w, struct db *db, struct hreq *req,
    const char *arg)
{
	const struct centry *e;
	struct evbuffer	*text;
	char	 path[SUMDB_PATH_MAX], version[SUMDB_PATH_MAX];
	int64_t	 id;
	int	 r;

	if (modpath_parse_lookup(arg, strlen(arg), path, version) != 0) {
		http_error(req, 400, "invalid module@version syntax");
		return;
	}
	/* A mirror never answers for private paths, stored or not. */
	if (db->kind == DB_MIRROR && config_match_patterns(
	    w->conf.private, path)) {
		privacy_count(db, http_peer(req), path);
		http_error(req, 404, "not found: %s is a private module path: "
		    "not forwarded to the upstream", path);
		return;
	}
	if ((e = cache_get(&w->cache, db->idx, arg)) != NULL) {
		answer_cached(w, db, req, e);
		return;
	}
	/* The text comes with the lookup: it was read to check its name. */
	if ((text = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if ((r = store_lookup(w->st, db->log, path, version, &id, text)) <
	    0) {
		log_warnx("lookup %s@%s: %s", path, version,
		    store_errmsg(w->st));
		http_error(req, 500, "internal error");
		evbuffer_free(text);
		return;
	}
	if (r == 1 && !waits(w, db, id)) {
		record_answer(w, db, req, id, arg, text);
		evbuffer_free(text);
		return;
	}
	evbuffer_free(text);
	if (db->kind == DB_MIRROR && refuse_mirror(w, db, req, path) != 0)
		return;
	miss(w, db, req, MISS_LOOKUP, path, version);
}

/*
 * Send tile t's bytes in body; with keep, remember them first: a tile
 * of a given width never changes.
 */
static void
send_tile(struct worker *w, struct db *db, struct hreq *req,
    const struct tile *t, const char *path, struct evbuffer *body, int keep)
{
	if (keep)
		cache_put(&w->cache, db->idx, path, evbuffer_pullup(body, -1),
		    evbuffer_get_length(body), 0);
	http_reply(req, 200, t->l < 0 ? TYPE_TEXT : TYPE_BINARY,
	    t->w == 1 << t->h ? CACHE_FOREVER : CACHE_SHORT, body);
}

static void
answer_tile(struct worker *w, struct db *db, struct hreq *req,
    const char *path, int may_miss)
{
	const struct centry *e;
	struct dbview	*v;
	struct tile	 t;
	struct evbuffer	*body = NULL;
	const uint8_t	*p;
	size_t		 len;
	int64_t		 avail;
	int		 level, r;

	if (tile_parse(path, strlen(path), &t) != 0) {
		http_error(req, 400, "invalid tile syntax");
		return;
	}
	if (t.h != SUMDB_TILE_HEIGHT) {
		http_error(req, 404, "not found: tiles of height %d are not "
		    "served", t.h);
		return;
	}
	if ((v = serve_view(w, db, 0)) == NULL) {
		http_error(req, 500, "internal error");
		return;
	}
	/* Entries of this tile's level that the signed tree completes. */
	level = t.l < 0 ? 0 : t.l;
	avail = level * t.h >= 63 ? 0 : v->size >> (level * t.h);
	if (!tile_in_tree(&t, v->size)) {
		/*
		 * A client ahead of this mirror (it also talked to the
		 * upstream) needs the right edge of a newer tree: sync first.
		 */
		if (db->kind == DB_MIRROR && may_miss && t.n <= (avail >> t.h) +
		    1 && refuse_mirror(w, db, req, NULL) == 0) {
			miss(w, db, req, MISS_TILE, path, NULL);
			return;
		}
		http_error(req, 404, "not found: tile beyond tree size %lld",
		    (long long)v->size);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if ((e = cache_get(&w->cache, db->idx, path)) != NULL) {
		p = cache_data(e, &len, NULL);
		if (evbuffer_add(body, p, len) != 0)
			http_error(req, 500, "out of memory");
		else
			send_tile(w, db, req, &t, path, body, 0);
		goto done;
	}
	if (t.l < 0) {
		r = store_data_tile(w->st, db->log, t.n << t.h, t.w, body);
		if (r != 0 && db->kind == DB_MIRROR && may_miss) {
			if (refuse_mirror(w, db, req, NULL) == 0)
				miss(w, db, req, MISS_TILE, path, NULL);
		} else if (r != 0 && db->kind == DB_MIRROR)
			http_error(req, 502, "data tile not available from the "
			    "upstream");
		else if (r != 0) {
			log_warnx("data tile '%s' of '%s': %s", path, db->name,
			    store_errmsg(w->st));
			http_error(req, 500, "internal error");
		} else
			send_tile(w, db, req, &t, path, body, 1);
		goto done;
	}
	r = store_tile(w->st, db->log, t.l, t.n, body);
	if (r >= 0 && evbuffer_get_length(body) <
	    (size_t)t.w * SUMDB_HASH_SIZE && db->kind == DB_MIRROR &&
	    may_miss) {
		if (refuse_mirror(w, db, req, NULL) == 0)
			miss(w, db, req, MISS_TILE, path, NULL);
		goto done;
	}
	if (r >= 0 && db->kind == DB_MIRROR && evbuffer_get_length(body) <
	    (size_t)t.w * SUMDB_HASH_SIZE) {
		http_error(req, 502, "tile not available from the upstream");
		goto done;
	}
	if (r != 1 || evbuffer_get_length(body) <
	    (size_t)t.w * SUMDB_HASH_SIZE) {
		log_warnx("tile '%s' of '%s': %s", path, db->name,
		    r < 0 ? store_errmsg(w->st) : "missing or short");
		http_error(req, 500, "internal error");
		goto done;
	}
	/* A partial tile is a prefix of the stored one. */
	if (evbuffer_get_length(body) > (size_t)t.w * SUMDB_HASH_SIZE) {
		struct evbuffer	*part = evbuffer_new();

		if (part == NULL) {
			http_error(req, 500, "out of memory");
			goto done;
		}
		evbuffer_remove_buffer(body, part, (size_t)t.w *
		    SUMDB_HASH_SIZE);
		evbuffer_free(body);
		body = part;
	}
	send_tile(w, db, req, &t, path, body, 1);
 done:
	evbuffer_free(body);
}

void
serve_db(struct worker *w, struct db *db, struct hreq *req,
    const char *path)
{
	if (strcmp(path, "latest") == 0)
		answer_latest(w, db, req);
	else if (strncmp(path, "lookup/", 7) == 0)
		answer_lookup(w, db, req, path + 7);
	else if (strncmp(path, "tile/", 5) == 0)
		answer_tile(w, db, req, path, 1);
	else
		http_error(req, 404, "not found");
}

/* After the main thread fetched and stored a tile: serve it, or fail. */
static void
answer_tile_stored(struct worker *w, struct db *db, struct hreq *req,
    const char *path)
{
	answer_tile(w, db, req, path, 0);
}

/* The worker's handoff port: reply to the misses the main thread answered. */
void
serve_answered(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	struct misslist	 l;
	struct missreq	*m;
	char		 s[16];

	(void)fd;
	(void)ev;
	handoff_port_take(&w->port, &l);
	while ((m = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, m, entry);
		if (m->kind == MISS_WITNESS) {
			witness_answered(w, m);
			handoff_free_req(m);
			continue;
		}
		if (m->retry_after > 0) {
			snprintf(s, sizeof(s), "%d", m->retry_after);
			http_header(m->req, "Retry-After", s);
		}
		if (m->status != 200)
			http_error(m->req, m->status, "%s", m->err);
		else if (m->kind == MISS_TILE)
			answer_tile_stored(w, m->db, m->req, m->tilepath);
		else
			answer_record(w, m->db, m->req, m->id);
		handoff_free_req(m);
	}
}
