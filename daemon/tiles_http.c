/*
 * tiles_http.c: the HTTP backend of tiles.c, for client-check: each
 * tile is fetched synchronously from a server's tile URLs, and a read's
 * tiles go back to back into one buffer.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdbd.h"

struct http {
	struct env	*env;
	char		*base;		/* URL without a final '/' */
	size_t		 maxlen;
	int64_t		 timeout;	/* ms */
	struct evbuffer	*data;		/* this read's tiles */
	struct evbuffer	*body;
};

/* GET tile t into h->body: 0, or -1 with the reason in ts->err. */
static int
get_tile(struct tiles *ts, struct http *h, const struct tile *t)
{
	char	 path[SUMDB_TILE_PATH_MAX], *url = NULL, e[256] = "";
	int	 st;

	if (tile_format(t, path, sizeof(path)) < 0) {
		snprintf(ts->err, sizeof(ts->err), "an invalid tile");
		return -1;
	}
	if (asprintf(&url, "%s/%s", h->base, path) == -1) {
		snprintf(ts->err, sizeof(ts->err), "out of memory");
		return -1;
	}
	st = fetch_wait(h->env, url, h->maxlen, h->timeout, h->body, e,
	    sizeof(e));
	if (st > 0 && st != 200)
		snprintf(ts->err, sizeof(ts->err), "%s: HTTP %d", url, st);
	else if (st != 200)
		snprintf(ts->err, sizeof(ts->err), "%s: %s", url,
		    e[0] != '\0' ? e : "no answer");
	free(url);
	return st == 200 ? 0 : -1;
}

static int
get_tiles(void *arg, const struct tile *t, size_t n, const uint8_t **data,
    size_t *len)
{
	struct tiles	*ts = arg;
	struct http	*h = ts->state;
	const uint8_t	*p;
	size_t		 i, off;

	evbuffer_drain(h->data, evbuffer_get_length(h->data));
	for (i = 0; i < n; i++) {
		if (get_tile(ts, h, &t[i]) != 0)
			return -1;
		len[i] = evbuffer_get_length(h->body);
		if (evbuffer_add_buffer(h->data, h->body) != 0) {
			snprintf(ts->err, sizeof(ts->err), "out of memory");
			return -1;
		}
	}
	p = evbuffer_pullup(h->data, -1);
	for (i = 0, off = 0; i < n; off += len[i++])
		data[i] = p != NULL ? p + off : NULL;
	return 0;
}

static void
free_state(struct tiles *ts)
{
	struct http	*h = ts->state;

	if (h == NULL)
		return;
	if (h->data != NULL)
		evbuffer_free(h->data);
	if (h->body != NULL)
		evbuffer_free(h->body);
	free(h->base);
	free(h);
	ts->state = NULL;
}

static const struct tiles_ops http_ops = {
	"http", get_tiles, NULL, free_state
};

int
tiles_http_init(struct tiles *ts, struct env *env, const char *base,
    size_t maxlen, int64_t timeout_ms)
{
	struct http	*h;

	tiles_init(ts, &http_ops, NULL);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	ts->state = h;
	h->env = env;
	h->maxlen = maxlen;
	h->timeout = timeout_ms;
	if ((h->base = strdup(base)) == NULL ||
	    (h->data = evbuffer_new()) == NULL ||
	    (h->body = evbuffer_new()) == NULL) {
		tiles_free(ts);
		return -1;
	}
	return 0;
}
