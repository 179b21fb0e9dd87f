/*
 * peers.c: the witnesses a database submits its checkpoints to
 * (c2sp.org/tlog-witness).  For each peer we learn the size it last
 * cosigned (old 0 and its 409), then submit every trust base after it
 * in turn, each with the consistency proof stored with it in the
 * chain, so no tile is ever needed.  Its cosignatures are verified
 * under its key and appended to the stored note, which /latest and the
 * lookups serve.  A peer that refuses (422) a proof from a size it
 * shares with us, or holds another root at our own size (409), has
 * seen another tree of the log: a split view, handed to the database's
 * writer (db->ops->split) with both checkpoints.  A peer that is down
 * is retried with a backoff and never blocks serving or syncing.
 * Main thread.
 */

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "sumdbd.h"

#define PEER_TIMEOUT	10000		/* ms per add-checkpoint */
#define PEER_ANSWER_MAX	(64 * 1024)
#define BACKOFF_MAX	60		/* s */

struct peer {
	struct db		*db;
	char			*url;		/* the submission prefix */
	struct note_verifier	 v;		/* its cosignature key */
	int64_t			 size;		/* acknowledged; -1 unknown */
	int			 acked;		/* cosigned our root at size */
	int64_t			 old, sent;	/* the request in flight */
	struct evbuffer		*note;		/* its checkpoint */
	struct evbuffer		*proof;
	int			 busy;
	int			 split;		/* a split view: stop */
	struct event		*timer;		/* retry */
	int			 backoff;	/* s */
	uint64_t		 cosigned, failed;	/* /metrics */
	char			 status[256];
};

static void	step(struct peer *);
static void	on_timer(evutil_socket_t, short, void *);

/* Retry p after its backoff, doubling it. */
static void
retry(struct peer *p)
{
	struct timeval	 tv;

	p->backoff = p->backoff == 0 ? 1 : p->backoff * 2;
	if (p->backoff > BACKOFF_MAX)
		p->backoff = BACKOFF_MAX;
	tv.tv_sec = p->backoff;
	tv.tv_usec = 0;
	if (p->timer == NULL && (p->timer = evtimer_new(p->db->env->base,
	    on_timer, p)) == NULL) {
		log_warnx("peer '%s': out of memory", p->url);
		return;
	}
	evtimer_add(p->timer, &tv);
}

static void
on_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	step(arg);
}

/* The peer's own checkpoint, for the evidence: GET .../latest/ORIGIN. */
struct splitreq {
	struct peer	*p;
	struct evbuffer	*ours;
	struct evbuffer	*material;
	char		 why[512];
};

static void
got_theirs(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct splitreq	*s = arg;
	struct db	*db = s->p->db;
	struct note	 n;
	int		 ok;

	(void)err;
	/* Only a checkpoint the log signed is evidence. */
	ok = status == 200 && note_open(evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), &db->vkey, 1, &n) == 0;
	if (db->ops != NULL && db->ops->split != NULL)
		db->ops->split(db, s->p->url, evbuffer_pullup(s->ours, -1),
		    evbuffer_get_length(s->ours), ok ?
		    evbuffer_pullup(body, -1) : NULL, ok ?
		    evbuffer_get_length(body) : 0,
		    evbuffer_pullup(s->material, -1),
		    evbuffer_get_length(s->material), s->why);
	evbuffer_free(s->ours);
	evbuffer_free(s->material);
	free(s);
}

