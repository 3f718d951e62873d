/* GET /orders/{id}/trace against the running stack: the hops every service
 * recorded for real sagas (a happy checkout in the caller's trace, a
 * shipping failure's compensations, a provider timeout's retries, a
 * dead-lettered and replayed delivery, a duplicate delivery), the long poll
 * that answers when a hop lands, and who may read a trace. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/topology.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void teardown(void)
{
    th_kill_all(); /* the gateways a test started of its own */
}

TestSuite(sagatrace, .fini = teardown, .timeout = 240);

#define CALLER_SPAN "00f067aa0ba902b7"

static long get_trace(const char *token, const char *order, const char *query, json_object **out)
{
    char path[256];
    snprintf(path, sizeof path, "/orders/%s/trace%s", order, query ? query : "");
    return ts_call("GET", path, token, NULL, out);
}

static const char *text(json_object *o, const char *key)
{
    const char *s = json_object_get_string(json_object_object_get(o, key));
    return s ? s : "";
}

static int is_null(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && v == NULL;
}

static int matches(json_object *hop, const char *kind, const char *service, const char *type,
                   const char *outcome)
{
    return (!kind || !strcmp(text(hop, "kind"), kind)) &&
           (!service || !strcmp(text(hop, "service"), service)) &&
           (!type || !strcmp(text(hop, "event_type"), type)) &&
           (!outcome || !strcmp(text(hop, "outcome"), outcome));
}

/* The hops of trace matching kind, service, event type and outcome (NULL:
 * any), in the trace's order: count, or the nth (NULL past the last). */
static int count_hops(json_object *trace, const char *kind, const char *service, const char *type,
                      const char *outcome)
{
    json_object *hops = json_object_object_get(trace, "hops");
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(hops); i++)
        n += matches(json_object_array_get_idx(hops, i), kind, service, type, outcome);
    return n;
}

static json_object *nth_hop(json_object *trace, const char *kind, const char *service,
                            const char *type, const char *outcome, int nth)
{
    json_object *hops = json_object_object_get(trace, "hops");
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        if (matches(h, kind, service, type, outcome) && nth-- == 0)
            return h;
    }
    return NULL;
}

/* The hop of kind of message_id by service (NULL: any), or NULL. */
static json_object *hop_of_message(json_object *trace, const char *kind, const char *message_id,
                                   const char *service)
{
    json_object *hops = json_object_object_get(trace, "hops");
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        if (matches(h, kind, service, NULL, NULL) && !strcmp(text(h, "message_id"), message_id))
            return h;
    }
    return NULL;
}

/* True when every published message of the trace is confirmed and settled
 * for good (not only retried) by every service that consumes its event. */
static int settled(json_object *trace)
{
    json_object *hops = json_object_object_get(trace, "hops");
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *pub = json_object_array_get_idx(hops, i);
        if (strcmp(text(pub, "kind"), "publish") != 0)
            continue;
        if (strcmp(text(pub, "outcome"), "published") != 0)
            return 0;
        const char *type = text(pub, "event_type");
        souk_event_type event = souk_event_from_name(type, strlen(type));
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
            if (!souk_service_consumes((souk_service)s, event))
                continue;
            int done = 0;
            for (size_t k = 0; k < json_object_array_length(hops) && !done; k++) {
                json_object *h = json_object_array_get_idx(hops, k);
                done = matches(h, "consume", souk_service_name((souk_service)s), NULL, NULL) &&
                       !strcmp(text(h, "message_id"), text(pub, "message_id")) &&
                       strcmp(text(h, "outcome"), "retry_scheduled") != 0;
            }
            if (!done)
                return 0;
        }
    }
    return 1;
}

/* Polls the trace until want holds (at most timeout_ms); returns the last
 * trace read (the caller puts it). */
static json_object *wait_trace(const char *token, const char *order,
                               int (*want)(json_object *trace, const void *arg), const void *arg,
                               int timeout_ms)
{
    json_object *trace = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        json_object_put(trace);
        trace = NULL;
        cr_assert_eq(get_trace(token, order, NULL, &trace), 200);
        if (want(trace, arg))
            return trace;
        th_sleep_ms(200);
    }
    cr_assert_fail("the trace never got there: %s", json_object_to_json_string(trace));
    return trace;
}

static int settled_pred(json_object *trace, const void *arg)
{
    (void)arg;
    return json_object_get_boolean(json_object_object_get(trace, "final")) && settled(trace);
}

