/* The checkout saga end to end: real gateway, workers, souk-psp, broker and
 * database (the e2e fixture). Every test ends by checking the invariants. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/publisher.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

TestSuite(saga, .timeout = 240);

static json_object *get_order(const char *token, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/orders/%s", id);
    json_object *out = NULL;
    cr_assert_eq(ts_call("GET", path, token, NULL, &out), 200);
    return out;
}

/* GET /orders/{id}<query> and the seconds it took; *status_out gets the
 * order's status ("" unless 200). */
static long timed_get(const char *token, const char *id, const char *query, double *seconds,
                      char status_out[32])
{
    char path[160];
    snprintf(path, sizeof path, "/orders/%s%s", id, query);
    json_object *out = NULL;
    double start = souk_monotonic_seconds();
    long code = ts_call("GET", path, token, NULL, &out);
    *seconds = souk_monotonic_seconds() - start;
    const char *status = json_object_get_string(json_object_object_get(out, "status"));
    snprintf(status_out, 32, "%s", code == 200 && status ? status : "");
    json_object_put(out);
    return code;
}

struct long_poll {
    const char *token;
    const char *order;
    double took;
    long code;
    char status[32];
};

static void *long_poll_main(void *arg)
{
    struct long_poll *lp = arg;
    lp->code = timed_get(lp->token, lp->order, "?wait=20", &lp->took, lp->status);
    return NULL;
}

/* The pids of the gateway's orders_status listeners, as an array literal. */
static void listener_pids(PGconn *db, char *out, size_t cap)
{
    PGresult *res = PQexec(db, "SELECT '{' || coalesce(string_agg(pid::text, ','), '') || '}' "
                               "FROM pg_stat_activity WHERE query = 'LISTEN orders_status'");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

Test(saga, a_long_poll_is_woken_after_the_gateway_listener_lost_its_connection)
{
    char token[2048], customer[37], order[37];
    ts_customer(token, sizeof token, customer);
    souk_uuid_v4(order);
    PGconn *db = th_pg_admin();
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    /* An order of this customer that no saga moves: this test ends it (the
     * deadline sweeper does, 30 s on, if the test fails before). */
    const char *params[2] = {order, customer};
    PGresult *res = PQexecParams(db,
                                 "INSERT INTO orders.orders (id, customer_id, status, currency, "
                                 "total_minor, shipping_address, deadline_at) VALUES ($1, $2, "
                                 "'PENDING', 'EUR', 0, '{}', now() + interval '30 s')",
                                 2, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    char before[256];
    listener_pids(db, before, sizeof before);
    cr_assert_neq(strcmp(before, "{}"), 0, "the gateway has no orders_status listener");
    res = PQexec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE query = 'LISTEN orders_status'");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    /* The gateway notices and listens again on a new connection. */
    const char *old_pids[1] = {before};
    long relistened = 0;
    for (int i = 0; i < 100 && !relistened; i++) {
        th_sleep_ms(100);
        relistened = th_pg_long("SELECT count(*) FROM pg_stat_activity WHERE query = "
                                "'LISTEN orders_status' AND pid <> ALL($1::int[])",
                                old_pids[0]);
    }
    cr_assert(relistened, "the gateway did not listen again within 10 s");
    /* A long poll waiting when the order ends is woken by the new listener,
     * long before its 20 s deadline. */
    struct long_poll lp = {.token = token, .order = order};
    pthread_t poller;
    cr_assert_eq(pthread_create(&poller, NULL, long_poll_main, &lp), 0);
    th_sleep_ms(2000);
    res = PQexecParams(db,
                       "UPDATE orders.orders SET status = 'CANCELLED', cancel_reason = 'timed_out' "
                       "WHERE id = $1::uuid",
                       1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
    pthread_join(poller, NULL);
    cr_assert_eq(lp.code, 200);
    cr_assert_str_eq(lp.status, "CANCELLED");
    cr_assert_lt(lp.took, 10.0, "the long poll took %.1f s: the new listener did not wake it",
                 lp.took);
    cr_assert_geq(lp.took, 1.9, "answered after %.2f s, before the order ended", lp.took);
}

static long payments_of(const char *order_id, const char *status)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid AND status = '%s'",
             status);
    return th_pg_long(sql, order_id);
}

Test(saga, a_happy_checkout_completes_takes_stock_captures_payment_and_ships)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(1250, 10, product);
    ts_order(token, product, 3, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");
    long long on_hand, reserved, sold;
    ts_stock_sold(product, 3, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, 7);
    cr_assert_eq(reserved, 0);
    cr_assert_eq(sold, 3);
    json_object *o = get_order(token, order);
    cr_assert_eq(json_object_get_int64(json_object_object_get(o, "total_minor")), 3750);
    json_object *payment = json_object_object_get(o, "payment");
    json_object *shipment = json_object_object_get(o, "shipment");
    cr_assert_not_null(payment);
    cr_assert_not_null(shipment);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(shipment, "carrier")),
                     "SoukPost");
    cr_assert_eq(payments_of(order, "CAPTURED"), 1);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM shipping.shipments WHERE order_id = $1::uuid", order), 1);
    json_object_put(o);
    /* the timeline holds every step in saga order */
    char path[128];
    snprintf(path, sizeof path, "/orders/%s/events", order);
    json_object *tl = NULL;
    cr_assert_eq(ts_call("GET", path, token, NULL, &tl), 200);
    json_object *events = json_object_object_get(tl, "events");
    const char *want[] = {"CartCheckedOut",   "OrderCreated",    "StockReserved",
                          "PaymentSucceeded", "ShippingCreated", "OrderCompleted"};
    cr_assert_eq(json_object_array_length(events), 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_str_eq(json_object_get_string(
                             json_object_object_get(json_object_array_get_idx(events, i), "type")),
                         want[i]);
    json_object_put(tl);
    /* and the customer was told */
    int told = 0;
    for (int i = 0; i < 50 && !told; i++) {
        json_object *n = NULL;
        cr_assert_eq(ts_call("GET", "/notifications", token, NULL, &n), 200);
        json_object *items = json_object_object_get(n, "items");
        for (size_t k = 0; k < json_object_array_length(items); k++) {
            json_object *item = json_object_array_get_idx(items, k);
            told |=
                !strcmp(json_object_get_string(json_object_object_get(item, "order_id")), order) &&
                !strcmp(json_object_get_string(json_object_object_get(item, "kind")),
                        "order_completed");
        }
        json_object_put(n);
        if (!told)
            th_sleep_ms(100);
    }
    cr_assert(told, "no order_completed notification for the customer");
    ts_assert_invariants(NULL);
}

