/* The admins' dead-letter console (gateway/deadletters.c) through the front
 * of the e2e stack, against its real broker and workers. The dead letters
 * are the order service's: one a worker made itself (a message it has no
 * handler for), the others written into order-service.dlq as a worker
 * writes them, each the StockReservationFailed of a PENDING order (made
 * with ts_open_order, no saga behind it) that the order service "failed to
 * handle". Replayed, the order service handles it: the order is cancelled
 * (out_of_stock), which shows that the replay reached it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

#define DLQ "order-service.dlq"
/* within ts_assert_invariants' 30 s wait: a failed test still lets the
 * deadline sweep end the orders for the tests after it */
#define ORDER_DEADLINE_S 25

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

static void setup(void)
{
    th_purge_queue(DLQ);
}

static void teardown(void)
{
    th_purge_queue(DLQ);
    th_kill_all();
}

TestSuite(deadletters, .init = setup, .fini = teardown, .timeout = 120);

/* An open order and the dead letter of its StockReservationFailed. */
struct stuck {
    char token[2048];
    char customer[37];
    char order[37];
    char body[256];
    souk_envelope env;
};

static void stuck_order(struct stuck *s, const char *reason, const char *exchange)
{
    ts_customer(s->token, sizeof s->token, s->customer);
    ts_open_order(s->customer, ORDER_DEADLINE_S, NULL, s->order);
    snprintf(s->body, sizeof s->body,
             "{\"order_id\":\"%s\",\"reason\":\"insufficient stock\",\"unavailable\":[]}",
             s->order);
    s->env = th_envelope(s->order, "StockReservationFailed", s->body);
    snprintf(s->env.app_id, sizeof s->env.app_id, "inventory");
    s->env.attempts = 4;
    snprintf(s->env.error, sizeof s->env.error, "%s", reason);
    snprintf(s->env.first_failure, sizeof s->env.first_failure, "2026-11-22T10:00:00.000Z");
    snprintf(s->env.original_exchange, sizeof s->env.original_exchange, "%s", exchange);
    th_publish("", DLQ, &s->env);
}

static const char *text(json_object *o, const char *key)
{
    return json_object_get_string(json_object_object_get(o, key));
}

static long integer(json_object *o, const char *key)
{
    return (long)json_object_get_int64(json_object_object_get(o, key));
}

static const char *error_code(json_object *body)
{
    const char *code = text(json_object_object_get(body, "error"), "code");
    return code ? code : "";
}

/* GET path as the admin; fails the test unless it answers want. */
static json_object *admin_get(const char *path, long want)
{
    json_object *out = NULL;
    long st = ts_call("GET", path, ts_admin(), NULL, &out);
    cr_assert_eq(st, want, "GET %s answered %ld: %s", path, st,
                 out ? json_object_to_json_string(out) : "");
    return out;
}

/* Takes every message of the DLQ (through the management API, not the
 * gateway) and checks that they are exactly want, in that order, by
 * message id; returns them (caller puts). */
static json_object *take_exactly(const char *const *want, int n)
{
    json_object *taken = th_queue_take(DLQ, 100);
    cr_assert_not_null(taken, "reading " DLQ);
    cr_assert_eq((int)json_object_array_length(taken), n, DLQ " holds %d messages, not %d",
                 (int)json_object_array_length(taken), n);
    for (int i = 0; i < n; i++) {
        json_object *props =
            json_object_object_get(json_object_array_get_idx(taken, (size_t)i), "properties");
        cr_assert_str_eq(json_object_get_string(json_object_object_get(props, "message_id")),
                         want[i], "message %d of " DLQ, i);
    }
    return taken;
}

/* Waits until the admin API sees depth messages in the DLQ (dead letters
 * that workers forward arrive a moment after their delivery). */
static void wait_dlq(long depth)
{
    long seen = -1;
    for (int i = 0; i < 100 && seen != depth; i++) {
        json_object *g = admin_get("/admin/dlq/order", 200);
        seen = integer(g, "depth");
        json_object_put(g);
        if (seen != depth)
            th_sleep_ms(100);
    }
    cr_assert_eq(seen, depth, "the order DLQ holds %ld messages, not %ld", seen, depth);
}

