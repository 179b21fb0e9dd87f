/*
 * sql.c: the two drivers under sql.h.  SQLite's is a thin skin.
 * PostgreSQL's prepares each statement on the connection (named s1,
 * s2 ...) with ?N rewritten to $N, sends integers and text as text and
 * blobs as binary, asks for binary results, and keeps a statement's
 * whole result until it is reset: store.c reads large ranges in
 * batches, so results stay small.
 */

#include <libpq-fe.h>
#include <sqlite3.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

/* PostgreSQL's type oids of the integer columns store.c reads. */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23

struct sqdb {
	int		 kind;
	sqlite3		*lite;
	PGconn		*pg;
	PGcancel	*cancel;
	pthread_mutex_t	 cancel_mtx;	/* cancel: any thread's */
	unsigned	 nstmt;
	int64_t		 changes;
	struct sq	*stmts;		/* every statement prepared */
	char		*setup;		/* run again on reconnecting */
	int		 tx;		/* a transaction was open */
	char		 err[256];
};

struct sq {
	struct sqdb	*db;
	sqlite3_stmt	*lite;
	/* PostgreSQL */
	struct sq	*next, **prevp;	/* in db->stmts */
	char		*sql;		/* as sent */
	char		 name[16];
	int		 nparam;
	const char	*val[SQ_MAXPARAM];
	int		 len[SQ_MAXPARAM];
	int		 fmt[SQ_MAXPARAM];
	char		 num[SQ_MAXPARAM][24];
	PGresult	*res;
	int		 row, nrows, ran;
};

int
sq_is_pg(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0;
}

int
sq_kind(const struct sqdb *db)
{
	return db->kind;
}

const char *
sq_errmsg(struct sqdb *db)
{
	if (db->kind == SQ_SQLITE && db->err[0] == '\0')
		return sqlite3_errmsg(db->lite);
	return db->err;
}

/* Keep PostgreSQL's message for the last failure, on one line. */
static void
pg_error(struct sqdb *db, const PGresult *res)
{
	const char	*m = res != NULL ? PQresultErrorMessage(res) : "";
	char		*nl;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(db->pg);
	snprintf(db->err, sizeof(db->err), "%s", m);
	if ((nl = strchr(db->err, '\n')) != NULL)
		*nl = '\0';
}

/* Notices (a table that exists already...) are not errors: drop them. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* After a PostgreSQL call: remember whether a transaction is open. */
static void
pg_track(struct sqdb *db)
{
	if (PQstatus(db->pg) == CONNECTION_OK)
		db->tx = PQtransactionStatus(db->pg) != PQTRANS_IDLE;
}

/* Run sql (no rows, no parameters): 0, or -1 with its message kept. */
static int
pg_run(struct sqdb *db, const char *sql)
{
	PGresult	*res = PQexec(db->pg, sql);
	int		 ok;

	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		pg_error(db, res);
	PQclear(res);
	pg_track(db);
	return ok ? 0 : -1;
}

/*
 * Make the connection usable.  If it broke (the server restarted, or
 * ended a transaction left idle), connect again, run the session's
 * setup and prepare every statement again.  A transaction open when it
 * broke is lost with its writes: until the caller's ROLLBACK (rollback
 * set), everything fails.
 */
static int
pg_ready(struct sqdb *db, int rollback)
{
	PGresult	*res;
	struct sq	*q;
	int		 ok;

	if (PQstatus(db->pg) == CONNECTION_OK)
		return 0;
	if (db->tx && !rollback) {
		snprintf(db->err, sizeof(db->err), "the connection to "
		    "PostgreSQL broke during a transaction");
		return -1;
	}
	db->tx = 0;
	PQreset(db->pg);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		pg_error(db, NULL);
		return -1;
	}
	pthread_mutex_lock(&db->cancel_mtx);
	if (db->cancel != NULL)
		PQfreeCancel(db->cancel);
	db->cancel = PQgetCancel(db->pg);
	pthread_mutex_unlock(&db->cancel_mtx);
	if (db->setup != NULL && pg_run(db, db->setup) != 0)
		return -1;
	for (q = db->stmts; q != NULL; q = q->next) {
		res = PQprepare(db->pg, q->name, q->sql, 0, NULL);
		if (!(ok = PQresultStatus(res) == PGRES_COMMAND_OK))
			pg_error(db, res);
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

struct sqdb *
sq_open(const char *target, char *err, size_t errsize)
{
	struct sqdb	*db;

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (sq_is_pg(target)) {
		db->kind = SQ_PG;
		db->pg = PQconnectdb(target);
		if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
			snprintf(err, errsize, "%s", db->pg != NULL ?
			    PQerrorMessage(db->pg) : "out of memory");
			err[strcspn(err, "\n")] = '\0';
			sq_close(db);
			return NULL;
		}
		PQsetNoticeProcessor(db->pg, pg_notice, NULL);
		pthread_mutex_init(&db->cancel_mtx, NULL);
		db->cancel = PQgetCancel(db->pg);
		return db;
	}
	db->kind = SQ_SQLITE;
	if (sqlite3_open_v2(target, &db->lite, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s", db->lite ?
		    sqlite3_errmsg(db->lite) : "out of memory");
		sq_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->lite, 5000);
	return db;
}

