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

/* ------------------------------------------------ production settings */

/* Loads service's config and returns its status; the error in err. */
static souk_status load_status(const char *service, char *err, size_t errlen)
{
    souk_config *cfg = NULL;
    souk_status st = souk_config_load(&cfg, service, err, errlen);
    cr_assert(st == SOUK_OK ? cfg != NULL : cfg == NULL);
    souk_config_free(cfg);
    return st;
}

static void set_real_secrets(void)
{
    setenv("SOUK_ENV", "production", 1);
    setenv("SOUK_JWT_SECRET", "a-real-secret-of-at-least-32-bytes-0123456789", 1);
    setenv("SOUK_ADMIN_PASSWORD", "a-real-admin-password", 1);
    setenv("SOUK_AMQP_PASSWORD", "a-real-broker-password", 1);
}

Test(config, production_refuses_the_development_jwt_secret)
{
    set_real_secrets();
    unsetenv("SOUK_JWT_SECRET");
    char err[512] = "";
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_ENV=production") != NULL, "%s", err);
    cr_assert(strstr(err, "SOUK_JWT_SECRET") != NULL, "%s", err);
    cr_assert(strstr(err, "SOUK_ADMIN_PASSWORD") == NULL, "%s", err);
    /* the default given explicitly is still the default */
    setenv("SOUK_JWT_SECRET", souk_config_default(SOUK_CFG_JWT_SECRET), 1);
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_JWT_SECRET") != NULL, "%s", err);
}

Test(config, production_refuses_the_default_admin_password)
{
    set_real_secrets();
    unsetenv("SOUK_ADMIN_PASSWORD");
    char err[512] = "";
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_ADMIN_PASSWORD") != NULL, "%s", err);
    cr_assert(strstr(err, "SOUK_JWT_SECRET") == NULL, "%s", err);
}

Test(config, production_refuses_default_broker_credentials)
{
    set_real_secrets();
    char err[512] = "";
    /* unset: the password defaults to the user name */
    unsetenv("SOUK_AMQP_PASSWORD");
    cr_assert_eq(load_status("order", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_AMQP_PASSWORD") != NULL, "%s", err);
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_AMQP_PASSWORD") != NULL, "%s", err);
    /* given, but the user name, as the development broker users have it */
    setenv("SOUK_AMQP_USER", "souk-admin", 1);
    setenv("SOUK_AMQP_PASSWORD", "souk-admin", 1);
    cr_assert_eq(load_status("admin", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_AMQP_PASSWORD") != NULL, "%s", err);
    /* RabbitMQ's own default, in the URL (whose credentials win) */
    setenv("SOUK_AMQP_PASSWORD", "a-real-broker-password", 1);
    setenv("SOUK_AMQP_URL", "amqp://guest:guest@rabbit:5672/souk", 1);
    cr_assert_eq(load_status("inventory", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_AMQP_URL") != NULL, "%s", err);
}

Test(config, production_names_every_default_in_one_line)
{
    setenv("SOUK_ENV", "production", 1);
    char err[512] = "";
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_JWT_SECRET") && strstr(err, "SOUK_ADMIN_PASSWORD") &&
                  strstr(err, "SOUK_AMQP_PASSWORD"),
              "%s", err);
    cr_assert_null(strchr(err, '\n'), "%s", err);
}

Test(config, production_accepts_real_values)
{
    set_real_secrets();
    char err[512] = "";
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(load_status("payment", err, sizeof err), SOUK_OK, "%s", err);
    setenv("SOUK_AMQP_URL", "amqp://souk-order:s3cret-broker@rabbit:5672/souk", 1);
    unsetenv("SOUK_AMQP_PASSWORD");
    cr_assert_eq(load_status("order", err, sizeof err), SOUK_OK, "%s", err);
    souk_config *cfg = NULL;
    cr_assert_eq(souk_config_load(&cfg, "order", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert(souk_config_is_production(cfg));
    const char *user = NULL, *password = NULL;
    souk_config_amqp_credentials(cfg, &user, &password);
    cr_assert_str_eq(user, "souk-order");
    cr_assert_str_eq(password, "s3cret-broker");
    souk_config_free(cfg);
}

Test(config, production_checks_only_what_a_process_uses)
{
    /* a worker signs no token and creates no admin */
    setenv("SOUK_ENV", "production", 1);
    setenv("SOUK_AMQP_PASSWORD", "a-real-broker-password", 1);
    char err[512] = "";
    cr_assert_eq(load_status("shipping", err, sizeof err), SOUK_OK, "%s", err);
    /* the payment provider stand-in uses no secret at all */
    unsetenv("SOUK_AMQP_PASSWORD");
    cr_assert_eq(load_status("psp", err, sizeof err), SOUK_OK, "%s", err);
    /* with RS256 the HS256 secret is not used */
    set_real_secrets();
    unsetenv("SOUK_JWT_SECRET");
    setenv("SOUK_JWT_ALG", "RS256", 1);
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_OK, "%s", err);
}

Test(config, development_accepts_the_defaults)
{
    char err[512] = "";
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_OK, "%s", err);
    setenv("SOUK_ENV", "development", 1);
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(load_status("order", err, sizeof err), SOUK_OK, "%s", err);
    souk_config *cfg = NULL;
    cr_assert_eq(souk_config_load(&cfg, "gateway", err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_not(souk_config_is_production(cfg));
    souk_config_free(cfg);
    setenv("SOUK_ENV", "staging", 1);
    cr_assert_eq(load_status("gateway", err, sizeof err), SOUK_ECONFIG);
    cr_assert(strstr(err, "SOUK_ENV") != NULL, "%s", err);
}
