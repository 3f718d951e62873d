/* W3C trace context (core/trace.h): what traceparent and tracestate are
 * accepted, what a child inherits, the thread's current context, and what
 * a span costs without an exporter. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/otlp.h"
#include "core/trace.h"

#define TRACE  "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"
#define VALID  "00-" TRACE "-" PARENT "-01"

static int parses(const char *text)
{
    souk_trace_ctx ctx;
    return souk_trace_parse(text, NULL, &ctx) == 0;
}

Test(trace, a_valid_traceparent_gives_its_ids_and_flags_and_formats_back)
{
    souk_trace_ctx ctx;
    cr_assert_eq(souk_trace_parse(VALID, "vendor=abc", &ctx), 0);
    char hex[33];
    souk_trace_hex(ctx.trace_id, 16, hex);
    cr_assert_str_eq(hex, TRACE);
    souk_trace_hex(ctx.span_id, 8, hex);
    cr_assert_str_eq(hex, PARENT);
    cr_assert_eq(ctx.flags, 1);
    cr_assert_str_eq(ctx.tracestate, "vendor=abc");
    char out[SOUK_TRACEPARENT_LEN + 1];
    souk_trace_format(&ctx, out);
    cr_assert_str_eq(out, VALID);
    /* unsampled and other flags are kept as they came */
    cr_assert_eq(souk_trace_parse("00-" TRACE "-" PARENT "-00", NULL, &ctx), 0);
    cr_assert_eq(ctx.flags, 0);
    cr_assert_eq(souk_trace_parse("00-" TRACE "-" PARENT "-09", NULL, &ctx), 0);
    cr_assert_eq(ctx.flags, 9);
    /* HTTP's optional whitespace around a header value */
    cr_assert(parses("  " VALID "\t"));
}

Test(trace, an_invalid_traceparent_is_refused_and_zeroes_the_context)
{
    const char *bad[] = {
        NULL,
        "",
        "00-" TRACE "-" PARENT "-0",                         /* short */
        "00-" TRACE "-" PARENT "-010",                       /* long for version 00 */
        "00-" TRACE "-" PARENT "-01-",                       /* version 00 has no more */
        "ff-" TRACE "-" PARENT "-01",                        /* the forbidden version */
        "0g-" TRACE "-" PARENT "-01",                        /* not hex */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01", /* uppercase */
        "00-" TRACE "-00F067AA0BA902B7-01",                  /* uppercase */
        "00-00000000000000000000000000000000-" PARENT "-01", /* zero trace id */
        "00-" TRACE "-0000000000000000-01",                  /* zero parent id */
        "00_" TRACE "-" PARENT "-01",                        /* separator */
        "00-" TRACE "_" PARENT "-01",                        /* separator */
        "00-" TRACE "-" PARENT "_01",                        /* separator */
        "00-" TRACE "-" PARENT "-zz",                        /* flags */
        "00-4bf92f3577b34da6a3ce929d0e0e473-" PARENT "-01x", /* a field too short */
        "cc-" TRACE "-" PARENT "-01x",                       /* later version, no '-' */
        "00 -" TRACE "-" PARENT "-01",                       /* space inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        souk_trace_ctx ctx;
        memset(&ctx, 0x5a, sizeof ctx);
        cr_assert_eq(souk_trace_parse(bad[i], NULL, &ctx), -1, "accepted '%s'",
                     bad[i] ? bad[i] : "(null)");
        cr_assert_not(souk_trace_valid(&ctx), "'%s' left a context", bad[i] ? bad[i] : "(null)");
    }
}

Test(trace, a_later_version_is_read_for_the_fields_it_shares_with_version_00)
{
    souk_trace_ctx ctx;
    cr_assert_eq(souk_trace_parse("cc-" TRACE "-" PARENT "-01-what-the-future-holds", NULL, &ctx),
                 0);
    char hex[33];
    souk_trace_hex(ctx.trace_id, 16, hex);
    cr_assert_str_eq(hex, TRACE);
    cr_assert(parses("01-" TRACE "-" PARENT "-01"));
}

Test(trace, an_invalid_tracestate_is_dropped_without_voiding_the_traceparent)
{
    const char *good[] = {"rojo=00f067aa0ba902b7", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
                          "tenant@vendor=x, other=y", "a=1,,b=2", " a=1 "};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(souk_trace_state_valid(good[i]), "refused '%s'", good[i]);
    char long_state[600];
    memset(long_state, 'v', sizeof long_state - 1);
    long_state[0] = 'k';
    long_state[1] = '=';
    long_state[sizeof long_state - 1] = '\0';
    char many[400] = "";
    for (int i = 0; i < 33; i++) {
        size_t len = strlen(many);
        snprintf(many + len, sizeof many - len, "%sk%d=v", i ? "," : "", i);
    }
    const char *bad[] = {"Rojo=1",   "rojo",           "rojo=1,rojo=2", "=1",
                         "rojo=a,b", "rojo=tab\there", long_state,      many};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(souk_trace_state_valid(bad[i]), "accepted '%.40s'", bad[i]);
        souk_trace_ctx ctx;
        cr_assert_eq(souk_trace_parse(VALID, bad[i], &ctx), 0);
        cr_assert_str_eq(ctx.tracestate, "");
    }
}

Test(trace, a_child_keeps_the_trace_flags_and_state_with_a_span_of_its_own)
{
    souk_trace_ctx parent, child, other;
    cr_assert_eq(souk_trace_parse("00-" TRACE "-" PARENT "-00", "v=1", &parent), 0);
    souk_trace_child(&parent, &child);
    souk_trace_child(&parent, &other);
    cr_assert_eq(memcmp(child.trace_id, parent.trace_id, 16), 0);
    cr_assert_neq(memcmp(child.span_id, parent.span_id, 8), 0);
    cr_assert_neq(memcmp(child.span_id, other.span_id, 8), 0, "every span has its own id");
    cr_assert_eq(child.flags, 0, "an unsampled trace stays unsampled");
    cr_assert_str_eq(child.tracestate, "v=1");

    /* no parent: a new, sampled trace */
    souk_trace_child(NULL, &child);
    souk_trace_root(&other);
    cr_assert(souk_trace_valid(&child));
    cr_assert_eq(child.flags, SOUK_TRACE_SAMPLED);
    cr_assert_neq(memcmp(child.trace_id, other.trace_id, 16), 0);
    char text[SOUK_TRACEPARENT_LEN + 1];
    souk_trace_format(&child, text);
    cr_assert(parses(text), "%s", text);
}

Test(trace, the_current_context_is_the_thread_s_own)
{
    cr_assert_null(souk_trace_current());
    souk_trace_ctx ctx;
    souk_trace_root(&ctx);
    souk_trace_set_current(&ctx);
    cr_assert_not_null(souk_trace_current());
    cr_assert_eq(memcmp(souk_trace_current()->trace_id, ctx.trace_id, 16), 0);
    souk_trace_set_current(NULL);
    cr_assert_null(souk_trace_current());
}

Test(trace, without_an_exporter_a_span_has_ids_but_records_nothing)
{
    souk_span span;
    souk_span_start(&span, NULL, SOUK_SPAN_SERVER, "GET /healthz");
    souk_span_attr_str(&span, "http.route", "/healthz");
    cr_assert_not(span.recording);
    cr_assert_eq(span.attr_count, 0);
    cr_assert(souk_trace_valid(&span.ctx));
    souk_span_end(&span);
    souk_otlp_stats stats;
    souk_otlp_stats_get(&stats);
    cr_assert_eq(stats.dropped_full + stats.dropped_failed + stats.exported, 0);
}
