/* Token-bucket limiter: bursts, refill, retry_after, independent keys,
 * bounded memory (cap and idle forgetting) and the total a set of threads
 * can get through. Time is simulated, so every expectation is exact. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "gateway/ratelimit.h"
#include "tests/support/concurrency.h"

#define EPS 1e-9

Test(ratelimit, burst_passes_then_next_is_refused_with_retry_after)
{
    souk_ratelimit *rl = souk_ratelimit_new(2.0, 5.0);
    cr_assert_not_null(rl);
    double retry = -1;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "user-1", 100.0, &retry), 1, "request %d", i);
    cr_assert_eq(souk_ratelimit_take(rl, "user-1", 100.0, &retry), 0);
    cr_assert_float_eq(retry, 0.5, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "user-1", 100.25, &retry), 0);
    cr_assert_float_eq(retry, 0.25, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "user-1", 100.25, NULL), 0);
    souk_ratelimit_free(rl);
}

Test(ratelimit, tokens_refill_at_the_rate_up_to_the_burst)
{
    souk_ratelimit *rl = souk_ratelimit_new(2.0, 5.0);
    double retry = 0;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "k", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 0.0, &retry), 0);
    /* One token every 0.5 s. */
    cr_assert_eq(souk_ratelimit_take(rl, "k", 0.5, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 0.5, &retry), 0);
    cr_assert_float_eq(retry, 0.5, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 1.5, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 1.5, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 1.5, &retry), 0);
    /* A long pause refills to the burst, not beyond. */
    int allowed = 0;
    for (int i = 0; i < 20; i++)
        allowed += souk_ratelimit_take(rl, "k", 1000.0, &retry);
    cr_assert_eq(allowed, 5);
    cr_assert_float_eq(retry, 0.5, EPS);
    souk_ratelimit_free(rl);
}

Test(ratelimit, time_going_backwards_refills_nothing)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 1.0);
    double retry = 0;
    cr_assert_eq(souk_ratelimit_take(rl, "k", 10.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 5.0, &retry), 0);
    cr_assert_float_eq(retry, 1.0, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 10.5, &retry), 0);
    cr_assert_float_eq(retry, 0.5, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 11.0, &retry), 1);
    souk_ratelimit_free(rl);
}

Test(ratelimit, keys_are_independent)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 3.0);
    double retry = 0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "alice", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "alice", 0.0, &retry), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "bob", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "bob", 0.0, &retry), 0);
    cr_assert_eq(souk_ratelimit_take(rl, "alice2", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_keys(rl), 4);
    souk_ratelimit_free(rl);
}

Test(ratelimit, bad_parameters_are_refused)
{
    cr_assert_null(souk_ratelimit_new(0.0, 5.0));
    cr_assert_null(souk_ratelimit_new(-1.0, 5.0));
    cr_assert_null(souk_ratelimit_new(1.0, 0.5));
    cr_assert_null(souk_ratelimit_new(NAN, 5.0));
    cr_assert_null(souk_ratelimit_new(1.0, INFINITY));
    souk_ratelimit_free(NULL);
}

Test(ratelimit, many_distinct_keys_stay_under_the_cap)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 5.0);
    char key[32];
    for (int i = 0; i < 3 * SOUK_RATELIMIT_MAX_KEYS; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        cr_assert_eq(souk_ratelimit_take(rl, key, 0.0, NULL), 1);
        if (i % 10000 == 0)
            cr_assert_leq(souk_ratelimit_keys(rl), SOUK_RATELIMIT_MAX_KEYS);
    }
    cr_assert_leq(souk_ratelimit_keys(rl), SOUK_RATELIMIT_MAX_KEYS);
    cr_assert_geq(souk_ratelimit_keys(rl), SOUK_RATELIMIT_MAX_KEYS * 9 / 10);
    souk_ratelimit_free(rl);
}

