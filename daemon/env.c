/*
 * env.c: what the daemon and the offline subcommands share: reading
 * the config, opening the store and the private log with its signing
 * key, and the TLS context for outbound HTTPS.
 */

#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sumdbd.h"
#include "store.h"
#include "sumdb.h"

#define KEY_MAX	512

/* Seconds on the monotonic clock. */
double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
env_load_config(struct env *env, const char *path)
{
	char	 err[256];
	int	 line, r;

	env->confpath = path;
	if ((r = config_load(path, &env->conf, &line, err, sizeof(err))) != 0) {
		if (line > 0)
			fprintf(stderr, "%s:%d: %s\n", path, line, err);
		else
			fprintf(stderr, "%s: %s\n", path, err);
		config_free(&env->conf);	/* what it read before the error */
		return -1;
	}
	return 0;
}

void
env_state_dir(const struct env *env, char *dir, size_t size)
{
	const char	*db = env->conf.database, *slash;

	if (env->conf.state_dir != NULL)
		snprintf(dir, size, "%s", env->conf.state_dir);
	else if (db == NULL || (slash = strrchr(db, '/')) == NULL)
		snprintf(dir, size, ".");
	else if (slash == db)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - db), db);
}

/*
 * Open the store; unless create, it must exist already (commands that
 * only read it would otherwise report on an empty new one).
 */
int
env_open_store(struct env *env, int create)
{
	struct stat	 sb;
	char		 err[512];

	if (!create && !config_is_pg(env->conf.database) &&
	    stat(env->conf.database, &sb) == -1) {
		log_warn("database '%s'", env->conf.database);
		return -1;
	}

	if ((env->st = store_open(env->conf.database, err, sizeof(err))) ==
	    NULL) {
		log_warnx("database '%s': %s", env->conf.database, err);
		return -1;
	}
	return 0;
}

/*
 * Whether the secret file open as fd (what names it in messages) is a
 * regular file only its owner can read (config_secret_check()); logged
 * if not.
 */
int
secret_file_ok(int fd, const char *path, const char *what)
{
	char	 why[512];

	if (config_secret_check(fd, path, why, sizeof(why)) != 0) {
		log_warnx("%s '%s': %s", what, path, why);
		return 0;
	}
	return 1;
}

/*
 * Read a signing key of type alg (NOTE_ED25519 for the log,
 * NOTE_COSIG_V1 for the witness): a regular file that only its owner
 * can read, holding one PRIVATE+KEY+... line.  It goes from the file
 * into guarded memory and is never logged.
 */
struct note_signer *
env_load_key(const char *path, int alg)
{
	struct note_signer	*s = NULL;
	char			*buf = NULL;
	ssize_t			 n;
	size_t			 len;
	int			 fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("signing key '%s'", path);
		return NULL;
	}
	if (!secret_file_ok(fd, path, "signing key"))
		goto done;
	if ((buf = sodium_malloc(KEY_MAX)) == NULL) {
		log_warn("sodium_malloc");
		goto done;
	}
	if ((n = read(fd, buf, KEY_MAX)) == -1) {
		log_warn("signing key '%s'", path);
		goto done;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == KEY_MAX || (s = note_signer_parse(buf, len, &err)) ==
	    NULL || note_signer_alg(s) != alg) {
		log_warnx("signing key '%s': not a PRIVATE+KEY+... %s key",
		    path, alg == NOTE_ED25519 ? "Ed25519" :
		    "witness (cosignature/v1)");
		note_signer_free(s);
		s = NULL;
	}
 done:
	if (buf != NULL)
		sodium_free(buf);
	close(fd);
	return s;
}

int
env_open_log(struct env *env)
{
	struct note_verifier	 v;
	struct db		*db;

	if (env->conf.log_name == NULL)
		return 0;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->name = strdup(env->conf.log_name)) == NULL) {
		log_warn("calloc");
		goto bad;
	}
	TAILQ_INIT(&db->fetching);
	TAILQ_INIT(&db->ready);
	TAILQ_INIT(&db->jobs);
	db->kind = DB_PRIVATE;
	db->env = env;
	db->idx = env->ndbs;
	env->dbs[env->ndbs++] = db;
	env->log = db;
	if ((db->signer = env_load_key(env->conf.log_key, NOTE_ED25519)) == NULL)
		return -1;
	note_signer_verifier(db->signer, &v);
	db->vkey = v;
	if (strcmp(v.name, db->name) != 0) {
		log_warnx("signing key '%s' is for '%s', not for [log] name "
		    "'%s'", env->conf.log_key, v.name, db->name);
		return -1;
	}
	/* Without a store, only the key: client-config needs no more. */
	if (env->st == NULL)
		return 0;
	if (store_log(env->st, db->name, "private", &db->log) != 0) {
		log_warnx("log '%s': %s", db->name, store_errmsg(env->st));
		return -1;
	}
	return db_refresh(env, db);
 bad:
	if (db != NULL) {
		free(db->name);
		free(db);
	}
	return -1;
}

void
env_free(struct env *env)
{
	if (env->log != NULL) {
		note_signer_free(env->log->signer);
		free(env->log->name);
		free(env->log);
		env->log = NULL;
	}
	fetch_free(env);
	store_close(env->st);
	env->st = NULL;
	wconf_free(&env->wconf);
	config_free(&env->conf);
}
