/* The trace of one order (see sagatrace.h): the order from the orders
 * schema (or its accepted checkout), then the hops of each schema, merged
 * by time. A schema that cannot be read fails the whole answer (503): a
 * trace with hops missing would tell a story that did not happen. */
#include "gateway/sagatrace.h"

#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/mem.h"
#include "events/topology.h"
#include "gateway/longpoll.h"
#include "gateway/orders.h"

#define ISO(col)       "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define EPOCH_US(col)  "(extract(epoch FROM " col ") * 1000000)::bigint"
#define MS(from, to)   "round((extract(epoch FROM (" to " - " from ")) * 1000)::numeric, 3)::float8"
#define TRACEPARENT_OK "traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-'"

/* Both kinds of hop in the same columns (enum col below). Not
 * clang-formatted: it splits the SQL at its macros. */
/* clang-format off */
#define PUBLISHES(schema)                                                                          \
    "SELECT 'publish', event_type, message_id::text, causation_id, exchange, NULL::text, "         \
    "CASE WHEN confirmed_at IS NULL THEN 'pending' ELSE 'published' END, 1, NULL::bigint, "        \
    "NULL::text, 0, CASE WHEN " TRACEPARENT_OK " THEN substr(traceparent, 4, 32) END, "            \
    "CASE WHEN " TRACEPARENT_OK " THEN substr(traceparent, 37, 16) END, parent_span_id, "          \
    "traceparent, tracestate, payload, "                                                           \
    ISO("written_at") ", " EPOCH_US("written_at") ", "                                             \
    ISO("written_at") ", " ISO("published_at") ", " ISO("confirmed_at") ", "                       \
    "NULL::text, NULL::text, NULL::text, NULL::text, NULL::float8, NULL::float8 "                  \
    "FROM " schema ".gateway_publishes WHERE order_id = $1"
#define JOURNAL(schema)                                                                            \
    "SELECT 'consume', event_type, message_id::text, causation_id, exchange, queue, outcome, "     \
    "attempt, retry_delay_ms, reason, replayed, trace_id, span_id, parent_span_id, "               \
    "NULL, NULL, NULL, "                                                                           \
    ISO("delivered_at") ", " EPOCH_US("delivered_at") ", "                                         \
    "NULL, " ISO("published_at") ", NULL, "                                                        \
    ISO("delivered_at") ", " ISO("handler_started_at") ", " ISO("handler_ended_at") ", "           \
    ISO("committed_at") ", "                                                                       \
    MS("published_at", "delivered_at") ", " MS("handler_started_at", "handler_ended_at") " "       \
    "FROM " schema ".gateway_journal WHERE order_id = $1"
/* clang-format on */

enum col {
    COL_KIND,
    COL_EVENT_TYPE,
    COL_MESSAGE_ID,
    COL_CAUSATION_ID,
    COL_EXCHANGE,
    COL_QUEUE,
    COL_OUTCOME,
    COL_ATTEMPT,
    COL_RETRY_DELAY_MS,
    COL_REASON,
    COL_REPLAYED,
    COL_TRACE_ID,
    COL_SPAN_ID,
    COL_PARENT_SPAN_ID,
    COL_TRACEPARENT,
    COL_TRACESTATE,
    COL_PAYLOAD,
    COL_AT,
    COL_AT_US,
    COL_WRITTEN_AT,
    COL_PUBLISHED_AT,
    COL_CONFIRMED_AT,
    COL_DELIVERED_AT,
    COL_HANDLER_STARTED_AT,
    COL_HANDLER_ENDED_AT,
    COL_COMMITTED_AT,
    COL_QUEUE_WAIT_MS,
    COL_HANDLER_MS,
};

/* String literals: souk_db_exec_prepared knows a statement by its address. */
static const char cart_sql[] = PUBLISHES("cart");
static const char orders_sql[] = PUBLISHES("orders") " UNION ALL " JOURNAL("orders");
static const char inventory_sql[] = PUBLISHES("inventory") " UNION ALL " JOURNAL("inventory");
static const char payment_sql[] = PUBLISHES("payment") " UNION ALL " JOURNAL("payment");
static const char shipping_sql[] = PUBLISHES("shipping") " UNION ALL " JOURNAL("shipping");
static const char analytics_sql[] = JOURNAL("analytics");
static const char notification_sql[] = JOURNAL("notification");

/* Where hops are recorded: one query per schema, and the service whose
 * hops they are (the gateway publishes CartCheckedOut through cart). */
static const struct source {
    const char *name; /* for logs */
    const char *sql;
    souk_service service;
} sources[] = {
    {"cart", cart_sql, SOUK_SERVICE_GATEWAY},
    {"orders", orders_sql, SOUK_SERVICE_ORDER},
    {"inventory", inventory_sql, SOUK_SERVICE_INVENTORY},
    {"payment", payment_sql, SOUK_SERVICE_PAYMENT},
    {"shipping", shipping_sql, SOUK_SERVICE_SHIPPING},
    {"analytics", analytics_sql, SOUK_SERVICE_ANALYTICS},
    {"notification", notification_sql, SOUK_SERVICE_NOTIFICATION},
};

