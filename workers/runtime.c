/* Consumer threads: connect with backoff, declare, consume, handle, ack. */
#include "workers/runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/json.h"
#include "core/jsonschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/otlp.h"
#include "core/trace.h"
#include "core/uuid.h"
#include "events/amqp.h"
#include "events/envelope.h"
#include "events/journal.h"
#include "events/outbox.h"
#include "events/publisher.h"
#include "workers/handler.h"
#include "workers/metrics.h"
#include "workers/saga.h"

#define MAX_RETRY_DELAYS 16

static atomic_int stop_flag;

struct consumer {
    pthread_t thread;
    const souk_config *cfg;
    const souk_service_def *def;
    char queue[64];
    long retry_delays[MAX_RETRY_DELAYS];
    int retry_count;
    int batch_limit; /* souk_runtime_batch_limit */
    int index;
    souk_amqp *amqp;
    PGconn *db;
    souk_publisher *publisher;
    void *service_state;
    int journal;       /* SOUK_JOURNAL is on */
    time_t last_purge; /* of the journal, by consumer 0 */
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

/* *delay_ms receives the retry's delay, or -1 when retries were exhausted
 * and it was dead-lettered instead. */
static souk_status retry_later(struct consumer *c, souk_envelope *msg, const char *why,
                               long *delay_ms)
{
    *delay_ms = -1;
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
    *delay_ms = c->retry_delays[msg->attempts - 1];
    SOUK_LOG_MSG(SOUK_LOG_INFO, msg->correlation_id, msg->message_id,
                 "retry scheduled type=%s attempt=%d delay_ms=%ld reason=\"%s\"", msg->type,
                 msg->attempts, *delay_ms, why);
    return st;
}

/* One delivery of a batch, from decoding to its verdict. */
struct item {
    amqp_envelope_t delivery;
    souk_envelope msg;
    json_object *payload;
    souk_event_type type;
    enum { ITEM_HANDLE, ITEM_OK, ITEM_DUPLICATE, ITEM_RETRY, ITEM_REJECT, ITEM_REQUEUE } verdict;
    int checked;    /* passed prepare(): went to the handler */
    int settled;    /* its transaction committed, or rolled back for its own verdict */
    double seconds; /* the handler's time */
    /* for the journal: microseconds since the epoch, 0 when it did not happen */
    int64_t delivered_us, started_us, ended_us;
    char why[512];
    souk_span span; /* its handling: "process <queue>", a child of the message's context */
};

/* Starts the item's process span, from its delivery to its settlement, as
 * a child of the context the message carries (a message without a valid
 * one starts a new trace). */
static void start_span(struct consumer *c, struct item *it)
{
    souk_trace_ctx parent;
    int has = souk_trace_parse(it->msg.traceparent, it->msg.tracestate, &parent) == 0;
    char name[96] = ""; /* named only when it is exported: no cost otherwise */
    if (souk_otlp_enabled())
        snprintf(name, sizeof name, "process %s", c->queue);
    souk_span *s = &it->span;
    souk_span_start(s, has ? &parent : NULL, SOUK_SPAN_CONSUMER, name);
    souk_span_attr_str(s, "messaging.system", "rabbitmq");
    souk_span_attr_str(s, "messaging.operation.type", "process");
    souk_span_attr_str(s, "messaging.operation.name", "process");
    souk_span_attr_str(s, "messaging.destination.name", it->msg.original_exchange);
    souk_span_attr_str(s, "messaging.destination.subscription.name", c->queue);
    souk_span_attr_str(s, "messaging.message.id", it->msg.message_id);
    souk_span_attr_str(s, "messaging.message.conversation_id", it->msg.correlation_id);
    souk_span_attr_int(s, "messaging.rabbitmq.message.delivery_tag",
                       (long long)it->delivery.delivery_tag);
    souk_span_attr_str(s, "souk.event", it->msg.type);
    souk_span_attr_int(s, "souk.attempts", it->msg.attempts);
    if (it->msg.replayed > 0)
        souk_span_attr_int(s, "souk.replayed", it->msg.replayed);
}

/* Ends the item's span with what became of the message. */
static void end_span(struct item *it, const char *outcome, int failed)
{
    souk_span_attr_str(&it->span, "souk.outcome", outcome);
    if (failed) {
        souk_span_attr_str(&it->span, "error.type", outcome);
        souk_span_fail(&it->span, it->why);
    }
    souk_span_end(&it->span);
}

/* Decodes and checks a delivery; a message that cannot be handled at all
 * (bad envelope, unknown type, not JSON, schema violation) is marked for
 * the dead-letter queue straight away. */
static void prepare(struct consumer *c, struct item *it)
{
    char exchange[SOUK_ID_CAP];
    size_t elen = it->delivery.exchange.len < sizeof exchange - 1 ? it->delivery.exchange.len
                                                                  : sizeof exchange - 1;
    memcpy(exchange, it->delivery.exchange.bytes, elen);
    exchange[elen] = '\0';
    it->verdict = ITEM_REJECT;
    it->checked = 0;
    it->settled = 0;
    it->payload = NULL;
    souk_status decoded =
        souk_envelope_decode(&it->delivery.message, exchange, &it->msg, it->why, sizeof it->why);
    start_span(c, it);
    if (decoded != SOUK_OK) {
        if (!souk_uuid_valid(it->msg.message_id))
            souk_uuid_v4(it->msg.message_id);
        if (!it->msg.type[0])
            snprintf(it->msg.type, sizeof it->msg.type, "unknown");
        return;
    }
    it->type = souk_event_from_name(it->msg.type, strlen(it->msg.type));
    if (it->type == SOUK_EVENT_UNKNOWN || !souk_service_consumes(c->def->service, it->type) ||
        !c->def->handlers[it->type]) {
        snprintf(it->why, sizeof it->why, "no handler for event type '%s' in %s", it->msg.type,
                 c->queue);
        return;
    }
    char parse_err[256];
    souk_status st =
        souk_json_parse(it->msg.body, it->msg.body_len, &it->payload, parse_err, sizeof parse_err);
    if (st == SOUK_ESCHEMA) {
        snprintf(it->why, sizeof it->why, "schema validation failed: %s", parse_err);
        return;
    }
    if (st != SOUK_OK || !json_object_is_type(it->payload, json_type_object)) {
        snprintf(it->why, sizeof it->why, "payload is not a JSON object: %s",
                 st == SOUK_OK ? "wrong type" : parse_err);
        return;
    }
    char schema_name[96];
    snprintf(schema_name, sizeof schema_name, "events/%s", it->msg.type);
    const souk_jsonschema *schema = souk_schema_get(schema_name);
    char schema_err[300];
    if (schema &&
        souk_jsonschema_validate(schema, it->payload, schema_err, sizeof schema_err) != SOUK_OK) {
        snprintf(it->why, sizeof it->why, "schema validation failed: %s", schema_err);
        return;
    }
    it->verdict = ITEM_HANDLE;
    it->checked = 1;
}

/* Records the messages of todo in the inbox with one statement, and marks
 * those recorded before (by an earlier delivery, or earlier in this batch)
 * as duplicates. One statement for the batch instead of one per message:
 * a round trip to the database was a large share of each message's cost.
 * Returns 0, or -1 when the database failed. */
static int claim_inbox(struct consumer *c, souk_tx *tx, struct item **todo, int n)
{
    /* message ids are UUIDs (checked when decoded): no quoting needed */
    char ids[SOUK_BATCH_CAP * (SOUK_ID_CAP + 1) + 3];
    size_t len = 0;
    ids[len++] = '{';
    for (int i = 0; i < n; i++) {
        size_t idlen = strlen(todo[i]->msg.message_id);
        if (i)
            ids[len++] = ',';
        memcpy(ids + len, todo[i]->msg.message_id, idlen);
        len += idlen;
    }
    ids[len++] = '}';
    ids[len] = '\0';
    const char *params[2] = {c->queue, ids};
    PGresult *res = souk_tx_exec(tx,
                                 "INSERT INTO inbox (consumer, message_id) "
                                 "SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING "
                                 "RETURNING message_id",
                                 2, params);
    if (!res)
        return -1;
    int claimed[SOUK_BATCH_CAP] = {0};
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        for (int i = 0; i < n; i++) {
            if (!claimed[i] && strcasecmp(todo[i]->msg.message_id, id) == 0) {
                claimed[i] = 1;
                break;
            }
        }
    }
    PQclear(res);
    for (int i = 0; i < n; i++)
        if (!claimed[i])
            todo[i]->verdict = ITEM_DUPLICATE;
    return 0;
}

