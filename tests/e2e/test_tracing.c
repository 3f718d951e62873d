/* Trace context end to end, through the front, the gateway, the outbox,
 * RabbitMQ, every worker and souk-psp of the e2e fixture. The fixture's
 * processes export their spans to SOUK_TEST_OTLP_PORT (scripts/e2e-stack.sh
 * sets SOUK_OTLP_URL); nobody listens there but this file's receiver while
 * a test runs it, so the rest of the suite runs with the collector down.
 *
 * One checkout's spans must form one tree of one trace: the HTTP span,
 * then "publish <event>" and "process <queue>" spans alternating along the
 * saga down to the consumers of OrderCompleted, each the child of the one
 * before, with the provider's call in the payment step. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/trace.h"
#include "tests/support/harness.h"
#include "tests/support/otlp.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

TestSuite(tracing, .timeout = 120);

#define CALLER_SPAN "00f067aa0ba902b7"

/* A new trace id as 32 hex characters. */
static void new_trace_id(char out[33])
{
    souk_trace_ctx ctx;
    souk_trace_root(&ctx);
    souk_trace_hex(ctx.trace_id, 16, out);
}

Test(tracing, every_answer_carries_the_traceparent_of_the_gateway_s_span)
{
    char trace[33], sent[64], tp[64];
    new_trace_id(trace);
    snprintf(sent, sizeof sent, "00-%s-%s-01", trace, CALLER_SPAN);
    cr_assert_eq(ts_call_traced("GET", "/healthz", NULL, NULL, sent, "souk-test=1", tp, NULL), 200);
    souk_trace_ctx got;
    cr_assert_eq(souk_trace_parse(tp, NULL, &got), 0, "no valid traceparent: '%s'", tp);
    cr_assert_eq(strncmp(tp, sent, 36), 0, "the caller's trace goes on: sent %s, got %s", sent, tp);
    cr_assert_str_neq(tp + 36, sent + 36,
                      "the answer names the gateway's own span, not the caller's");
    cr_assert_str_eq(tp + 52, "-01", "the caller's flags are kept");

    /* an error answer carries it too */
    cr_assert_eq(ts_call_traced("GET", "/no/such/path", NULL, NULL, sent, NULL, tp, NULL), 404);
    cr_assert_eq(strncmp(tp, sent, 36), 0, "%s", tp);

    /* without a traceparent, or with an invalid one, the gateway starts a trace */
    const char *invalid[] = {
        NULL,
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "garbage",
    };
    char seen[sizeof invalid / sizeof invalid[0]][64];
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        cr_assert_eq(ts_call_traced("GET", "/healthz", NULL, NULL, invalid[i], NULL, tp, NULL),
                     200);
        cr_assert_eq(souk_trace_parse(tp, NULL, &got), 0, "for '%s': '%s'",
                     invalid[i] ? invalid[i] : "(none)", tp);
        cr_assert_neq(strncmp(tp + 3, "4bf92f3577b34da6a3ce929d0e0e4736", 32), 0,
                      "an invalid traceparent was continued: %s", tp);
        cr_assert_str_eq(tp + 52, "-01", "a new trace is sampled");
        snprintf(seen[i], sizeof seen[i], "%s", tp);
        for (size_t k = 0; k < i; k++)
            cr_assert_neq(strncmp(seen[k], tp, 35), 0, "two new traces share an id: %s", tp);
    }
}

/* The spans of the receiver with trace id trace (a new array). */
static json_object *spans_of(th_otlp *r, const char *trace)
{
    json_object *all = th_otlp_spans(r);
    json_object *mine = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *s = json_object_array_get_idx(all, i);
        if (strcmp(th_otlp_field(s, "traceId"), trace) == 0)
            json_object_array_add(mine, json_object_get(s));
    }
    json_object_put(all);
    return mine;
}

/* The span named name whose parent is parent_id, or NULL. */
static json_object *child(json_object *spans, const char *parent_id, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(spans); i++) {
        json_object *s = json_object_array_get_idx(spans, i);
        const char *p = th_otlp_field(s, "parentSpanId");
        if (p && strcmp(p, parent_id) == 0 && strcmp(th_otlp_field(s, "name"), name) == 0)
            return s;
    }
    return NULL;
}

static const char *id_of(json_object *span)
{
    return th_otlp_field(span, "spanId");
}

/* The saga's happy path as (event, the queue whose handling emits the
 * next event). */
static const char *const saga[][2] = {
    {"CartCheckedOut", "order-service"},  {"OrderCreated", "inventory-service"},
    {"StockReserved", "payment-service"}, {"PaymentSucceeded", "shipping-service"},
    {"ShippingCreated", "order-service"}, {"OrderCompleted", NULL},
};
#define SAGA_STEPS (sizeof saga / sizeof saga[0])

