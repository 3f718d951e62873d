/* The worker runtime: a pool of consumer threads for one service, each with
 * its own AMQP connection and PostgreSQL connection. Each delivery runs
 * inbox + handler + outbox in one transaction, then is acked; RETRY goes to
 * the retry queues, REJECT and exhausted retries to <queue>.dlq. */
#ifndef SOUK_WORKERS_RUNTIME_H
#define SOUK_WORKERS_RUNTIME_H

#include "core/config.h"
#include "events/topology.h"

typedef struct souk_runtime souk_runtime;
struct souk_service_def;

/* The most messages a consumer of def takes into one transaction under
 * cfg: def->batch_max (0 or less: SOUK_BATCH_CAP), capped at SOUK_BATCH_CAP,
 * the size of the runtime's per-batch arrays, and at SOUK_PREFETCH, the
 * most unacknowledged deliveries the broker sends a consumer. At least 1. */
int souk_runtime_batch_limit(const struct souk_service_def *def, const souk_config *cfg);

/* The order in which a consumer handles a batch of count deliveries:
 * writes into todo (room for count) the indexes of those to handle
 * (handle[i] non-zero; the others are settled without a handler), sorted
 * by order id (order_ids[i]), and returns how many. Every batch then locks
 * each order's rows in one global order, so two batches cannot deadlock on
 * them; deliveries of one order keep their arrival order, so its events
 * are handled as they came. */
int souk_runtime_batch_order(int count, const char *const *order_ids, const int *handle, int *todo);

/* Starts concurrency consumer threads for service. Returns NULL with *status
 * set if threads cannot be created. cfg must outlive the runtime. */
souk_runtime *souk_runtime_start(const souk_config *cfg, souk_service service, int concurrency,
                                 souk_status *status) __attribute__((warn_unused_result));

/* Asks every thread to finish the message in hand, ack it and stop.
 * Async-signal-safe. */
void souk_runtime_request_stop(void);

/* Waits for the threads to stop and frees the runtime. */
void souk_runtime_join(souk_runtime *rt);

#endif
