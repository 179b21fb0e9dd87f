/*
 * storew.c: the store thread.  Bulk writes (a full mirror's segments of
 * record texts and hash tiles, and the lookup index built after them)
 * run here, on a thread of their own with a store connection of their
 * own, so that the main loop goes on fetching and verifying the next
 * segment meanwhile.  Jobs run one at a time in the order submitted;
 * each one's done() is called back in the main thread.  A job's run()
 * runs on this thread: it may use only the store it is given and what
 * its submitter handed it, and the atomics of struct db.
 */

#include <event2/event.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sumdbd.h"
#include "store.h"

TAILQ_HEAD(storew_jobs, storew_job);

struct storew {
	struct env		*env;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct storew_jobs	 todo;		/* guarded by mu */
	struct storew_jobs	 done;		/* guarded by mu */
	int			 stopping;	/* guarded by mu */
	struct store		*st;		/* the thread's connection */
	struct event		*done_ev;	/* main thread */
};

/* The store thread: each job in turn, then its result to the main loop. */
static void *
loop(void *arg)
{
	struct storew		*w = arg;
	struct storew_job	*j;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stopping && TAILQ_EMPTY(&w->todo))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		j = TAILQ_FIRST(&w->todo);
		TAILQ_REMOVE(&w->todo, j, entry);
		pthread_mutex_unlock(&w->mu);
		j->rv = j->run(w->st, j->arg);
		pthread_mutex_lock(&w->mu);
		TAILQ_INSERT_TAIL(&w->done, j, entry);
		event_active(w->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Main thread: the results of the jobs that ran. */
static void
took(evutil_socket_t fd, short ev, void *arg)
{
	struct storew		*w = arg;
	struct storew_jobs	 l;
	struct storew_job	*j;

	(void)fd;
	(void)ev;
	TAILQ_INIT(&l);
	pthread_mutex_lock(&w->mu);
	TAILQ_CONCAT(&l, &w->done, entry);
	pthread_mutex_unlock(&w->mu);
	while ((j = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, j, entry);
		j->done(j->arg, j->rv);
	}
}

/* Main thread: the thread and its connection, on first use. */
static struct storew *
start(struct env *env)
{
	struct storew	*w;
	char		 err[512];

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("store thread");
		return NULL;
	}
	w->env = env;
	TAILQ_INIT(&w->todo);
	TAILQ_INIT(&w->done);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->st = store_open(env->conf.database, err, sizeof(err))) ==
	    NULL)
		log_warnx("store thread: %s", err);
	else if (cluster_fence(env, w->st), store_cache(w->st, 16384) != 0)
		log_warnx("store thread: %s", store_errmsg(w->st));
	else if ((w->done_ev = event_new(env->base, -1, 0, took, w)) == NULL)
		log_warnx("store thread: out of memory");
	else if (pthread_create(&w->thread, NULL, loop, w) != 0)
		log_warn("store thread");
	else
		return w;
	if (w->done_ev != NULL)
		event_free(w->done_ev);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return NULL;
}

int
storew_submit(struct env *env, struct storew_job *j)
{
	struct storew	*w;

	if (env->storew == NULL && (env->storew = start(env)) == NULL)
		return -1;
	w = env->storew;
	pthread_mutex_lock(&w->mu);
	TAILQ_INSERT_TAIL(&w->todo, j, entry);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
storew_stop(struct env *env)
{
	struct storew		*w = env->storew;
	struct storew_job	*j;

	if (w == NULL)
		return;
	/* The job running gives up at once; its transaction rolls back. */
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	store_interrupt(w->st);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* Results not yet taken, then the jobs that never ran. */
	took(-1, 0, w);
	while ((j = TAILQ_FIRST(&w->todo)) != NULL) {
		TAILQ_REMOVE(&w->todo, j, entry);
		j->done(j->arg, -1);
	}
	event_free(w->done_ev);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	env->storew = NULL;
}
