/* Peek, replay and purge of a dead-letter queue (see dlq.h). Messages are
 * taken with basic.get on this module's own connection and held unacked
 * there; replayed copies go out through a souk_publisher (its own
 * connection, confirms, mandatory flag), so a get is acked only after the
 * publisher has the broker's confirm. */
#include "events/dlq.h"

#include <limits.h>
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

souk_status souk_dlq_depth(souk_dlq *dlq, long *depth)
{
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(souk_amqp_state(dlq->amqp), SOUK_AMQP_CHANNEL,
                           amqp_cstring_bytes(dlq->queue), 1, 0, 0, 0, amqp_empty_table);
    *depth = ok ? (long)ok->message_count : 0;
    return ok ? SOUK_OK : souk_amqp_last_status(dlq->amqp);
}

souk_status souk_dlq_peek(souk_dlq *dlq, long count, souk_dlq_visit visit, void *arg,
                          souk_dlq_peek_result *result)
{
    souk_status st = SOUK_OK;
    uint64_t last = 0;
    memset(result, 0, sizeof *result);
    while (result->seen < count) {
        struct taken t;
        int empty;
        st = take(dlq, &t, &empty);
        if (st != SOUK_OK || empty)
            break;
        if (result->seen == 0)
            result->depth = t.remaining + 1;
        last = t.tag;
        visit(&t.msg, &t.env, arg);
        release(&t);
        result->seen++;
    }
    /* Even after an error: closing the connection puts them back as well. */
    souk_status back = put_back(dlq, last);
    return st != SOUK_OK ? st : back;
}

static json_object *field_json(const amqp_field_value_t *v);

static json_object *table_json(const amqp_table_t *table)
{
    json_object *obj = json_object_new_object();
    for (int i = 0; i < table->num_entries; i++) {
        const amqp_table_entry_t *e = &table->entries[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)e->key.len, (const char *)e->key.bytes);
        json_object_object_add(obj, key, field_json(&e->value));
    }
    return obj;
}

/* A header value as JSON: text as strings, numbers as numbers, tables and
 * arrays nested. */
static json_object *field_json(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        return json_object_new_string_len(v->value.bytes.bytes, (int)v->value.bytes.len);
    case AMQP_FIELD_KIND_BOOLEAN: return json_object_new_boolean(v->value.boolean);
    case AMQP_FIELD_KIND_I8: return json_object_new_int64(v->value.i8);
    case AMQP_FIELD_KIND_U8: return json_object_new_int64(v->value.u8);
    case AMQP_FIELD_KIND_I16: return json_object_new_int64(v->value.i16);
    case AMQP_FIELD_KIND_U16: return json_object_new_int64(v->value.u16);
    case AMQP_FIELD_KIND_I32: return json_object_new_int64(v->value.i32);
    case AMQP_FIELD_KIND_U32: return json_object_new_int64(v->value.u32);
    case AMQP_FIELD_KIND_I64: return json_object_new_int64(v->value.i64);
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: return json_object_new_uint64(v->value.u64);
    case AMQP_FIELD_KIND_F32: return json_object_new_double(v->value.f32);
    case AMQP_FIELD_KIND_F64: return json_object_new_double(v->value.f64);
    case AMQP_FIELD_KIND_TABLE: return table_json(&v->value.table);
    case AMQP_FIELD_KIND_ARRAY: {
        json_object *arr = json_object_new_array();
        for (int i = 0; i < v->value.array.num_entries; i++)
            json_object_array_add(arr, field_json(&v->value.array.entries[i]));
        return arr;
    }
    default: return NULL; /* void, decimal: null */
    }
}

static json_object *text_or_null(const char *text)
{
    return text[0] ? json_object_new_string(text) : NULL;
}

/* The body as JSON when it is one JSON value, else as the text it is. */
static json_object *payload_json(const souk_envelope *env)
{
    if (!env->body)
        return json_object_new_string("");
    json_tokener *tok = json_tokener_new();
    json_object *payload = json_tokener_parse_ex(tok, env->body, (int)env->body_len);
    size_t end = json_tokener_get_parse_end(tok);
    while (end < env->body_len && strchr(" \t\r\n", env->body[end]))
        end++;
    if (json_tokener_get_error(tok) != json_tokener_success || end != env->body_len) {
        json_object_put(payload);
        payload = json_object_new_string_len(env->body, (int)env->body_len);
    }
    json_tokener_free(tok);
    return payload;
}

