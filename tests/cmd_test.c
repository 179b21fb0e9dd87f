/*
 * cmd_test.c: unit tests of the command table (daemon/cmd/cmd.c):
 * finding commands, -h, usage errors and their exit status, and a
 * command that needs the config given one it cannot load.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/cmd.h"

/* cmd_run() over a NULL-ended list of words after "sumdbd". */
static int
run(const char *word, ...)
{
	char		*argv[16];
	const char	*w;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = "sumdbd";
	va_start(ap, word);
	for (w = word; w != NULL && argc < 15; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	return cmd_run(argc, argv);
}

static void
test_find(void **state)
{
	const char	*names[] = { "keygen", "add", "unfreeze", "tuf",
	    "export", "import", "audit", "fsck", "evidence", "provenance",
	    "client-config", "client-check" };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_non_null(cmd_find(names[i]));
		assert_string_equal(cmd_find(names[i])->name, names[i]);
	}
	assert_ptr_equal(cmd_find("add"), &cmd_add_entry);
	assert_null(cmd_find("ad"));
	assert_null(cmd_find("-c"));
	assert_null(cmd_find(""));
	assert_int_equal(run("nosuchcommand", NULL), 2);
}

static void
test_help(void **state)
{
	(void)state;
	assert_int_equal(run("keygen", "-h", NULL), 0);
	assert_int_equal(run("fsck", "-h", NULL), 0);
	assert_int_equal(run("audit", "--help", NULL), 0);
	assert_int_equal(run("client-check", "--help", NULL), 0);
	assert_int_equal(run("provenance", "-h", NULL), 0);
	assert_int_equal(run("tuf", "init", "-h", NULL), 0);
	/* As before the table: tuf's verb comes first. */
	assert_int_equal(run("tuf", "-h", NULL), 2);
	/* -h after a bad option: the bad option wins. */
	assert_int_equal(run("fsck", "-Z", "-h", NULL), 2);
}

static void
test_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(run("fsck", "-c", NULL), 2);
	assert_int_equal(run("unfreeze", "-c", NULL), 2);
	assert_int_equal(run("keygen", NULL), 2);
	assert_int_equal(run("keygen", "a.example", "b.example", NULL), 2);
	assert_int_equal(run("unfreeze", "-c", "/nonexistent", NULL), 2);
	assert_int_equal(run("export", "--db", NULL), 2);
	assert_int_equal(run("client-config", "x", NULL), 2);
	/* provenance takes exactly one MODULE@VERSION, and -o a file. */
	assert_int_equal(run("provenance", NULL), 2);
	assert_int_equal(run("provenance", "a@v1.0.0", "b@v1.0.0", NULL), 2);
	assert_int_equal(run("provenance", "-o", NULL), 2);
	assert_int_equal(run("tuf", NULL), 2);
	/* keygen has no -c. */
	assert_int_equal(run("keygen", "-c", "f", "a.example", NULL), 2);
}

static void
test_bad_config(void **state)
{
	char	 path[] = "/tmp/cmd_test.XXXXXX";
	FILE	*f;
	int	 fd;

	(void)state;
	assert_int_equal(run("fsck", "-c", "/nonexistent/sumdbd.conf", NULL),
	    2);
	assert_int_equal(run("evidence", "-c", "/nonexistent/sumdbd.conf",
	    "list", NULL), 2);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "[server]\nno_such_key = 1\n");
	fclose(f);
	assert_int_equal(run("fsck", "-c", path, NULL), 2);
	assert_int_equal(run("client-config", "-c", path, NULL), 2);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_bad_config),
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
