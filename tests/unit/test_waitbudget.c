/* gateway/waitbudget: waiting requests get a global share and a share per
 * customer, and give their slot back, also when many threads take and give
 * at once. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "gateway/waitbudget.h"
#include "tests/support/concurrency.h"

Test(waitbudget, a_customer_gets_its_share_and_no_more)
{
    souk_waitbudget *b = souk_waitbudget_new(100, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(souk_waitbudget_take(b, "alice"), SOUK_WAIT_GRANTED);
    cr_assert_eq(souk_waitbudget_take(b, "alice"), SOUK_WAIT_OVER_CUSTOMER);
    cr_assert_eq(souk_waitbudget_take(b, "bob"), SOUK_WAIT_GRANTED, "others still wait");
    souk_waitbudget_give(b, "alice");
    cr_assert_eq(souk_waitbudget_take(b, "alice"), SOUK_WAIT_GRANTED, "a slot given back");
    cr_assert_eq(souk_waitbudget_in_use(b), 4);
    souk_waitbudget_free(b);
}

Test(waitbudget, the_global_budget_holds_across_customers)
{
    souk_waitbudget *b = souk_waitbudget_new(5, 2);
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "c%d", i);
        cr_assert_eq(souk_waitbudget_take(b, id), SOUK_WAIT_GRANTED);
    }
    cr_assert_eq(souk_waitbudget_take(b, "late"), SOUK_WAIT_OVER_GLOBAL);
    souk_waitbudget_give(b, "c2");
    cr_assert_eq(souk_waitbudget_take(b, "late"), SOUK_WAIT_GRANTED);
    souk_waitbudget_free(b);
}

/* Many customers coming and going in one table: every count stays right
 * when entries are removed from the middle of a probe sequence. */
Test(waitbudget, entries_removed_in_any_order_keep_the_others_counts)
{
    souk_waitbudget *b = souk_waitbudget_new(1000, 2);
    char id[16];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "cust-%d", i);
        cr_assert_eq(souk_waitbudget_take(b, id), SOUK_WAIT_GRANTED);
        cr_assert_eq(souk_waitbudget_take(b, id), SOUK_WAIT_GRANTED);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(id, sizeof id, "cust-%d", i);
        souk_waitbudget_give(b, id);
        souk_waitbudget_give(b, id);
    }
    for (int i = 1; i < 500; i += 2) {
        snprintf(id, sizeof id, "cust-%d", i);
        cr_assert_eq(souk_waitbudget_take(b, id), SOUK_WAIT_OVER_CUSTOMER, "%s lost its count", id);
    }
    cr_assert_eq(souk_waitbudget_in_use(b), 500);
    souk_waitbudget_give(b, "never-took");
    cr_assert_eq(souk_waitbudget_in_use(b), 500, "a give without a take changes nothing");
    souk_waitbudget_free(b);
}

Test(waitbudget, concurrent_waits_never_exceed_the_budget_and_all_come_back)
{
    char why[256] = "";
    cr_assert_eq(tc_waitbudget_takes_and_gives(why, sizeof why), 0, "%s", why);
}
