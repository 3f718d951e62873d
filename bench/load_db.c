/* souk-load's PostgreSQL checks and counts (see load_db.h). */
#include "bench/load_db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"

const char *const load_outbox_schemas[LOAD_OUTBOX_SCHEMAS] = {"cart", "orders", "inventory",
                                                              "payment", "shipping"};
const char *const load_inbox_schemas[LOAD_INBOX_SCHEMAS] = {
    "orders", "inventory", "payment", "shipping", "analytics", "notification"};

/* The schema names above are fixed; only values are parameters. */
static const char PENDING_SQL[] =
    "SELECT (SELECT count(*) FROM cart.outbox WHERE sent_at IS NULL), "
    "(SELECT count(*) FROM orders.outbox WHERE sent_at IS NULL), "
    "(SELECT count(*) FROM inventory.outbox WHERE sent_at IS NULL), "
    "(SELECT count(*) FROM payment.outbox WHERE sent_at IS NULL), "
    "(SELECT count(*) FROM shipping.outbox WHERE sent_at IS NULL)";

static const char INBOX_SQL[] =
    "SELECT (SELECT count(*) FROM orders.inbox WHERE processed_at >= $1::timestamptz), "
    "(SELECT count(*) FROM inventory.inbox WHERE processed_at >= $1::timestamptz), "
    "(SELECT count(*) FROM payment.inbox WHERE processed_at >= $1::timestamptz), "
    "(SELECT count(*) FROM shipping.inbox WHERE processed_at >= $1::timestamptz), "
    "(SELECT count(*) FROM analytics.inbox WHERE processed_at >= $1::timestamptz), "
    "(SELECT count(*) FROM notification.inbox WHERE processed_at >= $1::timestamptz)";

static const char OUTBOX_SQL[] =
    "SELECT (SELECT count(*) FROM cart.outbox WHERE created_at >= $1::timestamptz), "
    "(SELECT count(*) FROM orders.outbox WHERE created_at >= $1::timestamptz), "
    "(SELECT count(*) FROM inventory.outbox WHERE created_at >= $1::timestamptz), "
    "(SELECT count(*) FROM payment.outbox WHERE created_at >= $1::timestamptz), "
    "(SELECT count(*) FROM shipping.outbox WHERE created_at >= $1::timestamptz)";

static const char MONEY_SQL[] =
    "SELECT (SELECT coalesce(sum(amount_minor) FILTER (WHERE status IN ('CAPTURED', "
    "'REFUNDED')), 0) - coalesce(sum(refunded_minor), 0) FROM payment.payments "
    "WHERE order_id = ANY($1::uuid[])), "
    "(SELECT coalesce(sum(total_minor), 0) FROM orders.orders "
    "WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED')";

/* How long a lost connection is tried again, and how often. */
#define RECONNECT_S       30.0
#define RECONNECT_PAUSE_S 0.5

struct load_db {
    PGconn *conn;
    char start[64];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

load_db *load_db_open(const char *conninfo, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "--pg: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    load_db *db = souk_calloc(1, sizeof *db);
    db->conn = conn;
    return db;
}

void load_db_close(load_db *db)
{
    if (!db)
        return;
    PQfinish(db->conn);
    free(db);
}

/* The connection, opened again when it was lost (the database restarted
 * during the run, as souk chaos does): for up to RECONNECT_S, since the
 * server may still be starting. Returns 0, or -1 with err set. */
static int connected(load_db *db, char *err, size_t errlen)
{
    double deadline = now_s() + RECONNECT_S;
    while (PQstatus(db->conn) != CONNECTION_OK) {
        PQreset(db->conn);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            fprintf(stderr, "souk-load: reconnected to PostgreSQL\n");
            break;
        }
        if (now_s() >= deadline) {
            snprintf(err, errlen, "PostgreSQL unreachable for %.0f s: %s", RECONNECT_S,
                     PQerrorMessage(db->conn));
            return -1;
        }
        struct timespec pause = {0, (long)(RECONNECT_PAUSE_S * 1e9)};
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* Runs one read-only query with text parameters of the given types (0:
 * inferred), on a connection opened again and the query run once more when
 * the connection turns out lost. Returns a PGRES_TUPLES_OK result with one
 * row of n columns (caller clears), or NULL with err set. */
static PGresult *query_row(load_db *db, const char *sql, int nparams, const Oid *types,
                           const char *const *params, int n, char *err, size_t errlen)
{
    PGresult *res = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connected(db, err, errlen) != 0)
            return NULL;
        res = PQexecParams(db->conn, sql, nparams, types, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK || PQstatus(db->conn) == CONNECTION_OK)
            break;
        PQclear(res); /* lost mid-query: reconnect and run it again */
        res = NULL;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == n)
        return res;
    const char *why = res ? PQresultErrorMessage(res) : "";
    snprintf(err, errlen, "%s", why[0] ? why : PQerrorMessage(db->conn));
    PQclear(res);
    return NULL;
}

