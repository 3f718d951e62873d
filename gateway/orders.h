/* The order endpoints over the order service's read model: a customer's
 * orders, one order with its lines, payment and shipment (or, before the
 * order service has created it, the accepted checkout), its timeline, and a
 * long poll that answers when the order is final. A customer sees only
 * their own orders, admins every order: someone else's order answers 404,
 * exactly like an order that does not exist. */
#ifndef SOUK_GATEWAY_ORDERS_H
#define SOUK_GATEWAY_ORDERS_H

#include "gateway/http.h"

/* The longest a GET /orders/{id}?wait= may hold its request thread. */
#define SOUK_ORDERS_WAIT_MAX_S 30

/* The common start of the endpoints of one order: an id that can be an
 * order's. Returns 1, or 0 after answering 404 (as for a missing order). */
int souk_orders_open(souk_request *req);

/* The checkout the gateway accepted for order_id (the caller's, or any for
 * an admin), for an order the order service may not have created yet:
 * SOUK_OK with the time it was accepted (ISO 8601) in created_at,
 * SOUK_ENOTFOUND when there is none the caller may see, or the failure to
 * find out. */
souk_status souk_orders_checkout_time(souk_request *req, const char *order_id, char created_at[32])
    __attribute__((warn_unused_result));

void souk_orders_list(souk_request *req);   /* GET /orders */
void souk_orders_get(souk_request *req);    /* GET /orders/{id}[?wait=S] */
void souk_orders_events(souk_request *req); /* GET /orders/{id}/events */

#endif
