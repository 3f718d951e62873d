/* The journal as the worker runtime writes it, against the real broker and
 * database: every delivery the analytics service settles is one hop in
 * analytics.journal, with its ids, its times in order and its outcome
 * (handled, duplicate, retry scheduled, dead-lettered, replayed); the hops
 * of effects commit with them; SOUK_JOURNAL=off records none; old hops are
 * purged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"

#define HOPS_SQL   "SELECT count(*) FROM analytics.journal WHERE order_id = $1"
#define EFFECT_SQL "SELECT count(*) FROM analytics.order_events WHERE order_id = $1"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void setup(void)
{
    th_purge_queue("analytics-service");
    th_purge_queue("analytics-service.dlq");
}

static void teardown(void)
{
    th_kill_all();
    th_purge_queue("analytics-service.dlq"); /* the end-to-end tests expect empty DLQs */
}

TestSuite(journal, .init = setup, .fini = teardown, .timeout = 120);

static char *order_created(const char *order_id)
{
    json_object *payload = th_event_payload("OrderCreated", order_id);
    char *text = strdup(json_object_to_json_string(payload));
    json_object_put(payload);
    return text;
}

static void start_analytics(const char *const *env, const char *log)
{
    const char *args[] = {"analytics", "--concurrency", "1", NULL};
    th_spawn(th_binary("workers/souk-worker"), args, env, log);
    cr_assert_eq(th_wait_log(log, "consuming queue=analytics-service", NULL, 15000), 1);
}

/* Publishes env straight to the analytics queue, as if through its
 * exchange: the exchange's other queues (inventory's) stay out of it. */
static void to_analytics(souk_envelope *env)
{
    snprintf(env->original_exchange, sizeof env->original_exchange, "%s", env->type);
    th_publish("", "analytics-service", env);
}

/* The hops of order_id in the order they were recorded, as a JSON array of
 * rows (column name -> text or null). */
static json_object *hops_of(const char *order_id)
{
    PGconn *db = th_pg_admin();
    const char *params[1] = {order_id};
    PGresult *res = PQexecParams(
        db,
        "SELECT coalesce(json_agg(j ORDER BY committed_at, attempt), '[]') FROM ("
        "SELECT message_id, causation_id, event_type, queue, exchange, outcome, attempt, "
        "retry_delay_ms, reason, replayed, trace_id, span_id, parent_span_id, "
        "published_at IS NOT NULL AS has_published, "
        "published_at <= delivered_at AS waited, "
        "delivered_at <= handler_started_at AND handler_started_at <= handler_ended_at "
        "AND handler_ended_at <= committed_at AS timed, "
        "handler_started_at IS NULL AS no_handler, committed_at "
        "FROM analytics.journal WHERE order_id = $1) j",
        1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
    json_object *rows = json_tokener_parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(db);
    cr_assert_not_null(rows);
    return rows;
}

static const char *field(json_object *row, const char *key)
{
    json_object *v = json_object_object_get(row, key);
    return v ? json_object_get_string(v) : "";
}

static int flag(json_object *row, const char *key)
{
    return json_object_get_boolean(json_object_object_get(row, key));
}

Test(journal, a_handled_delivery_is_one_hop_with_its_ids_and_times_in_order)
{
    start_analytics(NULL, "t-journal-handled");
    char order[37];
    souk_uuid_v4(order);
    char *body = order_created(order);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    snprintf(env.causation_id, sizeof env.causation_id, "7f0c1e9a-1d2b-4c3d-8e4f-5a6b7c8d9e0f");
    snprintf(env.traceparent, sizeof env.traceparent,
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 1, 15000), 1);
    json_object *hops = hops_of(order);
    json_object *h = json_object_array_get_idx(hops, 0);
    cr_assert_str_eq(field(h, "outcome"), "handled");
    cr_assert_str_eq(field(h, "message_id"), env.message_id);
    cr_assert_str_eq(field(h, "causation_id"), env.causation_id);
    cr_assert_str_eq(field(h, "event_type"), "OrderCreated");
    cr_assert_str_eq(field(h, "queue"), "analytics-service");
    cr_assert_str_eq(field(h, "exchange"), "OrderCreated");
    cr_assert_str_eq(field(h, "attempt"), "1");
    cr_assert_str_eq(field(h, "trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736",
                     "the hop is in the message's trace");
    cr_assert_str_eq(field(h, "parent_span_id"), "00f067aa0ba902b7",
                     "its parent is the span that published the message");
    cr_assert_eq(strlen(field(h, "span_id")), 16);
    cr_assert_str_neq(field(h, "span_id"), "00f067aa0ba902b7");
    cr_assert(flag(h, "has_published"), "the publish time travelled with the message");
    cr_assert(flag(h, "waited"), "published before it was delivered");
    cr_assert(flag(h, "timed"), "delivered, handled and committed in that order: %s",
              json_object_to_json_string(h));
    cr_assert_eq(th_pg_long(EFFECT_SQL, order), 1);
    json_object_put(hops);
    free(body);
}

Test(journal, a_duplicate_delivery_is_a_duplicate_hop_and_changes_nothing)
{
    start_analytics(NULL, "t-journal-dup");
    char order[37];
    souk_uuid_v4(order);
    char *body = order_created(order);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 1, 15000), 1);
    to_analytics(&env); /* the same message id again */
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 2, 15000), 2);
    json_object *hops = hops_of(order);
    cr_assert_str_eq(field(json_object_array_get_idx(hops, 0), "outcome"), "handled");
    json_object *dup = json_object_array_get_idx(hops, 1);
    cr_assert_str_eq(field(dup, "outcome"), "duplicate");
    cr_assert_str_eq(field(dup, "message_id"), env.message_id);
    cr_assert(flag(dup, "no_handler"), "no handler ran for the duplicate");
    cr_assert_eq(th_pg_long(EFFECT_SQL, order), 1, "the duplicate changed nothing");
    json_object_put(hops);
    free(body);
}

