/* The payment service's handlers and per-thread provider client. */
#ifndef SOUK_WORKERS_PAYMENT_H
#define SOUK_WORKERS_PAYMENT_H

#include "workers/handler.h"

/* Fills in the payment service's handlers. */
void souk_payment_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

/* Per consumer thread state: the provider client. */
void *souk_payment_thread_init(const souk_config *cfg);
void souk_payment_thread_free(void *state);

#endif
