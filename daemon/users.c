/*
 * users.c: the users file of [server] users, NAME:HASH lines with
 * libsodium's crypto_pwhash_str() hashes (argon2id), and the password
 * check behind inbound authentication.  A check costs tens of
 * milliseconds and 64 MiB, so its results are cached: a bounded table,
 * direct-mapped by a keyed hash of the credential (the key is random
 * per load, so nobody can aim at a slot), each entry valid for
 * CACHE_TTL seconds.  Concurrent requests with the same credentials
 * (the go command opens several connections at once) wait for the one
 * check instead of each running their own.  A reload loads a new struct users with an empty
 * cache; workers hold references to the one they use.
 */

#include <sys/stat.h>

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"

#define USERS_MAX	100000		/* lines of a users file */
#define LINE_MAX_LEN	(USERS_NAME_MAX + crypto_pwhash_STRBYTES + 2)
#define CACHE_SLOTS	1024
#define CACHE_TTL	300.0		/* seconds */

struct user {
	char		 name[USERS_NAME_MAX + 1];
	char		 hash[crypto_pwhash_STRBYTES];
};

struct cslot {
	uint8_t		 key[crypto_generichash_BYTES];
	int		 ok;		/* USERS_OK or USERS_BAD */
	int		 pending;	/* being checked */
	double		 expires;	/* mono(); 0: empty */
};

struct users {
	int		 refs;		/* atomic */
	struct user	*u;
	size_t		 n;
	/* An unknown name is checked against this, in the same time. */
	char		 dummy[crypto_pwhash_STRBYTES];
	pthread_mutex_t	 mu;		/* guards cache */
	pthread_cond_t	 cv;		/* a pending check ended */
	uint8_t		 ckey[crypto_generichash_KEYBYTES];
	struct cslot	 cache[CACHE_SLOTS];
};

int
users_name_ok(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len > USERS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@", name[i]) ==
		    NULL || name[i] == '\0')
			return 0;
	return 1;
}

/* Split line s (no newline) into *u; NULL, or what is wrong with it. */
static const char *
parse_line(char *s, struct user *u)
{
	char	*colon;

	if ((colon = strchr(s, ':')) == NULL)
		return "want NAME:HASH";
	*colon = '\0';
	if (!users_name_ok(s, strlen(s)))
		return "a name is 1 to 64 of A-Z a-z 0-9 _ - @";
	if (strncmp(colon + 1, "$argon2id$", 10) != 0 ||
	    strlen(colon + 1) >= sizeof(u->hash))
		return "not a crypto_pwhash_str() argon2id hash: use "
		    "'sumdbd passwd'";
	snprintf(u->name, sizeof(u->name), "%s", s);
	snprintf(u->hash, sizeof(u->hash), "%s", colon + 1);
	return NULL;
}

/* Strip the newline; whether s is a comment or empty. */
static int
blank(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
	s += strspn(s, " \t");
	return *s == '\0' || *s == '#';
}

static int
add_user(struct users *us, const struct user *u)
{
	struct user	*nu;
	size_t		 i;

	for (i = 0; i < us->n; i++)
		if (strcmp(us->u[i].name, u->name) == 0)
			return 1;
	if ((nu = reallocarray(us->u, us->n + 1, sizeof(*nu))) == NULL)
		return -1;
	us->u = nu;
	us->u[us->n++] = *u;
	return 0;
}

