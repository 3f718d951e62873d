/* A worker's own Prometheus counters: messages consumed, handled,
 * duplicates, retried, dead-lettered, requeued, handler latency, and its
 * outbox backlog and age, and its span export counts (core/otlp.h),
 * served on SOUK_METRICS_PORT at /metrics. */
#ifndef SOUK_WORKERS_METRICS_H
#define SOUK_WORKERS_METRICS_H

#include "core/config.h"
#include "events/topology.h"

typedef enum souk_worker_outcome {
    SOUK_OUTCOME_HANDLED,
    SOUK_OUTCOME_DUPLICATE,
    SOUK_OUTCOME_RETRIED,
    SOUK_OUTCOME_DEAD_LETTERED,
    SOUK_OUTCOME_REQUEUED,
    SOUK_OUTCOME_COUNT
} souk_worker_outcome;

/* "handled", "duplicate", "retried", "dead_lettered", "requeued". */
const char *souk_worker_outcome_name(souk_worker_outcome outcome);

/* Counts one message with its outcome and, for handled ones, the seconds
 * the handler took. Lock-free; callable from any thread. */
void souk_worker_metrics_count(souk_worker_outcome outcome, double handler_seconds);

typedef struct souk_worker_metrics_server souk_worker_metrics_server;

/* Serves /metrics on SOUK_METRICS_PORT; NULL when the port is 0 or taken
 * (logged). The outbox backlog is read from schema when with_outbox. */
souk_worker_metrics_server *souk_worker_metrics_start(const souk_config *cfg, souk_service service,
                                                      int with_outbox);

void souk_worker_metrics_stop(souk_worker_metrics_server *server);

#endif
