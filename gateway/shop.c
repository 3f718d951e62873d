/* Inventory, cart, checkout and order endpoints. */
#include "gateway/shop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/envelope.h"
#include "events/outbox.h"
#include "events/tx.h"
#include "gateway/catalog.h"
#include "gateway/orderwatch.h"
#include "gateway/waitbudget.h"

#define MAX_LINES 100

static const char *text(json_object *doc, const char *name)
{
    return json_object_get_string(json_object_object_get(doc, name));
}

static int is_admin(const souk_request *req)
{
    return strcmp(req->claims.role, "admin") == 0;
}

static const char *sqlstate(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state ? state : "";
}

/* ------------------------------------------------------------ inventory */

static void send_stock(souk_request *req, int status, PGresult *res, const char *product_id)
{
    json_object *body = json_object_new_object();
    long long on_hand = 0, reserved = 0, sold = 0;
    if (res && PQntuples(res) == 1) {
        on_hand = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        reserved = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        sold = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    }
    json_object_object_add(body, "product_id", json_object_new_string(product_id));
    json_object_object_add(body, "on_hand", json_object_new_int64(on_hand));
    json_object_object_add(body, "reserved", json_object_new_int64(reserved));
    json_object_object_add(body, "available", json_object_new_int64(on_hand - reserved));
    json_object_object_add(body, "sold", json_object_new_int64(sold));
    souk_http_respond(req, status, body);
    json_object_put(body);
}

/* Answers 404 unless the product exists in the catalog. */
static int require_product(souk_request *req, const char *id, souk_product *out)
{
    souk_product ignored;
    souk_status st = souk_catalog_lookup(req->gw, id, out ? out : &ignored);
    if (st == SOUK_OK)
        return 1;
    if (st == SOUK_ENOTFOUND)
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
    else
        souk_http_fail_status(req, "reading a product", st);
    return 0;
}

void souk_shop_inventory_get(souk_request *req)
{
    if (!souk_http_require_user(req) || !require_product(req, req->params[0], NULL))
        return;
    PGconn *db = souk_http_db(req, req->gw->inventory_read, "inventory database");
    if (!db)
        return;
    souk_status st;
    const char *params[1] = {req->params[0]};
    PGresult *res = PQexecParams(
        db, "SELECT on_hand, reserved, sold FROM inventory.gateway_stock WHERE product_id = $1", 1,
        NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK)
        souk_http_fail_status(req, "reading stock", st);
    else
        send_stock(req, 200, res, req->params[0]);
    PQclear(res);
    souk_dbpool_release(req->gw->inventory_read, db);
}

void souk_shop_inventory_set(souk_request *req)
{
    if (!souk_http_require_admin(req))
        return;
    json_object *doc = souk_http_read_json(req, "stock");
    if (!doc)
        return;
    json_object *on_hand = NULL, *delta = NULL;
    int has_on_hand = json_object_object_get_ex(doc, "on_hand", &on_hand);
    int has_delta = json_object_object_get_ex(doc, "delta", &delta);
    if (has_on_hand == has_delta) {
        json_object *details = json_object_new_object();
        json_object_object_add(details, "field", json_object_new_string("on_hand"));
        souk_http_fail(req, 400, "VALIDATION_FAILED", "give exactly one of on_hand or delta",
                       details);
        json_object_put(doc);
        return;
    }
    if (!require_product(req, req->params[0], NULL)) {
        json_object_put(doc);
        return;
    }
    char amount[32];
    snprintf(amount, sizeof amount, "%lld",
             (long long)json_object_get_int64(has_on_hand ? on_hand : delta));
    PGconn *db = souk_http_db(req, req->gw->inventory_read, "inventory database");
    if (!db) {
        json_object_put(doc);
        return;
    }
    souk_status st;
    const char *params[2] = {req->params[0], amount};
    PGresult *res = PQexecParams(
        db,
        has_on_hand
            ? "SELECT on_hand, reserved, sold FROM inventory.admin_set_stock($1::uuid, $2::int)"
            : "SELECT on_hand, reserved, sold FROM inventory.admin_adjust_stock($1::uuid, $2::int)",
        2, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st == SOUK_EDB && strcmp(sqlstate(res), "23514") == 0) {
        souk_http_fail(req, 409, "STOCK_CONFLICT",
                       "stock cannot go below zero or below the units reserved for open orders",
                       NULL);
    } else if (st != SOUK_OK) {
        souk_http_fail_status(req, "setting stock", st);
    } else {
        SOUK_LOG(SOUK_LOG_INFO, "stock %s request_id=%s product_id=%s amount=%s",
                 has_on_hand ? "set" : "adjusted", req->request_id, req->params[0], amount);
        send_stock(req, 200, res, req->params[0]);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->inventory_read, db);
    json_object_put(doc);
}

