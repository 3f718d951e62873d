/* The order service's handlers and its saga deadline thread. */
#ifndef SOUK_WORKERS_ORDER_H
#define SOUK_WORKERS_ORDER_H

#include "workers/handler.h"

/* Fills in the order service's handlers. */
void souk_order_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

typedef struct souk_order_deadline souk_order_deadline;

/* Starts the thread that cancels orders past their deadline (timed_out).
 * NULL if the thread cannot start. */
souk_order_deadline *souk_order_deadline_start(const souk_config *cfg);

/* Stops and frees it; accepts NULL. */
void souk_order_deadline_stop(souk_order_deadline *deadline);

#endif
