#include <criterion/criterion.h>
#include <string.h>

#include "core/status.h"

Test(status, every_code_has_a_distinct_text_and_name)
{
    for (int a = 0; a < SOUK_STATUS_COUNT; a++) {
        cr_assert_neq(strlen(souk_strerror((souk_status)a)), 0);
        for (int b = a + 1; b < SOUK_STATUS_COUNT; b++) {
            cr_assert_str_neq(souk_strerror((souk_status)a), souk_strerror((souk_status)b));
            cr_assert_str_neq(souk_status_name((souk_status)a), souk_status_name((souk_status)b));
        }
    }
}

Test(status, known_codes_read_as_their_meaning)
{
    cr_assert_str_eq(souk_strerror(SOUK_OK), "success");
    cr_assert_str_eq(souk_strerror(SOUK_EDB_UNAVAILABLE), "database unavailable");
    cr_assert_str_eq(souk_status_name(SOUK_ECONFIG), "ECONFIG");
}

Test(status, out_of_range_codes_do_not_crash)
{
    cr_assert_str_eq(souk_strerror((souk_status)9999), "unknown status");
    cr_assert_str_eq(souk_status_name((souk_status)-1), "UNKNOWN");
}