Test(saga, out_of_stock_cancels_and_charges_nothing)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(990, 1, product);
    ts_order(token, product, 2, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_str_eq(reason, "out_of_stock");
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid", order), 0);
    long long on_hand, reserved, sold;
    ts_stock(product, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, 1);
    cr_assert_eq(reserved, 0);
    ts_assert_invariants(NULL);
}

Test(saga, an_order_reserves_all_of_its_lines_or_none)
{
    char token[2048], plenty[37], scarce[37], order[37], status[32], reason[32], items[256];
    ts_customer(token, sizeof token, NULL);
    ts_product(300, 10, plenty);
    ts_product(400, 1, scarce);
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":3},{\"product_id\":\"%s\",\"quantity\":2}]",
             plenty, scarce);
    ts_order_items(token, items, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_str_eq(reason, "out_of_stock");
    long long on_hand, reserved, sold;
    ts_stock(plenty, &on_hand, &reserved, &sold);
    cr_assert_eq(reserved, 0, "the line that fitted stayed reserved");
    cr_assert_eq(on_hand, 10);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM inventory.reservations WHERE order_id = $1::uuid", order),
        0);
    /* The same product on two lines, its id once in upper case, is one line
     * of their sum, reserved and sold. */
    char upper[37];
    for (int i = 0; i < 37; i++)
        upper[i] =
            (plenty[i] >= 'a' && plenty[i] <= 'f') ? (char)(plenty[i] - 'a' + 'A') : plenty[i];
    snprintf(items, sizeof items,
             "[{\"product_id\":\"%s\",\"quantity\":3},{\"product_id\":\"%s\",\"quantity\":4}]",
             plenty, upper);
    ts_order_items(token, items, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED", "%s", reason);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM orders.order_lines WHERE order_id = $1::uuid", order), 1,
        "the same product on two lines was not merged");
    ts_stock_sold(plenty, 7, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, 3);
    cr_assert_eq(reserved, 0);
    cr_assert_eq(sold, 7);
    ts_assert_invariants(NULL);
}

