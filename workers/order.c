/* The order service: creates orders from CartCheckedOut, moves them through
 * PENDING -> STOCK_RESERVED -> PAID -> COMPLETED or to CANCELLED with a
 * reason, and keeps each order's timeline. Transitions are guarded: a late or
 * duplicate event never moves an order backwards or out of a final state.
 * A deadline thread cancels orders stuck past SOUK_SAGA_DEADLINE_S; the
 * OrderCancelled it emits makes inventory release and payment refund. */
#include "workers/order.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/outbox.h"
#include "workers/saga.h"

/* Records an event of the order's timeline. */
static int record(souk_handler_ctx *ctx, const char *type, const char *producer,
                  const char *message_id)
{
    /* occurred_at (ms) orders the timeline causally: an event is produced
     * only after its cause was committed. */
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%lld", (long long)ctx->msg->timestamp);
    const char *params[6] = {ctx->msg->correlation_id,
                             message_id,
                             type,
                             producer,
                             ctx->msg->occurred_at[0] ? ctx->msg->occurred_at : NULL,
                             seconds};
    PGresult *res = souk_saga_exec(ctx,
                                   "INSERT INTO order_events (order_id, message_id, type, "
                                   "producer, occurred_at) SELECT $1::uuid, $2, $3, $4, "
                                   "COALESCE($5::timestamptz, CASE WHEN $6::bigint > 0 THEN "
                                   "to_timestamp($6::bigint) ELSE clock_timestamp() END)",
                                   6, params);
    PQclear(res);
    return res != NULL;
}

/* Records the event in hand. */
static int record_received(souk_handler_ctx *ctx)
{
    return record(ctx, ctx->msg->type, ctx->msg->app_id[0] ? ctx->msg->app_id : "unknown",
                  ctx->msg->message_id);
}

/* Emits an event and records it in the timeline as the order service's. */
static souk_handler_result emit(souk_handler_ctx *ctx, souk_event_type type, json_object *payload)
{
    char id[37];
    souk_handler_result r = souk_saga_emit(ctx, type, payload, id);
    if (r != SOUK_HANDLE_OK)
        return r;
    /* emitted now: it occurs at the recording time */
    const char *params[3] = {ctx->msg->correlation_id, id, souk_event_name(type)};
    PGresult *res = souk_saga_exec(ctx,
                                   "INSERT INTO order_events (order_id, message_id, type, "
                                   "producer, occurred_at) VALUES ($1::uuid, $2, $3, 'order', "
                                   "clock_timestamp())",
                                   3, params);
    PQclear(res);
    return res ? SOUK_HANDLE_OK : souk_saga_db_failure(ctx);
}

/* Moves the order to status when its current status is one of from (a
 * comma-separated list). Returns 1 when it moved, 0 when the guard refused,
 * -1 on error. */
static int transition(souk_handler_ctx *ctx, const char *status, const char *from)
{
    const char *params[3] = {ctx->msg->correlation_id, status, from};
    PGresult *res = souk_saga_exec(ctx,
                                   "UPDATE orders SET status = $2, updated_at = now() "
                                   "WHERE id = $1::uuid AND status = ANY(string_to_array($3, ','))",
                                   3, params);
    if (!res)
        return -1;
    int moved = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return moved;
}

/* The order fields every OrderCancelled and OrderCompleted carries, from a
 * row of customer_id, total_minor, currency, customer_email. */
static json_object *order_summary(souk_handler_ctx *ctx, PGresult *res)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "order_id", json_object_new_string(ctx->msg->correlation_id));
    json_object_object_add(p, "customer_id", json_object_new_string(PQgetvalue(res, 0, 0)));
    json_object_object_add(p, "total_minor",
                           json_object_new_int64(strtoll(PQgetvalue(res, 0, 1), NULL, 10)));
    json_object_object_add(p, "currency", json_object_new_string(PQgetvalue(res, 0, 2)));
    if (!PQgetisnull(res, 0, 3))
        json_object_object_add(p, "customer_email", json_object_new_string(PQgetvalue(res, 0, 3)));
    return p;
}

/* Cancels a non-final order with reason and emits OrderCancelled. One
 * statement moves the order and returns what the event carries. */
