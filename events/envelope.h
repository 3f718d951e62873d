/* The event envelope: AMQP properties and headers of every Souk message, as
 * ARCHITECTURE.md lists them, decoded into a typed view so that handlers
 * never touch raw frames.
 *   properties: message_id (UUID), correlation_id (order id), type (event),
 *               timestamp, app_id (producer), content_type application/json,
 *               delivery_mode persistent
 *   headers:    causation_id, schema_version, request_id, occurred_at (ISO 8601
 *               with milliseconds, as timestamp has only seconds), traceparent and
 *               tracestate (W3C trace context of the span that published it:
 *               core/trace.h), and on retries and
 *               dead letters x-souk-attempts, x-souk-error,
 *               x-souk-original-exchange, x-souk-first-failure, and on a
 *               message replayed from a dead-letter queue x-souk-replayed;
 *               x-souk-published-at (microseconds since the epoch) is
 *               stamped by every publish, so a consumer knows how long this
 *               delivery waited in its queue */
#ifndef SOUK_EVENTS_ENVELOPE_H
#define SOUK_EVENTS_ENVELOPE_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/trace.h"

#define SOUK_ID_CAP 64

typedef struct souk_envelope {
    char message_id[SOUK_ID_CAP];
    char correlation_id[SOUK_ID_CAP];
    char type[SOUK_ID_CAP];
    char app_id[SOUK_ID_CAP];
    char causation_id[SOUK_ID_CAP];
    char request_id[SOUK_ID_CAP];
    char original_exchange[SOUK_ID_CAP];
    char first_failure[SOUK_ID_CAP];
    char occurred_at[SOUK_ID_CAP]; /* ISO 8601 with ms: when the producer committed it */
    char error[512];
    /* as received: an invalid one is kept (and republished) as it came, and
     * consumers start a new trace for it (souk_trace_parse) */
    char traceparent[SOUK_TRACEPARENT_LEN + 8];
    char tracestate[SOUK_TRACESTATE_MAX + 1];
    int64_t timestamp; /* seconds since the epoch */
    int schema_version;
    int attempts;            /* failed attempts so far */
    int replayed;            /* times replayed from a dead-letter queue */
    int64_t published_at_us; /* when this copy was published; 0 unknown */
    char *body;              /* owned, NUL-terminated */
    size_t body_len;
} souk_envelope;

/* Fills out from a delivered message. Missing required properties
 * (message_id, type, correlation_id) give SOUK_EPARSE with a reason in err;
 * out is still filled as far as possible so it can be dead-lettered.
 * out->body is a new copy; release with souk_envelope_clear. */
souk_status souk_envelope_decode(const amqp_message_t *message, const char *exchange,
                                 souk_envelope *out, char *err, size_t errlen);

/* Frees the body; accepts a zeroed envelope. */
void souk_envelope_clear(souk_envelope *env);

/* Builds properties and headers for publishing env at published_at_us (0:
 * no x-souk-published-at). entries must have room for
 * SOUK_ENVELOPE_MAX_HEADERS; props points into env and entries, which must
 * outlive the publish call. */
#define SOUK_ENVELOPE_MAX_HEADERS 12 /* every header above at once */
void souk_envelope_properties(const souk_envelope *env, int64_t published_at_us,
                              amqp_basic_properties_t *props, amqp_table_entry_t *entries);

#endif