Test(saga, a_declined_card_cancels_and_releases_the_stock)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(500, 5, product);
    ts_order(token, product, 2, "MA", "tok_decline", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_str_eq(reason, "payment_declined");
    long long on_hand, reserved, sold;
    /* the release follows the cancellation: wait for it */
    for (int i = 0; i < 50; i++) {
        ts_stock(product, &on_hand, &reserved, &sold);
        if (reserved == 0)
            break;
        th_sleep_ms(100);
    }
    cr_assert_eq(on_hand, 5);
    cr_assert_eq(reserved, 0);
    cr_assert_eq(sold, 0);
    cr_assert_eq(payments_of(order, "DECLINED"), 1);
    ts_assert_invariants(NULL);
}

Test(saga, a_shipping_failure_refunds_the_payment_and_releases_the_stock)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(2000, 4, product);
    ts_order(token, product, 1, "AQ", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_str_eq(reason, "shipping_failed");
    cr_assert_eq(th_wait_pg_long("SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid "
                                 "AND status = 'REFUNDED' AND refunded_minor = amount_minor",
                                 order, 1, 10000),
                 1);
    long long on_hand = 0, reserved = 1, sold = 0;
    for (int i = 0; i < 50 && reserved; i++) {
        ts_stock(product, &on_hand, &reserved, &sold);
        th_sleep_ms(100);
    }
    cr_assert_eq(on_hand, 4);
    cr_assert_eq(reserved, 0);
    /* the provider holds the refund too */
    json_object *o = get_order(token, order);
    const char *ref = json_object_get_string(
        json_object_object_get(json_object_object_get(o, "payment"), "provider_ref"));
    char url[256];
    snprintf(url, sizeof url, "%s/charges/%s", getenv("SOUK_TEST_PSP_URL"), ref);
    char *body = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &body), 200);
    json_object *charge = json_tokener_parse(body);
    cr_assert_eq(json_object_get_int64(json_object_object_get(charge, "refunded_minor")), 2000);
    json_object_put(charge);
    free(body);
    json_object_put(o);
    ts_assert_invariants(NULL);
}

