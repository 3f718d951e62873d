/* The messaging core against the real broker and database: an event added
 * through an outbox reaches a subscribed service's effect exactly once,
 * whatever fails in between. The effect is the analytics service's record
 * of the event (one row and one count per message); the publisher is the
 * order worker's outbox relay. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/outbox.h"
#include "events/tx.h"
#include "events/publisher.h"
#include "tests/support/broker.h"
#include "tests/support/concurrency.h"
#include "tests/support/harness.h"

#define COUNT_SQL "SELECT count(*) FROM analytics.order_events WHERE order_id = $1"
#define DISTINCT_SQL                                                                               \
    "SELECT count(DISTINCT message_id) FROM analytics.order_events WHERE order_id = $1"
#define PENDING_SQL                                                                                \
    "SELECT count(*) FROM orders.outbox WHERE correlation_id = $1 AND sent_at IS NULL"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void setup(void)
{
    th_purge_queue("analytics-service");
    th_purge_queue("analytics-service.dlq");
    th_purge_queue("inventory-service");
}

static void teardown(void)
{
    th_kill_all();
}

TestSuite(messaging, .init = setup, .fini = teardown, .timeout = 180);

static json_object *order_created(const char *order_id)
{
    return th_event_payload("OrderCreated", order_id);
}

static pid_t start_worker(const char *service, const char *const *env, const char *log)
{
    const char *args[] = {service, "--concurrency", "2", NULL};
    return th_spawn(th_binary("workers/souk-worker"), args, env, log);
}

/* Adds count OrderCreated events for order_id to orders.outbox in one
 * transaction, committed or rolled back. */
static void add_to_outbox(const char *order_id, int count, int commit)
{
    PGconn *db = th_pg_as("souk_orders", "souk_orders");
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx, "%s", souk_strerror(st));
    for (int i = 0; i < count; i++) {
        json_object *payload = order_created(order_id);
        souk_outbox_event ev = {
            .type = SOUK_EVENT_ORDER_CREATED, .correlation_id = order_id, .payload = payload};
        cr_assert_eq(souk_tx_emit(tx, &ev, NULL), SOUK_OK, "%s", souk_tx_error(tx));
        json_object_put(payload);
    }
    /* The relay runs in the order worker, another process. */
    cr_assert_eq(souk_tx_notify_relays(tx, SOUK_SCHEMA_ORDERS), SOUK_OK);
    if (commit)
        cr_assert_eq(souk_tx_commit(tx), SOUK_OK, "%s", souk_tx_error(tx));
    souk_tx_free(tx); /* rolls back when not committed */
    PQfinish(db);
}

Test(messaging, outbox_events_reach_the_subscriber_exactly_once)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker("analytics", NULL, "t-msg-analytics");
    start_worker("order", NULL, "t-msg-order");
    add_to_outbox(order, 40, 1);
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, order, 40, 30000), 40);
    cr_assert_eq(th_pg_long(DISTINCT_SQL, order), 40);
    cr_assert_eq(th_wait_pg_long(PENDING_SQL, order, 0, 10000), 0);
    th_sleep_ms(500); /* nothing more arrives afterwards */
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 40);
}

/* The first row's column of a one-parameter query as the superuser ("" when
 * none or NULL), into out. */
static void pg_text(const char *sql, const char *param, char *out, size_t cap)
{
    PGconn *db = th_pg_admin();
    const char *params[1] = {param};
    PGresult *res = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
    snprintf(out, cap, "%s",
             PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0)
                                                                          : "");
    PQclear(res);
    PQfinish(db);
}

/* Takes messages off queue until one of order_id comes, waiting up to
 * 15 s; NULL when none came. */
static json_object *take_one(const char *queue, const char *order_id)
{
    for (int i = 0; i < 150; i++) {
        json_object *taken = th_queue_take(queue, 10);
        for (size_t k = 0; taken && k < json_object_array_length(taken); k++) {
            json_object *message = json_object_array_get_idx(taken, k);
            json_object *props = json_object_object_get(message, "properties");
            const char *id =
                json_object_get_string(json_object_object_get(props, "correlation_id"));
            if (id && strcmp(id, order_id) == 0) {
                json_object_get(message);
                json_object_put(taken);
                return message;
            }
        }
        json_object_put(taken);
        th_sleep_ms(100);
    }
    return NULL;
}

