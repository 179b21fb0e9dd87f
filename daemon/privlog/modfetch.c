/*
 * modfetch.c: the h1: hashes of one module version, computed from what
 * a GOPROXY serves: @v/V.mod and @v/V.zip are fetched at once, the
 * go.mod into memory and the zip into an unlinked temporary file next
 * to the store, so that a 500 MB zip never sits in memory; the zip
 * must hold only files under "<path>@<version>/", and both are hashed
 * as golang.org/x/mod/sumdb/dirhash does, in a thread of their own so
 * that the main loop (the log writer, the mirrors) never waits on
 * inflating a zip.  A version the GOPROXY does not have is 404; any
 * other failure is 502, never a made-up hash.
 */

#include <event2/buffer.h>
#include <event2/event.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privlog.h"
#include "sumdb.h"

#define GOMOD_MAX	(16 << 20)	/* x/mod/zip's go.mod limit */

struct modfetch {
	TAILQ_ENTRY(modfetch)	 entry;		/* in hashing */
	struct env		*env;
	modfetch_cb		 cb;
	void			*arg;
	char			 path[SUMDB_PATH_MAX];
	char			 version[SUMDB_PATH_MAX];
	struct evbuffer		*mod;
	int			 zipfd;
	int			 modstatus, zipstatus;
	int			 outstanding;
	char			 err[2400];
	/* hashing, in its own thread */
	pthread_t		 tid;
	struct event		*ev;		/* the thread is done */
	const uint8_t		*modp;
	size_t			 modlen;
	char			 prefix[2100];
	int			 modr, zipr;	/* SUMDB_E* */
	char			 modh[SUMDB_H1_SIZE];
	char			 ziph[SUMDB_H1_SIZE];
};
TAILQ_HEAD(modfetchlist, modfetch);

/* The hashes in flight (main thread); each is joined before it is freed. */
static struct modfetchlist	 hashing = TAILQ_HEAD_INITIALIZER(hashing);
static int64_t			 nhashing;	/* atomic: /metrics */

static void
free_fetch(struct modfetch *m)
{
	if (m->ev != NULL)
		event_free(m->ev);
	if (m->zipfd != -1)
		close(m->zipfd);
	evbuffer_free(m->mod);
	free(m);
}

/* A hashing thread: both hashes, then back to the loop. */
static void *
hash_thread(void *arg)
{
	struct modfetch	*m = arg;

	if ((m->modr = dirhash_gomod(m->modp, m->modlen, m->modh)) == 0)
		m->zipr = dirhash_zip_fd(m->zipfd, m->prefix, m->ziph);
	/* libevent's threading is on: this wakes the main loop. */
	event_active(m->ev, EV_READ, 0);
	return NULL;
}

/* Main thread: the hashes are in; report them. */
static void
hashed(evutil_socket_t fd, short ev, void *arg)
{
	struct modfetch	*m = arg;
	int		 r;

	(void)fd;
	(void)ev;
	pthread_join(m->tid, NULL);
	TAILQ_REMOVE(&hashing, m, entry);
	__atomic_sub_fetch(&nhashing, 1, __ATOMIC_RELAXED);
	if ((r = m->modr) != 0 || (r = m->zipr) != 0) {
		if (r == SUMDB_ELIMIT)
			snprintf(m->err, sizeof(m->err), "GOPROXY served a "
			    "module zip for %s@%s over x/mod/zip's limits "
			    "(%d MiB in all, %d MiB for go.mod or LICENSE)",
			    m->path, m->version, DIRHASH_ZIP_MAX >> 20,
			    DIRHASH_FILE_MAX >> 20);
		else if (r == SUMDB_EREAD)
			snprintf(m->err, sizeof(m->err), "%s@%s: cannot "
			    "read the downloaded zip", m->path, m->version);
		else
			snprintf(m->err, sizeof(m->err), "GOPROXY served a "
			    "bad %s for %s@%s: %s", m->modr != 0 ? "go.mod" :
			    "module zip", m->path, m->version,
			    sumdb_strerror(r));
		m->cb(502, NULL, NULL, m->err, m->arg);
	} else
		m->cb(200, m->ziph, m->modh, NULL, m->arg);
	free_fetch(m);
}

