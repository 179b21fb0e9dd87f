/*
 * sql.h: the one statement interface store.c is written against, with
 * two drivers behind it: SQLite (sql_sqlite.c, a file or ":memory:")
 * and PostgreSQL (sql_pg.c, a "postgresql://" or "postgres://"
 * connection URI, through libpq).  Private to store/.
 *
 * Parameters are written ?1, ?2 ... in both dialects.  A statement is
 * bound, stepped row by row, and reset; a row's columns stay valid
 * until the next step or reset.  The codes are SQLite's numbers.
 */

#ifndef SQL_H
#define SQL_H

#include <stddef.h>
#include <stdint.h>

struct sqdb;
struct sq;

enum {
	SQ_OK = 0,
	SQ_ERROR = 1,
	SQ_NOMEM = 7,
	SQ_CONSTRAINT = 19,
	SQ_ROW = 100,
	SQ_DONE = 101
};

enum { SQ_SQLITE, SQ_PG };

#define SQ_MAXPARAM	10

/* Whether target names a PostgreSQL database. */
int		 sq_is_pg(const char *target);
struct sqdb	*sq_open(const char *target, char *err, size_t errsize);
void		 sq_close(struct sqdb *);
int		 sq_kind(const struct sqdb *);
/* One or more statements without parameters or rows; 0 or -1. */
int		 sq_exec(struct sqdb *, const char *sql);
/* sq_exec(), and again whenever a broken connection is made again. */
int		 sq_session(struct sqdb *, const char *sql);
const char	*sq_errmsg(struct sqdb *);
/* Any thread: make the running statement fail at once. */
void		 sq_interrupt(struct sqdb *);
/* Rows the last INSERT, UPDATE or DELETE changed. */
int64_t		 sq_changes(struct sqdb *);
/* Whether a transaction is open. */
int		 sq_in_tx(struct sqdb *);
/* SQLite: give back cache memory over the limit.  PostgreSQL: nothing. */
void		 sq_release_memory(struct sqdb *);
/*
 * SQLite: sumdbd_key(path, version) in SQL, as key() computes it (an
 * old schema's migration uses it).  PostgreSQL: nothing.  0 or -1.
 */
int		 sq_key_function(struct sqdb *, int64_t (*key)(const char *,
		    size_t, const char *, size_t));

/* NULL on error (sq_errmsg() says why). */
struct sq	*sq_prepare(struct sqdb *, const char *sql);
void		 sq_finalize(struct sq *);
/* Pointers bound must stay valid until the statement is reset. */
void		 sq_bind_int(struct sq *, int i, int64_t v);
void		 sq_bind_text(struct sq *, int i, const char *s);
void		 sq_bind_blob(struct sq *, int i, const void *p, size_t len);
int		 sq_step(struct sq *);
void		 sq_reset(struct sq *);
int64_t		 sq_int(struct sq *, int col);
/* NULL for SQL NULL (and, on SQLite, for an empty blob). */
const void	*sq_blob(struct sq *, int col);
size_t		 sq_bytes(struct sq *, int col);
const char	*sq_text(struct sq *, int col);
int		 sq_null(struct sq *, int col);

#endif /* SQL_H */