/* Runs the handler of one message, claimed in the inbox, inside the open
 * transaction. Returns 0 when it succeeded, 1 when its handler answered
 * RETRY or REJECT (verdict and why set; the caller must roll back), -1 when
 * the database connection failed. */
static int handle_in_transaction(struct consumer *c, souk_tx *tx, struct item *it)
{
    souk_handler_ctx ctx = {.cfg = c->cfg,
                            .service = c->def->service,
                            .tx = tx,
                            .msg = &it->msg,
                            .payload = it->payload,
                            .service_state = c->service_state,
                            .trace = &it->span.ctx};
    souk_trace_set_current(&it->span.ctx); /* its log lines carry its trace */
    double started = souk_monotonic_seconds();
    it->started_us = souk_wall_us();
    souk_handler_result result = c->def->handlers[it->type](&ctx);
    it->seconds = souk_monotonic_seconds() - started;
    it->ended_us = souk_wall_us();
    souk_trace_set_current(NULL);
    const char *delay = souk_config_str(c->cfg, SOUK_CFG_FAULT_HANDLER_DELAY_MS);
    if (delay[0])
        sleep_ms(strtol(delay, NULL, 10));
    const char *retry_order = souk_config_str(c->cfg, SOUK_CFG_FAULT_RETRY_ORDER);
    if (result == SOUK_HANDLE_OK && retry_order[0] &&
        strcmp(retry_order, it->msg.correlation_id) == 0) {
        snprintf(ctx.error, sizeof ctx.error, "injected transient failure");
        result = SOUK_HANDLE_RETRY;
    }
    if (PQstatus(c->db) != CONNECTION_OK)
        return -1;
    if (result == SOUK_HANDLE_OK) {
        it->verdict = ITEM_OK;
        return 0;
    }
    it->verdict = result == SOUK_HANDLE_RETRY ? ITEM_RETRY : ITEM_REJECT;
    snprintf(it->why, sizeof it->why, "%s", ctx.error[0] ? ctx.error : "handler failed");
    return 1;
}