/* Both answers are in: refuse, or hash them in a thread. */
static void
finished(struct modfetch *m)
{
	sigset_t	 all, old;
	int		 r, st;

	if (m->modstatus == 404 || m->modstatus == 410 ||
	    m->zipstatus == 404 || m->zipstatus == 410) {
		snprintf(m->err, sizeof(m->err), "not found: %s@%s is not in "
		    "the GOPROXY", m->path, m->version);
		m->cb(404, NULL, NULL, m->err, m->arg);
		goto fail;
	}
	st = m->modstatus != 200 ? m->modstatus : m->zipstatus;
	if (st == 401 || st == 403) {
		snprintf(m->err, sizeof(m->err), "GOPROXY answered %d %s for "
		    "%s@%s: it wants credentials ([log] netrc or auth_header)",
		    st, st == 401 ? "Unauthorized" : "Forbidden", m->path,
		    m->version);
		m->cb(502, NULL, NULL, m->err, m->arg);
		goto fail;
	}
	if (m->modstatus != 200 || m->zipstatus != 200) {
		if (m->err[0] == '\0')
			snprintf(m->err, sizeof(m->err), "GOPROXY answered "
			    "%d for %s@%s", m->modstatus != 200 ?
			    m->modstatus : m->zipstatus, m->path, m->version);
		m->cb(502, NULL, NULL, m->err, m->arg);
		goto fail;
	}
	snprintf(m->prefix, sizeof(m->prefix), "%s@%s/", m->path,
	    m->version);
	m->modlen = evbuffer_get_length(m->mod);
	if ((m->modp = evbuffer_pullup(m->mod, -1)) == NULL && m->modlen > 0)
		goto nomem;
	if ((m->ev = event_new(m->env->base, -1, 0, hashed, m)) == NULL)
		goto nomem;
	/* Signals stay with the main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&m->tid, NULL, hash_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		log_warn("%s@%s: cannot start a thread to hash it", m->path,
		    m->version);
		snprintf(m->err, sizeof(m->err), "internal error");
		m->cb(500, NULL, NULL, m->err, m->arg);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&hashing, m, entry);
	__atomic_add_fetch(&nhashing, 1, __ATOMIC_RELAXED);
	return;
 nomem:
	log_warnx("%s@%s: out of memory", m->path, m->version);
	snprintf(m->err, sizeof(m->err), "out of memory");
	m->cb(500, NULL, NULL, m->err, m->arg);
 fail:
	free_fetch(m);
}

static void
got(struct modfetch *m, int status, const char *err, int *statusp)
{
	*statusp = status;
	if (err != NULL && m->err[0] == '\0')
		snprintf(m->err, sizeof(m->err), "GOPROXY: %s", err);
	if (--m->outstanding == 0)
		finished(m);
}

static void
got_mod(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct modfetch	*m = arg;

	if (status == 200)
		evbuffer_add_buffer(m->mod, body);
	got(m, status, err, &m->modstatus);
}

static void
got_zip(int status, struct evbuffer *body, const char *err, void *arg)
{
	struct modfetch	*m = arg;

	(void)body;		/* in m->zipfd */
	got(m, status, err, &m->zipstatus);
}

int
modfetch(struct env *env, const char *goproxy, const char *path,
    const char *version, modfetch_cb cb, void *arg)
{
	struct modfetch	*m;
	char		 ep[SUMDB_PATH_MAX * 2], ev[SUMDB_PATH_MAX * 2];
	char		 url[8192], dir[4096];
	size_t		 blen = strlen(goproxy);
	struct fetchopt	 o;

	while (blen > 0 && goproxy[blen - 1] == '/')
		blen--;
	if (modpath_escape_path(path, strlen(path), ep, sizeof(ep)) < 0 ||
	    modpath_escape_version(version, strlen(version), ev,
	    sizeof(ev)) < 0)
		return -1;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_warn("modfetch");
		return -1;
	}
	m->zipfd = -1;
	if ((m->mod = evbuffer_new()) == NULL) {
		log_warn("modfetch");
		free(m);
		return -1;
	}
	env_state_dir(env, dir, sizeof(dir));
	if ((m->zipfd = fetch_tmpfile(dir)) == -1) {
		log_warn("modfetch: a temporary file in '%s'", dir);
		free_fetch(m);
		return -1;
	}
	m->env = env;
	m->cb = cb;
	m->arg = arg;
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->version, sizeof(m->version), "%s", version);
	m->outstanding = 2;
	fetch_opt(&o, &env->conf.log_egress, "goproxy", goproxy,
	    env->conf.log_redirect_other_hosts);
	snprintf(url, sizeof(url), "%.*s/%s/@v/%s.mod", (int)blen, goproxy,
	    ep, ev);
	if (fetch_get(env, url, GOMOD_MAX, env->conf.log_fetch_timeout,
	    &o, got_mod, m) != 0) {
		m->modstatus = -1;
		m->outstanding--;
	}
	snprintf(url, sizeof(url), "%.*s/%s/@v/%s.zip", (int)blen, goproxy,
	    ep, ev);
	if (fetch_get_fd(env, url, m->zipfd, env->conf.log_max_module_size,
	    env->conf.log_fetch_timeout, &o, got_zip, m) != 0) {
		m->zipstatus = -1;
		if (--m->outstanding == 0)
			finished(m);
	}
	return 0;
}

int64_t
modfetch_hashing(void)
{
	return __atomic_load_n(&nhashing, __ATOMIC_RELAXED);
}

void
modfetch_stop(void)
{
	struct modfetch	*m;

	/*
	 * Wait for each: a thread left running would still use libcrypto
	 * while exit() tears OpenSSL down (ThreadSanitizer saw the crash).
	 * A hash ends within DIRHASH_ZIP_MAX bytes of work.
	 */
	while ((m = TAILQ_FIRST(&hashing)) != NULL) {
		TAILQ_REMOVE(&hashing, m, entry);
		__atomic_sub_fetch(&nhashing, 1, __ATOMIC_RELAXED);
		pthread_join(m->tid, NULL);
		free_fetch(m);
	}
}
