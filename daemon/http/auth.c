/*
 * auth.c: inbound authentication ([server] auth): which requests need
 * credentials, and checking them.  A request is authenticated by a TLS
 * client certificate that verified against tls_client_ca, or by
 * "Authorization: Basic base64(NAME:PASSWORD)" or "Authorization:
 * Bearer NAME.PASSWORD" checked against the users file (users.c): one
 * password check at most per request either way.  Without them the
 * answer is 401 with WWW-Authenticate: Basic, which the go command
 * answers from ~/.netrc (go 1.24 with GOAUTH=netrc, 1.19 by itself).
 *
 * A password check costs tens of milliseconds and 64 MiB, so nobody
 * may ask for them without bound: results are cached (users.c); each
 * client address (an IPv6 /64) may cause auth_rate checks a minute
 * (429 past that), and at most auth_concurrency run at once over all
 * workers (503 past that), both with Retry-After.
 */

#include <arpa/inet.h>

#include <event2/buffer.h>

#include <sodium.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"

#define CRED_MAX	512	/* decoded NAME:PASSWORD bytes */
#define RATE_BUCKETS	1024

enum result { A_OK, A_BAD, A_MISSING, A_LIMITED, A_MAX };
static const char *const results[A_MAX] = { "ok", "bad", "missing",
	"limited" };

/* Counted over all workers, atomically. */
static uint64_t		 counts[A_MAX];
static uint64_t		 checks;	/* password checks run */
static int64_t		 checking;	/* password checks running now */

/* Password checks per client address in the current minute. */
static struct ratebucket rates[RATE_BUCKETS];
static pthread_mutex_t	 ratemu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		 ratekey[crypto_shorthash_KEYBYTES];
static pthread_once_t	 rateonce = PTHREAD_ONCE_INIT;

static void
rate_init(void)
{
	randombytes_buf(ratekey, sizeof(ratekey));
}

int
http_rate(struct ratebucket *tab, size_t n, struct hreq *req, int64_t max,
    int *retry)
{
	struct ratebucket	*b;
	uint8_t			 a[16], h8[crypto_shorthash_BYTES];
	uint64_t		 h;
	int64_t			 now = (int64_t)time(NULL);
	const char		*peer = http_peer(req);
	size_t			 len;

	pthread_once(&rateonce, rate_init);
	/* One IPv6 host holds a /64: it counts as one address. */
	memset(a, 0, sizeof(a));
	if (inet_pton(AF_INET6, peer, a) == 1)
		len = 8;
	else if (inet_pton(AF_INET, peer, a) == 1)
		len = 4;
	else
		len = 0;
	/* A keyed hash: nobody can pick addresses that share a bucket. */
	crypto_shorthash(h8, a, len, ratekey);
	memcpy(&h, h8, sizeof(h));
	b = &tab[h % n];
	if (b->addr != h || b->minute != now / 60) {
		b->addr = h;
		b->minute = now / 60;
		b->count = 0;
	}
	*retry = (int)(60 - now % 60);
	return ++b->count > max;
}

int
auth_needed(struct worker *w, int route, const struct db *db)
{
	if (route == RT_HEALTHZ)
		return w->conf.auth_healthz;
	if (route == RT_METRICS)
		return w->conf.auth_metrics;
	if (w->conf.auth == AUTH_ALL)
		return 1;
	if (w->conf.auth != AUTH_PRIVATE)
		return 0;
	/* The TUF repository carries the private log's bundles. */
	if (route == RT_AUDIT || (route == RT_TUF && w->env->log != NULL))
		return 1;
	return db != NULL && db->kind == DB_PRIVATE;
}

static void
count(enum result r)
{
	__atomic_add_fetch(&counts[r], 1, __ATOMIC_RELAXED);
}

/* Answer 401 asking for credentials, with reason why. */
static void
unauthorized(struct hreq *req, enum result r, const char *why)
{
	count(r);
	http_header(req, "WWW-Authenticate", "Basic realm=\"sumdbd\"");
	http_error(req, 401, "unauthorized: %s", why);
}

/* Answer code with Retry-After and why: too many checks. */
static void
limited(struct hreq *req, int code, int retry, const char *why)
{
	char	 s[16];

	count(A_LIMITED);
	snprintf(s, sizeof(s), "%d", retry);
	http_header(req, "Retry-After", s);
	http_error(req, code, "%s", why);
}

/*
 * Split the Authorization value v into name and password, in buf
 * (CRED_MAX + 1 bytes); 0, or -1 when it is neither form.
 */