static souk_handler_result cancel(souk_handler_ctx *ctx, const char *reason, const char *detail)
{
    const char *params[3] = {ctx->msg->correlation_id, reason, detail};
    PGresult *res = souk_saga_exec(ctx,
                                   "UPDATE orders SET status = 'CANCELLED', updated_at = now(), "
                                   "cancel_reason = COALESCE($2, cancel_reason), "
                                   "cancel_detail = COALESCE($3, cancel_detail) "
                                   "WHERE id = $1::uuid AND status IN ('PENDING', "
                                   "'STOCK_RESERVED', 'PAID') "
                                   "RETURNING customer_id, total_minor, currency, customer_email",
                                   3, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SOUK_HANDLE_OK; /* already final, or unknown: a late event changes nothing */
    }
    json_object *p = order_summary(ctx, res);
    PQclear(res);
    json_object_object_add(p, "reason", json_object_new_string(reason));
    if (detail && detail[0])
        json_object_object_add(p, "detail", json_object_new_string(detail));
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "order cancelled reason=%s", reason);
    return emit(ctx, SOUK_EVENT_ORDER_CANCELLED, p);
}

static souk_handler_result on_cart_checked_out(souk_handler_ctx *ctx)
{
    json_object *p = ctx->payload;
    char deadline[32];
    snprintf(deadline, sizeof deadline, "%ld", souk_config_int(ctx->cfg, SOUK_CFG_SAGA_DEADLINE_S));
    char total[32];
    snprintf(total, sizeof total, "%lld", souk_saga_int(p, "total_minor"));
    const char *email = souk_saga_str(p, "customer_email");
    char trace_id[33] = "";
    if (ctx->trace)
        souk_trace_hex(ctx->trace->trace_id, sizeof ctx->trace->trace_id, trace_id);
    const char *params[8] = {
        souk_saga_str(p, "order_id"),
        souk_saga_str(p, "customer_id"),
        souk_saga_str(p, "currency"),
        total,
        json_object_to_json_string_ext(json_object_object_get(p, "shipping_address"),
                                       JSON_C_TO_STRING_PLAIN),
        deadline,
        email[0] ? email : NULL,
        trace_id[0] ? trace_id : NULL,
    };
    PGresult *res = souk_saga_exec(
        ctx,
        "INSERT INTO orders (id, customer_id, status, currency, total_minor, shipping_address, "
        "deadline_at, customer_email, trace_id) VALUES ($1, $2, 'PENDING', $3, $4::bigint, "
        "$5::jsonb, now() + make_interval(secs => $6::int), $7, $8) ON CONFLICT (id) DO NOTHING",
        8, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    int created = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!created)
        return SOUK_HANDLE_OK; /* the same checkout seen before under another message id */
    json_object *lines = json_object_object_get(p, "lines");
    for (size_t i = 0; i < json_object_array_length(lines); i++) {
        json_object *line = json_object_array_get_idx(lines, i);
        char no[24], quantity[24], price[32];
        snprintf(no, sizeof no, "%zu", i + 1);
        snprintf(quantity, sizeof quantity, "%lld", souk_saga_int(line, "quantity"));
        snprintf(price, sizeof price, "%lld", souk_saga_int(line, "unit_price_minor"));
        const char *lp[7] = {params[0],
                             no,
                             souk_saga_str(line, "product_id"),
                             souk_saga_str(line, "sku"),
                             souk_saga_str(line, "name"),
                             quantity,
                             price};
        res = souk_saga_exec(ctx,
                             "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, "
                             "quantity, unit_price_minor) VALUES ($1, $2::int, $3, NULLIF($4, ''), "
                             "NULLIF($5, ''), $6::int, $7::bigint)",
                             7, lp);
        if (!res)
            return souk_saga_db_failure(ctx);
        PQclear(res);
    }
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    json_object *out = souk_saga_order_fields(p);
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "order created total_minor=%s currency=%s", total, params[2]);
    return emit(ctx, SOUK_EVENT_ORDER_CREATED, out);
}

