/* Waiting for an order to finish, for long-polling GET /orders/{id}?wait=.
 * The orders schema notifies channel orders_status (payload: the order id)
 * when an order reaches a final state; one listener thread per gateway
 * process wakes the request threads waiting on that order. A waiter is
 * registered before the order is read, so a change committed between the
 * read and the wait still wakes it. */
#ifndef SOUK_GATEWAY_ORDERWATCH_H
#define SOUK_GATEWAY_ORDERWATCH_H

#include <pthread.h>

#include "core/config.h"

typedef struct souk_orderwatch souk_orderwatch;

/* One request waiting on one order; lives on the request thread's stack
 * between souk_orderwatch_join and souk_orderwatch_leave. */
typedef struct souk_orderwatch_waiter {
    struct souk_orderwatch_waiter *next;
    struct souk_orderwatch_waiter *prev;
    char order_id[37];
    int changed; /* set by a notification, cleared by souk_orderwatch_wait */
    pthread_cond_t cond;
} souk_orderwatch_waiter;

/* Starts the listener (as the orders gateway role). cfg must outlive it.
 * Returns NULL when its thread cannot start. */
souk_orderwatch *souk_orderwatch_new(const souk_config *cfg) __attribute__((warn_unused_result));

/* Wakes every waiter and makes later waits return at once, so that a
 * server stop is not held up by long polls. */
void souk_orderwatch_shutdown(souk_orderwatch *watch);

/* 1 once souk_orderwatch_shutdown was called: a request waiting on
 * something else (gateway/longpoll.h) answers now. */
int souk_orderwatch_stopping(souk_orderwatch *watch);

/* Stops the listener and frees watch; no waiter may remain. NULL is ignored. */
void souk_orderwatch_free(souk_orderwatch *watch);

/* Registers waiter for changes of order_id (a UUID) from now on. */
void souk_orderwatch_join(souk_orderwatch *watch, souk_orderwatch_waiter *waiter,
                          const char *order_id);

/* Blocks until the order changed since the last wait (or since joining),
 * the listener reconnected (changes may have been missed), the watch is
 * shutting down, or the time deadline_s (souk_monotonic_seconds) passes. Returns 1
 * after a change or reconnection, 0 at the deadline or when shutting down
 * (then the caller should answer with what it has). */
int souk_orderwatch_wait(souk_orderwatch *watch, souk_orderwatch_waiter *waiter, double deadline_s);

/* Unregisters waiter. */
void souk_orderwatch_leave(souk_orderwatch *watch, souk_orderwatch_waiter *waiter);

#endif
