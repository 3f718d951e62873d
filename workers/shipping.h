/* The shipping service's handlers. */
#ifndef SOUK_WORKERS_SHIPPING_H
#define SOUK_WORKERS_SHIPPING_H

#include "workers/handler.h"

/* Fills in the shipping service's handlers. */
void souk_shipping_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

#endif
