/* The foundation against the real stack `souk test` started: gateway
 * health and readiness, worker start and clean stop, configuration errors,
 * migrations and schema isolation. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/db.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void teardown(void)
{
    th_kill_all();
}

TestSuite(foundation, .fini = teardown, .timeout = 120);

static pid_t start_gateway(int port, const char *extra, const char *log)
{
    static char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", port);
    const char *env[] = {port_env, extra, NULL};
    return th_spawn(th_binary("gateway/souk-gateway"), NULL, env, log);
}

Test(foundation, readyz_is_200_naming_postgresql_and_rabbitmq_as_reachable)
{
    int port = th_free_port();
    start_gateway(port, NULL, "t-gateway-ready");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    cr_assert(th_wait_http(url, 200, 15000), "gateway never became alive");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    char *body = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &body), 200, "%s", body);
    json_object *json = json_tokener_parse(body);
    json_object *checks = json_object_object_get(json, "checks");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(checks, "postgresql")), "ok");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(checks, "rabbitmq")), "ok");
    json_object_put(json);
    free(body);
}

/* Watches one gateway start (ts_watch_start). Returns the answers seen. */
static int watch_one_start(int round)
{
    int port = th_free_port();
    pid_t pid = start_gateway(port, NULL, "t-gateway-starting");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    return ts_watch_start(pid, url, round);
}

/* A client retrying through a gateway restart must never be told its route
 * does not exist: from the moment the port listens every answer is the
 * route's own or a 503 with Retry-After, never civetweb's 404 of a server
 * whose routes are not registered yet. The window is short (the gateway's
 * setup), so the gateway is started 20 times. */
Test(foundation, a_starting_gateway_answers_503_until_its_routes_exist_never_404)
{
    int answers = 0;
    for (int round = 1; round <= 20; round++)
        answers += watch_one_start(round);
    cr_log_info("%d answers during 20 starts", answers);
}

/* An order the order service has not created yet is looked up among the
 * accepted checkouts; when the cart database cannot answer, that is a 503
 * to retry, never a 404 telling the client its accepted order does not
 * exist. */
Test(foundation, an_order_read_whose_checkout_lookup_fails_is_503_not_404)
{
    static char env[128];
    snprintf(env, sizeof env, "SOUK_DB_URL_CART=postgresql://127.0.0.1:%d/souk", th_free_port());
    int port = th_free_port();
    start_gateway(port, env, "t-gateway-nocart");
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    cr_assert(th_wait_http(url, 200, 15000));
    char email[96], body[256];
    snprintf(email, sizeof email, "nocart-%d@souk.example", (int)getpid());
    snprintf(body, sizeof body,
             "{\"email\":\"%s\",\"password\":\"a long enough password\",\"name\":\"N\"}", email);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/auth/register", port);
    const char *json[] = {"Content-Type: application/json", NULL};
    char *answer = NULL;
    cr_assert_eq(th_http("POST", url, body, json, &answer), 201, "%s", answer);
    json_object *doc = json_tokener_parse(answer);
    char auth[1200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             json_object_get_string(json_object_object_get(doc, "access_token")));
    json_object_put(doc);
    free(answer);
    const char *headers[] = {auth, NULL};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/orders/0b5c3a9e-7d1f-4c2a-9e8b-1f2d3c4b5a69",
             port);
    answer = NULL;
    long status = th_http("GET", url, NULL, headers, &answer);
    cr_assert_eq(status, 503, "%ld %s", status, answer);
    free(answer);
}

static void assert_not_ready_naming(const char *extra_env, const char *dependency)
{
    int port = th_free_port();
    start_gateway(port, extra_env, "t-gateway-unready");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    cr_assert(th_wait_http(url, 200, 15000));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    char *body = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &body), 503, "%s", body);
    json_object *json = json_tokener_parse(body);
    json_object *error = json_object_object_get(json, "error");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(error, "code")), "NOT_READY");
    const char *message = json_object_get_string(json_object_object_get(error, "message"));
    cr_assert(strstr(message, dependency) != NULL, "%s", message);
    json_object *details = json_object_object_get(error, "details");
    cr_assert_str_neq(json_object_get_string(json_object_object_get(details, dependency)), "ok");
    json_object_put(json);
    free(body);
}

Test(foundation, readyz_is_503_naming_rabbitmq_when_the_broker_is_gone)
{
    static char env[128];
    snprintf(env, sizeof env, "SOUK_AMQP_URL=amqp://127.0.0.1:%d/souk", th_free_port());
    assert_not_ready_naming(env, "rabbitmq");
}

Test(foundation, readyz_is_503_naming_postgresql_when_the_database_is_gone)
{
    static char env[128];
    snprintf(env, sizeof env, "SOUK_PG_URL=postgresql://127.0.0.1:%d/souk", th_free_port());
    assert_not_ready_naming(env, "postgresql");
}

Test(foundation, a_bad_setting_stops_the_gateway_naming_the_variable)
{
    const char *env[] = {"SOUK_PREFETCH=lots", NULL};
    pid_t pid = th_spawn(th_binary("gateway/souk-gateway"), NULL, env, "t-gateway-badcfg");
    cr_assert_eq(th_wait_exit(pid, 10000), 2);
    cr_assert_not_null(th_file_find(th_log_path("t-gateway-badcfg"), "SOUK_PREFETCH: 'lots'"));
}