Test(journal, a_poison_message_is_a_dead_lettered_hop_with_its_reason)
{
    start_analytics(NULL, "t-journal-poison");
    char order[37];
    souk_uuid_v4(order);
    souk_envelope env = th_envelope(order, "OrderCreated", "{\"order_id\": 42}");
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 1, 15000), 1);
    json_object *hops = hops_of(order);
    json_object *h = json_object_array_get_idx(hops, 0);
    cr_assert_str_eq(field(h, "outcome"), "dead_lettered");
    cr_assert_str_eq(field(h, "attempt"), "1");
    cr_assert(strstr(field(h, "reason"), "schema validation failed"), "%s", field(h, "reason"));
    json_object_put(hops);
    /* and the message itself is in the dead-letter queue */
    json_object *taken = th_queue_take("analytics-service.dlq", 10);
    cr_assert(taken && json_object_array_length(taken) == 1);
    json_object_put(taken);
}

Test(journal, retries_are_hops_with_attempt_numbers_and_delays)
{
    char order[37];
    souk_uuid_v4(order);
    char fault[80];
    snprintf(fault, sizeof fault, "SOUK_FAULT_RETRY_ORDER=%s", order);
    const char *env_vars[] = {fault, "SOUK_RETRY_DELAYS_MS=200,400", NULL};
    start_analytics(env_vars, "t-journal-retry");
    char *body = order_created(order);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 3, 20000), 3);
    json_object *hops = hops_of(order);
    json_object *first = json_object_array_get_idx(hops, 0);
    json_object *second = json_object_array_get_idx(hops, 1);
    json_object *last = json_object_array_get_idx(hops, 2);
    cr_assert_str_eq(field(first, "outcome"), "retry_scheduled");
    cr_assert_str_eq(field(first, "attempt"), "1");
    cr_assert_str_eq(field(first, "retry_delay_ms"), "200");
    cr_assert_str_eq(field(first, "reason"), "injected transient failure");
    cr_assert_str_eq(field(second, "outcome"), "retry_scheduled");
    cr_assert_str_eq(field(second, "attempt"), "2");
    cr_assert_str_eq(field(second, "retry_delay_ms"), "400");
    cr_assert_str_eq(field(last, "outcome"), "dead_lettered");
    cr_assert_str_eq(field(last, "attempt"), "3");
    cr_assert(strstr(field(last, "reason"), "retries exhausted"), "%s", field(last, "reason"));
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(field(json_object_array_get_idx(hops, (size_t)i), "message_id"),
                         env.message_id, "one message, three attempts");
    cr_assert_eq(th_pg_long(EFFECT_SQL, order), 0, "each attempt was rolled back");
    json_object_put(hops);
    free(body);
}

Test(journal, a_replayed_message_is_a_replayed_hop)
{
    start_analytics(NULL, "t-journal-replay");
    char order[37];
    souk_uuid_v4(order);
    char *body = order_created(order);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    env.replayed = 1; /* as souk dlq replay sends it */
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, order, 1, 15000), 1);
    json_object *hops = hops_of(order);
    json_object *h = json_object_array_get_idx(hops, 0);
    cr_assert_str_eq(field(h, "outcome"), "replayed");
    cr_assert_str_eq(field(h, "replayed"), "1");
    cr_assert_eq(th_pg_long(EFFECT_SQL, order), 1);
    json_object_put(hops);
    free(body);
}

Test(journal, off_records_no_hop_and_still_takes_effect)
{
    const char *env_vars[] = {"SOUK_JOURNAL=off", NULL};
    start_analytics(env_vars, "t-journal-off");
    char order[37];
    souk_uuid_v4(order);
    char *body = order_created(order);
    souk_envelope env = th_envelope(order, "OrderCreated", body);
    to_analytics(&env);
    cr_assert_eq(th_wait_pg_long(EFFECT_SQL, order, 1, 15000), 1);
    th_sleep_ms(300);
    cr_assert_eq(th_pg_long(HOPS_SQL, order), 0);
    free(body);
}

Test(journal, hops_older_than_the_retention_are_purged)
{
    char old_order[37], new_order[37];
    souk_uuid_v4(old_order);
    souk_uuid_v4(new_order);
    PGconn *db = th_pg_admin();
    const char *params[2] = {old_order, new_order};
    PGresult *res = PQexecParams(
        db,
        "INSERT INTO analytics.journal (order_id, message_id, event_type, queue, exchange, "
        "outcome, attempt, delivered_at, committed_at) VALUES "
        "($1, gen_random_uuid(), 'OrderCreated', 'analytics-service', 'OrderCreated', "
        "'handled', 1, now() - interval '2 hours', now() - interval '2 hours'), "
        "($2, gen_random_uuid(), 'OrderCreated', 'analytics-service', 'OrderCreated', "
        "'handled', 1, now() - interval '10 minutes', now() - interval '10 minutes')",
        2, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(db));
    PQclear(res);
    PQfinish(db);
    const char *env_vars[] = {"SOUK_JOURNAL_RETENTION_S=3600", NULL};
    start_analytics(env_vars, "t-journal-purge");
    cr_assert_eq(th_wait_pg_long(HOPS_SQL, old_order, 0, 10000), 0, "the 2-hour-old hop went");
    cr_assert_eq(th_pg_long(HOPS_SQL, new_order), 1, "the 10-minute-old hop stays");
}
