/*
 * main.c: sumdbd's entry point: options, the offline subcommands, and
 * the daemon: config, store, keys and listener are opened first, then
 * the event loop runs until SIGTERM or SIGINT.
 */

#include <event2/event.h>
#include <event2/thread.h>

#include <sodium.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdbd.h"
#include "cmd/cmd.h"
#include "http/http.h"
#include "mirror/mirror.h"
#include "witness/witness.h"
#include "privlog/privlog.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sumdbd [-dnv] [-c FILE]\n"
	    "       sumdbd keygen [-o FILE] NAME\n"
	    "       sumdbd add [-c FILE] [-p GOPROXY] MODULE@VERSION...\n"
	    "       sumdbd unfreeze [-c FILE] NAME\n"
	    "       sumdbd tuf init|rotate ...\n"
	    "       sumdbd export [-c FILE] --db NAME [--from N] [--to M] OUT\n"
	    "       sumdbd import [-c FILE] BUNDLE\n"
	    "       sumdbd import [-c FILE] --root ROOT.json [--state DIR] URL\n"
	    "       sumdbd audit [-c FILE] [--db NAME] [--json] [--online] "
	    "GOSUM...\n"
	    "       sumdbd fsck [-c FILE]\n"
	    "       sumdbd evidence [-c FILE] list | show ID | export ID FILE\n"
	    "       sumdbd evidence [-c FILE] privacy\n"
	    "       sumdbd provenance [-c FILE] [-o FILE] MODULE@VERSION\n"
	    "       sumdbd client-config [-c FILE] [--db NAME] [--url URL] "
	    "[--way url|proxy]\n"
	    "       sumdbd client-check [-c FILE] [--db NAME] [--url URL] "
	    "[--gopath DIR]\n"
	    "       sumdbd passwd [-c FILE | -f USERS] NAME\n"
	    "Options:\n"
	    "  -c FILE  configuration file (default " SUMDBD_CONFIG ")\n"
	    "  -d       stay in the foreground, logging to stderr (as under "
	    "systemd)\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       log debugging messages too\n"
	    "Run 'sumdbd COMMAND -h' for a command's help.\n");
}

/* While stopping: end the loop once no request is left, or at the timeout. */
static void
stop_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;
	int64_t		 n = http_active(env);

	(void)fd;
	(void)ev;
	if (n > 0 && mono() < env->stop_at)
		return;
	if (n > 0)
		log_warnx("stopping: shutdown_timeout reached with %lld "
		    "request%s in flight", (long long)n, n == 1 ? "" : "s");
	event_del(env->stop_ev);
	event_base_loopexit(env->base, NULL);
}

/*
 * SIGTERM: stop accepting and wait up to shutdown_timeout for the
 * requests in flight; a second signal stops at once.
 */
