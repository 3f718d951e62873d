/* souk-dlq (tools/) against the real broker. list and show leave the
 * dead-letter queue exactly as it was; a replay reaches the queues of the
 * message's original exchange and only then leaves the DLQ, so a replay
 * killed between the broker's confirm and the ack leaves the message in
 * both places, never in neither; an unroutable message stays in the DLQ
 * and the replay fails. The DLQ is analytics's; no worker runs, so the
 * tests read the queues directly through the management API. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"

#define DLQ "analytics-service.dlq"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void setup(void)
{
    th_purge_queue(DLQ);
    th_purge_queue("analytics-service");
    th_purge_queue("inventory-service");
    th_purge_queue("notification-service");
}

static void teardown(void)
{
    th_kill_all();
}

TestSuite(dlq, .init = setup, .fini = teardown, .timeout = 120);

/* A dead letter as a worker writes it: the failure headers of its last
 * attempt; exchange NULL for one without x-souk-original-exchange. */
struct dead_letter {
    char order[37];
    char body[96];
    souk_envelope env;
};

static void put_dead_letter(struct dead_letter *d, const char *type, const char *exchange)
{
    souk_uuid_v4(d->order);
    snprintf(d->body, sizeof d->body, "{\"order_id\":\"%s\"}", d->order);
    d->env = th_envelope(d->order, type, d->body);
    souk_trace_ctx trace;
    souk_trace_root(&trace);
    souk_trace_format(&trace, d->env.traceparent);
    snprintf(d->env.tracestate, sizeof d->env.tracestate, "souk-test=1");
    d->env.attempts = 3;
    snprintf(d->env.error, sizeof d->env.error, "retries exhausted: provider timeout");
    snprintf(d->env.first_failure, sizeof d->env.first_failure, "2026-11-22T10:00:00.000Z");
    if (exchange)
        snprintf(d->env.original_exchange, sizeof d->env.original_exchange, "%s", exchange);
    th_publish("", DLQ, &d->env);
}

/* Runs souk-dlq with args as the broker administrator, optionally with the
 * kill hook; returns its exit status and, when output is not NULL, a new
 * copy of what it wrote (stdout and stderr). */
static int run_dlq(const char *log, const char *const *args, int kill_hook, char **output)
{
    char user[160], password[160];
    snprintf(user, sizeof user, "SOUK_AMQP_USER=%s", getenv("SOUK_TEST_ADMIN_USER"));
    snprintf(password, sizeof password, "SOUK_AMQP_PASSWORD=%s",
             getenv("SOUK_TEST_ADMIN_PASSWORD"));
    const char *env[] = {user, password, "SOUK_LOG_LEVEL=warn",
                         kill_hook ? "SOUK_FAULT_DLQ_KILL_AFTER_PUBLISH=1" : NULL, NULL};
    unlink(th_log_path(log));
    pid_t pid = th_spawn(th_binary("tools/souk-dlq"), args, env, log);
    int rc = th_wait_exit(pid, 60000);
    if (output) {
        FILE *f = fopen(th_log_path(log), "r");
        cr_assert_not_null(f, "no output from souk-dlq");
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        *output = strdup(buf);
    }
    return rc;
}

static const char *prop(json_object *message, const char *key)
{
    json_object *props = json_object_object_get(message, "properties");
    return json_object_get_string(json_object_object_get(props, key));
}

static json_object *header(json_object *message, const char *key)
{
    json_object *props = json_object_object_get(message, "properties");
    return json_object_object_get(json_object_object_get(props, "headers"), key);
}

/* Takes every message of queue and checks that they are exactly want, in
 * that order, by message id. Returns the taken messages (caller puts). */