static json_object *group_of(json_object *groups, const char *reason_part)
{
    for (size_t i = 0; i < json_object_array_length(groups); i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        const char *reason = text(g, "reason");
        if (reason && strstr(reason, reason_part))
            return g;
    }
    return NULL;
}

static int group_has(json_object *g, const char *message_id)
{
    json_object *messages = json_object_object_get(g, "messages");
    for (size_t i = 0; i < json_object_array_length(messages); i++)
        if (strcmp(text(json_object_array_get_idx(messages, i), "message_id"), message_id) == 0)
            return 1;
    return 0;
}

static void assert_cancelled_out_of_stock(struct stuck *s)
{
    char status[32], reason[32];
    cr_assert(ts_wait_final(s->token, s->order, 15000, status, reason),
              "order %s never ended after the replay", s->order);
    cr_assert_str_eq(status, "CANCELLED");
    cr_assert_str_eq(reason, "out_of_stock", "order %s ended %s (%s), not by its replayed event",
                     s->order, status, reason);
}

/* Ends an order whose dead letter is left (the deadline sweep cancels it). */
static void end_now(const char *order)
{
    PGconn *db = th_pg_admin();
    const char *params[1] = {order};
    PGresult *res = PQexecParams(db,
                                 "UPDATE orders.orders SET deadline_at = now() - interval '1 s' "
                                 "WHERE id = $1::uuid",
                                 1, NULL, params, NULL, NULL, 0);
    PQclear(res);
    PQfinish(db);
}

Test(deadletters, a_dead_letter_appears_grouped_by_its_reason)
{
    struct stuck a, b;
    stuck_order(&a, "retries exhausted: database timeout", "StockReservationFailed");
    stuck_order(&b, "retries exhausted: database timeout", "StockReservationFailed");
    /* and one the order worker dead-letters itself */
    char stray[37];
    souk_uuid_v4(stray);
    souk_envelope odd = th_envelope(stray, "OrderTeleported", "{}");
    th_publish("", "order-service", &odd);
    wait_dlq(3);

    json_object *g = admin_get("/admin/dlq/order", 200);
    cr_assert_str_eq(text(g, "service"), "order");
    cr_assert_str_eq(text(g, "queue"), DLQ);
    cr_assert_eq(integer(g, "scanned"), 3);
    cr_assert_not(json_object_get_boolean(json_object_object_get(g, "truncated")));
    cr_assert(strstr(text(g, "ui_url"), "/#/queues/souk/order-service.dlq") != NULL, "%s",
              text(g, "ui_url"));
    json_object *groups = json_object_object_get(g, "groups");
    cr_assert_eq(json_object_array_length(groups), 2, "%s", json_object_to_json_string(groups));
    /* the largest group first */
    json_object *timeout = json_object_array_get_idx(groups, 0);
    cr_assert_str_eq(text(timeout, "reason"), "retries exhausted: database timeout");
    cr_assert_eq(integer(timeout, "count"), 2);
    cr_assert_eq(integer(json_object_object_get(timeout, "types"), "StockReservationFailed"), 2);
    cr_assert_str_eq(text(timeout, "first_failure"), "2026-11-22T10:00:00.000Z");
    cr_assert(group_has(timeout, a.env.message_id) && group_has(timeout, b.env.message_id));
    json_object *unknown = group_of(groups, "no handler for event type 'OrderTeleported'");
    cr_assert_not_null(unknown, "%s", json_object_to_json_string(groups));
    cr_assert_eq(integer(unknown, "count"), 1);
    cr_assert(group_has(unknown, odd.message_id));
    json_object_put(g);

    /* the overview counts them */
    json_object *all = admin_get("/admin/dlq", 200);
    json_object *services = json_object_object_get(all, "services");
    int found = 0;
    for (size_t i = 0; i < json_object_array_length(services); i++) {
        json_object *s = json_object_array_get_idx(services, i);
        if (strcmp(text(s, "service"), "order") == 0) {
            cr_assert_eq(integer(s, "depth"), 3);
            found = 1;
        }
    }
    cr_assert(found);
    json_object_put(all);
    /* a reason filters the listing */
    json_object *page = admin_get("/admin/dlq/order/messages?reason=retries%20exhausted%3A%20"
                                  "database%20timeout",
                                  200);
    cr_assert_eq(integer(page, "total"), 2);
    json_object_put(page);
    end_now(a.order);
    end_now(b.order);
}