/* ----------------------------------------------------------------- cart */

struct line {
    souk_product product;
    int quantity;
};

/* Prices every line from the catalog. Returns 0, or -1 after answering
 * (a product gone or inactive is a 409 naming it). */
static int price_lines(souk_request *req, struct line *lines, int count, int for_checkout)
{
    for (int i = 0; i < count; i++) {
        char id[37];
        snprintf(id, sizeof id, "%s", lines[i].product.id);
        souk_status st = souk_catalog_lookup(req->gw, id, &lines[i].product);
        if (st == SOUK_ENOTFOUND || (st == SOUK_OK && for_checkout && !lines[i].product.active)) {
            json_object *details = json_object_new_object();
            json_object_object_add(details, "product_id", json_object_new_string(id));
            souk_http_fail(req, 409,
                           st == SOUK_ENOTFOUND ? "PRODUCT_UNAVAILABLE" : "PRODUCT_INACTIVE",
                           st == SOUK_ENOTFOUND ? "a product no longer exists"
                                                : "a product is not for sale any more",
                           details);
            return -1;
        }
        if (st != SOUK_OK) {
            souk_http_fail_status(req, "reading a product", st);
            return -1;
        }
        if (i > 0 && strcmp(lines[i].product.currency, lines[0].product.currency) != 0) {
            souk_http_fail(req, 409, "CURRENCY_MISMATCH",
                           "all items of one order must have the same currency", NULL);
            return -1;
        }
    }
    return 0;
}

/* Loads the cart's lines (FOR UPDATE when lock). Returns the count or -1. */
static int load_cart(souk_request *req, PGconn *db, struct line *lines, int lock)
{
    const char *params[1] = {req->claims.sub};
    PGresult *res =
        souk_db_exec_prepared(db,
                              lock ? "SELECT product_id, quantity FROM cart_items WHERE "
                                     "customer_id = $1 ORDER BY added_at, product_id FOR UPDATE"
                                   : "SELECT product_id, quantity FROM cart_items WHERE "
                                     "customer_id = $1 ORDER BY added_at, product_id",
                              1, params);
    souk_status st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        PQclear(res);
        souk_http_fail_status(req, "reading the cart", st);
        return -1;
    }
    int n = PQntuples(res) < MAX_LINES ? PQntuples(res) : MAX_LINES;
    for (int i = 0; i < n; i++) {
        memset(&lines[i], 0, sizeof lines[i]);
        snprintf(lines[i].product.id, sizeof lines[i].product.id, "%s", PQgetvalue(res, i, 0));
        lines[i].quantity = (int)strtol(PQgetvalue(res, i, 1), NULL, 10);
    }
    PQclear(res);
    return n;
}

static json_object *lines_json(const struct line *lines, int count, long long *total)
{
    json_object *items = json_object_new_array();
    *total = 0;
    for (int i = 0; i < count; i++) {
        const souk_product *p = &lines[i].product;
        json_object *item = json_object_new_object();
        json_object_object_add(item, "product_id", json_object_new_string(p->id));
        json_object_object_add(item, "sku", json_object_new_string(p->sku));
        json_object_object_add(item, "name", json_object_new_string(p->name));
        json_object_object_add(item, "quantity", json_object_new_int(lines[i].quantity));
        json_object_object_add(item, "unit_price_minor", json_object_new_int64(p->price_minor));
        json_object_object_add(item, "line_total_minor",
                               json_object_new_int64(p->price_minor * lines[i].quantity));
        json_object_object_add(item, "currency", json_object_new_string(p->currency));
        json_object_object_add(item, "active", json_object_new_boolean(p->active));
        json_object_array_add(items, item);
        *total += p->price_minor * lines[i].quantity;
    }
    return items;
}