/* A final order whose every message has reached every consumer. */
static json_object *settled_trace(const char *token, const char *order)
{
    char status[32], reason[32];
    cr_assert(ts_wait_final(token, order, 60000, status, reason));
    return wait_trace(token, order, settled_pred, NULL, 20000);
}

static void new_traceparent(char trace_id[33], char traceparent[64])
{
    souk_trace_ctx ctx;
    souk_trace_root(&ctx);
    souk_trace_hex(ctx.trace_id, 16, trace_id);
    snprintf(traceparent, 64, "00-%s-%s-01", trace_id, CALLER_SPAN);
}

/* The hops are in time order, each with its times and ids. */
static void assert_well_formed(json_object *trace)
{
    json_object *hops = json_object_object_get(trace, "hops");
    const char *last = "";
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        cr_assert_geq(strcmp(text(h, "at"), last), 0, "hop %zu at %s before %s", i, text(h, "at"),
                      last);
        last = text(h, "at");
        cr_assert(souk_uuid_valid(text(h, "message_id")), "%s", json_object_to_json_string(h));
        cr_assert_eq(strlen(text(h, "span_id")), 16, "%s", json_object_to_json_string(h));
        if (!strcmp(text(h, "kind"), "consume")) {
            cr_assert_str_eq(text(h, "at"), text(h, "delivered_at"));
            cr_assert_geq(json_object_get_double(json_object_object_get(h, "queue_wait_ms")), 0.0,
                          "%s", json_object_to_json_string(h));
            if (!strcmp(text(h, "outcome"), "handled"))
                cr_assert_geq(json_object_get_double(json_object_object_get(h, "handler_ms")), 0.0,
                              "%s", json_object_to_json_string(h));
        } else {
            cr_assert_str_eq(text(h, "at"), text(h, "written_at"));
            const char *tp = text(json_object_object_get(h, "headers"), "traceparent");
            cr_assert(strlen(tp) == 55 && !strncmp(tp + 36, text(h, "span_id"), 16),
                      "the message carries its publish span: %s", json_object_to_json_string(h));
        }
    }
}

/* Milliseconds of an ISO 8601 time of the trace since its first hop. */
static double ms_since(const char *iso, const char *first)
{
    struct tm a = {0}, b = {0};
    int ams = 0, bms = 0;
    sscanf(iso, "%d-%d-%dT%d:%d:%d.%dZ", &a.tm_year, &a.tm_mon, &a.tm_mday, &a.tm_hour, &a.tm_min,
           &a.tm_sec, &ams);
    sscanf(first, "%d-%d-%dT%d:%d:%d.%dZ", &b.tm_year, &b.tm_mon, &b.tm_mday, &b.tm_hour, &b.tm_min,
           &b.tm_sec, &bms);
    a.tm_year -= 1900;
    b.tm_year -= 1900;
    a.tm_mon--;
    b.tm_mon--;
    return difftime(timegm(&a), timegm(&b)) * 1000.0 + (ams - bms);
}

/* The trace as text, for people (the README's example comes from it). */
static void write_trace(json_object *trace, const char *log)
{
    FILE *f = fopen(th_log_path(log), "w");
    if (!f)
        return;
    json_object *hops = json_object_object_get(trace, "hops");
    const char *first = text(json_object_array_get_idx(hops, 0), "at");
    fprintf(f, "order %s  trace %s  %s\n", text(trace, "order_id"), text(trace, "trace_id"),
            text(trace, "status"));
    fprintf(f, "%8s  %-7s  %-12s  %-16s  %-20s  %-9s %9s %9s\n", "at ms", "hop", "service", "event",
            "queue", "outcome", "queue ms", "handler");
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        int consume = !strcmp(text(h, "kind"), "consume");
        char wait[16] = "", handler[16] = "";
        if (consume && json_object_object_get(h, "queue_wait_ms"))
            snprintf(wait, sizeof wait, "%.1f",
                     json_object_get_double(json_object_object_get(h, "queue_wait_ms")));
        if (consume && json_object_object_get(h, "handler_ms"))
            snprintf(handler, sizeof handler, "%.1f",
                     json_object_get_double(json_object_object_get(h, "handler_ms")));
        fprintf(f, "%+8.0f  %-7s  %-12s  %-16s  %-20s  %-9s %9s %9s%s\n",
                ms_since(text(h, "at"), first), text(h, "kind"), text(h, "service"),
                text(h, "event_type"), consume ? text(h, "queue") : "", text(h, "outcome"), wait,
                handler,
                json_object_get_boolean(json_object_object_get(h, "compensation"))
                    ? "  compensation"
                    : "");
    }
    fclose(f);
}

