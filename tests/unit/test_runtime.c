/* The worker runtime's batch size: what a service's definition asks for,
 * capped by the runtime's per-batch arrays and by SOUK_PREFETCH. */
#include <criterion/criterion.h>
#include <stdlib.h>

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
