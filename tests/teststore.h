/*
 * teststore.h: the store a unit test opens.  With SUMDBD_TEST_PG set
 * (a PostgreSQL connection URI, as tests/run.sh sets it for the second
 * run of the store tests), each call makes a fresh schema there and
 * names it in the URI it returns; otherwise an SQLite database in
 * memory.  Header only: each test includes it once.
 */

#ifndef TESTSTORE_H
#define TESTSTORE_H

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Whether the tests run on PostgreSQL. */
static inline int
teststore_pg(void)
{
	const char	*pg = getenv("SUMDBD_TEST_PG");

	return pg != NULL && *pg != '\0';
}

/* A fresh store's target into buf, or NULL (with a message printed). */
static inline const char *
teststore_target(char *buf, size_t size)
{
	static unsigned	 n;
	const char	*pg = getenv("SUMDBD_TEST_PG");
	PGconn		*c;
	PGresult	*r;
	char		 sql[192];
	int		 ok;

	if (!teststore_pg())
		return ":memory:";
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; "
	    "DROP SCHEMA IF EXISTS t%d_%u CASCADE; "
	    "CREATE SCHEMA t%d_%u", (int)getpid(), n, (int)getpid(), n);
	c = PQconnectdb(pg);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "teststore: %s: %s", pg, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	if (!ok)
		return NULL;
	snprintf(buf, size, "%s%soptions=-csearch_path%%3Dt%d_%u", pg,
	    strchr(pg, '?') != NULL ? "&" : "?", (int)getpid(), n++);
	return buf;
}

#endif /* TESTSTORE_H */
