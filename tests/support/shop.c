/* End-to-end test helpers (see shop.h). */
#include "tests/support/shop.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/harness.h"

long ts_call_at(const char *base, const char *method, const char *path, const char *token,
                const char *body, const char *const *headers, json_object **out)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    const char *all[12];
    int n = 0;
    char auth[2100]; /* "Authorization: Bearer " and a token of up to 2047 bytes */
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        all[n++] = auth;
    }
    if (body)
        all[n++] = "Content-Type: application/json";
    for (const char *const *h = headers; h && *h && n < 11; h++)
        all[n++] = *h;
    all[n] = NULL;
    char *response = NULL;
    long status = th_http_gateway(method, url, body, all, &response);
    if (out)
        *out = response && response[0] ? json_tokener_parse(response) : NULL;
    free(response);
    return status;
}

long ts_call_h(const char *method, const char *path, const char *token, const char *body,
               const char *const *headers, json_object **out)
{
    return ts_call_at(getenv("SOUK_TEST_GATEWAY_URL"), method, path, token, body, headers, out);
}

long ts_call(const char *method, const char *path, const char *token, const char *body,
             json_object **out)
{
    return ts_call_h(method, path, token, body, NULL, out);
}

/* The value of the answer's header name (static buffer), or NULL. */
static const char *answer_header(const char *head, const char *name)
{
    static char value[256];
    size_t len = strlen(name);
    for (const char *line = head; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)n, v);
            return value;
        }
    }
    return NULL;
}

long ts_call_traced(const char *method, const char *path, const char *token, const char *body,
                    const char *traceparent, const char *tracestate, char tp[64], json_object **out)
{
    char url[512], auth[2100], parent[160], state[160];
    snprintf(url, sizeof url, "%s%s", getenv("SOUK_TEST_GATEWAY_URL"), path);
    const char *headers[6];
    int n = 0;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers[n++] = auth;
    }
    if (body)
        headers[n++] = "Content-Type: application/json";
    if (traceparent) {
        snprintf(parent, sizeof parent, "traceparent: %s", traceparent);
        headers[n++] = parent;
    }
    if (tracestate) {
        snprintf(state, sizeof state, "tracestate: %s", tracestate);
        headers[n++] = state;
    }
    headers[n] = NULL;
    char *response = NULL, *head = NULL;
    long status = th_http_headers(method, url, body, headers, &response, &head);
    const char *value = head ? answer_header(head, "traceparent") : NULL;
    snprintf(tp, 64, "%.63s", value ? value : "");
    if (out)
        *out = response && response[0] ? json_tokener_parse(response) : NULL;
    free(response);
    free(head);
    return status;
}

static const char *str(json_object *o, const char *key)
{
    const char *s = json_object_get_string(json_object_object_get(o, key));
    return s ? s : "";
}

const char *ts_admin(void)
{
    static char token[2048];
    if (token[0])
        return token;
    /* Criterion runs each test in its own process: share one admin token
     * through a file rather than spend the per-IP login limit. */
    char path[1024];
    snprintf(path, sizeof path, "%s/admin.token",
             getenv("SOUK_STATE") ? getenv("SOUK_STATE") : "/tmp");
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fgets(token, sizeof token, f) != NULL && strlen(token) > 20;
        fclose(f);
        if (ok)
            return token;
        token[0] = '\0';
    }
    json_object *out = NULL;
    long st =
        ts_call("POST", "/auth/login", NULL,
                "{\"email\":\"admin@souk.local\",\"password\":\"souk-admin-password\"}", &out);
    cr_assert_eq(st, 200, "admin login failed");
    snprintf(token, sizeof token, "%s", str(out, "access_token"));
    json_object_put(out);
    f = fopen(path, "w");
    if (f) {
        fputs(token, f);
        fclose(f);
    }
    return token;
}

