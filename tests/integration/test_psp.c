/* souk-psp and the payment worker's client against it: approvals, declines,
 * idempotent charges and refunds, timeouts, provider errors and retries
 * that never charge twice. Needs no database or broker; each test starts
 * its own souk-psp on a free port. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"
#include "workers/psp_client.h"

static char base_url[64];
static pid_t psp_pid;
static souk_config *cfg;
static souk_psp_client *client;

static pid_t start_psp_with(int port, const char *extra, const char *log)
{
    static char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_PSP_PORT=%d", port);
    const char *env[] = {port_env, "SOUK_PSP_TIMEOUT_SLEEP_MS=3000", extra, NULL};
    return th_spawn(th_binary("psp/souk-psp"), NULL, env, log);
}

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static pid_t start_psp(int port, const char *log)
{
    return start_psp_with(port, NULL, log);
}

static void setup(void)
{
    int port = th_free_port();
    psp_pid = start_psp(port, "t-psp");
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    setenv("SOUK_PSP_URL", base_url, 1);
    char err[512];
    cr_assert_eq(souk_config_load(&cfg, "payment", err, sizeof err), SOUK_OK, "%s", err);
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", base_url);
    cr_assert(th_wait_http(url, 200, 15000), "souk-psp never became alive");
    client = souk_psp_client_new(cfg);
    cr_assert_not_null(client);
}

static void teardown(void)
{
    souk_psp_client_free(client);
    client = NULL;
    souk_config_free(cfg);
    cfg = NULL;
    th_kill_all();
}

TestSuite(psp, .init = setup, .fini = teardown, .timeout = 60);

/* GET base_url + path; returns the parsed body and checks the status. */
static json_object *get_json(const char *path, long want_status)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    char *body = NULL;
    long status = th_http("GET", url, NULL, NULL, &body);
    cr_assert_eq(status, want_status, "GET %s: %ld %s", path, status, body);
    json_object *json = json_tokener_parse(body);
    cr_assert_not_null(json, "GET %s: %s", path, body);
    free(body);
    return json;
}

static long long member_int(json_object *json, const char *name)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(json, name, &v), "no %s in %s", name,
              json_object_to_json_string(json));
    return (long long)json_object_get_int64(v);
}

static const char *member_str(json_object *json, const char *name)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(json, name, &v), "no %s in %s", name,
              json_object_to_json_string(json));
    return json_object_get_string(v);
}

static long long stat_of(const char *name)
{
    json_object *stats = get_json("/stats", 200);
    long long n = member_int(stats, name);
    json_object_put(stats);
    return n;
}

static souk_status charge(const char *key, long long amount, const char *token,
                          souk_psp_charge *out, char *err, size_t errlen)
{
    return souk_psp_client_charge(client, key, amount, "EUR", token, out, err, errlen);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* POST a raw body; returns the status and the error code of the answer. */
static long post_raw(const char *path, const char *body, char *code, size_t codelen)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    const char *headers[] = {"Content-Type: application/json", NULL};
    char *response = NULL;
    long status = th_http("POST", url, body, headers, &response);
    json_object *json = json_tokener_parse(response);
    json_object *error = NULL;
    json_object *c = NULL;
    code[0] = '\0';
    if (json_object_object_get_ex(json, "error", &error) &&
        json_object_object_get_ex(error, "code", &c))
        snprintf(code, codelen, "%s", json_object_get_string(c));
    json_object_put(json);
    free(response);
    return status;
}

Test(psp, approves_a_charge_with_tok_approve)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-approve", 4999, "tok_approve", &ch, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(ch.approved, 1);
    cr_assert(strncmp(ch.id, "ch_", 3) == 0, "%s", ch.id);
    cr_assert_str_empty(ch.decline_reason);

    char path[128];
    snprintf(path, sizeof path, "/charges/%s", ch.id);
    json_object *json = get_json(path, 200);
    cr_assert_str_eq(member_str(json, "status"), "approved");
    cr_assert_eq(member_int(json, "amount_minor"), 4999);
    cr_assert_str_eq(member_str(json, "currency"), "EUR");
    cr_assert_eq(member_int(json, "refunded_minor"), 0);
    json_object_put(json);
    cr_assert_eq(stat_of("approved_minor_total"), 4999);
}