static json_object *take_exactly(const char *queue, const struct dead_letter *const *want, int n)
{
    json_object *taken = th_queue_take(queue, 100);
    cr_assert_not_null(taken, "reading %s", queue);
    cr_assert_eq((int)json_object_array_length(taken), n, "%s holds %d messages, not %d", queue,
                 (int)json_object_array_length(taken), n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(prop(json_object_array_get_idx(taken, (size_t)i), "message_id"),
                         want[i]->env.message_id, "message %d of %s", i, queue);
    return taken;
}

/* The copy a replay publishes: same message, failure headers gone. */
static void assert_replayed_copy(json_object *message, const struct dead_letter *d)
{
    cr_assert_str_eq(prop(message, "message_id"), d->env.message_id);
    cr_assert_str_eq(prop(message, "correlation_id"), d->order);
    cr_assert_str_eq(prop(message, "type"), d->env.type);
    cr_assert_str_eq(prop(message, "app_id"), "test");
    cr_assert_eq(json_object_get_int(header(message, "x-souk-replayed")), 1);
    cr_assert_null(header(message, "x-souk-error"));
    cr_assert_null(header(message, "x-souk-attempts"));
    cr_assert_null(header(message, "x-souk-original-exchange"));
    cr_assert_null(header(message, "x-souk-first-failure"));
    cr_assert_str_eq(json_object_get_string(json_object_object_get(message, "payload")), d->body);
    /* the replay joins the message's trace: its context as it was */
    cr_assert_str_eq(json_object_get_string(header(message, "traceparent")), d->env.traceparent);
    cr_assert_str_eq(json_object_get_string(header(message, "tracestate")), "souk-test=1");
}

/* How often needle occurs in out. */
static int occurrences(const char *out, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(out, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

Test(dlq, list_and_show_leave_every_message_in_its_place)
{
    struct dead_letter d[3];
    for (int i = 0; i < 3; i++)
        put_dead_letter(&d[i], "OrderCreated", "OrderCreated");
    const struct dead_letter *all[] = {&d[0], &d[1], &d[2]};

    char *out;
    const char *list[] = {"list", "analytics", NULL};
    cr_assert_eq(run_dlq("t-dlq-list", list, 0, &out), 0, "%s", out);
    const char *head = "MESSAGE_ID\tTYPE\tORDER_ID\tATTEMPTS\tFIRST_FAILURE\tERROR\n";
    cr_assert(strncmp(out, head, strlen(head)) == 0, "%s", out);
    /* each once (a peek that put one back before the next get would see
     * the first again), oldest first, with its columns */
    const char *at[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(occurrences(out, d[i].env.message_id), 1, "%s", out);
        at[i] = strstr(out, d[i].env.message_id);
        char line[8192];
        snprintf(line, sizeof line,
                 "%s\tOrderCreated\t%s\t3\t2026-11-22T10:00:00.000Z\tretries exhausted: provider "
                 "timeout\n",
                 d[i].env.message_id, d[i].order);
        cr_assert_not_null(strstr(out, line), "no line %s in %s", line, out);
    }
    cr_assert(at[0] < at[1] && at[1] < at[2], "%s", out);
    free(out);

    const char *list2[] = {"list", "analytics", "2", NULL};
    cr_assert_eq(run_dlq("t-dlq-list2", list2, 0, &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, d[1].env.message_id), "%s", out);
    cr_assert_null(strstr(out, d[2].env.message_id), "count 2 listed a third: %s", out);
    free(out);

    const char *show[] = {"show", "analytics", NULL};
    cr_assert_eq(run_dlq("t-dlq-show", show, 0, &out), 0, "%s", out);
    json_object *shown = json_tokener_parse(out);
    cr_assert(json_object_is_type(shown, json_type_array), "not a JSON array: %s", out);
    cr_assert_eq(json_object_array_length(shown), 3);
    for (int i = 0; i < 3; i++) {
        json_object *m = json_object_array_get_idx(shown, (size_t)i);
        json_object *headers = json_object_object_get(m, "headers");
        cr_assert_str_eq(json_object_get_string(json_object_object_get(m, "message_id")),
                         d[i].env.message_id);
        cr_assert_str_eq(json_object_get_string(json_object_object_get(m, "order_id")), d[i].order);
        cr_assert_str_eq(json_object_get_string(json_object_object_get(m, "type")), "OrderCreated");
        cr_assert_eq(json_object_get_int(json_object_object_get(headers, "x-souk-attempts")), 3);
        cr_assert_str_eq(json_object_get_string(json_object_object_get(headers, "x-souk-error")),
                         "retries exhausted: provider timeout");
        cr_assert_str_eq(
            json_object_get_string(json_object_object_get(headers, "x-souk-original-exchange")),
            "OrderCreated");
        json_object *payload = json_object_object_get(m, "payload");
        cr_assert(json_object_is_type(payload, json_type_object), "payload is not JSON: %s", out);
        cr_assert_str_eq(json_object_get_string(json_object_object_get(payload, "order_id")),
                         d[i].order);
    }
    cr_assert_not_null(strstr(out, "\"x-souk-attempts\": 3"), "%s", out);
    json_object_put(shown);
    free(out);

    json_object_put(take_exactly(DLQ, all, 3));
}

Test(dlq, a_replay_reaches_the_original_exchange_and_then_leaves_the_dlq)
{
    struct dead_letter created, completed;
    put_dead_letter(&created, "OrderCreated", "OrderCreated");
    put_dead_letter(&completed, "OrderCompleted", NULL); /* its type names the exchange */

    char *out;
    const char *replay[] = {"replay", "analytics", NULL};
    cr_assert_eq(run_dlq("t-dlq-replay", replay, 0, &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "replayed 2 message(s) from " DLQ), "%s", out);
    free(out);

    json_object_put(take_exactly(DLQ, NULL, 0));
    const struct dead_letter *both[] = {&created, &completed};
    /* OrderCreated and OrderCompleted are both bound to inventory and analytics */
    json_object *inventory = take_exactly("inventory-service", both, 2);
    assert_replayed_copy(json_object_array_get_idx(inventory, 0), &created);
    assert_replayed_copy(json_object_array_get_idx(inventory, 1), &completed);
    json_object_put(inventory);
    json_object_put(take_exactly("analytics-service", both, 2));
    const struct dead_letter *only_completed[] = {&completed};
    json_object_put(take_exactly("notification-service", only_completed, 1));
}

Test(dlq, a_replay_killed_between_confirm_and_ack_loses_nothing)
{
    /* Against the old order (take the dead letter off the DLQ, then
     * publish) the message would be gone from the DLQ here. */
    struct dead_letter d;
    put_dead_letter(&d, "OrderCreated", "OrderCreated");
    const char *replay[] = {"replay", "analytics", NULL};
    char *out;
    cr_assert_eq(run_dlq("t-dlq-kill", replay, 1, &out), 128 + SIGKILL, "the hook did not fire: %s",
                 out);
    cr_assert_not_null(strstr(out, "injected crash"), "%s", out);
    free(out);

    const struct dead_letter *one[] = {&d};
    json_object *inventory = take_exactly("inventory-service", one, 1);
    assert_replayed_copy(json_object_array_get_idx(inventory, 0), &d);
    json_object_put(inventory);
    json_object_put(take_exactly("analytics-service", one, 1));

    /* the unacked get goes back to the DLQ once the broker sees the
     * connection die */
    json_object *dead = NULL;
    for (int i = 0; i < 100 && !dead; i++) {
        json_object *taken = th_queue_take(DLQ, 10);
        if (taken && json_object_array_length(taken) > 0)
            dead = taken;
        else
            json_object_put(taken);
        if (!dead)
            th_sleep_ms(50);
    }
    cr_assert_not_null(dead, "the dead letter is lost");
    cr_assert_eq(json_object_array_length(dead), 1);
    json_object *m = json_object_array_get_idx(dead, 0);
    cr_assert_str_eq(prop(m, "message_id"), d.env.message_id);
    cr_assert_str_eq(json_object_get_string(header(m, "x-souk-error")),
                     "retries exhausted: provider timeout", "it is the dead letter, unchanged");
    json_object_put(dead);
}

Test(dlq, an_unroutable_message_stays_in_the_dlq_and_the_replay_fails)
{
    long declared = th_mgmt("PUT", "/exchanges/souk/test-dlq-unbound",
                            "{\"type\":\"fanout\",\"durable\":false}", NULL);
    cr_assert(declared == 201 || declared == 204, "declaring the exchange: %ld", declared);
    struct dead_letter unbound, missing, routable;
    put_dead_letter(&unbound, "OrderCreated", "test-dlq-unbound");
    put_dead_letter(&missing, "OrderCreated", "TestDlqNoSuchExchange");
    put_dead_letter(&routable, "OrderCreated", "OrderCreated");

    const char *replay[] = {"replay", "analytics", NULL};
    char *out;
    int rc = run_dlq("t-dlq-unroutable", replay, 0, &out);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "replayed 1 message(s)"), "%s", out);
    cr_assert_not_null(strstr(out, "2 message(s) could not be routed"), "%s", out);
    free(out);

    /* the routable one behind them is still replayed; the other two stay,
     * in their order */
    const struct dead_letter *one[] = {&routable};
    json_object_put(take_exactly("inventory-service", one, 1));
    const struct dead_letter *left[] = {&unbound, &missing};
    json_object *dead = take_exactly(DLQ, left, 2);
    cr_assert_eq(json_object_get_int(header(json_object_array_get_idx(dead, 0), "x-souk-attempts")),
                 3);
    json_object_put(dead);
    th_mgmt("DELETE", "/exchanges/souk/test-dlq-unbound", NULL, NULL);
}

/* Runs "souk <args>" on the test stack; returns its exit status and output. */
static int run_souk(const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' %s 2>&1", SOUK_SOURCE_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(dlq, souk_dlq_runs_the_tool_with_the_services_of_the_topology_table)
{
    struct dead_letter d;
    put_dead_letter(&d, "OrderCreated", "OrderCreated");
    char out[8192];
    cr_assert_eq(run_souk("dlq list analytics", out, sizeof out), 0, "%s", out);
    cr_assert_not_null(strstr(out, d.env.message_id), "%s", out);

    /* the names come from events/topology.c; the gateway has no DLQ */
    cr_assert_eq(run_souk("dlq list nosuch", out, sizeof out), 2, "%s", out);
    cr_assert_not_null(strstr(out, "unknown service 'nosuch'"), "%s", out);
    cr_assert_not_null(strstr(out, "services: order inventory payment shipping analytics "
                                   "notification\n"),
                       "%s", out);
    cr_assert_eq(run_souk("dlq purge gateway", out, sizeof out), 2, "%s", out);
    cr_assert_eq(run_souk("dlq list analytics 0", out, sizeof out), 2, "%s", out);

    cr_assert_eq(run_souk("dlq purge analytics", out, sizeof out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "purged " DLQ " (1 message(s))"), "%s", out);
    json_object_put(take_exactly(DLQ, NULL, 0));
}