static void send_cart(souk_request *req, PGconn *db)
{
    struct line *lines = souk_calloc(MAX_LINES, sizeof *lines);
    int n = load_cart(req, db, lines, 0);
    if (n >= 0) {
        /* A product deleted since it was added shows as unavailable. */
        int kept = 0;
        for (int i = 0; i < n; i++) {
            char id[37];
            snprintf(id, sizeof id, "%s", lines[i].product.id);
            if (souk_catalog_lookup(req->gw, id, &lines[i].product) == SOUK_OK)
                lines[kept++] = lines[i];
        }
        long long total = 0;
        json_object *body = json_object_new_object();
        json_object_object_add(body, "items", lines_json(lines, kept, &total));
        int units = 0;
        for (int i = 0; i < kept; i++)
            units += lines[i].quantity;
        json_object_object_add(body, "item_count", json_object_new_int(units));
        json_object_object_add(body, "total_minor", json_object_new_int64(total));
        json_object_object_add(body, "currency",
                               kept ? json_object_new_string(lines[0].product.currency) : NULL);
        souk_http_respond(req, 200, body);
        json_object_put(body);
    }
    free(lines);
}

static PGconn *cart_db(souk_request *req)
{
    return souk_http_db(req, req->gw->cart, "cart database");
}

void souk_shop_cart_get(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    PGconn *db = cart_db(req);
    if (!db)
        return;
    send_cart(req, db);
    souk_dbpool_release(req->gw->cart, db);
}

/* Runs sql (a string literal: souk_db_exec_prepared finds it again by its
 * address) with (customer, product_id, the body's quantity) and answers
 * with the cart, or with what went wrong. */
static void change_cart_item(souk_request *req, json_object *doc, const char *product_id,
                             const char *sql, const char *what)
{
    PGconn *db = cart_db(req);
    if (!db)
        return;
    char quantity[16];
    snprintf(quantity, sizeof quantity, "%d",
             json_object_get_int(json_object_object_get(doc, "quantity")));
    const char *params[3] = {req->claims.sub, product_id, quantity};
    PGresult *res = souk_db_exec_prepared(db, sql, 3, params);
    souk_status st = souk_db_result_status(db, res);
    if (st == SOUK_EDB && strcmp(sqlstate(res), "23514") == 0)
        souk_http_fail(req, 409, "QUANTITY_TOO_HIGH", "at most 1000 units of one product", NULL);
    else if (st != SOUK_OK)
        souk_http_fail_status(req, what, st);
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        souk_http_fail(req, 404, "NOT_FOUND", "this product is not in the cart", NULL);
    else
        send_cart(req, db);
    PQclear(res);
    souk_dbpool_release(req->gw->cart, db);
}

void souk_shop_cart_add(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    json_object *doc = souk_http_read_json(req, "cart_item");
    if (!doc)
        return;
    souk_product product;
    const char *product_id = text(doc, "product_id");
    int known = require_product(req, product_id, &product); /* answered when not */
    if (known && !product.active) {
        json_object *details = json_object_new_object();
        json_object_object_add(details, "product_id", json_object_new_string(product_id));
        souk_http_fail(req, 409, "PRODUCT_INACTIVE", "this product is not for sale", details);
    } else if (known) {
        change_cart_item(req, doc, product_id,
                         "INSERT INTO cart_items (customer_id, product_id, quantity) "
                         "VALUES ($1, $2, $3::int) ON CONFLICT (customer_id, product_id) "
                         "DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity",
                         "adding to the cart");
    }
    json_object_put(doc);
}

void souk_shop_cart_set(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    json_object *doc = souk_http_read_json(req, "cart_quantity");
    if (!doc)
        return;
    if (!souk_uuid_valid(req->params[0]))
        souk_http_fail(req, 404, "NOT_FOUND", "this product is not in the cart", NULL);
    else
        change_cart_item(req, doc, req->params[0],
                         "UPDATE cart_items SET quantity = $3::int "
                         "WHERE customer_id = $1 AND product_id = $2",
                         "changing the cart");
    json_object_put(doc);
}

void souk_shop_cart_remove(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    if (!souk_uuid_valid(req->params[0])) {
        souk_http_fail(req, 404, "NOT_FOUND", "this product is not in the cart", NULL);
        return;
    }
    PGconn *db = cart_db(req);
    if (!db)
        return;
    const char *params[2] = {req->claims.sub, req->params[0]};
    PGresult *res =
        PQexecParams(db, "DELETE FROM cart_items WHERE customer_id = $1 AND product_id = $2", 2,
                     NULL, params, NULL, NULL, 0);
    souk_status st = souk_db_result_status(db, res);
    if (st != SOUK_OK)
        souk_http_fail_status(req, "changing the cart", st);
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        souk_http_fail(req, 404, "NOT_FOUND", "this product is not in the cart", NULL);
    else
        send_cart(req, db);
    PQclear(res);
    souk_dbpool_release(req->gw->cart, db);
}

/* ---------------------------------------------------- checkout / orders */

