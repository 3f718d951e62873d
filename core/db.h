/* PostgreSQL access for one service schema: connecting as the schema's own
 * role, and translating libpq results into souk_status where libpq is
 * called. */
#ifndef SOUK_DB_H
#define SOUK_DB_H

#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"

/* Opens a connection for schema (search_path set to it). Returns NULL and sets
 * *status on failure (SOUK_EDB_UNAVAILABLE when the server does not answer).
 * The caller owns the connection (PQfinish). */
PGconn *souk_db_connect(const souk_config *cfg, souk_db_schema schema, souk_status *status)
    __attribute__((warn_unused_result));

/* The same, as the schema's gateway role (its read models only). */
PGconn *souk_db_connect_gateway(const souk_config *cfg, souk_db_schema schema, souk_status *status)
    __attribute__((warn_unused_result));

/* Status of a finished command: SOUK_OK for COMMAND_OK/TUPLES_OK,
 * SOUK_ECONFLICT for unique violations, SOUK_EDB_UNAVAILABLE for lost
 * connections, serialization failures and deadlocks (worth retrying),
 * SOUK_EDB otherwise. Does not clear res. */
souk_status souk_db_result_status(PGconn *conn, const PGresult *res);

/* The SQLSTATE of a failed result ("23514"), or "" when res has none. */
const char *souk_db_sqlstate(const PGresult *res);

/* Runs a parameterless command (BEGIN, COMMIT, ROLLBACK) and returns its status. */
souk_status souk_db_exec(PGconn *conn, const char *sql) __attribute__((warn_unused_result));

/* Runs sql with params like PQexecParams, as a statement prepared once per
 * connection: PostgreSQL then skips parsing and planning it. sql must be a
 * string literal (or live as long as the connection): it is found again by
 * its address. The connection keeps its prepared statements (freed with it).
 * Returns the result (the caller clears it), an error result as the
 * statement itself would give, or NULL when out of memory. */
PGresult *souk_db_exec_prepared(PGconn *conn, const char *sql, int count,
                                const char *const *params);

/* True when the error behind status is worth retrying later. */
int souk_db_status_is_transient(souk_status status);

/* Checks that the schema's database answers a query; used by /readyz. */
souk_status souk_db_ping(const souk_config *cfg, souk_db_schema schema);

#endif
