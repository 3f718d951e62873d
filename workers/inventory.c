/* The inventory service: reserves every line of an order or none, never
 * overselling (each line's reservation is a conditional UPDATE of its stock
 * row, which locks it, taken in product order so concurrent orders cannot
 * deadlock), releases a reservation on compensation, and turns it into a
 * sale on completion. */
#include "workers/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "workers/saga.h"

static int closed(souk_handler_ctx *ctx, int *is_closed)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res =
        souk_saga_exec(ctx,
                       "SELECT EXISTS (SELECT 1 FROM closed_orders WHERE order_id = $1::uuid) OR "
                       "EXISTS (SELECT 1 FROM reservations WHERE order_id = $1::uuid)",
                       1, params);
    if (!res)
        return -1;
    *is_closed = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

static int close_order(souk_handler_ctx *ctx)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(
        ctx, "INSERT INTO closed_orders (order_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING", 1,
        params);
    PQclear(res);
    return res ? 0 : -1;
}

/* Reserves every line or none in one statement: it locks the order's stock
 * rows in product order, decides on the locked (latest) quantities, and
 * only when every line fits raises their reservations and records them.
 * One statement and no savepoint: an update per line inside a subtransaction
 * cost a round trip per line and, in a batch whose stock rows were locked
 * first, a multixact per row (the batch's lock and the subtransaction's
 * update). */
static const char reserve_all_sql[] =
    "WITH want AS (SELECT product_id, sum(quantity)::int AS quantity "
    "FROM unnest($2::uuid[], $3::int[]) AS w(product_id, quantity) GROUP BY product_id), "
    "have AS (SELECT s.product_id, s.on_hand - s.reserved >= w.quantity AS fits "
    "FROM stock s JOIN want w USING (product_id) ORDER BY s.product_id FOR UPDATE OF s), "
    "verdict AS (SELECT (SELECT count(*) FROM have WHERE fits) = (SELECT count(*) FROM want) "
    "AS all_fit), "
    "reserved AS (UPDATE stock s SET reserved = s.reserved + w.quantity, updated_at = now() "
    "FROM want w, verdict v WHERE v.all_fit AND s.product_id = w.product_id "
    "RETURNING s.product_id, w.quantity), "
    "booked AS (INSERT INTO reservations (order_id, product_id, quantity, status) "
    "SELECT $1::uuid, product_id, quantity, 'RESERVED' FROM reserved "
    "ON CONFLICT (order_id, product_id) DO UPDATE "
    "SET quantity = reservations.quantity + EXCLUDED.quantity RETURNING 1) "
    "SELECT w.product_id, coalesce(h.fits, false), (SELECT count(*) FROM booked) "
    "FROM want w LEFT JOIN have h USING (product_id) ORDER BY w.product_id";

/* Appends text to a PostgreSQL array literal being built in *array,
 * leaving room for the closing brace. */
static void array_append(char **array, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 3 > *cap) {
        *cap = (*cap + n + 3) * 2;
        *array = souk_realloc(*array, *cap);
    }
    if (*len > 1)
        (*array)[(*len)++] = ',';
    memcpy(*array + *len, text, n + 1);
    *len += n;
}

static souk_handler_result on_order_created(souk_handler_ctx *ctx)
{
    int is_closed = 0;
    if (closed(ctx, &is_closed) != 0)
        return souk_saga_db_failure(ctx);
    if (is_closed)
        return SOUK_HANDLE_OK; /* cancelled already, or reserved under another message id */
    /* lines were checked against the event's schema: UUID product ids,
     * integer quantities */
    json_object *lines = json_object_object_get(ctx->payload, "lines");
    size_t count = json_object_array_length(lines);
    size_t plen = 1, pcap = 64, qlen = 1, qcap = 32;
    char *products = souk_malloc(pcap), *quantities = souk_malloc(qcap);
    memcpy(products, "{", 2);
    memcpy(quantities, "{", 2);
    for (size_t i = 0; i < count; i++) {
        json_object *line = json_object_array_get_idx(lines, i);
        char quantity[24];
        snprintf(quantity, sizeof quantity, "%lld", souk_saga_int(line, "quantity"));
        array_append(&products, &plen, &pcap, souk_saga_str(line, "product_id"));
        array_append(&quantities, &qlen, &qcap, quantity);
    }
    memcpy(products + plen, "}", 2); /* array_append leaves room for it */
    memcpy(quantities + qlen, "}", 2);
    const char *params[3] = {ctx->msg->correlation_id, products, quantities};
    PGresult *res = souk_saga_exec(ctx, reserve_all_sql, 3, params);
    free(products);
    free(quantities);
    if (!res)
        return souk_saga_db_failure(ctx);
    json_object *unavailable = NULL;
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        if (PQgetvalue(res, i, 1)[0] == 't')
            continue;
        if (!unavailable)
            unavailable = json_object_new_array();
        json_object_array_add(unavailable, json_object_new_string(PQgetvalue(res, i, 0)));
    }
    int booked = rows > 0 && strtol(PQgetvalue(res, 0, 2), NULL, 10) == rows;
    PQclear(res);
    if (!unavailable && !booked) {
        snprintf(ctx->error, sizeof ctx->error, "reservation of %d lines booked none", rows);
        return SOUK_HANDLE_REJECT;
    }
    if (unavailable) {
        if (close_order(ctx) != 0) {
            json_object_put(unavailable);
            return souk_saga_db_failure(ctx);
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "order_id", json_object_new_string(ctx->msg->correlation_id));
        json_object_object_add(p, "reason", json_object_new_string("insufficient stock"));
        json_object_object_add(p, "unavailable", unavailable);
        SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                     "reservation failed: insufficient stock");
        return souk_saga_emit(ctx, SOUK_EVENT_STOCK_RESERVATION_FAILED, p, NULL);
    }
    json_object *out = souk_saga_order_fields(ctx->payload);
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "stock reserved lines=%zu", count);
    return souk_saga_emit(ctx, SOUK_EVENT_STOCK_RESERVED, out, NULL);
}

