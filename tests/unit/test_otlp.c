/* The OTLP exporter (core/otlp.h): spans reach a collector as OTLP JSON
 * with their parents, and a collector that is down, refuses or hangs costs
 * spans (counted), never the caller's time. The collector is the tests'
 * receiver (tests/support/otlp.h), a real HTTP server on a local socket. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/otlp.h"
#include "core/trace.h"
#include "tests/support/harness.h"
#include "tests/support/otlp.h"

#define TRACE  "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"
#define VALID  "00-" TRACE "-" PARENT "-01"

/* Spans ended under an exporter to r's port. */
static void start_exporter(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    cr_assert_eq(souk_otlp_start_url(url, "test"), SOUK_OK);
    cr_assert(souk_otlp_enabled());
}

static json_object *find_span(json_object *spans, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(spans); i++) {
        json_object *s = json_object_array_get_idx(spans, i);
        if (strcmp(th_otlp_field(s, "name"), name) == 0)
            return s;
    }
    return NULL;
}

Test(otlp, spans_reach_the_collector_as_otlp_json_with_their_parents)
{
    th_otlp *r = th_otlp_start(0, TH_OTLP_ACCEPT);
    start_exporter(th_otlp_port(r));
    souk_trace_ctx caller;
    cr_assert_eq(souk_trace_parse(VALID, "v=1", &caller), 0);
    souk_span server, producer;
    souk_span_start(&server, &caller, SOUK_SPAN_SERVER, "POST");
    snprintf(server.name, sizeof server.name, "POST /orders");
    souk_span_attr_str(&server, "http.route", "/orders");
    souk_span_attr_int(&server, "http.response.status_code", 202);
    souk_span_start(&producer, &server.ctx, SOUK_SPAN_PRODUCER, "publish CartCheckedOut");
    souk_span_attr_str(&producer, "messaging.system", "rabbitmq");
    souk_span_fail(&producer, "broker \"gone\"");
    souk_span_end(&producer);
    souk_span_end(&server);
    souk_otlp_stop(); /* exports what is queued */

    json_object *spans = th_otlp_spans(r);
    cr_assert_eq(json_object_array_length(spans), 2, "%s", json_object_get_string(spans));
    json_object *s = find_span(spans, "POST /orders");
    json_object *p = find_span(spans, "publish CartCheckedOut");
    cr_assert_not_null(s);
    cr_assert_not_null(p);
    cr_assert_str_eq(th_otlp_field(s, "traceId"), TRACE);
    cr_assert_str_eq(th_otlp_field(s, "parentSpanId"), PARENT);
    cr_assert_str_eq(th_otlp_field(s, "traceState"), "v=1");
    cr_assert_str_eq(th_otlp_field(s, "kind"), "2");
    cr_assert_str_eq(th_otlp_field(s, "service"), "souk-test");
    cr_assert_str_eq(th_otlp_attr(s, "http.route"), "/orders");
    cr_assert_str_eq(th_otlp_attr(s, "http.response.status_code"), "202");
    cr_assert_str_eq(th_otlp_field(s, "status"), "0");
    cr_assert_str_eq(th_otlp_field(p, "traceId"), TRACE);
    cr_assert_str_eq(th_otlp_field(p, "parentSpanId"), th_otlp_field(s, "spanId"));
    cr_assert_str_eq(th_otlp_field(p, "kind"), "4");
    cr_assert_str_eq(th_otlp_field(p, "status"), "2");
    cr_assert_str_eq(th_otlp_attr(p, "messaging.system"), "rabbitmq");
    /* nanoseconds since the epoch, as decimal strings, start before end */
    unsigned long long start = strtoull(th_otlp_field(s, "start"), NULL, 10);
    unsigned long long end = strtoull(th_otlp_field(s, "end"), NULL, 10);
    cr_assert_gt(start, 1600000000ULL * 1000000000ULL);
    cr_assert_geq(end, start);
    souk_otlp_stats stats;
    souk_otlp_stats_get(&stats);
    cr_assert_eq(stats.exported, 2);
    json_object_put(spans);
    th_otlp_stop(r);
}