Test(saga, a_provider_timeout_is_retried_without_charging_twice)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(700, 3, product);
    ts_order(token, product, 1, "MA", "tok_timeout", order);
    cr_assert(ts_wait_final(token, order, 60000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");
    cr_assert_eq(payments_of(order, "CAPTURED"), 1);
    json_object *o = get_order(token, order);
    const char *ref = json_object_get_string(
        json_object_object_get(json_object_object_get(o, "payment"), "provider_ref"));
    char url[256];
    snprintf(url, sizeof url, "%s/charges/%s", getenv("SOUK_TEST_PSP_URL"), ref);
    cr_assert_eq(th_http("GET", url, NULL, NULL, NULL), 200);
    json_object_put(o);
    /* the retry was a second request for the same key, answered with the same charge */
    cr_assert(th_wait_log("worker-payment", order, "retry scheduled", 1000));
    ts_assert_invariants(NULL);
}

static int count_log_lines(const char *log, const char *a, const char *b)
{
    FILE *f = fopen(th_log_path(log), "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, a) && strstr(line, b);
    if (f)
        fclose(f);
    return n;
}

Test(saga, a_provider_error_is_retried_then_dead_lettered)
{
    char token[2048], product[37], order[37];
    ts_customer(token, sizeof token, NULL);
    ts_product(300, 3, product);
    ts_order(token, product, 1, "MA", "tok_error", order);
    /* three retries (200, 500, 1000 ms), then the dead-letter queue; the
     * operator's view of it is `souk dlq` */
    char cmd[1024], out[8192];
    int listed = 0;
    for (int i = 0; i < 100 && !listed; i++) {
        snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' dlq list payment 2>&1",
                 SOUK_SOURCE_DIR);
        FILE *p = popen(cmd, "r");
        size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
        out[n] = '\0';
        if (p)
            pclose(p);
        listed = strstr(out, order) != NULL;
        if (!listed)
            th_sleep_ms(100);
    }
    cr_assert(listed, "souk dlq list never showed the order: %s", out);
    /* The order waits for its deadline now: a long poll answers at its own
     * deadline with the order as it is. */
    double took = 0;
    char status[32];
    cr_assert_eq(timed_get(token, order, "?wait=1", &took, status), 200);
    cr_assert_str_eq(status, "STOCK_RESERVED");
    cr_assert_geq(took, 0.9, "answered after %.2f s, before its deadline", took);
    cr_assert(strstr(out, "StockReserved") != NULL, "%s", out);
    cr_assert(strstr(out, "provider charge") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' dlq show payment 2>&1", SOUK_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_assert(strstr(out, "\"x-souk-attempts\": 4") != NULL, "%s", out);
    cr_assert(strstr(out, "\"x-souk-original-exchange\": \"StockReserved\"") != NULL, "%s", out);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid", order), 0,
        "nothing was charged");
    /* replay: back to StockReserved with the same message id; the provider
     * still fails, so it is retried and dead-lettered again */
    snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' dlq replay payment >/dev/null 2>&1",
             SOUK_SOURCE_DIR);
    cr_assert_eq(system(cmd), 0);
    int dead_letters = 0;
    for (int i = 0; i < 100 && dead_letters < 2; i++) {
        dead_letters = count_log_lines("worker-payment", order, "dead-lettered");
        if (dead_letters < 2)
            th_sleep_ms(100);
    }
    cr_assert_eq(dead_letters, 2, "the replayed message was not retried and dead-lettered again");
    snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' dlq purge payment >/dev/null 2>&1",
             SOUK_SOURCE_DIR);
    cr_assert_eq(system(cmd), 0);
    /* The order waits for an operator (replay) or its deadline; end it now
     * as the deadline would, so the invariants hold for the next tests. */
    PGconn *db = th_pg_admin();
    const char *params[1] = {order};
    PQclear(PQexecParams(db,
                         "UPDATE orders.orders SET deadline_at = now() - interval '1 s' "
                         "WHERE id = $1::uuid",
                         1, NULL, params, NULL, NULL, 0));
    PQfinish(db);
    /* A long poll is woken by the cancellation, whichever writer made it. */
    cr_assert_eq(timed_get(token, order, "?wait=25", &took, status), 200);
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_lt(took, 15.0, "the long poll took %.1f s: it was not woken", took);
    char reason[32];
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(reason, "timed_out");
    long long on_hand = 0, reserved = 1, sold = 0;
    for (int i = 0; i < 100 && reserved; i++) {
        ts_stock(product, &on_hand, &reserved, &sold);
        th_sleep_ms(100);
    }
    cr_assert_eq(reserved, 0, "the timed-out order's stock was released");
    ts_assert_invariants(NULL);
}

struct racer {
    char token[2048];
    const char *product;
    char order[37];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    ts_order(r->token, r->product, 1, "MA", "tok_approve", r->order);
    return NULL;
}

Test(saga, fifty_concurrent_checkouts_for_ten_units_never_oversell)
{
    char product[37];
    ts_product(100, 10, product);
    struct racer *racers = calloc(50, sizeof *racers);
    for (int i = 0; i < 50; i++) {
        ts_customer(racers[i].token, sizeof racers[i].token, NULL);
        racers[i].product = product;
    }
    pthread_t threads[50];
    for (int i = 0; i < 50; i++)
        pthread_create(&threads[i], NULL, race, &racers[i]);
    for (int i = 0; i < 50; i++)
        pthread_join(threads[i], NULL);
    int completed = 0, out_of_stock = 0;
    for (int i = 0; i < 50; i++) {
        char status[32], reason[32];
        cr_assert(ts_wait_final(racers[i].token, racers[i].order, 60000, status, reason));
        completed += !strcmp(status, "COMPLETED");
        out_of_stock += !strcmp(reason, "out_of_stock");
    }
    cr_assert_eq(completed, 10);
    cr_assert_eq(out_of_stock, 40);
    long long on_hand = -1, reserved = -1, sold = -1;
    /* a completed order's reservation becomes a sale just after it completes */
    for (int i = 0; i < 100 && sold != 10; i++) {
        ts_stock(product, &on_hand, &reserved, &sold);
        if (sold != 10)
            th_sleep_ms(100);
    }
    cr_assert_eq(on_hand, 0);
    cr_assert_eq(sold, 10);
    cr_assert_eq(reserved, 0);
    free(racers);
    ts_assert_invariants(NULL);
}

