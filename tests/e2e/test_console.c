/* The browser console as the gateway serves it (gateway/static.c), through
 * the front of `souk test`: its page for / and every console path (the
 * history fallback of a client-side router), revalidated by ETag; its
 * content-hashed files cached for a year; /docs as Swagger UI from the
 * gateway's own files; and every other path keeping the API's JSON
 * errors. Also the catalog's reads, public since the storefront lets
 * visitors browse, and still limited per client address. The pages
 * themselves run in Chromium: tests/e2e/browser.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

TestSuite(console, .timeout = 120);

typedef struct answer {
    long status;
    char *body;
    char *head;
} answer;

static answer get(const char *path, const char *const *headers)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", getenv("SOUK_TEST_GATEWAY_URL"), path);
    answer a = {0};
    a.status = th_http_headers("GET", url, NULL, headers, &a.body, &a.head);
    return a;
}

static void drop(answer *a)
{
    free(a->body);
    free(a->head);
}

/* The value of header name in a's head (static buffer), or "". */
static const char *header(const answer *a, const char *name)
{
    static char value[512];
    value[0] = '\0';
    size_t len = strlen(name);
    for (const char *line = a->head; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
            return value;
        }
        line = end + 2;
    }
    return value;
}

/* The first "/assets/<prefix>....<ext>" the page names (static buffer). */
static const char *asset_in(const char *page, const char *prefix, const char *ext)
{
    static char path[256];
    char needle[64];
    snprintf(needle, sizeof needle, "/assets/%s", prefix);
    for (const char *p = strstr(page, needle); p; p = strstr(p + 1, needle)) {
        size_t n = strcspn(p, "\"' >");
        if (n < sizeof path && n > strlen(ext) &&
            strncmp(p + n - strlen(ext), ext, strlen(ext)) == 0) {
            snprintf(path, sizeof path, "%.*s", (int)n, p);
            return path;
        }
    }
    cr_assert_fail("no %s...%s in %s", needle, ext, page);
    return NULL;
}

static void assert_json_error(const answer *a, long status, const char *code)
{
    cr_assert_eq(a->status, status, "%ld: %s", a->status, a->body);
    cr_assert(strncmp(header(a, "Content-Type"), "application/json", 16) == 0, "%s", a->head);
    char want[64];
    snprintf(want, sizeof want, "\"code\":\"%s\"", code);
    cr_assert(strstr(a->body, want), "%s", a->body);
}

Test(console, every_console_path_answers_the_console_page_revalidated_by_its_etag)
{
    answer home = get("/", NULL);
    cr_assert_eq(home.status, 200);
    cr_assert_str_eq(header(&home, "Content-Type"), "text/html; charset=utf-8");
    cr_assert_str_eq(header(&home, "Cache-Control"), "no-cache");
    cr_assert(strstr(header(&home, "Content-Security-Policy"), "default-src 'self'"), "%s",
              home.head);
    cr_assert_str_eq(header(&home, "X-Content-Type-Options"), "nosniff");
    cr_assert(strstr(home.body, "<div id=\"app\"></div>"), "%s", home.body);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", header(&home, "ETag"));
    cr_assert(etag[0] == '"', "no ETag: %s", home.head);

    const char *pages[] = {"/shop",
                           "/shop/cart",
                           "/shop/orders/0b7e3c1a-5d2f-4a8e-9c61-2f4d8b9a7e10/saga",
                           "/shop/products/x?q=1",
                           "/console",
                           "/console/sagas",
                           "/console/dead-letters/payment",
                           "/console/sagas/x/saga?q=1"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        answer page = get(pages[i], NULL);
        cr_assert_eq(page.status, 200, "%s: %ld", pages[i], page.status);
        cr_assert_str_eq(page.body, home.body, "%s is another page", pages[i]);
        drop(&page);
    }

    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *revalidate[] = {inm, NULL};
    answer same = get("/shop/orders", revalidate);
    cr_assert_eq(same.status, 304, "%ld", same.status);
    cr_assert_str_eq(same.body, "", "a 304 has no body");
    cr_assert_str_eq(header(&same, "ETag"), etag);
    drop(&same);
    const char *stale[] = {"If-None-Match: \"0000000000000000\"", NULL};
    answer fresh = get("/", stale);
    cr_assert_eq(fresh.status, 200);
    drop(&fresh);
    drop(&home);
}

