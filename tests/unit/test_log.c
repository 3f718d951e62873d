#include <criterion/criterion.h>
#include <string.h>

#include "core/log.h"
#include "core/trace.h"

Test(log, line_carries_level_service_message_and_ids)
{
    char buf[512];
    souk_log_set_service("order");
    int n = souk_log_format(buf, sizeof buf, SOUK_LOG_WARN, "ord-1", "msg-2", "stock low");
    cr_assert_eq((size_t)n, strlen(buf));
    cr_assert(strstr(buf, "level=warn service=order msg=\"stock low\" order_id=ord-1 "
                          "message_id=msg-2\n") != NULL,
              "%s", buf);
    cr_assert(strncmp(buf, "ts=", 3) == 0);
}

Test(log, quotes_and_newlines_cannot_break_the_line)
{
    char buf[512];
    souk_log_format(buf, sizeof buf, SOUK_LOG_INFO, NULL, NULL, "say \"hi\"\nnext");
    cr_assert(strstr(buf, "msg=\"say \\\"hi\\\"\\nnext\"") != NULL, "%s", buf);
    cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

Test(log, overlong_messages_are_cut_but_still_one_line)
{
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char buf[256];
    int n = souk_log_format(buf, sizeof buf, SOUK_LOG_INFO, "o", "m", big);
    cr_assert_lt(n, 256);
    cr_assert_eq(buf[n - 1], '\n');
}

Test(log, a_line_carries_the_trace_of_the_thread_s_current_context)
{
    char buf[512];
    souk_trace_ctx ctx;
    cr_assert_eq(
        souk_trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL, &ctx), 0);
    souk_trace_set_current(&ctx);
    souk_log_format(buf, sizeof buf, SOUK_LOG_INFO, "o", "m", "handled");
    cr_assert(strstr(buf, " order_id=o message_id=m trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
                          "span_id=00f067aa0ba902b7\n") != NULL,
              "%s", buf);
    souk_trace_set_current(NULL); /* after the work: no trace */
    souk_log_format(buf, sizeof buf, SOUK_LOG_INFO, "o", "m", "idle");
    cr_assert_null(strstr(buf, "trace_id="), "%s", buf);
    /* a line cut short for room drops the ids rather than overflow */
    souk_trace_set_current(&ctx);
    char small[120];
    int n = souk_log_format(small, sizeof small, SOUK_LOG_INFO, "o", "m", "x");
    cr_assert_lt(n, 120);
    cr_assert_eq(small[n - 1], '\n');
    souk_trace_set_current(NULL);
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

Test(log, arguments_are_not_evaluated_below_the_threshold)
{
    souk_log_threshold = SOUK_LOG_WARN;
    SOUK_LOG(SOUK_LOG_DEBUG, "value %d", side_effect());
    cr_assert_eq(evaluated, 0);
}

Test(log, levels_parse_case_insensitively)
{
    souk_log_level level;
    cr_assert_eq(souk_log_parse_level("Debug", &level), 0);
    cr_assert_eq(level, SOUK_LOG_DEBUG);
    cr_assert_eq(souk_log_parse_level("verbose", &level), -1);
}
