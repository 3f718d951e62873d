#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static void clear_env(void)
{
    for (int k = 0; k < SOUK_CFG_COUNT; k++)
        unsetenv(souk_config_env_name((souk_config_key)k));
}

TestSuite(config, .init = clear_env);

Test(config, defaults_apply_when_nothing_is_set)
{
    souk_config *cfg = NULL;
    char err[256] = "";
    cr_assert_eq(souk_config_load(&cfg, "order", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(souk_config_int(cfg, SOUK_CFG_GATEWAY_PORT), 8080);
    cr_assert_str_eq(souk_config_str(cfg, SOUK_CFG_QUEUE_TYPE), "classic");
    cr_assert_str_eq(souk_config_str(cfg, SOUK_CFG_AMQP_USER), "souk-order");
    cr_assert_str_eq(souk_config_str(cfg, SOUK_CFG_AMQP_PASSWORD), "souk-order");
    long delays[8];
    cr_assert_eq(souk_config_retry_delays(cfg, delays, 8), 3);
    cr_assert_eq(delays[0], 1000);
    cr_assert_eq(delays[2], 30000);
    souk_config_free(cfg);
}

Test(config, bad_port_is_refused_naming_the_variable)
{
    setenv("SOUK_GATEWAY_PORT", "80a", 1);
    souk_config *cfg = NULL;
    char err[256] = "";
    cr_assert_eq(souk_config_load(&cfg, "gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert_null(cfg);
    cr_assert(strstr(err, "SOUK_GATEWAY_PORT") != NULL, "%s", err);
    cr_assert(strstr(err, "80a") != NULL, "%s", err);
}

Test(config, each_typed_variable_rejects_garbage)
{
    char why[256];
    cr_assert_eq(souk_config_check_value(SOUK_CFG_GATEWAY_PORT, "70000", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_METRICS_PORT, "0", why, sizeof why), 0);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_WORKER_CONCURRENCY, "0", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_LOG_LEVEL, "loud", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_LOG_LEVEL, "DEBUG", why, sizeof why), 0);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_QUEUE_TYPE, "stream", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_AMQP_URL, "http://x", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_AMQP_URL, "amqp://u:p@h:1/v", why, sizeof why),
                 0);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_RETRY_DELAYS_MS, "10,,20", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_RETRY_DELAYS_MS, "-5", why, sizeof why), -1);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_RETRY_DELAYS_MS, "10,20", why, sizeof why), 0);
}

Test(config, prefetch_beyond_what_amqp_carries_is_refused)
{
    /* basic.qos takes 16 bits: 65536 would wrap to 0, which means unlimited */
    char why[256] = "";
    cr_assert_eq(souk_config_check_value(SOUK_CFG_PREFETCH, "65535", why, sizeof why), 0);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_PREFETCH, "65536", why, sizeof why), -1);
    cr_assert(strstr(why, "65535") != NULL, "%s", why);
    cr_assert_eq(souk_config_check_value(SOUK_CFG_PREFETCH, "0", why, sizeof why), -1);
}

Test(config, schema_urls_default_to_the_schema_role_on_the_shared_server)
{
    setenv("SOUK_PG_URL", "postgresql://db:5/shop", 1);
    souk_config *cfg = NULL;
    char err[256];
    cr_assert_eq(souk_config_load(&cfg, "inventory", err, sizeof err), SOUK_OK);
    const char *const *keys, *const *values;
    souk_config_db_params(cfg, SOUK_SCHEMA_INVENTORY, 0, &keys, &values);
    cr_assert_str_eq(values[0], "postgresql://db:5/shop");
    cr_assert_str_eq(keys[1], "user");
    cr_assert_str_eq(values[1], "souk_inventory");
    souk_config_free(cfg);
}

Test(config, a_schema_can_move_to_its_own_server)
{
    setenv("SOUK_DB_URL_PAYMENT", "postgresql://pay@elsewhere/payments", 1);
    souk_config *cfg = NULL;
    char err[256];
    cr_assert_eq(souk_config_load(&cfg, "payment", err, sizeof err), SOUK_OK);
    const char *const *keys, *const *values;
    souk_config_db_params(cfg, SOUK_SCHEMA_PAYMENT, 0, &keys, &values);
    cr_assert_str_eq(values[0], "postgresql://pay@elsewhere/payments");
    cr_assert_null(keys[1]);
    /* the gateway reaches the moved schema as its own reader role */
    souk_config_db_params(cfg, SOUK_SCHEMA_PAYMENT, 1, &keys, &values);
    cr_assert_str_eq(values[0], "postgresql://pay@elsewhere/payments");
    cr_assert_str_eq(values[1], "souk_payment_gateway");
    souk_config_free(cfg);
}

Test(config, every_variable_is_named_souk_and_documented)
{
    for (int k = 0; k < SOUK_CFG_COUNT; k++) {
        cr_assert(strncmp(souk_config_env_name((souk_config_key)k), "SOUK_", 5) == 0);
        cr_assert_neq(strlen(souk_config_doc((souk_config_key)k)), 0);
    }
}