static int
credentials(const char *v, char *buf, const char **name, size_t *namelen,
    const char **pw, size_t *pwlen)
{
	const char	*sep;
	size_t		 len;
	int		 sepch;

	if (strncasecmp(v, "Basic ", 6) == 0) {
		v += 6 + strspn(v + 6, " ");
		if (sodium_base642bin((unsigned char *)buf, CRED_MAX, v,
		    strlen(v), NULL, &len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0)
			return -1;
		sepch = ':';
	} else if (strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7 + strspn(v + 7, " ");
		if ((len = strlen(v)) > CRED_MAX)
			return -1;
		memcpy(buf, v, len);
		sepch = '.';
	} else
		return -1;
	buf[len] = '\0';
	if ((sep = memchr(buf, sepch, len)) == NULL)
		return -1;
	*name = buf;
	*namelen = sep - buf;
	*pw = sep + 1;
	*pwlen = len - *namelen - 1;
	return users_name_ok(*name, *namelen) ? 0 : -1;
}

/* A request's password check, past the cache (admit()). */
struct checkarg {
	struct worker	*w;
	struct hreq	*req;
	int		 admitted;	/* counted in checking */
	int		 code;		/* refused: 429 or 503 */
	int		 retry;		/* refused: Retry-After */
};

/* users_check()'s admit: within the limits?  0, or -1 refused. */
static int
admit(void *arg)
{
	struct checkarg	*a = arg;
	int		 over;

	pthread_mutex_lock(&ratemu);
	over = http_rate(rates, RATE_BUCKETS, a->req, a->w->conf.auth_rate,
	    &a->retry);
	pthread_mutex_unlock(&ratemu);
	if (over) {
		a->code = 429;
		return -1;
	}
	if (__atomic_add_fetch(&checking, 1, __ATOMIC_ACQ_REL) >
	    a->w->conf.auth_concurrency) {
		__atomic_sub_fetch(&checking, 1, __ATOMIC_ACQ_REL);
		a->code = 503;
		a->retry = 1;
		return -1;
	}
	a->admitted = 1;
	__atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Check the password; the users.c result, or -1 when refused (answered). */
static int
check(struct worker *w, struct hreq *req, const char *name, size_t namelen,
    const char *pw, size_t pwlen)
{
	struct checkarg	 a = { w, req, 0, 0, 0 };
	int		 r;

	r = users_check(w->conf.users, name, namelen, pw, pwlen, admit, &a);
	if (a.admitted) {
		__atomic_sub_fetch(&checking, 1, __ATOMIC_ACQ_REL);
		if (r != USERS_OK)
			log_info("%s: wrong password or unknown user '%.*s'",
			    http_peer(req), (int)namelen, name);
	}
	if (r == USERS_REFUSED && a.code == 429)
		limited(req, 429, a.retry, "too many password checks from "
		    "this address: retry later, with the right password");
	else if (r == USERS_REFUSED)
		limited(req, 503, a.retry, "too many password checks at "
		    "once: retry in a second");
	return r == USERS_REFUSED ? -1 : r;
}

int
auth_admit(struct worker *w, struct hreq *req, const struct db *db)
{
	char		 buf[CRED_MAX + 1];
	const char	*name, *pw;
	size_t		 namelen, pwlen;
	int		 r;

	if (!auth_needed(w, req->route, db))
		return 1;
	if (http_client_cert(req)) {
		count(A_OK);
		return 1;
	}
	if (req->authz == NULL) {
		unauthorized(req, A_MISSING, "credentials are needed: see "
		    "sumdbd client-config");
		return 0;
	}
	if (credentials(req->authz, buf, &name, &namelen, &pw, &pwlen) !=
	    0 || w->conf.users == NULL) {
		sodium_memzero(buf, sizeof(buf));
		unauthorized(req, A_BAD, "malformed or unknown credentials");
		return 0;
	}
	r = check(w, req, name, namelen, pw, pwlen);
	sodium_memzero(buf, sizeof(buf));
	if (r < 0)
		return 0;
	if (r != USERS_OK) {
		unauthorized(req, A_BAD, "wrong user name or password");
		return 0;
	}
	count(A_OK);
	return 1;
}

void
auth_metrics(struct evbuffer *out)
{
	int	 r;

	evbuffer_add_printf(out, "# HELP sumdbd_auth_total Requests that "
	    "needed credentials, by result.\n"
	    "# TYPE sumdbd_auth_total counter\n");
	for (r = 0; r < A_MAX; r++)
		evbuffer_add_printf(out, "sumdbd_auth_total{result=\"%s\"} "
		    "%llu\n", results[r], (unsigned long long)__atomic_load_n(
		    &counts[r], __ATOMIC_RELAXED));
	evbuffer_add_printf(out, "# HELP sumdbd_auth_password_checks_total "
	    "Password hashes checked (not cached).\n"
	    "# TYPE sumdbd_auth_password_checks_total counter\n"
	    "sumdbd_auth_password_checks_total %llu\n",
	    (unsigned long long)__atomic_load_n(&checks, __ATOMIC_RELAXED));
}
