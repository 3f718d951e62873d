/* The cart endpoints: the signed-in customer's cart (one line per product,
 * at most 1000 units each), priced from the catalog when it is read. A
 * product deleted since it was added no longer shows. */
#ifndef SOUK_GATEWAY_CART_H
#define SOUK_GATEWAY_CART_H

#include <libpq-fe.h>

#include "gateway/catalog.h"
#include "gateway/http.h"

/* An order can hold at most this many lines (the order schema's maxItems). */
#define SOUK_CART_MAX_LINES 100

/* A line of a cart or an order: the product (only its id until priced) and
 * the units. */
typedef struct souk_cart_line {
    souk_product product;
    int quantity;
} souk_cart_line;

/* Loads the caller's cart lines into lines (room for SOUK_CART_MAX_LINES),
 * oldest first, with FOR UPDATE when lock (in the caller's transaction on
 * db). Returns the count, or -1 after answering. */
int souk_cart_load(souk_request *req, PGconn *db, souk_cart_line *lines, int lock);

void souk_cart_get(souk_request *req);    /* GET /cart */
void souk_cart_add(souk_request *req);    /* POST /cart/items */
void souk_cart_set(souk_request *req);    /* PUT /cart/items/{product_id} */
void souk_cart_remove(souk_request *req); /* DELETE /cart/items/{product_id} */

#endif