static void send_accepted(souk_request *req, const char *order_id, int replayed)
{
    char location[80];
    snprintf(location, sizeof location, "/orders/%s", order_id);
    souk_http_add_header(req, "Location", location);
    if (replayed)
        souk_http_add_header(req, "Idempotent-Replayed", "true");
    json_object *body = json_object_new_object();
    json_object_object_add(body, "order_id", json_object_new_string(order_id));
    json_object_object_add(body, "status", json_object_new_string("PENDING"));
    json_object_object_add(body, "location", json_object_new_string(location));
    souk_http_respond(req, 202, body);
    json_object_put(body);
}

/* The order an earlier request with this Idempotency-Key made: SOUK_OK
 * with order_id, SOUK_ENOTFOUND when there is none, or the database's
 * failure (never taken for "none": that would place the order twice). */
static souk_status find_previous(PGconn *db, const char *customer, const char *key,
                                 char order_id[37])
{
    const char *params[2] = {customer, key};
    PGresult *res =
        souk_db_exec_prepared(db,
                              "SELECT order_id FROM checkouts WHERE customer_id = $1 AND "
                              "idempotency_key = $2",
                              2, params);
    souk_status st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) != 1)
        st = SOUK_ENOTFOUND;
    if (st == SOUK_OK)
        snprintf(order_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

static const char *idempotency_key(souk_request *req)
{
    const char *key = souk_http_header(req, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 200)) {
        souk_http_fail(req, 400, "VALIDATION_FAILED", "Idempotency-Key must be 1 to 200 characters",
                       NULL);
        return (const char *)-1;
    }
    return key;
}

/* The signed-in customer's e-mail, for the notifications of the order:
 * SOUK_OK with out, SOUK_ENOTFOUND for an account without one, or the
 * database's failure (the order would otherwise go out without it). */
static souk_status customer_email(souk_request *req, char *out, size_t cap)
{
    souk_status st;
    PGconn *db = souk_dbpool_acquire(req->gw->identity, &st);
    if (!db)
        return st;
    const char *params[1] = {req->claims.sub};
    PGresult *res =
        souk_db_exec_prepared(db, "SELECT email FROM accounts WHERE id = $1::uuid", 1, params);
    st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) != 1)
        st = SOUK_ENOTFOUND;
    if (st == SOUK_OK)
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    souk_dbpool_release(req->gw->identity, db);
    return st;
}

/* Records the order for its key, empties the cart when asked, and adds
 * CartCheckedOut to the cart outbox, all in the caller's unit of work. */
static souk_status place_order(souk_request *req, souk_tx *tx, const char *key,
                               const struct line *lines, int count, json_object *address,
                               const char *payment_token, int clear_cart, char order_id[37],
                               char *err, size_t errlen)
{
    souk_uuid_v4(order_id);
    char auto_key[48];
    snprintf(auto_key, sizeof auto_key, "auto:%s", order_id);
    const char *params[3] = {req->claims.sub, key ? key : auto_key, order_id};
    PGresult *res = souk_tx_exec(
        tx, "INSERT INTO checkouts (customer_id, idempotency_key, order_id) VALUES ($1, $2, $3)", 3,
        params);
    if (!res)
        return souk_tx_status(tx);
    PQclear(res);
    if (clear_cart) {
        res = souk_tx_exec(tx, "DELETE FROM cart_items WHERE customer_id = $1", 1, params);
        if (!res)
            return souk_tx_status(tx);
        PQclear(res);
    }
    json_object *payload = json_object_new_object();
    long long total = 0;
    json_object *items = json_object_new_array();
    for (int i = 0; i < count; i++) {
        json_object *item = json_object_new_object();
        json_object_object_add(item, "product_id", json_object_new_string(lines[i].product.id));
        json_object_object_add(item, "sku", json_object_new_string(lines[i].product.sku));
        json_object_object_add(item, "name", json_object_new_string(lines[i].product.name));
        json_object_object_add(item, "quantity", json_object_new_int(lines[i].quantity));
        json_object_object_add(item, "unit_price_minor",
                               json_object_new_int64(lines[i].product.price_minor));
        json_object_array_add(items, item);
        total += lines[i].product.price_minor * lines[i].quantity;
    }
    json_object_object_add(payload, "order_id", json_object_new_string(order_id));
    json_object_object_add(payload, "customer_id", json_object_new_string(req->claims.sub));
    json_object_object_add(payload, "lines", items);
    json_object_object_add(payload, "currency", json_object_new_string(lines[0].product.currency));
    json_object_object_add(payload, "total_minor", json_object_new_int64(total));
    json_object_object_add(payload, "shipping_address", json_object_get(address));
    json_object_object_add(payload, "payment_token", json_object_new_string(payment_token));
    if (key)
        json_object_object_add(payload, "idempotency_key", json_object_new_string(key));
    char email[321];
    souk_status st = customer_email(req, email, sizeof email);
    if (st == SOUK_OK)
        json_object_object_add(payload, "customer_email", json_object_new_string(email));
    if (st != SOUK_OK && st != SOUK_ENOTFOUND) {
        json_object_put(payload);
        snprintf(err, errlen, "identity database");
        return st;
    }
    souk_outbox_event ev = {.type = SOUK_EVENT_CART_CHECKED_OUT,
                            .correlation_id = order_id,
                            .request_id = req->request_id,
                            .payload = payload};
    char message_id[37];
    st = souk_tx_emit(tx, &ev, message_id);
    json_object_put(payload);
    if (st != SOUK_OK)
        snprintf(err, errlen, "%s", souk_tx_error(tx));
    if (st == SOUK_OK)
        SOUK_LOG_MSG(SOUK_LOG_INFO, order_id, message_id,
                     "checkout accepted request_id=%s customer_id=%s lines=%d total_minor=%lld",
                     req->request_id, req->claims.sub, count, total);
    return st;
}

