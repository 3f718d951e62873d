#include <criterion/criterion.h>
#include <string.h>

#include "core/log.h"

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