static const char *header_text(json_object *message, const char *key);

#define TRACE_ID    "4bf92f3577b34da6a3ce929d0e0e4736"
#define CALLER_SPAN "00f067aa0ba902b7"
#define ROW_SQL(col)                                                                               \
    "SELECT " col " FROM orders.outbox WHERE correlation_id = $1 ORDER BY id LIMIT 1"

Test(messaging, an_event_carries_its_trace_context_from_the_outbox_row_to_the_consumer)
{
    char order[37];
    souk_uuid_v4(order);
    souk_trace_ctx caller;
    cr_assert_eq(souk_trace_parse("00-" TRACE_ID "-" CALLER_SPAN "-01", "souk-test=1", &caller), 0);
    PGconn *db = th_pg_as("souk_orders", "souk_orders");
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx);
    json_object *payload = order_created(order);
    souk_outbox_event ev = {.type = SOUK_EVENT_ORDER_CREATED,
                            .correlation_id = order,
                            .payload = payload,
                            .trace = &caller};
    cr_assert_eq(souk_tx_emit(tx, &ev, NULL), SOUK_OK, "%s", souk_tx_error(tx));
    cr_assert_eq(souk_tx_notify_relays(tx, SOUK_SCHEMA_ORDERS), SOUK_OK);
    cr_assert_eq(souk_tx_commit(tx), SOUK_OK);
    souk_tx_free(tx);
    PQfinish(db);
    json_object_put(payload);

    /* the row: the message's own span, a child of the emitting one */
    char traceparent[128], tracestate[128], parent[64];
    pg_text(ROW_SQL("traceparent"), order, traceparent, sizeof traceparent);
    pg_text(ROW_SQL("tracestate"), order, tracestate, sizeof tracestate);
    pg_text(ROW_SQL("parent_span_id"), order, parent, sizeof parent);
    souk_trace_ctx row;
    cr_assert_eq(souk_trace_parse(traceparent, NULL, &row), 0, "row traceparent '%s'", traceparent);
    cr_assert_eq(strncmp(traceparent, "00-" TRACE_ID "-", 36), 0, "%s", traceparent);
    cr_assert_neq(strncmp(traceparent + 36, CALLER_SPAN, 16), 0, "the publish has its own span");
    cr_assert_str_eq(parent, CALLER_SPAN);
    cr_assert_str_eq(tracestate, "souk-test=1");

    /* the relay publishes the row's context, not one of its own */
    start_worker("order", NULL, "t-msg-trace-relay");
    json_object *message = take_one("inventory-service", order);
    cr_assert_not_null(message, "the event never reached inventory-service");
    cr_assert_str_eq(header_text(message, "traceparent"), traceparent);
    cr_assert_str_eq(header_text(message, "tracestate"), "souk-test=1");
    json_object_put(message);
}

