/* SOUK_ENV=production against the real stack: a gateway or worker with a
 * development default does not start, and says which setting; a gateway
 * with real secrets serves /metrics to an admin token only. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

#define REAL_JWT_SECRET     "production-test-secret-not-the-default-0123456789"
#define REAL_ADMIN_PASSWORD "production-test-admin-password"

/* A broker user of the test stack with a real password and the gateway's
 * permissions, for a production gateway to log in with. */
static char broker_user[64];
static char broker_password[64];

static void teardown(void)
{
    th_kill_all();
    if (broker_user[0]) {
        char path[128];
        snprintf(path, sizeof path, "/users/%s", broker_user);
        th_mgmt("DELETE", path, NULL, NULL);
        broker_user[0] = '\0';
    }
}

TestSuite(production, .fini = teardown, .timeout = 120);

static void create_broker_user(void)
{
    char rnd[37];
    souk_uuid_v4(rnd);
    snprintf(broker_user, sizeof broker_user, "souk-prod-%.8s", rnd);
    souk_uuid_v4(rnd);
    snprintf(broker_password, sizeof broker_password, "pw-%s", rnd);
    char path[128], body[256];
    snprintf(path, sizeof path, "/users/%s", broker_user);
    snprintf(body, sizeof body, "{\"password\":\"%s\",\"tags\":\"\"}", broker_password);
    long st = th_mgmt("PUT", path, body, NULL);
    cr_assert(st == 201 || st == 204, "creating broker user: %ld", st);
    json_object *perms = th_mgmt_get("/permissions/souk/souk-gateway");
    cr_assert_not_null(perms);
    json_object_object_del(perms, "user");
    json_object_object_del(perms, "vhost");
    snprintf(path, sizeof path, "/permissions/souk/%s", broker_user);
    st = th_mgmt("PUT", path, json_object_to_json_string(perms), NULL);
    json_object_put(perms);
    cr_assert(st == 201 || st == 204, "granting broker permissions: %ld", st);
}

/* Waits for pid to stop with status 2 (a configuration error), its log
 * naming the setting. */
static void assert_refused(pid_t pid, const char *log, const char *setting)
{
    cr_assert_eq(th_wait_exit(pid, 15000), 2, "a production process with a default ran on");
    const char *line = th_file_find(th_log_path(log), "SOUK_ENV=production");
    cr_assert_not_null(line, "no SOUK_ENV=production message in %s", th_log_path(log));
    cr_assert(strstr(line, setting) != NULL, "%s", line);
}

Test(production, a_gateway_with_the_development_jwt_secret_does_not_start)
{
    static char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", th_free_port());
    const char *env[] = {port_env, "SOUK_ENV=production",
                         "SOUK_ADMIN_PASSWORD=" REAL_ADMIN_PASSWORD,
                         "SOUK_AMQP_PASSWORD=not-the-user-name", NULL};
    pid_t pid = th_spawn(th_binary("gateway/souk-gateway"), NULL, env, "t-prod-gateway-devsecret");
    assert_refused(pid, "t-prod-gateway-devsecret", "SOUK_JWT_SECRET");
    cr_assert_null(strstr(th_file_find(th_log_path("t-prod-gateway-devsecret"), "SOUK_ENV"),
                          "SOUK_ADMIN_PASSWORD"));
}

Test(production, a_worker_with_the_development_broker_password_does_not_start)
{
    const char *args[] = {"shipping", NULL};
    const char *env[] = {"SOUK_ENV=production", NULL};
    pid_t pid = th_spawn(th_binary("workers/souk-worker"), args, env, "t-prod-worker-devbroker");
    assert_refused(pid, "t-prod-worker-devbroker", "SOUK_AMQP_PASSWORD");
}

/* The code of an error answer ("" when there is none); consumes json. */
static const char *error_code(json_object *json)
{
    static char code[64];
    json_object *error = json_object_object_get(json, "error");
    snprintf(code, sizeof code, "%s",
             error ? json_object_get_string(json_object_object_get(error, "code")) : "");
    json_object_put(json);
    return code;
}

/* The access token of an auth answer; consumes json. */
static void take_token(json_object *json, char *token, size_t cap)
{
    const char *t = json_object_get_string(json_object_object_get(json, "access_token"));
    snprintf(token, cap, "%s", t ? t : "");
    json_object_put(json);
}

Test(production, metrics_answer_an_admin_token_only)
{
    create_broker_user();
    char rnd[37];
    souk_uuid_v4(rnd);
    int port = th_free_port();
    static char port_env[64], email_env[128], user_env[96], password_env[96];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", port);
    /* a first admin of its own: the shared one has the development password */
    snprintf(email_env, sizeof email_env, "SOUK_ADMIN_EMAIL=prod-%.8s@souk.local", rnd);
    snprintf(user_env, sizeof user_env, "SOUK_AMQP_USER=%s", broker_user);
    snprintf(password_env, sizeof password_env, "SOUK_AMQP_PASSWORD=%s", broker_password);
    const char *env[] = {port_env,
                         "SOUK_ENV=production",
                         "SOUK_JWT_SECRET=" REAL_JWT_SECRET,
                         email_env,
                         "SOUK_ADMIN_PASSWORD=" REAL_ADMIN_PASSWORD,
                         user_env,
                         password_env,
                         "SOUK_PASSWORD_ITERATIONS=1000",
                         NULL};
    th_spawn(th_binary("gateway/souk-gateway"), NULL, env, "t-prod-gateway");
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    char url[128];
    snprintf(url, sizeof url, "%s/readyz", base);
    cr_assert(th_wait_http(url, 200, 20000), "the production gateway never became ready");

    json_object *json = NULL;
    cr_assert_eq(ts_call_at(base, "GET", "/metrics", NULL, NULL, NULL, &json), 401);
    cr_assert_str_eq(error_code(json), "UNAUTHORIZED");

    char token[2048], body[256];
    snprintf(body, sizeof body,
             "{\"email\":\"prod-customer-%.8s@example.com\",\"password\":\"password1\","
             "\"name\":\"Customer\"}",
             rnd);
    cr_assert_eq(ts_call_at(base, "POST", "/auth/register", NULL, body, NULL, &json), 201);
    take_token(json, token, sizeof token);
    cr_assert_eq(ts_call_at(base, "GET", "/metrics", token, NULL, NULL, &json), 403);
    cr_assert_str_eq(error_code(json), "FORBIDDEN");

    snprintf(body, sizeof body,
             "{\"email\":\"prod-%.8s@souk.local\",\"password\":\"" REAL_ADMIN_PASSWORD "\"}", rnd);
    cr_assert_eq(ts_call_at(base, "POST", "/auth/login", NULL, body, NULL, &json), 200);
    take_token(json, token, sizeof token);
    char auth[2100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, NULL};
    snprintf(url, sizeof url, "%s/metrics", base);
    char *text = NULL;
    cr_assert_eq(th_http("GET", url, NULL, headers, &text), 200, "%s", text);
    cr_assert(strstr(text, "souk_http_requests_total{route=\"GET /metrics\",status=\"401\"}") !=
                  NULL,
              "%s", text);
    free(text);

    /* the description says so too */
    cr_assert_eq(ts_call_at(base, "GET", "/openapi.json", NULL, NULL, NULL, &json), 200);
    json_object *op = json_object_object_get(
        json_object_object_get(json_object_object_get(json, "paths"), "/metrics"), "get");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(op, "x-souk-role")), "admin");
    json_object_put(json);
}