Test(deadletters, inspecting_leaves_every_message_in_its_place)
{
    struct stuck s[3];
    for (int i = 0; i < 3; i++)
        stuck_order(&s[i], "retries exhausted: database timeout", "StockReservationFailed");
    wait_dlq(3);

    json_object *page = admin_get("/admin/dlq/order/messages?limit=2&offset=1", 200);
    cr_assert_eq(integer(page, "total"), 3);
    cr_assert_eq(integer(page, "depth"), 3);
    json_object *items = json_object_object_get(page, "items");
    cr_assert_eq(json_object_array_length(items), 2);
    for (int i = 0; i < 2; i++) {
        json_object *m = json_object_array_get_idx(items, (size_t)i);
        const struct stuck *want = &s[i + 1];
        cr_assert_str_eq(text(m, "message_id"), want->env.message_id, "item %d", i);
        cr_assert_str_eq(text(m, "order_id"), want->order);
        cr_assert_str_eq(text(m, "type"), "StockReservationFailed");
        cr_assert_str_eq(text(m, "reason"), "retries exhausted: database timeout");
        cr_assert_eq(integer(m, "attempts"), 4);
        cr_assert_str_eq(text(m, "first_failure"), "2026-11-22T10:00:00.000Z");
        cr_assert_str_eq(text(m, "original_exchange"), "StockReservationFailed");
        cr_assert_str_eq(text(m, "app_id"), "inventory");
        json_object *headers = json_object_object_get(m, "headers");
        cr_assert_eq(integer(headers, "x-souk-attempts"), 4);
        cr_assert_str_eq(text(headers, "x-souk-error"), "retries exhausted: database timeout");
        cr_assert_str_eq(text(json_object_object_get(m, "payload"), "order_id"), want->order);
    }
    json_object_put(page);

    char path[256];
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s", s[0].env.message_id);
    json_object *one = admin_get(path, 200);
    cr_assert_str_eq(text(one, "message_id"), s[0].env.message_id);
    cr_assert_str_eq(text(json_object_object_get(one, "payload"), "reason"), "insufficient stock");
    json_object_put(one);
    char missing[37];
    souk_uuid_v4(missing);
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s", missing);
    json_object *none = admin_get(path, 404);
    cr_assert_str_eq(error_code(none), "NOT_FOUND");
    json_object_put(none);
    json_object_put(admin_get("/admin/dlq/order", 200));

    /* still all there, in their order, untouched */
    const char *ids[] = {s[0].env.message_id, s[1].env.message_id, s[2].env.message_id};
    json_object *taken = take_exactly(ids, 3);
    for (int i = 0; i < 3; i++) {
        json_object *m = json_object_array_get_idx(taken, (size_t)i);
        json_object *props = json_object_object_get(m, "properties");
        cr_assert_eq(integer(json_object_object_get(props, "headers"), "x-souk-attempts"), 4);
        cr_assert_eq(
            json_object_object_get(json_object_object_get(props, "headers"), "x-souk-replayed"),
            NULL);
    }
    json_object_put(taken);
    for (int i = 0; i < 3; i++)
        end_now(s[i].order);
}