Test(messaging, a_handler_s_events_are_children_of_its_message_s_process_span)
{
    char order[37];
    souk_uuid_v4(order);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/schemas/CartCheckedOut/valid/full.json", SOUK_SOURCE_DIR);
    json_object *payload = json_object_from_file(path);
    cr_assert_not_null(payload);
    json_object_object_add(payload, "order_id", json_object_new_string(order));
    souk_envelope env = th_envelope(
        order, "CartCheckedOut", json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    snprintf(env.traceparent, sizeof env.traceparent, "00-%s-%s-01", TRACE_ID, CALLER_SPAN);
    th_publish("CartCheckedOut", "", &env);
    start_worker("order", NULL, "t-msg-trace-child");
    cr_assert_eq(th_wait_pg_long("SELECT count(*) FROM orders.outbox WHERE correlation_id = $1 "
                                 "AND type = 'OrderCreated'",
                                 order, 1, 30000),
                 1);
    char traceparent[128], parent[64];
    pg_text(ROW_SQL("traceparent"), order, traceparent, sizeof traceparent);
    pg_text(ROW_SQL("parent_span_id"), order, parent, sizeof parent);
    cr_assert_eq(strncmp(traceparent, "00-" TRACE_ID "-", 36), 0, "the trace goes on: %s",
                 traceparent);
    cr_assert_eq(strlen(parent), 16);
    cr_assert_str_neq(parent, CALLER_SPAN, "the event's parent is the handling, not the publish");
    cr_assert_neq(strncmp(traceparent + 36, parent, 16), 0);
    /* the handler's log line names that very span */
    char span[64];
    snprintf(span, sizeof span, "trace_id=%s span_id=%s", TRACE_ID, parent);
    cr_assert(th_wait_log("t-msg-trace-child", "order created", span, 5000),
              "the handler's line does not carry its process span (%s)", span);
    char trace_id[64];
    pg_text("SELECT trace_id FROM orders.orders WHERE id = $1::uuid", order, trace_id,
            sizeof trace_id);
    cr_assert_str_eq(trace_id, TRACE_ID, "the order keeps the trace its checkout began");
    json_object_put(payload);
}

Test(messaging, commits_wake_the_relay_of_their_own_process_at_once)
{
    /* with a fallback poll of a minute, only the commits' wake-ups can
     * publish the rows within the seconds the scenario allows */
    setenv("SOUK_OUTBOX_POLL_MS", "60000", 1);
    souk_config *cfg = NULL;
    char err[256] = "";
    cr_assert_eq(souk_config_load(&cfg, "order", err, sizeof err), SOUK_OK, "%s", err);
    unsetenv("SOUK_OUTBOX_POLL_MS");
    char why[256] = "";
    cr_assert_eq(tc_relay_wakeup(cfg, why, sizeof why), 0, "%s", why);
    souk_config_free(cfg);
}

Test(messaging, sent_outbox_rows_are_purged_after_the_retention)
{
    char order[37];
    souk_uuid_v4(order);
    const char *env[] = {"SOUK_OUTBOX_RETENTION_S=1", NULL};
    start_worker("analytics", NULL, "t-msg-analytics-purge");
    start_worker("order", env, "t-msg-order-purge");
    add_to_outbox(order, 3, 1);
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, order, 3, 30000), 3, "delivered first");
    cr_assert_eq(th_wait_pg_long("SELECT count(*) FROM orders.outbox WHERE correlation_id = $1",
                                 order, 0, 15000),
                 0, "sent rows older than the retention are deleted");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 3);
}

Test(messaging, an_unroutable_message_is_reported_not_dropped)
{
    /* a fanout exchange nobody is bound to: the mandatory flag brings the
     * message back, and the publisher reports it instead of a success */
    long declared = th_mgmt("PUT", "/exchanges/souk/test-unroutable",
                            "{\"type\":\"fanout\",\"durable\":false}", NULL);
    cr_assert(declared == 201 || declared == 204, "declaring the exchange: %ld", declared);
    setenv("SOUK_AMQP_USER", getenv("SOUK_TEST_ADMIN_USER"), 1);
    setenv("SOUK_AMQP_PASSWORD", getenv("SOUK_TEST_ADMIN_PASSWORD"), 1);
    souk_config *cfg = NULL;
    char err[256];
    cr_assert_eq(souk_config_load(&cfg, "test", err, sizeof err), SOUK_OK);
    unsetenv("SOUK_AMQP_USER");
    unsetenv("SOUK_AMQP_PASSWORD");
    souk_publisher *pub = souk_publisher_new(cfg, SOUK_SERVICE_GATEWAY);
    char order[37];
    souk_uuid_v4(order);
    souk_envelope routed = th_envelope(order, "OrderCreated", "{}");
    souk_envelope lost = th_envelope(order, "OrderCreated", "{}");
    souk_publish_item items[2] = {
        {.exchange = "test-unroutable", .routing_key = "", .env = &lost},
        {.exchange = "", .routing_key = "analytics-service.dlq", .env = &routed}};
    souk_status results[2];
    cr_assert_neq(souk_publisher_publish(pub, items, 2, results, 5000), SOUK_OK);
    cr_assert_eq(results[0], SOUK_ENOTFOUND, "%s", souk_status_name(results[0]));
    cr_assert_eq(results[1], SOUK_OK, "the routable one in the same batch is confirmed");
    /* an exchange that does not exist: the broker closes the channel (404),
     * which is unroutable too, not a broker outage */
    souk_envelope nowhere = th_envelope(order, "OrderCreated", "{}");
    souk_publish_item missing = {
        .exchange = "test-no-such-exchange", .routing_key = "", .env = &nowhere};
    cr_assert_eq(souk_publisher_publish(pub, &missing, 1, results, 5000), SOUK_ENOTFOUND);
    cr_assert_eq(results[0], SOUK_ENOTFOUND, "%s", souk_status_name(results[0]));
    souk_publisher_free(pub);
    souk_config_free(cfg);
    th_purge_queue("analytics-service.dlq");
    th_mgmt("DELETE", "/exchanges/souk/test-unroutable", NULL, NULL);
}