/* p's answer shows another tree: ask for its checkpoint, then tell. */
static void
split_view(struct peer *p, const uint8_t *answer, size_t len, const char *why)
{
	struct splitreq	*s;
	struct evbuffer	*b = NULL;
	const uint8_t	*text = evbuffer_pullup(p->note, -1);
	uint8_t		 root[SUMDB_HASH_SIZE];
	char		*name = NULL, url[2048];

	__atomic_store_n(&p->split, 1, __ATOMIC_RELAXED);
	snprintf(p->status, sizeof(p->status), "split view: %.200s", why);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->ours = evbuffer_new()) == NULL ||
	    (s->material = evbuffer_new()) == NULL) {
		log_warnx("peer '%s': out of memory", p->url);
		goto bad;
	}
	s->p = p;
	snprintf(s->why, sizeof(s->why), "%s", why);
	evbuffer_add(s->ours, text, evbuffer_get_length(p->note));
	log_warnx("peer '%s' answered: %.*s", p->url, (int)(len < 300 ? len :
	    300), (const char *)answer);
	/*
	 * From a size we share: our root there and our proof from it, so
	 * that their checkpoint at that size, another root, is a fork
	 * anyone can check with x/mod.
	 */
	if (p->old < p->sent && (b = evbuffer_new()) != NULL &&
	    store_checkpoint(p->db->env->st, p->db->log, p->old, b, root) ==
	    1) {
		evbuffer_add(s->material, root, sizeof(root));
		evbuffer_add(s->material, evbuffer_pullup(p->proof, -1),
		    evbuffer_get_length(p->proof));
	}
	if (b != NULL)
		evbuffer_free(b);
	/* A sumdbd witness serves it under the log's name. */
	if ((name = evhttp_uriencode(p->db->name, -1, 0)) == NULL ||
	    (size_t)snprintf(url, sizeof(url), "%s/latest/%s", p->url,
	    name) >= sizeof(url) || fetch_get(p->db->env, url,
	    PEER_ANSWER_MAX, PEER_TIMEOUT, NULL, got_theirs, s) != 0)
		got_theirs(-1, NULL, NULL, s);
	free(name);
	return;
 bad:
	if (s != NULL) {
		if (s->ours != NULL)
			evbuffer_free(s->ours);
		free(s);
	}
}

/* The signature lines of a note. */
static int
count_sigs(struct evbuffer *note)
{
	struct evbuffer_ptr	 at;
	int			 n = 0;

	evbuffer_ptr_set(note, &at, 0, EVBUFFER_PTR_SET);
	while ((at = evbuffer_search(note, "\n\xe2\x80\x94 ", 5, &at)).pos >= 0) {
		n++;
		evbuffer_ptr_set(note, &at, 1, EVBUFFER_PTR_ADD);
	}
	return n;
}

/*
 * Keep p's cosignature of the checkpoint we sent: the answer's lines
 * that verify under p's key go into the stored note (once per peer).
 * Returns 0, or -1 when none verifies.
 */
static int
keep_cosig(struct peer *p, const uint8_t *answer, size_t len)
{
	struct env	*env = p->db->env;
	struct evbuffer	*b = NULL, *stored = NULL;
	struct note	 n;
	const uint8_t	*line, *nl, *end = answer + len, *text;
	size_t		 tl;
	uint8_t		 root[SUMDB_HASH_SIZE];
	char		 prefix[SUMDB_NAME_MAX + 8];
	int		 rv = -1, pl;

	/* The text the log signed: what the witness cosigns. */
	if (note_open(evbuffer_pullup(p->note, -1),
	    evbuffer_get_length(p->note), &p->db->vkey, 1, &n) != 0)
		return -1;
	text = n.text;
	tl = n.textlen;
	pl = snprintf(prefix, sizeof(prefix), "\xe2\x80\x94 %s ", p->v.name);
	if ((b = evbuffer_new()) == NULL || (stored = evbuffer_new()) == NULL)
		goto done;
	for (line = answer; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', end - line)) == NULL)
			break;
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, text, tl);
		evbuffer_add(b, "\n", 1);
		evbuffer_add(b, line, nl + 1 - line);
		if (note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b),
		    &p->v, 1, &n) != 0)
			continue;
		rv = 0;
		/* Once per peer, and under x/mod's 100 signatures. */
		if (store_checkpoint(env->st, p->db->log, p->sent, stored,
		    root) != 1)
			break;
		if (evbuffer_search(stored, prefix, pl, NULL).pos >= 0 ||
		    count_sigs(stored) >= SUMDB_NOTE_MAXSIGS)
			break;
		if (store_cosign_checkpoint(env->st, p->db->log, p->sent,
		    (const char *)line, nl + 1 - line) != 0)
			log_warnx("peer '%s': storing its cosignature: %s",
			    p->url, store_errmsg(env->st));
		else
			(void)db_refresh(env, p->db);
		break;
	}
 done:
	if (b != NULL)
		evbuffer_free(b);
	if (stored != NULL)
		evbuffer_free(stored);
	return rv;
}