Test(deadletters, replaying_one_moves_it_back_and_it_is_handled)
{
    struct stuck first, second;
    stuck_order(&first, "retries exhausted: database timeout", "StockReservationFailed");
    stuck_order(&second, "retries exhausted: database timeout", "StockReservationFailed");
    wait_dlq(2);

    char path[256];
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s/replay", second.env.message_id);
    json_object *out = NULL;
    long st = ts_call("POST", path, ts_admin(), NULL, &out);
    cr_assert_eq(st, 200, "%ld: %s", st, out ? json_object_to_json_string(out) : "");
    cr_assert_str_eq(text(out, "message_id"), second.env.message_id);
    cr_assert_eq(integer(out, "replayed"), 1);
    json_object_put(out);
    assert_cancelled_out_of_stock(&second);

    /* the other one stays, alone, where it was */
    json_object *page = admin_get("/admin/dlq/order/messages", 200);
    json_object *items = json_object_object_get(page, "items");
    cr_assert_eq(json_object_array_length(items), 1);
    cr_assert_str_eq(text(json_object_array_get_idx(items, 0), "message_id"), first.env.message_id);
    json_object_put(page);
    char status[32], reason[32];
    json_object *order = NULL;
    snprintf(path, sizeof path, "/orders/%s", first.order);
    cr_assert_eq(ts_call("GET", path, first.token, NULL, &order), 200);
    cr_assert_str_eq(text(order, "status"), "PENDING");
    json_object_put(order);

    /* once replayed it is gone: a second replay of it finds nothing */
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s/replay", second.env.message_id);
    st = ts_call("POST", path, ts_admin(), NULL, &out);
    cr_assert_eq(st, 404);
    cr_assert_str_eq(error_code(out), "NOT_FOUND");
    json_object_put(out);
    end_now(first.order);
    cr_assert(ts_wait_final(first.token, first.order, 15000, status, reason));
}

Test(deadletters, replaying_all_moves_them_back_with_progress_and_they_are_handled)
{
    struct stuck s[3];
    for (int i = 0; i < 3; i++)
        stuck_order(&s[i], "retries exhausted: database timeout", "StockReservationFailed");
    /* and one that cannot be routed: no exchange of that name */
    char stray[37];
    souk_uuid_v4(stray);
    souk_envelope odd = th_envelope(stray, "OrderTeleported", "{}");
    th_publish("", "order-service", &odd);
    wait_dlq(4);

    json_object *job = NULL;
    char *head = NULL, *body = NULL, url[512], auth[2100];
    snprintf(url, sizeof url, "%s/admin/dlq/order/replays", getenv("SOUK_TEST_GATEWAY_URL"));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", ts_admin());
    const char *headers[] = {auth, NULL};
    long st = th_http_headers("POST", url, NULL, headers, &body, &head);
    cr_assert_eq(st, 202, "%ld: %s", st, body ? body : "");
    job = json_tokener_parse(body);
    char location[256];
    snprintf(location, sizeof location, "/admin/dlq/order/replays/%s", text(job, "id"));
    cr_assert(strcasestr(head, location) != NULL, "no Location %s in %s", location, head);
    cr_assert_str_eq(text(job, "url"), location);
    cr_assert_str_eq(text(job, "service"), "order");
    free(head);
    free(body);
    json_object_put(job);

    /* poll it to the end */
    json_object *last = NULL;
    for (int i = 0; i < 100; i++) {
        json_object_put(last);
        last = admin_get(location, 200);
        if (strcmp(text(last, "state"), "running") != 0)
            break;
        th_sleep_ms(100);
    }
    cr_assert_str_eq(text(last, "state"), "done", "%s", json_object_to_json_string(last));
    cr_assert_eq(integer(last, "planned"), 4);
    cr_assert_eq(integer(last, "replayed"), 3);
    cr_assert_eq(integer(last, "unroutable"), 1);
    cr_assert_eq(integer(last, "remaining"), 0);
    cr_assert_not_null(text(last, "finished_at"));
    json_object_put(last);
    for (int i = 0; i < 3; i++)
        assert_cancelled_out_of_stock(&s[i]);

    /* the unroutable one stays, and the overview shows the latest replay */
    json_object *page = admin_get("/admin/dlq/order/messages", 200);
    json_object *items = json_object_object_get(page, "items");
    cr_assert_eq(json_object_array_length(items), 1);
    cr_assert_str_eq(text(json_object_array_get_idx(items, 0), "message_id"), odd.message_id);
    json_object_put(page);
    json_object *all = admin_get("/admin/dlq", 200);
    json_object *services = json_object_object_get(all, "services");
    for (size_t i = 0; i < json_object_array_length(services); i++) {
        json_object *svc = json_object_array_get_idx(services, i);
        if (strcmp(text(svc, "service"), "order") == 0)
            cr_assert_str_eq(text(json_object_object_get(svc, "replay"), "url"), location);
    }
    json_object_put(all);
    const char *ids[] = {odd.message_id};
    json_object_put(take_exactly(ids, 1));
}