static souk_handler_result on_stock_reserved(souk_handler_ctx *ctx)
{
    if (!record_received(ctx) || transition(ctx, "STOCK_RESERVED", "PENDING") < 0)
        return souk_saga_db_failure(ctx);
    return SOUK_HANDLE_OK;
}

static souk_handler_result on_payment_succeeded(souk_handler_ctx *ctx)
{
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    const char *params[3] = {ctx->msg->correlation_id, souk_saga_str(ctx->payload, "payment_id"),
                             souk_saga_str(ctx->payload, "provider_ref")};
    PGresult *res = souk_saga_exec(ctx,
                                   "UPDATE orders SET payment_id = $2::uuid, provider_ref = $3, "
                                   "status = CASE WHEN status IN ('PENDING', 'STOCK_RESERVED') "
                                   "THEN 'PAID' ELSE status END, updated_at = now() "
                                   "WHERE id = $1::uuid",
                                   3, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    return SOUK_HANDLE_OK;
}

static souk_handler_result on_shipping_created(souk_handler_ctx *ctx)
{
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    /* One statement records the shipment, completes a non-final order and
     * returns whether it moved (the status locked before the update) with
     * what OrderCompleted carries. */
    const char *params[4] = {ctx->msg->correlation_id, souk_saga_str(ctx->payload, "shipment_id"),
                             souk_saga_str(ctx->payload, "carrier"),
                             souk_saga_str(ctx->payload, "tracking_number")};
    PGresult *res = souk_saga_exec(
        ctx,
        "WITH before AS (SELECT status IN ('PENDING', 'STOCK_RESERVED', 'PAID') AS open "
        "FROM orders WHERE id = $1::uuid FOR UPDATE) "
        "UPDATE orders o SET shipment_id = $2::uuid, carrier = $3, tracking_number = $4, "
        "status = CASE WHEN before.open THEN 'COMPLETED' ELSE o.status END, "
        "updated_at = CASE WHEN before.open THEN now() ELSE o.updated_at END "
        "FROM before WHERE o.id = $1::uuid "
        "RETURNING o.customer_id, o.total_minor, o.currency, o.customer_email, before.open",
        4, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 4), "t") != 0) {
        PQclear(res);
        return SOUK_HANDLE_OK; /* already final, or unknown: nothing to complete */
    }
    json_object *p = order_summary(ctx, res);
    PQclear(res);
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id, "order completed");
    return emit(ctx, SOUK_EVENT_ORDER_COMPLETED, p);
}

static souk_handler_result on_stock_reservation_failed(souk_handler_ctx *ctx)
{
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    return cancel(ctx, "out_of_stock", souk_saga_str(ctx->payload, "reason"));
}

static souk_handler_result on_payment_failed(souk_handler_ctx *ctx)
{
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    return cancel(ctx, "payment_declined", souk_saga_str(ctx->payload, "reason"));
}

static souk_handler_result on_payment_refunded(souk_handler_ctx *ctx)
{
    if (!record_received(ctx))
        return souk_saga_db_failure(ctx);
    return cancel(ctx, "shipping_failed", souk_saga_str(ctx->payload, "reason"));
}

static souk_handler_result on_timeline_only(souk_handler_ctx *ctx)
{
    return record_received(ctx) ? SOUK_HANDLE_OK : souk_saga_db_failure(ctx);
}

void souk_order_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT])
{
    handlers[SOUK_EVENT_CART_CHECKED_OUT] = on_cart_checked_out;
    handlers[SOUK_EVENT_STOCK_RESERVED] = on_stock_reserved;
    handlers[SOUK_EVENT_STOCK_RESERVATION_FAILED] = on_stock_reservation_failed;
    handlers[SOUK_EVENT_PAYMENT_SUCCEEDED] = on_payment_succeeded;
    handlers[SOUK_EVENT_PAYMENT_FAILED] = on_payment_failed;
    handlers[SOUK_EVENT_SHIPPING_CREATED] = on_shipping_created;
    handlers[SOUK_EVENT_SHIPPING_FAILED] = on_timeline_only;
    handlers[SOUK_EVENT_PAYMENT_REFUNDED] = on_payment_refunded;
    handlers[SOUK_EVENT_STOCK_RELEASED] = on_timeline_only;
}