void
sq_close(struct sqdb *db)
{
	if (db == NULL)
		return;
	if (db->kind == SQ_PG && db->pg != NULL &&
	    PQstatus(db->pg) == CONNECTION_OK)
		pthread_mutex_destroy(&db->cancel_mtx);
	if (db->cancel != NULL)
		PQfreeCancel(db->cancel);
	if (db->pg != NULL)
		PQfinish(db->pg);
	sqlite3_close(db->lite);
	free(db->setup);
	free(db);
}

int
sq_exec(struct sqdb *db, const char *sql)
{
	char	*msg = NULL;
	int	 rollback, tx;

	db->err[0] = '\0';
	if (db->kind == SQ_SQLITE) {
		if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) ==
		    SQLITE_OK)
			return 0;
		snprintf(db->err, sizeof(db->err), "%s", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	rollback = strncmp(sql, "ROLLBACK", 8) == 0;
	if (rollback && PQstatus(db->pg) != CONNECTION_OK)
		return pg_ready(db, 1);	/* the transaction went with it */
	if (pg_ready(db, 0) != 0)
		return -1;
	tx = db->tx;
	if (pg_run(db, sql) == 0)
		return 0;
	/* Broken outside a transaction: once more, connected again. */
	if (tx || PQstatus(db->pg) == CONNECTION_OK || pg_ready(db, 0) != 0)
		return -1;
	return pg_run(db, sql);
}

int
sq_session(struct sqdb *db, const char *sql)
{
	free(db->setup);
	if ((db->setup = strdup(sql)) == NULL) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return -1;
	}
	return sq_exec(db, sql);
}

void
sq_interrupt(struct sqdb *db)
{
	char	 buf[64];

	if (db->kind == SQ_SQLITE) {
		sqlite3_interrupt(db->lite);
		return;
	}
	pthread_mutex_lock(&db->cancel_mtx);
	if (db->cancel != NULL)
		PQcancel(db->cancel, buf, sizeof(buf));
	pthread_mutex_unlock(&db->cancel_mtx);
}

int64_t
sq_changes(struct sqdb *db)
{
	if (db->kind == SQ_SQLITE)
		return sqlite3_changes(db->lite);
	return db->changes;
}

int
sq_in_tx(struct sqdb *db)
{
	if (db->kind == SQ_SQLITE)
		return !sqlite3_get_autocommit(db->lite);
	return PQtransactionStatus(db->pg) != PQTRANS_IDLE;
}

void
sq_release_memory(struct sqdb *db)
{
	if (db->kind == SQ_SQLITE)
		sqlite3_db_release_memory(db->lite);
}

/* sumdbd_key(path, version): the key function in the user data. */
static void
lite_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t		(*key)(const char *, size_t, const char *, size_t);
	const char	*p, *v;

	(void)argc;
	key = (int64_t (*)(const char *, size_t, const char *, size_t))
	    sqlite3_user_data(ctx);
	p = (const char *)sqlite3_value_text(argv[0]);
	v = (const char *)sqlite3_value_text(argv[1]);
	if (p == NULL || v == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int64(ctx, key(p, (size_t)sqlite3_value_bytes(argv[0]),
	    v, (size_t)sqlite3_value_bytes(argv[1])));
}