/* The shared path of POST /cart/checkout (lines NULL: take the cart) and
 * POST /orders (lines from the body). */
static void checkout(souk_request *req, json_object *doc, struct line *body_lines, int body_count)
{
    const char *key = idempotency_key(req);
    if (key == (const char *)-1)
        return;
    PGconn *db = cart_db(req);
    if (!db)
        return;
    struct line *lines = body_lines ? body_lines : souk_calloc(MAX_LINES, sizeof *lines);
    char order_id[37];
    char err[300] = "";
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    if (!tx) {
        souk_http_fail_status(req, "cart database", st);
        goto out;
    }
    st = key ? find_previous(db, req->claims.sub, key, order_id) : SOUK_ENOTFOUND;
    if (st == SOUK_OK) {
        send_accepted(req, order_id, 1);
        goto out;
    }
    if (st != SOUK_ENOTFOUND) {
        souk_http_fail_status(req, "cart database", st);
        goto out;
    }
    int count = body_count;
    if (!body_lines) {
        count = load_cart(req, db, lines, 1);
        if (count < 0)
            goto out;
        if (count == 0) {
            souk_http_fail(req, 409, "CART_EMPTY", "the cart is empty", NULL);
            goto out;
        }
    }
    if (price_lines(req, lines, count, 1) != 0)
        goto out;
    st = place_order(req, tx, key, lines, count, json_object_object_get(doc, "shipping_address"),
                     text(doc, "payment_token"), body_lines == NULL, order_id, err, sizeof err);
    if (st == SOUK_OK)
        st = souk_tx_commit(tx);
    if (st == SOUK_ECONFLICT && key) {
        /* A concurrent request with the same key won: answer with its order. */
        souk_tx_free(tx);
        tx = NULL;
        st = find_previous(db, req->claims.sub, key, order_id);
        if (st == SOUK_OK)
            send_accepted(req, order_id, 1);
        else if (st == SOUK_ENOTFOUND)
            souk_http_fail(req, 409, "CONFLICT", "a concurrent request is being handled", NULL);
        else
            souk_http_fail_status(req, "cart database", st);
        goto out;
    }
    if (st != SOUK_OK) {
        souk_http_fail_status(req, err[0] ? err : "placing an order", st);
        goto out;
    }
    send_accepted(req, order_id, 0);
out:
    souk_tx_free(tx); /* rolls back what was not committed */
    if (!body_lines)
        free(lines);
    souk_dbpool_release(req->gw->cart, db);
}

void souk_shop_checkout(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    json_object *doc = souk_http_read_json(req, "checkout");
    if (!doc)
        return;
    checkout(req, doc, NULL, 0);
    json_object_put(doc);
}