static souk_dbpool *pool_of(souk_gateway *gw, souk_service service)
{
    switch (service) {
    case SOUK_SERVICE_GATEWAY: return gw->cart;
    case SOUK_SERVICE_ORDER: return gw->orders_read;
    case SOUK_SERVICE_INVENTORY: return gw->inventory_read;
    case SOUK_SERVICE_PAYMENT: return gw->payment_read;
    case SOUK_SERVICE_SHIPPING: return gw->shipping_read;
    case SOUK_SERVICE_ANALYTICS: return gw->analytics_read;
    case SOUK_SERVICE_NOTIFICATION: return gw->notification_read;
    default: return NULL;
    }
}

/* A hop and where it goes in time. */
struct hop {
    long long at_us;
    int consume; /* a message's publish sorts before its deliveries at the same instant */
    size_t seq;  /* then the order read, so equal hops keep one order */
    json_object *json;
};

struct hops {
    struct hop *items;
    size_t count, cap;
};

static json_object *text_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

static json_object *int_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? NULL
               : json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static json_object *ms_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col)
               ? NULL
               : json_object_new_double(strtod(PQgetvalue(res, row, col), NULL));
}

/* The outbox row's payload as the JSON it is (its text if it is not). */
static json_object *payload_of(PGresult *res, int row)
{
    if (PQgetisnull(res, row, COL_PAYLOAD))
        return NULL;
    json_object *payload = json_tokener_parse(PQgetvalue(res, row, COL_PAYLOAD));
    return payload ? payload : json_object_new_string(PQgetvalue(res, row, COL_PAYLOAD));
}

static json_object *hop_json(PGresult *res, int row, souk_service service)
{
    int publish = strcmp(PQgetvalue(res, row, COL_KIND), "publish") == 0;
    const char *type = PQgetvalue(res, row, COL_EVENT_TYPE);
    json_object *h = json_object_new_object();
    json_object_object_add(h, "kind", json_object_new_string(publish ? "publish" : "consume"));
    json_object_object_add(h, "service", json_object_new_string(souk_service_name(service)));
    json_object_object_add(h, "event_type", json_object_new_string(type));
    json_object_object_add(h, "message_id", text_or_null(res, row, COL_MESSAGE_ID));
    json_object_object_add(h, "causation_id", text_or_null(res, row, COL_CAUSATION_ID));
    json_object_object_add(h, "exchange", text_or_null(res, row, COL_EXCHANGE));
    json_object_object_add(h, "queue", text_or_null(res, row, COL_QUEUE));
    json_object_object_add(h, "outcome", text_or_null(res, row, COL_OUTCOME));
    json_object_object_add(h, "attempt", int_or_null(res, row, COL_ATTEMPT));
    json_object_object_add(h, "retry_delay_ms", int_or_null(res, row, COL_RETRY_DELAY_MS));
    json_object_object_add(h, "reason", text_or_null(res, row, COL_REASON));
    json_object_object_add(h, "replayed", int_or_null(res, row, COL_REPLAYED));
    json_object_object_add(h, "compensation",
                           json_object_new_boolean(souk_topology_is_compensation(
                               service, publish, souk_event_from_name(type, strlen(type)))));
    json_object_object_add(h, "trace_id", text_or_null(res, row, COL_TRACE_ID));
    json_object_object_add(h, "span_id", text_or_null(res, row, COL_SPAN_ID));
    json_object_object_add(h, "parent_span_id", text_or_null(res, row, COL_PARENT_SPAN_ID));
    json_object_object_add(h, "at", text_or_null(res, row, COL_AT));
    if (publish) {
        json_object_object_add(h, "written_at", text_or_null(res, row, COL_WRITTEN_AT));
        json_object_object_add(h, "published_at", text_or_null(res, row, COL_PUBLISHED_AT));
        json_object_object_add(h, "confirmed_at", text_or_null(res, row, COL_CONFIRMED_AT));
        json_object *headers = json_object_new_object();
        json_object_object_add(headers, "traceparent", text_or_null(res, row, COL_TRACEPARENT));
        json_object_object_add(headers, "tracestate", text_or_null(res, row, COL_TRACESTATE));
        json_object_object_add(h, "headers", headers);
        json_object_object_add(h, "payload", payload_of(res, row));
    } else {
        json_object_object_add(h, "published_at", text_or_null(res, row, COL_PUBLISHED_AT));
        json_object_object_add(h, "delivered_at", text_or_null(res, row, COL_DELIVERED_AT));
        json_object_object_add(h, "handler_started_at",
                               text_or_null(res, row, COL_HANDLER_STARTED_AT));
        json_object_object_add(h, "handler_ended_at", text_or_null(res, row, COL_HANDLER_ENDED_AT));
        json_object_object_add(h, "committed_at", text_or_null(res, row, COL_COMMITTED_AT));
        json_object_object_add(h, "queue_wait_ms", ms_or_null(res, row, COL_QUEUE_WAIT_MS));
        json_object_object_add(h, "handler_ms", ms_or_null(res, row, COL_HANDLER_MS));
    }
    return h;
}

