/* The gateway over real HTTP: the error contract for every status, tokens,
 * ownership, the product cache across two gateway processes, metrics and
 * the OpenAPI description. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <pthread.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void teardown(void)
{
    th_kill_all();
}

TestSuite(gateway, .fini = teardown, .timeout = 120);

static const char *error_code(json_object *body)
{
    return json_object_get_string(
        json_object_object_get(json_object_object_get(body, "error"), "code"));
}

/* bodyp, not the body: the call that fills it may be an argument of the
 * same call, and C leaves the order of argument evaluation open. */
static void assert_error(long status, json_object **bodyp, long want, const char *code)
{
    json_object *body = *bodyp;
    cr_assert_eq(status, want, "got %ld", status);
    cr_assert_not_null(body, "errors are JSON");
    cr_assert_str_eq(error_code(body), code);
    cr_assert_not_null(json_object_object_get(json_object_object_get(body, "error"), "message"));
    cr_assert_not_null(json_object_object_get(body, "request_id"));
}

Test(gateway, malformed_json_is_400)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    json_object *out = NULL;
    long st = ts_call("POST", "/cart/items", token, "{\"product_id\": ", &out);
    assert_error(st, &out, 400, "MALFORMED_JSON");
    json_object_put(out);
}

Test(gateway, a_failed_validation_is_400_naming_the_field_and_why)
{
    json_object *out = NULL;
    long st =
        ts_call("POST", "/products", ts_admin(),
                "{\"sku\":\"X-1\",\"name\":\"n\",\"price_minor\":-5,\"currency\":\"EUR\"}", &out);
    assert_error(st, &out, 400, "VALIDATION_FAILED");
    json_object *details = json_object_object_get(json_object_object_get(out, "error"), "details");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(details, "field")),
                     "price_minor");
    cr_assert(strstr(json_object_get_string(json_object_object_get(details, "reason")), ">=") !=
              NULL);
    json_object_put(out);
}

/* json-c keeps "\u0000" in a string, but the C string and the database
 * parameter end there: the product would be stored as "a". */
Test(gateway, a_nul_character_in_a_body_is_refused_not_cut)
{
    char sku[64];
    snprintf(sku, sizeof sku, "NUL-%ld", (long)time(NULL));
    char body[256];
    snprintf(body, sizeof body,
             "{\"sku\":\"%s\",\"name\":\"a\\u0000b\",\"price_minor\":5,\"currency\":\"EUR\"}", sku);
    json_object *out = NULL;
    long st = ts_call("POST", "/products", ts_admin(), body, &out);
    assert_error(st, &out, 400, "VALIDATION_FAILED");
    json_object *details = json_object_object_get(json_object_object_get(out, "error"), "details");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(details, "field")), "name");
    json_object_put(out);
    /* a member name with a NUL would be cut to "sk" otherwise */
    out = NULL;
    st = ts_call("POST", "/products", ts_admin(),
                 "{\"sku\\u0000x\":\"S\",\"sku\":\"NUL-K\",\"name\":\"n\",\"price_minor\":5,"
                 "\"currency\":\"EUR\"}",
                 &out);
    assert_error(st, &out, 400, "VALIDATION_FAILED");
    json_object_put(out);
    cr_assert_eq(th_pg_long("SELECT count(*) FROM catalog.products WHERE sku = $1", sku), 0);
}

Test(gateway, no_token_or_a_tampered_one_is_401_with_www_authenticate)
{
    json_object *out = NULL;
    assert_error(ts_call("GET", "/auth/me", NULL, NULL, &out), &out, 401, "UNAUTHORIZED");
    json_object_put(out);
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    size_t len = strlen(token);
    token[len - 3] = token[len - 3] == 'A' ? 'B' : 'A'; /* break the signature */
    char url[512];
    snprintf(url, sizeof url, "%s/auth/me", getenv("SOUK_TEST_GATEWAY_URL"));
    char auth[2100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, NULL};
    cr_assert_eq(th_http("GET", url, NULL, headers, NULL), 401);
    /* the header carries the reason for clients */
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "curl -s -D - -o /dev/null -H '%s' %s | grep -i '^WWW-Authenticate: Bearer'", auth,
             url);
    cr_assert_eq(system(cmd), 0, "no WWW-Authenticate header");
}