/*
 * A witnessed private log: publish its checkpoint of size once the
 * cosignatures of quorum of its witnesses are on it.
 */
static void
try_publish(struct db *db, int64_t size)
{
	struct env		*env = db->env;
	struct note_verifier	 v[CONFIG_URLS_MAX];
	struct evbuffer		*b;
	struct note		 n;
	uint8_t			 root[SUMDB_HASH_SIZE];
	int64_t			 pub = 0;
	int			 i, r;

	if ((b = evbuffer_new()) == NULL)
		return;
	for (i = 0; i < db->npeers && i < CONFIG_URLS_MAX; i++)
		v[i] = db->peers[i].v;
	if (store_checkpoint(env->st, db->log, size, b, root) != 1 ||
	    store_published(env->st, db->log, NULL, &pub, root) < 0 ||
	    pub >= size ||
	    note_open(evbuffer_pullup(b, -1), evbuffer_get_length(b), v, i,
	    &n) != 0 || n.nverified < (size_t)db->quorum)
		goto done;
	if (store_begin(env->st, 1) != 0 ||
	    (r = store_set_published(env->st, db->log, size, 1)) != 0 ||
	    store_commit(env->st) != 0) {
		log_warnx("log '%s': publishing tree %lld: %s", db->name,
		    (long long)size, store_errmsg(env->st));
		store_rollback(env->st);
		goto done;
	}
	log_info("log '%s': published tree %lld, cosigned by %zu of %d "
	    "witnesses", db->name, (long long)size, n.nverified, db->npeers);
	__atomic_store_n(&db->held_since, 0, __ATOMIC_RELAXED);
	(void)db_refresh(env, db);
 done:
	evbuffer_free(b);
}

static void
answered(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct peer	*p = arg;
	const uint8_t	*a = body != NULL ? evbuffer_pullup(body, -1) : NULL;
	size_t		 len = body != NULL ? evbuffer_get_length(body) : 0;
	int64_t		 size;
	char		 why[512];

	p->busy = 0;
	if (status == 200) {
		if (keep_cosig(p, a, len) != 0) {
			__atomic_add_fetch(&p->failed, 1, __ATOMIC_RELAXED);
			snprintf(p->status, sizeof(p->status), "no valid "
			    "cosignature for tree %lld", (long long)p->sent);
			log_warnx("peer '%s': %s", p->url, p->status);
			retry(p);
			return;
		}
		__atomic_add_fetch(&p->cosigned, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&p->size, p->sent, __ATOMIC_RELAXED);
		p->acked = 1;
		p->backoff = 0;
		snprintf(p->status, sizeof(p->status), "cosigned tree %lld",
		    (long long)p->sent);
		log_debug("peer '%s': %s", p->url, p->status);
		if (p->db->quorum > 0)
			try_publish(p->db, p->sent);
		step(p);
		return;
	}
	if (status == 409 && witness_parse_size(a, len, &size) == 0 &&
	    size != p->old) {
		__atomic_store_n(&p->size, size, __ATOMIC_RELAXED);
		p->acked = 0;
		step(p);
		return;
	}
	if ((status == 409 && p->old == p->sent) ||
	    (status == 422 && p->old > 0)) {
		snprintf(why, sizeof(why), status == 409 ? "it holds another "
		    "root for tree %lld" : "it refuses the consistency proof "
		    "from tree %lld, which it holds with another root",
		    (long long)p->old);
		split_view(p, a, len, why);
		return;
	}
	__atomic_add_fetch(&p->failed, 1, __ATOMIC_RELAXED);
	if (status < 0)
		snprintf(p->status, sizeof(p->status), "unreachable: %s",
		    err != NULL ? err : "?");
	else
		snprintf(p->status, sizeof(p->status), "answered %d: %.*s",
		    status, (int)(len < 200 ? len : 200), a != NULL ?
		    (const char *)a : "");
	log_warnx("peer '%s': %s", p->url, p->status);
	retry(p);
}

