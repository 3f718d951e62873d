/* The signed-in customer's cart. */
#include "gateway/cart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"

int souk_cart_load(souk_request *req, PGconn *db, souk_cart_line *lines, int lock)
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
    int n = PQntuples(res) < SOUK_CART_MAX_LINES ? PQntuples(res) : SOUK_CART_MAX_LINES;
    for (int i = 0; i < n; i++) {
        memset(&lines[i], 0, sizeof lines[i]);
        snprintf(lines[i].product.id, sizeof lines[i].product.id, "%s", PQgetvalue(res, i, 0));
        lines[i].quantity = (int)strtol(PQgetvalue(res, i, 1), NULL, 10);
    }
    PQclear(res);
    return n;
}

static json_object *lines_json(const souk_cart_line *lines, int count, long long *total)
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
    souk_cart_line *lines = souk_calloc(SOUK_CART_MAX_LINES, sizeof *lines);
    int n = souk_cart_load(req, db, lines, 0);
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

void souk_cart_get(souk_request *req)
{
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
    if (st == SOUK_EDB && strcmp(souk_db_sqlstate(res), "23514") == 0)
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

void souk_cart_add(souk_request *req)
{
    json_object *doc = req->body;
    souk_product product;
    const char *product_id = souk_http_json_text(doc, "product_id");
    int known = souk_catalog_require(req, product_id, &product); /* answered when not */
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
}

void souk_cart_set(souk_request *req)
{
    json_object *doc = req->body;
    if (!souk_uuid_valid(req->params[0]))
        souk_http_fail(req, 404, "NOT_FOUND", "this product is not in the cart", NULL);
    else
        change_cart_item(req, doc, req->params[0],
                         "UPDATE cart_items SET quantity = $3::int "
                         "WHERE customer_id = $1 AND product_id = $2",
                         "changing the cart");
}

void souk_cart_remove(souk_request *req)
{
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
