/* The admins' system view (gateway/system.c) through the front of the e2e
 * stack: the broker's queues, exchanges and bindings as its management API
 * reports them, the choreography of events/topology.c as a graph with a
 * rate per edge, and checkout throughput and saga percentiles from the
 * orders read model, while real checkouts run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/topology.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void teardown(void)
{
    th_kill_all();
}

TestSuite(system, .fini = teardown, .timeout = 180);

static const char *text(json_object *o, const char *key)
{
    return json_object_get_string(json_object_object_get(o, key));
}

static long integer(json_object *o, const char *key)
{
    return (long)json_object_get_int64(json_object_object_get(o, key));
}

static double number(json_object *o, const char *key)
{
    return json_object_get_double(json_object_object_get(o, key));
}

static json_object *view(const char *query)
{
    char path[128];
    snprintf(path, sizeof path, "/admin/system%s", query);
    json_object *out = NULL;
    long st = ts_call("GET", path, ts_admin(), NULL, &out);
    cr_assert_eq(st, 200, "GET %s answered %ld: %s", path, st,
                 out ? json_object_to_json_string(out) : "");
    return out;
}

static json_object *named(json_object *list, const char *key, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i);
        if (text(o, key) && strcmp(text(o, key), name) == 0)
            return o;
    }
    return NULL;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

Test(system, shows_every_service_queue_with_its_consumers_and_its_page)
{
    json_object *v = view("");
    json_object *queues = json_object_object_get(v, "queues");
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
        char queue[64], page[96];
        souk_topology_queue_name((souk_service)s, queue, sizeof queue);
        json_object *q = named(queues, "name", queue);
        cr_assert_not_null(q, "no %s in the view", queue);
        cr_assert_str_eq(text(q, "service"), souk_service_name((souk_service)s));
        cr_assert_str_eq(text(q, "role"), "main");
        /* the fixture's workers: SOUK_WORKER_CONCURRENCY consumers each */
        cr_assert_geq(integer(q, "consumers"), 1, "%s has no consumer", queue);
        snprintf(page, sizeof page, "/#/queues/souk/%s", queue);
        cr_assert(ends_with(text(q, "ui_url"), page), "%s", text(q, "ui_url"));
        cr_assert_eq(strncmp(text(q, "ui_url"), getenv("SOUK_TEST_MGMT_URL"),
                             strlen(getenv("SOUK_TEST_MGMT_URL"))),
                     0, "%s is not on the stack's management UI", text(q, "ui_url"));
        char dlq[80];
        snprintf(dlq, sizeof dlq, "%s.dlq", queue);
        json_object *d = named(queues, "name", dlq);
        cr_assert_not_null(d, "no %s in the view", dlq);
        cr_assert_str_eq(text(d, "role"), "dlq");
        cr_assert_eq(integer(d, "consumers"), 0);
    }
    cr_assert(ends_with(text(json_object_object_get(v, "rabbitmq"), "ui_url"),
                        getenv("SOUK_TEST_MGMT_URL") + strlen("http://")));
    json_object_put(v);
}

Test(system, shows_the_choreography_with_every_exchange_and_binding)
{
    json_object *v = view("");
    json_object *exchanges = json_object_object_get(v, "exchanges");
    json_object *edges = json_object_object_get(v, "edges");
    cr_assert_eq(json_object_array_length(exchanges), SOUK_EVENT_COUNT);
    int routes = 0;
    for (int e = 0; e < SOUK_EVENT_COUNT; e++) {
        const char *name = souk_event_name((souk_event_type)e);
        json_object *x = named(exchanges, "name", name);
        cr_assert_not_null(x, "no exchange %s", name);
        cr_assert(json_object_get_boolean(json_object_object_get(x, "declared")), "%s", name);
        char page[96];
        snprintf(page, sizeof page, "/#/exchanges/souk/%s", name);
        cr_assert(ends_with(text(x, "ui_url"), page), "%s", text(x, "ui_url"));
        for (int s = 0; s <= SOUK_SERVICE_COUNT; s++)
            if (souk_service_publishes((souk_service)s, (souk_event_type)e))
                cr_assert_str_eq(text(x, "publisher"), souk_service_name((souk_service)s));
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
            if (!souk_service_consumes((souk_service)s, (souk_event_type)e))
                continue;
            char queue[64];
            souk_topology_queue_name((souk_service)s, queue, sizeof queue);
            int found = 0;
            for (size_t i = 0; i < json_object_array_length(edges); i++) {
                json_object *edge = json_object_array_get_idx(edges, i);
                if (strcmp(text(edge, "kind"), "route") == 0 &&
                    strcmp(text(edge, "from"), name) == 0 && strcmp(text(edge, "to"), queue) == 0) {
                    cr_assert(json_object_get_boolean(json_object_object_get(edge, "bound")),
                              "%s -> %s is not bound", name, queue);
                    found = 1;
                }
            }
            cr_assert(found, "no edge %s -> %s", name, queue);
            routes++;
        }
    }
    /* one publish edge per exchange, one route edge per consuming queue */
    cr_assert_eq((int)json_object_array_length(edges), SOUK_EVENT_COUNT + routes);
    json_object_put(v);
}