json_object *souk_dlq_message_json(const amqp_message_t *message, const souk_envelope *env)
{
    json_object *item = json_object_new_object();
    json_object_object_add(item, "message_id", text_or_null(env->message_id));
    json_object_object_add(item, "type", text_or_null(env->type));
    json_object_object_add(item, "order_id", text_or_null(env->correlation_id));
    json_object_object_add(item, "reason", text_or_null(env->error));
    json_object_object_add(item, "attempts", json_object_new_int(env->attempts));
    json_object_object_add(item, "first_failure", text_or_null(env->first_failure));
    json_object_object_add(item, "original_exchange", text_or_null(env->original_exchange));
    json_object_object_add(item, "replayed", json_object_new_int(env->replayed));
    json_object_object_add(item, "app_id", text_or_null(env->app_id));
    json_object_object_add(item, "causation_id", text_or_null(env->causation_id));
    json_object_object_add(item, "occurred_at", text_or_null(env->occurred_at));
    json_object_object_add(item, "timestamp",
                           env->timestamp > 0 ? json_object_new_int64(env->timestamp) : NULL);
    const amqp_basic_properties_t *p = &message->properties;
    json_object_object_add(item, "headers",
                           (p->_flags & AMQP_BASIC_HEADERS_FLAG) ? table_json(&p->headers)
                                                                 : json_object_new_object());
    json_object_object_add(item, "payload", payload_json(env));
    return item;
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
 * confirmed and acked, SOUK_ENOTFOUND when unroutable (still unacked): no
 * such exchange, no queue bound to it, or one the broker user may not
 * publish to (the gateway's may publish only to the events' exchanges). */
static souk_status replay_one(souk_dlq *dlq, struct taken *t)
{
    souk_envelope *env = &t->env;
    char exchange[SOUK_ID_CAP];
    prepare_replay(env, exchange, sizeof exchange);
    /* The copy keeps the message's trace context (its traceparent and
     * tracestate headers, as they came), so the replayed handling joins the
     * order's trace; the lines about it carry it too. */
    souk_trace_ctx trace, caller;
    const souk_trace_ctx *was = souk_trace_current();
    if (was)
        caller = *was; /* a request's, in the gateway: its lines after this keep it */
    souk_trace_set_current(souk_trace_parse(env->traceparent, NULL, &trace) == 0 ? &trace : NULL);
    souk_publish_item item = {.exchange = exchange, .routing_key = "", .env = env};
    souk_status result;
    souk_status st = souk_publisher_publish(dlq->publisher, &item, 1, &result, CONFIRM_TIMEOUT_MS);
    const char *unroutable = st == SOUK_EFORBIDDEN
                                 ? "unroutable: this broker user may not publish to that exchange"
                                 : "unroutable: no such exchange or no queue bound to it";
    if (st == SOUK_EFORBIDDEN)
        st = SOUK_ENOTFOUND;
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
                     exchange, st == SOUK_ENOTFOUND ? unroutable : souk_strerror(st), dlq->queue);
    souk_trace_set_current(was ? &caller : NULL);
    return st;
}

souk_status souk_dlq_replay(souk_dlq *dlq, const souk_dlq_replay_opts *opts,
                            souk_dlq_replay_result *result)
{
    memset(result, 0, sizeof *result);
    if (!dlq->publisher)
        dlq->publisher = souk_publisher_new(dlq->cfg, SOUK_SERVICE_UNKNOWN);
    souk_status st = SOUK_OK;
    /* the last message kept (unroutable, skipped, or of unknown fate), held
     * unacked so the gets move past it, and put back at the end */
    uint64_t held = 0;
    long limit = !opts->message_id ? opts->count : opts->scan > 0 ? opts->scan : LONG_MAX;
    for (long n = 0; n < limit; n++) {
        if (result->replayed + result->unroutable >= opts->count)
            break;
        struct taken t;
        int empty;
        st = take(dlq, &t, &empty);
        if (st != SOUK_OK || empty)
            break;
        if (n == 0) {
            if (t.remaining + 1 < limit)
                limit = t.remaining + 1;
            result->planned = limit;
        }
        if (opts->message_id && strcmp(t.env.message_id, opts->message_id) != 0) {
            result->skipped++;
            held = t.tag;
            release(&t);
        } else {
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
        if (opts->progress && opts->progress(result, opts->arg)) {
            st = SOUK_ESTOPPED;
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
