/*
 * witness.c: the witness's routes (c2sp.org/tlog-witness).  POST
 * /witness/add-checkpoint hands its body to the main thread, which
 * checks it and updates the witness's state (daemon/witness/), with at
 * most [witness] max_pending requests queued; GET /witness/latest/NAME
 * serves the checkpoint the witness last cosigned for [witness-log
 * NAME], read from this worker's store.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "store.h"

void
serve_witness_add(struct worker *w, struct hreq *req, const char *query)
{
	struct missreq	*m;
	size_t		 len = req->body != NULL ?
			    evbuffer_get_length(req->body) : 0;

	(void)query;
	if (!w->conf.witness) {
		http_error(req, 404, "not found: no witness here");
		return;
	}
	if (len > WITNESS_REQ_MAX) {
		http_error(req, 413, "add-checkpoint body over %d bytes",
		    WITNESS_REQ_MAX);
		return;
	}
	if (__atomic_add_fetch(&w->env->witness_pending, 1, __ATOMIC_RELAXED) >
	    w->conf.witness_max_pending) {
		__atomic_sub_fetch(&w->env->witness_pending, 1,
		    __ATOMIC_RELAXED);
		http_header(req, "Retry-After", "1");
		http_error(req, 503, "too many add-checkpoint requests queued");
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->in = malloc(len > 0 ? len : 1)) == NULL) {
		free(m);
		__atomic_sub_fetch(&w->env->witness_pending, 1,
		    __ATOMIC_RELAXED);
		http_error(req, 500, "out of memory");
		return;
	}
	if (len > 0)
		evbuffer_remove(req->body, m->in, len);
	m->inlen = len;
	m->port = &w->port;
	m->req = req;
	m->kind = MISS_WITNESS;
	handoff_post(w->env, m);
}

void
witness_answered(struct worker *w, struct missreq *m)
{
	struct evbuffer	*body;

	__atomic_sub_fetch(&w->env->witness_pending, 1, __ATOMIC_RELAXED);
	if (m->status == 503)
		http_header(m->req, "Retry-After", "5");
	if (m->out == NULL) {
		http_error(m->req, m->status, "%s", m->err);
		return;
	}
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, m->out, m->outlen) != 0)
		http_error(m->req, 500, "out of memory");
	else
		http_reply(m->req, m->status, m->type, "no-store", body);
	if (body != NULL)
		evbuffer_free(body);
}

void
serve_witness_latest(struct worker *w, struct hreq *req, const char *name)
{
	struct evbuffer	*note;
	struct dbview	*v = NULL;
	uint8_t		 root[STORE_HASH_SIZE];
	int64_t		 size;
	int		 r, i;

	if (!w->conf.witness) {
		http_error(req, 404, "not found: no witness here");
		return;
	}
	/* A mirrored log: the mirror's newest trust base, cosigned. */
	for (i = 0; i < w->env->ndbs; i++)
		if (w->conf.witnessed[i] &&
		    strcmp(w->env->dbs[i]->name, name) == 0 &&
		    (v = serve_view(w, w->env->dbs[i], 0)) != NULL)
			break;
	if ((note = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if (i < w->env->ndbs && v != NULL) {
		/* http_reply() drains the body: send a copy. */
		if (evbuffer_add(note, evbuffer_pullup(v->latest, -1),
		    evbuffer_get_length(v->latest)) != 0)
			http_error(req, 500, "out of memory");
		else
			http_reply(req, 200, TYPE_TEXT, "no-store", note);
		evbuffer_free(note);
		return;
	}
	if ((r = store_witness_get(w->st, name, &size, root, note)) < 0) {
		log_warnx("witness state of '%s': %s", name,
		    store_errmsg(w->st));
		http_error(req, 500, "internal error");
	} else if (r == 0)
		http_error(req, 404, "not found: no checkpoint cosigned for "
		    "that log");
	else
		http_reply(req, 200, TYPE_TEXT, "no-store", note);
	evbuffer_free(note);
}
