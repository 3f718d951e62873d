/* The endpoints that start the checkout saga: checking out the cart and
 * ordering items directly. Both answer 202 with the order id and Location
 * once CartCheckedOut is committed to the cart outbox (the order service
 * creates the order from it), and are idempotent on the Idempotency-Key
 * header: a repeated key answers with the same order (Idempotent-Replayed). */
#ifndef SOUK_GATEWAY_CHECKOUT_H
#define SOUK_GATEWAY_CHECKOUT_H

#include "gateway/http.h"

void souk_checkout_cart(souk_request *req);  /* POST /cart/checkout */
void souk_checkout_order(souk_request *req); /* POST /orders */

#endif
