/* Peek, replay and purge of a dead-letter queue (see dlq.h). Messages are
 * taken with basic.get on this module's own connection and held unacked
 * there; replayed copies go out through a souk_publisher (its own
 * connection, confirms, mandatory flag), so a get is acked only after the
 * publisher has the broker's confirm. */
#include "tools/dlq.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/trace.h"
#include "events/amqp.h"
#include "events/publisher.h"

#define CONNECT_TIMEOUT_MS 5000
#define CONFIRM_TIMEOUT_MS 10000

struct souk_dlq {
    const souk_config *cfg;
    souk_amqp *amqp;
    souk_publisher *publisher; /* created on the first replay */
    char queue[96];
};

souk_dlq *souk_dlq_open(const souk_config *cfg, souk_service service, souk_status *status)
{
    souk_amqp *amqp = souk_amqp_open(cfg, CONNECT_TIMEOUT_MS, status);
    if (!amqp)
        return NULL;
    souk_dlq *dlq = souk_calloc(1, sizeof *dlq);
    dlq->cfg = cfg;
    dlq->amqp = amqp;
    char queue[64];
    souk_topology_queue_name(service, queue, sizeof queue);
    snprintf(dlq->queue, sizeof dlq->queue, "%s.dlq", queue);
    return dlq;
}

void souk_dlq_close(souk_dlq *dlq)
{
    if (!dlq)
        return;
    souk_publisher_free(dlq->publisher);
    souk_amqp_close(dlq->amqp);
    free(dlq);
}

const char *souk_dlq_queue(const souk_dlq *dlq)
{
    return dlq->queue;
}

/* A message taken off the queue and not acked yet. */
struct taken {
    amqp_message_t msg;
    souk_envelope env; /* decoded as far as it goes: a dead letter is read whatever is wrong */
    uint64_t tag;
    long remaining; /* messages left behind it */
};

/* Takes the next message without acking it: the broker holds it for this
 * channel, so the next get moves on to the one after. *empty is set when
 * there is none; otherwise release t. */
static souk_status take(souk_dlq *dlq, struct taken *t, int *empty)
{
    amqp_connection_state_t state = souk_amqp_state(dlq->amqp);
    amqp_maybe_release_buffers(state);
    amqp_rpc_reply_t reply =
        amqp_basic_get(state, SOUK_AMQP_CHANNEL, amqp_cstring_bytes(dlq->queue), 0);
    souk_status st = souk_amqp_reply_status(reply);
    *empty = 0;
    if (st != SOUK_OK)
        return st;
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
        *empty = 1;
        return SOUK_OK;
    }
    const amqp_basic_get_ok_t *ok = reply.reply.decoded;
    t->tag = ok->delivery_tag;
    t->remaining = (long)ok->message_count;
    st = souk_amqp_reply_status(amqp_read_message(state, SOUK_AMQP_CHANNEL, &t->msg, 0));
    if (st != SOUK_OK)
        return st;
    char why[256];
    (void)souk_envelope_decode(&t->msg, NULL, &t->env, why, sizeof why);
    return SOUK_OK;
}

static void release(struct taken *t)
{
    souk_envelope_clear(&t->env);
    amqp_destroy_message(&t->msg);
}

/* Puts back every message taken and not acked up to tag, in their places. */
static souk_status put_back(souk_dlq *dlq, uint64_t tag)
{
    if (tag == 0)
        return SOUK_OK;
    int rc = amqp_basic_nack(souk_amqp_state(dlq->amqp), SOUK_AMQP_CHANNEL, tag, 1, 1);
    return souk_amqp_code_status(rc);
}

souk_status souk_dlq_peek(souk_dlq *dlq, long count, souk_dlq_visit visit, void *arg, long *seen)
{
    souk_status st = SOUK_OK;
    uint64_t last = 0;
    *seen = 0;
    while (*seen < count) {
        struct taken t;
        int empty;
        st = take(dlq, &t, &empty);
        if (st != SOUK_OK || empty)
            break;
        last = t.tag;
        visit(&t.msg, &t.env, arg);
        release(&t);
        (*seen)++;
    }
    /* Even after an error: closing the connection puts them back as well. */
    souk_status back = put_back(dlq, last);
    return st != SOUK_OK ? st : back;
}

/* The copy to publish: same properties, without the failure headers, with
 * one more replay counted. Writes the exchange it goes to into exchange. */