Test(sagatrace, a_happy_checkout_is_one_trace_from_the_request_to_the_consumers_of_order_completed)
{
    char token[2048], product[37], order[37], trace_id[33], sent[64], answer_tp[64];
    ts_customer(token, sizeof token, NULL);
    ts_product(1200, 3, product);
    new_traceparent(trace_id, sent);
    ts_order_traced(token, product, "MA", "tok_approve", sent, answer_tp, order);
    cr_assert_eq(strlen(answer_tp), 55, "'%s'", answer_tp);
    char request_span[17];
    snprintf(request_span, sizeof request_span, "%.16s", answer_tp + 36);

    json_object *trace = settled_trace(token, order);
    const char *dump = json_object_to_json_string(trace);
    cr_assert_str_eq(text(trace, "order_id"), order);
    cr_assert_str_eq(text(trace, "status"), "COMPLETED");
    cr_assert_str_eq(text(trace, "trace_id"), trace_id, "the trace of our request: %s", dump);
    cr_assert_neq(strlen(text(trace, "version")), 0);
    assert_well_formed(trace);

    /* each step published once, by its service, and heard by every consumer */
    static const char *const steps[][2] = {
        {"CartCheckedOut", "gateway"},   {"OrderCreated", "order"},
        {"StockReserved", "inventory"},  {"PaymentSucceeded", "payment"},
        {"ShippingCreated", "shipping"}, {"OrderCompleted", "order"},
    };
    int consumes = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        cr_assert_eq(count_hops(trace, "publish", steps[i][1], steps[i][0], "published"), 1,
                     "%s by %s: %s", steps[i][0], steps[i][1], dump);
        souk_event_type type = souk_event_from_name(steps[i][0], strlen(steps[i][0]));
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
            if (souk_service_consumes((souk_service)s, type)) {
                cr_assert_eq(count_hops(trace, "consume", souk_service_name((souk_service)s),
                                        steps[i][0], "handled"),
                             1, "%s handled once by %s: %s", steps[i][0],
                             souk_service_name((souk_service)s), dump);
                consumes++;
            }
    }
    cr_assert_eq(count_hops(trace, "consume", "notification", "OrderCompleted", "handled"), 1);
    cr_assert_eq(count_hops(trace, "publish", NULL, NULL, NULL), 6, "%s", dump);
    cr_assert_eq(count_hops(trace, "consume", NULL, NULL, NULL), consumes, "%s", dump);

    /* one trace id, and the parents follow the saga */
    json_object *hops = json_object_object_get(trace, "hops");
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        const char *what = json_object_to_json_string(h);
        cr_assert_str_eq(text(h, "trace_id"), trace_id, "%s", what);
        cr_assert_eq(json_object_get_boolean(json_object_object_get(h, "compensation")), 0, "%s",
                     what);
        if (!strcmp(text(h, "kind"), "consume")) {
            json_object *pub = hop_of_message(trace, "publish", text(h, "message_id"), NULL);
            cr_assert_not_null(pub, "no publish of %s", what);
            cr_assert_str_eq(text(h, "parent_span_id"), text(pub, "span_id"),
                             "a delivery's parent is its message's publish: %s", what);
            cr_assert_str_eq(text(h, "exchange"), text(h, "event_type"));
        } else if (!strcmp(text(h, "event_type"), "CartCheckedOut")) {
            cr_assert_str_eq(text(h, "parent_span_id"), request_span,
                             "the checkout's event is a child of the request's span: %s", what);
            cr_assert(is_null(h, "causation_id"), "%s", what);
        } else {
            json_object *cause =
                hop_of_message(trace, "consume", text(h, "causation_id"), text(h, "service"));
            cr_assert_not_null(cause, "no delivery caused %s", what);
            cr_assert_str_eq(text(h, "parent_span_id"), text(cause, "span_id"),
                             "a publish's parent is the delivery that caused it: %s", what);
        }
    }
    write_trace(trace, "order-trace");
    json_object_put(trace);
    ts_assert_invariants(NULL);
}