Test(messaging, a_rolled_back_transaction_publishes_nothing)
{
    char rolled_back[37], committed[37];
    souk_uuid_v4(rolled_back);
    souk_uuid_v4(committed);
    start_worker("analytics", NULL, "t-msg-analytics");
    start_worker("order", NULL, "t-msg-order");
    add_to_outbox(rolled_back, 3, 0);
    add_to_outbox(committed, 1, 1);
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, committed, 1, 30000), 1);
    cr_assert_eq(th_pg_long(COUNT_SQL, rolled_back), 0);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM orders.outbox WHERE correlation_id = $1", rolled_back), 0);
}

Test(messaging, a_message_delivered_twice_changes_nothing_the_second_time)
{
    char order[37];
    souk_uuid_v4(order);
    json_object *payload = order_created(order);
    const char *body = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    const char *env_debug[] = {"SOUK_LOG_LEVEL=debug", NULL};
    start_worker("analytics", env_debug, "t-msg-dup");
    th_publish("OrderCreated", "", &env);
    th_publish("OrderCreated", "", &env);
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, order, 1, 30000), 1);
    cr_assert(th_wait_log("t-msg-dup", env.message_id, "duplicate ignored", 15000),
              "the second delivery was never seen");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 1);
    json_object_put(payload);
}

Test(messaging, a_message_twice_in_one_batch_is_handled_once)
{
    /* Queued before the only consumer starts, so one batch takes them all:
     * the batch's single inbox statement must still tell the copies apart,
     * whatever the case of the id's hex digits. */
    char order[37], other[37];
    souk_uuid_v4(order);
    souk_uuid_v4(other);
    json_object *payload = order_created(order);
    souk_envelope first = th_envelope(
        order, "OrderCreated", json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    souk_envelope second = first;
    for (char *p = first.message_id; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    json_object *other_payload = order_created(other);
    souk_envelope third =
        th_envelope(other, "OrderCreated",
                    json_object_to_json_string_ext(other_payload, JSON_C_TO_STRING_PLAIN));
    /* a lone id in upper case is new, though the database answers in lower */
    for (char *p = third.message_id; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    th_publish("OrderCreated", "", &first);
    th_publish("OrderCreated", "", &second);
    th_publish("OrderCreated", "", &third);
    const char *args[] = {"analytics", "--concurrency", "1", NULL};
    const char *env_debug[] = {"SOUK_LOG_LEVEL=debug", NULL};
    th_spawn(th_binary("workers/souk-worker"), args, env_debug, "t-msg-dup-batch");
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, other, 1, 30000), 1);
    cr_assert(th_wait_log("t-msg-dup-batch", order, "duplicate ignored", 15000),
              "the second copy was not recognised as a duplicate");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 1);
    cr_assert(!th_wait_log("t-msg-dup-batch", other, "duplicate ignored", 0),
              "the upper-case id was taken for a duplicate");
    json_object_put(payload);
    json_object_put(other_payload);
}