/* Publishes every event of an order again, same message ids, as the broker
 * admin: an at-least-once broker may do exactly this. */
static int redeliver_all(const char *order)
{
    PGconn *db = th_pg_admin();
    const char *params[1] = {order};
    PGresult *res = PQexecParams(
        db,
        "SELECT message_id, exchange, type, correlation_id, COALESCE(causation_id, ''), payload "
        "FROM (SELECT * FROM cart.outbox UNION ALL SELECT * FROM orders.outbox UNION ALL "
        "SELECT * FROM inventory.outbox UNION ALL SELECT * FROM payment.outbox UNION ALL "
        "SELECT * FROM shipping.outbox) o WHERE correlation_id = $1 ORDER BY created_at",
        1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        souk_envelope env;
        memset(&env, 0, sizeof env);
        snprintf(env.message_id, sizeof env.message_id, "%s", PQgetvalue(res, i, 0));
        snprintf(env.type, sizeof env.type, "%s", PQgetvalue(res, i, 2));
        snprintf(env.correlation_id, sizeof env.correlation_id, "%s", PQgetvalue(res, i, 3));
        snprintf(env.causation_id, sizeof env.causation_id, "%s", PQgetvalue(res, i, 4));
        snprintf(env.app_id, sizeof env.app_id, "redelivery");
        env.schema_version = 1;
        env.body = PQgetvalue(res, i, 5);
        env.body_len = strlen(env.body);
        th_publish(PQgetvalue(res, i, 1), "", &env);
    }
    PQclear(res);
    PQfinish(db);
    return n;
}

static long state_fingerprint(const char *order)
{
    return th_pg_long(
        "SELECT (SELECT count(*) FROM orders.order_events WHERE order_id = $1::uuid) * 1000000 + "
        "(SELECT count(*) FROM analytics.order_events WHERE order_id = $1) * 1000 + "
        "(SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid) * 100 + "
        "(SELECT count(*) FROM shipping.shipments WHERE order_id = $1::uuid) * 10 + "
        "(SELECT count(*) FROM inventory.reservations WHERE order_id = $1::uuid)",
        order);
}

Test(saga, every_event_delivered_twice_changes_nothing)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(800, 6, product);
    ts_order(token, product, 2, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");
    th_sleep_ms(1000); /* let analytics and inventory finish the last events */
    long before = state_fingerprint(order);
    long long on_hand0, reserved0, sold0;
    ts_stock(product, &on_hand0, &reserved0, &sold0);
    char stats_url[256];
    snprintf(stats_url, sizeof stats_url, "%s/stats", getenv("SOUK_TEST_PSP_URL"));
    char *stats_before = NULL;
    th_http("GET", stats_url, NULL, NULL, &stats_before);
    json_object *sb = json_tokener_parse(stats_before);

    int sent = redeliver_all(order);
    cr_assert_eq(sent, 6,
                 "CartCheckedOut, OrderCreated, StockReserved, PaymentSucceeded, "
                 "ShippingCreated, OrderCompleted");
    th_sleep_ms(3000);
    cr_assert_eq(state_fingerprint(order), before);
    long long on_hand, reserved, sold;
    ts_stock(product, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, on_hand0);
    cr_assert_eq(sold, sold0);
    cr_assert_eq(reserved, reserved0);
    char *stats_after = NULL;
    th_http("GET", stats_url, NULL, NULL, &stats_after);
    json_object *sa = json_tokener_parse(stats_after);
    cr_assert_eq(json_object_get_int64(json_object_object_get(sa, "approved_minor_total")),
                 json_object_get_int64(json_object_object_get(sb, "approved_minor_total")),
                 "nothing was charged again");
    json_object *o = get_order(token, order);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "status")), "COMPLETED");
    json_object_put(o);
    json_object_put(sa);
    json_object_put(sb);
    free(stats_before);
    free(stats_after);
    ts_assert_invariants(NULL);
}