Test(psp, an_unlisted_token_approves)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-other", 100, "tok_visa_4242", &ch, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(ch.approved, 1);
}

Test(psp, declines_tok_decline_with_card_declined)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-decline", 1500, "tok_decline", &ch, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(ch.approved, 0);
    cr_assert_str_eq(ch.decline_reason, "card_declined");
    cr_assert_str_not_empty(ch.id);
    cr_assert_eq(stat_of("declined_charges"), 1);
    cr_assert_eq(stat_of("approved_minor_total"), 0);
}

Test(psp, declines_an_amount_above_the_limit_with_amount_limit)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-big", 1000001, "tok_approve", &ch, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(ch.approved, 0);
    cr_assert_str_eq(ch.decline_reason, "amount_limit");
    cr_assert_eq(charge("order-at-limit", 1000000, "tok_approve", &ch, err, sizeof err), SOUK_OK);
    cr_assert_eq(ch.approved, 1);
}

Test(psp, the_same_idempotency_key_twice_is_one_charge)
{
    souk_psp_charge first;
    souk_psp_charge second;
    char err[256];
    cr_assert_eq(charge("order-twice", 2500, "tok_approve", &first, err, sizeof err), SOUK_OK);
    cr_assert_eq(charge("order-twice", 2500, "tok_approve", &second, err, sizeof err), SOUK_OK);
    cr_assert_str_eq(first.id, second.id);
    cr_assert_eq(second.approved, 1);
    cr_assert_eq(stat_of("charges"), 1);
    cr_assert_eq(stat_of("approved_charges"), 1);
    cr_assert_eq(stat_of("approved_minor_total"), 2500);
    cr_assert_eq(stat_of("charge_requests"), 2);
}

Test(psp, a_replayed_decline_stays_declined)
{
    souk_psp_charge first;
    souk_psp_charge second;
    char err[256];
    cr_assert_eq(charge("order-dd", 10, "tok_decline", &first, err, sizeof err), SOUK_OK);
    cr_assert_eq(charge("order-dd", 10, "tok_decline", &second, err, sizeof err), SOUK_OK);
    cr_assert_str_eq(first.id, second.id);
    cr_assert_eq(second.approved, 0);
    cr_assert_str_eq(second.decline_reason, "card_declined");
}

Test(psp, the_same_key_with_another_amount_is_einval)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-conflict", 1000, "tok_approve", &ch, err, sizeof err), SOUK_OK);
    cr_assert_eq(charge("order-conflict", 2000, "tok_approve", &ch, err, sizeof err), SOUK_EINVAL);
    cr_assert(strstr(err, "409") != NULL, "%s", err);
    cr_assert_eq(stat_of("charges"), 1);
    cr_assert_eq(stat_of("approved_minor_total"), 1000);
}