/* The gateway's replay is souk dlq's: it publishes, waits for the confirm
 * and only then acks. Killed between the two (the test hook), the message
 * is both delivered and still in the DLQ, never in neither; replayed again,
 * the order service's inbox knows its id. */
Test(deadletters, a_gateway_killed_between_confirm_and_ack_loses_nothing)
{
    struct stuck s;
    stuck_order(&s, "retries exhausted: database timeout", "StockReservationFailed");
    wait_dlq(1);
    const char *env[] = {"SOUK_FAULT_DLQ_KILL_AFTER_PUBLISH=1", NULL};
    char base[64];
    ts_spawn_gateway(env, "t-deadletters-killed", base);
    char url[256], auth[2100];
    snprintf(url, sizeof url, "%s/admin/dlq/order/messages/%s/replay", base, s.env.message_id);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", ts_admin());
    const char *headers[] = {auth, NULL};
    char *body = NULL;
    long st = th_http("POST", url, NULL, headers, &body);
    cr_assert_eq(st, 0, "the gateway answered %ld instead of dying: %s", st, body ? body : "");
    free(body);
    assert_cancelled_out_of_stock(&s); /* the copy was delivered */
    /* and the dead letter is still there */
    json_object *page = admin_get("/admin/dlq/order/messages", 200);
    json_object *items = json_object_object_get(page, "items");
    cr_assert_eq(json_object_array_length(items), 1);
    cr_assert_str_eq(text(json_object_array_get_idx(items, 0), "message_id"), s.env.message_id);
    json_object_put(page);
    /* replayed again, it is a duplicate the order service drops */
    char path[256];
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s/replay", s.env.message_id);
    json_object *out = NULL;
    cr_assert_eq(ts_call("POST", path, ts_admin(), NULL, &out), 200);
    json_object_put(out);
    json_object_put(take_exactly(NULL, 0));
    /* the order's timeline keeps the one StockReservationFailed it handled
     * (a second handling would record another), for as long as it takes
     * the order service to drop the copy */
    snprintf(path, sizeof path, "/orders/%s/events", s.order);
    for (int round = 0; round < 15; round++) {
        cr_assert_eq(ts_call("GET", path, s.token, NULL, &out), 200);
        int handled = 0;
        json_object *events = json_object_object_get(out, "events");
        for (size_t i = 0; i < json_object_array_length(events); i++)
            handled += strcmp(text(json_object_array_get_idx(events, i), "type"),
                              "StockReservationFailed") == 0;
        cr_assert_eq(handled, 1, "%s", json_object_to_json_string(out));
        json_object_put(out);
        th_sleep_ms(200);
    }
}

/* While a replay runs, it holds its queue: another replay, and inspecting,
 * answer 409 with the running job. Unroutable dead letters (no exchange of
 * their type) make a slow replay without side effects: each costs the
 * publisher a channel the broker closed. */