Test(messaging, a_consumer_killed_after_commit_and_before_ack_doubles_nothing)
{
    char order[37];
    souk_uuid_v4(order);
    char fault[96];
    snprintf(fault, sizeof fault, "SOUK_FAULT_KILL_AFTER_COMMIT=%s", order);
    const char *env_fault[] = {fault, NULL};
    pid_t doomed = start_worker("analytics", env_fault, "t-msg-kill");
    json_object *payload = order_created(order);
    souk_envelope env = th_envelope(
        order, "OrderCreated", json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    th_publish("OrderCreated", "", &env);
    cr_assert_eq(th_wait_exit(doomed, 30000), 128 + SIGKILL, "the fault did not fire");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 1, "the effect was committed before the crash");
    /* The unacked message goes back to the queue for the next consumer. */
    const char *env_debug[] = {"SOUK_LOG_LEVEL=debug", NULL};
    start_worker("analytics", env_debug, "t-msg-after-kill");
    cr_assert(th_wait_log("t-msg-after-kill", env.message_id, "duplicate ignored", 15000),
              "the redelivery was not recognised as a duplicate");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 1);
    json_object_put(payload);
}

Test(messaging, pending_outbox_rows_survive_a_broker_restart)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker("analytics", NULL, "t-msg-analytics-restart");
    start_worker("order", NULL, "t-msg-order-restart");
    cr_assert_eq(th_stackctl("broker-stop"), 0);
    add_to_outbox(order, 20, 1);
    th_sleep_ms(1500); /* the relay tries and fails meanwhile */
    cr_assert_eq(th_pg_long(PENDING_SQL, order), 20);
    cr_assert_eq(th_stackctl("broker-start"), 0);
    /* relay and consumers reconnect and declare their topology again */
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, order, 20, 60000), 20);
    cr_assert_eq(th_wait_pg_long(PENDING_SQL, order, 0, 10000), 0);
    th_sleep_ms(1000);
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 20);
    cr_assert_eq(th_pg_long(DISTINCT_SQL, order), 20);
}

Test(messaging, a_database_restart_mid_transaction_loses_and_doubles_nothing)
{
    char order[37];
    souk_uuid_v4(order);
    const char *env_slow[] = {"SOUK_FAULT_HANDLER_DELAY_MS=1500", NULL};
    start_worker("analytics", env_slow, "t-msg-dbrestart");
    json_object *payload = order_created(order);
    const char *body = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
    for (int i = 0; i < 3; i++) {
        souk_envelope env = th_envelope(order, "OrderCreated", body);
        th_publish("OrderCreated", "", &env);
    }
    th_sleep_ms(700); /* consumers are now inside their transactions */
    cr_assert_eq(th_stackctl("db-stop"), 0);
    th_sleep_ms(1000);
    cr_assert_eq(th_stackctl("db-start"), 0);
    cr_assert_eq(th_wait_pg_long(COUNT_SQL, order, 3, 60000), 3);
    th_sleep_ms(2000);
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 3);
    cr_assert_eq(th_pg_long(DISTINCT_SQL, order), 3);
    json_object_put(payload);
}

static const char *header_text(json_object *message, const char *key)
{
    json_object *props = json_object_object_get(message, "properties");
    json_object *headers = json_object_object_get(props, "headers");
    return json_object_get_string(json_object_object_get(headers, key));
}

/* Waits until the analytics DLQ has a message and takes it. */
static json_object *take_dead_letter(void)
{
    for (int i = 0; i < 150; i++) {
        json_object *taken = th_queue_take("analytics-service.dlq", 1);
        if (taken && json_object_array_length(taken) == 1) {
            json_object *message = json_object_get(json_object_array_get_idx(taken, 0));
            json_object_put(taken);
            return message;
        }
        json_object_put(taken);
        th_sleep_ms(100);
    }
    return NULL;
}