int
sq_key_function(struct sqdb *db, int64_t (*key)(const char *, size_t,
    const char *, size_t))
{
	if (db->kind != SQ_SQLITE)
		return 0;
	return sqlite3_create_function(db->lite, "sumdbd_key", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, (void *)key, lite_key, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1;
}

/* sql with ?N written $N, and the highest N; NULL if out of memory. */
static char *
pg_sql(const char *sql, int *nparam)
{
	char	*out, *o;
	int	 n;

	if ((out = malloc(strlen(sql) + 1)) == NULL)
		return NULL;
	*nparam = 0;
	for (o = out; *sql != '\0'; sql++) {
		if (*sql == '?' && sql[1] >= '0' && sql[1] <= '9') {
			*o++ = '$';
			n = atoi(sql + 1);
			if (n > *nparam)
				*nparam = n;
			continue;
		}
		*o++ = *sql;
	}
	*o = '\0';
	return out;
}

struct sq *
sq_prepare(struct sqdb *db, const char *sql)
{
	struct sq	*q;
	PGresult	*res;
	char		*pgsql;
	int		 ok;

	db->err[0] = '\0';
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return NULL;
	}
	q->db = db;
	if (db->kind == SQ_SQLITE) {
		if (sqlite3_prepare_v3(db->lite, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &q->lite, NULL) != SQLITE_OK) {
			snprintf(db->err, sizeof(db->err), "preparing '%s': "
			    "%s", sql, sqlite3_errmsg(db->lite));
			free(q);
			return NULL;
		}
		return q;
	}
	if ((pgsql = pg_sql(sql, &q->nparam)) == NULL ||
	    q->nparam > SQ_MAXPARAM) {
		snprintf(db->err, sizeof(db->err), "preparing '%s': %s", sql,
		    pgsql == NULL ? "out of memory" : "too many parameters");
		free(pgsql);
		free(q);
		return NULL;
	}
	snprintf(q->name, sizeof(q->name), "s%u", ++db->nstmt);
	if (pg_ready(db, 0) != 0) {
		free(pgsql);
		free(q);
		return NULL;
	}
	res = PQprepare(db->pg, q->name, pgsql, 0, NULL);
	if (!(ok = PQresultStatus(res) == PGRES_COMMAND_OK)) {
		pg_error(db, res);
		snprintf(db->err + strlen(db->err), sizeof(db->err) -
		    strlen(db->err), " (preparing '%.120s')", sql);
	}
	PQclear(res);
	pg_track(db);
	if (!ok) {
		free(pgsql);
		free(q);
		return NULL;
	}
	q->sql = pgsql;
	if ((q->next = db->stmts) != NULL)
		q->next->prevp = &q->next;
	db->stmts = q;
	q->prevp = &db->stmts;
	return q;
}

void
sq_finalize(struct sq *q)
{
	char	 sql[32];

	if (q == NULL)
		return;
	if (q->db->kind == SQ_SQLITE)
		sqlite3_finalize(q->lite);
	else {
		PQclear(q->res);
		if ((*q->prevp = q->next) != NULL)
			q->next->prevp = q->prevp;
		free(q->sql);
		/* On a broken connection, the statement went with it. */
		if (PQstatus(q->db->pg) == CONNECTION_OK &&
		    PQtransactionStatus(q->db->pg) != PQTRANS_INERROR) {
			snprintf(sql, sizeof(sql), "DEALLOCATE %s", q->name);
			PQclear(PQexec(q->db->pg, sql));
		}
	}
	free(q);
}

void
sq_bind_int(struct sq *q, int i, int64_t v)
{
	if (q->db->kind == SQ_SQLITE) {
		sqlite3_bind_int64(q->lite, i, v);
		return;
	}
	if (i < 1 || i > q->nparam)
		return;
	snprintf(q->num[i - 1], sizeof(q->num[i - 1]), "%lld", (long long)v);
	q->val[i - 1] = q->num[i - 1];
	q->len[i - 1] = 0;
	q->fmt[i - 1] = 0;
}

void
sq_bind_text(struct sq *q, int i, const char *s)
{
	if (q->db->kind == SQ_SQLITE) {
		sqlite3_bind_text(q->lite, i, s, -1, SQLITE_STATIC);
		return;
	}
	if (i < 1 || i > q->nparam)
		return;
	q->val[i - 1] = s;
	q->len[i - 1] = 0;
	q->fmt[i - 1] = 0;
}

void
sq_bind_blob(struct sq *q, int i, const void *p, size_t len)
{
	if (q->db->kind == SQ_SQLITE) {
		/* Not NULL: an empty blob is not NULL. */
		sqlite3_bind_blob64(q->lite, i, p != NULL ? p : "", len,
		    SQLITE_STATIC);
		return;
	}
	if (i < 1 || i > q->nparam)
		return;
	/* A non-NULL pointer: an empty blob is not NULL. */
	q->val[i - 1] = p != NULL ? p : "";
	q->len[i - 1] = (int)len;
	q->fmt[i - 1] = 1;
}