Test(gateway, an_alg_none_token_is_refused)
{
    /* {"alg":"none","typ":"JWT"} . {"sub":"x","role":"admin","iss":"souk","exp":9999999999} . */
    const char *token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                        "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiaXNzIjoic291ayIsImV4cCI6OTk5OTk5OT"
                        "k5OSwiaWF0IjoxLCJuYmYiOjF9.";
    json_object *out = NULL;
    assert_error(ts_call("GET", "/auth/me", token, NULL, &out), &out, 401, "UNAUTHORIZED");
    json_object_put(out);
}

Test(gateway, a_customer_writing_the_catalog_is_403)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    json_object *out = NULL;
    long st =
        ts_call("POST", "/products", token,
                "{\"sku\":\"NOPE-1\",\"name\":\"n\",\"price_minor\":5,\"currency\":\"EUR\"}", &out);
    assert_error(st, &out, 403, "FORBIDDEN");
    json_object_put(out);
}

Test(gateway, unknown_paths_are_404_and_wrong_methods_405)
{
    json_object *out = NULL;
    assert_error(ts_call("GET", "/nowhere", NULL, NULL, &out), &out, 404, "NOT_FOUND");
    json_object_put(out);
    assert_error(ts_call("PATCH", "/auth/login", NULL, NULL, &out), &out, 405,
                 "METHOD_NOT_ALLOWED");
    json_object_put(out);
}

Test(gateway, a_duplicate_email_or_sku_is_409)
{
    char email[128], body[256];
    char rnd[37];
    souk_uuid_v4(rnd);
    snprintf(email, sizeof email, "dup-%s@test.souk", rnd);
    snprintf(body, sizeof body, "{\"email\":\"%s\",\"password\":\"password1\",\"name\":\"D\"}",
             email);
    cr_assert_eq(ts_call("POST", "/auth/register", NULL, body, NULL), 201);
    json_object *out = NULL;
    assert_error(ts_call("POST", "/auth/register", NULL, body, &out), &out, 409, "EMAIL_TAKEN");
    json_object_put(out);
    snprintf(body, sizeof body,
             "{\"sku\":\"DUP-%s\",\"name\":\"n\",\"price_minor\":5,\"currency\":\"EUR\"}", rnd);
    cr_assert_eq(ts_call("POST", "/products", ts_admin(), body, NULL), 201);
    assert_error(ts_call("POST", "/products", ts_admin(), body, &out), &out, 409, "SKU_TAKEN");
    json_object_put(out);
}

Test(gateway, an_oversized_body_is_413_and_a_wrong_content_type_415)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    size_t size = 70000;
    char *big = malloc(size + 1);
    memset(big, ' ', size);
    big[0] = '{';
    big[size - 1] = '}';
    big[size] = '\0';
    json_object *out = NULL;
    assert_error(ts_call("POST", "/cart/items", token, big, &out), &out, 413, "BODY_TOO_LARGE");
    json_object_put(out);
    free(big);
    char url[512], auth[2100];
    snprintf(url, sizeof url, "%s/cart/items", getenv("SOUK_TEST_GATEWAY_URL"));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Content-Type: text/plain", NULL};
    char *response = NULL;
    cr_assert_eq(th_http("POST", url, "{}", headers, &response), 415);
    out = json_tokener_parse(response);
    cr_assert_str_eq(error_code(out), "UNSUPPORTED_MEDIA_TYPE");
    json_object_put(out);
    free(response);
}

struct burster {
    const char *token;
    int limited;
    int retry_after; /* seconds announced by a 429 */
};

static void *burst(void *arg)
{
    struct burster *b = arg;
    char url[512], auth[2100];
    snprintf(url, sizeof url, "%s/cart", getenv("SOUK_TEST_GATEWAY_URL"));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->token);
    const char *headers[] = {auth, NULL};
    for (int i = 0; i < 40; i++) {
        char *head = NULL;
        if (th_http_headers("GET", url, NULL, headers, NULL, &head) == 429) {
            b->limited++;
            const char *ra = strcasestr(head, "\nRetry-After: ");
            if (ra)
                b->retry_after = atoi(ra + 14);
        }
        free(head);
    }
    return NULL;
}

Test(gateway, a_burst_past_the_rate_limit_is_429_with_retry_after)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    /* the e2e stack allows a burst of 80 at 40/s per user: 10 clients send
     * 400 requests at once */
    struct burster bursters[10];
    pthread_t threads[10];
    for (int i = 0; i < 10; i++) {
        bursters[i] = (struct burster){token, 0, 0};
        pthread_create(&threads[i], NULL, burst, &bursters[i]);
    }
    int limited = 0, retry_after = 0;
    for (int i = 0; i < 10; i++) {
        pthread_join(threads[i], NULL);
        limited += bursters[i].limited;
        if (bursters[i].retry_after > retry_after)
            retry_after = bursters[i].retry_after;
    }
    cr_assert_gt(limited, 0, "never limited");
    cr_assert_geq(retry_after, 1, "429 without a Retry-After of at least 1 s");
}