/* Reads one schema's hops of order_id into hops. */
static souk_status read_source(souk_gateway *gw, const struct source *src, const char *order_id,
                               struct hops *hops)
{
    souk_dbpool *pool = pool_of(gw, src->service);
    souk_status st;
    PGconn *db = souk_dbpool_acquire(pool, &st);
    if (!db)
        return st;
    const char *params[1] = {order_id};
    PGresult *res = souk_db_exec_prepared(db, src->sql, 1, params);
    st = souk_db_result_status(db, res);
    for (int i = 0; st == SOUK_OK && i < PQntuples(res); i++) {
        if (hops->count == hops->cap) {
            hops->cap = hops->cap ? hops->cap * 2 : 32;
            hops->items = souk_realloc(hops->items, hops->cap * sizeof *hops->items);
        }
        struct hop *h = &hops->items[hops->count];
        h->at_us = strtoll(PQgetvalue(res, i, COL_AT_US), NULL, 10);
        h->consume = strcmp(PQgetvalue(res, i, COL_KIND), "consume") == 0;
        h->seq = hops->count++;
        h->json = hop_json(res, i, src->service);
    }
    PQclear(res);
    souk_dbpool_release(pool, db);
    return st;
}

static int by_time(const void *a, const void *b)
{
    const struct hop *x = a, *y = b;
    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    if (x->consume != y->consume)
        return x->consume - y->consume;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The order's status and trace id, when the caller may see it: SOUK_OK,
 * SOUK_ENOTFOUND, or the failure to read it. An order the order service
 * has not created yet is its accepted checkout, PENDING. */
static souk_status read_order(souk_request *req, const char *id, char status[32], char trace_id[40])
{
    trace_id[0] = '\0';
    souk_status st;
    PGconn *db = souk_dbpool_acquire(req->gw->orders_read, &st);
    if (!db)
        return st;
    const char *params[3] = {id, req->claims.sub, souk_http_is_admin(req) ? "t" : "f"};
    PGresult *res = souk_db_exec_prepared(db,
                                          "SELECT status, trace_id FROM orders.gateway_sagas "
                                          "WHERE order_id = $1 AND ($3::boolean OR "
                                          "customer_id = $2::uuid)",
                                          3, params);
    st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) == 1) {
        snprintf(status, 32, "%s", PQgetvalue(res, 0, 0));
        snprintf(trace_id, 40, "%s", PQgetvalue(res, 0, 1));
    } else if (st == SOUK_OK) {
        st = SOUK_ENOTFOUND;
    }
    PQclear(res);
    souk_dbpool_release(req->gw->orders_read, db);
    if (st == SOUK_ENOTFOUND) {
        char created_at[32];
        st = souk_orders_checkout_time(req, id, created_at);
        snprintf(status, 32, "PENDING");
    }
    return st;
}

/* The trace id of the first hop that has one (the checkout's publish), for
 * an order whose trace the order service has not recorded (yet). */
static const char *first_trace_id(const struct hops *hops)
{
    for (size_t i = 0; i < hops->count; i++) {
        const char *id = souk_http_json_text(hops->items[i].json, "trace_id");
        if (id)
            return id;
    }
    return NULL;
}

static int read_trace(souk_request *req, void *arg, json_object **out)
{
    (void)arg;
    const char *id = req->params[0];
    char status[32], trace_id[40];
    souk_status st = read_order(req, id, status, trace_id);
    if (st == SOUK_ENOTFOUND) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such order", NULL);
        return -1;
    }
    struct hops hops = {0};
    for (size_t i = 0; st == SOUK_OK && i < sizeof sources / sizeof sources[0]; i++)
        st = read_source(req->gw, &sources[i], id, &hops);
    if (st != SOUK_OK) {
        for (size_t i = 0; i < hops.count; i++)
            json_object_put(hops.items[i].json);
        free(hops.items);
        souk_http_fail_status(req, "reading an order's trace", st);
        return -1;
    }
    if (hops.count)
        qsort(hops.items, hops.count, sizeof *hops.items, by_time);
    json_object *body = json_object_new_object();
    json_object_object_add(body, "order_id", json_object_new_string(id));
    const char *trace = trace_id[0] ? trace_id : first_trace_id(&hops);
    json_object_object_add(body, "trace_id", trace ? json_object_new_string(trace) : NULL);
    json_object_object_add(body, "status", json_object_new_string(status));
    int final = strcmp(status, "COMPLETED") == 0 || strcmp(status, "CANCELLED") == 0;
    json_object_object_add(body, "final", json_object_new_boolean(final));
    json_object *list = json_object_new_array_ext((int)hops.count);
    for (size_t i = 0; i < hops.count; i++)
        json_object_array_add(list, hops.items[i].json);
    json_object_object_add(body, "hops", list);
    free(hops.items);
    *out = body;
    return 0;
}

void souk_sagatrace_get(souk_request *req)
{
    if (!souk_orders_open(req))
        return;
    souk_longpoll_serve(req, req->params[0], read_trace, NULL);
}