int
sq_step(struct sq *q)
{
	struct sqdb	*db = q->db;
	ExecStatusType	 s;
	const char	*state, *n;
	int		 tx;

	if (db->kind == SQ_SQLITE)
		return sqlite3_step(q->lite);
	if (!q->ran) {
		q->ran = 1;
		db->err[0] = '\0';
		if (pg_ready(db, 0) != 0)
			return SQ_ERROR;
		tx = db->tx;
		q->res = PQexecPrepared(db->pg, q->name, q->nparam, q->val,
		    q->len, q->fmt, 1);
		/* Broken outside a transaction: once more, connected again. */
		if (!tx && PQstatus(db->pg) != CONNECTION_OK &&
		    pg_ready(db, 0) == 0) {
			PQclear(q->res);
			q->res = PQexecPrepared(db->pg, q->name, q->nparam,
			    q->val, q->len, q->fmt, 1);
		}
		pg_track(db);
		s = PQresultStatus(q->res);
		if (s == PGRES_COMMAND_OK) {
			n = PQcmdTuples(q->res);
			db->changes = *n != '\0' ? strtoll(n, NULL, 10) : 0;
			return SQ_DONE;
		}
		if (s != PGRES_TUPLES_OK) {
			pg_error(db, q->res);
			state = PQresultErrorField(q->res, PG_DIAG_SQLSTATE);
			/* Class 23: integrity constraint violation. */
			return state != NULL && strncmp(state, "23", 2) == 0 ?
			    SQ_CONSTRAINT : SQ_ERROR;
		}
		n = PQcmdTuples(q->res);
		db->changes = *n != '\0' ? strtoll(n, NULL, 10) : 0;
		q->nrows = PQntuples(q->res);
		q->row = 0;
	} else if (q->row < q->nrows)
		q->row++;
	return q->row < q->nrows ? SQ_ROW : SQ_DONE;
}

void
sq_reset(struct sq *q)
{
	if (q->db->kind == SQ_SQLITE) {
		sqlite3_reset(q->lite);
		sqlite3_clear_bindings(q->lite);
		return;
	}
	PQclear(q->res);
	q->res = NULL;
	q->ran = 0;
	q->row = q->nrows = 0;
	memset(q->val, 0, sizeof(q->val));
}

/* Whether column col of q's current row can be read. */
static int
pg_col(struct sq *q, int col)
{
	return q->res != NULL && q->row < q->nrows && col >= 0 &&
	    col < PQnfields(q->res) && !PQgetisnull(q->res, q->row, col);
}

int64_t
sq_int(struct sq *q, int col)
{
	const uint8_t	*p;
	uint64_t	 v = 0;
	int		 i, n;

	if (q->db->kind == SQ_SQLITE)
		return sqlite3_column_int64(q->lite, col);
	if (!pg_col(q, col))
		return 0;
	p = (const uint8_t *)PQgetvalue(q->res, q->row, col);
	switch (PQftype(q->res, col)) {
	case OID_BOOL:
		return p[0] != 0;
	case OID_INT2:
		n = 2;
		break;
	case OID_INT4:
		n = 4;
		break;
	case OID_INT8:
		n = 8;
		break;
	default:
		return 0;
	}
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	/* Sign-extend the narrower types. */
	if (n < 8 && (v & (uint64_t)1 << (n * 8 - 1)))
		v |= ~(uint64_t)0 << (n * 8);
	return (int64_t)v;
}

const void *
sq_blob(struct sq *q, int col)
{
	if (q->db->kind == SQ_SQLITE)
		return sqlite3_column_blob(q->lite, col);
	if (!pg_col(q, col))
		return NULL;
	return PQgetvalue(q->res, q->row, col);
}

size_t
sq_bytes(struct sq *q, int col)
{
	if (q->db->kind == SQ_SQLITE)
		return (size_t)sqlite3_column_bytes(q->lite, col);
	if (!pg_col(q, col))
		return 0;
	return (size_t)PQgetlength(q->res, q->row, col);
}

const char *
sq_text(struct sq *q, int col)
{
	if (q->db->kind == SQ_SQLITE)
		return (const char *)sqlite3_column_text(q->lite, col);
	if (!pg_col(q, col))
		return NULL;
	/* libpq ends every value with a NUL, binary ones too. */
	return PQgetvalue(q->res, q->row, col);
}

int
sq_null(struct sq *q, int col)
{
	if (q->db->kind == SQ_SQLITE)
		return sqlite3_column_type(q->lite, col) == SQLITE_NULL;
	return !pg_col(q, col);
}
