/*
 * sync.c: verifying mirrors of other checksum databases, the part the
 * rest of sumdbd sees: opening each [mirror] (mirror_open()), polling
 * the upstream's /latest (or, offline, watching the store), taking the
 * workers' misses (db->ops->miss) into lookup and tile jobs, and
 * freeing it all.  Everything here runs in the main thread; a refusal
 * keeps the evidence, a fork freezes the mirror until sumdbd unfreeze.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "store.h"

/*
 * After a sync: poll again after the poll interval, or sooner after a
 * failure (1 s, doubling); start the lookups that waited for a first
 * trust base.
 */
void
sync_done(struct env *env, struct db *db, int r)
{
	struct mjob	*j;
	struct timeval	 tv;
	int64_t		 ms = db->mc->poll;

	(void)env;
	if (r == V_UPSTREAM || r == V_NOTFOUND || r == V_ERROR) {
		/* Capped at the poll interval: never overflows. */
		db->backoff = db->backoff == 0 ? 1000 : db->backoff * 2;
		if (db->backoff > ms)
			db->backoff = ms;
		ms = db->backoff;
	} else
		db->backoff = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (db->poll_ev != NULL)
		evtimer_add(db->poll_ev, &tv);
	while ((j = TAILQ_FIRST(&db->waitsync)) != NULL) {
		TAILQ_REMOVE(&db->waitsync, j, entry);
		TAILQ_INSERT_TAIL(&db->jobs, j, entry);
		job_admit(j);
	}
	if (strcmp(db->mc->mode, "full") == 0)
		full_start(db);
}

static void
poll_latest(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct env	*env = db->env;
	char		 why[512];
	int		 r;

	(void)fd;
	(void)ev;
	/* An operator may have unfrozen it meanwhile. */
	if ((r = store_frozen(env->st, db->log, why, sizeof(why))) == 0 &&
	    db->frozen) {
		log_info("mirror '%s': unfrozen by the operator", db->name);
		__atomic_store_n(&db->frozen, 0, __ATOMIC_RELEASE);
		/* Its witnesses are asked again, from scratch. */
		peers_reset(db);
	}
	/* Another node writes: it polls; this one serves what it stored. */
	if (db->frozen || db->sync != NULL || !env_writer(env)) {
		sync_done(env, db, V_OK);
		return;
	}
	db->last_poll = mono();
	if ((db->sync = job_new(env, db, J_SYNC)) == NULL) {
		sync_done(env, db, V_ERROR);
		return;
	}
	snprintf(db->sync->key, sizeof(db->sync->key), "latest");
	job_get(db->sync, "latest", 64 << 10);
}

