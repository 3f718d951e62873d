/* GET /sagas against the running stack: finding a saga by order id,
 * customer e-mail and trace id; its state (in flight, stuck, compensating,
 * completed, cancelled by reason) as sagas move; the window and paging;
 * the feed (a long poll answering when a listed saga changes or a new one
 * matches); admins only; 503 when the orders schema cannot be read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/trace.h"
#include "core/uuid.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void teardown(void)
{
    th_kill_all(); /* the gateways a test started of its own */
}

TestSuite(sagas, .fini = teardown, .timeout = 240);

static const char *text(json_object *o, const char *key)
{
    const char *s = json_object_get_string(json_object_object_get(o, key));
    return s ? s : "";
}

/* GET /sagas<query> as the admin. */
static long list(const char *query, json_object **out)
{
    char path[600];
    snprintf(path, sizeof path, "/sagas%s", query);
    return ts_call("GET", path, ts_admin(), NULL, out);
}

static long total(json_object *page)
{
    return json_object_get_int64(json_object_object_get(page, "total"));
}

static json_object *item(json_object *page, size_t i)
{
    return json_object_array_get_idx(json_object_object_get(page, "items"), i);
}

/* The one saga found by q with extra (a query suffix, "" or "&..."),
 * checked to be order's, or NULL when the list has none (the caller puts
 * page). */
static json_object *found(const char *q, const char *extra, const char *order, json_object **page)
{
    char query[512];
    snprintf(query, sizeof query, "?q=%s%s", q, extra);
    *page = NULL;
    cr_assert_eq(list(query, page), 200);
    if (total(*page) == 0)
        return NULL;
    cr_assert_eq(total(*page), 1, "%s", json_object_to_json_string(*page));
    json_object *s = item(*page, 0);
    cr_assert_str_eq(text(s, "order_id"), order);
    return s;
}

/* The saga of order as listed with extra, or NULL. */
static json_object *saga_of(const char *order, const char *extra, json_object **page)
{
    return found(order, extra, order, page);
}

/* Polls the saga of order until its state is want (at most timeout_ms);
 * returns 1 when it was. */
static int wait_state(const char *order, const char *extra, const char *want, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        json_object *page = NULL;
        json_object *s = saga_of(order, extra, &page);
        int there = s && !strcmp(text(s, "state"), want);
        json_object_put(page);
        if (there)
            return 1;
        th_sleep_ms(200);
    }
    return 0;
}

static void my_email(const char *token, char email[128])
{
    json_object *me = NULL;
    cr_assert_eq(ts_call("GET", "/auth/me", token, NULL, &me), 200);
    snprintf(email, 128, "%s", text(me, "email"));
    json_object_put(me);
}

/* Records type in the order's timeline, as the order service does when it
 * hears the event. */