int souk_runtime_batch_order(int count, const char *const *order_ids, const int *handle, int *todo)
{
    /* insertion sort: stable (qsort need not be) and at most SOUK_BATCH_CAP long */
    int n = 0;
    for (int i = 0; i < count; i++) {
        if (!handle[i])
            continue;
        int at = n++;
        while (at > 0 && strcmp(order_ids[todo[at - 1]], order_ids[i]) > 0) {
            todo[at] = todo[at - 1];
            at--;
        }
        todo[at] = i;
    }
    return n;
}

static int ensure_db(struct consumer *c)
{
    if (c->db)
        return 1;
    souk_status st;
    c->db = souk_db_connect(c->cfg, c->def->schema, &st);
    return c->db != NULL;
}

/* The service's batch locks for todo (see souk_service_def.batch_lock).
 * Returns 0, or 1 when they could not be taken. */
static int lock_batch(struct consumer *c, souk_tx *tx, struct item **todo, int n)
{
    if (!c->def->batch_lock || n < 2)
        return 0;
    json_object *payloads[SOUK_BATCH_CAP];
    const char *order_ids[SOUK_BATCH_CAP];
    for (int i = 0; i < n; i++) {
        payloads[i] = todo[i]->payload;
        order_ids[i] = todo[i]->msg.correlation_id;
    }
    if (c->def->batch_lock(tx, payloads, order_ids, n) == 0)
        return 0;
    SOUK_LOG(SOUK_LOG_WARN, "batch locks of %d messages not taken (%s); one per transaction", n,
             souk_tx_error(tx));
    return 1;
}

static souk_journal_hop item_hop(const struct item *it, souk_hop_outcome outcome)
{
    return (souk_journal_hop){.msg = &it->msg,
                              .outcome = outcome,
                              .attempt = it->msg.attempts + 1,
                              .retry_delay_ms = -1,
                              .span = &it->span.ctx,
                              .delivered_us = it->delivered_us,
                              .handler_started_us = it->started_us,
                              .handler_ended_us = it->ended_us};
}

/* The hops of a transaction's messages, all handled or duplicates by now,
 * recorded inside it. */
static souk_status journal_batch(struct consumer *c, souk_tx *tx, struct item **todo, int n)
{
    souk_journal_hop hops[SOUK_BATCH_CAP];
    for (int i = 0; i < n; i++) {
        souk_hop_outcome outcome = todo[i]->verdict == ITEM_DUPLICATE ? SOUK_HOP_DUPLICATE
                                   : todo[i]->msg.replayed > 0        ? SOUK_HOP_REPLAYED
                                                                      : SOUK_HOP_HANDLED;
        hops[i] = item_hop(todo[i], outcome);
    }
    return souk_journal_record(tx, c->queue, hops, n);
}