/* A country shipping refuses (the first of SOUK_SHIPPING_UNSERVED_COUNTRIES). */
static const char *unserved_country(void)
{
    static char country[3];
    const char *list = getenv("SOUK_SHIPPING_UNSERVED_COUNTRIES");
    snprintf(country, sizeof country, "%.2s", list && strlen(list) >= 2 ? list : "AQ");
    return country;
}

Test(sagatrace, a_shipping_failure_shows_the_refund_and_the_release_as_compensation_hops)
{
    char token[2048], product[37], order[37];
    ts_customer(token, sizeof token, NULL);
    ts_product(2100, 2, product);
    ts_order(token, product, 1, unserved_country(), "tok_approve", order);
    json_object *trace = settled_trace(token, order);
    const char *dump = json_object_to_json_string(trace);
    cr_assert_str_eq(text(trace, "status"), "CANCELLED");
    assert_well_formed(trace);
    /* the refund and the release, and the deliveries that made them */
    static const char *const compensations[][3] = {
        {"consume", "payment", "ShippingFailed"},    {"publish", "payment", "PaymentRefunded"},
        {"consume", "inventory", "PaymentRefunded"}, {"publish", "inventory", "StockReleased"},
        {"consume", "payment", "OrderCancelled"},    {"consume", "inventory", "OrderCancelled"},
    };
    size_t n = sizeof compensations / sizeof compensations[0];
    json_object *hops = json_object_object_get(trace, "hops");
    int marked = 0;
    for (size_t i = 0; i < json_object_array_length(hops); i++) {
        json_object *h = json_object_array_get_idx(hops, i);
        int want = 0;
        for (size_t k = 0; k < n; k++)
            want |= matches(h, compensations[k][0], compensations[k][1], compensations[k][2], NULL);
        cr_assert_eq(json_object_get_boolean(json_object_object_get(h, "compensation")), want, "%s",
                     json_object_to_json_string(h));
        marked += want;
    }
    cr_assert_eq(marked, (int)n, "every compensation once: %s", dump);
    write_trace(trace, "order-trace-shipping-failed");
    /* refunded once and released once, the release caused by a compensation */
    cr_assert_eq(count_hops(trace, "publish", "payment", "PaymentRefunded", "published"), 1);
    cr_assert_eq(count_hops(trace, "publish", "inventory", "StockReleased", "published"), 1);
    json_object *release = nth_hop(trace, "publish", "inventory", "StockReleased", NULL, 0);
    json_object *cause =
        hop_of_message(trace, "consume", text(release, "causation_id"), "inventory");
    cr_assert(json_object_get_boolean(json_object_object_get(cause, "compensation")), "%s", dump);
    /* what the refund refunded is in its payload */
    json_object *refund = nth_hop(trace, "publish", "payment", "PaymentRefunded", NULL, 0);
    cr_assert_eq(json_object_get_int64(json_object_object_get(
                     json_object_object_get(refund, "payload"), "amount_minor")),
                 2100, "%s", json_object_to_json_string(refund));
    json_object_put(trace);
    ts_assert_invariants(NULL);
}

/* The retry delays of the e2e stack (scripts/e2e-stack.sh). */
static int retry_delays(long delays[8])
{
    const char *list = getenv("SOUK_E2E_RETRY_DELAYS_MS");
    char copy[128];
    snprintf(copy, sizeof copy, "%s", list && list[0] ? list : "200,500,1000");
    int n = 0;
    for (char *save = NULL, *p = strtok_r(copy, ",", &save); p && n < 8;
         p = strtok_r(NULL, ",", &save))
        delays[n++] = strtol(p, NULL, 10);
    return n;
}

