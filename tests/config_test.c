/*
 * config_test.c: unit tests of config/: every key, defaults, units,
 * bounds, [mirror NAME] sections, and errors reported with their line;
 * GOPRIVATE-style pattern matching; and [log] public's routes.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* Load text as a config file; returns the code, fills line and err. */
static int
load(const char *text, struct config *c, int *line, char *err, size_t len)
{
	char	 path[] = "/tmp/config_test.XXXXXX";
	FILE	*f;
	int	 fd, r;

	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	r = config_load(path, c, line, err, len);
	unlink(path);
	return r;
}

static void
test_defaults_and_keys(void **state)
{
	struct config	 c;
	char		 err[256];
	int		 line;

	(void)state;
	assert_int_equal(load("", &c, &line, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.idle_timeout, 30000);
	assert_int_equal(c.max_header_size, 8192);
	assert_null(c.log_name);
	assert_int_equal(c.nmirrors, 0);
	config_free(&c);
	assert_int_equal(load("[server]\nlisten = [::1]:9\n"
	    "idle_timeout = 250ms\nmax_header_size = 64k\nworkers = 3\n"
	    "[log]\nname = a.example\nkey = /k\ngoproxy = file:///p\n"
	    "private = corp.example/*\nbatch_delay = 0\n"
	    "[mirror sum.golang.org]\nkey = sum.golang.org+1+2\n"
	    "url = https://a\nurl = https://b\nmode = full\noffline = yes\n"
	    "poll = 2m\n", &c, &line, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "[::1]:9");
	assert_int_equal(c.idle_timeout, 250);
	assert_int_equal(c.max_header_size, 65536);
	assert_int_equal(c.workers, 3);
	assert_string_equal(c.log_private, "corp.example/*");
	assert_int_equal(c.log_batch_delay, 0);
	assert_int_equal(c.nmirrors, 1);
	assert_string_equal(c.mirrors[0].name, "sum.golang.org");
	assert_int_equal(c.mirrors[0].nurls, 2);
	assert_string_equal(c.mirrors[0].urls[1], "https://b");
	assert_string_equal(c.mirrors[0].mode, "full");
	assert_int_equal(c.mirrors[0].offline, 1);
	assert_int_equal(c.mirrors[0].poll, 120000);
	assert_int_equal(config_auth(&c), AUTH_NONE);
	config_free(&c);
	assert_int_equal(load("[server]\nauth = private\nusers = /u\n"
	    "auth_healthz = yes\n", &c, &line, err, sizeof(err)), 0);
	assert_int_equal(config_auth(&c), AUTH_PRIVATE);
	assert_int_equal(c.auth_healthz, 1);
	assert_int_equal(c.auth_metrics, 0);
	assert_int_equal(c.auth_rate, 30);
	config_free(&c);
	/* A client CA alone is a way to authenticate. */
	assert_int_equal(load("[server]\nauth = all\ntls_certificate = /c\n"
	    "tls_key = /k\ntls_client_ca = /ca\n", &c, &line, err,
	    sizeof(err)), 0);
	assert_int_equal(config_auth(&c), AUTH_ALL);
	config_free(&c);
}

static void
test_errors(void **state)
{
	const struct {
		const char	*text;
		int		 code, line;
		const char	*msg;
	} cases[] = {
		{ "[server]\nbogus = 1\n", CONFIG_EKEY, 2, "unknown key" },
		{ "[nope]\nx = 1\n", CONFIG_EKEY, 2, "unknown key" },
		{ "[server]\nlisten = a:1\nlisten = b:2\n", CONFIG_EKEY, 3,
		    "set twice" },
		{ "[server]\nidle_timeout = 5x\n", CONFIG_EVALUE, 2,
		    "malformed duration" },
		{ "[server]\nidle_timeout = 99ms\n", CONFIG_EVALUE, 2,
		    "out of range" },
		{ "[server]\nidle_timeout = 3601s\n", CONFIG_EVALUE, 2,
		    "out of range" },
		{ "[server]\nmax_header_size = -1\n", CONFIG_EVALUE, 2,
		    "malformed size" },
		{ "[server]\nworkers = 65\n", CONFIG_EVALUE, 2, "out of range" },
		{ "[server]\nworkers = 1x\n", CONFIG_EVALUE, 2, "malformed" },
		{ "[log]\nname = a\n", CONFIG_EMISSING, 0, "needs a key" },
		{ "[log]\nkey = /k\n", CONFIG_EMISSING, 0, "needs a name" },
		/* A section is reported at its first key. */
		{ "\n[mirror x]\nurl = https://x\n", CONFIG_EMISSING, 3,
		    "needs a key" },
		{ "[mirror x]\nkey = k\n", CONFIG_EMISSING, 2, "needs a url" },
		{ "[mirror x]\nkey = k\nurl = ftp://x\n", CONFIG_EVALUE, 3,
		    "not an http" },
		{ "[mirror x]\nkey = k\nmode = half\n", CONFIG_EVALUE, 3,
		    "not lazy or full" },
		{ "[mirror x]\nkey = k\noffline = maybe\n", CONFIG_EVALUE, 3,
		    "not yes or no" },
		{ "[mirror x]\nkey = k\nkey = j\n", CONFIG_EKEY, 3,
		    "set twice" },
		{ "[mirror]\nkey = k\n", CONFIG_EKEY, 2, "unknown key" },
		{ "[log]\nname = x\nkey = /k\n[mirror x]\nkey = k\n"
		    "offline = yes\n", CONFIG_EVALUE, 5, "name of the [log]" },
		{ "[server\n", CONFIG_ESYNTAX, 1, "syntax" },
		{ "[server]\n\nauth = some\n", CONFIG_EVALUE, 3,
		    "not none, private or all" },
		{ "[server]\nlisten = a:1\nauth = private\n", CONFIG_EMISSING,
		    3, "no users file" },
		{ "[server]\nauth_metrics = yes\n", CONFIG_EMISSING, 2,
		    "no users file" },
		{ "[server]\nauth = all\ntls_client_ca = /ca.pem\n",
		    CONFIG_EMISSING, 3, "needs tls_certificate" },
		{ "[server]\nauth_concurrency = 0\n", CONFIG_EVALUE, 2,
		    "out of range" },
	};
	struct config	 c;
	char		 err[256];
	size_t		 i;
	int		 line, r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = load(cases[i].text, &c, &line, err, sizeof(err));
		if (r != cases[i].code || line != cases[i].line ||
		    strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: got %d line %d '%s'", i, r, line,
			    err);
		config_free(&c);
	}
	assert_int_equal(config_load("/nonexistent/x.conf", &c, &line, err,
	    sizeof(err)), CONFIG_EOPEN);
	config_free(&c);
}

static void
test_units(void **state)
{
	int64_t	 v;

	(void)state;
	assert_int_equal(config_duration("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_duration("90", &v), 0);
	assert_int_equal(v, 90000);
	assert_int_equal(config_duration("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(config_duration("", &v), -1);
	assert_int_equal(config_duration("s", &v), -1);
	assert_int_equal(config_duration("+5s", &v), -1);
	assert_int_equal(config_duration("5 s", &v), -1);
	assert_int_equal(config_duration("9223372036854775807h", &v), -1);
	assert_int_equal(config_size("1G", &v), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(config_size("10kb", &v), -1);
}

static void
test_patterns(void **state)
{
	(void)state;
	assert_true(config_match_patterns("corp.example/*",
	    "corp.example/a/b"));
	assert_true(config_match_patterns("*.corp.example",
	    "git.corp.example/a/b"));
	assert_true(config_match_patterns("rsc.io/private",
	    "rsc.io/private/x"));
	assert_false(config_match_patterns("rsc.io/private",
	    "rsc.io/privateer"));
	assert_true(config_match_patterns("a.example, ,b.example/",
	    "b.example/x"));
	assert_false(config_match_patterns("a.example", "b.example"));
	assert_false(config_match_patterns("[", "["));
	assert_false(config_match_patterns(NULL, "a.example"));
	assert_false(config_match_patterns("", "a.example"));
}

/* [log] public: its default, its validation, and each path's route. */
static void
test_public(void **state)
{
	static const char base[] = "[log]\nname = l.example\nkey = /k\n"
	    "goproxy = file:///p\n";
	static const char m1[] = "[mirror sum.golang.org]\nkey = k\n"
	    "url = https://a\n";
	static const char m2[] = "[mirror other.example]\nkey = k\n"
	    "offline = yes\n";
	struct config	 c;
	char		 err[256], text[1024];
	int		 line;

	(void)state;
	/* No mirror, no private: none, and every path is the log's own. */
	assert_int_equal(load(base, &c, &line, err, sizeof(err)), 0);
	assert_string_equal(config_log_public(&c), "none");
	assert_null(config_log_mirror(&c));
	assert_int_equal(config_log_route(&c, "a.example/x"), ROUTE_PRIVATE);
	assert_int_equal(c.log_verify_goproxy, 0);
	config_free(&c);
	/* Exactly one mirror: it, unless private matches. */
	snprintf(text, sizeof(text), "%sprivate = corp.example/*\n%s", base,
	    m1);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_string_equal(config_log_public(&c), "sum.golang.org");
	assert_string_equal(config_log_mirror(&c), "sum.golang.org");
	assert_int_equal(config_log_route(&c, "corp.example/a"),
	    ROUTE_PRIVATE);
	assert_int_equal(config_log_route(&c, "golang.org/x/mod"),
	    ROUTE_MIRROR);
	config_free(&c);
	/* Two mirrors: none, and a path outside private is refused. */
	snprintf(text, sizeof(text), "%sprivate = corp.example/*\n%s%s",
	    base, m1, m2);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_string_equal(config_log_public(&c), "none");
	assert_int_equal(config_log_route(&c, "golang.org/x/mod"),
	    ROUTE_REFUSE);
	config_free(&c);
	/* Named, goproxy, none; and verify_goproxy. */
	snprintf(text, sizeof(text), "%spublic = other.example\n"
	    "verify_goproxy = yes\n%s%s", base, m1, m2);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_string_equal(config_log_public(&c), "other.example");
	assert_int_equal(config_log_route(&c, "corp.example/a"),
	    ROUTE_MIRROR);
	assert_int_equal(c.log_verify_goproxy, 1);
	config_free(&c);
	snprintf(text, sizeof(text), "%spublic = goproxy\n%s", base, m1);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_int_equal(config_log_route(&c, "golang.org/x/mod"),
	    ROUTE_GOPROXY);
	assert_null(config_log_mirror(&c));
	config_free(&c);
	snprintf(text, sizeof(text), "%spublic = none\n%s", base, m1);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_int_equal(config_log_route(&c, "golang.org/x/mod"),
	    ROUTE_PRIVATE);
	config_free(&c);
	/* A name that is no mirror: the line of the key. */
	snprintf(text, sizeof(text), "%spublic = sum.golang.org\n", base);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_int_equal(line, 5);
	assert_non_null(strstr(err, "no [mirror sum.golang.org]"));
	config_free(&c);
	/* verify_goproxy hashes from a GOPROXY: it needs one. */
	assert_int_equal(load("[log]\nname = l.example\nkey = /k\n"
	    "verify_goproxy = yes\n", &c, &line, err, sizeof(err)),
	    CONFIG_EMISSING);
	config_free(&c);
}

static void
ignore_diff(void *arg, const char *section, const char *name, int live)
{
	(void)arg;
	(void)section;
	(void)name;
	(void)live;
}

/* Write text to a new file of mode mode; its path in path. */
static void
secret(char *path, const char *text, mode_t mode)
{
	int	 fd;

	strcpy(path, "/tmp/config_test.secret.XXXXXX");
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/*
 * [log] and [mirror] egress keys: the proxy, credential files read
 * whole (mode 0600 only, one well-formed line), errors on their line,
 * and the files read again by a reload.
 */
static void
test_egress(void **state)
{
	struct config	 c, n;
	char		 err[512], text[2048], pa[64], ah[64], nr[64];
	char		 loose[64];
	int		 line;

	(void)state;
	secret(pa, "alice:s3cret:x\n", 0600);
	secret(ah, "Authorization: Bearer tok-1\n", 0600);
	secret(nr, "machine a login u password p\n", 0600);
	secret(loose, "alice:pw\n", 0644);
	snprintf(text, sizeof(text), "[log]\nname = l.example\nkey = /k\n"
	    "goproxy = https://proxy.example\nproxy = http://squid:3128\n"
	    "proxy_auth = %s\nnetrc = %s\nauth_header = %s\nretries = 5\n"
	    "[mirror m.example]\nkey = k\nurl = https://m\nproxy = none\n"
	    "fetch_concurrency = 100\n", pa, nr, ah);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)), 0);
	assert_string_equal(c.log_egress.proxy, "http://squid:3128");
	assert_string_equal(c.log_egress.proxy_auth_data, "alice:s3cret:x");
	assert_string_equal(c.log_egress.auth_header_data,
	    "Authorization: Bearer tok-1");
	assert_string_equal(c.log_egress.netrc, nr);
	assert_int_equal(c.log_egress.retries, 5);
	assert_string_equal(c.mirrors[0].egress.proxy, "none");
	assert_null(c.mirrors[0].egress.auth_header_data);
	assert_int_equal(c.mirrors[0].egress.retries, 3);
	assert_int_equal(c.mirrors[0].fetch_concurrency, 100);
	assert_int_equal(c.mirrors[0].line, 11);
	/* A new token in the same file: a reload takes it. */
	secret(ah, "Authorization: Bearer tok-2\n", 0600);
	snprintf(text, sizeof(text), "[log]\nname = l.example\nkey = /k\n"
	    "goproxy = https://proxy.example\nauth_header = %s\n", ah);
	assert_int_equal(load(text, &n, &line, err, sizeof(err)), 0);
	config_reload(&c, &n, ignore_diff, NULL);
	assert_string_equal(c.log_egress.auth_header_data,
	    "Authorization: Bearer tok-2");
	config_free(&n);
	config_free(&c);
	unlink(pa);
	unlink(nr);
	unlink(ah);
	/* Errors, each on its line. */
	snprintf(text, sizeof(text), "[log]\nname = l.example\nkey = /k\n"
	    "proxy_auth = %s\n", loose);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_int_equal(line, 4);
	assert_non_null(strstr(err, "readable by group or others"));
	config_free(&c);
	assert_int_equal(load("[log]\nname = l.example\nkey = /k\n"
	    "proxy = http://u:p@squid:3128\n", &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_int_equal(line, 4);
	assert_non_null(strstr(err, "proxy_auth"));
	config_free(&c);
	assert_int_equal(load("[mirror m]\nkey = k\nurl = https://m\n"
	    "proxy = ftp://x\n", &c, &line, err, sizeof(err)), CONFIG_EVALUE);
	assert_int_equal(line, 4);
	config_free(&c);
	secret(ah, "Authorization Bearer x\n", 0600);
	snprintf(text, sizeof(text), "[mirror m]\nkey = k\nurl = https://m\n"
	    "\nauth_header = %s\n", ah);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_int_equal(line, 5);
	assert_non_null(strstr(err, "Name: value"));
	config_free(&c);
	unlink(ah);
	secret(ah, "X-A: 1\nX-B: 2\n", 0600);
	snprintf(text, sizeof(text), "[log]\nname = l.example\nkey = /k\n"
	    "auth_header = %s\n", ah);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_non_null(strstr(err, "one line"));
	config_free(&c);
	unlink(ah);
	snprintf(text, sizeof(text), "[log]\nname = l.example\nkey = /k\n"
	    "netrc = %s\n", loose);
	assert_int_equal(load(text, &c, &line, err, sizeof(err)),
	    CONFIG_EVALUE);
	assert_non_null(strstr(err, "chmod 600"));
	config_free(&c);
	unlink(loose);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_egress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