/* Runs the messages in one transaction. Returns 0 when it committed (a
 * lone message whose handler failed is rolled back with its verdict set),
 * 1 when a handler of a group failed (all rolled back: the caller runs them
 * one by one), -1 when the database failed. */
static int run_transaction(struct consumer *c, struct item **todo, int n)
{
    souk_status st;
    souk_tx *tx = souk_tx_begin(c->db, &st);
    if (!tx)
        return -1;
    int r = 0;
    if (lock_batch(c, tx, todo, n) != 0) {
        r = PQstatus(c->db) == CONNECTION_OK ? 1 : -1;
        goto out;
    }
    if (claim_inbox(c, tx, todo, n) != 0) {
        r = -1;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (todo[i]->verdict == ITEM_DUPLICATE)
            continue;
        int h = handle_in_transaction(c, tx, todo[i]);
        if (h == 0)
            continue;
        if (h < 0)
            r = -1;
        else if (n > 1)
            r = 1;
        else
            todo[0]->settled = 1;
        goto out;
    }
    if (c->journal && journal_batch(c, tx, todo, n) != SOUK_OK) {
        SOUK_LOG(SOUK_LOG_WARN, "journal not written (%s)", souk_tx_error(tx));
        r = -1;
        goto out;
    }
    if (souk_tx_commit(tx) != SOUK_OK) {
        r = -1;
        goto out;
    }
    for (int i = 0; i < n; i++)
        todo[i]->settled = 1;
out:
    souk_tx_free(tx); /* rolls back whatever did not commit */
    return r;
}

/* Handles the batch's messages in one transaction, so that one commit (one
 * WAL flush) covers them all and each message costs two statements. When a
 * handler fails, the transaction is rolled back and the messages run one
 * per transaction, so only the failing one is affected. Messages are
 * handled in souk_runtime_batch_order. When the
 * database fails, every message to be handled is requeued without counting
 * an attempt: retries would only burn while the database is away. */
static void handle_batch(struct consumer *c, struct item *items, int count)
{
    const char *order_ids[SOUK_BATCH_CAP];
    int handle[SOUK_BATCH_CAP], order[SOUK_BATCH_CAP];
    for (int i = 0; i < count; i++) {
        order_ids[i] = items[i].msg.correlation_id;
        handle[i] = items[i].verdict == ITEM_HANDLE;
    }
    int n = souk_runtime_batch_order(count, order_ids, handle, order);
    if (n == 0)
        return;
    struct item *todo[SOUK_BATCH_CAP];
    for (int i = 0; i < n; i++)
        todo[i] = &items[order[i]];
    int failed = !ensure_db(c);
    int r = failed ? -1 : run_transaction(c, todo, n);
    if (r == 1) {
        for (int i = 0; i < n; i++)
            todo[i]->verdict = ITEM_HANDLE;
        for (int i = 0; i < n && r != -1; i++)
            r = run_transaction(c, &todo[i], 1);
    }
    failed = r == -1;
    if (failed) {
        if (c->db && PQstatus(c->db) != CONNECTION_OK) {
            PQfinish(c->db);
            c->db = NULL;
        }
        for (int i = 0; i < count; i++) {
            if (!items[i].checked)
                continue; /* could not be handled at all: still dead-lettered */
            if (items[i].settled)
                continue; /* committed one by one before the failure */
            items[i].verdict = ITEM_REQUEUE;
            snprintf(items[i].why, sizeof items[i].why, "database unavailable");
        }
        return;
    }
    const char *kill_order = souk_config_str(c->cfg, SOUK_CFG_FAULT_KILL_AFTER_COMMIT);
    for (int i = 0; i < count && kill_order[0]; i++) {
        if (items[i].verdict == ITEM_OK && strcmp(kill_order, items[i].msg.correlation_id) == 0) {
            SOUK_LOG_MSG(SOUK_LOG_WARN, items[i].msg.correlation_id, items[i].msg.message_id,
                         "injected crash after commit, before ack");
            raise(SIGKILL);
        }
    }
}

/* Records the hops of deliveries retried or dead-lettered: their
 * transactions were rolled back, so these are written on their own, after
 * the broker confirmed where each went and before they are acked. A
 * database that is down loses these hops, never the messages. */