Test(sagatrace, a_provider_timeout_shows_retry_hops_with_attempts_and_delays_and_one_charge)
{
    char token[2048], product[37], order[37];
    ts_customer(token, sizeof token, NULL);
    ts_product(700, 3, product);
    ts_order(token, product, 1, "MA", "tok_timeout", order);
    json_object *trace = settled_trace(token, order);
    const char *dump = json_object_to_json_string(trace);
    cr_assert_str_eq(text(trace, "status"), "COMPLETED");
    long delays[8];
    int configured = retry_delays(delays);
    int attempts = count_hops(trace, "consume", "payment", "StockReserved", NULL);
    cr_assert_geq(attempts, 2, "the charge was retried: %s", dump);
    cr_assert_leq(attempts, configured + 1);
    json_object *first = nth_hop(trace, "consume", "payment", "StockReserved", NULL, 0);
    for (int i = 0; i < attempts; i++) {
        json_object *h = nth_hop(trace, "consume", "payment", "StockReserved", NULL, i);
        const char *what = json_object_to_json_string(h);
        cr_assert_str_eq(text(h, "message_id"), text(first, "message_id"), "one message: %s", what);
        cr_assert_eq(json_object_get_int(json_object_object_get(h, "attempt")), i + 1, "%s", what);
        if (i + 1 < attempts) {
            cr_assert_str_eq(text(h, "outcome"), "retry_scheduled", "%s", what);
            cr_assert_eq(json_object_get_int64(json_object_object_get(h, "retry_delay_ms")),
                         delays[i], "%s", what);
            cr_assert_neq(strlen(text(h, "reason")), 0, "a retry says why: %s", what);
        } else {
            cr_assert_str_eq(text(h, "outcome"), "handled", "%s", what);
            cr_assert(is_null(h, "retry_delay_ms"), "%s", what);
        }
        if (i > 0) /* a retry waits out its delay in the retry queue */
            cr_assert_geq(json_object_get_double(json_object_object_get(h, "queue_wait_ms")),
                          (double)delays[i - 1] * 0.9, "%s", what);
        cr_assert_str_eq(text(h, "trace_id"), text(first, "trace_id"),
                         "every attempt joins the message's trace");
    }
    /* a single charge */
    cr_assert_eq(count_hops(trace, "publish", "payment", "PaymentSucceeded", NULL), 1, "%s", dump);
    cr_assert_eq(count_hops(trace, "publish", "payment", NULL, NULL), 1, "%s", dump);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM payment.payments WHERE order_id = $1::uuid", order), 1);
    json_object_put(trace);
    ts_assert_invariants(NULL);
}

static int run_souk(const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "SOUK_PROFILE=test '%s/souk' %s >/dev/null 2>&1", SOUK_SOURCE_DIR,
             args);
    return system(cmd);
}

struct hop_want {
    const char *kind, *service, *type, *outcome;
};

static int has_hop(json_object *trace, const void *arg)
{
    const struct hop_want *w = arg;
    return count_hops(trace, w->kind, w->service, w->type, w->outcome) > 0;
}

/* A delivery whose handling fails for good is dead-lettered: here the
 * order's e-mail breaks the schema of the OrderCancelled the order service
 * must emit. Once an operator fixed the order, `souk dlq replay` sends it
 * again and it is handled: a replayed hop. */
Test(sagatrace, a_poison_message_shows_dead_lettered_with_its_reason_and_replayed_after_a_replay)
{
    char token[2048], customer[37], order[37], message[37];
    ts_customer(token, sizeof token, customer);
    ts_open_order(customer, 60, "not-an-email", order);
    char trace_id[33], traceparent[64];
    new_traceparent(trace_id, traceparent);
    th_publish_event("StockReservationFailed", order, traceparent, message);
    struct hop_want dead = {"consume", "order", "StockReservationFailed", "dead_lettered"};
    json_object *trace = wait_trace(token, order, has_hop, &dead, 20000);
    json_object *h = nth_hop(trace, "consume", "order", "StockReservationFailed", NULL, 0);
    const char *what = json_object_to_json_string(h);
    cr_assert_str_eq(text(h, "outcome"), "dead_lettered", "%s", what);
    cr_assert_str_eq(text(h, "message_id"), message);
    cr_assert_str_eq(text(h, "queue"), "order-service");
    cr_assert_eq(json_object_get_int(json_object_object_get(h, "attempt")), 1, "%s", what);
    cr_assert_eq(json_object_get_int(json_object_object_get(h, "replayed")), 0, "%s", what);
    cr_assert(strstr(text(h, "reason"), "customer_email") || strstr(text(h, "reason"), "schema"),
              "the reason says why: %s", what);
    cr_assert_str_eq(text(h, "trace_id"), trace_id, "%s", what);
    cr_assert_eq(count_hops(trace, "publish", NULL, NULL, NULL), 0, "nothing was emitted");
    cr_assert_eq(count_hops(trace, "consume", "analytics", "StockReservationFailed", "handled"), 1);
    json_object_put(trace);

    PGconn *db = th_pg_admin();
    const char *params[1] = {order};
    PQclear(PQexecParams(db,
                         "UPDATE orders.orders SET customer_email = 'fixed@test.souk' "
                         "WHERE id = $1::uuid",
                         1, NULL, params, NULL, NULL, 0));
    PQfinish(db);
    cr_assert_eq(run_souk("dlq replay order"), 0);
    struct hop_want replayed = {"consume", "order", "StockReservationFailed", "replayed"};
    trace = wait_trace(token, order, has_hop, &replayed, 20000);
    h = nth_hop(trace, "consume", "order", "StockReservationFailed", "replayed", 0);
    what = json_object_to_json_string(h);
    cr_assert_str_eq(text(h, "message_id"), message, "the same message: %s", what);
    cr_assert_eq(json_object_get_int(json_object_object_get(h, "replayed")), 1, "%s", what);
    cr_assert_str_eq(text(h, "trace_id"), trace_id, "the replay joins the message's trace");
    json_object_put(trace);
    /* handled this time: the order is cancelled and its event published;
     * analytics, which had it already, took the replay as a duplicate */
    trace = settled_trace(token, order);
    cr_assert_str_eq(text(trace, "status"), "CANCELLED");
    cr_assert_eq(count_hops(trace, "publish", "order", "OrderCancelled", "published"), 1);
    h = nth_hop(trace, "consume", "analytics", "StockReservationFailed", NULL, 1);
    cr_assert_not_null(h, "%s", json_object_to_json_string(trace));
    cr_assert_str_eq(text(h, "outcome"), "duplicate", "%s", json_object_to_json_string(h));
    cr_assert_eq(json_object_get_int(json_object_object_get(h, "replayed")), 1);
    json_object_put(trace);
    ts_assert_invariants(NULL);
}