/* The largest rates seen so far, over the views read. */
struct seen {
    double queue_deliver, queue_publish, exchange_in, edge;
    double completed_per_s;
    long completed;
};

static void look(struct seen *m)
{
    json_object *v = view("?window=60");
    json_object *queues = json_object_object_get(v, "queues");
    for (size_t i = 0; i < json_object_array_length(queues); i++) {
        json_object *q = json_object_array_get_idx(queues, i);
        if (strcmp(text(q, "role"), "main") != 0)
            continue;
        if (number(q, "deliver_per_s") > m->queue_deliver)
            m->queue_deliver = number(q, "deliver_per_s");
        if (number(q, "publish_per_s") > m->queue_publish)
            m->queue_publish = number(q, "publish_per_s");
    }
    json_object *exchanges = json_object_object_get(v, "exchanges");
    for (size_t i = 0; i < json_object_array_length(exchanges); i++) {
        double in = number(json_object_array_get_idx(exchanges, i), "publish_in_per_s");
        if (in > m->exchange_in)
            m->exchange_in = in;
    }
    json_object *edges = json_object_object_get(v, "edges");
    for (size_t i = 0; i < json_object_array_length(edges); i++) {
        json_object *edge = json_object_array_get_idx(edges, i);
        if (strcmp(text(edge, "kind"), "route") == 0 && number(edge, "per_s") > m->edge)
            m->edge = number(edge, "per_s");
    }
    json_object *c = json_object_object_get(v, "checkouts");
    cr_assert_eq(integer(c, "window_s"), 60);
    cr_assert_eq((long)json_object_array_length(json_object_object_get(c, "series")),
                 60 / integer(c, "bucket_s"));
    if (number(c, "completed_per_s") > m->completed_per_s)
        m->completed_per_s = number(c, "completed_per_s");
    if (integer(c, "completed") > m->completed)
        m->completed = integer(c, "completed");
    json_object_put(v);
}

static int all_seen(const struct seen *m)
{
    return m->queue_deliver > 0 && m->queue_publish > 0 && m->exchange_in > 0 && m->edge > 0 &&
           m->completed_per_s > 0;
}

Test(system, rates_and_checkouts_per_second_show_while_checkouts_run)
{
    enum { ORDERS = 30 };
    char token[2048], product[37], orders[ORDERS][37];
    ts_customer(token, sizeof token, NULL);
    ts_product(250, 1000, product);
    struct seen m = {0};
    /* a short burst: an order every 100 ms, the view read every half second */
    for (int i = 0; i < ORDERS; i++) {
        ts_order(token, product, 1, "MA", "tok_approve", orders[i]);
        if (i % 5 == 4)
            look(&m);
        th_sleep_ms(100);
    }
    for (int i = 0; i < 40 && !all_seen(&m); i++) {
        th_sleep_ms(250);
        look(&m);
    }
    cr_assert_gt(m.queue_deliver, 0, "no queue showed deliveries");
    cr_assert_gt(m.queue_publish, 0, "no queue showed publishes");
    cr_assert_gt(m.exchange_in, 0, "no exchange showed a publish rate");
    cr_assert_gt(m.edge, 0, "no edge showed a rate");
    cr_assert_gt(m.completed_per_s, 0, "no completed checkouts per second");
    cr_assert_geq(m.completed, 1);
    for (int i = 0; i < ORDERS; i++) {
        char status[32], reason[32];
        cr_assert(ts_wait_final(token, orders[i], 30000, status, reason));
        cr_assert_str_eq(status, "COMPLETED");
    }
    ts_assert_invariants(NULL);
}