static void journal_failures(struct consumer *c, const souk_journal_hop *hops, int n)
{
    if (!c->journal || n == 0 || !ensure_db(c))
        return;
    souk_status st = souk_journal_record_settled(c->db, c->queue, hops, n);
    if (st != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "journal: %d hops of failed deliveries not recorded (%s)", n,
                 souk_strerror(st));
}

/* Keeps the journal within SOUK_JOURNAL_RETENTION_S: the first consumer of
 * each process purges, at most once a minute. */
static void purge_journal(struct consumer *c)
{
    long retention = souk_config_int(c->cfg, SOUK_CFG_JOURNAL_RETENTION_S);
    time_t now = time(NULL);
    if (c->index != 0 || now - c->last_purge < (retention < 60 ? retention : 60) || !ensure_db(c))
        return;
    c->last_purge = now;
    long deleted = 0;
    souk_status st = souk_journal_purge(c->db, retention, &deleted);
    if (st != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "journal purge failed (%s)", souk_strerror(st));
    else if (deleted > 0)
        SOUK_LOG(SOUK_LOG_INFO, "journal purged rows=%ld queue=%s", deleted, c->queue);
}

/* Acts on each verdict after the commit. Deliveries to acknowledge are
 * acknowledged together, with one frame for the batch (multiple up to the
 * last one), unless one in between is put back. Returns -1 when the
 * channel broke. */
static int settle_batch(struct consumer *c, struct item *items, int count)
{
    amqp_connection_state_t state = souk_amqp_state(c->amqp);
    int broken = 0, backoff = 0;
    uint64_t ack_upto = 0;                   /* tag of the latest delivery whose ack is deferred */
    souk_journal_hop failed[SOUK_BATCH_CAP]; /* retried and dead-lettered ones */
    int failures = 0;
    for (int i = 0; i < count; i++) {
        struct item *it = &items[i];
        souk_trace_set_current(&it->span.ctx);
        souk_status st = SOUK_OK;
        long delay_ms = -1;
        switch (it->verdict) {
        case ITEM_OK:
        case ITEM_DUPLICATE:
            SOUK_LOG_MSG(SOUK_LOG_DEBUG, it->msg.correlation_id, it->msg.message_id, "%s type=%s",
                         it->verdict == ITEM_OK ? "handled" : "duplicate ignored", it->msg.type);
            break;
        case ITEM_RETRY: st = retry_later(c, &it->msg, it->why, &delay_ms); break;
        case ITEM_REJECT:
        case ITEM_HANDLE: st = dead_letter(c, &it->msg, it->why); break;
        case ITEM_REQUEUE: st = SOUK_EDB_UNAVAILABLE; break;
        }
        if (st == SOUK_OK && (it->verdict == ITEM_RETRY || it->verdict == ITEM_REJECT ||
                              it->verdict == ITEM_HANDLE)) {
            /* forwarding counted the attempt that failed: it is this one */
            souk_journal_hop *h = &failed[failures++];
            *h = item_hop(it, delay_ms >= 0 ? SOUK_HOP_RETRY_SCHEDULED : SOUK_HOP_DEAD_LETTERED);
            h->attempt = it->msg.attempts;
            h->retry_delay_ms = delay_ms;
            h->reason = it->msg.error;
        }
        int rc;
        static const souk_worker_outcome counted[] = {[ITEM_OK] = SOUK_OUTCOME_HANDLED,
                                                      [ITEM_DUPLICATE] = SOUK_OUTCOME_DUPLICATE,
                                                      [ITEM_RETRY] = SOUK_OUTCOME_RETRIED,
                                                      [ITEM_REJECT] = SOUK_OUTCOME_DEAD_LETTERED,
                                                      [ITEM_HANDLE] = SOUK_OUTCOME_DEAD_LETTERED};
        souk_worker_outcome outcome = st == SOUK_OK ? counted[it->verdict] : SOUK_OUTCOME_REQUEUED;
        souk_worker_metrics_count(outcome, it->seconds);
        end_span(it, souk_worker_outcome_name(outcome),
                 outcome != SOUK_OUTCOME_HANDLED && outcome != SOUK_OUTCOME_DUPLICATE);
        if (st == SOUK_OK) {
            /* Tags on one channel grow with each delivery, so a multiple
             * ack of this one covers the deferred ones before it. */
            ack_upto = it->delivery.delivery_tag;
            rc = AMQP_STATUS_OK;
        } else {
            /* Not handled, or its retry or dead letter was not confirmed: put
             * it back rather than lose it. */
            SOUK_LOG_MSG(SOUK_LOG_WARN, it->msg.correlation_id, it->msg.message_id, "requeued: %s",
                         it->verdict == ITEM_REQUEUE ? it->why : souk_strerror(st));
            backoff = 1;
            if (ack_upto)
                broken |= amqp_basic_ack(state, SOUK_AMQP_CHANNEL, ack_upto, 1) != AMQP_STATUS_OK;
            ack_upto = 0;
            rc = amqp_basic_reject(state, SOUK_AMQP_CHANNEL, it->delivery.delivery_tag, 1);
        }
        broken |= rc != AMQP_STATUS_OK;
    }
    souk_trace_set_current(NULL);
    journal_failures(c, failed, failures);
    if (ack_upto)
        broken |= amqp_basic_ack(state, SOUK_AMQP_CHANNEL, ack_upto, 1) != AMQP_STATUS_OK;
    if (backoff)
        backoff_sleep(500); /* the database or broker is down: do not spin */
    return broken ? -1 : 0;
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
    struct item *items = souk_calloc((size_t)c->batch_limit, sizeof *items);
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
        /* Wait for one delivery, then take whatever else has already
         * arrived (up to the batch limit) without waiting. */
        int count = 0, lost = 0;
        while (count < c->batch_limit) {
            struct timeval tv = {.tv_sec = 0, .tv_usec = count == 0 ? 250000 : 0};
            amqp_rpc_reply_t reply = amqp_consume_message(state, &items[count].delivery, &tv, 0);
            if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                reply.library_error == AMQP_STATUS_TIMEOUT)
                break;
            if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
                SOUK_LOG(SOUK_LOG_WARN, "consumer %d lost the broker (%s); reconnecting", c->index,
                         souk_strerror(souk_amqp_reply_status(reply)));
                lost = 1;
                break;
            }
            memset(&items[count].msg, 0, sizeof items[count].msg);
            items[count].why[0] = '\0';
            items[count].delivered_us = souk_wall_us();
            items[count].started_us = items[count].ended_us = 0;
            prepare(c, &items[count]);
            count++;
        }
        if (count > 0) {
            handle_batch(c, items, count);
            /* Unacked deliveries of a lost channel are redelivered by the broker. */
            if (!lost && settle_batch(c, items, count) != 0)
                lost = 1;
        }
        for (int i = 0; i < count; i++) {
            json_object_put(items[i].payload);
            souk_envelope_clear(&items[i].msg);
            amqp_destroy_envelope(&items[i].delivery);
        }
        if (lost)
            consumer_disconnect(c);
        purge_journal(c);
    }
    consumer_disconnect(c);
    PQfinish(c->db);
    c->db = NULL;
    souk_publisher_free(c->publisher);
    if (c->def->thread_free)
        c->def->thread_free(c->service_state);
    free(items);
    SOUK_LOG(SOUK_LOG_INFO, "consumer %d stopped", c->index);
    return NULL;
}

