/*
 * status.c: /metrics and /healthz.  Each worker counts its own answers
 * by route and status, and their latencies in a histogram, with relaxed
 * atomics; /metrics adds up every worker's counts, each database's
 * trees, ages and refusals (atomics of struct db), and the sections the
 * writers registered (env_metrics_add()); /healthz says whether every
 * database is fresh and unfrozen.
 */

#include <sys/stat.h>

#include <event2/buffer.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "store.h"

static const char *const routes[RT_MAX] = {
	"supported", "latest", "lookup", "tile", "tuf", "audit", "metrics",
	"healthz", "witness", "other"
};

/* The statuses counted one by one; the last slot is the rest. */
static const int codes[ST_MAX - 1] = {
	200, 304, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 502, 503
};

/* Upper bounds of the latency buckets, seconds; the last is +Inf. */
static const double bounds[HIST_MAX - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 1, 10
};

/* An answer with code, on route, to a request whole since t0. */
void
metrics_observe(struct worker *w, int route, int code, double t0)
{
	double	 dt = mono() - t0;
	int	 s, b;

	if (route < 0 || route >= RT_MAX)
		route = RT_OTHER;
	for (s = 0; s < ST_MAX - 1; s++)
		if (codes[s] == code)
			break;
	for (b = 0; b < HIST_MAX - 1; b++)
		if (dt <= bounds[b])
			break;
	__atomic_add_fetch(&w->stats.status[route][s], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.hist[route][b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->stats.usec[route], (uint64_t)(dt * 1e6),
	    __ATOMIC_RELAXED);
}

#define LOAD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

/* Every worker's counts added up. */
static void
total(struct env *env, struct httpstats *t)
{
	struct httpstats *ws;
	int		 i, r, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < env->nworkers; i++) {
		ws = &env->workers[i].stats;
		for (r = 0; r < RT_MAX; r++) {
			for (k = 0; k < ST_MAX; k++)
				t->status[r][k] += LOAD(&ws->status[r][k]);
			for (k = 0; k < HIST_MAX; k++)
				t->hist[r][k] += LOAD(&ws->hist[r][k]);
			t->usec[r] += LOAD(&ws->usec[r]);
		}
	}
}