Test(sagatrace, a_duplicate_delivery_shows_a_duplicate_hop_and_changes_nothing)
{
    char token[2048], product[37], order[37];
    ts_customer(token, sizeof token, NULL);
    ts_product(800, 3, product);
    ts_order(token, product, 1, "MA", "tok_approve", order);
    json_object *trace = settled_trace(token, order);
    int hops_before = count_hops(trace, NULL, NULL, NULL, NULL);
    json_object *pub = nth_hop(trace, "publish", "payment", "PaymentSucceeded", NULL, 0);
    cr_assert_not_null(pub);
    /* the same message again, as an at-least-once broker may deliver it */
    souk_envelope env;
    memset(&env, 0, sizeof env);
    snprintf(env.message_id, sizeof env.message_id, "%s", text(pub, "message_id"));
    snprintf(env.type, sizeof env.type, "PaymentSucceeded");
    snprintf(env.correlation_id, sizeof env.correlation_id, "%s", order);
    snprintf(env.causation_id, sizeof env.causation_id, "%s", text(pub, "causation_id"));
    snprintf(env.app_id, sizeof env.app_id, "payment");
    snprintf(env.traceparent, sizeof env.traceparent, "%s",
             text(json_object_object_get(pub, "headers"), "traceparent"));
    env.schema_version = 1;
    char *body = strdup(json_object_to_json_string_ext(json_object_object_get(pub, "payload"),
                                                       JSON_C_TO_STRING_PLAIN));
    env.body = body;
    env.body_len = strlen(body);
    char message[37];
    snprintf(message, sizeof message, "%.36s", env.message_id);
    json_object_put(trace);
    long shipments =
        th_pg_long("SELECT count(*) FROM shipping.shipments WHERE order_id = $1::uuid", order);
    th_publish("PaymentSucceeded", "", &env);
    free(body);

    struct hop_want dup = {"consume", "shipping", "PaymentSucceeded", "duplicate"};
    trace = wait_trace(token, order, has_hop, &dup, 20000);
    struct hop_want dup_order = {"consume", "order", "PaymentSucceeded", "duplicate"};
    json_object_put(trace);
    trace = wait_trace(token, order, has_hop, &dup_order, 20000);
    json_object *h = nth_hop(trace, "consume", "shipping", "PaymentSucceeded", "duplicate", 0);
    cr_assert_str_eq(text(h, "message_id"), message);
    cr_assert(is_null(h, "handler_started_at"), "no handler ran: %s",
              json_object_to_json_string(h));
    cr_assert_eq(count_hops(trace, "consume", "shipping", "PaymentSucceeded", "handled"), 1);
    /* nothing changed: no new event, no second shipment, still COMPLETED */
    th_sleep_ms(1000);
    json_object_put(trace);
    trace = NULL;
    cr_assert_eq(get_trace(token, order, NULL, &trace), 200);
    cr_assert_eq(count_hops(trace, "publish", NULL, NULL, NULL), 6,
                 "the duplicate emitted nothing: %s", json_object_to_json_string(trace));
    cr_assert_geq(count_hops(trace, NULL, NULL, NULL, NULL), hops_before + 2);
    cr_assert_str_eq(text(trace, "status"), "COMPLETED");
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM shipping.shipments WHERE order_id = $1::uuid", order),
        shipments);
    json_object_put(trace);
    ts_assert_invariants(NULL);
}