int souk_runtime_batch_limit(const souk_service_def *def, const souk_config *cfg)
{
    int limit =
        def->batch_max > 0 && def->batch_max < SOUK_BATCH_CAP ? def->batch_max : SOUK_BATCH_CAP;
    long prefetch = souk_config_int(cfg, SOUK_CFG_PREFETCH);
    if (prefetch < limit)
        limit = prefetch > 0 ? (int)prefetch : 1;
    return limit;
}

souk_runtime *souk_runtime_start(const souk_config *cfg, souk_service service, int concurrency,
                                 souk_status *status)
{
    const souk_service_def *def = souk_service_definition(service);
    int batch_limit = souk_runtime_batch_limit(def, cfg);
    if (def->batch_max > SOUK_BATCH_CAP)
        SOUK_LOG(SOUK_LOG_WARN, "batch_max %d of %s is above the runtime's %d; using %d",
                 def->batch_max, souk_service_name(service), SOUK_BATCH_CAP, batch_limit);
    souk_runtime *rt = souk_calloc(1, sizeof *rt);
    rt->consumers = souk_calloc((size_t)concurrency, sizeof *rt->consumers);
    for (int i = 0; i < concurrency; i++) {
        struct consumer *c = &rt->consumers[i];
        c->cfg = cfg;
        c->def = def;
        c->batch_limit = batch_limit;
        c->index = i;
        c->journal = souk_journal_enabled(cfg);
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