/* Runs sql and copies one row of n integers into out. Returns 0 or -1. */
static int one_row(load_db *db, const char *sql, const char *param, long long *out, int n,
                   char *err, size_t errlen)
{
    const char *params[1] = {param};
    PGresult *res = query_row(db, sql, param ? 1 : 0, NULL, params, n, err, errlen);
    for (int i = 0; res && i < n; i++)
        out[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
    PQclear(res);
    return res ? 0 : -1;
}

int load_db_mark_start(load_db *db)
{
    char err[256];
    PGresult *res = query_row(db, "SELECT now()::text", 0, NULL, NULL, 1, err, sizeof err);
    if (res)
        snprintf(db->start, sizeof db->start, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return res ? 0 : -1;
}

/* "{id,id,...}" of the accepted orders (ids are checked uuids). */
static char *order_ids(const struct load_results *r)
{
    size_t cap = r->count * 38 + 3, len = 0;
    char *s = souk_malloc(cap);
    s[len++] = '{';
    for (size_t i = 0; i < r->count; i++) {
        const char *id = r->orders[i]->order_id;
        if (!id[0])
            continue;
        if (len > 1)
            s[len++] = ',';
        memcpy(s + len, id, 36);
        len += 36;
    }
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

int load_db_money(load_db *db, const struct load_results *r, long long *paid, long long *owed,
                  char *err, size_t errlen)
{
    char *ids = order_ids(r);
    long long v[2] = {0, 0};
    int rc = one_row(db, MONEY_SQL, ids, v, 2, err, errlen);
    free(ids);
    *paid = v[0];
    *owed = v[1];
    return rc;
}

int load_db_pending_outbox(load_db *db, long pending[LOAD_OUTBOX_SCHEMAS], char *err, size_t errlen)
{
    long long v[LOAD_OUTBOX_SCHEMAS] = {0};
    int rc = one_row(db, PENDING_SQL, NULL, v, LOAD_OUTBOX_SCHEMAS, err, errlen);
    for (int i = 0; i < LOAD_OUTBOX_SCHEMAS; i++)
        pending[i] = (long)v[i];
    return rc;
}

int load_db_work(load_db *db, long inbox[LOAD_INBOX_SCHEMAS], long outbox[LOAD_OUTBOX_SCHEMAS],
                 char *err, size_t errlen)
{
    if (!db->start[0]) {
        snprintf(err, errlen, "no start mark");
        return -1;
    }
    long long in[LOAD_INBOX_SCHEMAS] = {0}, out[LOAD_OUTBOX_SCHEMAS] = {0};
    if (one_row(db, INBOX_SQL, db->start, in, LOAD_INBOX_SCHEMAS, err, errlen) != 0 ||
        one_row(db, OUTBOX_SQL, db->start, out, LOAD_OUTBOX_SCHEMAS, err, errlen) != 0)
        return -1;
    for (int i = 0; i < LOAD_INBOX_SCHEMAS; i++)
        inbox[i] = (long)in[i];
    for (int i = 0; i < LOAD_OUTBOX_SCHEMAS; i++)
        outbox[i] = (long)out[i];
    return 0;
}
