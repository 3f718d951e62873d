/* gateway/orderwatch.c against the PostgreSQL of `souk test`: request
 * threads waiting on orders are woken by the orders_status notification of
 * their own order only, the others wait out their deadline, and a shutdown
 * wakes every waiter at once. The notifications are sent with pg_notify,
 * as the orders schema's trigger sends them. The scenarios live in
 * tests/support/concurrency.c, so that `souk test --tsan` runs them too. */
#include <criterion/criterion.h>

#include "core/config.h"
#include "tests/support/concurrency.h"
#include "tests/support/harness.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static souk_config *cfg;

static void setup(void)
{
    char err[256] = "";
    cr_assert_eq(souk_config_load(&cfg, "gateway", err, sizeof err), SOUK_OK, "%s", err);
}

static void teardown(void)
{
    souk_config_free(cfg);
}

TestSuite(orderwatch, .init = setup, .fini = teardown, .timeout = 90);

Test(orderwatch, a_notification_wakes_the_waiters_of_its_order_and_no_other)
{
    char why[256] = "";
    cr_assert_eq(tc_orderwatch_notification(cfg, why, sizeof why), 0, "%s", why);
}

Test(orderwatch, a_shutdown_wakes_every_waiter_at_once_and_later_waits_return)
{
    char why[256] = "";
    cr_assert_eq(tc_orderwatch_shutdown(cfg, why, sizeof why), 0, "%s", why);
}
