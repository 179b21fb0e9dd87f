/*
 * reload.c: the configuration after start-up, in the main thread:
 * SIGHUP rereads it and applies what can change while running, and
 * systemd hears about each step (sd_notify).
 *
 * Workers never read env->conf: each has its own struct wconf, which
 * the main thread fills in env->wconf under env->wmu and each worker
 * copies in its own thread (wconf_copy(), called by the HTTP layer's
 * env->publish hook).
 */

#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sumdbd.h"

/* Replace *dst with a copy of src (or NULL); 0, or -1 keeping *dst. */
static int
copy_str(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/*
 * Fill env->wconf from env->conf, with TLS context tls and the users
 * us: references it takes unless they are the ones it holds; under wmu.
 */
static int
wconf_fill(struct env *env, SSL_CTX *tls, struct users *us)
{
	struct wconf	*wc = &env->wconf;
	struct config	*c = &env->conf;
	int		 i, k, m;

	if (copy_str(&wc->private, c->log_private) != 0 ||
	    copy_str(&wc->database, c->database) != 0) {
		log_warn("strdup");
		return -1;
	}
	wc->max_header_size = c->max_header_size;
	wc->idle_timeout = c->idle_timeout;
	wc->request_timeout = c->request_timeout;
	wc->audit_max_body = c->audit_max_body;
	wc->audit_rate = c->audit_rate;
	wc->max_conns_per_client = c->max_conns_per_client;
	wc->audit_max_lines = c->audit_max_lines;
	wc->witness = c->witness_name != NULL;
	wc->witnessed_log = c->log_nwitnesses > 0;
	for (i = 0; i < env->ndbs; i++)
		wc->witnessed[i] = 0;
	for (k = 0; wc->witness && k < c->nwlogs; k++)
		for (i = 0; i < env->ndbs && (m = config_wlog_mirror(c, k)) >=
		    0; i++)
			if (env->dbs[i]->mc == &c->mirrors[m])
				wc->witnessed[i] = 1;
	wc->witness_max_pending = c->witness_max_pending;
	wc->max_conns = (c->max_connections + env->nworkers - 1) /
	    env->nworkers;
	/* A GOPROXY to hash from, or a mirror for public paths. */
	wc->goproxy = c->log_goproxy != NULL || config_log_mirror(c) != NULL;
	for (i = 0; i < env->ndbs; i++) {
		wc->max_age[i] = env->dbs[i]->kind == DB_MIRROR ?
		    env->dbs[i]->mc->max_age : 0;
		wc->full[i] = env->dbs[i]->kind == DB_MIRROR &&
		    strcmp(env->dbs[i]->mc->mode, "full") == 0;
		wc->offline[i] = env->dbs[i]->kind == DB_MIRROR &&
		    env->dbs[i]->mc->offline;
	}
	if (wc->tls != tls) {
		SSL_CTX_free(wc->tls);
		wc->tls = tls;
	}
	wc->client_ca = tls != NULL && c->tls_client_ca != NULL;
	wc->auth = config_auth(c);
	wc->auth_healthz = (int)c->auth_healthz;
	wc->auth_metrics = (int)c->auth_metrics;
	wc->auth_rate = c->auth_rate;
	wc->auth_concurrency = c->auth_concurrency;
	if (wc->users != us) {
		users_free(wc->users);
		wc->users = us;
	}
	return 0;
}

/*
 * Client certificates are asked for, not required: one that does not
 * verify leaves the handshake going, and the request then needs a
 * password (conn.c looks at SSL_get_verify_result()).
 */
static int
any_cert(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* Ask clients for certificates signed by the CA in file ca. */
static int
tls_client_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errsize)
{
	STACK_OF(X509_NAME)	*names;
	unsigned long		 e;

	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(ca)) == NULL) {
		e = ERR_peek_last_error();
		snprintf(err, errsize, "tls_client_ca '%s': %s", ca,
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "cannot be loaded");
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, any_cert);
	/* Resumed sessions keep their verified certificate. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sumdbd",
	    6);
	return 0;
}

/*
 * A server context for cert and key (PEM files): TLS 1.2 and 1.3 only.
 * NULL with the reason in err.
 */