Test(gateway, another_customers_order_is_404_exactly_like_a_missing_one)
{
    char owner[2048], other[2048], product[37], order[37];
    ts_customer(owner, sizeof owner, NULL);
    ts_customer(other, sizeof other, NULL);
    ts_product(100, 5, product);
    ts_order(owner, product, 1, "MA", "tok_approve", order);
    char path[128], missing[37];
    snprintf(path, sizeof path, "/orders/%s", order);
    json_object *theirs = NULL, *none = NULL;
    cr_assert_eq(ts_call("GET", path, owner, NULL, NULL), 200);
    long st = ts_call("GET", path, other, NULL, &theirs);
    souk_uuid_v4(missing);
    snprintf(path, sizeof path, "/orders/%s", missing);
    long st2 = ts_call("GET", path, other, NULL, &none);
    assert_error(st, &theirs, 404, "NOT_FOUND");
    assert_error(st2, &none, 404, "NOT_FOUND");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(
                         json_object_object_get(theirs, "error"), "message")),
                     json_object_get_string(
                         json_object_object_get(json_object_object_get(none, "error"), "message")));
    snprintf(path, sizeof path, "/orders/%s/events", order);
    cr_assert_eq(ts_call("GET", path, other, NULL, NULL), 404);
    json_object_put(theirs);
    json_object_put(none);
    char status[32], reason[32];
    ts_wait_final(owner, order, 30000, status, reason);
}

Test(gateway, the_request_id_is_echoed_or_generated)
{
    char url[512], cmd[1024];
    snprintf(url, sizeof url, "%s/healthz", getenv("SOUK_TEST_GATEWAY_URL"));
    snprintf(cmd, sizeof cmd,
             "curl -s -D - -o /dev/null -H 'X-Request-Id: trace-abc-123' %s | grep -q "
             "'^X-Request-Id: trace-abc-123'",
             url);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "curl -s -D - -o /dev/null %s | grep -qE '^X-Request-Id: [0-9a-f-]{36}'", url);
    cr_assert_eq(system(cmd), 0);
}

static char *product_name(const char *base, const char *id, const char *token)
{
    char url[512], auth[2100];
    snprintf(url, sizeof url, "%s/products/%s", base, id);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, NULL};
    char *response = NULL;
    th_http("GET", url, NULL, headers, &response);
    json_object *o = json_tokener_parse(response);
    char *name = strdup(o ? json_object_get_string(json_object_object_get(o, "name")) : "");
    json_object_put(o);
    free(response);
    return name;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* An order the gateway cannot find in the orders schema may still be a
 * checkout on its way; when the cart database, where that is looked up,
 * cannot be reached, the answer is 503, never "no such order". */
Test(gateway, an_unreachable_fallback_read_is_503_not_404)
{
    char cart_env[160], base[64];
    snprintf(cart_env, sizeof cart_env,
             "SOUK_DB_URL_CART=postgresql://127.0.0.1:%d/souk?connect_timeout=2", th_free_port());
    const char *env[] = {cart_env, NULL};
    ts_spawn_gateway(env, "t-gateway-nocart", base);
    char url[160];
    char token[2048], auth[2100], order[37];
    ts_customer(token, sizeof token, NULL);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    souk_uuid_v4(order);
    snprintf(url, sizeof url, "%s/orders/%s", base, order);
    const char *headers[] = {auth, NULL};
    char *body = NULL, *head = NULL;
    long st = th_http_headers("GET", url, NULL, headers, &body, &head);
    cr_assert_eq(st, 503, "got %ld: %s", st, body ? body : "");
    cr_assert(strcasestr(head, "Retry-After:") != NULL, "%s", head);
    json_object *out = json_tokener_parse(body);
    assert_error(st, &out, 503, "UNAVAILABLE");
    json_object_put(out);
    free(body);
    free(head);
}

