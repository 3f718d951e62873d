/* The inventory service's handlers. */
#ifndef SOUK_WORKERS_INVENTORY_H
#define SOUK_WORKERS_INVENTORY_H

#include "workers/handler.h"

/* Fills in the inventory service's handlers. */
void souk_inventory_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

/* Locks, in product order, the stock rows a batch of messages for the given
 * orders will touch: the products of OrderCreated lines and those of the
 * orders' open reservations. See souk_service_def.batch_lock. */
int souk_inventory_batch_lock(souk_tx *tx, json_object *const *payloads,
                              const char *const *order_ids, int n);

#endif