void souk_shop_order_create(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    json_object *doc = souk_http_read_json(req, "order");
    if (!doc)
        return;
    json_object *items = json_object_object_get(doc, "items");
    struct line *lines = souk_calloc(MAX_LINES, sizeof *lines);
    int count = 0;
    /* The same product twice becomes one line (ids in any case: a UUID's hex
     * digits are case-insensitive). */
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *item = json_object_array_get_idx(items, i);
        const char *id = text(item, "product_id");
        int quantity = json_object_get_int(json_object_object_get(item, "quantity"));
        int merged = 0;
        for (int j = 0; j < count && !merged; j++) {
            if (strcasecmp(lines[j].product.id, id) == 0) {
                lines[j].quantity += quantity;
                merged = 1;
            }
        }
        if (!merged) {
            snprintf(lines[count].product.id, sizeof lines[count].product.id, "%s", id);
            lines[count++].quantity = quantity;
        }
    }
    checkout(req, doc, lines, count);
    free(lines);
    json_object_put(doc);
}

#define ORDER_COLUMNS                                                                              \
    "o.id, o.customer_id, o.status, o.cancel_reason, o.cancel_detail, o.currency, "                \
    "o.total_minor, o.payment_id, o.provider_ref, o.shipment_id, o.carrier, o.tracking_number, "   \
    "to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "              \
    "to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static json_object *nullable(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

static json_object *order_json(PGresult *res, int row)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(PQgetvalue(res, row, 0)));
    json_object_object_add(o, "customer_id", json_object_new_string(PQgetvalue(res, row, 1)));
    json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, row, 2)));
    json_object_object_add(o, "cancel_reason", nullable(res, row, 3));
    json_object_object_add(o, "cancel_detail", nullable(res, row, 4));
    json_object_object_add(o, "currency", json_object_new_string(PQgetvalue(res, row, 5)));
    json_object_object_add(o, "total_minor",
                           json_object_new_int64(strtoll(PQgetvalue(res, row, 6), NULL, 10)));
    json_object *payment = NULL;
    if (!PQgetisnull(res, row, 7)) {
        payment = json_object_new_object();
        json_object_object_add(payment, "payment_id", nullable(res, row, 7));
        json_object_object_add(payment, "provider_ref", nullable(res, row, 8));
    }
    json_object_object_add(o, "payment", payment);
    json_object *shipment = NULL;
    if (!PQgetisnull(res, row, 9)) {
        shipment = json_object_new_object();
        json_object_object_add(shipment, "shipment_id", nullable(res, row, 9));
        json_object_object_add(shipment, "carrier", nullable(res, row, 10));
        json_object_object_add(shipment, "tracking_number", nullable(res, row, 11));
    }
    json_object_object_add(o, "shipment", shipment);
    json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, row, 12)));
    json_object_object_add(o, "updated_at", json_object_new_string(PQgetvalue(res, row, 13)));
    return o;
}

static PGconn *orders_db(souk_request *req)
{
    return souk_http_db(req, req->gw->orders_read, "orders database");
}

void souk_shop_orders_list(souk_request *req)
{
    if (!souk_http_require_user(req))
        return;
    long limit, offset;
    if (souk_http_page(req, &limit, &offset))
        return;
    PGconn *db = orders_db(req);
    if (!db)
        return;
    char limit_s[16], offset_s[16];
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    snprintf(offset_s, sizeof offset_s, "%ld", offset);
    /* Admins see every order; customers their own. */
    const char *params[4] = {req->claims.sub, limit_s, offset_s, is_admin(req) ? "t" : "f"};
    PGresult *res =
        PQexecParams(db,
                     "SELECT " ORDER_COLUMNS ", count(*) OVER () FROM orders.gateway_orders o "
                     "WHERE $4::boolean OR o.customer_id = $1::uuid "
                     "ORDER BY o.created_at DESC, o.id LIMIT $2::int OFFSET $3::int",
                     4, NULL, params, NULL, NULL, 0);
    souk_status st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "listing orders", st);
    } else {
        souk_http_respond_page(req, res, order_json, limit, offset, 14);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->orders_read, db);
}

/* The placeholder of a checkout the gateway accepted but the order service
 * has not created yet (its CartCheckedOut is on the way): SOUK_OK with a
 * new *out, SOUK_ENOTFOUND when the caller has no such checkout, or the
 * failure to find out (an outage is never answered as "no such order"). */
