/* A service's dead-letter queue (<service>-service.dlq) over AMQP, for
 * `souk dlq`: peek at its messages without removing them, replay them to
 * the exchange they were first published to, purge it.
 *
 * A replay never loses a message: each one is taken with basic.get without
 * auto-ack, published (mandatory, with a publisher confirm) and acked off
 * the DLQ only once the broker has confirmed and routed the copy. A crash
 * in between leaves it in the DLQ as well as delivered; consumers' inboxes
 * absorb the duplicate by its message id. */
#ifndef SOUK_TOOLS_DLQ_H
#define SOUK_TOOLS_DLQ_H

#include <amqp.h>

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

/* Called for each message peeked at: its raw frame and its decoded envelope
 * (filled as far as the message allows), both valid only during the call. */
typedef void (*souk_dlq_visit)(const amqp_message_t *message, const souk_envelope *env, void *arg);

/* Visits up to count messages, oldest first, each once, and leaves them all
 * in the queue in their order: they are held unacked until the last one is
 * seen, then put back together. *seen is the number visited. Errors:
 * SOUK_ENOTFOUND when the queue does not exist, broker errors otherwise. */
souk_status souk_dlq_peek(souk_dlq *dlq, long count, souk_dlq_visit visit, void *arg, long *seen)
    __attribute__((warn_unused_result));

typedef struct souk_dlq_replay_result {
    long replayed;   /* confirmed, routed and removed from the DLQ */
    long unroutable; /* no such exchange, or no queue bound to it: left in the DLQ */
} souk_dlq_replay_result;

/* Replays up to count messages, at most those in the queue when it starts
 * (a replayed message dead-lettered again is not replayed twice), to the
 * exchange of x-souk-original-exchange, else of their type, with the same
 * message id and properties, the failure headers removed and
 * x-souk-replayed counting replays. Returns SOUK_OK when every message was
 * replayed; SOUK_ENOTFOUND when some were unroutable (the others are still
 * replayed); a broker error when the publish of one is not confirmed, which
 * stops the replay and leaves that message in the DLQ (possibly delivered
 * too). With SOUK_FAULT_DLQ_KILL_AFTER_PUBLISH set, the process SIGKILLs
 * itself after the first confirm, before the ack. */
souk_status souk_dlq_replay(souk_dlq *dlq, long count, souk_dlq_replay_result *result)
    __attribute__((warn_unused_result));

/* Empties the queue; *purged is the number of messages removed. */
souk_status souk_dlq_purge(souk_dlq *dlq, long *purged) __attribute__((warn_unused_result));

#endif