/* Orders that ended 50 minutes ago, inserted into the orders schema: no
 * saga of the stack ran then (it is fresh), so their bucket holds only
 * them. Total 0: they move no money the books would miss. */
static void insert_past_orders(void)
{
    PGconn *db = th_pg_admin();
    PGresult *res =
        PQexec(db, "WITH t AS (SELECT now() - interval '50 min' AS at) "
                   "INSERT INTO orders.orders (id, customer_id, status, cancel_reason, currency, "
                   "total_minor, shipping_address, created_at, updated_at, deadline_at) "
                   "SELECT gen_random_uuid(), gen_random_uuid(), s, r, 'EUR', 0, '{}', "
                   "t.at - make_interval(secs => ms / 1000.0), t.at, t.at "
                   "FROM t, (VALUES ('COMPLETED', NULL, 1000), ('COMPLETED', NULL, 3000), "
                   "('CANCELLED', 'timed_out', 5000)) v(s, r, ms)");
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

Test(system, saga_percentiles_come_from_the_orders_that_ended_in_each_bucket)
{
    json_object *before = view("?window=3600");
    json_object *c = json_object_object_get(before, "checkouts");
    long completed = integer(c, "completed"), cancelled = integer(c, "cancelled");
    json_object_put(before);
    insert_past_orders();
    json_object *v = view("?window=3600");
    c = json_object_object_get(v, "checkouts");
    cr_assert_eq(integer(c, "window_s"), 3600);
    cr_assert_eq(integer(c, "bucket_s"), 60);
    cr_assert_eq(integer(c, "completed"), completed + 2);
    cr_assert_eq(integer(c, "cancelled"), cancelled + 1);
    json_object *series = json_object_object_get(c, "series");
    cr_assert_eq(json_object_array_length(series), 60);
    long sum = 0;
    int found = 0;
    for (size_t i = 0; i < json_object_array_length(series); i++) {
        json_object *b = json_object_array_get_idx(series, i);
        sum += integer(b, "completed");
        if (integer(b, "completed") == 2 && integer(b, "cancelled") == 1) {
            /* percentile_cont of 1000, 3000, 5000 ms */
            cr_assert_float_eq(number(b, "p50_ms"), 3000.0, 0.01);
            cr_assert_float_eq(number(b, "p99_ms"), 4960.0, 0.01);
            cr_assert_float_eq(number(b, "completed_per_s"), 2.0 / 60, 0.01);
            found = 1;
        }
    }
    cr_assert(found, "no bucket holds the three orders: %s", json_object_to_json_string(series));
    cr_assert_eq(sum, integer(c, "completed"));
    json_object_put(v);
    /* and an hour back they are outside a one-minute window */
    v = view("?window=60");
    json_object *series60 =
        json_object_object_get(json_object_object_get(v, "checkouts"), "series");
    for (size_t i = 0; i < json_object_array_length(series60); i++) {
        json_object *b = json_object_array_get_idx(series60, i);
        cr_assert_not(integer(b, "completed") == 2 && integer(b, "cancelled") == 1 &&
                          number(b, "p50_ms") == 3000.0,
                      "orders of 50 minutes ago in the last minute");
    }
    json_object_put(v);
}

Test(system, an_orders_database_that_does_not_answer_is_503)
{
    char orders_env[160], base[64];
    snprintf(orders_env, sizeof orders_env,
             "SOUK_DB_URL_ORDERS=postgresql://127.0.0.1:%d/souk?connect_timeout=2", th_free_port());
    const char *env[] = {orders_env, NULL};
    ts_spawn_gateway(env, "t-system-noorders", base);
    json_object *out = NULL;
    long st = ts_call_at(base, "GET", "/admin/system", ts_admin(), NULL, NULL, &out);
    cr_assert_eq(st, 503, "answered %ld: %s", st, out ? json_object_to_json_string(out) : "");
    cr_assert_str_eq(text(json_object_object_get(out, "error"), "code"), "UNAVAILABLE");
    json_object_put(out);
}