/* True once the spans hold the last hops: OrderCompleted processed by
 * inventory, notification and analytics. */
static int complete(json_object *spans, json_object *http)
{
    const char *at = id_of(http);
    for (size_t i = 0; i < SAGA_STEPS; i++) {
        char name[96];
        snprintf(name, sizeof name, "publish %s", saga[i][0]);
        json_object *publish = child(spans, at, name);
        if (!publish)
            return 0;
        if (!saga[i][1])
            return child(spans, id_of(publish), "process inventory-service") &&
                   child(spans, id_of(publish), "process notification-service") &&
                   child(spans, id_of(publish), "process analytics-service");
        snprintf(name, sizeof name, "process %s", saga[i][1]);
        json_object *process = child(spans, id_of(publish), name);
        if (!process)
            return 0;
        at = id_of(process);
    }
    return 0;
}

static json_object *find_named(json_object *spans, const char *name, const char *kind)
{
    for (size_t i = 0; i < json_object_array_length(spans); i++) {
        json_object *s = json_object_array_get_idx(spans, i);
        if (strcmp(th_otlp_field(s, "name"), name) == 0 &&
            strcmp(th_otlp_field(s, "kind"), kind) == 0)
            return s;
    }
    return NULL;
}

static void assert_process(json_object *process, json_object *publish, const char *queue,
                           const char *order)
{
    cr_assert_str_eq(th_otlp_field(process, "kind"), "5", "a process span is a CONSUMER");
    cr_assert_str_eq(th_otlp_attr(process, "messaging.system"), "rabbitmq");
    cr_assert_str_eq(th_otlp_attr(process, "messaging.operation.type"), "process");
    cr_assert_str_eq(th_otlp_attr(process, "messaging.destination.subscription.name"), queue);
    cr_assert_str_eq(th_otlp_attr(process, "messaging.destination.name"),
                     th_otlp_attr(publish, "messaging.destination.name"));
    cr_assert_str_eq(th_otlp_attr(process, "messaging.message.id"),
                     th_otlp_attr(publish, "messaging.message.id"),
                     "the consumer handled the message its parent published");
    cr_assert_str_eq(th_otlp_attr(process, "messaging.message.conversation_id"), order);
    cr_assert_str_eq(th_otlp_attr(process, "souk.outcome"), "handled");
}

/* Every line of the named log that names order carries trace; returns
 * how many lines named it. */
static int lines_of_order_carry(const char *log, const char *order, const char *trace)
{
    FILE *f = fopen(th_log_path(log), "r");
    cr_assert_not_null(f, "no log %s", log);
    char line[4096], want[64];
    snprintf(want, sizeof want, "trace_id=%s", trace);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, order))
            continue;
        n++;
        cr_assert(strstr(line, want) != NULL, "a line of %s about the order lacks %s: %s", log,
                  want, line);
    }
    fclose(f);
    return n;
}

/* Writes span and its descendants to f, one line each, indented by depth:
 * name, service, duration and start offset from the root (ms). */
static void write_tree(FILE *f, json_object *spans, json_object *span, int depth,
                       unsigned long long root_start)
{
    unsigned long long start = strtoull(th_otlp_field(span, "start"), NULL, 10);
    unsigned long long end = strtoull(th_otlp_field(span, "end"), NULL, 10);
    fprintf(f, "%*s%-*s %-18s %+8.1f %7.1f\n", depth * 2, "", 54 - depth * 2,
            th_otlp_field(span, "name"), th_otlp_field(span, "service"),
            (double)(start - root_start) / 1e6, (double)(end - start) / 1e6);
    /* children in (start, span id) order */
    const char *id = id_of(span);
    unsigned long long after = 0;
    const char *after_id = "";
    for (;;) {
        json_object *next = NULL;
        unsigned long long next_start = 0;
        for (size_t i = 0; i < json_object_array_length(spans); i++) {
            json_object *c = json_object_array_get_idx(spans, i);
            const char *parent = th_otlp_field(c, "parentSpanId");
            unsigned long long cs = strtoull(th_otlp_field(c, "start"), NULL, 10);
            int later = cs > after || (cs == after && strcmp(id_of(c), after_id) > 0);
            int sooner =
                !next || cs < next_start || (cs == next_start && strcmp(id_of(c), id_of(next)) < 0);
            if (parent && strcmp(parent, id) == 0 && later && sooner) {
                next = c;
                next_start = cs;
            }
        }
        if (!next)
            return;
        write_tree(f, spans, next, depth + 1, root_start);
        after = next_start;
        after_id = id_of(next);
    }
}

