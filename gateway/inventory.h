/* The inventory endpoints over the inventory service's stock: any signed-in
 * caller reads a product's stock (on_hand, reserved, available, sold); an
 * admin sets it (on_hand) or adjusts it (delta), never below zero nor below
 * what open orders hold reserved (409). */
#ifndef SOUK_GATEWAY_INVENTORY_H
#define SOUK_GATEWAY_INVENTORY_H

#include "gateway/http.h"

void souk_inventory_get(souk_request *req); /* GET /inventory/{product_id} */
void souk_inventory_set(souk_request *req); /* PUT /inventory/{product_id} */

#endif