static void record_event(const char *order, const char *type)
{
    PGconn *db = th_pg_admin();
    const char *params[2] = {order, type};
    PGresult *res = PQexecParams(db,
                                 "INSERT INTO orders.order_events (order_id, message_id, type, "
                                 "producer, occurred_at) VALUES ($1::uuid, gen_random_uuid(), $2, "
                                 "'test', clock_timestamp())",
                                 2, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

Test(sagas, a_saga_is_found_by_order_id_customer_email_and_trace_id)
{
    char token[2048], customer[37], product[37], order[37], email[128], upper[128];
    char trace_id[33], sent[64], answer_tp[64], status[32], reason[32];
    ts_customer(token, sizeof token, customer);
    my_email(token, email);
    ts_product(650, 2, product);
    souk_trace_ctx ctx;
    souk_trace_root(&ctx);
    souk_trace_hex(ctx.trace_id, 16, trace_id);
    snprintf(sent, sizeof sent, "00-%s-00f067aa0ba902b7-01", trace_id);
    ts_order_traced(token, product, "MA", "tok_approve", sent, answer_tp, order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");

    json_object *page = NULL;
    json_object *s = saga_of(order, "", &page);
    cr_assert_not_null(s);
    const char *what = json_object_to_json_string(s);
    cr_assert_str_eq(text(s, "customer_id"), customer);
    cr_assert_str_eq(text(s, "customer_email"), email);
    cr_assert_str_eq(text(s, "status"), "COMPLETED");
    cr_assert_str_eq(text(s, "state"), "completed", "%s", what);
    cr_assert_str_eq(text(s, "trace_id"), trace_id, "%s", what);
    /* the order service consumed CartCheckedOut, StockReserved,
     * PaymentSucceeded, ShippingCreated and published OrderCreated and
     * OrderCompleted */
    cr_assert_geq(json_object_get_int(json_object_object_get(s, "hops")), 6, "%s", what);
    cr_assert_geq(strcmp(text(s, "last_hop_at"), text(s, "created_at")), 0, "%s", what);
    json_object_put(page);

    cr_assert_not_null(found(trace_id, "", order, &page), "found by its trace id");
    json_object_put(page);
    /* by e-mail, in either case: the customer's sagas */
    snprintf(upper, sizeof upper, "%s", email);
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    cr_assert_not_null(found(upper, "", order, &page), "found by its customer's e-mail");
    json_object_put(page);
    /* nothing else matches */
    char other[37];
    souk_uuid_v4(other);
    cr_assert_null(saga_of(other, "", &page));
    json_object_put(page);
    cr_assert_null(found("nobody@test.souk", "", order, &page));
    json_object_put(page);
    ts_assert_invariants(NULL);
}

Test(sagas, a_saga_is_in_flight_then_stuck_and_filters_take_each_state)
{
    char customer[37], order[37];
    souk_uuid_v4(customer);
    ts_open_order(customer, 25, NULL, order);
    json_object *page = NULL;
    json_object *s = saga_of(order, "", &page);
    cr_assert_str_eq(text(s, "state"), "in_flight", "%s", json_object_to_json_string(s));
    cr_assert_eq(json_object_get_int(json_object_object_get(s, "hops")), 0);
    json_object_put(page);
    /* no hop for longer than stuck_after: stuck */
    th_sleep_ms(1500);
    s = saga_of(order, "&stuck_after=1", &page);
    cr_assert_str_eq(text(s, "state"), "stuck", "%s", json_object_to_json_string(s));
    json_object_put(page);
    cr_assert_not_null(saga_of(order, "&state=stuck&stuck_after=1", &page));
    json_object_put(page);
    cr_assert_null(saga_of(order, "&state=in_flight&stuck_after=1", &page));
    json_object_put(page);
    cr_assert_not_null(saga_of(order, "&state=in_flight", &page), "not stuck after 30 s");
    json_object_put(page);
    /* a hop makes it move again: the order service hears the event */
    th_publish_event("StockReservationFailed", order, NULL, NULL);
    cr_assert(wait_state(order, "", "cancelled", 15000));
    cr_assert_not_null(saga_of(order, "&state=cancelled&reason=out_of_stock", &page));
    json_object_put(page);
    cr_assert_null(saga_of(order, "&state=cancelled&reason=payment_declined", &page));
    json_object_put(page);
    cr_assert_null(saga_of(order, "&state=completed", &page));
    json_object_put(page);
    cr_assert_null(saga_of(order, "&state=stuck&stuck_after=1", &page), "final is never stuck");
    json_object_put(page);
    ts_assert_invariants(NULL);
}

/* Compensating: a step failed and a compensation it calls for is not
 * recorded yet. The order's timeline is written here as the order service
 * would write it, one event at a time. */
Test(sagas, a_failed_step_is_compensating_until_its_refund_and_release_are_recorded)
{
    char customer[37], declined[37], late[37];
    souk_uuid_v4(customer);
    ts_open_order(customer, 25, NULL, declined);
    record_event(declined, "StockReserved");
    cr_assert(wait_state(declined, "", "in_flight", 0));
    record_event(declined, "PaymentFailed");
    ts_close_order(declined, "payment_declined");
    cr_assert(wait_state(declined, "", "compensating", 0), "the reservation is not released yet");
    json_object *page = NULL;
    cr_assert_not_null(saga_of(declined, "&state=compensating", &page));
    json_object_put(page);
    cr_assert_not_null(saga_of(declined, "&state=compensating&reason=payment_declined", &page));
    json_object_put(page);
    record_event(declined, "StockReleased");
    cr_assert(wait_state(declined, "", "cancelled", 0));

    /* the deadline cancelled a paid order: both the release and the refund */
    ts_open_order(customer, 25, NULL, late);
    record_event(late, "StockReserved");
    record_event(late, "PaymentSucceeded");
    ts_close_order(late, "timed_out");
    cr_assert(wait_state(late, "", "compensating", 0));
    record_event(late, "StockReleased");
    cr_assert(wait_state(late, "", "compensating", 0), "the refund is still missing");
    record_event(late, "PaymentRefunded");
    cr_assert(wait_state(late, "", "cancelled", 0));
}

/* A real declined card: compensating, if caught, then cancelled once its
 * reservation is released. */
Test(sagas, a_declined_card_ends_cancelled_payment_declined_once_released)
{
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(300, 2, product);
    ts_order(token, product, 1, "MA", "tok_decline", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert(wait_state(order, "", "cancelled", 15000));
    json_object *page = NULL;
    json_object *s = saga_of(order, "&state=cancelled&reason=payment_declined", &page);
    cr_assert_not_null(s);
    cr_assert_str_eq(text(s, "cancel_reason"), "payment_declined");
    json_object_put(page);
    ts_assert_invariants(NULL);
}

Test(sagas, a_window_and_pages_newest_first)
{
    char email[96], customer[37], orders[3][37];
    souk_uuid_v4(customer);
    snprintf(email, sizeof email, "w-%.8s@test.souk", customer);
    for (int i = 0; i < 3; i++) {
        ts_open_order(customer, 25, email, orders[i]);
        th_sleep_ms(20);
    }
    char query[256];
    snprintf(query, sizeof query, "?q=%s&limit=2", email);
    json_object *page = NULL;
    cr_assert_eq(list(query, &page), 200);
    cr_assert_eq(total(page), 3);
    cr_assert_eq(json_object_array_length(json_object_object_get(page, "items")), 2);
    cr_assert_str_eq(text(item(page, 0), "order_id"), orders[2], "newest first");
    cr_assert_str_eq(text(item(page, 1), "order_id"), orders[1]);
    cr_assert_eq(json_object_get_int(json_object_object_get(page, "limit")), 2);
    char middle[40];
    snprintf(middle, sizeof middle, "%s", text(item(page, 1), "created_at"));
    json_object_put(page);
    snprintf(query, sizeof query, "?q=%s&limit=2&offset=2", email);
    cr_assert_eq(list(query, &page), 200);
    cr_assert_eq(json_object_array_length(json_object_object_get(page, "items")), 1);
    cr_assert_str_eq(text(item(page, 0), "order_id"), orders[0]);
    json_object_put(page);
    /* from (inclusive) and to (exclusive) on when the order started */
    snprintf(query, sizeof query, "?q=%s&from=%s", email, middle);
    cr_assert_eq(list(query, &page), 200);
    cr_assert_eq(total(page), 2, "%s", json_object_to_json_string(page));
    json_object_put(page);
    snprintf(query, sizeof query, "?q=%s&to=%s", email, middle);
    cr_assert_eq(list(query, &page), 200);
    cr_assert_eq(total(page), 1, "%s", json_object_to_json_string(page));
    json_object_put(page);
    snprintf(query, sizeof query, "?q=%s&from=2999-01-01T00:00:00Z", email);
    cr_assert_eq(list(query, &page), 200);
    cr_assert_eq(total(page), 0);
    json_object_put(page);
    /* what it refuses */
    static const char *const bad[] = {
        "?state=lost", "?reason=bored",      "?stuck_after=0",   "?limit=0",
        "?limit=101",  "?wait=26&version=x", "?from=not-a-time", "?to=soon",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *err = NULL;
        cr_assert_eq(list(bad[i], &err), 400, "%s", bad[i]);
        cr_assert_str_eq(text(json_object_object_get(err, "error"), "code"), "VALIDATION_FAILED");
        json_object_put(err);
    }
    for (int i = 0; i < 3; i++)
        ts_close_order(orders[i], "timed_out");
}

/* Starts a long poll of the list with query and the version it has now. */
static void start_feed(ts_timed_get *feed, const char *query)
{
    json_object *page = NULL;
    cr_assert_eq(list(query, &page), 200);
    memset(feed, 0, sizeof *feed);
    feed->token = ts_admin();
    snprintf(feed->path, sizeof feed->path, "/sagas%s&wait=20&version=%s", query,
             text(page, "version"));
    json_object_put(page);
    ts_get_start(feed);
}

Test(sagas, the_feed_answers_when_a_listed_saga_changes_or_a_new_one_matches)
{
    char customer[37], order[37], email[96], query[256];
    souk_uuid_v4(customer);
    snprintf(email, sizeof email, "f-%.8s@test.souk", customer);
    ts_open_order(customer, 25, email, order);
    /* a listed saga moves */
    ts_timed_get moved;
    snprintf(query, sizeof query, "?q=%s", order);
    start_feed(&moved, query);
    th_sleep_ms(1500);
    th_publish_event("StockReservationFailed", order, NULL, NULL);
    ts_get_join(&moved);
    cr_assert_eq(moved.status, 200);
    cr_assert_geq(moved.seconds, 1.4, "answered after %.2f s, before the change", moved.seconds);
    cr_assert_lt(moved.seconds, 10.0, "took %.1f s: the change did not end it", moved.seconds);
    cr_assert_gt(json_object_get_int(json_object_object_get(item(moved.answer, 0), "hops")), 0);
    json_object_put(moved.answer);
    /* a new saga matches */
    ts_timed_get added;
    snprintf(query, sizeof query, "?q=%s&state=in_flight", email);
    start_feed(&added, query);
    th_sleep_ms(1500);
    char second[37];
    ts_open_order(customer, 25, email, second);
    ts_get_join(&added);
    cr_assert_eq(added.status, 200);
    cr_assert_lt(added.seconds, 10.0, "took %.1f s: the new saga did not end it", added.seconds);
    cr_assert_eq(total(added.answer), 1, "%s", json_object_to_json_string(added.answer));
    cr_assert_str_eq(text(item(added.answer, 0), "order_id"), second);
    json_object_put(added.answer);
    /* nothing changes: it answers after its wait, with the same version */
    json_object *page = NULL;
    cr_assert_eq(list(query, &page), 200);
    char version[64], quiet[512];
    snprintf(version, sizeof version, "%s", text(page, "version"));
    json_object_put(page);
    snprintf(quiet, sizeof quiet, "%s&wait=1&version=%s", query, version);
    double start = souk_monotonic_seconds();
    cr_assert_eq(list(quiet, &page), 200);
    cr_assert_geq(souk_monotonic_seconds() - start, 0.9);
    cr_assert_str_eq(text(page, "version"), version);
    json_object_put(page);
    ts_close_order(second, "timed_out");
    ts_assert_invariants(NULL);
}

Test(sagas, a_customer_is_refused)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    json_object *err = NULL;
    cr_assert_eq(ts_call("GET", "/sagas", token, NULL, &err), 403);
    cr_assert_str_eq(text(json_object_object_get(err, "error"), "code"), "FORBIDDEN");
    json_object_put(err);
    cr_assert_eq(ts_call("GET", "/sagas", NULL, NULL, NULL), 401);
}

Test(sagas, an_unreachable_orders_schema_is_503)
{
    char setting[160], base[64];
    snprintf(setting, sizeof setting,
             "SOUK_DB_URL_ORDERS=postgresql://127.0.0.1:%d/souk?connect_timeout=2", th_free_port());
    const char *env[] = {setting, NULL};
    ts_spawn_gateway(env, "t-gateway-noorders", base);
    json_object *out = NULL;
    cr_assert_eq(ts_call_at(base, "GET", "/sagas", ts_admin(), NULL, NULL, &out), 503, "%s",
                 json_object_to_json_string(out));
    cr_assert_str_eq(text(json_object_object_get(out, "error"), "code"), "UNAVAILABLE");
    json_object_put(out);
}
