/* Checkout and direct orders: both record the order request for its
 * Idempotency-Key and add CartCheckedOut to the cart outbox in one
 * transaction (the checkout also empties the cart). */
#include "gateway/checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/outbox.h"
#include "events/tx.h"
#include "gateway/cart.h"
#include "gateway/catalog.h"

/* Prices every line from the catalog. Returns 0, or -1 after answering
 * (a product gone or inactive is a 409 naming it). */
static int price_lines(souk_request *req, souk_cart_line *lines, int count, int for_checkout)
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
                               const souk_cart_line *lines, int count, json_object *address,
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
                            .payload = payload,
                            .trace = &req->trace};
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
static void checkout(souk_request *req, json_object *doc, souk_cart_line *body_lines,
                     int body_count)
{
    const char *key = idempotency_key(req);
    if (key == (const char *)-1)
        return;
    PGconn *db = souk_http_db(req, req->gw->cart, "cart database");
    if (!db)
        return;
    souk_cart_line *lines =
        body_lines ? body_lines : souk_calloc(SOUK_CART_MAX_LINES, sizeof *lines);
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
        count = souk_cart_load(req, db, lines, 1);
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
                     souk_http_json_text(doc, "payment_token"), body_lines == NULL, order_id, err,
                     sizeof err);
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

void souk_checkout_cart(souk_request *req)
{
    checkout(req, req->body, NULL, 0);
}

void souk_checkout_order(souk_request *req)
{
    json_object *doc = req->body;
    json_object *items = json_object_object_get(doc, "items");
    souk_cart_line *lines = souk_calloc(SOUK_CART_MAX_LINES, sizeof *lines);
    int count = 0;
    /* The same product twice becomes one line (ids in any case: a UUID's hex
     * digits are case-insensitive). */
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *item = json_object_array_get_idx(items, i);
        const char *id = souk_http_json_text(item, "product_id");
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
}