struct users *
users_load(const char *path)
{
	struct users	*us = NULL;
	struct user	 u;
	char		 line[LINE_MAX_LEN + 2], dpw[32];
	const char	*why;
	FILE		*f = NULL;
	int		 fd, lineno = 0, r, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("users file '%s'", path);
		return NULL;
	}
	if (!secret_file_ok(fd, path, "users file") ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return NULL;
	}
	if ((us = calloc(1, sizeof(*us))) == NULL) {
		log_warn("users file '%s'", path);
		goto done;
	}
	us->refs = 1;
	pthread_mutex_init(&us->mu, NULL);
	pthread_cond_init(&us->cv, NULL);
	randombytes_buf(us->ckey, sizeof(us->ckey));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_warnx("%s:%d: line too long", path, lineno);
			goto done;
		}
		if (blank(line))
			continue;
		if ((why = parse_line(line, &u)) != NULL) {
			log_warnx("%s:%d: %s", path, lineno, why);
			goto done;
		}
		if (us->n == USERS_MAX) {
			log_warnx("%s:%d: more than %d users", path, lineno,
			    USERS_MAX);
			goto done;
		}
		if ((r = add_user(us, &u)) != 0) {
			if (r > 0)
				log_warnx("%s:%d: user '%s' is there twice",
				    path, lineno, u.name);
			else
				log_warn("users file '%s'", path);
			goto done;
		}
	}
	if (ferror(f)) {
		log_warn("users file '%s'", path);
		goto done;
	}
	randombytes_buf(dpw, sizeof(dpw));
	if (crypto_pwhash_str(us->dummy, dpw, sizeof(dpw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		log_warnx("users file '%s': crypto_pwhash_str: out of memory",
		    path);
		goto done;
	}
	ok = 1;
 done:
	if (f != NULL)
		fclose(f);
	if (!ok) {
		users_free(us);
		us = NULL;
	}
	return us;
}

size_t
users_count(const struct users *us)
{
	return us != NULL ? us->n : 0;
}

struct users *
users_ref(struct users *us)
{
	if (us != NULL)
		__atomic_add_fetch(&us->refs, 1, __ATOMIC_RELAXED);
	return us;
}

void
users_free(struct users *us)
{
	if (us == NULL || __atomic_sub_fetch(&us->refs, 1, __ATOMIC_ACQ_REL) >
	    0)
		return;
	pthread_mutex_destroy(&us->mu);
	pthread_cond_destroy(&us->cv);
	sodium_memzero(us->ckey, sizeof(us->ckey));
	free(us->u);
	free(us);
}

/* The keyed hash of name and pw, for the cache. */
static void
cred_key(const struct users *us, const char *name, size_t namelen,
    const char *pw, size_t pwlen, uint8_t key[crypto_generichash_BYTES])
{
	crypto_generichash_state	 st;

	crypto_generichash_init(&st, us->ckey, sizeof(us->ckey),
	    crypto_generichash_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)name, namelen);
	crypto_generichash_update(&st, (const uint8_t *)"", 1);
	crypto_generichash_update(&st, (const uint8_t *)pw, pwlen);
	crypto_generichash_final(&st, key, crypto_generichash_BYTES);
}

int
users_check(struct users *us, const char *name, size_t namelen,
    const char *pw, size_t pwlen, int (*admit)(void *), void *arg)
{
	uint8_t		 key[crypto_generichash_BYTES];
	struct cslot	*s;
	const char	*hash = us->dummy;
	size_t		 i;
	int		 r, mine = 0;

	cred_key(us, name, namelen, pw, pwlen, key);
	s = &us->cache[(key[0] | key[1] << 8) % CACHE_SLOTS];
	pthread_mutex_lock(&us->mu);
	for (;;) {
		if (sodium_memcmp(s->key, key, sizeof(key)) != 0 ||
		    (!s->pending && s->expires <= mono())) {
			/* Claim the slot unless another check holds it. */
			if (!s->pending) {
				memcpy(s->key, key, sizeof(key));
				s->pending = 1;
				mine = 1;
			}
			break;
		}
		if (!s->pending) {
			r = s->ok;
			pthread_mutex_unlock(&us->mu);
			return r;
		}
		/* The same credentials are being checked: wait for that. */
		pthread_cond_wait(&us->cv, &us->mu);
	}
	pthread_mutex_unlock(&us->mu);
	if (admit(arg) != 0) {
		r = USERS_REFUSED;
		goto done;
	}
	for (i = 0; i < us->n; i++)
		if (strlen(us->u[i].name) == namelen &&
		    memcmp(us->u[i].name, name, namelen) == 0)
			hash = us->u[i].hash;
	/* An unknown name costs what a known one does, and fails. */
	r = crypto_pwhash_str_verify(hash, pw, pwlen) == 0 &&
	    hash != us->dummy ? USERS_OK : USERS_BAD;
 done:
	if (!mine)
		return r;
	pthread_mutex_lock(&us->mu);
	s->pending = 0;
	s->ok = r;
	s->expires = r == USERS_REFUSED ? 0 : mono() + CACHE_TTL;
	pthread_cond_broadcast(&us->cv);
	pthread_mutex_unlock(&us->mu);
	return r;
}