static void prepare_replay(souk_envelope *env, char *exchange, size_t cap)
{
    snprintf(exchange, cap, "%s", env->original_exchange[0] ? env->original_exchange : env->type);
    env->attempts = 0;
    env->error[0] = '\0';
    env->original_exchange[0] = '\0';
    env->first_failure[0] = '\0';
    env->replayed++;
}

/* Replays one message taken (unacked). Returns SOUK_OK once it is
 * confirmed and acked, SOUK_ENOTFOUND when unroutable (still unacked). */
static souk_status replay_one(souk_dlq *dlq, struct taken *t)
{
    souk_envelope *env = &t->env;
    char exchange[SOUK_ID_CAP];
    prepare_replay(env, exchange, sizeof exchange);
    /* The copy keeps the message's trace context (its traceparent and
     * tracestate headers, as they came), so the replayed handling joins the
     * order's trace; the lines about it carry it too. */
    souk_trace_ctx trace;
    souk_trace_set_current(souk_trace_parse(env->traceparent, NULL, &trace) == 0 ? &trace : NULL);
    souk_publish_item item = {.exchange = exchange, .routing_key = "", .env = env};
    souk_status result;
    souk_status st = souk_publisher_publish(dlq->publisher, &item, 1, &result, CONFIRM_TIMEOUT_MS);
    if (st == SOUK_OK) {
        if (souk_config_str(dlq->cfg, SOUK_CFG_FAULT_DLQ_KILL_AFTER_PUBLISH)[0]) {
            SOUK_LOG_MSG(SOUK_LOG_WARN, env->correlation_id, env->message_id,
                         "injected crash after the replay's confirm, before its ack");
            raise(SIGKILL);
        }
        /* Only now may the dead letter go: the copy is confirmed and routed. */
        st = souk_amqp_code_status(
            amqp_basic_ack(souk_amqp_state(dlq->amqp), SOUK_AMQP_CHANNEL, t->tag, 0));
    }
    if (st == SOUK_OK)
        SOUK_LOG_MSG(SOUK_LOG_INFO, env->correlation_id, env->message_id,
                     "replayed type=%s exchange=%s queue=%s", env->type, exchange, dlq->queue);
    else
        SOUK_LOG_MSG(SOUK_LOG_ERROR, env->correlation_id, env->message_id,
                     "replay failed type=%s exchange=%s error=\"%s\"; it stays in %s", env->type,
                     exchange,
                     st == SOUK_ENOTFOUND ? "unroutable: no such exchange or no queue bound to it"
                                          : souk_strerror(st),
                     dlq->queue);
    souk_trace_set_current(NULL);
    return st;
}

souk_status souk_dlq_replay(souk_dlq *dlq, long count, souk_dlq_replay_result *result)
{
    memset(result, 0, sizeof *result);
    if (!dlq->publisher)
        dlq->publisher = souk_publisher_new(dlq->cfg, SOUK_SERVICE_UNKNOWN);
    souk_status st = SOUK_OK;
    uint64_t held = 0; /* the last unroutable message, kept unacked so the gets move past it */
    long limit = count;
    for (long n = 0; n < limit; n++) {
        struct taken t;
        int empty;
        st = take(dlq, &t, &empty);
        if (st != SOUK_OK || empty)
            break;
        if (n == 0 && t.remaining + 1 < limit)
            limit = t.remaining + 1;
        st = replay_one(dlq, &t);
        release(&t);
        if (st == SOUK_OK) {
            result->replayed++;
        } else if (st == SOUK_ENOTFOUND) {
            result->unroutable++;
            held = t.tag;
            st = SOUK_OK;
        } else {
            held = t.tag; /* its fate is unknown: keep it, stop */
            break;
        }
    }
    souk_status back = put_back(dlq, held);
    if (st == SOUK_OK)
        st = back;
    if (st == SOUK_OK && result->unroutable > 0)
        st = SOUK_ENOTFOUND;
    return st;
}

souk_status souk_dlq_purge(souk_dlq *dlq, long *purged)
{
    amqp_queue_purge_ok_t *ok = amqp_queue_purge(souk_amqp_state(dlq->amqp), SOUK_AMQP_CHANNEL,
                                                 amqp_cstring_bytes(dlq->queue));
    *purged = ok ? (long)ok->message_count : 0;
    return ok ? SOUK_OK : souk_amqp_last_status(dlq->amqp);
}
