/* Broker helpers for tests (see broker.h). */
#include "tests/support/broker.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/uuid.h"
#include "events/publisher.h"

souk_envelope th_envelope(const char *order_id, const char *type, const char *body)
{
    souk_envelope env;
    memset(&env, 0, sizeof env);
    souk_uuid_v4(env.message_id);
    snprintf(env.correlation_id, sizeof env.correlation_id, "%s", order_id);
    snprintf(env.type, sizeof env.type, "%s", type);
    snprintf(env.app_id, sizeof env.app_id, "test");
    env.timestamp = 1763800000;
    env.schema_version = 1;
    env.body = (char *)body;
    env.body_len = strlen(body);
    return env;
}

void th_publish(const char *exchange, const char *routing_key, const souk_envelope *env)
{
    setenv("SOUK_AMQP_USER", getenv("SOUK_TEST_ADMIN_USER"), 1);
    setenv("SOUK_AMQP_PASSWORD", getenv("SOUK_TEST_ADMIN_PASSWORD"), 1);
    souk_config *cfg = NULL;
    char err[256];
    souk_status st = souk_config_load(&cfg, "test", err, sizeof err);
    unsetenv("SOUK_AMQP_USER");
    unsetenv("SOUK_AMQP_PASSWORD");
    cr_assert_eq(st, SOUK_OK, "%s", err);
    souk_publisher *pub = souk_publisher_new(cfg, SOUK_SERVICE_GATEWAY);
    souk_publish_item item = {.exchange = exchange, .routing_key = routing_key, .env = env};
    souk_status result;
    st = souk_publisher_publish(pub, &item, 1, &result, 5000);
    souk_publisher_free(pub);
    souk_config_free(cfg);
    cr_assert_eq(st, SOUK_OK, "publishing %s failed", env->type);
}

json_object *th_event_payload(const char *type, const char *order_id)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/schemas/%s/valid/full.json", SOUK_SOURCE_DIR, type);
    json_object *payload = json_object_from_file(path);
    cr_assert_not_null(payload, "no sample payload %s", path);
    json_object_object_add(payload, "order_id", json_object_new_string(order_id));
    return payload;
}

void th_publish_event(const char *type, const char *order_id, const char *traceparent,
                      char message_id[37])
{
    json_object *payload = th_event_payload(type, order_id);
    souk_envelope env = th_envelope(
        order_id, type, json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    if (traceparent)
        snprintf(env.traceparent, sizeof env.traceparent, "%s", traceparent);
    th_publish(type, "", &env);
    if (message_id)
        snprintf(message_id, 37, "%.36s", env.message_id);
    json_object_put(payload);
}
