/* The transactional outbox. A handler (or a gateway request) adds the events
 * it emits through its unit of work (events/tx.h), inside the same
 * transaction as its state change, so both commit or neither does. A relay
 * thread per process publishes pending rows in batches with publisher
 * confirms, marks them sent only once confirmed, and purges sent rows after
 * the retention period. Rows are claimed with FOR UPDATE SKIP LOCKED, so any
 * number of processes can relay one outbox. The unit of work's commit wakes
 * the relays of its own process (every service relays the outbox it
 * writes); rows written by another process are found by
 * souk_tx_notify_relays or, failing that, by the relay's fallback poll
 * (SOUK_OUTBOX_POLL_MS). Each row carries the trace context of its
 * message, which the relay publishes as it is, and when spans are exported
 * the relay records each message's publish span (from the row's write to
 * the broker's confirm). */
#ifndef SOUK_EVENTS_OUTBOX_H
#define SOUK_EVENTS_OUTBOX_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"
#include "core/trace.h"
#include "events/topology.h"

typedef struct souk_outbox_event {
    souk_event_type type;
    const char *correlation_id; /* the order id */
    const char *causation_id;   /* message that caused this one, or NULL */
    const char *request_id;     /* HTTP request behind it, or NULL */
    json_object *payload;       /* borrowed; checked against the event's schema */
    /* The span that emits it (the request's, the message's process span),
     * the parent of its publish span; NULL: the event starts a trace. */
    const souk_trace_ctx *trace;
} souk_outbox_event;

/* What the row of an event holds besides ev: its new message id and its
 * trace context, that of its publish span (a child of ev->trace), which
 * the relay publishes as the message's traceparent and tracestate; and the
 * id of the span that emitted it, the publish span's parent, so that the
 * relay (of any process) can record the span it ends at the confirm. */
typedef struct souk_outbox_row_text {
    char message_id[37];
    char traceparent[SOUK_TRACEPARENT_LEN + 1];
    char parent_span_id[17];
} souk_outbox_row_text;

/* The row of ev, for the unit of work (events/tx.h, which every writer
 * adds events through): checks ev against its event's schema (SOUK_ESCHEMA
 * with the reason in err) and fills the parameters of
 * souk_outbox_insert_sql (they point into text, ev and ev->payload, which
 * must outlive their use). */
#define SOUK_OUTBOX_PARAMS 10
extern const char souk_outbox_insert_sql[];
souk_status souk_outbox_row(const souk_outbox_event *ev, souk_outbox_row_text *text,
                            const char *params[SOUK_OUTBOX_PARAMS], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Wakes this process's relays: called by souk_tx_commit after a commit
 * that added outbox rows. */
void souk_outbox_wake_relays(void);

/* The relay marks sent exactly the rows the broker confirmed: given the
 * ids of a claimed batch (decimal bigints) and each row's publish result,
 * returns a new PostgreSQL array literal "{id,...}" of the ids whose
 * result is SOUK_OK, in batch order, and their count in *confirmed (the
 * caller frees the text; "{}" when none). */
#define SOUK_OUTBOX_ID_CAP 24
char *souk_outbox_confirmed_ids(const char (*ids)[SOUK_OUTBOX_ID_CAP], const souk_status *results,
                                int rows, int *confirmed) __attribute__((warn_unused_result));

typedef struct souk_relay souk_relay;

/* Starts a relay thread for schema's outbox, publishing as service. cfg
 * must outlive the relay. Returns NULL with *status set on failure. */
souk_relay *souk_relay_start(const souk_config *cfg, souk_db_schema schema, souk_service service,
                             souk_status *status) __attribute__((warn_unused_result));

/* Stops the thread after its current batch and frees the relay; accepts NULL. */
void souk_relay_stop(souk_relay *relay);

/* Rows published since start (for metrics and tests). */
unsigned long long souk_relay_published(const souk_relay *relay);

#endif
