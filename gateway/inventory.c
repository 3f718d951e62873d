/* The inventory endpoints: a product's stock, and the admin's changes to it
 * through inventory's admin functions. */
#include "gateway/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "gateway/catalog.h"

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

void souk_inventory_get(souk_request *req)
{
    if (!souk_catalog_require(req, req->params[0], NULL))
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

void souk_inventory_set(souk_request *req)
{
    /* the stock schema's oneOf: exactly one of on_hand and delta */
    json_object *on_hand = NULL, *delta = NULL;
    int has_on_hand = json_object_object_get_ex(req->body, "on_hand", &on_hand);
    json_object_object_get_ex(req->body, "delta", &delta);
    if (!souk_catalog_require(req, req->params[0], NULL))
        return;
    char amount[32];
    snprintf(amount, sizeof amount, "%lld",
             (long long)json_object_get_int64(has_on_hand ? on_hand : delta));
    PGconn *db = souk_http_db(req, req->gw->inventory_read, "inventory database");
    if (!db)
        return;
    souk_status st;
    const char *params[2] = {req->params[0], amount};
    PGresult *res = PQexecParams(
        db,
        has_on_hand
            ? "SELECT on_hand, reserved, sold FROM inventory.admin_set_stock($1::uuid, $2::int)"
            : "SELECT on_hand, reserved, sold FROM inventory.admin_adjust_stock($1::uuid, $2::int)",
        2, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st == SOUK_EDB && strcmp(souk_db_sqlstate(res), "23514") == 0) {
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
}
