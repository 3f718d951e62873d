/* Inventory's batch locks against the real database: a batch of messages
 * locks every stock row it will touch, up front and in product order, so
 * that batched transactions of several consumers cannot deadlock. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/harness.h"
#include "workers/handler.h"
#include "workers/inventory.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

TestSuite(inventory_batch, .timeout = 60);

static void exec_ok(PGconn *db, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *res = PQexecParams(db, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(db));
    PQclear(res);
}

/* Whether another session finds the stock row of product locked. */
static int row_locked(const char *product)
{
    PGconn *other = th_pg_admin();
    const char *params[1] = {product};
    PGresult *res =
        PQexecParams(other, "SELECT 1 FROM inventory.stock WHERE product_id = $1 FOR UPDATE NOWAIT",
                     1, NULL, params, NULL, NULL, 0);
    int locked = PQresultStatus(res) != PGRES_TUPLES_OK;
    PQclear(res);
    PQfinish(other);
    return locked;
}

Test(inventory_batch, a_batch_locks_the_rows_of_new_lines_and_of_open_reservations_only)
{
    char ordered[37], reserved_product[37], released_product[37], untouched[37];
    char order_a[37], order_b[37];
    souk_uuid_v4(ordered);
    souk_uuid_v4(reserved_product);
    souk_uuid_v4(released_product);
    souk_uuid_v4(untouched);
    souk_uuid_v4(order_a);
    souk_uuid_v4(order_b);
    PGconn *admin = th_pg_admin();
    const char *products[4] = {ordered, reserved_product, released_product, untouched};
    for (int i = 0; i < 4; i++)
        exec_ok(admin,
                "INSERT INTO inventory.stock (product_id, on_hand, received) VALUES ($1, 10, 10)",
                products[i]);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO inventory.reservations (order_id, product_id, quantity, status) VALUES "
             "('%s', '%s', 1, 'RESERVED'), ('%s', '%s', 1, 'RELEASED')",
             order_b, reserved_product, order_b, released_product);
    exec_ok(admin, sql, NULL);
    PQfinish(admin);

    char lines[256];
    snprintf(lines, sizeof lines, "{\"lines\": [{\"product_id\": \"%s\", \"quantity\": 2}]}",
             ordered);
    json_object *created = json_tokener_parse(lines);
    json_object *payloads[3] = {created, NULL, NULL};
    /* The third message's order id is not a UUID: it is skipped, not an
     * error that would fail the batch. */
    const char *order_ids[3] = {order_a, order_b, "not-a-uuid"};
    PGconn *db = th_pg_as("souk_inventory", "souk_inventory");
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx);
    cr_assert_eq(souk_inventory_batch_lock(tx, payloads, order_ids, 3), 0, "%s", souk_tx_error(tx));
    cr_assert(row_locked(ordered), "the product of an OrderCreated line is locked");
    cr_assert(row_locked(reserved_product), "the product of an open reservation is locked");
    cr_assert_not(row_locked(released_product), "a released reservation's product is not");
    cr_assert_not(row_locked(untouched), "an unrelated product is not");
    souk_tx_free(tx); /* rolls back */
    cr_assert_not(row_locked(ordered), "the locks end with the transaction");
    PQfinish(db);
    json_object_put(created);
    /* Leave nothing behind for the invariants of later tests. */
    admin = th_pg_admin();
    exec_ok(admin, "DELETE FROM inventory.reservations WHERE order_id = $1", order_b);
    for (int i = 0; i < 4; i++)
        exec_ok(admin, "DELETE FROM inventory.stock WHERE product_id = $1", products[i]);
    PQfinish(admin);
}

/* Runs inventory's OrderCreated handler inside the open unit of work tx
 * for order_id with two lines: quantity_a of product_a, quantity_b of
 * product_b; returns its result. */