Test(psp, a_slow_provider_times_out_and_the_retry_does_not_charge_twice)
{
    souk_psp_charge ch;
    char err[256];
    double start = now_s();
    cr_assert_eq(charge("order-slow", 700, "tok_timeout", &ch, err, sizeof err), SOUK_ETIMEOUT,
                 "%s", err);
    double took = now_s() - start;
    cr_assert(took >= 1.8 && took < 2.9, "timed out after %.2f s", took);

    cr_assert_eq(charge("order-slow", 700, "tok_timeout", &ch, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(ch.approved, 1);
    cr_assert_eq(stat_of("charges"), 1);
    cr_assert_eq(stat_of("approved_minor_total"), 700);
    cr_assert_eq(stat_of("charge_requests"), 2);
}

Test(psp, a_provider_error_is_eio_and_charges_nothing)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-error", 300, "tok_error", &ch, err, sizeof err), SOUK_EIO);
    cr_assert(strstr(err, "500") != NULL, "%s", err);
    cr_assert_eq(charge("order-error", 300, "tok_error", &ch, err, sizeof err), SOUK_EIO);
    cr_assert_eq(stat_of("charges"), 0);
}

Test(psp, a_flaky_provider_fails_once_then_approves_on_retry)
{
    souk_psp_charge first;
    souk_psp_charge retry;
    souk_psp_charge again;
    char err[256];
    cr_assert_eq(charge("order-flaky", 900, "tok_flaky", &first, err, sizeof err), SOUK_EIO);
    cr_assert_eq(stat_of("charges"), 0);
    cr_assert_eq(charge("order-flaky", 900, "tok_flaky", &retry, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(retry.approved, 1);
    cr_assert_eq(charge("order-flaky", 900, "tok_flaky", &again, err, sizeof err), SOUK_OK);
    cr_assert_str_eq(retry.id, again.id);
    cr_assert_eq(stat_of("charges"), 1);
    cr_assert_eq(stat_of("approved_minor_total"), 900);
}

Test(psp, an_unreachable_provider_is_eio)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", th_free_port());
    setenv("SOUK_PSP_URL", url, 1);
    souk_config *dead_cfg = NULL;
    char err[256];
    cr_assert_eq(souk_config_load(&dead_cfg, "payment", err, sizeof err), SOUK_OK);
    souk_psp_client *dead = souk_psp_client_new(dead_cfg);
    souk_psp_charge ch;
    souk_status st =
        souk_psp_client_charge(dead, "order-dead", 100, "EUR", "tok_approve", &ch, err, sizeof err);
    souk_psp_client_free(dead);
    souk_config_free(dead_cfg);
    cr_assert_eq(st, SOUK_EIO, "%s: %s", souk_status_name(st), err);
}

Test(psp, a_refund_is_recorded_once_per_idempotency_key)
{
    souk_psp_charge ch;
    char err[256];
    cr_assert_eq(charge("order-refund", 5000, "tok_approve", &ch, err, sizeof err), SOUK_OK);
    char first[64];
    char second[64];
    cr_assert_eq(
        souk_psp_client_refund(client, ch.id, "order-refund:refund", 5000, first, err, sizeof err),
        SOUK_OK, "%s", err);
    cr_assert(strncmp(first, "re_", 3) == 0, "%s", first);
    cr_assert_eq(
        souk_psp_client_refund(client, ch.id, "order-refund:refund", 5000, second, err, sizeof err),
        SOUK_OK, "%s", err);
    cr_assert_str_eq(first, second);

    char path[128];
    snprintf(path, sizeof path, "/charges/%s", ch.id);
    json_object *json = get_json(path, 200);
    cr_assert_eq(member_int(json, "refunded_minor"), 5000);
    json_object_put(json);
    cr_assert_eq(stat_of("refunds"), 1);
    cr_assert_eq(stat_of("refunded_minor_total"), 5000);
}

Test(psp, a_refund_beyond_the_capture_or_of_a_decline_is_einval)
{
    souk_psp_charge ch;
    char err[256];
    char refund[64];
    cr_assert_eq(charge("order-partial", 1000, "tok_approve", &ch, err, sizeof err), SOUK_OK);
    cr_assert_eq(souk_psp_client_refund(client, ch.id, "r1", 600, refund, err, sizeof err), SOUK_OK,
                 "%s", err);
    cr_assert_eq(souk_psp_client_refund(client, ch.id, "r2", 600, refund, err, sizeof err),
                 SOUK_EINVAL);
    cr_assert(strstr(err, "409") != NULL, "%s", err);
    cr_assert_eq(souk_psp_client_refund(client, ch.id, "r3", 400, refund, err, sizeof err), SOUK_OK,
                 "%s", err);

    souk_psp_charge declined;
    cr_assert_eq(charge("order-declined", 1000, "tok_decline", &declined, err, sizeof err),
                 SOUK_OK);
    cr_assert_eq(souk_psp_client_refund(client, declined.id, "r4", 1, refund, err, sizeof err),
                 SOUK_EINVAL);
    cr_assert_eq(souk_psp_client_refund(client, "ch_nope", "r5", 1, refund, err, sizeof err),
                 SOUK_EINVAL);
    cr_assert(strstr(err, "404") != NULL, "%s", err);
    cr_assert_eq(stat_of("refunded_minor_total"), 1000);
}

Test(psp, bad_requests_get_400_unknown_charges_404_and_wrong_methods_405)
{
    char code[64];
    cr_assert_eq(post_raw("/charges", "{not json", code, sizeof code), 400);
    cr_assert_str_eq(code, "INVALID_REQUEST");
    cr_assert_eq(post_raw("/charges",
                          "{\"amount_minor\":5,\"token\":\"t\",\"idempotency_key\":\"k\"}", code,
                          sizeof code),
                 400);
    cr_assert_str_eq(code, "INVALID_REQUEST");
    cr_assert_eq(post_raw("/charges",
                          "{\"amount_minor\":-1,\"currency\":\"EUR\",\"token\":\"t\","
                          "\"idempotency_key\":\"k\"}",
                          code, sizeof code),
                 400);
    cr_assert_eq(post_raw("/charges",
                          "{\"amount_minor\":1,\"currency\":\"eur\",\"token\":\"t\","
                          "\"idempotency_key\":\"k\"}",
                          code, sizeof code),
                 400);
    cr_assert_eq(post_raw("/charges",
                          "{\"amount_minor\":1,\"currency\":\"EUR\",\"token\":\"t\","
                          "\"idempotency_key\":\"\"}",
                          code, sizeof code),
                 400);
    cr_assert_eq(
        post_raw("/refunds", "{\"amount_minor\":1,\"idempotency_key\":\"k\"}", code, sizeof code),
        400);
    cr_assert_eq(post_raw("/stats", "{}", code, sizeof code), 405);
    cr_assert_str_eq(code, "METHOD_NOT_ALLOWED");

    json_object *json = get_json("/charges/ch_unknown", 404);
    json_object_put(json);
    json = get_json("/refunds", 405);
    json_object_put(json);
    cr_assert_eq(stat_of("charges"), 0);
}

struct slow_call {
    souk_status status;
    double answered_at;
};

static void *slow_charge(void *arg)
{
    struct slow_call *call = arg;
    souk_psp_client *own = souk_psp_client_new(cfg);
    souk_psp_charge ch;
    char err[256];
    call->status = souk_psp_client_charge(own, "order-in-flight", 1, "EUR", "tok_timeout", &ch, err,
                                          sizeof err);
    call->answered_at = now_s();
    souk_psp_client_free(own);
    return NULL;
}

/* The slow charge is answered at once rather than cut off or waited for. */
Test(psp, stops_cleanly_on_sigterm_answering_a_slow_charge_in_flight)
{
    struct slow_call call = {SOUK_EIO, 0};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, slow_charge, &call), 0);
    th_sleep_ms(300);
    double start = now_s();
    th_signal(psp_pid, SIGTERM);
    int code = th_wait_exit(psp_pid, 10000);
    pthread_join(thread, NULL);
    cr_assert_eq(code, 0, "souk-psp did not exit cleanly on SIGTERM");
    cr_assert_eq(call.status, SOUK_OK, "%s", souk_status_name(call.status));
    cr_assert(call.answered_at - start < 1.0, "answered %.2f s after SIGTERM",
              call.answered_at - start);
}