/* db->ops->miss: a lookup or tile a worker did not find stored. */
static void
miss(struct db *db, struct missreq *m)
{
	struct env	*env = db->env;
	struct mjob	*j;
	char		 key[2200];

	if (db->frozen) {
		handoff_answer(m, 503, -1, "mirror frozen after a refused "
		    "checkpoint: see sumdbd unfreeze");
		return;
	}
	/* A full mirror that holds the whole tree has nothing to ask. */
	if (m->kind == MISS_LOOKUP && strcmp(db->mc->mode, "full") == 0 &&
	    db->size > 0 && db->full_next >= db->size) {
		snprintf(key, sizeof(key), "not found: not in mirrored log at "
		    "tree %lld", (long long)db->size);
		handoff_answer(m, 404, -1, key);
		return;
	}
	if (m->kind == MISS_LOOKUP)
		snprintf(key, sizeof(key), "lookup %s@%s", m->path, m->version);
	else
		snprintf(key, sizeof(key), "%s", m->tilepath);
	TAILQ_FOREACH(j, &db->jobs, entry)
		if (strcmp(j->key, key) == 0) {
			TAILQ_INSERT_TAIL(&j->waiters, m, entry);
			return;
		}
	TAILQ_FOREACH(j, &db->waitsync, entry)
		if (strcmp(j->key, key) == 0) {
			TAILQ_INSERT_TAIL(&j->waiters, m, entry);
			return;
		}
	if ((j = job_new(env, db, m->kind == MISS_LOOKUP ? J_LOOKUP :
	    J_TILE)) == NULL) {
		handoff_answer(m, 500, -1, "out of memory");
		return;
	}
	snprintf(j->key, sizeof(j->key), "%s", key);
	TAILQ_INSERT_TAIL(&j->waiters, m, entry);
	if (m->kind == MISS_TILE &&
	    tile_parse(m->tilepath, strlen(m->tilepath), &j->want) != 0) {
		TAILQ_INSERT_TAIL(&db->jobs, j, entry);
		job_finish(j, V_ERROR);
		return;
	}
	snprintf(j->path, sizeof(j->path), "%s", m->path);
	snprintf(j->version, sizeof(j->version), "%s", m->version);
	/*
	 * Without a trust base, or for a tile beyond it, take the
	 * upstream's /latest first (a tile: at most once a second).
	 */
	if (m->kind == MISS_TILE && !tile_in_tree(&j->want, db->size)) {
		if (db->mc->offline || (db->sync == NULL &&
		    mono() - db->last_poll < 1)) {
			snprintf(j->err, sizeof(j->err), "not found: tile "
			    "beyond tree size %lld", (long long)db->size);
			TAILQ_INSERT_TAIL(&db->jobs, j, entry);
			job_finish(j, V_NOTFOUND);
			return;
		}
		TAILQ_INSERT_TAIL(&db->waitsync, j, entry);
		if (db->sync == NULL) {
			event_del(db->poll_ev);
			poll_latest(-1, 0, db);
		}
		return;
	}
	if (db->size == 0 && !db->mc->offline) {
		TAILQ_INSERT_TAIL(&db->waitsync, j, entry);
		if (db->sync == NULL) {
			event_del(db->poll_ev);
			poll_latest(-1, 0, db);
		}
		return;
	}
	TAILQ_INSERT_TAIL(&db->jobs, j, entry);
	job_admit(j);
}

static const struct dbops mirror_ops = { miss, mirror_split };

int
mirror_open(struct env *env)
{
	struct config_mirror	*mc;
	struct db		*db;
	int			 i, r;

	for (i = 0; i < env->conf.nmirrors; i++) {
		mc = &env->conf.mirrors[i];
		if ((db = calloc(1, sizeof(*db))) == NULL ||
		    (db->name = strdup(mc->name)) == NULL) {
			log_warn("calloc");
			free(db);
			return -1;
		}
		TAILQ_INIT(&db->fetching);
		TAILQ_INIT(&db->ready);
		TAILQ_INIT(&db->jobs);
		TAILQ_INIT(&db->waitsync);
		db->kind = DB_MIRROR;
		db->ops = &mirror_ops;
		db->mc = mc;
		db->idx = env->ndbs;
		db->env = env;
		env->dbs[env->ndbs++] = db;
		if (note_verifier_parse(mc->key, strlen(mc->key),
		    &db->vkey) != 0) {
			log_warnx("%s:%d: [mirror %s] key: not a verifier key",
			    env->confpath, mc->line, mc->name);
			return -1;
		}
		if (strcmp(db->vkey.name, mc->name) != 0) {
			log_warnx("%s:%d: [mirror %s]: the key is for '%s'",
			    env->confpath, mc->line, mc->name,
			    db->vkey.name);
			return -1;
		}
		if (store_log(env->st, db->name, "mirror", &db->log) != 0 ||
		    (r = store_frozen(env->st, db->log, db->frozen_why,
		    sizeof(db->frozen_why))) < 0) {
			log_warnx("mirror '%s': %s", db->name,
			    store_errmsg(env->st));
			return -1;
		}
		db->frozen = r;
		db->upstream_size = -1;
		if (store_full_next(env->st, db->log, &db->full_next) != 0) {
			log_warnx("mirror '%s': %s", db->name,
			    store_errmsg(env->st));
			return -1;
		}
		db->full_queued = db->full_next;
		if (peers_open(env, db, mc->witnesses, mc->nwitnesses) != 0)
			return -1;
		if (r)
			log_warnx("mirror '%s' is frozen: %s; 'sumdbd unfreeze "
			    "%s' resumes it", db->name, db->frozen_why,
			    db->name);
		(void)db_refresh(env, db);
	}
	return 0;
}

