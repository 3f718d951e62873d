/* The inventory service: reserves every line of an order or none, never
 * overselling (each line's reservation is a conditional UPDATE of its stock
 * row, which locks it, taken in product order so concurrent orders cannot
 * deadlock), releases a reservation on compensation, and turns it into a
 * sale on completion. */
#include "workers/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
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

static int by_product(const void *a, const void *b)
{
    json_object *const *x = a;
    json_object *const *y = b;
    return strcmp(souk_saga_str(*x, "product_id"), souk_saga_str(*y, "product_id"));
}

static souk_handler_result on_order_created(souk_handler_ctx *ctx)
{
    int is_closed = 0;
    if (closed(ctx, &is_closed) != 0)
        return souk_saga_db_failure(ctx);
    if (is_closed)
        return SOUK_HANDLE_OK; /* cancelled already, or reserved under another message id */
    json_object *lines = json_object_object_get(ctx->payload, "lines");
    size_t count = json_object_array_length(lines);
    json_object *sorted[100];
    if (count > 100)
        count = 100;
    for (size_t i = 0; i < count; i++)
        sorted[i] = json_object_array_get_idx(lines, i);
    qsort(sorted, count, sizeof sorted[0], by_product);

    PGresult *res = souk_saga_exec(ctx, "SAVEPOINT reserve", 0, NULL);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    json_object *unavailable = NULL;
    for (size_t i = 0; i < count; i++) {
        char quantity[16];
        snprintf(quantity, sizeof quantity, "%lld", souk_saga_int(sorted[i], "quantity"));
        const char *params[3] = {souk_saga_str(sorted[i], "product_id"), quantity,
                                 ctx->msg->correlation_id};
        res = souk_saga_exec(ctx,
                             "UPDATE stock SET reserved = reserved + $2::int, updated_at = now() "
                             "WHERE product_id = $1::uuid AND on_hand - reserved >= $2::int",
                             2, params);
        if (!res)
            return souk_saga_db_failure(ctx);
        int ok = strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        if (!ok) {
            if (!unavailable)
                unavailable = json_object_new_array();
            json_object_array_add(unavailable, json_object_new_string(params[0]));
            continue;
        }
        res = souk_saga_exec(ctx,
                             "INSERT INTO reservations (order_id, product_id, quantity, status) "
                             "VALUES ($3::uuid, $1::uuid, $2::int, 'RESERVED') "
                             "ON CONFLICT (order_id, product_id) DO UPDATE "
                             "SET quantity = reservations.quantity + EXCLUDED.quantity",
                             3, params);
        if (!res)
            return souk_saga_db_failure(ctx);
        PQclear(res);
    }
    if (unavailable) {
        /* all or nothing: undo the lines that did fit */
        res = souk_saga_exec(ctx, "ROLLBACK TO SAVEPOINT reserve", 0, NULL);
        if (!res) {
            json_object_put(unavailable);
            return souk_saga_db_failure(ctx);
        }
        PQclear(res);
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
    if (!id || !souk_uuid_valid(id))
        return;
    if (*len + 40 > *cap) {
        *cap = (*cap + 40) * 2;
        *array = souk_realloc(*array, *cap);
    }
    *len += (size_t)snprintf(*array + *len, *cap - *len, "%s%s", *len > 1 ? "," : "", id);
}

int souk_inventory_batch_lock(PGconn *db, json_object *const *payloads,
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
    PGresult *res = PQexecParams(db,
                                 "SELECT 1 FROM stock WHERE product_id = ANY($1::uuid[]) OR "
                                 "product_id IN (SELECT product_id FROM reservations WHERE "
                                 "order_id = ANY($2::uuid[]) AND status = 'RESERVED') "
                                 "ORDER BY product_id FOR UPDATE",
                                 2, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
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
