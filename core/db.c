/* libpq connection setup and error translation. */
#include "core/db.h"

#include <libpq-events.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

static PGconn *connect_as(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                          souk_status *status)
{
    const char *const *base_keys;
    const char *const *base_values;
    souk_config_db_params(cfg, schema, as_gateway, &base_keys, &base_values);
    const char *keys[8];
    const char *values[8];
    int n = 0;
    for (; base_keys[n] && n < 4; n++) {
        keys[n] = base_keys[n];
        values[n] = base_values[n];
    }
    /* Defaults only; a URL that sets these wins because it is expanded first
     * and later keywords override only when given. */
    keys[n] = "connect_timeout";
    values[n++] = "3";
    keys[n] = "application_name";
    values[n++] = souk_config_service(cfg);
    keys[n] = NULL;
    values[n] = NULL;

    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        const char *why = conn ? PQerrorMessage(conn) : "out of memory";
        SOUK_LOG(SOUK_LOG_WARN, "database connect failed schema=%s error=\"%.*s\"",
                 souk_db_schema_name(schema), (int)strcspn(why, "\n"), why);
        PQfinish(conn);
        *status = SOUK_EDB_UNAVAILABLE;
        return NULL;
    }
    char *set_path = souk_asprintf("SET search_path TO %s", souk_db_schema_name(schema));
    souk_status st = souk_db_exec(conn, set_path);
    free(set_path);
    if (st != SOUK_OK) {
        PQfinish(conn);
        *status = st;
        return NULL;
    }
    *status = SOUK_OK;
    return conn;
}

PGconn *souk_db_connect(const souk_config *cfg, souk_db_schema schema, souk_status *status)
{
    return connect_as(cfg, schema, 0, status);
}

PGconn *souk_db_connect_gateway(const souk_config *cfg, souk_db_schema schema, souk_status *status)
{
    return connect_as(cfg, schema, 1, status);
}

souk_status souk_db_result_status(PGconn *conn, const PGresult *res)
{
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK)
        return SOUK_OK;
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return SOUK_EDB_UNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return SOUK_EDB_UNAVAILABLE;
    if (strcmp(state, "23505") == 0)
        return SOUK_ECONFLICT;
    /* connection exceptions, shutdown, too many connections or out of
     * memory, serialization failure, deadlock */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return SOUK_EDB_UNAVAILABLE;
    return SOUK_EDB;
}

const char *souk_db_sqlstate(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state ? state : "";
}

souk_status souk_db_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    souk_status st = souk_db_result_status(conn, res);
    if (st != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "database command failed sql=\"%s\" error=\"%s\"", sql,
                 res ? PQresultErrorMessage(res) : "no result");
    PQclear(res);
    return st;
}

int souk_db_status_is_transient(souk_status status)
{
    return status == SOUK_EDB_UNAVAILABLE || status == SOUK_ETIMEOUT ||
           status == SOUK_EAMQP_UNAVAILABLE;
}

souk_status souk_db_ping(const souk_config *cfg, souk_db_schema schema)
{
    souk_status st;
    PGconn *conn = souk_db_connect(cfg, schema, &st);
    if (!conn)
        return st;
    st = souk_db_exec(conn, "SELECT 1");
    PQfinish(conn);
    return st;
}

/* ------------------------------------------------- prepared statements */

#define PREPARED_MAX 64

/* The statements prepared on one connection, as libpq instance data of the
 * connection: it lives and dies with the connection, so a new connection
 * at the address of a finished one never inherits its list. */
typedef struct prepared_set {
    const char *sql[PREPARED_MAX];
    int count;
} prepared_set;

static int prepared_event(PGEventId event, void *info, void *pass)
{
    (void)pass;
    if (event == PGEVT_CONNDESTROY) {
        const PGEventConnDestroy *e = info;
        free(PQinstanceData(e->conn, prepared_event));
    } else if (event == PGEVT_CONNRESET) {
        /* a reset connection is a new session: nothing is prepared */
        const PGEventConnReset *e = info;
        prepared_set *set = PQinstanceData(e->conn, prepared_event);
        if (set)
            set->count = 0;
    }
    return 1;
}

static prepared_set *prepared_of(PGconn *conn)
{
    prepared_set *set = PQinstanceData(conn, prepared_event);
    if (set)
        return set;
    if (!PQregisterEventProc(conn, prepared_event, "souk_prepared", NULL))
        return NULL;
    set = calloc(1, sizeof *set);
    if (set && !PQsetInstanceData(conn, prepared_event, set)) {
        free(set);
        set = NULL;
    }
    return set;
}

PGresult *souk_db_exec_prepared(PGconn *conn, const char *sql, int count, const char *const *params)
{
    prepared_set *set = prepared_of(conn);
    int index = -1;
    for (int i = 0; set && i < set->count && index < 0; i++)
        if (set->sql[i] == sql)
            index = i;
    if (index < 0 && (!set || set->count == PREPARED_MAX))
        return PQexecParams(conn, sql, count, NULL, params, NULL, NULL, 0);
    char name[32];
    if (index < 0) {
        snprintf(name, sizeof name, "souk_p%d", set->count);
        PGresult *res = PQprepare(conn, name, sql, count, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            return res; /* the error, as the statement itself would give it */
        PQclear(res);
        index = set->count;
        set->sql[set->count++] = sql;
    }
    snprintf(name, sizeof name, "souk_p%d", index);
    return PQexecPrepared(conn, name, count, params, NULL, NULL, 0);
}
