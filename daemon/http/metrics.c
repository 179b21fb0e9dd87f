/*
 * metrics.c: the HTTP side of /metrics.  Each worker counts its own
 * answers by route and status, and their latencies in a histogram,
 * with relaxed atomics; /metrics adds up every worker's counts.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"

static const char *const routes[RT_MAX] = {
	"supported", "latest", "lookup", "tile", "tuf", "audit", "metrics",
	"healthz", "other"
};

/* The statuses counted one by one; the last slot is the rest. */
static const int codes[ST_MAX - 1] = {
	200, 304, 400, 404, 405, 413, 429, 500, 502, 503
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

void
metrics_http(struct env *env, struct evbuffer *out)
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