/* ------------------------------------------------------------- deadline */

struct souk_order_deadline {
    const souk_config *cfg;
    pthread_t thread;
    atomic_int stop;
};

/* Cancels one overdue order through the handlers' cancel path (the guarded
 * update, OrderCancelled through the outbox, the timeline), in a
 * transaction of its own so that one order that cannot be cancelled does
 * not hold back the others. Returns 0, or -1 when it was not cancelled. */
static int cancel_overdue(souk_order_deadline *d, PGconn *db, const char *order_id)
{
    /* No message caused it: the envelope only carries the order id, so the
     * event has no causation id and its log lines no message id. */
    souk_envelope cause = {0};
    snprintf(cause.correlation_id, sizeof cause.correlation_id, "%s", order_id);
    snprintf(cause.app_id, sizeof cause.app_id, "order");
    /* Nor does any trace: the cancellation starts one of its own, whose
     * OrderCancelled carries it to the compensations. */
    souk_span span;
    souk_span_start(&span, NULL, SOUK_SPAN_INTERNAL, "cancel overdue order");
    souk_span_attr_str(&span, "souk.order_id", order_id);
    souk_span_attr_str(&span, "souk.cancel_reason", "timed_out");
    souk_trace_set_current(&span.ctx);
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    int done = 0;
    if (tx) {
        souk_handler_ctx ctx = {.cfg = d->cfg,
                                .service = SOUK_SERVICE_ORDER,
                                .tx = tx,
                                .msg = &cause,
                                .trace = &span.ctx};
        souk_handler_result r = cancel(&ctx, "timed_out", "saga deadline passed");
        done = r == SOUK_HANDLE_OK && souk_tx_commit(tx) == SOUK_OK;
        if (!done)
            SOUK_LOG_MSG(SOUK_LOG_ERROR, order_id, NULL, "deadline cancellation failed: %s",
                         r == SOUK_HANDLE_OK ? souk_tx_error(tx) : ctx.error);
        souk_tx_free(tx);
    }
    if (!done)
        souk_span_fail(&span, "the cancellation did not commit");
    souk_span_end(&span);
    souk_trace_set_current(NULL);
    return done ? 0 : -1;
}

/* Cancels up to 100 overdue orders. Returns how many were overdue, or -1
 * when the database failed before any could be tried. */
static int sweep(souk_order_deadline *d, PGconn *db)
{
    PGresult *res = PQexec(db, "SELECT id FROM orders "
                               "WHERE status NOT IN ('COMPLETED', 'CANCELLED') AND deadline_at < "
                               "now() ORDER BY deadline_at LIMIT 100");
    if (souk_db_result_status(db, res) != SOUK_OK) {
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += cancel_overdue(d, db, PQgetvalue(res, i, 0)) != 0;
    PQclear(res);
    /* a connection that broke on the way is replaced by the caller */
    if (failed && PQstatus(db) != CONNECTION_OK)
        return -1;
    /* orders that cannot be cancelled would be taken first again: wait */
    return failed ? 0 : n;
}

static void *deadline_main(void *arg)
{
    souk_order_deadline *d = arg;
    PGconn *db = NULL;
    while (!atomic_load(&d->stop)) {
        if (!db) {
            souk_status st;
            db = souk_db_connect(d->cfg, SOUK_SCHEMA_ORDERS, &st);
        }
        int n = db ? sweep(d, db) : -1;
        if (n < 0 && db) {
            PQfinish(db);
            db = NULL;
        }
        if (n >= 100)
            continue;
        for (int i = 0; i < 10 && !atomic_load(&d->stop); i++) {
            struct timespec ts = {0, 100000000L};
            nanosleep(&ts, NULL);
        }
    }
    PQfinish(db);
    return NULL;
}

souk_order_deadline *souk_order_deadline_start(const souk_config *cfg)
{
    souk_order_deadline *d = souk_calloc(1, sizeof *d);
    d->cfg = cfg;
    if (pthread_create(&d->thread, NULL, deadline_main, d) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

void souk_order_deadline_stop(souk_order_deadline *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, 1);
    pthread_join(d->thread, NULL);
    free(d);
}