/* Submit p->note (of size p->sent) with old p->old and p->proof. */
static void
submit(struct peer *p)
{
	struct evbuffer	*body;
	char		 url[2048];
	size_t		 np = evbuffer_get_length(p->proof) / SUMDB_HASH_SIZE;

	if ((body = evbuffer_new()) == NULL ||
	    witness_format_req(p->old, (const uint8_t (*)[SUMDB_HASH_SIZE])
	    evbuffer_pullup(p->proof, -1), np, evbuffer_pullup(p->note, -1),
	    evbuffer_get_length(p->note), body) != 0) {
		snprintf(p->status, sizeof(p->status), "cannot build the "
		    "request for tree %lld", (long long)p->sent);
		goto bad;
	}
	snprintf(url, sizeof(url), "%s/add-checkpoint", p->url);
	if (fetch_post(p->db->env, url, evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), PEER_ANSWER_MAX, PEER_TIMEOUT, NULL,
	    answered, p) != 0) {
		snprintf(p->status, sizeof(p->status), "cannot start a request");
		goto bad;
	}
	p->busy = 1;
	evbuffer_free(body);
	return;
 bad:
	if (body != NULL)
		evbuffer_free(body);
	__atomic_add_fetch(&p->failed, 1, __ATOMIC_RELAXED);
	retry(p);
}

/* What p should see next, if anything: submit it. */
static void
step(struct peer *p)
{
	struct store	*st = p->db->env->st;
	uint8_t		 root[SUMDB_HASH_SIZE];
	int64_t		 n, size;
	int		 r;

	/* A busy peer's answer steps it again; the writer node asks. */
	if (p->busy || p->split || !env_writer(p->db->env))
		return;
	evbuffer_drain(p->note, evbuffer_get_length(p->note));
	evbuffer_drain(p->proof, evbuffer_get_length(p->proof));
	if ((r = store_latest(st, p->db->log, p->note, &n, root)) <= 0) {
		if (r < 0)
			log_warnx("peer '%s': %s", p->url, store_errmsg(st));
		return;
	}
	if (p->size < 0 || p->size == 0) {
		/* Learn its size; from 0 our newest needs no proof. */
		p->old = 0;
		p->sent = n;
	} else if (p->size == n) {
		if (p->acked)
			return;
		p->old = p->sent = n;
	} else if (p->size < n) {
		evbuffer_drain(p->note, evbuffer_get_length(p->note));
		if ((r = store_next_checkpoint(st, p->db->log, p->size, &size,
		    p->note, p->proof)) <= 0) {
			snprintf(p->status, sizeof(p->status), "at tree %lld, "
			    "not a trust base of ours", (long long)p->size);
			if (r < 0)
				log_warnx("peer '%s': %s", p->url,
				    store_errmsg(st));
			return;
		}
		p->old = p->size;
		p->sent = size;
	} else {
		snprintf(p->status, sizeof(p->status), "ahead of us at tree "
		    "%lld", (long long)p->size);
		return;
	}
	submit(p);
}

int
peers_entry(const char *entry, size_t *urllen, struct note_verifier *v)
{
	const char	*sp, *k;

	if ((sp = strchr(entry, ' ')) == NULL)
		return -1;
	k = sp + strspn(sp, " ");
	*urllen = sp - entry;
	return note_cosigner_parse(k, strlen(k), v) == 0 ? 0 : -1;
}