Test(tracing, one_checkout_s_spans_form_one_tree_along_the_saga)
{
    th_otlp *r = th_otlp_start(atoi(getenv("SOUK_TEST_OTLP_PORT")), TH_OTLP_ACCEPT);
    char token[2048], product[37], trace[33], sent[64], tp[64];
    ts_customer(token, sizeof token, NULL);
    ts_product(990, 5, product);
    new_trace_id(trace);
    snprintf(sent, sizeof sent, "00-%s-%s-01", trace, CALLER_SPAN);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"items\":[{\"product_id\":\"%s\",\"quantity\":1}],\"shipping_address\":{"
             "\"name\":\"Amina\",\"line1\":\"12 Rue des Souks\",\"city\":\"Marrakesh\","
             "\"postal_code\":\"40000\",\"country\":\"MA\"},\"payment_token\":\"tok_approve\"}",
             product);
    json_object *accepted = NULL;
    cr_assert_eq(ts_call_traced("POST", "/orders", token, body, sent, "souk-test=1", tp, &accepted),
                 202);
    cr_assert_eq(strncmp(tp, sent, 36), 0, "the answer's traceparent: %s", tp);
    char order[37];
    snprintf(order, sizeof order, "%s",
             json_object_get_string(json_object_object_get(accepted, "order_id")));
    json_object_put(accepted);
    char status[32], reason[32];
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");

    /* the spans arrive within an export interval of each process */
    json_object *spans = NULL, *http = NULL;
    for (int waited = 0; waited < 20000; waited += 250) {
        json_object_put(spans);
        spans = spans_of(r, trace);
        http = find_named(spans, "POST /orders", "2");
        if (http && complete(spans, http))
            break;
        th_sleep_ms(250);
    }
    cr_assert_not_null(http, "no HTTP span of the checkout; %d spans of its trace",
                       (int)json_object_array_length(spans));
    cr_assert(complete(spans, http), "the trace does not reach OrderCompleted's consumers: %s",
              json_object_to_json_string_ext(spans, JSON_C_TO_STRING_PRETTY));

    /* the HTTP span: a child of the caller's, with the server attributes */
    cr_assert_str_eq(th_otlp_field(http, "parentSpanId"), CALLER_SPAN);
    cr_assert_str_eq(th_otlp_field(http, "service"), "souk-gateway");
    cr_assert_str_eq(th_otlp_attr(http, "http.request.method"), "POST");
    cr_assert_str_eq(th_otlp_attr(http, "http.route"), "/orders");
    cr_assert_str_eq(th_otlp_attr(http, "http.response.status_code"), "202");
    cr_assert_eq(strncmp(tp + 36, id_of(http), 16), 0, "the answer (%s) names the HTTP span %s", tp,
                 id_of(http));

    /* down the saga: publish <event> -> process <queue> -> publish <next> ... */
    const char *at = id_of(http);
    const char *publishers[SAGA_STEPS] = {"souk-gateway", "souk-order",    "souk-inventory",
                                          "souk-payment", "souk-shipping", "souk-order"};
    for (size_t i = 0; i < SAGA_STEPS; i++) {
        char name[96];
        snprintf(name, sizeof name, "publish %s", saga[i][0]);
        json_object *publish = child(spans, at, name);
        cr_assert_not_null(publish, "no %s under span %s", name, at);
        cr_assert_str_eq(th_otlp_field(publish, "kind"), "4", "a publish span is a PRODUCER");
        cr_assert_str_eq(th_otlp_field(publish, "service"), publishers[i], "%s", name);
        cr_assert_str_eq(th_otlp_attr(publish, "messaging.system"), "rabbitmq");
        cr_assert_str_eq(th_otlp_attr(publish, "messaging.destination.name"), saga[i][0]);
        cr_assert_str_eq(th_otlp_attr(publish, "messaging.message.conversation_id"), order);
        /* analytics records every event */
        json_object *analytics = child(spans, id_of(publish), "process analytics-service");
        cr_assert_not_null(analytics, "analytics did not process %s in this trace", saga[i][0]);
        assert_process(analytics, publish, "analytics-service", order);
        if (!saga[i][1]) {
            const char *last[] = {"inventory-service", "notification-service"};
            for (int k = 0; k < 2; k++) {
                char pname[96];
                snprintf(pname, sizeof pname, "process %s", last[k]);
                assert_process(child(spans, id_of(publish), pname), publish, last[k], order);
            }
            break;
        }
        snprintf(name, sizeof name, "process %s", saga[i][1]);
        json_object *process = child(spans, id_of(publish), name);
        assert_process(process, publish, saga[i][1], order);
        if (strcmp(saga[i][1], "payment-service") == 0) {
            /* the charge: the worker's client span, the provider's server span under it */
            json_object *call = child(spans, id_of(process), "POST /charges");
            cr_assert_not_null(call, "no call to the provider under the payment");
            cr_assert_str_eq(th_otlp_field(call, "kind"), "3");
            cr_assert_str_eq(th_otlp_attr(call, "http.response.status_code"), "200");
            json_object *served = child(spans, id_of(call), "POST /charges");
            cr_assert_not_null(served, "souk-psp's span is not under the worker's call");
            cr_assert_str_eq(th_otlp_field(served, "service"), "souk-psp");
            cr_assert_str_eq(th_otlp_field(served, "kind"), "2");
        }
        at = id_of(process);
    }

    /* one tree: every span's parent is in the trace, but the HTTP span's,
     * which is the caller's; the caller's tracestate went all the way */
    json_object *ids = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(spans); i++)
        json_object_object_add(ids, id_of(json_object_array_get_idx(spans, i)), NULL);
    for (size_t i = 0; i < json_object_array_length(spans); i++) {
        json_object *s = json_object_array_get_idx(spans, i);
        const char *parent = th_otlp_field(s, "parentSpanId");
        cr_assert_not_null(parent, "a second root: %s", json_object_get_string(s));
        if (s != http)
            cr_assert(json_object_object_get_ex(ids, parent, NULL),
                      "span %s (%s) hangs from %s, which is not in the trace", id_of(s),
                      th_otlp_field(s, "name"), parent);
        cr_assert_str_eq(th_otlp_field(s, "traceState") ? th_otlp_field(s, "traceState") : "",
                         "souk-test=1", "span %s lost the tracestate", th_otlp_field(s, "name"));
    }
    json_object_put(ids);
    /* the tree as text, for people (the README's example comes from it) */
    FILE *tree = fopen(th_log_path("trace-tree"), "w");
    if (tree) {
        fprintf(tree, "trace %s, order %s\n%-54s %-18s %8s %7s\n", trace, order, "span", "service",
                "start ms", "ms");
        write_tree(tree, spans, http, 0, strtoull(th_otlp_field(http, "start"), NULL, 10));
        fclose(tree);
    }

    /* no span of the order in another trace */
    json_object *all = th_otlp_spans(r);
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *s = json_object_array_get_idx(all, i);
        const char *conversation = th_otlp_attr(s, "messaging.message.conversation_id");
        if (conversation && strcmp(conversation, order) == 0)
            cr_assert_str_eq(th_otlp_field(s, "traceId"), trace, "%s of the order in another trace",
                             th_otlp_field(s, "name"));
    }
    json_object_put(all);
    json_object_put(spans);
    th_otlp_stop(r);

    /* and every log line about the order carries its trace id */
    const char *logs[] = {"gateway",
                          "worker-order",
                          "worker-inventory",
                          "worker-payment",
                          "worker-shipping",
                          "worker-notification",
                          "psp"};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++)
        cr_assert_gt(lines_of_order_carry(logs[i], order, trace), 0, "%s logged nothing of it",
                     logs[i]);
    ts_assert_invariants(NULL);
}

