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

void souk_orders_list(souk_request *req);   /* GET /orders */
void souk_orders_get(souk_request *req);    /* GET /orders/{id}[?wait=S] */
void souk_orders_events(souk_request *req); /* GET /orders/{id}/events */

#endif
