/* A service's dead-letter queue (<service>-service.dlq) over AMQP: peek at
 * its messages without removing them, replay them (all, or one by message
 * id) to the exchange they were first published to, purge it. The one
 * implementation behind `souk dlq` (tools/souk_dlq.c) and the gateway's
 * admin endpoints (gateway/deadletters.c).
 *
 * A replay never loses a message: each one is taken with basic.get without
 * auto-ack, published (mandatory, with a publisher confirm) and acked off
 * the DLQ only once the broker has confirmed and routed the copy. A crash
 * in between leaves it in the DLQ as well as delivered; consumers' inboxes
 * absorb the duplicate by its message id.
 *
 * Peeking holds the messages it has seen unacked until it is done, so
 * another peek or replay of the same queue meanwhile does not see them:
 * callers that share a queue take turns (the gateway locks per service). */
#ifndef SOUK_EVENTS_DLQ_H
#define SOUK_EVENTS_DLQ_H

#include <amqp.h>
#include <json-c/json.h>

#include "core/config.h"
#include "core/status.h"
#include "events/envelope.h"
#include "events/topology.h"

typedef struct souk_dlq souk_dlq;

/* Connects (with the broker user of cfg) to the dead-letter queue of service,
 * a worker service. Returns NULL with *status set when the broker cannot be
 * reached or refuses the login. cfg must outlive the result. */
souk_dlq *souk_dlq_open(const souk_config *cfg, souk_service service, souk_status *status)
    __attribute__((warn_unused_result));

/* Closes the connections; messages taken and not acked go back to the
 * queue. Accepts NULL. */
void souk_dlq_close(souk_dlq *dlq);

/* "<service>-service.dlq". */
const char *souk_dlq_queue(const souk_dlq *dlq);

/* The messages ready in the queue (a passive declare; those a peek or a
 * replay holds at that moment are not counted). SOUK_ENOTFOUND when the
 * queue does not exist, broker errors otherwise. */
souk_status souk_dlq_depth(souk_dlq *dlq, long *depth) __attribute__((warn_unused_result));

/* Called for each message peeked at: its raw frame and its decoded envelope
 * (filled as far as the message allows), both valid only during the call. */
typedef void (*souk_dlq_visit)(const amqp_message_t *message, const souk_envelope *env, void *arg);

typedef struct souk_dlq_peek_result {
    long seen;  /* messages visited */
    long depth; /* messages ready when the peek began */
} souk_dlq_peek_result;

/* Visits up to count messages, oldest first, each once, and leaves them all
 * in the queue in their order: they are held unacked until the last one is
 * seen, then put back together. Errors: SOUK_ENOTFOUND when the queue does
 * not exist, broker errors otherwise (the messages go back all the same). */
souk_status souk_dlq_peek(souk_dlq *dlq, long count, souk_dlq_visit visit, void *arg,
                          souk_dlq_peek_result *result) __attribute__((warn_unused_result));

/* A dead letter as JSON (a new object): message_id, type, order_id,
 * reason (x-souk-error), attempts, first_failure, original_exchange,
 * replayed, app_id, causation_id, occurred_at, timestamp (text fields null
 * when the message lacks them), headers (every AMQP header, typed) and
 * payload (the body as JSON when it is JSON, else as text). */
json_object *souk_dlq_message_json(const amqp_message_t *message, const souk_envelope *env);

typedef struct souk_dlq_replay_result {
    /* the messages the replay takes on: at most count (or scan, for one
     * message id), at most those in the queue when it started; known once
     * the first message is taken */
    long planned;
    long replayed; /* confirmed, routed and removed from the DLQ */
    /* no such exchange, no queue bound to it, or one the broker user may
     * not publish to: left in the DLQ */
    long unroutable;
    long skipped; /* another message id than the one asked for: left in the DLQ */
} souk_dlq_replay_result;

/* Called after each message taken, with the counts so far; a nonzero
 * return stops the replay there. */
typedef int (*souk_dlq_progress)(const souk_dlq_replay_result *so_far, void *arg);

typedef struct souk_dlq_replay_opts {
    long count;                 /* replay at most this many */
    const char *message_id;     /* only messages of this id; NULL: every message */
    long scan;                  /* with message_id: look at most at this many (0: no bound) */
    souk_dlq_progress progress; /* may be NULL */
    void *arg;
} souk_dlq_replay_opts;

/* Replays messages, at most those in the queue when it starts (a replayed
 * message dead-lettered again is not replayed twice), to the exchange of
 * x-souk-original-exchange, else of their type, with the same message id
 * and properties, the failure headers removed and x-souk-replayed counting
 * replays. Every message taken and not replayed goes back in its place.
 * Returns SOUK_OK when every message it took on was replayed (or skipped);
 * SOUK_ENOTFOUND when some were unroutable (the others are still
 * replayed); SOUK_ESTOPPED when progress stopped it; a broker error when
 * the publish of one is not confirmed, which stops the replay and leaves
 * that message in the DLQ (possibly delivered too). With
 * SOUK_FAULT_DLQ_KILL_AFTER_PUBLISH set, the process SIGKILLs itself after
 * the first confirm, before the ack. */
souk_status souk_dlq_replay(souk_dlq *dlq, const souk_dlq_replay_opts *opts,
                            souk_dlq_replay_result *result) __attribute__((warn_unused_result));

/* Empties the queue; *purged is the number of messages removed. */
souk_status souk_dlq_purge(souk_dlq *dlq, long *purged) __attribute__((warn_unused_result));

#endif