Test(gateway, a_product_write_invalidates_every_gateways_cache)
{
    /* a second gateway process on the same stack */
    int port = th_free_port();
    char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", port);
    const char *env[] = {port_env, "SOUK_CATALOG_CACHE_TTL_MS=60000", NULL};
    th_spawn(th_binary("gateway/souk-gateway"), NULL, env, "t-gateway-b");
    char other[128], url[160];
    snprintf(other, sizeof other, "http://127.0.0.1:%d", port);
    snprintf(url, sizeof url, "%s/healthz", other);
    cr_assert(th_wait_http(url, 200, 15000));
    const char *mine = getenv("SOUK_TEST_GATEWAY_URL");

    char token[2048], product[37];
    ts_customer(token, sizeof token, NULL);
    ts_product(100, 1, product);
    /* both caches now hold the product */
    char *a = product_name(mine, product, token), *b = product_name(other, product, token);
    cr_assert_str_eq(a, "Test product");
    cr_assert_str_eq(b, "Test product");
    free(a);
    free(b);
    char path[128];
    snprintf(path, sizeof path, "/products/%s", product);
    char rnd[37], body[256];
    souk_uuid_v4(rnd);
    snprintf(body, sizeof body,
             "{\"sku\":\"RENAMED-%s\",\"name\":\"Renamed\",\"price_minor\":100,"
             "\"currency\":\"EUR\"}",
             rnd);
    cr_assert_eq(ts_call("PUT", path, ts_admin(), body, NULL), 200);
    double t0 = now_ms();
    /* the gateway that took the write never serves the old product again */
    a = product_name(mine, product, token);
    cr_assert_str_eq(a, "Renamed");
    free(a);
    /* the other one stops within the documented bound (NOTIFY; its TTL is a
     * minute here, so only the notification can explain a quick change) */
    int fresh = 0;
    while (!fresh && now_ms() - t0 < 2000) {
        b = product_name(other, product, token);
        fresh = strcmp(b, "Renamed") == 0;
        free(b);
        if (!fresh)
            th_sleep_ms(20);
    }
    cr_assert(fresh, "the second gateway still served the old product after 2 s");
}

Test(gateway, metrics_count_requests_per_route_and_status)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    ts_call("GET", "/cart", token, NULL, NULL);
    char url[512];
    snprintf(url, sizeof url, "%s/metrics", getenv("SOUK_TEST_GATEWAY_URL"));
    char *text = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &text), 200);
    cr_assert(strstr(text, "souk_http_requests_total{route=\"GET /cart\",status=\"200\"}") != NULL);
    cr_assert(strstr(text, "souk_http_request_duration_seconds_bucket{route=\"GET /cart\"") !=
              NULL);
    cr_assert(strstr(text, "souk_http_requests_in_flight") != NULL);
    free(text);
}

Test(gateway, openapi_describes_every_endpoint_and_docs_render_it)
{
    json_object *doc = NULL;
    cr_assert_eq(ts_call("GET", "/openapi.json", NULL, NULL, &doc), 200);
    json_object *paths = json_object_object_get(doc, "paths");
    const char *expected[] = {"/auth/register", "/products/{id}", "/cart/checkout",
                              "/orders/{id}/events", "/inventory/{product_id}"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_assert(json_object_object_get_ex(paths, expected[i], NULL), "%s", expected[i]);
    /* in development Prometheus scrapes /metrics without a token */
    json_object *metrics = json_object_object_get(json_object_object_get(paths, "/metrics"), "get");
    cr_assert_not_null(metrics);
    cr_assert_not(json_object_object_get_ex(metrics, "security", NULL));
    json_object *schemas =
        json_object_object_get(json_object_object_get(doc, "components"), "schemas");
    cr_assert(json_object_object_get_ex(schemas, "checkout", NULL));
    json_object_put(doc);
    char url[512];
    snprintf(url, sizeof url, "%s/docs", getenv("SOUK_TEST_GATEWAY_URL"));
    char *html = NULL;
    cr_assert_eq(th_http("GET", url, NULL, NULL, &html), 200);
    cr_assert(strstr(html, "/openapi.json") != NULL);
    free(html);
}

Test(gateway, checkout_is_idempotent_on_its_key)
{
    char token[2048], product[37], body[1024];
    ts_customer(token, sizeof token, NULL);
    ts_product(100, 5, product);
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":1}", product);
    cr_assert_eq(ts_call("POST", "/cart/items", token, body, NULL), 200);
    const char *checkout = "{\"shipping_address\":{\"name\":\"A\",\"line1\":\"x\",\"city\":\"M\","
                           "\"postal_code\":\"1\",\"country\":\"MA\"},\"payment_token\":"
                           "\"tok_approve\"}";
    const char *headers[] = {"Idempotency-Key: same-key-1", NULL};
    json_object *first = NULL, *second = NULL;
    cr_assert_eq(ts_call_h("POST", "/cart/checkout", token, checkout, headers, &first), 202);
    cr_assert_eq(ts_call_h("POST", "/cart/checkout", token, checkout, headers, &second), 202);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "order_id")),
                     json_object_get_string(json_object_object_get(second, "order_id")));
    /* and an empty cart without a key is a clear 409 */
    json_object *empty = NULL;
    assert_error(ts_call("POST", "/cart/checkout", token, checkout, &empty), &empty, 409,
                 "CART_EMPTY");
    char status[32], reason[32];
    ts_wait_final(token, json_object_get_string(json_object_object_get(first, "order_id")), 30000,
                  status, reason);
    cr_assert_str_eq(status, "COMPLETED");
    json_object_put(first);
    json_object_put(second);
    json_object_put(empty);
}

