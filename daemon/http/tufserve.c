/*
 * tufserve.c: GET /tuf/: the TUF repository's metadata and targets,
 * byte for byte as the publisher (tufrepo.c) stored them.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "store.h"

/*
 * /tuf/: N.root.json, root.json, timestamp.json, N.snapshot.json,
 * N.targets.json and targets/DIR/SHA256.NAME, served byte for byte.
 */
void
serve_tuf(struct worker *w, struct hreq *req, const char *path)
{
	static const char *roles[] = { "root", "snapshot", "targets" };
	struct evbuffer	*body;
	const char	*dot, *base, *cache = CACHE_FOREVER;
	char		 role[16], tpath[1100], sha[65];
	int64_t		 v = -1;
	size_t		 i;
	int		 r = 0;

	if (w->env->tuf == NULL) {
		http_error(req, 404, "not found: no TUF repository");
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		http_error(req, 500, "out of memory");
		return;
	}
	if (strcmp(path, "timestamp.json") == 0 ||
	    strcmp(path, "root.json") == 0) {
		snprintf(role, sizeof(role), "%.*s",
		    (int)(strchr(path, '.') - path), path);
		r = store_tuf_get(w->st, role, -1, body, NULL);
		cache = "no-cache";
	} else if (strncmp(path, "targets/", 8) == 0 &&
	    (base = strrchr(path, '/')) != NULL && strlen(base + 1) > 65 &&
	    base[65] == '.') {
		/* DIR/SHA256.NAME is the target DIR/NAME with that hash. */
		snprintf(sha, sizeof(sha), "%.64s", base + 1);
		snprintf(tpath, sizeof(tpath), "%.*s%s", (int)(base + 1 -
		    (path + 8)), path + 8, base + 66);
		r = store_target_get(w->st, tpath, sha, body);
	} else if ((dot = strchr(path, '.')) != NULL &&
	    sumdb_parse_int64(path, dot - path, &v) == 0 && v > 0) {
		for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (strlen(dot + 1) == strlen(roles[i]) + 5 &&
			    strncmp(dot + 1, roles[i], strlen(roles[i])) == 0 &&
			    strcmp(dot + 1 + strlen(roles[i]), ".json") == 0)
				break;
		if (i < sizeof(roles) / sizeof(roles[0]))
			r = store_tuf_get(w->st, roles[i], v, body, NULL);
	}
	if (r < 0) {
		log_warnx("TUF '%s': %s", path, store_errmsg(w->st));
		http_error(req, 500, "internal error");
	} else if (r == 0)
		http_error(req, 404, "not found");
	else
		http_reply(req, 200, strncmp(path, "targets/", 8) == 0 ?
		    TYPE_BINARY : "application/json", cache, body);
	evbuffer_free(body);
}