static souk_status accepted_not_yet_created(souk_request *req, const char *order_id,
                                            json_object **out)
{
    *out = NULL;
    souk_status st;
    PGconn *db = souk_dbpool_acquire(req->gw->cart, &st);
    if (!db)
        return st;
    const char *params[3] = {order_id, req->claims.sub, is_admin(req) ? "t" : "f"};
    PGresult *res = souk_db_exec_prepared(
        db,
        "SELECT to_char(created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM checkouts WHERE order_id = $1 "
        "AND ($3::boolean OR customer_id = $2::uuid)",
        3, params);
    st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) != 1)
        st = SOUK_ENOTFOUND;
    if (st == SOUK_OK) {
        json_object *body = json_object_new_object();
        json_object_object_add(body, "id", json_object_new_string(order_id));
        json_object_object_add(body, "status", json_object_new_string("PENDING"));
        json_object_object_add(body, "cancel_reason", NULL);
        json_object_object_add(body, "lines", json_object_new_array());
        json_object_object_add(body, "created_at", json_object_new_string(PQgetvalue(res, 0, 0)));
        json_object_object_add(
            body, "note", json_object_new_string("accepted; the order service is creating it"));
        *out = body;
    }
    PQclear(res);
    souk_dbpool_release(req->gw->cart, db);
    return st;
}

/* The common start of the order endpoints: a signed-in caller and an order
 * id that can exist. Returns 1, or 0 after answering. */
static int open_order(souk_request *req)
{
    if (!souk_http_require_user(req))
        return 0;
    if (!souk_uuid_valid(req->params[0])) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such order", NULL);
        return 0;
    }
    return 1;
}

/* The order in row 0 of res with its lines into *out: SOUK_OK, or the
 * failure to read the lines (an order is never served without them). */
static souk_status order_with_lines(PGconn *db, PGresult *res, const char *const *params,
                                    json_object **out)
{
    PGresult *lines = souk_db_exec_prepared(
        db,
        "SELECT product_id, sku, name, quantity, unit_price_minor "
        "FROM orders.gateway_order_lines WHERE order_id = $1 ORDER BY line_no",
        1, params);
    souk_status st = souk_db_result_status(db, lines);
    if (st != SOUK_OK) {
        PQclear(lines);
        return st;
    }
    json_object *order = order_json(res, 0);
    json_object *items = json_object_new_array();
    for (int i = 0; i < PQntuples(lines); i++) {
        json_object *line = json_object_new_object();
        long long unit = strtoll(PQgetvalue(lines, i, 4), NULL, 10);
        long long quantity = strtoll(PQgetvalue(lines, i, 3), NULL, 10);
        json_object_object_add(line, "product_id", json_object_new_string(PQgetvalue(lines, i, 0)));
        json_object_object_add(line, "sku", nullable(lines, i, 1));
        json_object_object_add(line, "name", nullable(lines, i, 2));
        json_object_object_add(line, "quantity", json_object_new_int64(quantity));
        json_object_object_add(line, "unit_price_minor", json_object_new_int64(unit));
        json_object_object_add(line, "line_total_minor", json_object_new_int64(unit * quantity));
        json_object_array_add(items, line);
    }
    PQclear(lines);
    json_object_object_add(order, "lines", items);
    *out = order;
    return SOUK_OK;
}

/* Reads the order (or the placeholder of an accepted checkout) into *out.
 * Answers and returns -1 on an error or when there is no such order; the
 * database connection is given back before it returns, so a long poll
 * holds none while it waits. */
static int read_order(souk_request *req, const char *id, json_object **out)
{
    PGconn *db = orders_db(req);
    if (!db)
        return -1;
    const char *params[3] = {id, req->claims.sub, is_admin(req) ? "t" : "f"};
    PGresult *res = souk_db_exec_prepared(db,
                                          "SELECT " ORDER_COLUMNS
                                          " FROM orders.gateway_orders o WHERE o.id = $1 "
                                          "AND ($3::boolean OR o.customer_id = $2::uuid)",
                                          3, params);
    souk_status st = souk_db_result_status(db, res);
    *out = NULL;
    if (st == SOUK_OK && PQntuples(res) == 1)
        st = order_with_lines(db, res, params, out);
    else if (st == SOUK_OK)
        st = SOUK_ENOTFOUND;
    PQclear(res);
    souk_dbpool_release(req->gw->orders_read, db);
    if (st == SOUK_ENOTFOUND)
        st = accepted_not_yet_created(req, id, out);
    if (st == SOUK_ENOTFOUND) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such order", NULL);
        return -1;
    }
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "reading an order", st);
        return -1;
    }
    return 0;
}

/* The longest a GET /orders/{id}?wait= may hold its request thread. */
#define ORDER_WAIT_MAX_S 30

static int is_final(json_object *order)
{
    const char *status = json_object_get_string(json_object_object_get(order, "status"));
    return !status || strcmp(status, "COMPLETED") == 0 || strcmp(status, "CANCELLED") == 0;
}

/* Takes one of the caller's waiting slots; answers 429 and returns 0 when
 * it holds its share, or when the gateway's waiting share is taken. A wait
 * refused costs the caller a retry, never other clients their threads. */