static souk_handler_result reserve(souk_tx *tx, const char *order_id, const char *product_a,
                                   int quantity_a, const char *product_b, int quantity_b)
{
    char lines[512];
    snprintf(lines, sizeof lines,
             "[{\"product_id\": \"%s\", \"quantity\": %d, \"unit_price_minor\": 1},"
             " {\"product_id\": \"%s\", \"quantity\": %d, \"unit_price_minor\": 1}]",
             product_a, quantity_a, product_b, quantity_b);
    char body[1536];
    snprintf(body, sizeof body,
             "{\"order_id\": \"%s\", \"customer_id\": \"%s\", \"lines\": %s, \"currency\": "
             "\"EUR\", \"total_minor\": 1, \"payment_token\": \"tok_approve\", "
             "\"shipping_address\": {\"name\": \"Amina\", \"line1\": \"12 Rue des Souks\", "
             "\"city\": \"Marrakesh\", \"postal_code\": \"40000\", \"country\": \"MA\"}}",
             order_id, order_id, lines);
    json_object *payload = json_tokener_parse(body);
    cr_assert_not_null(payload, "%s", body);
    souk_envelope msg;
    memset(&msg, 0, sizeof msg);
    souk_uuid_v4(msg.message_id);
    snprintf(msg.correlation_id, sizeof msg.correlation_id, "%s", order_id);
    snprintf(msg.type, sizeof msg.type, "OrderCreated");
    souk_handler_fn handlers[SOUK_EVENT_COUNT] = {0};
    souk_inventory_handlers(handlers);
    souk_handler_ctx ctx = {.tx = tx, .msg = &msg, .payload = payload};
    souk_handler_result r = handlers[SOUK_EVENT_ORDER_CREATED](&ctx);
    cr_assert_eq(r, SOUK_HANDLE_OK, "%s", ctx.error);
    json_object_put(payload);
    return r;
}

static long long in_db(PGconn *db, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *res = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
    long long v = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return v;
}

Test(inventory_batch, an_order_is_reserved_whole_or_not_at_all)
{
    char product[37], missing[37], whole[37], too_much[37], unknown[37];
    souk_uuid_v4(product);
    souk_uuid_v4(missing);
    souk_uuid_v4(whole);
    souk_uuid_v4(too_much);
    souk_uuid_v4(unknown);
    PGconn *admin = th_pg_admin();
    exec_ok(admin,
            "INSERT INTO inventory.stock (product_id, on_hand, received) VALUES ($1, 10, 10)",
            product);
    PQfinish(admin);
    PGconn *db = th_pg_as("souk_inventory", "souk_inventory");
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx);
    /* the same product on two lines (as another producer could send it) is
     * reserved as their sum, in one reservation row */
    reserve(tx, whole, product, 3, product, 4);
    cr_assert_eq(in_db(db, "SELECT reserved FROM stock WHERE product_id = $1", product), 7);
    cr_assert_eq(
        in_db(db, "SELECT sum(quantity) FROM reservations WHERE order_id = $1::uuid", whole), 7);
    /* 2 more fit, 4 do not: nothing of the order is reserved */
    reserve(tx, too_much, product, 2, product, 2);
    cr_assert_eq(in_db(db, "SELECT reserved FROM stock WHERE product_id = $1", product), 7);
    cr_assert_eq(in_db(db, "SELECT count(*) FROM reservations WHERE order_id = $1::uuid", too_much),
                 0);
    cr_assert_eq(in_db(db,
                       "SELECT count(*) FROM outbox WHERE correlation_id = $1 AND type = "
                       "'StockReservationFailed'",
                       too_much),
                 1);
    /* a product inventory does not stock fails the order, and the line
     * that would fit is not reserved either */
    reserve(tx, unknown, product, 1, missing, 1);
    cr_assert_eq(in_db(db, "SELECT reserved FROM stock WHERE product_id = $1", product), 7);
    cr_assert_eq(in_db(db,
                       "SELECT count(*) FROM outbox WHERE type = 'StockReservationFailed' "
                       "AND payload LIKE '%' || $1 || '%'",
                       missing),
                 1, "the failure names the product that is not stocked");
    souk_tx_free(tx); /* rolls back */
    PQfinish(db);
    admin = th_pg_admin();
    exec_ok(admin, "DELETE FROM inventory.stock WHERE product_id = $1", product);
    PQfinish(admin);
}
