/*
 * audit.c: POST /audit: the go.sum lines of a request's body checked
 * against this worker's store by the audit engine (daemon/audit.c), a
 * slice of lines per turn of the worker's loop, with a per-client rate
 * limit; the answer is the JSON report of "sumdbd audit --json".
 */

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "store.h"

/*
 * A POST /audit being answered, AUDIT_SLICE lines per turn of the
 * worker's loop so that its other connections are served meanwhile.
 */
#define AUDIT_SLICE	256

struct auditjob {
	TAILQ_ENTRY(auditjob)	 entry;		/* in w->audits */
	struct worker		*w;
	struct hreq		*req;
	struct db		*db;
	struct audit		 au;
	size_t			 next;		/* the next line to check */
	struct event		*ev;
};

static void
auditjob_free(struct auditjob *j)
{
	TAILQ_REMOVE(&j->w->audits, j, entry);
	if (j->ev != NULL)
		event_free(j->ev);
	audit_free(&j->au);
	free(j);
}

/* The report, once every line is checked: answer and free j. */
static void
auditjob_answer(struct auditjob *j)
{
	struct evbuffer	*out = NULL;
	json_t		*o = NULL;
	char		*s = NULL;

	audit_end(&j->au);
	if ((o = audit_json(&j->au)) == NULL || (s = json_dumps(o,
	    JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL ||
	    (out = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(out, "%s\n", s) < 0)
		http_error(j->req, 500, "out of memory");
	else
		http_reply(j->req, 200, "application/json", "no-store", out);
	free(s);
	json_decref(o);
	if (out != NULL)
		evbuffer_free(out);
	auditjob_free(j);
}

/* One slice of j's lines; the next waits for the loop's next turn. */
static void
auditjob_run(evutil_socket_t fd, short ev, void *arg)
{
	struct auditjob	*j = arg;
	struct worker	*w = j->w;
	struct timeval	 now = { 0, 0 };

	(void)fd;
	(void)ev;
	if (audit_lines(&j->au, w->st, j->db->log, w->conf.private, j->next,
	    j->next + AUDIT_SLICE) != 0) {
		http_error(j->req, 500, "audit: %s", store_errmsg(w->st));
		auditjob_free(j);
		return;
	}
	j->next += AUDIT_SLICE;
	if (j->next < j->au.n)
		evtimer_add(j->ev, &now);
	else
		auditjob_answer(j);
}

/* At exit: the audits still running, unanswered. */
void
audit_free_all(struct worker *w)
{
	struct auditjob	*j;

	while ((j = TAILQ_FIRST(&w->audits)) != NULL)
		auditjob_free(j);
}

/*
 * POST /audit[?db=NAME]: the body is a go.sum of at most
 * audit_max_lines lines; the answer is the JSON report of "sumdbd audit
 * --json", against this worker's store.
 */
void
serve_audit(struct worker *w, struct hreq *req, const char *query)
{
	struct env		*env = w->env;
	struct evbuffer		*in = req->body;
	struct evkeyvalq	 q;
	struct auditjob		*j = NULL;
	struct db		*db = NULL;
	const char		*name;
	char			*line = NULL, retry[16];
	size_t			 len;
	int			 i, lineno, secs, r;

	TAILQ_INIT(&q);
	/* An empty go.sum may come without a body. */
	if (in == NULL && (in = req->body = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if (http_rate(w->audit_rl, AUDIT_BUCKETS, req, w->conf.audit_rate,
	    &secs)) {
		snprintf(retry, sizeof(retry), "%d", secs);
		http_header(req, "Retry-After", retry);
		http_error(req, 429, "too many audits from this address: at "
		    "most %lld a minute", (long long)w->conf.audit_rate);
		return;
	}
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		http_error(req, 400, "malformed query");
		return;
	}
	if ((name = evhttp_find_header(&q, "db")) != NULL) {
		for (i = 0; i < env->ndbs; i++)
			if (strcmp(env->dbs[i]->name, name) == 0)
				db = env->dbs[i];
	} else
		db = env->log != NULL ? env->log : env->ndbs == 1 ?
		    env->dbs[0] : NULL;
	if (db == NULL) {
		http_error(req, name != NULL ? 404 : 400, name != NULL ?
		    "no checksum database '%s'" : "which database? add ?db=NAME",
		    name);
		goto done;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto oom;
	j->w = w;
	j->req = req;
	j->db = db;
	j->au.name = db->name;
	TAILQ_INSERT_TAIL(&w->audits, j, entry);
	for (lineno = 1; (line = evbuffer_readln(in, &len,
	    EVBUFFER_EOL_LF)) != NULL || evbuffer_get_length(in) > 0;
	    lineno++) {
		if (line == NULL) {	/* the last line, without a newline */
			len = evbuffer_get_length(in);
			if ((line = malloc(len + 1)) == NULL)
				goto oom;
			evbuffer_remove(in, line, len);
			line[len] = '\0';
		}
		if (strlen(line) != len) {
			http_error(req, 400, "go.sum:%d: a NUL byte", lineno);
			goto fail;
		}
		if (j->au.n >= (size_t)w->conf.audit_max_lines && line[0] !=
		    '\0' && line[0] != '\r') {
			http_error(req, 413, "go.sum has more than %lld lines",
			    (long long)w->conf.audit_max_lines);
			goto fail;
		}
		r = audit_add(&j->au, "go.sum", lineno, line);
		free(line);
		line = NULL;
		if (r < 0)
			goto oom;
		if (r > 0) {
			http_error(req, 400, "go.sum:%d: not a go.sum line",
			    lineno);
			goto fail;
		}
	}
	if (audit_link(&j->au) != 0)
		goto oom;
	if (audit_begin(&j->au, w->st, db->log, db->kind == DB_MIRROR ?
	    w->conf.full[db->idx] : -1) != 0) {
		http_error(req, 500, "audit: %s", store_errmsg(w->st));
		goto fail;
	}
	if ((j->ev = evtimer_new(w->base, auditjob_run, j)) == NULL)
		goto oom;
	auditjob_run(-1, 0, j);
	goto done;
 oom:
	http_error(req, 500, "out of memory");
 fail:
	if (j != NULL)
		auditjob_free(j);
 done:
	free(line);
	evhttp_clear_headers(&q);
}
