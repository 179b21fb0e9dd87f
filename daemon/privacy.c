/*
 * privacy.c: the client addresses that asked a mirror for a private
 * module path, and how often.  Workers count (privacy_count), the main
 * thread writes the counts to the store once a second, and /metrics
 * shows them: a build host that leaks private paths towards a public
 * checksum database is found by its address.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sumdbd.h"
#include "store.h"

/*
 * Client addresses that asked a mirror for private paths, and how often:
 * counted by the workers, written to the store by the main thread.
 */
#define PRIVCOUNT_MAX	256
static struct {
	struct db	*db;
	char		 addr[64];
	char		 path[256];	/* the last one asked */
	uint64_t	 n;
	uint64_t	 pending;	/* not yet in the store */
	int64_t		 last;
} privcount[PRIVCOUNT_MAX];
static pthread_mutex_t privmu = PTHREAD_MUTEX_INITIALIZER;

void
privacy_count(struct db *db, const char *addr, const char *path)
{
	int		 i;

	pthread_mutex_lock(&privmu);
	for (i = 0; i < PRIVCOUNT_MAX && privcount[i].db != NULL; i++)
		if (privcount[i].db == db &&
		    strcmp(privcount[i].addr, addr) == 0)
			break;
	if (i < PRIVCOUNT_MAX) {
		privcount[i].db = db;
		snprintf(privcount[i].addr, sizeof(privcount[i].addr), "%s",
		    addr);
		snprintf(privcount[i].path, sizeof(privcount[i].path), "%s",
		    path);
		privcount[i].n++;
		privcount[i].pending++;
		privcount[i].last = (int64_t)time(NULL);
	}
	pthread_mutex_unlock(&privmu);
	log_info("mirror '%s': private module path %s asked by %s", db->name,
	    path, addr);
}

/* Main thread: add the counts not yet stored to the store. */
static void
flush(struct env *env)
{
	struct db	*db;
	char		 addr[64], path[256];
	uint64_t	 n;
	int64_t		 last;
	int		 i;

	for (i = 0; i < PRIVCOUNT_MAX; i++) {
		pthread_mutex_lock(&privmu);
		db = privcount[i].db;
		n = privcount[i].pending;
		privcount[i].pending = 0;
		memcpy(addr, privcount[i].addr, sizeof(addr));
		memcpy(path, privcount[i].path, sizeof(path));
		last = privcount[i].last;
		pthread_mutex_unlock(&privmu);
		if (db == NULL)
			break;
		if (n > 0 && store_add_privacy(env->st, db->log, addr,
		    (int64_t)n, last, path) != 0) {
			log_warnx("privacy counts: %s", store_errmsg(env->st));
			pthread_mutex_lock(&privmu);
			privcount[i].pending += n;	/* the next time */
			pthread_mutex_unlock(&privmu);
		}
	}
}

static void
tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	flush(arg);
}

int
privacy_start(struct env *env)
{
	struct timeval	 sec = { 1, 0 };

	if (env->privacy_ev != NULL)
		return 0;
	if ((env->privacy_ev = event_new(env->base, -1, EV_PERSIST, tick,
	    env)) == NULL || event_add(env->privacy_ev, &sec) != 0)
		return -1;
	return 0;
}

void
privacy_stop(struct env *env)
{
	/* The workers are stopped: what they counted last goes in too. */
	if (env->privacy_ev != NULL) {
		event_free(env->privacy_ev);
		env->privacy_ev = NULL;
		flush(env);
	}
}

void
privacy_metrics(struct evbuffer *out)
{
	int	 i;

	evbuffer_add_printf(out, "# HELP sumdbd_private_lookups_total "
	    "Lookups of private module paths that reached a mirror, by "
	    "client.\n# TYPE sumdbd_private_lookups_total counter\n");
	pthread_mutex_lock(&privmu);
	for (i = 0; i < PRIVCOUNT_MAX && privcount[i].db != NULL; i++)
		evbuffer_add_printf(out, "sumdbd_private_lookups_total{db=\"%s\","
		    "client=\"%s\"} %llu\n", privcount[i].db->name,
		    privcount[i].addr, (unsigned long long)privcount[i].n);
	pthread_mutex_unlock(&privmu);
}
