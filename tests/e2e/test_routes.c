/* Every route of the gateway's route table (gateway/routes.c) is asked, over
 * real HTTP through the front, what its declared access says it answers:
 * USER and ADMIN routes refuse a request without a token (401) before they
 * read its body, ADMIN routes refuse a customer (403), and no route refuses
 * more than it declares. A route added to the table is covered without
 * changing this file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "gateway/routes.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

TestSuite(routes, .timeout = 120);

/* The route's pattern with each ":name" replaced by a fresh UUID. */
static void concrete_path(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n + 40 < cap;) {
        if (*p == ':') {
            char id[37];
            souk_uuid_v4(id);
            n += (size_t)snprintf(out + n, cap - n, "%s", id);
            p += strcspn(p, "/");
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static const char *code_of(json_object *body)
{
    const char *code = json_object_get_string(
        json_object_object_get(json_object_object_get(body, "error"), "code"));
    return code ? code : "";
}

/* The access the stack's gateway gives r (its configuration is this
 * process's environment, as `souk test` exported it). */
static souk_access access_here(const souk_route *r)
{
    souk_config *cfg = NULL;
    char err[256];
    cr_assert_eq(souk_config_load(&cfg, "gateway", err, sizeof err), SOUK_OK, "%s", err);
    souk_access access = souk_route_access(r, cfg);
    souk_config_free(cfg);
    return access;
}

/* Sends r's method to a concrete path as token (NULL: none), with body when
 * the route reads one. Returns the status; *code gets the error code. */
static long ask(const souk_route *r, const char *token, const char *body, char code[64])
{
    char path[256];
    concrete_path(r->pattern, path, sizeof path);
    json_object *out = NULL;
    long st = ts_call(r->method, path, token, r->body ? body : NULL, &out);
    snprintf(code, 64, "%s", code_of(out));
    json_object_put(out);
    return st;
}

Test(routes, every_user_and_admin_route_refuses_a_request_without_a_token_before_its_body)
{
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    cr_assert_gt(count, 20);
    int refused = 0;
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        char code[64];
        /* a malformed body: access comes first, so it is never read */
        long st = ask(r, NULL, "{\"not json", code);
        if (access_here(r) == SOUK_ACCESS_PUBLIC) {
            cr_assert_neq(st, 401, "%s %s is public but answered 401", r->method, r->pattern);
            continue;
        }
        cr_assert_eq(st, 401, "%s %s answered %ld (%s) without a token", r->method, r->pattern, st,
                     code);
        cr_assert_str_eq(code, "UNAUTHORIZED", "%s %s", r->method, r->pattern);
        refused++;
    }
    cr_assert_gt(refused, 15, "only %d routes need a token", refused);
}

Test(routes, every_admin_route_refuses_a_customer_and_no_other_route_does)
{
    char customer[2048];
    ts_customer(customer, sizeof customer, NULL);
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    int refused = 0;
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        char code[64];
        long st = ask(r, customer, "{\"not json", code);
        if (access_here(r) == SOUK_ACCESS_ADMIN) {
            cr_assert_eq(st, 403, "%s %s answered %ld (%s) to a customer", r->method, r->pattern,
                         st, code);
            cr_assert_str_eq(code, "FORBIDDEN", "%s %s", r->method, r->pattern);
            refused++;
        } else {
            cr_assert(st != 401 && st != 403, "%s %s refused a customer with %ld (%s)", r->method,
                      r->pattern, st, code);
        }
    }
    cr_assert_geq(refused, 5, "only %d routes need the admin role", refused);
}

Test(routes, an_admin_is_refused_nowhere)
{
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        char code[64];
        long st = ask(r, ts_admin(), "{}", code);
        cr_assert(st != 401 && st != 403, "%s %s refused the admin with %ld (%s)", r->method,
                  r->pattern, st, code);
    }
}

Test(routes, a_route_with_a_body_checks_it_before_its_handler_runs)
{
    char customer[2048];
    ts_customer(customer, sizeof customer, NULL);
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    int checked = 0;
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        souk_access access = access_here(r);
        if (!r->body || strcmp(r->pattern, "/auth/login") == 0)
            continue; /* the login limit is not spent here */
        const char *token = access == SOUK_ACCESS_ADMIN  ? ts_admin()
                            : access == SOUK_ACCESS_USER ? customer
                                                         : NULL;
        char code[64];
        long st = ask(r, token, "{\"not json", code);
        cr_assert_eq(st, 400, "%s %s answered %ld to a malformed body", r->method, r->pattern, st);
        cr_assert_str_eq(code, "MALFORMED_JSON", "%s %s", r->method, r->pattern);
        st = ask(r, token, "[]", code);
        cr_assert_eq(st, 400, "%s %s answered %ld to an array", r->method, r->pattern, st);
        cr_assert_str_eq(code, "VALIDATION_FAILED", "%s %s", r->method, r->pattern);
        checked++;
    }
    cr_assert_gt(checked, 5);
}

/* tests/openapi/responses.sh checks the recorded answers against the
 * document; it can only fail if the harness records them. */
Test(routes, the_harness_records_every_answer_for_the_openapi_check)
{
    const char *dir = getenv("SOUK_TEST_HTTP_RECORD_DIR");
    cr_assert(dir && dir[0], "souk test sets SOUK_TEST_HTTP_RECORD_DIR");
    char request_id[37];
    souk_uuid_v4(request_id);
    char header[80];
    snprintf(header, sizeof header, "X-Request-Id: %s", request_id);
    const char *headers[] = {header, NULL};
    cr_assert_eq(ts_call_h("GET", "/healthz", NULL, NULL, headers, NULL), 200);
    char file[1024];
    snprintf(file, sizeof file, "%s/%ld.jsonl", dir, (long)getpid());
    const char *line = th_file_find(file, request_id);
    cr_assert_not_null(line, "no record of the answer in %s", file);
    json_object *record = json_tokener_parse(line);
    cr_assert_not_null(record, "%s", line);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(record, "path")), "/healthz");
    cr_assert_eq(json_object_get_int(json_object_object_get(record, "status")), 200);
    json_object *head = json_object_object_get(record, "headers");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(head, "x-request-id")),
                     request_id);
    cr_assert(strstr(json_object_get_string(json_object_object_get(record, "body")), "alive"));
    json_object_put(record);
}