/* Locks the stock rows of the order's open reservations in product order,
 * the order a reservation takes them in, so that releases, sales and
 * reservations of overlapping products never deadlock. */
static int lock_stock_of(souk_handler_ctx *ctx)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(ctx,
                                   "SELECT 1 FROM stock WHERE product_id IN (SELECT product_id "
                                   "FROM reservations WHERE order_id = $1::uuid AND status = "
                                   "'RESERVED') ORDER BY product_id FOR UPDATE",
                                   1, params);
    PQclear(res);
    return res ? 0 : -1;
}

/* Releases whatever the order still has reserved; emits StockReleased when
 * there was something. */
static souk_handler_result release(souk_handler_ctx *ctx)
{
    if (close_order(ctx) != 0 || lock_stock_of(ctx) != 0)
        return souk_saga_db_failure(ctx);
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(ctx,
                                   "WITH r AS (UPDATE reservations SET status = 'RELEASED', "
                                   "updated_at = now() WHERE order_id = $1::uuid AND status = "
                                   "'RESERVED' RETURNING product_id, quantity), "
                                   "s AS (UPDATE stock SET reserved = stock.reserved - r.quantity, "
                                   "updated_at = now() FROM r WHERE stock.product_id = "
                                   "r.product_id RETURNING r.product_id, r.quantity) "
                                   "SELECT product_id, quantity FROM s ORDER BY product_id",
                                   1, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return SOUK_HANDLE_OK;
    }
    json_object *lines = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *line = json_object_new_object();
        json_object_object_add(line, "product_id", json_object_new_string(PQgetvalue(res, i, 0)));
        json_object_object_add(line, "quantity",
                               json_object_new_int((int)strtol(PQgetvalue(res, i, 1), NULL, 10)));
        json_object_array_add(lines, line);
    }
    PQclear(res);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "order_id", json_object_new_string(ctx->msg->correlation_id));
    json_object_object_add(p, "lines", lines);
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "reservation released after %s", ctx->msg->type);
    return souk_saga_emit(ctx, SOUK_EVENT_STOCK_RELEASED, p, NULL);
}

static souk_handler_result on_order_completed(souk_handler_ctx *ctx)
{
    if (close_order(ctx) != 0 || lock_stock_of(ctx) != 0)
        return souk_saga_db_failure(ctx);
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(ctx,
                                   "WITH r AS (UPDATE reservations SET status = 'SOLD', "
                                   "updated_at = now() WHERE order_id = $1::uuid AND status = "
                                   "'RESERVED' RETURNING product_id, quantity) "
                                   "UPDATE stock SET on_hand = stock.on_hand - r.quantity, "
                                   "reserved = stock.reserved - r.quantity, sold = stock.sold + "
                                   "r.quantity, updated_at = now() FROM r "
                                   "WHERE stock.product_id = r.product_id",
                                   1, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "reservation sold lines=%s", PQcmdTuples(res));
    PQclear(res);
    return SOUK_HANDLE_OK;
}

/* Appends id to a PostgreSQL array literal when it is a UUID (anything
 * else could not name a row, and must not fail the cast for the batch).
 * Leaves room for the closing brace. */
static void append_uuid(char **array, size_t *len, size_t *cap, const char *id)
{
    if (id && souk_uuid_valid(id))
        array_append(array, len, cap, id);
}

int souk_inventory_batch_lock(souk_tx *tx, json_object *const *payloads,
                              const char *const *order_ids, int n)
{
    size_t plen = 1, pcap = 64, olen = 1, ocap = 64;
    char *products = souk_malloc(pcap), *orders = souk_malloc(ocap);
    memcpy(products, "{", 2);
    memcpy(orders, "{", 2);
    for (int i = 0; i < n; i++) {
        append_uuid(&orders, &olen, &ocap, order_ids[i]);
        json_object *lines = payloads[i] ? json_object_object_get(payloads[i], "lines") : NULL;
        for (size_t j = 0; lines && j < json_object_array_length(lines); j++)
            append_uuid(&products, &plen, &pcap,
                        souk_saga_str(json_object_array_get_idx(lines, j), "product_id"));
    }
    memcpy(products + plen, "}", 2);
    memcpy(orders + olen, "}", 2);
    const char *params[2] = {products, orders};
    PGresult *res = souk_tx_exec(tx,
                                 "SELECT 1 FROM stock WHERE product_id = ANY($1::uuid[]) OR "
                                 "product_id IN (SELECT product_id FROM reservations WHERE "
                                 "order_id = ANY($2::uuid[]) AND status = 'RESERVED') "
                                 "ORDER BY product_id FOR UPDATE",
                                 2, params);
    int ok = res != NULL;
    PQclear(res);
    free(products);
    free(orders);
    return ok ? 0 : -1;
}

void souk_inventory_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT])
{
    handlers[SOUK_EVENT_ORDER_CREATED] = on_order_created;
    handlers[SOUK_EVENT_PAYMENT_FAILED] = release;
    handlers[SOUK_EVENT_PAYMENT_REFUNDED] = release;
    handlers[SOUK_EVENT_ORDER_CANCELLED] = release;
    handlers[SOUK_EVENT_ORDER_COMPLETED] = on_order_completed;
}
