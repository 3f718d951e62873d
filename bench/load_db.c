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

/* The per-order checks. Each defines f(id, counted, v1..vk): one row per
 * thing examined (counted) or found (not counted), vN true for the N-th
 * violation; a tail of k flags counts them and names one offender. */
#define TAIL1                                                                                      \
    " SELECT count(*) FILTER (WHERE counted), count(*) FILTER (WHERE v1), "                        \
    "(array_agg(id::text) FILTER (WHERE v1))[1] FROM f"
#define TAIL2                                                                                      \
    " SELECT count(*) FILTER (WHERE counted), count(*) FILTER (WHERE v1), "                        \
    "count(*) FILTER (WHERE v2), (array_agg(id::text) FILTER (WHERE v1 OR v2))[1] FROM f"
#define TAIL3                                                                                      \
    " SELECT count(*) FILTER (WHERE counted), count(*) FILTER (WHERE v1), "                        \
    "count(*) FILTER (WHERE v2), count(*) FILTER (WHERE v3), "                                     \
    "(array_agg(id::text) FILTER (WHERE v1 OR v2 OR v3))[1] FROM f"
#define TAIL4                                                                                      \
    " SELECT count(*) FILTER (WHERE counted), count(*) FILTER (WHERE v1), "                        \
    "count(*) FILTER (WHERE v2), count(*) FILTER (WHERE v3), count(*) FILTER (WHERE v4), "         \
    "(array_agg(id::text) FILTER (WHERE v1 OR v2 OR v3 OR v4))[1] FROM f"

/* Per order of the run: its status and total, its payments, the amount
 * captured (captured or refunded since) and refunded, and payments whose
 * refund is not all or nothing as their status says. */
#define PAYMENTS_PER_ORDER                                                                         \
    "WITH p AS (SELECT o.id, o.status, o.total_minor, count(p.order_id) AS payments, "             \
    "coalesce(sum(p.amount_minor) FILTER (WHERE p.status IN ('CAPTURED', 'REFUNDED')), 0) "        \
    "AS captured, coalesce(sum(p.refunded_minor), 0) AS refunded, "                                \
    "count(*) FILTER (WHERE (p.status = 'REFUNDED' AND p.refunded_minor <> p.amount_minor) OR "    \
    "(p.status <> 'REFUNDED' AND p.refunded_minor <> 0)) AS bad_refunds "                          \
    "FROM orders.orders o LEFT JOIN payment.payments p ON p.order_id = o.id "                      \
    "WHERE o.id = ANY($1::uuid[]) GROUP BY o.id, o.status, o.total_minor)"