Test(console, its_content_hashed_files_are_cached_for_a_year)
{
    answer home = get("/", NULL);
    char js[256], css[256];
    snprintf(js, sizeof js, "%s", asset_in(home.body, "console-", ".js"));
    snprintf(css, sizeof css, "%s", asset_in(home.body, "console-", ".css"));
    answer script = get(js, NULL);
    cr_assert_eq(script.status, 200, "%s: %ld", js, script.status);
    cr_assert_str_eq(header(&script, "Content-Type"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(header(&script, "Cache-Control"), "public, max-age=31536000, immutable");
    cr_assert_gt(strlen(script.body), 1000);
    answer style = get(css, NULL);
    cr_assert_eq(style.status, 200);
    cr_assert_str_eq(header(&style, "Content-Type"), "text/css; charset=utf-8");
    drop(&style);
    drop(&script);
    drop(&home);
}

Test(console, docs_is_swagger_ui_over_the_document_from_the_gateway_itself)
{
    answer docs = get("/docs", NULL);
    cr_assert_eq(docs.status, 200);
    cr_assert_str_eq(header(&docs, "Content-Type"), "text/html; charset=utf-8");
    cr_assert_null(strstr(docs.body, "src=\"http"), "a script from elsewhere: %s", docs.body);
    cr_assert_null(strstr(docs.body, "href=\"http"), "a style from elsewhere: %s", docs.body);
    answer bundle = get(asset_in(docs.body, "docs-", ".js"), NULL);
    cr_assert_eq(bundle.status, 200);
    cr_assert(strstr(bundle.body, "/openapi.json"), "the page reads another document");
    cr_assert(strstr(bundle.body, "swagger"), "not Swagger UI");
    drop(&bundle);
    drop(&docs);
}

Test(console, api_paths_and_missing_files_keep_the_json_error_contract)
{
    answer missing = get("/assets/console-0000.js", NULL);
    assert_json_error(&missing, 404, "NOT_FOUND");
    drop(&missing);
    answer nowhere = get("/shopping", NULL);
    assert_json_error(&nowhere, 404, "NOT_FOUND");
    drop(&nowhere);
    answer elsewhere = get("/consoles", NULL);
    assert_json_error(&elsewhere, 404, "NOT_FOUND");
    drop(&elsewhere);
    /* the API's admin paths stay the API's: the console is under /console */
    answer admin = get("/admin/system", NULL);
    assert_json_error(&admin, 401, "UNAUTHORIZED");
    drop(&admin);
    answer api = get("/orders/not-a-console-page", NULL);
    assert_json_error(&api, 401, "UNAUTHORIZED");
    drop(&api);
    json_object *out = NULL;
    long st = ts_call("POST", "/", NULL, "{}", &out);
    cr_assert_eq(st, 405);
    json_object_put(out);
}

Test(console, the_catalog_reads_need_no_token)
{
    char product[37];
    ts_product(1234, 7, product);
    char path[128];
    json_object *out = NULL;
    cr_assert_eq(ts_call("GET", "/products?limit=5", NULL, NULL, &out), 200);
    json_object_put(out);
    snprintf(path, sizeof path, "/products/%s", product);
    cr_assert_eq(ts_call("GET", path, NULL, NULL, &out), 200);
    cr_assert_eq(json_object_get_int64(json_object_object_get(out, "price_minor")), 1234);
    json_object_put(out);
    snprintf(path, sizeof path, "/inventory/%s", product);
    cr_assert_eq(ts_call("GET", path, NULL, NULL, &out), 200);
    cr_assert_eq(json_object_get_int(json_object_object_get(out, "available")), 7);
    json_object_put(out);
    /* writing it still takes an admin */
    cr_assert_eq(ts_call("PUT", path, NULL, "{\"on_hand\":1}", NULL), 401);
}

Test(console, anonymous_catalog_reads_are_limited_per_client_address)
{
    /* straight to the gateway, which believes X-Real-IP from its front's
     * address (SOUK_TRUSTED_PROXIES): two clients the front would name */
    char url[256], one[64], other[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/products?limit=1", getenv("SOUK_GATEWAY_PORT"));
    srand((unsigned)time(NULL));
    int a = rand() % 200 + 20, b = a + 1;
    snprintf(one, sizeof one, "X-Real-IP: 203.0.113.%d", a);
    snprintf(other, sizeof other, "X-Real-IP: 203.0.113.%d", b);
    const char *first[] = {one, NULL};
    const char *second[] = {other, NULL};
    long st = 0;
    int sent = 0;
    char *head = NULL;
    while (sent < 2000) {
        free(head);
        head = NULL;
        st = th_http_headers("GET", url, NULL, first, NULL, &head);
        sent++;
        if (st != 200)
            break;
    }
    cr_assert_eq(st, 429, "after %d requests: %ld", sent, st);
    cr_assert_gt(sent, 20, "limited after %d requests", sent);
    cr_assert(strcasestr(head, "Retry-After:"), "%s", head);
    free(head);
    /* another address has its own budget */
    cr_assert_eq(th_http_gateway("GET", url, NULL, second, NULL), 200);
}