Test(deadletters, a_running_replay_holds_its_queue)
{
    enum { COUNT = 400 };
    char stray[37];
    souk_uuid_v4(stray);
    for (int i = 0; i < COUNT; i++) {
        souk_envelope odd = th_envelope(stray, "OrderTeleported", "{}");
        snprintf(odd.error, sizeof odd.error, "no handler for event type 'OrderTeleported'");
        odd.attempts = 1;
        th_publish("", DLQ, &odd);
    }
    wait_dlq(COUNT);
    json_object *job = NULL;
    cr_assert_eq(ts_call("POST", "/admin/dlq/order/replays", ts_admin(), NULL, &job), 202);
    char location[256];
    snprintf(location, sizeof location, "%s", text(job, "url"));
    json_object *again = NULL;
    cr_assert_eq(ts_call("POST", "/admin/dlq/order/replays", ts_admin(), NULL, &again), 409);
    cr_assert_str_eq(error_code(again), "REPLAY_RUNNING");
    json_object *running = json_object_object_get(
        json_object_object_get(json_object_object_get(again, "error"), "details"), "replay");
    cr_assert_str_eq(text(running, "id"), text(job, "id"));
    cr_assert_str_eq(text(running, "state"), "running");
    json_object_put(again);
    json_object *busy = admin_get("/admin/dlq/order", 409);
    cr_assert_str_eq(error_code(busy), "REPLAY_RUNNING");
    json_object_put(busy);
    json_object_put(job);

    json_object *last = NULL;
    for (int i = 0; i < 300; i++) {
        json_object_put(last);
        last = admin_get(location, 200);
        if (strcmp(text(last, "state"), "running") != 0)
            break;
        th_sleep_ms(100);
    }
    cr_assert_str_eq(text(last, "state"), "done", "%s", json_object_to_json_string(last));
    cr_assert_eq(integer(last, "planned"), COUNT);
    cr_assert_eq(integer(last, "unroutable"), COUNT);
    cr_assert_eq(integer(last, "replayed"), 0);
    json_object_put(last);
    /* every one stays, and the queue is free again */
    json_object *g = admin_get("/admin/dlq/order", 200);
    cr_assert_eq(integer(g, "depth"), COUNT);
    json_object_put(g);
}

Test(deadletters, a_replay_of_an_unroutable_message_leaves_it_in_place)
{
    char stray[37];
    souk_uuid_v4(stray);
    souk_envelope odd = th_envelope(stray, "OrderTeleported", "{}");
    th_publish("", "order-service", &odd);
    wait_dlq(1);
    char path[256];
    snprintf(path, sizeof path, "/admin/dlq/order/messages/%s/replay", odd.message_id);
    json_object *out = NULL;
    cr_assert_eq(ts_call("POST", path, ts_admin(), NULL, &out), 409);
    cr_assert_str_eq(error_code(out), "UNROUTABLE");
    json_object_put(out);
    const char *ids[] = {odd.message_id};
    json_object_put(take_exactly(ids, 1));
}

Test(deadletters, purging_empties_the_queue)
{
    struct stuck a, b;
    stuck_order(&a, "retries exhausted: database timeout", "StockReservationFailed");
    stuck_order(&b, "payload does not match its schema", "StockReservationFailed");
    wait_dlq(2);
    json_object *out = NULL;
    cr_assert_eq(ts_call("DELETE", "/admin/dlq/order/messages", ts_admin(), NULL, &out), 200);
    cr_assert_eq(integer(out, "purged"), 2);
    json_object_put(out);
    json_object *g = admin_get("/admin/dlq/order", 200);
    cr_assert_eq(integer(g, "depth"), 0);
    cr_assert_eq(json_object_array_length(json_object_object_get(g, "groups")), 0);
    json_object_put(g);
    json_object_put(take_exactly(NULL, 0));
    end_now(a.order);
    end_now(b.order);
}

Test(deadletters, an_unknown_service_is_404_and_bad_paging_400)
{
    json_object *out = admin_get("/admin/dlq/gateway", 404);
    cr_assert_str_eq(error_code(out), "NOT_FOUND");
    json_object_put(out);
    out = admin_get("/admin/dlq/billing/messages", 404);
    json_object_put(out);
    out = admin_get("/admin/dlq/order/messages?offset=1000", 400);
    cr_assert_str_eq(error_code(out), "VALIDATION_FAILED");
    json_object_put(out);
    out = admin_get("/admin/system?window=5", 400);
    cr_assert_str_eq(error_code(out), "VALIDATION_FAILED");
    json_object_put(out);
}