static long cart_units(json_object *cart)
{
    return json_object_get_int64(json_object_object_get(cart, "item_count"));
}

Test(gateway, cart_items_add_up_change_and_refuse_what_cannot_be_sold)
{
    char token[2048], product[37], other[37], body[256], path[128];
    ts_customer(token, sizeof token, NULL);
    ts_product(250, 5, product);
    ts_product(300, 5, other);
    json_object *out = NULL;
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":2}", product);
    cr_assert_eq(ts_call("POST", "/cart/items", token, body, &out), 200);
    json_object_put(out);
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":3}", product);
    cr_assert_eq(ts_call("POST", "/cart/items", token, body, &out), 200);
    cr_assert_eq(cart_units(out), 5, "adding the same product again adds up");
    cr_assert_eq(json_object_get_int64(json_object_object_get(out, "total_minor")), 1250);
    json_object_put(out);
    /* PUT sets the quantity of a product in the cart */
    snprintf(path, sizeof path, "/cart/items/%s", product);
    cr_assert_eq(ts_call("PUT", path, token, "{\"quantity\":1}", &out), 200);
    cr_assert_eq(cart_units(out), 1);
    json_object_put(out);
    /* ... and is 404 for one that is not in it */
    snprintf(path, sizeof path, "/cart/items/%s", other);
    out = NULL;
    assert_error(ts_call("PUT", path, token, "{\"quantity\":1}", &out), &out, 404, "NOT_FOUND");
    json_object_put(out);
    /* more than 1000 units of one product, reached by adding up */
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":1000}", product);
    out = NULL;
    assert_error(ts_call("POST", "/cart/items", token, body, &out), &out, 409, "QUANTITY_TOO_HIGH");
    json_object_put(out);
    /* a product taken off sale cannot be added */
    char update[256];
    snprintf(update, sizeof update,
             "{\"sku\":\"OFF-%s\",\"name\":\"Off sale\",\"price_minor\":300,\"currency\":\"EUR\","
             "\"active\":false}",
             other);
    snprintf(path, sizeof path, "/products/%s", other);
    cr_assert_eq(ts_call("PUT", path, ts_admin(), update, NULL), 200);
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":1}", other);
    out = NULL;
    assert_error(ts_call("POST", "/cart/items", token, body, &out), &out, 409, "PRODUCT_INACTIVE");
    json_object_put(out);
    cr_assert_eq(ts_call("GET", "/cart", token, NULL, &out), 200);
    cr_assert_eq(cart_units(out), 1, "the refused changes left the cart as it was");
    json_object_put(out);
}

Test(gateway, a_stock_change_gives_exactly_one_of_on_hand_and_delta)
{
    char product[37], path[96];
    ts_product(100, 3, product);
    snprintf(path, sizeof path, "/inventory/%s", product);
    json_object *out = NULL;
    long st = ts_call("PUT", path, ts_admin(), "{\"on_hand\":5,\"delta\":1}", &out);
    assert_error(st, &out, 400, "VALIDATION_FAILED");
    json_object_put(out);
    st = ts_call("PUT", path, ts_admin(), "{}", &out);
    assert_error(st, &out, 400, "VALIDATION_FAILED");
    json_object *details = json_object_object_get(json_object_object_get(out, "error"), "details");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(details, "field")), "on_hand");
    json_object_put(out);
    long long on_hand = 0, reserved = 0, sold = 0;
    ts_stock(product, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, 3, "a refused change changed the stock");
    st = ts_call("PUT", path, ts_admin(), "{\"delta\":-1}", &out);
    cr_assert_eq(st, 200, "%ld %s", st, json_object_to_json_string(out));
    json_object_put(out);
    ts_stock(product, &on_hand, &reserved, &sold);
    cr_assert_eq(on_hand, 2);
}