int
peers_open(struct env *env, struct db *db, char *const *entries, int n)
{
	static int	 metrics;
	struct peer	*p;
	size_t		 urllen;
	int		 i;

	if (n == 0)
		return 0;
	if ((db->peers = calloc(n, sizeof(*db->peers))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	for (i = 0; i < n; i++) {
		p = &db->peers[db->npeers];
		p->db = db;
		p->size = -1;
		if (peers_entry(entries[i], &urllen, &p->v) != 0) {
			log_warnx("'%s': witness = '%s': want URL and the "
			    "witness's cosignature/v1 verifier key", db->name,
			    entries[i]);
			return -1;
		}
		if ((p->url = strndup(entries[i], urllen)) == NULL ||
		    (p->note = evbuffer_new()) == NULL ||
		    (p->proof = evbuffer_new()) == NULL) {
			log_warnx("peers: out of memory");
			free(p->url);
			return -1;
		}
		while (p->url[0] != '\0' && p->url[strlen(p->url) - 1] == '/')
			p->url[strlen(p->url) - 1] = '\0';
		snprintf(p->status, sizeof(p->status), "nothing submitted yet");
		db->npeers++;
	}
	if (!metrics && env_metrics_add(env, peers_metrics) != 0)
		return -1;
	metrics = 1;
	return 0;
}

void
peers_reset(struct db *db)
{
	struct peer	*p;
	int		 i;

	for (i = 0; i < db->npeers; i++) {
		p = &db->peers[i];
		__atomic_store_n(&p->split, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->size, -1, __ATOMIC_RELAXED);
		p->acked = 0;
		p->backoff = 0;
		snprintf(p->status, sizeof(p->status), "asked again after an "
		    "unfreeze");
	}
	peers_kick(db);
}

void
peers_kick(struct db *db)
{
	int	 i;

	for (i = 0; i < db->npeers; i++)
		step(&db->peers[i]);
}

void
peers_metrics(struct env *env, struct evbuffer *out)
{
	static const struct {
		const char	*name, *type, *help;
	} fam[] = {
		{ "sumdbd_witness_peer_size", "gauge",
		    "The tree size a peer witness last cosigned; -1: unknown." },
		{ "sumdbd_witness_peer_cosigned_total", "counter",
		    "Cosignatures received from a peer witness." },
		{ "sumdbd_witness_peer_failures_total", "counter",
		    "Submissions to a peer witness that failed." },
		{ "sumdbd_witness_peer_split_view", "gauge",
		    "1 when a peer witness holds another tree of the log." },
	};
	struct peer	*p;
	struct db	*db;
	size_t		 f;
	int		 i, k, any = 0;
	long long	 v;

	for (k = 0; k < env->ndbs; k++)
		any += env->dbs[k]->npeers;
	for (f = 0; any && f < sizeof(fam) / sizeof(fam[0]); f++) {
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
		    fam[f].name, fam[f].help, fam[f].name, fam[f].type);
		for (k = 0; k < env->ndbs; k++) {
			db = env->dbs[k];
			for (i = 0; i < db->npeers; i++) {
				p = &db->peers[i];
				v = f == 0 ? (long long)__atomic_load_n(&p->size,
				    __ATOMIC_RELAXED) : f == 1 ?
				    (long long)__atomic_load_n(&p->cosigned,
				    __ATOMIC_RELAXED) : f == 2 ?
				    (long long)__atomic_load_n(&p->failed,
				    __ATOMIC_RELAXED) : __atomic_load_n(
				    &p->split, __ATOMIC_RELAXED);
				evbuffer_add_printf(out, "%s{db=\"%s\","
				    "peer=\"%s\"} %lld\n", fam[f].name, db->name,
				    p->url, v);
			}
		}
	}
}

int
peers_policy(struct db *db, struct evbuffer *out)
{
	int	 i;

	if (evbuffer_add_printf(out, "quorum %d\n", db->quorum > 0 ?
	    db->quorum : 1) < 0)
		return -1;
	for (i = 0; i < db->npeers; i++)
		if (evbuffer_add_printf(out, "witness %s ", db->peers[i].url) <
		    0 || note_verifier_format(&db->peers[i].v, out) != 0 ||
		    evbuffer_add(out, "\n", 1) != 0)
			return -1;
	return 0;
}

void
peers_free(struct db *db)
{
	int	 i;

	for (i = 0; i < db->npeers; i++) {
		free(db->peers[i].url);
		if (db->peers[i].note != NULL)
			evbuffer_free(db->peers[i].note);
		if (db->peers[i].proof != NULL)
			evbuffer_free(db->peers[i].proof);
		if (db->peers[i].timer != NULL)
			event_free(db->peers[i].timer);
	}
	free(db->peers);
	db->peers = NULL;
	db->npeers = 0;
}