/* SIGKILLs the running souk-psp and starts it again on its port with the
 * ledger file given in ledger_env. */
static void restart_psp(const char *ledger_env, const char *log)
{
    int port = 0;
    cr_assert_eq(sscanf(base_url, "http://127.0.0.1:%d", &port), 1);
    th_signal(psp_pid, SIGKILL);
    th_wait_exit(psp_pid, 10000);
    psp_pid = start_psp_with(port, ledger_env, log);
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", base_url);
    cr_assert(th_wait_http(url, 200, 15000), "souk-psp did not come back");
}

/* A provider does not forget a capture when its server crashes: souk chaos
 * kills souk-psp while refunds of earlier captures are on their way. */
Test(psp, a_killed_provider_restarted_with_its_ledger_file_knows_its_charges_and_refunds)
{
    static char ledger_env[600];
    char ledger[512];
    snprintf(ledger, sizeof ledger, "%s/t-psp-ledger-%d.jsonl", getenv("SOUK_STATE"),
             (int)getpid());
    unlink(ledger);
    snprintf(ledger_env, sizeof ledger_env, "SOUK_PSP_LEDGER_FILE=%s", ledger);
    restart_psp(ledger_env, "t-psp-ledger");

    souk_psp_charge paid, declined, flaky;
    char err[256], refund_id[64], again_id[64];
    cr_assert_eq(charge("order-kept", 5000, "tok_approve", &paid, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_eq(charge("order-kept-declined", 700, "tok_decline", &declined, err, sizeof err),
                 SOUK_OK, "%s", err);
    cr_assert_eq(charge("order-kept-flaky", 300, "tok_flaky", &flaky, err, sizeof err), SOUK_EIO);
    cr_assert_eq(souk_psp_client_refund(client, paid.id, "order-kept:refund", 2000, refund_id, err,
                                        sizeof err),
                 SOUK_OK, "%s", err);

    restart_psp(ledger_env, "t-psp-ledger-again");
    char path[128];
    snprintf(path, sizeof path, "/charges/%s", paid.id);
    json_object *json = get_json(path, 200);
    cr_assert_str_eq(member_str(json, "status"), "approved");
    cr_assert_eq(member_int(json, "refunded_minor"), 2000);
    json_object_put(json);
    souk_psp_charge replayed;
    cr_assert_eq(charge("order-kept", 5000, "tok_approve", &replayed, err, sizeof err), SOUK_OK);
    cr_assert_str_eq(replayed.id, paid.id, "the retry after the restart charged again");
    cr_assert_eq(charge("order-kept-declined", 700, "tok_decline", &replayed, err, sizeof err),
                 SOUK_OK);
    cr_assert_str_eq(replayed.id, declined.id);
    cr_assert_eq(replayed.approved, 0);
    cr_assert_eq(charge("order-kept-flaky", 300, "tok_flaky", &replayed, err, sizeof err), SOUK_OK,
                 "the first tok_flaky failure was forgotten: %s", err);
    cr_assert_eq(souk_psp_client_refund(client, paid.id, "order-kept:refund", 2000, again_id, err,
                                        sizeof err),
                 SOUK_OK, "%s", err);
    cr_assert_str_eq(again_id, refund_id, "the refund's retry after the restart refunded again");
    cr_assert_eq(
        souk_psp_client_refund(client, paid.id, "order-kept:rest", 3000, again_id, err, sizeof err),
        SOUK_OK, "%s", err);
    cr_assert_eq(
        souk_psp_client_refund(client, paid.id, "order-kept:more", 1, again_id, err, sizeof err),
        SOUK_EINVAL, "refunded beyond the capture across a restart");
    cr_assert_eq(stat_of("charges"), 3);
    cr_assert_eq(stat_of("refunded_minor_total"), 5000);
    unlink(ledger);
}

Test(psp, a_taken_port_gives_a_clear_message_not_a_hang)
{
    int port = 0;
    cr_assert_eq(sscanf(base_url, "http://127.0.0.1:%d", &port), 1);
    unlink(th_log_path("t-psp-second"));
    pid_t second = start_psp(port, "t-psp-second");
    cr_assert_eq(th_wait_exit(second, 10000), 1);
    cr_assert_not_null(th_file_find(th_log_path("t-psp-second"), "port in use"));
}

/* The payment worker takes a provider's 404 for a permanent failure and
 * dead-letters the charge: a provider restarting under load (souk chaos)
 * must answer 503 with Retry-After until its routes exist, never 404. The
 * span exporter started between listening and registering made the window
 * wide enough to hit. */
Test(psp, a_starting_provider_answers_503_until_its_routes_exist_never_404)
{
    int answers = 0;
    for (int round = 1; round <= 20; round++) {
        int port = th_free_port();
        pid_t pid =
            start_psp_with(port, "SOUK_OTLP_URL=http://127.0.0.1:9/nowhere", "t-psp-starting");
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
        answers += ts_watch_start(pid, url, round);
    }
    cr_log_info("%d answers during 20 starts", answers);
}