/* Offline: what `sumdbd import` stored since, every second. */
static void
reload(evutil_socket_t fd, short ev, void *arg)
{
	struct db	*db = arg;
	struct timeval	 tv = { 1, 0 };
	int64_t		 size = db->size;

	(void)fd;
	(void)ev;
	if (store_latest(db->env->st, db->log, NULL, &size, (uint8_t[32]){ 0 }) ==
	    1 && size != db->size) {
		log_info("mirror '%s': trust base %lld from an import",
		    db->name, (long long)size);
		(void)db_refresh(db->env, db);
		peers_kick(db);
	}
	evtimer_add(db->poll_ev, &tv);
}

/* This node became the writer: each online mirror polls now. */
static void
became_writer(struct env *env)
{
	struct timeval	 now = { 0, 0 };
	int		 i;

	for (i = 0; i < env->ndbs; i++)
		if (env->dbs[i]->kind == DB_MIRROR &&
		    env->dbs[i]->poll_ev != NULL && !env->dbs[i]->mc->offline) {
			/* A full sync goes on from the progress stored. */
			if (strcmp(env->dbs[i]->mc->mode, "full") == 0)
				full_reset(env->dbs[i]);
			evtimer_del(env->dbs[i]->poll_ev);
			evtimer_add(env->dbs[i]->poll_ev, &now);
			peers_kick(env->dbs[i]);
		}
}

void
mirror_start(struct env *env)
{
	struct db	*db;
	struct timeval	 now = { 0, 0 };
	int		 i;

	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (db->kind != DB_MIRROR)
			continue;
		peers_kick(db);
		/* Only mirrors count private-path lookups to store. */
		if (privacy_start(env) != 0)
			fatalx("mirror: out of memory");
		log_info("mirror '%s': %s, %s, trust base %lld", db->name,
		    db->mc->mode, db->mc->offline ? "offline" : "online",
		    (long long)db->size);
		if (db->mc->offline) {
			/* Imports change the store under us: look again. */
			if ((db->poll_ev = evtimer_new(env->base, reload, db)) ==
			    NULL)
				fatalx("mirror: out of memory");
			evtimer_add(db->poll_ev, &now);
			continue;
		}
		if ((db->poll_ev = evtimer_new(env->base, poll_latest, db)) ==
		    NULL)
			fatalx("mirror: out of memory");
		evtimer_add(db->poll_ev, &now);
	}
	if (env_on_writer(env, became_writer) != 0)
		fatalx("mirror: out of memory");
}

void
mirror_free(struct env *env)
{
	struct db	*db;
	struct mjob	*j, *next;
	struct missreq	*m;
	int		 i;

	privacy_stop(env);
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (db->kind != DB_MIRROR)
			continue;
		/* Jobs in flight die with the event loop; queued ones here. */
		for (j = TAILQ_FIRST(&db->jobs); j != NULL; j = next) {
			next = TAILQ_NEXT(j, entry);
			if (!j->queued)
				continue;
			while ((m = TAILQ_FIRST(&j->waiters)) != NULL) {
				TAILQ_REMOVE(&j->waiters, m, entry);
				free(m);
			}
			TAILQ_REMOVE(&db->jobs, j, entry);
			evbuffer_free(j->answer);
			free(j);
		}
		peers_free(db);
		if (db->poll_ev != NULL)
			event_free(db->poll_ev);
		free(db->name);
		free(db);
		env->dbs[i] = NULL;
	}
}