/* The HTTP counters over all workers and the hooks' sections. */
static void
counters(struct env *env, struct evbuffer *out)
{
	struct httpstats t;
	uint64_t	 n, cum, hits = 0, misses = 0;
	int64_t		 conns = 0;
	int		 r, s, b, i;

	total(env, &t);

	evbuffer_add_printf(out, "# HELP sumdbd_http_requests_total HTTP "
	    "answers by route and status.\n"
	    "# TYPE sumdbd_http_requests_total counter\n");
	for (r = 0; r < RT_MAX; r++)
		for (s = 0; s < ST_MAX; s++) {
			if ((n = t.status[r][s]) == 0 &&
			    s != 0)
				continue;
			if (s < ST_MAX - 1)
				evbuffer_add_printf(out,
				    "sumdbd_http_requests_total{route=\"%s\","
				    "code=\"%d\"} %llu\n", routes[r], codes[s],
				    (unsigned long long)n);
			else
				evbuffer_add_printf(out,
				    "sumdbd_http_requests_total{route=\"%s\","
				    "code=\"other\"} %llu\n", routes[r],
				    (unsigned long long)n);
		}
	evbuffer_add_printf(out, "# HELP sumdbd_http_request_duration_seconds "
	    "Time from a whole request to its answer.\n"
	    "# TYPE sumdbd_http_request_duration_seconds histogram\n");
	for (r = 0; r < RT_MAX; r++) {
		cum = 0;
		for (b = 0; b < HIST_MAX; b++) {
			cum += t.hist[r][b];
			if (b < HIST_MAX - 1)
				evbuffer_add_printf(out,
				    "sumdbd_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"%g\"} %llu\n", routes[r],
				    bounds[b], (unsigned long long)cum);
			else
				evbuffer_add_printf(out,
				    "sumdbd_http_request_duration_seconds_bucket"
				    "{route=\"%s\",le=\"+Inf\"} %llu\n",
				    routes[r], (unsigned long long)cum);
		}
		evbuffer_add_printf(out,
		    "sumdbd_http_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\nsumdbd_http_request_duration_seconds_count"
		    "{route=\"%s\"} %llu\n", routes[r],
		    t.usec[r] / 1e6, routes[r],
		    (unsigned long long)cum);
	}
	for (i = 0; i < env->nworkers; i++) {
		conns += __atomic_load_n(&env->workers[i].nconns,
		    __ATOMIC_RELAXED);
		hits += __atomic_load_n(&env->workers[i].cache.hits,
		    __ATOMIC_RELAXED);
		misses += __atomic_load_n(&env->workers[i].cache.misses,
		    __ATOMIC_RELAXED);
	}
	evbuffer_add_printf(out, "# HELP sumdbd_cache_lookups_total Answers "
	    "looked for in the workers' caches of tiles and records, by "
	    "result.\n# TYPE sumdbd_cache_lookups_total counter\n"
	    "sumdbd_cache_lookups_total{result=\"hit\"} %llu\n"
	    "sumdbd_cache_lookups_total{result=\"miss\"} %llu\n",
	    (unsigned long long)hits, (unsigned long long)misses);
	evbuffer_add_printf(out, "# HELP sumdbd_http_connections Client "
	    "connections open.\n# TYPE sumdbd_http_connections gauge\n"
	    "sumdbd_http_connections %lld\n", (long long)conns);
	evbuffer_add_printf(out, "# HELP sumdbd_reloads_total "
	    "Configuration reloads (SIGHUP) by result.\n"
	    "# TYPE sumdbd_reloads_total counter\n"
	    "sumdbd_reloads_total{result=\"ok\"} %d\n"
	    "sumdbd_reloads_total{result=\"error\"} %d\n",
	    __atomic_load_n(&env->reloads, __ATOMIC_RELAXED),
	    __atomic_load_n(&env->reload_errors, __ATOMIC_RELAXED));
	env_metrics(env, out);
}

/*
 * Seconds since db's trust base was last confirmed: by the upstream
 * (a sync that verified its checkpoint) or, offline, by an import.
 */
static int64_t
verified_age(struct db *db)
{
	int64_t	 t = __atomic_load_n(&db->tb_time, __ATOMIC_RELAXED);
	int64_t	 v = __atomic_load_n(&db->verified_at, __ATOMIC_RELAXED);

	if (v > t)
		t = v;
	return t > 0 ? (int64_t)time(NULL) - t : -1;
}

/*
 * Bytes of the store: the SQLite database and its write-ahead log, or
 * PostgreSQL's size of the database.
 */
static long long
database_bytes(struct store *st, const char *path)
{
	struct stat	 sb;
	char		 wal[4096];
	long long	 n = 0;
	int64_t		 v;

	if (config_is_pg(path))
		return store_bytes(st, &v) == 0 ? (long long)v : -1;
	if (stat(path, &sb) == 0)
		n += sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0)
		n += sb.st_size;
	return n;
}

/* Each database's gauge or counter: one line per database. */
static void
per_db(struct env *env, struct evbuffer *out, const char *name,
    const char *type, const char *help, int mirrors,
    long long (*value)(struct db *))
{
	int	 i;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
	for (i = 0; i < env->ndbs; i++)
		if (!mirrors || env->dbs[i]->kind == DB_MIRROR)
			evbuffer_add_printf(out, "%s{db=\"%s\"} %lld\n", name,
			    env->dbs[i]->name, value(env->dbs[i]));
}

static long long
m_age(struct db *db)
{
	int64_t	 t = __atomic_load_n(&db->tb_time, __ATOMIC_RELAXED);

	return t > 0 ? (long long)(time(NULL) - t) : -1;
}

static long long
m_verified(struct db *db)
{
	return verified_age(db);
}

static long long
m_upstream(struct db *db)
{
	return __atomic_load_n(&db->upstream_size, __ATOMIC_RELAXED);
}

