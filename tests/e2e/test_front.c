/* The gateway behind its front (nginx), as clients reach it: other clients
 * are served while hundreds of connections stall and one customer holds
 * every long poll it may; waiting requests have a budget per customer and
 * per gateway (429 past it); HTTPS with the stack's certificate; the front's
 * own errors follow the error contract. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "events/envelope.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void teardown(void)
{
    th_kill_all();
}

TestSuite(front, .fini = teardown, .timeout = 120);

/* A new customer and an order of theirs that stays PENDING for the length
 * of a test (no saga runs for it), so that a long poll on it waits its full
 * time; the deadline sweep ends it afterwards. Writes the token and id. */
static void waiting_order(char *token, size_t cap, char order[37])
{
    char customer[64];
    ts_customer(token, cap, customer);
    ts_open_order(customer, 25, NULL, order);
}

/* The front's host:port, from SOUK_TEST_GATEWAY_URL. */
static const char *front_target(void)
{
    static char target[64];
    const char *url = getenv("SOUK_TEST_GATEWAY_URL");
    snprintf(target, sizeof target, "%s", strstr(url, "://") ? strstr(url, "://") + 3 : url);
    return target;
}

/* A GET through the front; returns its status and the seconds it took. */
static long timed_get(const char *path, const char *token, double *took)
{
    double start = souk_monotonic_seconds();
    long st = ts_call("GET", path, token, NULL, NULL);
    *took = souk_monotonic_seconds() - start;
    return st;
}

static long long_poll_status(const char *base, const char *token, const char *order, int wait_s,
                             char **head)
{
    char url[512], auth[2100];
    snprintf(url, sizeof url, "%s/orders/%s?wait=%d", base, order, wait_s);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[] = {auth, NULL};
    char *body = NULL;
    long st = th_http_headers("GET", url, NULL, headers, &body, head);
    free(body);
    return st;
}

/* civetweb gives each connection a thread for as long as its request is
 * read: without the front, these stalled connections took every thread and
 * nobody was answered, /healthz included, until their requests timed out. */
Test(front, others_are_served_while_connections_stall_and_a_customer_waits_its_fill)
{
    char hog[2048], hog_order[37];
    waiting_order(hog, sizeof hog, hog_order);
    char path[128];
    snprintf(path, sizeof path, "/orders/%s?wait=30", hog_order);
    /* 300 stalled connections, and 20 long polls more than the customer's
     * share of 64 */
    const char *args[] = {"--target",   front_target(), "--stalled", "300",    "--long-polls",
                          "84",         "--token",      hog,         "--path", path,
                          "--duration", "60",           NULL};
    th_spawn(th_binary("bench/souk-attack"), args, NULL, "t-front-attack");
    cr_assert(th_wait_log("t-front-attack", "stalled=300", "long_polls=64", 20000),
              "the attack did not get its connections and long polls");
    cr_assert(th_wait_log("t-front-attack", "stalled=300", "429=", 10000),
              "the long polls past the customer's share were not refused");

    char other[2048], product[37];
    ts_customer(other, sizeof other, NULL);
    ts_product(300, 5, product);
    char product_path[96];
    snprintf(product_path, sizeof product_path, "/products/%s", product);
    double slowest = 0;
    for (int i = 0; i < 30; i++) {
        double took = 0;
        cr_assert_eq(timed_get("/healthz", NULL, &took), 200);
        slowest = took > slowest ? took : slowest;
        cr_assert_eq(timed_get(product_path, other, &took), 200);
        slowest = took > slowest ? took : slowest;
        cr_assert_eq(timed_get("/cart", other, &took), 200);
        slowest = took > slowest ? took : slowest;
    }
    /* the failure this guards against is a 30 s wait, or none at all */
    cr_assert_lt(slowest, 2.0, "an ordinary request took %.2f s under the attack", slowest);

    /* another customer still gets a long poll, answered at its deadline */
    char waiter[2048], waiter_order[37];
    waiting_order(waiter, sizeof waiter, waiter_order);
    double start = souk_monotonic_seconds();
    char *head = NULL;
    cr_assert_eq(long_poll_status(getenv("SOUK_TEST_GATEWAY_URL"), waiter, waiter_order, 1, &head),
                 200);
    free(head);
    double took = souk_monotonic_seconds() - start;
    cr_assert(took >= 0.9 && took < 3.0, "a 1 s long poll took %.2f s", took);

    /* the customer at its share is told so, with Retry-After */
    head = NULL;
    long st = long_poll_status(getenv("SOUK_TEST_GATEWAY_URL"), hog, hog_order, 5, &head);
    cr_assert_eq(st, 429);
    cr_assert(strcasestr(head, "\nRetry-After: ") != NULL, "%s", head);
    free(head);
    /* and may still read its order without waiting */
    char order_path[96];
    snprintf(order_path, sizeof order_path, "/orders/%s", hog_order);
    cr_assert_eq(ts_call("GET", order_path, hog, NULL, NULL), 200);
}