/* A GET of the trace of order with query, as token. */
static void trace_get(ts_timed_get *get, const char *token, const char *order, const char *query)
{
    memset(get, 0, sizeof *get);
    get->token = token;
    snprintf(get->path, sizeof get->path, "/orders/%s/trace%s", order, query);
}

Test(sagatrace, a_long_poll_answers_when_a_hop_lands)
{
    char token[2048], customer[37], order[37];
    ts_customer(token, sizeof token, customer);
    ts_open_order(customer, 25, NULL, order);
    json_object *trace = NULL;
    cr_assert_eq(get_trace(token, order, NULL, &trace), 200);
    cr_assert_eq(count_hops(trace, NULL, NULL, NULL, NULL), 0);
    cr_assert(!json_object_get_boolean(json_object_object_get(trace, "final")));
    char version[64];
    snprintf(version, sizeof version, "%s", text(trace, "version"));
    json_object_put(trace);

    /* nothing lands: it answers after its wait, with the same version */
    char query[128];
    snprintf(query, sizeof query, "?wait=1&version=%s", version);
    ts_timed_get quiet;
    trace_get(&quiet, token, order, query);
    ts_get_timed(&quiet);
    cr_assert_eq(quiet.status, 200);
    cr_assert_geq(quiet.seconds, 0.9, "answered after %.2f s", quiet.seconds);
    cr_assert_str_eq(text(quiet.answer, "version"), version);
    json_object_put(quiet.answer);
    /* an older version answers at once */
    ts_timed_get stale;
    trace_get(&stale, token, order, "?wait=20&version=0000000000000000");
    ts_get_timed(&stale);
    cr_assert_eq(stale.status, 200);
    cr_assert_lt(stale.seconds, 5.0, "took %.1f s", stale.seconds);
    json_object_put(stale.answer);

    /* a hop lands while it waits: it answers then, with the hop */
    snprintf(query, sizeof query, "?wait=20&version=%s", version);
    ts_timed_get lp;
    trace_get(&lp, token, order, query);
    ts_get_start(&lp);
    th_sleep_ms(1500);
    th_publish_event("StockReservationFailed", order, NULL, NULL);
    ts_get_join(&lp);
    cr_assert_eq(lp.status, 200);
    cr_assert_geq(lp.seconds, 1.4, "answered after %.2f s, before the hop", lp.seconds);
    cr_assert_lt(lp.seconds, 10.0, "the long poll took %.1f s: a hop did not end it", lp.seconds);
    cr_assert_str_neq(text(lp.answer, "version"), version);
    cr_assert_gt(count_hops(lp.answer, NULL, NULL, NULL, NULL), 0, "%s",
                 json_object_to_json_string(lp.answer));
    json_object_put(lp.answer);

    cr_assert_eq(get_trace(token, order, "?wait=26&version=x", NULL), 400);
    cr_assert_eq(get_trace(token, order, "?wait=soon", NULL), 400);
    char status[32], reason[32];
    cr_assert(ts_wait_final(token, order, 20000, status, reason));
    ts_assert_invariants(NULL);
}

/* A waiting trace request holds a thread: it takes a slot of the wait
 * budget, and a customer past their share is told 429 at once (a read
 * without wait still answers). */
