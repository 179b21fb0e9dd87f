/*
 * modfetch.c: the h1: hashes of one module version, computed from what
 * a GOPROXY serves: @v/V.mod and @v/V.zip are fetched at once, the zip
 * must hold only files under "<path>@<version>/", and both are hashed
 * as golang.org/x/mod/sumdb/dirhash does.  A version the GOPROXY does
 * not have is 404; any other failure is 502, never a made-up hash.
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "sumdb.h"

#define GOMOD_MAX	(16 << 20)	/* x/mod/zip's go.mod limit */

struct modfetch {
	struct env	*env;
	modfetch_cb	 cb;
	void		*arg;
	char		 path[SUMDB_PATH_MAX];
	char		 version[SUMDB_PATH_MAX];
	struct evbuffer	*mod, *zip;
	int		 modstatus, zipstatus;
	int		 outstanding;
	char		 err[2400];
};

static void
modfetch_done(struct modfetch *m)
{
	char	 ziph[SUMDB_H1_SIZE], modh[SUMDB_H1_SIZE], prefix[2100];
	int	 r;

	if (m->modstatus == 404 || m->modstatus == 410 ||
	    m->zipstatus == 404 || m->zipstatus == 410) {
		snprintf(m->err, sizeof(m->err), "not found: %s@%s is not in "
		    "the GOPROXY", m->path, m->version);
		m->cb(404, NULL, NULL, m->err, m->arg);
		goto done;
	}
	if (m->modstatus != 200 || m->zipstatus != 200) {
		if (m->err[0] == '\0')
			snprintf(m->err, sizeof(m->err), "GOPROXY answered "
			    "%d for %s@%s", m->modstatus != 200 ?
			    m->modstatus : m->zipstatus, m->path, m->version);
		m->cb(502, NULL, NULL, m->err, m->arg);
		goto done;
	}
	snprintf(prefix, sizeof(prefix), "%s@%s/", m->path, m->version);
	if ((r = dirhash_gomod(evbuffer_pullup(m->mod, -1),
	    evbuffer_get_length(m->mod), modh)) != 0 ||
	    (r = dirhash_zip(evbuffer_pullup(m->zip, -1),
	    evbuffer_get_length(m->zip), prefix, ziph)) != 0) {
		snprintf(m->err, sizeof(m->err), "GOPROXY served a bad module "
		    "zip for %s@%s: %s", m->path, m->version,
		    sumdb_strerror(r));
		m->cb(502, NULL, NULL, m->err, m->arg);
		goto done;
	}
	m->cb(200, ziph, modh, NULL, m->arg);
 done:
	evbuffer_free(m->mod);
	evbuffer_free(m->zip);
	free(m);
}

static void
got(struct modfetch *m, int status, struct evbuffer *body, const char *err,
    struct evbuffer *dst, int *statusp)
{
	*statusp = status;
	if (status == 200)
		evbuffer_add_buffer(dst, body);
	if (err != NULL && m->err[0] == '\0')
		snprintf(m->err, sizeof(m->err), "GOPROXY: %s", err);
	if (--m->outstanding == 0)
		modfetch_done(m);
}

static void
got_mod(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct modfetch	*m = arg;

	got(m, status, body, err, m->mod, &m->modstatus);
}

static void
got_zip(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct modfetch	*m = arg;

	got(m, status, body, err, m->zip, &m->zipstatus);
}

int
modfetch(struct env *env, const char *goproxy, const char *path,
    const char *version, modfetch_cb cb, void *arg)
{
	struct modfetch	*m;
	char		 ep[SUMDB_PATH_MAX * 2], ev[SUMDB_PATH_MAX * 2];
	char		 url[8192];
	size_t		 blen = strlen(goproxy);

	while (blen > 0 && goproxy[blen - 1] == '/')
		blen--;
	if (modpath_escape_path(path, strlen(path), ep, sizeof(ep)) < 0 ||
	    modpath_escape_version(version, strlen(version), ev,
	    sizeof(ev)) < 0)
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->mod = evbuffer_new()) == NULL ||
	    (m->zip = evbuffer_new()) == NULL) {
		log_warn("modfetch");
		if (m != NULL) {
			if (m->mod != NULL)
				evbuffer_free(m->mod);
			free(m);
		}
		return -1;
	}
	m->env = env;
	m->cb = cb;
	m->arg = arg;
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->version, sizeof(m->version), "%s", version);
	m->outstanding = 2;
	snprintf(url, sizeof(url), "%.*s/%s/@v/%s.mod", (int)blen, goproxy,
	    ep, ev);
	if (fetch_get(env, url, GOMOD_MAX, env->conf.log_fetch_timeout,
	    env->conf.log_redirect_other_hosts ? FETCH_ANYHOST : 0, got_mod,
	    m) != 0) {
		m->modstatus = -1;
		m->outstanding--;
	}
	snprintf(url, sizeof(url), "%.*s/%s/@v/%s.zip", (int)blen, goproxy,
	    ep, ev);
	if (fetch_get(env, url, env->conf.log_max_module_size,
	    env->conf.log_fetch_timeout,
	    env->conf.log_redirect_other_hosts ? FETCH_ANYHOST : 0, got_zip,
	    m) != 0) {
		m->zipstatus = -1;
		if (--m->outstanding == 0)
			modfetch_done(m);
	}
	return 0;
}
