/* The contract between the worker runtime and a service's handlers. The
 * runtime begins a unit of work (events/tx.h), records the message in the
 * service's inbox, and calls the handler for the event type; the handler
 * writes its effect and emits its events through ctx->tx (workers/saga.h),
 * inside that same transaction. The runtime commits on OK and only then
 * acks. */
#ifndef SOUK_WORKERS_HANDLER_H
#define SOUK_WORKERS_HANDLER_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"
#include "events/envelope.h"
#include "events/topology.h"
#include "events/tx.h"

typedef enum souk_handler_result {
    SOUK_HANDLE_OK,     /* effect done; commit and ack */
    SOUK_HANDLE_RETRY,  /* transient failure; roll back and retry later */
    SOUK_HANDLE_REJECT, /* permanent failure; roll back and dead-letter */
} souk_handler_result;

typedef struct souk_handler_ctx {
    const souk_config *cfg;
    souk_service service;
    souk_tx *tx;              /* the message's unit of work */
    const souk_envelope *msg; /* the delivered message */
    json_object *payload;     /* parsed and schema-checked body; owned by the runtime */
    void *service_state;      /* per consumer thread, from the service's init */
    char error[256];          /* why, on RETRY or REJECT */
} souk_handler_ctx;

typedef souk_handler_result (*souk_handler_fn)(souk_handler_ctx *ctx);

/* The most messages the runtime takes into one transaction: the size of
 * its per-batch arrays. A definition's batch_max above it is capped
 * (souk_runtime_batch_limit in workers/runtime.h). */
#define SOUK_BATCH_CAP 32

/* A service: its handlers by event type, and optional per-thread state. */
typedef struct souk_service_def {
    souk_service service;
    souk_db_schema schema;
    souk_handler_fn handlers[SOUK_EVENT_COUNT];
    /* most messages handled in one transaction; 0 (or less) for
     * SOUK_BATCH_CAP; never more than SOUK_BATCH_CAP nor SOUK_PREFETCH */
    int batch_max;
    /* For a service whose handlers lock rows shared across orders
     * (inventory's stock rows): called at the start of a transaction of
     * several messages, before their handlers, to lock every such row the
     * batch needs in one global order, so that no two transactions lock
     * them in opposite orders. payloads[i] may be NULL. Returns 0, or -1
     * when the locks were not taken (the messages then run one per
     * transaction). */
    int (*batch_lock)(souk_tx *tx, json_object *const *payloads, const char *const *order_ids,
                      int n);
    void *(*thread_init)(const souk_config *cfg);
    void (*thread_free)(void *state);
} souk_service_def;

/* The definition of service; never NULL for a worker service. */
const souk_service_def *souk_service_definition(souk_service service);

#endif