Test(ratelimit, the_stalest_keys_are_forgotten_first)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 2.0);
    double retry = 0;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(souk_ratelimit_take(rl, "stale", 0.0, &retry), 1);
        cr_assert_eq(souk_ratelimit_take(rl, "hot", 0.0, &retry), 1);
    }
    char key[32];
    for (int i = 0; i < 3 * SOUK_RATELIMIT_MAX_KEYS; i++) {
        snprintf(key, sizeof key, "flood-%d", i);
        (void)souk_ratelimit_take(rl, key, 0.0, NULL);
        if (i % 500 == 0)
            cr_assert_eq(souk_ratelimit_take(rl, "hot", 0.0, &retry), 0, "hot forgotten at %d", i);
    }
    /* "hot" stayed recent and is still limited; "stale" was pushed out. */
    cr_assert_eq(souk_ratelimit_take(rl, "hot", 0.0, &retry), 0);
    cr_assert_eq(souk_ratelimit_take(rl, "stale", 0.0, &retry), 1);
    souk_ratelimit_free(rl);
}

Test(ratelimit, full_buckets_are_forgotten)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 5.0);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "old-%d", i);
        (void)souk_ratelimit_take(rl, key, 0.0, NULL);
    }
    cr_assert_eq(souk_ratelimit_keys(rl), 1000);
    /* At t=0.5 none has refilled yet (4.5 of 5 tokens). */
    cr_assert_eq(souk_ratelimit_sweep(rl, 0.5), 0);
    /* New keys at t=10 forget full old ones as they go. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "new-%d", i);
        (void)souk_ratelimit_take(rl, key, 10.0, NULL);
    }
    cr_assert_leq(souk_ratelimit_keys(rl), 1100);
    cr_assert_geq(souk_ratelimit_keys(rl), 1000);
    /* A sweep forgets every full bucket; the new ones are full at t=11. */
    cr_assert_eq(souk_ratelimit_sweep(rl, 10.0), souk_ratelimit_keys(rl) - 1000);
    cr_assert_eq(souk_ratelimit_keys(rl), 1000);
    cr_assert_eq(souk_ratelimit_sweep(rl, 11.0), 1000);
    cr_assert_eq(souk_ratelimit_keys(rl), 0);
    souk_ratelimit_free(rl);
}

Test(ratelimit, forgetting_a_full_bucket_changes_nothing)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 3.0);
    double retry = 0;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "k", 0.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_sweep(rl, 2.9), 0);
    cr_assert_eq(souk_ratelimit_keys(rl), 1);
    cr_assert_eq(souk_ratelimit_sweep(rl, 3.0), 1);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(souk_ratelimit_take(rl, "k", 3.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "k", 3.0, &retry), 0);
    cr_assert_float_eq(retry, 1.0, EPS);
    souk_ratelimit_free(rl);
}

Test(ratelimit, a_bucket_forgotten_at_a_later_time_earns_no_refill_twice)
{
    souk_ratelimit *rl = souk_ratelimit_new(1.0, 2.0);
    double retry = 0;
    cr_assert_eq(souk_ratelimit_take(rl, "a", 10.0, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "a", 10.0, &retry), 1);
    /* Another thread, further along, finds the bucket full and forgets it. */
    cr_assert_eq(souk_ratelimit_sweep(rl, 20.0), 1);
    /* A take stamped earlier arrives late: the new bucket starts at 20. */
    cr_assert_eq(souk_ratelimit_take(rl, "a", 10.5, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "a", 10.5, &retry), 1);
    cr_assert_eq(souk_ratelimit_take(rl, "a", 10.5, &retry), 0);
    cr_assert_float_eq(retry, 1.0, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "a", 20.5, &retry), 0);
    cr_assert_float_eq(retry, 0.5, EPS);
    cr_assert_eq(souk_ratelimit_take(rl, "a", 21.0, &retry), 1);
    souk_ratelimit_free(rl);
}

Test(ratelimit, concurrent_takes_never_exceed_burst_plus_refill)
{
    char why[256] = "";
    cr_assert_eq(tc_ratelimit_takes(why, sizeof why), 0, "%s", why);
}