void ts_customer(char *token, size_t cap, char *id_out)
{
    char body[256];
    char rnd[37];
    souk_uuid_v4(rnd);
    snprintf(body, sizeof body,
             "{\"email\":\"c-%s@test.souk\",\"password\":\"password1\",\"name\":\"Test Customer\"}",
             rnd);
    json_object *out = NULL;
    long st = ts_call("POST", "/auth/register", NULL, body, &out);
    cr_assert_eq(st, 201, "register failed with %ld", st);
    snprintf(token, cap, "%s", str(out, "access_token"));
    if (id_out)
        snprintf(id_out, 37, "%s", str(json_object_object_get(out, "account"), "id"));
    json_object_put(out);
}

void ts_product(long long price_minor, int on_hand, char id[37])
{
    char body[256], path[128], rnd[37];
    souk_uuid_v4(rnd);
    snprintf(body, sizeof body,
             "{\"sku\":\"T-%s\",\"name\":\"Test product\",\"price_minor\":%lld,"
             "\"currency\":\"EUR\"}",
             rnd, price_minor);
    json_object *out = NULL;
    cr_assert_eq(ts_call("POST", "/products", ts_admin(), body, &out), 201);
    snprintf(id, 37, "%s", str(out, "id"));
    json_object_put(out);
    snprintf(path, sizeof path, "/inventory/%s", id);
    snprintf(body, sizeof body, "{\"on_hand\":%d}", on_hand);
    cr_assert_eq(ts_call("PUT", path, ts_admin(), body, NULL), 200);
}

/* POST /orders of items, with traceparent when not NULL (then answer_tp
 * gets the answer's). */
static void order_items(const char *token, const char *items, const char *country, const char *card,
                        const char *traceparent, char answer_tp[64], char order_id[37])
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"items\":%s,\"shipping_address\":{"
             "\"name\":\"Amina\",\"line1\":\"12 Rue des Souks\",\"city\":\"Marrakesh\","
             "\"postal_code\":\"40000\",\"country\":\"%s\"},\"payment_token\":\"%s\"}",
             items, country, card);
    json_object *out = NULL;
    long st = traceparent ? ts_call_traced("POST", "/orders", token, body, traceparent, NULL,
                                           answer_tp, &out)
                          : ts_call("POST", "/orders", token, body, &out);
    cr_assert_eq(st, 202, "order not accepted: %ld", st);
    snprintf(order_id, 37, "%s", str(out, "order_id"));
    json_object_put(out);
}

void ts_order_items(const char *token, const char *items, const char *country, const char *card,
                    char order_id[37])
{
    order_items(token, items, country, card, NULL, NULL, order_id);
}

void ts_order_traced(const char *token, const char *product, const char *country, const char *card,
                     const char *traceparent, char answer_tp[64], char order_id[37])
{
    char items[128];
    snprintf(items, sizeof items, "[{\"product_id\":\"%s\",\"quantity\":1}]", product);
    order_items(token, items, country, card, traceparent, answer_tp, order_id);
}

void ts_order(const char *token, const char *product, int quantity, const char *country,
              const char *card, char order_id[37])
{
    char items[128];
    snprintf(items, sizeof items, "[{\"product_id\":\"%s\",\"quantity\":%d}]", product, quantity);
    ts_order_items(token, items, country, card, order_id);
}

int ts_wait_final(const char *token, const char *order_id, int timeout_ms, char status[32],
                  char reason[32])
{
    char path[128];
    snprintf(path, sizeof path, "/orders/%s", order_id);
    status[0] = reason[0] = '\0';
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        json_object *out = NULL;
        if (ts_call("GET", path, token, NULL, &out) == 200) {
            snprintf(status, 32, "%s", str(out, "status"));
            snprintf(reason, 32, "%s", str(out, "cancel_reason"));
        }
        json_object_put(out);
        if (!strcmp(status, "COMPLETED") || !strcmp(status, "CANCELLED"))
            return 1;
        th_sleep_ms(100);
    }
    return 0;
}