static long long
m_lag(struct db *db)
{
	int64_t	 u = __atomic_load_n(&db->upstream_size, __ATOMIC_RELAXED);
	int64_t	 n = __atomic_load_n(&db->size, __ATOMIC_RELAXED);

	return u > n ? u - n : 0;
}

static long long
m_added(struct db *db)
{
	return (long long)__atomic_load_n(&db->added, __ATOMIC_RELAXED);
}

/* 200 when every database serves verified data, else 503 and why. */
/*
 * A witnessed log's checkpoint that waits longer than this for its
 * quorum makes /healthz fail: cosignatures take milliseconds.
 */
#define HELD_MAX	10	/* s */

void
serve_healthz(struct worker *w, struct hreq *req)
{
	struct env	*env = w->env;
	struct evbuffer	*body;
	struct db	*db;
	char		 who[512];
	int64_t		 age, held;
	int		 i, bad = 0;

	if ((body = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (__atomic_load_n(&db->frozen, __ATOMIC_ACQUIRE) ||
		    (db->kind == DB_PRIVATE &&
		    __atomic_load_n(&db->broken, __ATOMIC_ACQUIRE))) {
			evbuffer_add_printf(body, "%s%s frozen: it refused a "
			    "checkpoint", bad++ ? "; " : "", db->name);
			continue;
		}
		held = __atomic_load_n(&db->held_since, __ATOMIC_RELAXED);
		if (db->kind == DB_PRIVATE && held > 0 &&
		    time(NULL) - held > HELD_MAX)
			evbuffer_add_printf(body, "%s%s: a signed checkpoint "
			    "waits for its witnesses' cosignatures for %lld s; "
			    "serving tree %lld", bad++ ? "; " : "", db->name,
			    (long long)(time(NULL) - held),
			    (long long)__atomic_load_n(&db->size,
			    __ATOMIC_RELAXED));
		age = verified_age(db);
		if (w->conf.max_age[i] == 0)
			continue;
		if (age < 0)
			evbuffer_add_printf(body, "%s%s stale: no checkpoint "
			    "verified yet (max_age %lld s)", bad++ ? "; " : "",
			    db->name, (long long)(w->conf.max_age[i] / 1000));
		else if (age * 1000 > w->conf.max_age[i])
			evbuffer_add_printf(body, "%s%s stale: no checkpoint "
			    "verified for %lld s (max_age %lld s)",
			    bad++ ? "; " : "", db->name, (long long)age,
			    (long long)(w->conf.max_age[i] / 1000));
	}
	if (bad) {
		evbuffer_add(body, "\n", 1);
		http_reply(req, 503, "text/plain; charset=utf-8", "no-store",
		    body);
	} else {
		/* On a cluster: which node writes, how long its lease runs. */
		if (cluster_status(env, who, sizeof(who)) != 0)
			evbuffer_add_printf(body, "ok: %s\n", who);
		else
			evbuffer_add_printf(body, "ok\n");
		http_reply(req, 200, "text/plain; charset=utf-8", "no-store",
		    body);
	}
	evbuffer_free(body);
}

/* Prometheus text format. */
void
serve_metrics(struct worker *w, struct hreq *req)
{
	struct env	*env = w->env;
	struct evbuffer	*body;
	struct dbview	*v;
	struct db	*db;
	int		 i, k;

	if ((body = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(body, "# HELP sumdbd_tree_size Records in the "
	    "newest checkpoint (trust base) served.\n"
	    "# TYPE sumdbd_tree_size gauge\n");
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		v = serve_view(w, db, 0);
		evbuffer_add_printf(body, "sumdbd_tree_size{db=\"%s\"} %lld\n",
		    db->name, v != NULL ? (long long)v->size : 0LL);
	}
	evbuffer_add_printf(body, "# HELP sumdbd_frozen 1 when a database "
	    "refused a fork and stopped advancing.\n"
	    "# TYPE sumdbd_frozen gauge\n");
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		evbuffer_add_printf(body, "sumdbd_frozen{db=\"%s\"} %d\n",
		    db->name, __atomic_load_n(&db->frozen, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&db->broken, __ATOMIC_ACQUIRE));
	}
	evbuffer_add_printf(body, "# HELP sumdbd_log_held_seconds How long "
	    "a witnessed log's newest checkpoint has waited for its quorum "
	    "of cosignatures; 0: published.\n"
	    "# TYPE sumdbd_log_held_seconds gauge\n");
	for (i = 0; i < env->ndbs; i++) {
		int64_t	 held = __atomic_load_n(&env->dbs[i]->held_since,
			    __ATOMIC_RELAXED);

		if (env->dbs[i]->kind == DB_PRIVATE)
			evbuffer_add_printf(body, "sumdbd_log_held_seconds"
			    "{db=\"%s\"} %lld\n", env->dbs[i]->name,
			    (long long)(held > 0 ? time(NULL) - held : 0));
	}
	evbuffer_add_printf(body, "# HELP sumdbd_refusals_total Upstream "
	    "answers refused, by kind.\n"
	    "# TYPE sumdbd_refusals_total counter\n");
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (db->kind != DB_MIRROR)
			continue;
		for (k = 0; k < R_MAX; k++)
			evbuffer_add_printf(body, "sumdbd_refusals_total{db="
			    "\"%s\",kind=\"%s\"} %llu\n", db->name,
			    refusal_name(k), (unsigned long long)
			    __atomic_load_n(&db->refusals[k], __ATOMIC_RELAXED));
	}
	evbuffer_add_printf(body, "# HELP sumdbd_full_records Records a full "
	    "mirror has verified and stored.\n"
	    "# TYPE sumdbd_full_records gauge\n"
	    "# HELP sumdbd_full_records_per_second Rate of the full sync in "
	    "progress.\n# TYPE sumdbd_full_records_per_second gauge\n"
	    "# HELP sumdbd_full_eta_seconds Time left in the full sync at "
	    "that rate.\n# TYPE sumdbd_full_eta_seconds gauge\n");
	for (i = 0; i < env->ndbs; i++) {
		db = env->dbs[i];
		if (!w->conf.full[db->idx])
			continue;
		int64_t	 done = __atomic_load_n(&db->full_next,
			    __ATOMIC_RELAXED);
		double	 rate = (double)__atomic_load_n(&db->full_rate,
			    __ATOMIC_RELAXED);

		v = serve_view(w, db, 0);
		evbuffer_add_printf(body, "sumdbd_full_records{db=\"%s\"} "
		    "%lld\nsumdbd_full_records_per_second{db=\"%s\"} %.0f\n"
		    "sumdbd_full_eta_seconds{db=\"%s\"} %.0f\n", db->name,
		    (long long)done, db->name, rate, db->name,
		    rate > 0 && v != NULL && v->size > done ?
		    (v->size - done) / rate : 0.0);
	}
	per_db(env, body, "sumdbd_checkpoint_age_seconds", "gauge",
	    "Seconds since the newest checkpoint (trust base) was stored; "
	    "-1 before the first.", 0, m_age);
	per_db(env, body, "sumdbd_verified_age_seconds", "gauge",
	    "Seconds since the upstream (or an import) last confirmed the "
	    "trust base; -1 before the first.", 1, m_verified);
	per_db(env, body, "sumdbd_upstream_tree_size", "gauge",
	    "Records in the newest upstream checkpoint seen; -1 before the "
	    "first.", 1, m_upstream);
	per_db(env, body, "sumdbd_sync_lag_records", "gauge",
	    "Records the upstream has signed beyond the trust base.", 1,
	    m_lag);
	per_db(env, body, "sumdbd_records_added_total", "counter",
	    "Records verified and stored (mirrors) or appended (the private "
	    "log) since start.", 0, m_added);
	evbuffer_add_printf(body, "# HELP sumdbd_store_bytes Size of the "
	    "store: SQLite's file and write-ahead log, or the PostgreSQL "
	    "database.\n"
	    "# TYPE sumdbd_store_bytes gauge\nsumdbd_store_bytes %lld\n",
	    database_bytes(w->st, w->conf.database));
	counters(env, body);
	privacy_metrics(body);
	auth_metrics(body);
	http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    "no-store", body);
	evbuffer_free(body);
}
