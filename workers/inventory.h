/* The inventory service's handlers. */
#ifndef SOUK_WORKERS_INVENTORY_H
#define SOUK_WORKERS_INVENTORY_H

#include "workers/handler.h"

/* Fills in the inventory service's handlers. */
void souk_inventory_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

#endif