/* The gateway's waiting share is SOUK_LONG_POLL_MAX, whoever waits. */
Test(front, long_polls_past_the_gateways_budget_are_429)
{
    int port = th_free_port();
    char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", port);
    const char *env[] = {port_env, "SOUK_LONG_POLL_MAX=2", NULL};
    th_spawn(th_binary("gateway/souk-gateway"), NULL, env, "t-front-budget");
    char base[64], url[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    snprintf(url, sizeof url, "%s/healthz", base);
    cr_assert(th_wait_http(url, 200, 15000));
    char a[2048], a_order[37], b[2048], b_order[37], c[2048], c_order[37];
    waiting_order(a, sizeof a, a_order);
    waiting_order(b, sizeof b, b_order);
    waiting_order(c, sizeof c, c_order);
    char path_a[128], path_b[128];
    snprintf(path_a, sizeof path_a, "/orders/%s?wait=20", a_order);
    snprintf(path_b, sizeof path_b, "/orders/%s?wait=20", b_order);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    const char *args_a[] = {"--target", target, "--long-polls", "1",  "--token", a,
                            "--path",   path_a, "--duration",   "30", NULL};
    const char *args_b[] = {"--target", target, "--long-polls", "1",  "--token", b,
                            "--path",   path_b, "--duration",   "30", NULL};
    th_spawn(th_binary("bench/souk-attack"), args_a, NULL, "t-front-budget-a");
    th_spawn(th_binary("bench/souk-attack"), args_b, NULL, "t-front-budget-b");
    cr_assert(th_wait_log("t-front-budget-a", "long_polls=1", NULL, 10000));
    cr_assert(th_wait_log("t-front-budget-b", "long_polls=1", NULL, 10000));
    th_sleep_ms(500);
    char *head = NULL;
    cr_assert_eq(long_poll_status(base, c, c_order, 5, &head), 429);
    cr_assert(strcasestr(head, "\nRetry-After: ") != NULL, "%s", head);
    free(head);
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

Test(front, https_is_served_with_the_stacks_certificate)
{
    const char *tls = getenv("SOUK_TEST_TLS_URL");
    cr_assert_not_null(tls, "souk test exports SOUK_TEST_TLS_URL");
    char url[256];
    snprintf(url, sizeof url, "%s/readyz", tls);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, getenv("SOUK_TEST_TLS_CA"));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    cr_assert_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));
    cr_assert_eq(status, 200);
}

/* What the front refuses itself (here a request line that is not HTTP) is
 * answered in the gateway's error contract, not with an HTML page. */
Test(front, the_fronts_own_errors_are_json)
{
    int port = 0;
    const char *target = front_target();
    sscanf(strrchr(target, ':') + 1, "%d", &port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    const char junk[] = "THIS IS NOT HTTP\r\n\r\n";
    cr_assert_eq(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    char answer[2048] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof answer - 1 && (n = read(fd, answer + got, sizeof answer - 1 - got)) > 0)
        got += (size_t)n;
    answer[got] = '\0';
    close(fd);
    cr_assert(strncmp(answer, "HTTP/1.1 400", 12) == 0, "%s", answer);
    cr_assert(strcasestr(answer, "Content-Type: application/json") != NULL, "%s", answer);
    cr_assert(strstr(answer, "\"code\":\"BAD_REQUEST\"") != NULL, "%s", answer);
}
