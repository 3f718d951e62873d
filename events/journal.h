/* The journal: every delivery a consumer settles is a hop, recorded in the
 * service's own schema (sql/common/journal.sql) with the message's ids, its
 * trace and span ids, its times (published, delivered, handler start and
 * end, committed) and its outcome. Hops of deliveries that took effect
 * (handled, replayed, duplicate) are written inside the batch's unit of
 * work with one statement for the batch, so they commit with the effect and
 * cost no commit of their own; hops of deliveries whose transaction was
 * rolled back (retry scheduled, dead-lettered) are written once their
 * retry or dead letter is confirmed. What a service publishes is recorded
 * by its outbox rows (published_at, sent_at). SOUK_JOURNAL=off records
 * nothing (to measure what it costs); SOUK_JOURNAL_RETENTION_S bounds how
 * long hops are kept. */
#ifndef SOUK_EVENTS_JOURNAL_H
#define SOUK_EVENTS_JOURNAL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "core/trace.h"
#include "events/envelope.h"
#include "events/tx.h"

typedef enum souk_hop_outcome {
    SOUK_HOP_HANDLED,
    SOUK_HOP_DUPLICATE,       /* its message id was in the inbox: nothing changed */
    SOUK_HOP_RETRY_SCHEDULED, /* sent to a retry queue */
    SOUK_HOP_DEAD_LETTERED,   /* sent to the dead-letter queue */
    SOUK_HOP_REPLAYED,        /* handled, after coming back from a dead-letter queue */
} souk_hop_outcome;

typedef struct souk_journal_hop {
    const souk_envelope *msg; /* the delivery as decoded */
    souk_hop_outcome outcome;
    int attempt;                /* 1 for the first delivery, n after n-1 failures */
    long retry_delay_ms;        /* SOUK_HOP_RETRY_SCHEDULED: until the next attempt; else -1 */
    const char *reason;         /* retry or dead letter: why; else NULL */
    const souk_trace_ctx *span; /* the delivery's process span */
    /* microseconds since the epoch; 0: did not happen */
    int64_t delivered_us, handler_started_us, handler_ended_us;
} souk_journal_hop;

/* "handled", "duplicate", "retry_scheduled", "dead_lettered", "replayed". */
const char *souk_journal_outcome_name(souk_hop_outcome outcome);

/* True unless SOUK_JOURNAL=off. */
int souk_journal_enabled(const souk_config *cfg);

/* Records n hops settled by queue inside tx (one statement). Returns
 * SOUK_OK or the failure, which aborts the tx. */
souk_status souk_journal_record(souk_tx *tx, const char *queue, const souk_journal_hop *hops, int n)
    __attribute__((warn_unused_result));

/* The same on db outside any transaction, for hops whose transaction was
 * rolled back. */
souk_status souk_journal_record_settled(PGconn *db, const char *queue, const souk_journal_hop *hops,
                                        int n) __attribute__((warn_unused_result));

/* Deletes the hops recorded more than retention_s seconds ago; *deleted
 * (when not NULL) receives how many. */
souk_status souk_journal_purge(PGconn *db, long retention_s, long *deleted)
    __attribute__((warn_unused_result));

#endif
