/*
 * db.c: what every served database shares, whoever writes it: its
 * newest trust base reread from the store (workers see it by the
 * generation), the "database changed" hooks that the TUF publisher
 * subscribes to, the names of the refusals it counts, and the /metrics
 * sections the writer layers register.  Main thread, except where a
 * comment says "any thread".
 */

#include <event2/buffer.h>

#include <stdio.h>
#include <string.h>

#include "sumdbd.h"
#include "store.h"

int
db_refresh(struct env *env, struct db *db)
{
	uint8_t	 root[SUMDB_HASH_SIZE];
	int64_t	 t, size = 0;
	int	 r, i;

	r = store_published(env->st, db->log, NULL, &size, root);
	if (r < 0) {
		log_warnx("log '%s': %s", db->name, store_errmsg(env->st));
		return -1;
	}
	/* Workers read it (/metrics, /healthz): atomically. */
	__atomic_store_n(&db->size, r == 0 ? 0 : size, __ATOMIC_RELAXED);
	if (r > 0 && store_latest_time(env->st, db->log, &t) > 0)
		__atomic_store_n(&db->tb_time, t, __ATOMIC_RELAXED);
	/* Workers reload their copies when they see a new generation. */
	__atomic_add_fetch(&db->gen, 1, __ATOMIC_RELEASE);
	for (i = 0; i < env->nchanged; i++)
		env->changed[i].fn(env, db, env->changed[i].arg);
	return 0;
}

int
db_subscribe(struct env *env, db_changed_fn fn, void *arg)
{
	if (env->nchanged == ENV_HOOKS_MAX)
		return -1;
	env->changed[env->nchanged].fn = fn;
	env->changed[env->nchanged].arg = arg;
	env->nchanged++;
	return 0;
}

int
env_metrics_add(struct env *env, env_metrics_fn fn)
{
	if (env->nmetrics == ENV_HOOKS_MAX)
		return -1;
	env->metrics[env->nmetrics++] = fn;
	return 0;
}

void
env_metrics(struct env *env, struct evbuffer *out)
{
	int	 i;

	for (i = 0; i < env->nmetrics; i++)
		env->metrics[i](env, out);
}

const char *
refusal_name(enum refusal r)
{
	static const char *names[R_MAX] = {
		[R_SIGNATURE] = "signature", [R_MALFORMED] = "malformed",
		[R_FORK] = "fork", [R_ROLLBACK] = "rollback",
		[R_TILE] = "tile", [R_UNRELATED] = "unrelated",
		[R_NOT_IN_TREE] = "not_in_tree", [R_CONFLICT] = "conflict",
		[R_UPSTREAM] = "upstream", [R_SPLIT] = "split",
	};

	return r < R_MAX ? names[r] : "unknown";
}