/* A counter of the gateway's /metrics, or -1. */
static long long gateway_metric(const char *series)
{
    char url[512];
    snprintf(url, sizeof url, "%s/metrics", getenv("SOUK_TEST_GATEWAY_URL"));
    char *text = NULL;
    long status = th_http("GET", url, NULL, NULL, &text);
    long long value = -1;
    const char *at = status == 200 && text ? strstr(text, series) : NULL;
    if (at)
        value = strtoll(at + strlen(series), NULL, 10);
    free(text);
    return value;
}

Test(tracing, with_the_collector_down_spans_are_dropped_and_counted_and_the_saga_completes)
{
    /* nobody listens on the collector's port now */
    const char *failed = "souk_trace_spans_dropped_total{reason=\"export_failed\"} ";
    long long before = gateway_metric(failed);
    cr_assert_geq(before, 0, "the gateway's /metrics has no %s", failed);
    char token[2048], product[37], order[37], status[32], reason[32];
    ts_customer(token, sizeof token, NULL);
    ts_product(500, 2, product);
    ts_order(token, product, 1, "MA", "tok_approve", order);
    cr_assert(ts_wait_final(token, order, 30000, status, reason));
    cr_assert_str_eq(status, "COMPLETED");
    long long after = before;
    for (int i = 0; i < 50 && after <= before; i++) {
        th_sleep_ms(100);
        after = gateway_metric(failed);
    }
    cr_assert_gt(after, before, "the checkout's spans were not counted as dropped");
    cr_assert_geq(gateway_metric("souk_trace_spans_exported_total "), 0);
    /* each worker said once that its collector is unreachable */
    char needle[160];
    snprintf(needle, sizeof needle, "span export to http://127.0.0.1:%s/v1/traces failed",
             getenv("SOUK_TEST_OTLP_PORT"));
    cr_assert(th_wait_log("worker-order", needle, NULL, 5000), "no %s in worker-order.log", needle);
    ts_assert_invariants(NULL);
}
