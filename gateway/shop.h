/* The shop endpoints of the checkout saga: inventory reads and admin stock
 * changes, the signed-in customer's cart, checkout and direct orders (both
 * emit CartCheckedOut through the cart outbox, idempotent on the
 * Idempotency-Key header), and order queries over the order service's read
 * model. A customer sees only their own cart and orders: someone else's
 * order answers 404, exactly like an order that does not exist. */
#ifndef SOUK_GATEWAY_SHOP_H
#define SOUK_GATEWAY_SHOP_H

#include "gateway/http.h"

void souk_shop_inventory_get(souk_request *req); /* GET /inventory/{product_id} */
void souk_shop_inventory_set(souk_request *req); /* PUT /inventory/{product_id} */
void souk_shop_cart_get(souk_request *req);      /* GET /cart */
void souk_shop_cart_add(souk_request *req);      /* POST /cart/items */
void souk_shop_cart_set(souk_request *req);      /* PUT /cart/items/{product_id} */
void souk_shop_cart_remove(souk_request *req);   /* DELETE /cart/items/{product_id} */
void souk_shop_checkout(souk_request *req);      /* POST /cart/checkout */
void souk_shop_order_create(souk_request *req);  /* POST /orders */
void souk_shop_orders_list(souk_request *req);   /* GET /orders */
void souk_shop_order_get(souk_request *req);     /* GET /orders/{id} */
void souk_shop_order_events(souk_request *req);  /* GET /orders/{id}/events */

#endif