Test(otlp, an_unsampled_trace_is_carried_on_but_not_exported)
{
    th_otlp *r = th_otlp_start(0, TH_OTLP_ACCEPT);
    start_exporter(th_otlp_port(r));
    souk_trace_ctx caller;
    cr_assert_eq(souk_trace_parse("00-" TRACE "-" PARENT "-00", NULL, &caller), 0);
    souk_span span;
    souk_span_start(&span, &caller, SOUK_SPAN_SERVER, "GET");
    cr_assert_not(span.recording);
    souk_span_end(&span);
    souk_otlp_stop();
    cr_assert_eq(th_otlp_requests(r), 0);
    th_otlp_stop(r);
}

static void end_spans(int n)
{
    for (int i = 0; i < n; i++) {
        souk_span span;
        souk_span_start(&span, NULL, SOUK_SPAN_INTERNAL, "work");
        souk_span_attr_str(&span, "souk.order_id", "0b6a2c1e-2c5d-4bb0-a1bd-9f0b1d1a3c55");
        souk_span_end(&span);
    }
}

Test(otlp, a_collector_that_is_down_costs_spans_counted_not_time, .timeout = 30)
{
    int port = th_free_port(); /* nobody listens: refused at once */
    start_exporter(port);
    double started = souk_monotonic_seconds();
    end_spans(100);
    cr_assert_lt(souk_monotonic_seconds() - started, 0.5, "ending spans waited for the network");
    souk_otlp_stats stats;
    for (int i = 0; i < 60; i++) {
        souk_otlp_stats_get(&stats);
        if (stats.dropped_failed == 100)
            break;
        th_sleep_ms(100);
    }
    cr_assert_eq(stats.dropped_failed, 100, "dropped %llu", stats.dropped_failed);
    cr_assert_eq(stats.exported, 0);
    char text[1024];
    souk_otlp_metrics_text(text, sizeof text);
    cr_assert(strstr(text, "souk_trace_spans_dropped_total{reason=\"export_failed\"} 100\n"), "%s",
              text);
    souk_otlp_stop();
}

Test(otlp, a_collector_that_hangs_fills_the_queue_and_the_rest_is_dropped, .timeout = 30)
{
    th_otlp *r = th_otlp_start(0, TH_OTLP_HANG);
    start_exporter(th_otlp_port(r));
    int n = SOUK_OTLP_QUEUE_CAP + 2 * SOUK_OTLP_BATCH + 500;
    double started = souk_monotonic_seconds();
    end_spans(n);
    double took = souk_monotonic_seconds() - started;
    cr_assert_lt(took, 2.0, "%d spans took %.3f s to end", n, took);
    souk_otlp_stats stats;
    souk_otlp_stats_get(&stats);
    /* at most one batch is out (waiting for the answer), the queue is full */
    cr_assert_geq(stats.dropped_full,
                  (unsigned long long)(n - SOUK_OTLP_QUEUE_CAP - SOUK_OTLP_BATCH),
                  "dropped %llu of %d", stats.dropped_full, n);
    cr_assert_leq(stats.queued, SOUK_OTLP_QUEUE_CAP);
    double stop_started = souk_monotonic_seconds();
    souk_otlp_stop(); /* the batch out times out; the queue is dropped, not waited for */
    cr_assert_lt(souk_monotonic_seconds() - stop_started, SOUK_OTLP_TIMEOUT_MS / 1000.0 * 2 + 1);
    souk_otlp_stats_get(&stats);
    cr_assert_eq(stats.exported, 0);
    cr_assert_eq(stats.dropped_full + stats.dropped_failed, (unsigned long long)n);
    th_otlp_stop(r);
}

Test(otlp, a_collector_that_refuses_costs_the_batch_and_the_next_one_is_tried, .timeout = 30)
{
    th_otlp *r = th_otlp_start(0, TH_OTLP_FAIL);
    start_exporter(th_otlp_port(r));
    end_spans(10);
    souk_otlp_stats stats;
    for (int i = 0; i < 40 && th_otlp_requests(r) < 1; i++)
        th_sleep_ms(100);
    end_spans(10);
    for (int i = 0; i < 40 && th_otlp_requests(r) < 2; i++)
        th_sleep_ms(100);
    cr_assert_eq(th_otlp_requests(r), 2, "each batch is one attempt");
    souk_otlp_stop();
    souk_otlp_stats_get(&stats);
    cr_assert_eq(stats.dropped_failed, 20);
    th_otlp_stop(r);
}
