/* Consumer threads: connect with backoff, declare, consume, handle, ack. */
#include "workers/runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/db.h"
#include "core/jsonschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/amqp.h"
#include "events/envelope.h"
#include "events/publisher.h"
#include "workers/handler.h"

#define MAX_RETRY_DELAYS 16

static atomic_int stop_flag;

struct consumer {
    pthread_t thread;
    const souk_config *cfg;
    const souk_service_def *def;
    char queue[64];
    long retry_delays[MAX_RETRY_DELAYS];
    int retry_count;
    int index;
    souk_amqp *amqp;
    PGconn *db;
    souk_publisher *publisher;
    void *service_state;
};

struct souk_runtime {
    struct consumer *consumers;
    int count;
};

void souk_runtime_request_stop(void)
{
    atomic_store(&stop_flag, 1);
}

static int stopping(void)
{
    return atomic_load(&stop_flag);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sleeps up to ms in short steps so that a stop request is seen promptly. */
static void backoff_sleep(long ms)
{
    for (long slept = 0; slept < ms && !stopping(); slept += 100)
        sleep_ms(100);
}

static souk_status consumer_connect(struct consumer *c)
{
    souk_status st;
    c->amqp = souk_amqp_open(c->cfg, 5000, &st);
    if (!c->amqp)
        return st;
    amqp_connection_state_t state = souk_amqp_state(c->amqp);
    const char *queue_type = souk_config_str(c->cfg, SOUK_CFG_QUEUE_TYPE);
    st = souk_topology_declare_consumer(c->amqp, c->def->service, queue_type, c->retry_delays,
                                        c->retry_count);
    if (st == SOUK_OK)
        st = souk_topology_declare_publisher(c->amqp, c->def->service);
    if (st == SOUK_OK) {
        amqp_basic_qos(state, SOUK_AMQP_CHANNEL, 0,
                       (uint16_t)souk_config_int(c->cfg, SOUK_CFG_PREFETCH), 0);
        st = souk_amqp_last_status(c->amqp);
    }
    if (st == SOUK_OK) {
        amqp_basic_consume(state, SOUK_AMQP_CHANNEL, amqp_cstring_bytes(c->queue), amqp_empty_bytes,
                           0, 0, 0, amqp_empty_table);
        st = souk_amqp_last_status(c->amqp);
    }
    if (st != SOUK_OK) {
        souk_amqp_close(c->amqp);
        c->amqp = NULL;
    }
    return st;
}

/* Republishes msg to the default exchange with routing key target and the
 * failure headers set, waiting for the broker's confirm. */
static souk_status forward(struct consumer *c, souk_envelope *msg, const char *target)
{
    souk_publish_item item = {.exchange = "", .routing_key = target, .env = msg};
    souk_status result;
    return souk_publisher_publish(c->publisher, &item, 1, &result, 5000);
}

static souk_status dead_letter(struct consumer *c, souk_envelope *msg, const char *why)
{
    char target[96];
    snprintf(target, sizeof target, "%s.dlq", c->queue);
    snprintf(msg->error, sizeof msg->error, "%s", why);
    if (!msg->first_failure[0])
        souk_now_iso(msg->first_failure, sizeof msg->first_failure);
    msg->attempts++;
    souk_status st = forward(c, msg, target);
    SOUK_LOG_MSG(st == SOUK_OK ? SOUK_LOG_WARN : SOUK_LOG_ERROR, msg->correlation_id,
                 msg->message_id, "dead-lettered type=%s attempts=%d reason=\"%s\"%s", msg->type,
                 msg->attempts, why, st == SOUK_OK ? "" : " publish_failed=1");
    return st;
}

static souk_status retry_later(struct consumer *c, souk_envelope *msg, const char *why)
{
    if (msg->attempts >= c->retry_count) {
        char reason[600];
        snprintf(reason, sizeof reason, "retries exhausted: %s", why);
        return dead_letter(c, msg, reason);
    }
    char target[96];
    souk_topology_retry_queue_name(c->queue, c->retry_delays[msg->attempts], target, sizeof target);
    snprintf(msg->error, sizeof msg->error, "%s", why);
    if (!msg->first_failure[0])
        souk_now_iso(msg->first_failure, sizeof msg->first_failure);
    msg->attempts++;
    souk_status st = forward(c, msg, target);
    SOUK_LOG_MSG(SOUK_LOG_INFO, msg->correlation_id, msg->message_id,
                 "retry scheduled type=%s attempt=%d delay_ms=%ld reason=\"%s\"", msg->type,
                 msg->attempts, c->retry_delays[msg->attempts - 1], why);
    return st;
}

enum outcome { OUTCOME_ACK, OUTCOME_REQUEUE };

/* Runs inbox + handler in one transaction. *db_down is set when the
 * database itself failed: the message is then requeued without counting an
 * attempt, since its retries would only burn while the database is away. */
static souk_handler_result run_in_transaction(struct consumer *c, souk_envelope *msg,
                                              json_object *payload, souk_event_type type, char *why,
                                              size_t whylen, int *duplicate, int *db_down)
{
    souk_status st;
    if (!c->db) {
        c->db = souk_db_connect(c->cfg, c->def->schema, &st);
        if (!c->db) {
            snprintf(why, whylen, "database unavailable");
            *db_down = 1;
            return SOUK_HANDLE_RETRY;
        }
    }
    st = souk_db_exec(c->db, "BEGIN");
    if (st != SOUK_OK)
        goto db_failed;
    const char *params[2] = {c->queue, msg->message_id};
    PGresult *res = PQexecParams(c->db,
                                 "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) "
                                 "ON CONFLICT DO NOTHING",
                                 2, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(c->db, res);
    int inserted = st == SOUK_OK && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (st != SOUK_OK)
        goto db_failed;
    if (!inserted) {
        *duplicate = 1;
        st = souk_db_exec(c->db, "ROLLBACK");
        if (st != SOUK_OK)
            goto db_failed;
        return SOUK_HANDLE_OK;
    }
    souk_handler_ctx ctx = {.cfg = c->cfg,
                            .service = c->def->service,
                            .db = c->db,
                            .msg = msg,
                            .payload = payload,
                            .service_state = c->service_state};
    souk_handler_result result = c->def->handlers[type](&ctx);
    const char *delay = souk_config_str(c->cfg, SOUK_CFG_FAULT_HANDLER_DELAY_MS);
    if (delay[0])
        sleep_ms(strtol(delay, NULL, 10));
    const char *retry_order = souk_config_str(c->cfg, SOUK_CFG_FAULT_RETRY_ORDER);
    if (retry_order[0] && strcmp(retry_order, msg->correlation_id) == 0 &&
        result == SOUK_HANDLE_OK) {
        snprintf(ctx.error, sizeof ctx.error, "injected transient failure");
        result = SOUK_HANDLE_RETRY;
    }
    if (result == SOUK_HANDLE_OK) {
        st = souk_db_exec(c->db, "COMMIT");
        if (st != SOUK_OK)
            goto db_failed;
        const char *kill_order = souk_config_str(c->cfg, SOUK_CFG_FAULT_KILL_AFTER_COMMIT);
        if (kill_order[0] && strcmp(kill_order, msg->correlation_id) == 0) {
            SOUK_LOG_MSG(SOUK_LOG_WARN, msg->correlation_id, msg->message_id,
                         "injected crash after commit, before ack");
            raise(SIGKILL);
        }
        return SOUK_HANDLE_OK;
    }
    snprintf(why, whylen, "%s", ctx.error[0] ? ctx.error : "handler failed");
    if (PQstatus(c->db) != CONNECTION_OK) {
        st = SOUK_EDB_UNAVAILABLE;
        goto db_failed;
    }
    st = souk_db_exec(c->db, "ROLLBACK");
    if (st != SOUK_OK)
        goto db_failed;
    return result;
db_failed:
    snprintf(why, whylen, "database: %s", souk_strerror(st));
    if (PQstatus(c->db) != CONNECTION_OK || st == SOUK_EDB_UNAVAILABLE) {
        PQfinish(c->db);
        c->db = NULL;
        *db_down = 1;
        return SOUK_HANDLE_RETRY;
    }
    PGresult *rb = PQexec(c->db, "ROLLBACK");
    PQclear(rb);
    return SOUK_HANDLE_REJECT;
}

/* Handles one delivery. Returns OUTCOME_ACK when the message is done with
 * (handled, duplicate, retried or dead-lettered, each confirmed), or
 * OUTCOME_REQUEUE when it must go back to the queue untouched. */
static enum outcome handle_delivery(struct consumer *c, const amqp_envelope_t *delivery)
{
    souk_envelope msg;
    char why[512] = "";
    char exchange[SOUK_ID_CAP];
    size_t elen =
        delivery->exchange.len < sizeof exchange - 1 ? delivery->exchange.len : sizeof exchange - 1;
    memcpy(exchange, delivery->exchange.bytes, elen);
    exchange[elen] = '\0';
    enum outcome outcome = OUTCOME_ACK;
    json_object *payload = NULL;

    souk_status st = souk_envelope_decode(&delivery->message, exchange, &msg, why, sizeof why);
    if (st != SOUK_OK) {
        if (!msg.message_id[0])
            souk_uuid_v4(msg.message_id);
        if (!msg.type[0])
            snprintf(msg.type, sizeof msg.type, "unknown");
        st = dead_letter(c, &msg, why);
        goto out;
    }
    souk_event_type type = souk_event_from_name(msg.type, strlen(msg.type));
    if (type == SOUK_EVENT_UNKNOWN || !souk_service_consumes(c->def->service, type) ||
        !c->def->handlers[type]) {
        snprintf(why, sizeof why, "no handler for event type '%s' in %s", msg.type, c->queue);
        st = dead_letter(c, &msg, why);
        goto out;
    }
    enum json_tokener_error jerr;
    payload = json_tokener_parse_verbose(msg.body, &jerr);
    if (!payload || !json_object_is_type(payload, json_type_object)) {
        snprintf(why, sizeof why, "payload is not a JSON object: %s",
                 payload ? "wrong type" : json_tokener_error_desc(jerr));
        st = dead_letter(c, &msg, why);
        goto out;
    }
    char schema_name[96];
    snprintf(schema_name, sizeof schema_name, "events/%s", msg.type);
    const souk_jsonschema *schema = souk_schema_get(schema_name);
    char schema_err[300];
    if (schema &&
        souk_jsonschema_validate(schema, payload, schema_err, sizeof schema_err) != SOUK_OK) {
        snprintf(why, sizeof why, "schema validation failed: %s", schema_err);
        st = dead_letter(c, &msg, why);
        goto out;
    }
    int duplicate = 0, db_down = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    souk_handler_result result =
        run_in_transaction(c, &msg, payload, type, why, sizeof why, &duplicate, &db_down);
    if (db_down) {
        SOUK_LOG_MSG(SOUK_LOG_WARN, msg.correlation_id, msg.message_id, "requeued: %s", why);
        outcome = OUTCOME_REQUEUE;
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long micros = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    switch (result) {
    case SOUK_HANDLE_OK:
        SOUK_LOG_MSG(SOUK_LOG_DEBUG, msg.correlation_id, msg.message_id, "%s type=%s us=%ld",
                     duplicate ? "duplicate ignored" : "handled", msg.type, micros);
        st = SOUK_OK;
        break;
    case SOUK_HANDLE_RETRY: st = retry_later(c, &msg, why); break;
    case SOUK_HANDLE_REJECT: st = dead_letter(c, &msg, why); break;
    }
out:
    if (st != SOUK_OK) {
        /* The retry or dead letter was not confirmed: put the message back
         * rather than lose it. */
        SOUK_LOG_MSG(SOUK_LOG_WARN, msg.correlation_id, msg.message_id,
                     "requeued: could not forward (%s)", souk_strerror(st));
        outcome = OUTCOME_REQUEUE;
    }
done:
    json_object_put(payload);
    souk_envelope_clear(&msg);
    return outcome;
}

static void consumer_disconnect(struct consumer *c)
{
    souk_amqp_close(c->amqp);
    c->amqp = NULL;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    long backoff = 200;
    c->publisher = souk_publisher_new(c->cfg, c->def->service);
    if (c->def->thread_init)
        c->service_state = c->def->thread_init(c->cfg);
    while (!stopping()) {
        if (!c->amqp) {
            souk_status st = consumer_connect(c);
            if (st != SOUK_OK) {
                SOUK_LOG(
                    SOUK_LOG_WARN,
                    "consumer %d cannot connect or declare its queues (%s); retrying in %ld ms",
                    c->index, souk_strerror(st), backoff);
                backoff_sleep(backoff);
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            SOUK_LOG(SOUK_LOG_INFO, "consumer %d consuming queue=%s", c->index, c->queue);
            backoff = 200;
        }
        amqp_connection_state_t state = souk_amqp_state(c->amqp);
        amqp_maybe_release_buffers(state);
        amqp_envelope_t delivery;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 250000};
        amqp_rpc_reply_t reply = amqp_consume_message(state, &delivery, &tv, 0);
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            reply.library_error == AMQP_STATUS_TIMEOUT)
            continue;
        if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
            SOUK_LOG(SOUK_LOG_WARN, "consumer %d lost the broker (%s); reconnecting", c->index,
                     souk_strerror(souk_amqp_reply_status(reply)));
            consumer_disconnect(c);
            continue;
        }
        enum outcome outcome = handle_delivery(c, &delivery);
        int rc;
        if (outcome == OUTCOME_ACK) {
            rc = amqp_basic_ack(state, SOUK_AMQP_CHANNEL, delivery.delivery_tag, 0);
        } else {
            backoff_sleep(500); /* the database or broker is down: do not spin */
            rc = amqp_basic_reject(state, SOUK_AMQP_CHANNEL, delivery.delivery_tag, 1);
        }
        amqp_destroy_envelope(&delivery);
        if (rc != AMQP_STATUS_OK)
            consumer_disconnect(c);
    }
    consumer_disconnect(c);
    PQfinish(c->db);
    c->db = NULL;
    souk_publisher_free(c->publisher);
    if (c->def->thread_free)
        c->def->thread_free(c->service_state);
    SOUK_LOG(SOUK_LOG_INFO, "consumer %d stopped", c->index);
    return NULL;
}

souk_runtime *souk_runtime_start(const souk_config *cfg, souk_service service, int concurrency,
                                 souk_status *status)
{
    souk_runtime *rt = souk_calloc(1, sizeof *rt);
    rt->consumers = souk_calloc((size_t)concurrency, sizeof *rt->consumers);
    for (int i = 0; i < concurrency; i++) {
        struct consumer *c = &rt->consumers[i];
        c->cfg = cfg;
        c->def = souk_service_definition(service);
        c->index = i;
        souk_topology_queue_name(service, c->queue, sizeof c->queue);
        int n = souk_config_retry_delays(cfg, c->retry_delays, MAX_RETRY_DELAYS);
        c->retry_count = n < MAX_RETRY_DELAYS ? n : MAX_RETRY_DELAYS;
        if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
            souk_runtime_request_stop();
            souk_runtime_join(rt);
            *status = SOUK_EIO;
            return NULL;
        }
        rt->count++;
    }
    *status = SOUK_OK;
    return rt;
}

void souk_runtime_join(souk_runtime *rt)
{
    if (!rt)
        return;
    for (int i = 0; i < rt->count; i++)
        pthread_join(rt->consumers[i].thread, NULL);
    free(rt->consumers);
    free(rt);
}