/*
 * Copy in to out with name's line replaced by newline; 0, 1 if it was
 * there, or -1.
 */
static int
copy_others(FILE *in, FILE *out, const char *name, const char *newline,
    const char *path)
{
	char	 line[LINE_MAX_LEN + 2];
	size_t	 len = strlen(name);
	int	 found = 0;

	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			if (!found && fputs(newline, out) == EOF)
				return -1;
			found = 1;
			continue;
		}
		if (fputs(line, out) == EOF)
			return -1;
		if (strchr(line, '\n') == NULL && fputc('\n', out) == EOF)
			return -1;
	}
	if (ferror(in)) {
		log_warn("users file '%s'", path);
		return -1;
	}
	return found;
}

int
users_set(const char *path, const char *name, const char *pw, size_t pwlen)
{
	char		 hash[crypto_pwhash_STRBYTES], *tmp = NULL, *dir;
	char		 newline[USERS_NAME_MAX + crypto_pwhash_STRBYTES + 3];
	FILE		*in = NULL, *out = NULL;
	int		 fd = -1, rv = -1, r = 0;

	if (!users_name_ok(name, strlen(name))) {
		log_warnx("user '%s': a name is 1 to 64 of A-Z a-z 0-9 _ - @",
		    name);
		return -1;
	}
	if (crypto_pwhash_str(hash, pw, pwlen,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		log_warnx("crypto_pwhash_str: out of memory");
		return -1;
	}
	snprintf(newline, sizeof(newline), "%s:%s\n", name, hash);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 &&
	    errno != ENOENT) {
		log_warn("users file '%s'", path);
		return -1;
	}
	if (fd != -1 && (!secret_file_ok(fd, path, "users file") ||
	    (in = fdopen(fd, "r")) == NULL)) {
		close(fd);
		return -1;
	}
	fd = -1;
	if (asprintf(&tmp, "%s.XXXXXX", path) == -1) {
		tmp = NULL;
		log_warn("asprintf");
		goto done;
	}
	if ((fd = mkstemp(tmp)) == -1 || fchmod(fd, 0600) == -1 ||
	    (out = fdopen(fd, "w")) == NULL) {
		log_warn("users file '%s'", tmp);
		goto done;
	}
	fd = -1;
	if ((in != NULL && (r = copy_others(in, out, name, newline,
	    path)) < 0) || (r == 0 && fputs(newline, out) == EOF) ||
	    fflush(out) != 0 ||
	    fsync(fileno(out)) != 0) {
		log_warn("writing users file '%s'", tmp);
		goto done;
	}
	if (fclose(out) != 0) {
		out = NULL;
		log_warn("writing users file '%s'", tmp);
		goto done;
	}
	out = NULL;
	if (rename(tmp, path) == -1) {
		log_warn("rename '%s' to '%s'", tmp, path);
		goto done;
	}
	free(tmp);
	tmp = NULL;
	/* The rename lasts once the directory is on disk. */
	if ((dir = strdup(path)) != NULL) {
		if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) != -1)
			fsync(fd);
		free(dir);
	}
	log_info("users file '%s': %s '%s'", path, r == 1 ? "replaced" :
	    "added", name);
	rv = 0;
 done:
	sodium_memzero(hash, sizeof(hash));
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return rv;
}