const struct load_db_check load_db_checks[LOAD_DB_CHECKS] = {
    {"one_order_per_checkout",
     "checkouts",
     3,
     {"keys whose checkout row is missing or names another order", "checkouts without their order",
      "orders of the run's customers that no checkout of the run made"},
     "WITH k AS (SELECT key, id FROM unnest($2::text[], $1::uuid[]) AS t(key, id)), "
     "c AS (SELECT k.id, x.customer_id, x.order_id FROM k "
     "LEFT JOIN cart.checkouts x ON x.idempotency_key = k.key), "
     "f AS (SELECT c.id, true AS counted, c.order_id IS DISTINCT FROM c.id AS v1, "
     "NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = c.id) AS v2, false AS v3 FROM c "
     "UNION ALL SELECT o.id, false, false, false, true FROM orders.orders o "
     "WHERE o.customer_id IN (SELECT customer_id FROM c) AND o.id <> ALL ($1::uuid[]))" TAIL3},
    {"cancelled_not_charged",
     "cancelled orders",
     1,
     {"cancelled orders whose captured minus refunded is not 0"},
     PAYMENTS_PER_ORDER ", f AS (SELECT id, true AS counted, captured - refunded <> 0 AS v1 "
                        "FROM p WHERE status = 'CANCELLED')" TAIL1},
    {"charged_once",
     "orders",
     4,
     {"orders with more than one payment", "payments captured for another amount than the total",
      "refunds other than the whole amount once", "COMPLETED orders not paid exactly their total"},
     PAYMENTS_PER_ORDER ", f AS (SELECT id, true AS counted, payments > 1 AS v1, "
                        "captured <> 0 AND captured <> total_minor AS v2, bad_refunds > 0 AS v3, "
                        "status = 'COMPLETED' AND captured - refunded <> total_minor AS v4 "
                        "FROM p)" TAIL4},
    {"shipped_once",
     "final orders",
     3,
     {"orders with more than one shipment", "COMPLETED orders without a shipment",
      "CANCELLED orders with a shipment"},
     "WITH s AS (SELECT o.id, o.status, count(s.order_id) AS n FROM orders.orders o "
     "LEFT JOIN shipping.shipments s ON s.order_id = o.id WHERE o.id = ANY($1::uuid[]) "
     "AND o.status IN ('COMPLETED', 'CANCELLED') GROUP BY o.id, o.status), "
     "f AS (SELECT id, true AS counted, n > 1 AS v1, status = 'COMPLETED' AND n = 0 AS v2, "
     "status = 'CANCELLED' AND n > 0 AS v3 FROM s)" TAIL3},
    {"sold_once",
     "final orders",
     3,
     {"COMPLETED orders whose sold reservations differ from their lines",
      "CANCELLED orders with units sold", "final orders still holding a reservation"},
     "WITH v AS (SELECT o.id, o.status, (SELECT coalesce(sum(l.quantity), 0) "
     "FROM orders.order_lines l WHERE l.order_id = o.id) AS ordered, "
     "coalesce(sum(r.quantity) FILTER (WHERE r.status = 'SOLD'), 0) AS sold, "
     "coalesce(sum(r.quantity) FILTER (WHERE r.status = 'RESERVED'), 0) AS held "
     "FROM orders.orders o LEFT JOIN inventory.reservations r ON r.order_id = o.id "
     "WHERE o.id = ANY($1::uuid[]) AND o.status IN ('COMPLETED', 'CANCELLED') "
     "GROUP BY o.id, o.status), "
     "f AS (SELECT id, true AS counted, status = 'COMPLETED' AND sold <> ordered AS v1, "
     "status = 'CANCELLED' AND sold > 0 AS v2, held > 0 AS v3 FROM v)" TAIL3},
    {"notified_once",
     "final orders",
     2,
     {"final orders not announced", "final orders also announced with the other outcome"},
     "WITH n AS (SELECT o.id, o.status, "
     "count(x.order_id) FILTER (WHERE x.kind = 'order_completed') AS done, "
     "count(x.order_id) FILTER (WHERE x.kind = 'order_cancelled') AS cancelled "
     "FROM orders.orders o LEFT JOIN notification.notifications x ON x.order_id = o.id "
     "WHERE o.id = ANY($1::uuid[]) AND o.status IN ('COMPLETED', 'CANCELLED') "
     "GROUP BY o.id, o.status), "
     "f AS (SELECT id, true AS counted, done + cancelled = 0 AS v1, "
     "(status = 'COMPLETED' AND cancelled > 0) OR (status = 'CANCELLED' AND done > 0) AS v2 "
     "FROM n)" TAIL2},
};

/* Types of the checks' parameters (pg_type.h's UUIDARRAYOID and
 * TEXTARRAYOID), given so that a statement may leave one of them unused. */
static const Oid CHECK_PARAM_TYPES[2] = {2951, 1009};

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

/* An array literal of the accepted orders' ids ("{id,...}"), or of their
 * keys ("{\"key\",...}"; souk-load's keys are letters, digits and '-'). */
static char *accepted_array(const struct load_results *r, int keys)
{
    size_t cap = 3, len = 0;
    for (size_t i = 0; i < r->count; i++)
        cap += sizeof r->orders[i]->key + 3;
    char *s = souk_malloc(cap);
    s[len++] = '{';
    for (size_t i = 0; i < r->count; i++) {
        const struct load_order *o = r->orders[i];
        if (!o->order_id[0])
            continue;
        len += (size_t)snprintf(s + len, cap - len, keys ? "%s\"%s\"" : "%s%s", len > 1 ? "," : "",
                                keys ? o->key : o->order_id);
    }
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

int load_db_check_run(load_db *db, const struct load_db_check *check, const struct load_results *r,
                      struct load_db_finding *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    char *ids = accepted_array(r, 0), *keys = accepted_array(r, 1);
    const char *params[2] = {ids, keys};
    int n = check->violations + 2;
    PGresult *res = query_row(db, check->sql, 2, CHECK_PARAM_TYPES, params, n, err, errlen);
    free(ids);
    free(keys);
    if (!res)
        return -1;
    f->examined = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    for (int i = 0; i < check->violations; i++)
        f->count[i] = strtoll(PQgetvalue(res, 0, i + 1), NULL, 10);
    snprintf(f->sample, sizeof f->sample, "%s", PQgetvalue(res, 0, n - 1));
    PQclear(res);
    return 0;
}

int load_db_money(load_db *db, const struct load_results *r, long long *paid, long long *owed,
                  char *err, size_t errlen)
{
    char *ids = accepted_array(r, 0);
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