static SSL_CTX *
tls_new(const char *cert, const char *key, const char *ca, char *err,
    size_t errsize)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		e = ERR_peek_last_error();
		snprintf(err, errsize, "tls_certificate '%s': %s", cert,
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "cannot be loaded");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		e = ERR_peek_last_error();
		snprintf(err, errsize, "tls_key '%s': %s", key,
		    ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "cannot be loaded");
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errsize, "tls_key '%s' does not match "
		    "tls_certificate '%s'", key, cert);
		goto out;
	}
	if (ca != NULL && tls_client_ca(ctx, ca, err, errsize) != 0)
		goto out;
	ERR_clear_error();
	return ctx;
 fail:
	snprintf(err, errsize, "cannot set up TLS");
 out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* The TLS context the configuration asks for; -1 if it cannot load. */
static int
tls_load(const struct config *c, SSL_CTX **tls)
{
	char	 err[512];

	*tls = NULL;
	if (c->tls_certificate == NULL)
		return 0;
	if ((*tls = tls_new(c->tls_certificate, c->tls_key, c->tls_client_ca,
	    err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/* The users file the configuration names, into *us; -1 if it fails. */
static int
users_reload(const struct config *c, struct users **us)
{
	*us = NULL;
	if (c->users == NULL)
		return 0;
	return (*us = users_load(c->users)) != NULL ? 0 : -1;
}

int
wconf_init(struct env *env)
{
	struct config	*c = &env->conf;
	struct users	*us;
	SSL_CTX		*tls;
	int		 r;

	if (users_reload(c, &us) != 0)
		return -1;
	if (tls_load(c, &tls) != 0) {
		users_free(us);
		return -1;
	}
	pthread_mutex_lock(&env->wmu);
	r = wconf_fill(env, tls, us);
	pthread_mutex_unlock(&env->wmu);
	if (r != 0)
		return -1;
	if (tls != NULL)
		log_info("TLS on %s: TLS 1.2 and 1.3%s", c->listen,
		    c->tls_client_ca != NULL ? ", client certificates "
		    "asked for" : "");
	if (config_auth(c) != AUTH_NONE)
		log_info("auth = %s: %zu user%s%s", c->auth, users_count(us),
		    users_count(us) == 1 ? "" : "s", c->tls_certificate ==
		    NULL ? "; without TLS the go command sends no "
		    "credentials" : "");
	return 0;
}

void
wconf_free(struct wconf *wc)
{
	free(wc->private);
	free(wc->database);
	SSL_CTX_free(wc->tls);
	users_free(wc->users);
	memset(wc, 0, sizeof(*wc));
}

void
wconf_copy(struct env *env, struct wconf *dst)
{
	struct wconf	*src = &env->wconf, old = *dst;

	pthread_mutex_lock(&env->wmu);
	*dst = *src;
	/* The strings and the TLS context are dst's own references. */
	dst->private = old.private;
	dst->database = old.database;
	dst->tls = old.tls;
	dst->users = old.users;
	/* Out of memory keeps the worker's copies. */
	(void)copy_str(&dst->private, src->private);
	(void)copy_str(&dst->database, src->database);
	if (dst->tls != src->tls) {
		SSL_CTX_free(dst->tls);
		if (src->tls != NULL)
			SSL_CTX_up_ref(src->tls);
		dst->tls = src->tls;
	}
	if (dst->users != src->users) {
		users_free(dst->users);
		dst->users = users_ref(src->users);
	}
	pthread_mutex_unlock(&env->wmu);
}

static void
report(void *arg, const char *section, const char *name, int live)
{
	(void)arg;
	if (name == NULL)
		log_warnx("SIGHUP: [%s] added or removed: needs a restart",
		    section);
	else if (live)
		log_info("SIGHUP: [%s] %s changed: applied", section, name);
	else
		log_warnx("SIGHUP: [%s] %s changed: needs a restart to apply",
		    section, name);
}

/* Replace *s with a copy of v (or NULL). */
static void
keep_str(char **s, const char *v)
{
	free(*s);
	*s = v != NULL ? strdup(v) : NULL;
}

void
daemon_reload(struct env *env)
{
	struct config	 n;
	struct users	*us;
	SSL_CTX		*tls;
	char		 err[512];
	int		 line, changes, tlsok, usersok, r;

	daemon_notify(env, "RELOADING=1");
	if (config_load(env->confpath, &n, &line, err, sizeof(err)) != 0) {
		if (line > 0)
			log_warnx("SIGHUP: %s:%d: %s; keeping the running "
			    "configuration", env->confpath, line, err);
		else
			log_warnx("SIGHUP: %s: %s; keeping the running "
			    "configuration", env->confpath, err);
		config_free(&n);
		__atomic_add_fetch(&env->reload_errors, 1, __ATOMIC_RELAXED);
		daemon_notify(env, "READY=1");
		return;
	}
	/* Certificates are reread even when their paths stay. */
	tlsok = tls_load(&n, &tls) == 0;
	if (!tlsok) {
		log_warnx("SIGHUP: keeping the running TLS certificate");
		keep_str(&n.tls_certificate, env->conf.tls_certificate);
		keep_str(&n.tls_key, env->conf.tls_key);
		keep_str(&n.tls_client_ca, env->conf.tls_client_ca);
	}
	/* So is the users file: passwords change without a restart. */
	usersok = users_reload(&n, &us) == 0;
	if (!usersok) {
		log_warnx("SIGHUP: keeping the running users file");
		keep_str(&n.users, env->conf.users);
	}
	changes = config_reload(&env->conf, &n, report, env);
	config_free(&n);
	pthread_mutex_lock(&env->wmu);
	r = wconf_fill(env, tlsok ? tls : env->wconf.tls, usersok ? us :
	    env->wconf.users);
	pthread_mutex_unlock(&env->wmu);
	if (r != 0 && tlsok)
		SSL_CTX_free(tls);
	if (r != 0 && usersok)
		users_free(us);
	else if (usersok && us != NULL)
		log_info("SIGHUP: users file '%s' loaded: %zu user%s",
		    env->conf.users, users_count(us), users_count(us) == 1 ?
		    "" : "s");
	/* The workers take it in their own threads. */
	if (env->publish != NULL)
		env->publish(env);
	if (tlsok && tls != NULL)
		log_info("SIGHUP: TLS certificate '%s' loaded",
		    env->conf.tls_certificate);
	log_info("SIGHUP: configuration reloaded: %d change%s", changes,
	    changes == 1 ? "" : "s");
	__atomic_add_fetch(&env->reloads, 1, __ATOMIC_RELAXED);
	daemon_notify(env, "READY=1");
}

/* Tell systemd (when it runs us) state, with each database's tree. */
void
daemon_notify(struct env *env, const char *state)
{
#ifdef HAVE_SYSTEMD
	char	 msg[2048];
	size_t	 len;
	int	 i;

	len = (size_t)snprintf(msg, sizeof(msg), "%s%sSTATUS=", state != NULL ?
	    state : "", state != NULL ? "\n" : "");
	for (i = 0; i < env->ndbs && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    "%s%s at tree %lld%s", i > 0 ? ", " : "",
		    env->dbs[i]->name, (long long)__atomic_load_n(
		    &env->dbs[i]->size, __ATOMIC_RELAXED),
		    __atomic_load_n(&env->dbs[i]->frozen, __ATOMIC_RELAXED) ?
		    " (frozen)" : "");
	if (env->ndbs == 0 && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, "serving");
	sd_notify(0, msg);
#else
	(void)env;
	(void)state;
#endif
}