/* Every admin endpoint of the console, and how to ask it. */
static const struct {
    const char *method;
    const char *path;
} console[] = {
    {"GET", "/admin/dlq"},
    {"GET", "/admin/dlq/order"},
    {"GET", "/admin/dlq/order/messages"},
    {"GET", "/admin/dlq/order/messages/%s"},
    {"POST", "/admin/dlq/order/messages/%s/replay"},
    {"POST", "/admin/dlq/order/replays"},
    {"GET", "/admin/dlq/order/replays/%s"},
    {"DELETE", "/admin/dlq/order/messages"},
    {"GET", "/admin/system"},
};

Test(deadletters, a_customer_is_refused_and_nothing_happens)
{
    struct stuck s;
    stuck_order(&s, "retries exhausted: database timeout", "StockReservationFailed");
    wait_dlq(1);
    char customer[2048];
    ts_customer(customer, sizeof customer, NULL);
    for (size_t i = 0; i < sizeof console / sizeof console[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, console[i].path, s.env.message_id);
        json_object *out = NULL;
        long st = ts_call(console[i].method, path, customer, NULL, &out);
        cr_assert_eq(st, 403, "%s %s answered %ld to a customer", console[i].method, path, st);
        cr_assert_str_eq(error_code(out), "FORBIDDEN");
        json_object_put(out);
        st = ts_call(console[i].method, path, NULL, NULL, &out);
        cr_assert_eq(st, 401, "%s %s answered %ld without a token", console[i].method, path, st);
        json_object_put(out);
    }
    /* neither replayed nor purged */
    const char *ids[] = {s.env.message_id};
    json_object_put(take_exactly(ids, 1));
    end_now(s.order);
}

/* A gateway of its own whose broker does not answer: nothing listens on
 * its AMQP and management ports. Returns its base URL (static). */
static const char *gateway_without_broker(void)
{
    static char base[64];
    char amqp_env[128], mgmt_env[128];
    snprintf(amqp_env, sizeof amqp_env, "SOUK_AMQP_URL=amqp://127.0.0.1:%d/souk", th_free_port());
    snprintf(mgmt_env, sizeof mgmt_env, "SOUK_RABBIT_MGMT_URL=http://127.0.0.1:%d", th_free_port());
    const char *env[] = {amqp_env, mgmt_env, NULL};
    ts_spawn_gateway(env, "t-deadletters-nobroker", base);
    return base;
}

Test(deadletters, a_broker_that_does_not_answer_is_503_everywhere)
{
    const char *base = gateway_without_broker();
    char id[37];
    souk_uuid_v4(id);
    for (size_t i = 0; i < sizeof console / sizeof console[0]; i++) {
        char path[256], url[320];
        snprintf(path, sizeof path, console[i].path, id);
        snprintf(url, sizeof url, "%s%s", base, path);
        char auth[2100];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", ts_admin());
        const char *headers[] = {auth, NULL};
        char *body = NULL, *head = NULL;
        long st = th_http_headers(console[i].method, url, NULL, headers, &body, &head);
        if (strstr(path, "/replays/")) {
            /* a replay this gateway never ran: it asks no broker */
            cr_assert_eq(st, 404, "%s %s: %ld %s", console[i].method, path, st, body);
        } else {
            cr_assert_eq(st, 503, "%s %s answered %ld: %s", console[i].method, path, st,
                         body ? body : "");
            json_object *out = json_tokener_parse(body);
            cr_assert_str_eq(error_code(out), "UNAVAILABLE", "%s %s", console[i].method, path);
            cr_assert(strcasestr(head, "Retry-After:") != NULL, "%s", head);
            json_object_put(out);
        }
        free(body);
        free(head);
        /* once more as the harness records it, for the OpenAPI check of answers */
        json_object *out = NULL;
        cr_assert_eq(ts_call_at(base, console[i].method, path, ts_admin(), NULL, NULL, &out), st);
        json_object_put(out);
    }
}