Test(sagatrace, a_waiting_trace_takes_a_slot_of_the_wait_budget)
{
    char base[64];
    const char *env[] = {"SOUK_LONG_POLL_PER_CUSTOMER=1", NULL};
    ts_spawn_gateway(env, "t-gateway-onewait", base);
    char token[2048], customer[37], order[37];
    ts_customer(token, sizeof token, customer);
    ts_open_order(customer, 20, NULL, order);
    ts_timed_get first;
    trace_get(&first, token, order, "");
    first.base = base;
    ts_get_timed(&first);
    cr_assert_eq(first.status, 200);
    char query[128];
    snprintf(query, sizeof query, "?wait=3&version=%s", text(first.answer, "version"));
    json_object_put(first.answer);
    ts_timed_get holder;
    trace_get(&holder, token, order, query);
    holder.base = base;
    ts_get_start(&holder);
    th_sleep_ms(1000);
    ts_timed_get refused;
    trace_get(&refused, token, order, query);
    refused.base = base;
    ts_get_timed(&refused);
    cr_assert_eq(refused.status, 429, "%s", json_object_to_json_string(refused.answer));
    cr_assert_str_eq(text(json_object_object_get(refused.answer, "error"), "code"),
                     "TOO_MANY_WAITS");
    cr_assert_lt(refused.seconds, 1.0, "refused at once, not after the wait");
    json_object_put(refused.answer);
    ts_timed_get plain;
    trace_get(&plain, token, order, "");
    plain.base = base;
    ts_get_timed(&plain);
    cr_assert_eq(plain.status, 200, "a read without wait needs no slot");
    json_object_put(plain.answer);
    ts_get_join(&holder);
    cr_assert_eq(holder.status, 200);
    cr_assert_geq(holder.seconds, 2.9, "it waited its 3 s: %.2f", holder.seconds);
    json_object_put(holder.answer);
    /* its slot is given back */
    trace_get(&refused, token, order, query);
    refused.base = base;
    ts_get_timed(&refused);
    cr_assert_eq(refused.status, 200);
    json_object_put(refused.answer);
    ts_close_order(order, "timed_out");
}

Test(sagatrace, only_the_owner_and_admins_see_a_trace)
{
    char token[2048], other[2048], customer[37], order[37], missing[37];
    ts_customer(token, sizeof token, customer);
    ts_customer(other, sizeof other, NULL);
    ts_open_order(customer, 20, NULL, order);
    cr_assert_eq(get_trace(token, order, NULL, NULL), 200);
    cr_assert_eq(get_trace(ts_admin(), order, NULL, NULL), 200);
    json_object *err = NULL;
    cr_assert_eq(get_trace(other, order, NULL, &err), 404, "another customer's order");
    cr_assert_str_eq(text(json_object_object_get(err, "error"), "code"), "NOT_FOUND");
    json_object_put(err);
    /* at once, not after the wait */
    ts_timed_get lp;
    trace_get(&lp, other, order, "?wait=20&version=x");
    ts_get_timed(&lp);
    cr_assert_eq(lp.status, 404);
    cr_assert_lt(lp.seconds, 5.0, "took %.1f s", lp.seconds);
    json_object_put(lp.answer);
    souk_uuid_v4(missing);
    cr_assert_eq(get_trace(token, missing, NULL, NULL), 404);
    cr_assert_eq(get_trace(ts_admin(), missing, NULL, NULL), 404);
    cr_assert_eq(get_trace(token, "not-an-order", NULL, NULL), 404);
    cr_assert_eq(get_trace(NULL, order, NULL, NULL), 401);
    /* the order ends; the books close */
    ts_close_order(order, "timed_out");
}

/* A schema that cannot be read fails the trace with 503 (retry), never a
 * trace with that service's hops missing. */
Test(sagatrace, an_unreachable_schema_is_503_never_a_partial_trace)
{
    char setting[160], base[64];
    snprintf(setting, sizeof setting,
             "SOUK_DB_URL_PAYMENT=postgresql://127.0.0.1:%d/souk?connect_timeout=2",
             th_free_port());
    const char *env[] = {setting, NULL};
    ts_spawn_gateway(env, "t-gateway-nopayment", base);
    char token[2048], customer[37], order[37], path[128];
    ts_customer(token, sizeof token, customer);
    ts_open_order(customer, 20, NULL, order);
    snprintf(path, sizeof path, "/orders/%s/trace", order);
    json_object *out = NULL;
    cr_assert_eq(ts_call_at(base, "GET", path, token, NULL, NULL, &out), 503, "%s",
                 json_object_to_json_string(out));
    cr_assert_str_eq(text(json_object_object_get(out, "error"), "code"), "UNAVAILABLE");
    json_object_put(out);
    /* the stack's gateway, which reaches every schema, answers it */
    cr_assert_eq(get_trace(token, order, NULL, NULL), 200);
    ts_close_order(order, "timed_out");
}