Test(saga, a_long_poll_answers_as_soon_as_the_order_is_final)
{
    char token[2048], product[37], order[37], status[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(990, 5, product);
    ts_order(token, product, 1, "MA", "tok_approve", order);
    double took = 0;
    /* One request, made before the saga can have finished, returns the
     * final order: the change woke it long before its 25 s were up. */
    cr_assert_eq(timed_get(token, order, "?wait=25", &took, status), 200);
    cr_assert_str_eq(status, "COMPLETED");
    cr_assert_lt(took, 15.0, "the long poll took %.1f s: it was not woken", took);
    /* A final order answers a long poll at once. */
    cr_assert_eq(timed_get(token, order, "?wait=20", &took, status), 200);
    cr_assert_str_eq(status, "COMPLETED");
    cr_assert_lt(took, 10.0, "took %.1f s", took);
    ts_assert_invariants(NULL);
}

Test(saga, long_poll_parameters_are_checked_and_ownership_still_holds)
{
    char token[2048], other[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_customer(other, sizeof other, NULL);
    ts_product(990, 5, product);
    ts_order(token, product, 1, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    double took = 0;
    cr_assert_eq(timed_get(token, order, "?wait=31", &took, status), 400);
    cr_assert_eq(timed_get(token, order, "?wait=-1", &took, status), 400);
    cr_assert_eq(timed_get(token, order, "?wait=soon", &took, status), 400);
    /* Someone else's order is not found at once, not after the wait. */
    cr_assert_eq(timed_get(other, order, "?wait=20", &took, status), 404);
    cr_assert_lt(took, 10.0, "took %.1f s", took);
    ts_assert_invariants(NULL);
}

#define CANCELLED_EVENTS_SQL                                                                       \
    "SELECT count(*) FROM orders.outbox WHERE correlation_id = $1 AND type = 'OrderCancelled'"
#define TIMED_OUT_SQL                                                                              \
    "SELECT count(*) FROM orders.orders WHERE id = $1::uuid AND status = 'CANCELLED' AND "         \
    "cancel_reason = 'timed_out'"

/* The deadline sweep goes through the handlers' cancel path: an order it
 * cannot emit OrderCancelled for (here its e-mail breaks the event's
 * schema) is not cancelled at all, rather than cancelled with no event to
 * release its stock and payment; the orders beside it still are. */
Test(saga, the_deadline_never_cancels_an_order_without_its_event)
{
    char customer[37], broken[37], fine[37];
    souk_uuid_v4(customer);
    ts_open_order(customer, -1, "not-an-email", broken);
    ts_open_order(customer, -1, NULL, fine);
    cr_assert_eq(th_wait_pg_long(TIMED_OUT_SQL, fine, 1, 15000), 1);
    cr_assert_eq(th_pg_long(CANCELLED_EVENTS_SQL, fine), 1);
    cr_assert(th_wait_log("worker-order", broken, "deadline cancellation failed", 15000));
    cr_assert_eq(th_pg_long(TIMED_OUT_SQL, broken), 0, "cancelled without its event");
    cr_assert_eq(th_pg_long(CANCELLED_EVENTS_SQL, broken), 0);
    /* once the event can be built, the next sweep cancels it */
    PGconn *db = th_pg_admin();
    const char *params[1] = {broken};
    PQclear(PQexecParams(db, "UPDATE orders.orders SET customer_email = NULL WHERE id = $1::uuid",
                         1, NULL, params, NULL, NULL, 0));
    PQfinish(db);
    cr_assert_eq(th_wait_pg_long(TIMED_OUT_SQL, broken, 1, 15000), 1);
    cr_assert_eq(th_pg_long(CANCELLED_EVENTS_SQL, broken), 1);
}