static int take_wait_slot(souk_request *req)
{
    souk_wait_grant grant = souk_waitbudget_take(req->gw->waits, req->claims.sub);
    if (grant == SOUK_WAIT_GRANTED)
        return 1;
    souk_http_add_header(req, "Retry-After", "1");
    if (grant == SOUK_WAIT_OVER_CUSTOMER)
        souk_http_fail(req, 429, "TOO_MANY_WAITS",
                       "you hold as many waiting requests as one customer may; retry "
                       "without wait, or when one has ended",
                       NULL);
    else
        souk_http_fail(req, 429, "TOO_MANY_WAITS",
                       "the gateway holds as many waiting requests as it may; see Retry-After",
                       NULL);
    return 0;
}

/* GET /orders/{id}[?wait=S]: with wait, a long poll that answers as soon as
 * the order reaches a final state (COMPLETED or CANCELLED), or after S
 * seconds with the order as it is then. */
void souk_shop_order_get(souk_request *req)
{
    const char *id = req->params[0];
    if (!open_order(req))
        return;
    long wait_s = 0;
    if (souk_http_query_long(req, "wait", 0, 0, ORDER_WAIT_MAX_S, &wait_s) < 0)
        return;
    if (wait_s > 0 && !take_wait_slot(req))
        return;
    souk_orderwatch_waiter waiter;
    if (wait_s > 0)
        souk_orderwatch_join(req->gw->orders_watch, &waiter, id);
    double deadline = souk_monotonic_seconds() + (double)wait_s;
    json_object *order = NULL;
    int found = read_order(req, id, &order) == 0;
    /* Each wake-up, and the deadline, reads the order again: at the
     * deadline it is answered as it is then. */
    while (found && wait_s > 0 && !is_final(order)) {
        int changed = souk_orderwatch_wait(req->gw->orders_watch, &waiter, deadline);
        json_object_put(order);
        order = NULL;
        found = read_order(req, id, &order) == 0;
        if (!changed)
            break;
    }
    if (found)
        souk_http_respond(req, 200, order);
    json_object_put(order);
    if (wait_s > 0) {
        souk_orderwatch_leave(req->gw->orders_watch, &waiter);
        souk_waitbudget_give(req->gw->waits, req->claims.sub);
    }
}

void souk_shop_order_events(souk_request *req)
{
    const char *id = req->params[0];
    if (!open_order(req))
        return;
    PGconn *db = orders_db(req);
    if (!db)
        return;
    const char *params[3] = {id, req->claims.sub, is_admin(req) ? "t" : "f"};
    PGresult *owner = PQexecParams(db,
                                   "SELECT 1 FROM orders.gateway_orders WHERE id = $1 "
                                   "AND ($3::boolean OR customer_id = $2::uuid)",
                                   3, NULL, params, NULL, NULL, 0);
    souk_status st = souk_db_result_status(db, owner);
    int mine = st == SOUK_OK && PQntuples(owner) == 1;
    PQclear(owner);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "reading an order", st);
    } else if (!mine) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such order", NULL);
    } else {
        PGresult *res = PQexecParams(
            db,
            "SELECT type, producer, message_id, "
            "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
            "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
            "FROM orders.gateway_order_events WHERE order_id = $1 ORDER BY occurred_at, id",
            1, NULL, params, NULL, NULL, 0);
        st = souk_db_result_status(db, res);
        json_object *body = json_object_new_object();
        json_object *events = json_object_new_array();
        for (int i = 0; st == SOUK_OK && i < PQntuples(res); i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "type", json_object_new_string(PQgetvalue(res, i, 0)));
            json_object_object_add(e, "service", json_object_new_string(PQgetvalue(res, i, 1)));
            json_object_object_add(e, "message_id", json_object_new_string(PQgetvalue(res, i, 2)));
            json_object_object_add(e, "at", json_object_new_string(PQgetvalue(res, i, 3)));
            json_object_object_add(e, "recorded_at", json_object_new_string(PQgetvalue(res, i, 4)));
            json_object_array_add(events, e);
        }
        PQclear(res);
        json_object_object_add(body, "order_id", json_object_new_string(id));
        json_object_object_add(body, "events", events);
        if (st == SOUK_OK)
            souk_http_respond(req, 200, body);
        else
            souk_http_fail_status(req, "reading an order's events", st);
        json_object_put(body);
    }
    souk_dbpool_release(req->gw->orders_read, db);
}