Test(foundation, a_taken_port_gives_a_clear_message_not_a_hang)
{
    int port = th_free_port();
    start_gateway(port, NULL, "t-gateway-first");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    cr_assert(th_wait_http(url, 200, 15000));
    pid_t second = start_gateway(port, NULL, "t-gateway-second");
    cr_assert_eq(th_wait_exit(second, 10000), 1);
    cr_assert_not_null(th_file_find(th_log_path("t-gateway-second"), "port in use"));
}

Test(foundation, an_unknown_worker_service_lists_the_known_ones)
{
    const char *args[] = {"billing", NULL};
    pid_t pid = th_spawn(th_binary("workers/souk-worker"), args, NULL, "t-worker-unknown");
    cr_assert_eq(th_wait_exit(pid, 10000), 2);
    const char *line = th_file_find(th_log_path("t-worker-unknown"), "services:");
    cr_assert_not_null(line);
    cr_assert(strstr(line, "order inventory payment shipping analytics notification") != NULL, "%s",
              line);
}

Test(foundation, a_worker_consumes_its_queue_and_stops_cleanly_on_sigterm)
{
    const char *args[] = {"shipping", "--concurrency", "3", NULL};
    static char metrics_env[64];
    int metrics_port = th_free_port();
    snprintf(metrics_env, sizeof metrics_env, "SOUK_METRICS_PORT=%d", metrics_port);
    const char *env[] = {metrics_env, NULL};
    pid_t pid = th_spawn(th_binary("workers/souk-worker"), args, env, "t-worker-shipping");
    int consumers = -1;
    /* the management API samples queue stats every few seconds */
    for (int i = 0; i < 150 && consumers != 3; i++) {
        th_sleep_ms(200);
        consumers = th_queue_consumers("shipping-service");
    }
    cr_assert_eq(consumers, 3);
    /* its own counters, on its metrics port */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", metrics_port);
    char *text = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &text), 200);
    cr_assert(
        strstr(text, "souk_worker_messages_total{service=\"shipping\",outcome=\"dead_lettered\"}"));
    cr_assert(strstr(text, "souk_worker_handler_seconds_count{service=\"shipping\"}"));
    cr_assert(strstr(text, "souk_worker_outbox_backlog{service=\"shipping\"} 0"), "%s", text);
    free(text);
    th_signal(pid, SIGTERM);
    cr_assert_eq(th_wait_exit(pid, 10000), 0, "worker did not exit cleanly on SIGTERM");
    cr_assert_not_null(th_file_find(th_log_path("t-worker-shipping"), "worker stopped"));
}

Test(foundation, every_migration_is_recorded_once)
{
    PGconn *db = th_pg_admin();
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, "SELECT count(*), count(DISTINCT (schema_name, version)), "
                               "count(DISTINCT schema_name) FROM public.souk_migrations");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    cr_assert_eq(atoi(PQgetvalue(res, 0, 2)), 9);
    PQclear(res);
    PQfinish(db);
}

static long prepared_count(PGconn *db)
{
    PGresult *res = PQexec(db, "SELECT count(*) FROM pg_prepared_statements");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

static void expect_value(PGresult *res, const char *want)
{
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    cr_assert_str_eq(PQgetvalue(res, 0, 0), want);
    PQclear(res);
}

Test(foundation, a_statement_is_prepared_once_per_connection_and_again_after_a_reset)
{
    static const char add_one[] = "SELECT $1::int + 1";
    static const char add_x[] = "SELECT $1::text || 'x'";
    PGconn *db = th_pg_admin();
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    const char *forty_one[] = {"41"};
    expect_value(souk_db_exec_prepared(db, add_one, 1, forty_one), "42");
    expect_value(souk_db_exec_prepared(db, add_one, 1, forty_one), "42");
    cr_assert_eq(prepared_count(db), 1, "the same statement was prepared twice");
    const char *tea[] = {"tea"};
    expect_value(souk_db_exec_prepared(db, add_x, 1, tea), "teax");
    cr_assert_eq(prepared_count(db), 2);
    /* An error comes back as the statement's own and leaves the others usable. */
    PGresult *bad = souk_db_exec_prepared(db, "SELECT no_such_column", 0, NULL);
    cr_assert_str_eq(PQresultErrorField(bad, PG_DIAG_SQLSTATE), "42703");
    PQclear(bad);
    expect_value(souk_db_exec_prepared(db, add_x, 1, tea), "teax");
    /* A reset connection is a new session without the old statements. */
    PQreset(db);
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    cr_assert_eq(prepared_count(db), 0);
    expect_value(souk_db_exec_prepared(db, add_one, 1, forty_one), "42");
    cr_assert_eq(prepared_count(db), 1);
    PQfinish(db);
}

Test(foundation, a_service_role_reaches_only_its_own_schema)
{
    PGconn *db = th_pg_as("souk_orders", "souk_orders");
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, "SELECT count(*) FROM orders.inbox");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    res = PQexec(db, "SELECT count(*) FROM inventory.inbox");
    cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE),
                     "42501"); /* insufficient_privilege */
    PQclear(res);
    res = PQexec(db, "CREATE TABLE public.sneaky (x int)");
    cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    PQfinish(db);
}

Test(foundation, a_service_broker_user_cannot_read_another_services_queue)
{
    json_object *perms = th_mgmt_get("/permissions/souk/souk-shipping");
    cr_assert_not_null(perms);
    const char *read = json_object_get_string(json_object_object_get(perms, "read"));
    cr_assert(strstr(read, "shipping-service") != NULL, "%s", read);
    cr_assert(strstr(read, "order-service") == NULL, "%s", read);
    json_object_put(perms);
}