static void
stop(struct env *env)
{
	if (env->stop_ev != NULL) {
		log_info("stopping now");
		event_base_loopexit(env->base, NULL);
		return;
	}
	daemon_notify(env, "STOPPING=1");
	log_info("stopping: no new connections; up to %lld ms for the "
	    "requests in flight", (long long)env->conf.shutdown_timeout);
	http_drain(env);
	env->stop_at = mono() + env->conf.shutdown_timeout / 1000.0;
	if ((env->stop_ev = event_new(env->base, -1, EV_PERSIST, stop_tick,
	    env)) == NULL || event_add(env->stop_ev,
	    &(struct timeval){ 0, 20000 }) != 0)
		event_base_loopexit(env->base, NULL);
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct env	*env = arg;

	(void)ev;
	if (sig == SIGHUP) {
		log_info("SIGHUP: rereading %s", env->confpath);
		daemon_reload(env);
		return;
	}
	log_info("%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	stop(env);
}

/* systemd's STATUS= line follows the trees. */
static void
on_status(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	daemon_notify(arg, NULL);
}

static void
libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

static int
run_daemon(struct env *env, int foreground)
{
	const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	size_t		 i;
	int		 rv = 2;

	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&env->wmu, NULL);
	event_set_log_callback(libevent_log);
	if (evthread_use_pthreads() != 0) {
		log_warnx("libevent has no thread support");
		goto done;
	}
	if (env_open_store(env, 1) != 0 || cluster_open(env) != 0 ||
	    logw_open(env) != 0 ||
	    mirror_open(env) != 0 || tufrepo_open(env) != 0 ||
	    witness_open(env) != 0)
		goto done;
	/*
	 * Detach once what can fail at start has been opened, before any
	 * thread or event loop exists: errors so far reached the terminal.
	 */
	if (!foreground) {
		/* Relative paths in the config stay relative to the cwd. */
		if (daemon(1, 0) == -1) {
			log_warn("daemon");
			goto done;
		}
		log_init(0, env->verbose);
	}
	if ((env->base = event_base_new()) == NULL) {
		log_warnx("cannot set up the event loop");
		goto done;
	}
	if ((env->nworkers = env->conf.workers) == 0 &&
	    (env->nworkers = (int)sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		env->nworkers = 1;
	if (fetch_init(env) != 0 || handoff_init(env) != 0 ||
	    privlog_init(env) != 0 || wconf_init(env) != 0 ||
	    http_start(env) != 0 || cluster_start(env) != 0)
		goto done;
	mirror_start(env);
	tufrepo_start(env);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		env->sigev[i] = evsignal_new(env->base, sigs[i], on_signal,
		    env);
		if (env->sigev[i] == NULL || evsignal_add(env->sigev[i], NULL))
			fatalx("cannot handle signals");
	}
	if (env->log != NULL)
		log_info("serving log '%s' at tree %lld", env->log->name,
		    (long long)env->log->size);
	daemon_notify(env, "READY=1");
	if ((env->status_ev = event_new(env->base, -1, EV_PERSIST, on_status,
	    env)) != NULL)
		event_add(env->status_ev, &(struct timeval){ 10, 0 });
	event_base_dispatch(env->base);
	/* Another node writes from now on. */
	cluster_stop(env);
	/* Upstream fetches still in flight fail now, while who asked lives. */
	fetch_stop(env);
	/* Bulk writes in flight roll back; their segments come again. */
	storew_stop(env);
	log_info("stopped serving; closing the store");
	rv = 0;
 done:
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (env->sigev[i] != NULL)
			event_free(env->sigev[i]);
	if (env->status_ev != NULL)
		event_free(env->status_ev);
	if (env->stop_ev != NULL)
		event_free(env->stop_ev);
	/*
	 * Teardown, the reverse of start-up: the workers first, so that
	 * nothing hands the writers more work; then what they left queued;
	 * then the writers, the publisher and the store.
	 */
	http_stop(env);
	cluster_free(env);
	handoff_free(env);
	privlog_free(env);
	mirror_free(env);
	witness_free(env);
	tufrepo_free(env);
	env_free(env);
	if (env->base != NULL)
		event_base_free(env->base);
	return rv;
}

int
main(int argc, char **argv)
{
	struct env	 env;
	struct users	*us = NULL;
	const char	*conf = SUMDBD_CONFIG;
	int		 ch, check = 0, foreground = 0;

	memset(&env, 0, sizeof(env));
	log_init(1, 0);
	if (sodium_init() < 0)
		fatalx("libsodium cannot be initialised");
	if (argc >= 2 && cmd_find(argv[1]) != NULL)
		return cmd_run(argc, argv);
	while ((ch = getopt(argc, argv, "c:dhnv")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			env.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(1, env.verbose);
	if (env_load_config(&env, conf) != 0)
		return 1;
	if (check) {
		/* The users file is part of what a start would refuse. */
		if (env.conf.users != NULL &&
		    (us = users_load(env.conf.users)) == NULL) {
			config_free(&env.conf);
			return 1;
		}
		users_free(us);
		config_free(&env.conf);
		fprintf(stderr, "%s: configuration OK\n", conf);
		return 0;
	}
	return run_daemon(&env, foreground);
}
