/* Order queries over the order service's read model, and the long poll. */
#include "gateway/orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "gateway/longpoll.h"
#include "gateway/orderwatch.h"

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

void souk_orders_list(souk_request *req)
{
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
    const char *params[4] = {req->claims.sub, limit_s, offset_s,
                             souk_http_is_admin(req) ? "t" : "f"};
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

souk_status souk_orders_checkout_time(souk_request *req, const char *order_id, char created_at[32])
{
    souk_status st;
    PGconn *db = souk_dbpool_acquire(req->gw->cart, &st);
    if (!db)
        return st;
    const char *params[3] = {order_id, req->claims.sub, souk_http_is_admin(req) ? "t" : "f"};
    PGresult *res = souk_db_exec_prepared(
        db,
        "SELECT to_char(created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM checkouts WHERE order_id = $1 "
        "AND ($3::boolean OR customer_id = $2::uuid)",
        3, params);
    st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) != 1)
        st = SOUK_ENOTFOUND;
    if (st == SOUK_OK)
        snprintf(created_at, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    souk_dbpool_release(req->gw->cart, db);
    return st;
}

/* The placeholder of a checkout the gateway accepted but the order service
 * has not created yet (its CartCheckedOut is on the way): SOUK_OK with a
 * new *out, SOUK_ENOTFOUND when the caller has no such checkout, or the
 * failure to find out (an outage is never answered as "no such order"). */
static souk_status accepted_not_yet_created(souk_request *req, const char *order_id,
                                            json_object **out)
{
    *out = NULL;
    char created_at[32];
    souk_status st = souk_orders_checkout_time(req, order_id, created_at);
    if (st != SOUK_OK)
        return st;
    json_object *body = json_object_new_object();
    json_object_object_add(body, "id", json_object_new_string(order_id));
    json_object_object_add(body, "status", json_object_new_string("PENDING"));
    json_object_object_add(body, "cancel_reason", NULL);
    json_object_object_add(body, "lines", json_object_new_array());
    json_object_object_add(body, "created_at", json_object_new_string(created_at));
    json_object_object_add(body, "note",
                           json_object_new_string("accepted; the order service is creating it"));
    *out = body;
    return SOUK_OK;
}

int souk_orders_open(souk_request *req)
{
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
    const char *params[3] = {id, req->claims.sub, souk_http_is_admin(req) ? "t" : "f"};
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

static int is_final(json_object *order)
{
    const char *status = json_object_get_string(json_object_object_get(order, "status"));
    return !status || strcmp(status, "COMPLETED") == 0 || strcmp(status, "CANCELLED") == 0;
}

/* GET /orders/{id}[?wait=S]: with wait, a long poll that answers as soon as
 * the order reaches a final state (COMPLETED or CANCELLED), or after S
 * seconds with the order as it is then. */
void souk_orders_get(souk_request *req)
{
    const char *id = req->params[0];
    if (!souk_orders_open(req))
        return;
    long wait_s = 0;
    if (souk_http_query_long(req, "wait", 0, 0, SOUK_ORDERS_WAIT_MAX_S, &wait_s) < 0)
        return;
    if (wait_s > 0 && !souk_longpoll_take(req))
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
        souk_longpoll_give(req);
    }
}

void souk_orders_events(souk_request *req)
{
    const char *id = req->params[0];
    if (!souk_orders_open(req))
        return;
    PGconn *db = orders_db(req);
    if (!db)
        return;
    const char *params[3] = {id, req->claims.sub, souk_http_is_admin(req) ? "t" : "f"};
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
