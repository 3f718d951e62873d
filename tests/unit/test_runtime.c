/* The worker runtime's batches: their size (what a service's definition
 * asks for, capped by the runtime's per-batch arrays and by SOUK_PREFETCH)
 * and the order their messages are handled in (by order id, one order's
 * messages as they arrived, settled ones left out). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "workers/handler.h"
#include "workers/runtime.h"

static souk_config *load_with_prefetch(const char *prefetch)
{
    for (int k = 0; k < SOUK_CFG_COUNT; k++)
        unsetenv(souk_config_env_name((souk_config_key)k));
    if (prefetch)
        setenv("SOUK_PREFETCH", prefetch, 1);
    souk_config *cfg = NULL;
    char err[256] = "";
    cr_assert_eq(souk_config_load(&cfg, "inventory", err, sizeof err), SOUK_OK, "%s", err);
    return cfg;
}

Test(runtime, batch_max_above_the_cap_is_capped)
{
    souk_config *cfg = load_with_prefetch("1000");
    souk_service_def def = {.service = SOUK_SERVICE_INVENTORY, .batch_max = SOUK_BATCH_CAP + 1};
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), SOUK_BATCH_CAP);
    def.batch_max = 100000;
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), SOUK_BATCH_CAP);
    souk_config_free(cfg);
}

Test(runtime, batch_max_zero_or_negative_means_the_cap)
{
    souk_config *cfg = load_with_prefetch("1000");
    souk_service_def def = {.service = SOUK_SERVICE_ORDER};
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), SOUK_BATCH_CAP);
    def.batch_max = -5;
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), SOUK_BATCH_CAP);
    souk_config_free(cfg);
}

Test(runtime, a_smaller_batch_max_is_kept)
{
    souk_config *cfg = load_with_prefetch(NULL);
    souk_service_def def = {.service = SOUK_SERVICE_ORDER, .batch_max = 8};
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), 8);
    souk_config_free(cfg);
}

Test(runtime, prefetch_below_the_batch_bounds_it)
{
    /* the broker never has more than SOUK_PREFETCH unacked deliveries out */
    souk_config *cfg = load_with_prefetch("4");
    souk_service_def def = {.service = SOUK_SERVICE_ORDER, .batch_max = 16};
    cr_assert_eq(souk_runtime_batch_limit(&def, cfg), 4);
    souk_config_free(cfg);
}

Test(runtime, every_service_batch_fits_the_arrays)
{
    souk_config *cfg = load_with_prefetch("65535");
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
        int limit = souk_runtime_batch_limit(souk_service_definition((souk_service)s), cfg);
        cr_assert(limit >= 1 && limit <= SOUK_BATCH_CAP, "service %d: %d", s, limit);
    }
    souk_config_free(cfg);
}

/* The order ids of a batch by delivery, and what batch_order made of it. */
static int plan(int count, const char *const *ids, const int *handle, int *todo)
{
    for (int i = 0; i < count; i++)
        todo[i] = -1;
    return souk_runtime_batch_order(count, ids, handle, todo);
}

Test(runtime, a_batch_is_handled_in_order_id_order)
{
    const char *ids[] = {"c", "a", "d", "b"};
    const int handle[] = {1, 1, 1, 1};
    int todo[4];
    cr_assert_eq(plan(4, ids, handle, todo), 4);
    cr_assert_arr_eq(todo, ((int[]){1, 3, 0, 2}), sizeof todo);
}

Test(runtime, messages_of_one_order_keep_their_arrival_order)
{
    /* StockReserved then PaymentSucceeded of order "b" in one batch: the
     * order service must see them as they came, whatever else sorts around */
    enum { N = SOUK_BATCH_CAP };
    const char *ids[N];
    int handle[N], todo[N];
    for (int i = 0; i < N; i++) {
        ids[i] = i % 2 ? "b" : (i % 3 ? "c" : "a");
        handle[i] = 1;
    }
    cr_assert_eq(plan(N, ids, handle, todo), N);
    for (int i = 1; i < N; i++) {
        int order = strcmp(ids[todo[i - 1]], ids[todo[i]]);
        cr_assert(order < 0 || (order == 0 && todo[i - 1] < todo[i]),
                  "position %d: delivery %d (%s) before delivery %d (%s)", i, todo[i - 1],
                  ids[todo[i - 1]], todo[i], ids[todo[i]]);
    }
}

Test(runtime, settled_messages_are_left_out_of_the_transaction)
{
    /* deliveries that failed to decode or validate go to the DLQ, not to a handler */
    const char *ids[] = {"b", "a", "c", "a"};
    const int handle[] = {1, 0, 1, 1};
    int todo[4];
    cr_assert_eq(plan(4, ids, handle, todo), 3);
    cr_assert_arr_eq(todo, ((int[]){3, 0, 2}), 3 * sizeof(int));
    const int none[] = {0, 0, 0, 0};
    cr_assert_eq(plan(4, ids, none, todo), 0);
}