void ts_stock(const char *product, long long *on_hand, long long *reserved, long long *sold)
{
    char path[128];
    snprintf(path, sizeof path, "/inventory/%s", product);
    json_object *out = NULL;
    cr_assert_eq(ts_call("GET", path, ts_admin(), NULL, &out), 200);
    *on_hand = json_object_get_int64(json_object_object_get(out, "on_hand"));
    *reserved = json_object_get_int64(json_object_object_get(out, "reserved"));
    *sold = json_object_get_int64(json_object_object_get(out, "sold"));
    json_object_put(out);
}

void ts_stock_sold(const char *product, long long sold_want, long long *on_hand,
                   long long *reserved, long long *sold)
{
    for (int waited = 0; waited <= 10000; waited += 100) {
        ts_stock(product, on_hand, reserved, sold);
        if (*sold == sold_want)
            return;
        th_sleep_ms(100);
    }
}

/* The messages in a dead-letter queue, from the management API's count,
 * waiting while it is not 0: the API's counts are statistics refreshed
 * every collect_statistics_interval (1 s in our brokers), so a queue purged
 * a moment ago can still show its old count. A dead letter that is really
 * there keeps showing. */
static long dlq_messages(const char *name, long listed)
{
    char path[256];
    snprintf(path, sizeof path, "/queues/souk/%s?columns=messages", name);
    for (int waited = 0; listed != 0 && waited < 7000; waited += 500) {
        th_sleep_ms(500);
        json_object *q = th_mgmt_get(path);
        listed = q ? json_object_get_int(json_object_object_get(q, "messages")) : listed;
        json_object_put(q);
    }
    return listed;
}

static void *timed_get_main(void *arg)
{
    ts_timed_get *get = arg;
    double start = souk_monotonic_seconds();
    get->answer = NULL;
    get->status = ts_call_at(get->base ? get->base : getenv("SOUK_TEST_GATEWAY_URL"), "GET",
                             get->path, get->token, NULL, NULL, &get->answer);
    get->seconds = souk_monotonic_seconds() - start;
    return NULL;
}

void ts_get_timed(ts_timed_get *get)
{
    timed_get_main(get);
}

void ts_get_start(ts_timed_get *get)
{
    cr_assert_eq(pthread_create(&get->thread, NULL, timed_get_main, get), 0);
}

void ts_get_join(ts_timed_get *get)
{
    pthread_join(get->thread, NULL);
}

