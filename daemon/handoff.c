/*
 * handoff.c: the one queue between the worker threads and the main
 * thread.  A worker whose request misses (a lookup of a version not yet
 * in the private log, a record or tile a lazy mirror has not fetched)
 * posts a struct missreq; the main thread takes the whole queue in one
 * turn of its loop and gives each request to its database's writer
 * (db->ops->miss: the private log's batch, or a mirror); whoever
 * resolves it calls handoff_answer(), which queues it on the port of
 * the worker that holds the request and wakes that worker.  Only the
 * worker touches m->req; the main thread reads the copies in m.
 */

#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>

#include "sumdbd.h"

/* Main thread: the misses the workers queued. */
static void
take(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;
	struct misslist	 l;
	struct missreq	*m;

	(void)fd;
	(void)ev;
	TAILQ_INIT(&l);
	pthread_mutex_lock(&env->missmu);
	TAILQ_CONCAT(&l, &env->misses, entry);
	pthread_mutex_unlock(&env->missmu);
	while ((m = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, m, entry);
		/* Not the writer: the writer node answers it. */
		if (cluster_forward(env, m))
			continue;
		if (m->kind == MISS_WITNESS) {
			if (env->witness_add != NULL)
				env->witness_add(env, m);
			else
				handoff_answer(m, 404, -1, "not found");
		} else if (m->db->ops == NULL || m->db->ops->miss == NULL)
			handoff_answer(m, 404, -1, "not found");
		else
			m->db->ops->miss(m->db, m);
	}
}

int
handoff_init(struct env *env)
{
	pthread_mutex_init(&env->missmu, NULL);
	TAILQ_INIT(&env->misses);
	if ((env->miss_ev = event_new(env->base, -1, 0, take, env)) == NULL) {
		log_warnx("handoff: out of memory");
		return -1;
	}
	return 0;
}

void
handoff_free(struct env *env)
{
	struct missreq	*m;

	if (env->miss_ev == NULL)
		return;
	while ((m = TAILQ_FIRST(&env->misses)) != NULL) {
		TAILQ_REMOVE(&env->misses, m, entry);
		handoff_free_req(m);
	}
	event_free(env->miss_ev);
	env->miss_ev = NULL;
}

void
handoff_post(struct env *env, struct missreq *m)
{
	pthread_mutex_lock(&env->missmu);
	TAILQ_INSERT_TAIL(&env->misses, m, entry);
	pthread_mutex_unlock(&env->missmu);
	event_active(env->miss_ev, EV_READ, 0);
}

void
handoff_free_req(struct missreq *m)
{
	if (m == NULL)
		return;
	free(m->in);
	free(m->out);
	free(m);
}

void
handoff_answer(struct missreq *m, int status, int64_t id, const char *err)
{
	struct handoff_port	*p = m->port;

	m->status = status;
	m->id = id;
	snprintf(m->err, sizeof(m->err), "%s", err != NULL ? err : "");
	if (m->done != NULL) {
		m->done(m);
		return;
	}
	pthread_mutex_lock(&p->mu);
	TAILQ_INSERT_TAIL(&p->done, m, entry);
	pthread_mutex_unlock(&p->mu);
	event_active(p->ev, EV_READ, 0);
}

int
handoff_port_init(struct handoff_port *p, struct event_base *base,
    void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	pthread_mutex_init(&p->mu, NULL);
	TAILQ_INIT(&p->done);
	if ((p->ev = event_new(base, -1, 0, cb, arg)) == NULL)
		return -1;
	return 0;
}

void
handoff_port_take(struct handoff_port *p, struct misslist *l)
{
	TAILQ_INIT(l);
	pthread_mutex_lock(&p->mu);
	TAILQ_CONCAT(l, &p->done, entry);
	pthread_mutex_unlock(&p->mu);
}

void
handoff_port_free(struct handoff_port *p)
{
	struct missreq	*m;

	while ((m = TAILQ_FIRST(&p->done)) != NULL) {
		TAILQ_REMOVE(&p->done, m, entry);
		handoff_free_req(m);
	}
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	pthread_mutex_destroy(&p->mu);
}