Test(messaging, a_poison_message_is_dead_lettered_after_its_retries_while_others_proceed)
{
    char poison[37];
    souk_uuid_v4(poison);
    char fault[96];
    snprintf(fault, sizeof fault, "SOUK_FAULT_RETRY_ORDER=%s", poison);
    const char *env[] = {fault, "SOUK_RETRY_DELAYS_MS=300,600", NULL};
    start_worker("analytics", env, "t-msg-poison");

    json_object *payload = order_created(poison);
    souk_envelope bad = th_envelope(
        poison, "OrderCreated", json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    snprintf(bad.traceparent, sizeof bad.traceparent, "00-%s-%s-01", TRACE_ID, CALLER_SPAN);
    snprintf(bad.tracestate, sizeof bad.tracestate, "souk-test=1");
    th_publish("OrderCreated", "", &bad);
    char others[5][37];
    for (int i = 0; i < 5; i++) {
        souk_uuid_v4(others[i]);
        json_object *p = order_created(others[i]);
        souk_envelope good = th_envelope(others[i], "OrderCreated",
                                         json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
        th_publish("OrderCreated", "", &good);
        json_object_put(p);
    }
    for (int i = 0; i < 5; i++)
        cr_assert_eq(th_wait_pg_long(COUNT_SQL, others[i], 1, 20000), 1);

    json_object *dead = take_dead_letter();
    cr_assert_not_null(dead, "the poison message never reached the DLQ");
    cr_assert_str_eq(header_text(dead, "x-souk-attempts"), "3");
    cr_assert(strstr(header_text(dead, "x-souk-error"), "retries exhausted") != NULL);
    cr_assert(strstr(header_text(dead, "x-souk-error"), "injected transient failure") != NULL);
    cr_assert_str_eq(header_text(dead, "x-souk-original-exchange"), "OrderCreated");
    cr_assert_not_null(header_text(dead, "x-souk-first-failure"));
    json_object *props = json_object_object_get(dead, "properties");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(props, "message_id")),
                     bad.message_id);
    cr_assert_eq(th_pg_long(COUNT_SQL, poison), 0);
    /* every retry kept the message's context, and each attempt's lines carry its trace */
    cr_assert_str_eq(header_text(dead, "traceparent"), bad.traceparent);
    cr_assert_str_eq(header_text(dead, "tracestate"), "souk-test=1");
    const char *lines[] = {"attempt=1", "attempt=2", "dead-lettered"};
    for (int i = 0; i < 3; i++)
        cr_assert(th_wait_log("t-msg-poison", lines[i], "trace_id=" TRACE_ID, 5000),
                  "no '%s' line with the message's trace", lines[i]);
    json_object_put(dead);
    json_object_put(payload);
}

Test(messaging, an_invalid_payload_goes_straight_to_the_dlq_with_the_validation_error)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker("analytics", NULL, "t-msg-invalid");
    souk_envelope env =
        th_envelope(order, "OrderCreated", "{\"order_id\":\"nope\",\"customer_id\":5}");
    th_publish("OrderCreated", "", &env);
    json_object *dead = take_dead_letter();
    cr_assert_not_null(dead);
    const char *error = header_text(dead, "x-souk-error");
    cr_assert(strstr(error, "schema validation failed") != NULL, "%s", error);
    cr_assert_str_eq(header_text(dead, "x-souk-attempts"), "1");
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 0);
    json_object_put(dead);
}

Test(messaging, a_payload_with_a_nul_character_is_dead_lettered_naming_the_field)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker("analytics", NULL, "t-msg-nul");
    json_object *payload = order_created(order);
    json_object *address = json_object_object_get(payload, "shipping_address");
    json_object_object_add(address, "city", json_object_new_string_len("Fes\0x", 5));
    souk_envelope env = th_envelope(
        order, "OrderCreated", json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    th_publish("OrderCreated", "", &env);
    json_object *dead = take_dead_letter();
    cr_assert_not_null(dead);
    const char *error = header_text(dead, "x-souk-error");
    cr_assert(strstr(error, "/shipping_address/city: must not contain NUL characters") != NULL,
              "%s", error);
    cr_assert_eq(th_pg_long(COUNT_SQL, order), 0);
    json_object_put(dead);
    json_object_put(payload);
}

Test(messaging, a_message_of_unknown_type_is_dead_lettered_not_dropped)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker("analytics", NULL, "t-msg-unknown");
    souk_envelope env = th_envelope(order, "OrderTeleported", "{}");
    th_publish("", "analytics-service", &env);
    json_object *dead = take_dead_letter();
    cr_assert_not_null(dead);
    const char *error = header_text(dead, "x-souk-error");
    cr_assert(strstr(error, "no handler for event type 'OrderTeleported'") != NULL, "%s", error);
    json_object_put(dead);
}