void ts_close_order(const char *order_id, const char *reason)
{
    PGconn *db = th_pg_admin();
    const char *params[2] = {order_id, reason};
    PGresult *res = PQexecParams(db,
                                 "UPDATE orders.orders SET status = 'CANCELLED', cancel_reason = "
                                 "$2, updated_at = now() WHERE id = $1::uuid",
                                 2, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

void ts_open_order(const char *customer_id, int deadline_s, const char *email, char id[37])
{
    souk_uuid_v4(id);
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%d", deadline_s);
    PGconn *db = th_pg_admin();
    const char *params[4] = {id, customer_id, seconds, email};
    PGresult *res = PQexecParams(
        db,
        "INSERT INTO orders.orders (id, customer_id, status, currency, total_minor, "
        "shipping_address, deadline_at, customer_email) VALUES ($1, $2, 'PENDING', 'EUR', 900, "
        "'{}', now() + make_interval(secs => $3::int), $4)",
        4, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
}

void ts_assert_invariants(const char *allowed_dlq)
{
    long open = th_wait_pg_long(
        "SELECT count(*) FROM orders.orders WHERE status NOT IN ('COMPLETED', 'CANCELLED')", NULL,
        0, 30000);
    cr_assert_eq(open, 0, "%ld orders are neither final nor finishing", open);
    /* outboxes drained, so every effect of the final orders has arrived */
    th_wait_pg_long("SELECT (SELECT count(*) FROM cart.outbox WHERE sent_at IS NULL) + "
                    "(SELECT count(*) FROM orders.outbox WHERE sent_at IS NULL) + "
                    "(SELECT count(*) FROM inventory.outbox WHERE sent_at IS NULL) + "
                    "(SELECT count(*) FROM payment.outbox WHERE sent_at IS NULL) + "
                    "(SELECT count(*) FROM shipping.outbox WHERE sent_at IS NULL)",
                    NULL, 0, 10000);
    th_sleep_ms(500);
    cr_assert_eq(
        th_pg_long("SELECT count(*) FROM inventory.stock WHERE on_hand + sold <> received", NULL),
        0, "on_hand + sold differs from the stock received");
    cr_assert_eq(th_wait_pg_long(
                     "SELECT count(*) FROM inventory.stock s WHERE s.reserved <> COALESCE((SELECT "
                     "sum(quantity) FROM inventory.reservations r WHERE r.product_id = "
                     "s.product_id AND r.status = 'RESERVED'), 0)",
                     NULL, 0, 5000),
                 0, "reserved differs from the open reservations");
    long money = th_wait_pg_long(
        "SELECT (SELECT COALESCE(sum(amount_minor) FILTER (WHERE status IN ('CAPTURED', "
        "'REFUNDED')), 0) - COALESCE(sum(refunded_minor), 0) FROM payment.payments) - "
        "(SELECT COALESCE(sum(total_minor), 0) FROM orders.orders WHERE status = 'COMPLETED')",
        NULL, 0, 10000);
    cr_assert_eq(money, 0, "captured - refunded differs from COMPLETED totals by %ld", money);
    json_object *queues = th_mgmt_get("/queues/souk?columns=name,messages");
    cr_assert_not_null(queues);
    for (size_t i = 0; i < json_object_array_length(queues); i++) {
        json_object *q = json_object_array_get_idx(queues, i);
        const char *name = str(q, "name");
        size_t len = strlen(name);
        if (len < 4 || strcmp(name + len - 4, ".dlq") != 0)
            continue;
        char service[64];
        snprintf(service, sizeof service, "%.*s", (int)(len - 4), name);
        if (allowed_dlq && strstr(allowed_dlq, service))
            continue;
        cr_assert_eq(dlq_messages(name, json_object_get_int(json_object_object_get(q, "messages"))),
                     0, "dead letters in %s", name);
    }
    json_object_put(queues);
}

int ts_watch_start(pid_t pid, const char *url, int round)
{
    long status = 0;
    int answers = 0;
    /* About 15 s of attempts: 2 ms apart while nothing listens, back to back after. */
    for (int i = 0; i < 7500 && status != 200; i++) {
        char *body = NULL, *headers = NULL;
        status = th_http_headers("GET", url, NULL, NULL, &body, &headers);
        answers += status != 0;
        cr_assert(status == 0 || status == 200 || status == 503,
                  "start %d: answer %d while starting was %ld: %s", round, answers, status, body);
        if (status == 503)
            cr_assert(strstr(headers, "Retry-After") != NULL, "%s", headers);
        free(body);
        free(headers);
        if (status == 0)
            th_sleep_ms(2);
    }
    cr_assert_eq(status, 200, "start %d: %s never answered", round, url);
    th_signal(pid, SIGKILL);
    th_wait_exit(pid, 5000);
    return answers;
}

void ts_spawn_gateway(const char *const *env, const char *log_name, char base[64])
{
    int port = th_free_port();
    char port_env[64];
    snprintf(port_env, sizeof port_env, "SOUK_GATEWAY_PORT=%d", port);
    const char *all[16];
    int n = 0;
    all[n++] = port_env;
    for (const char *const *e = env; e && *e && n < 15; e++)
        all[n++] = *e;
    all[n] = NULL;
    th_spawn(th_binary("gateway/souk-gateway"), NULL, all, log_name);
    snprintf(base, 64, "http://127.0.0.1:%d", port);
    char url[96];
    snprintf(url, sizeof url, "%s/healthz", base);
    cr_assert(th_wait_http(url, 200, 15000), "the gateway of %s did not start", log_name);
}
