/* The analytics summary through the gateway, fed with synthetic saga events
 * in two far-past windows: once in order, once reversed and duplicated. The
 * two summaries must be the same. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/publisher.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"
#include "tests/support/shop.h"

TH_REQUIRE_STACK(TH_NEEDS_E2E_STACK)

TestSuite(analytics, .timeout = 120);

struct step {
    const char *type;
    const char *producer;
};

static const struct step completed[] = {
    {"CartCheckedOut", "gateway"},   {"OrderCreated", "order"},
    {"StockReserved", "inventory"},  {"PaymentSucceeded", "payment"},
    {"ShippingCreated", "shipping"}, {"OrderCompleted", "order"}};
static const struct step cancelled[] = {{"CartCheckedOut", "gateway"},
                                        {"OrderCreated", "order"},
                                        {"StockReservationFailed", "inventory"},
                                        {"OrderCancelled", "order"}};

static char *sample(const char *type, const char *order)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/schemas/%s/valid/full.json", SOUK_SOURCE_DIR, type);
    json_object *p = json_object_from_file(path);
    cr_assert_not_null(p, "%s", path);
    json_object_object_add(p, "order_id", json_object_new_string(order));
    if (!strcmp(type, "OrderCancelled"))
        json_object_object_add(p, "reason", json_object_new_string("out_of_stock"));
    char *text = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
    json_object_put(p);
    return text;
}

/* Sends the steps of one order to analytics, step i occurring at
 * base + i * 250 ms, in order or reversed, each once or twice. */
static void feed(const char *base_day, const char *order, const struct step *steps, int count,
                 int reversed, int twice)
{
    for (int k = 0; k < count; k++) {
        int i = reversed ? count - 1 - k : k;
        for (int copy = 0; copy <= twice; copy++) {
            souk_envelope env;
            memset(&env, 0, sizeof env);
            souk_uuid_v4(env.message_id); /* a duplicate under a new id, as a replay would */
            snprintf(env.correlation_id, sizeof env.correlation_id, "%s", order);
            snprintf(env.type, sizeof env.type, "%s", steps[i].type);
            snprintf(env.app_id, sizeof env.app_id, "%s", steps[i].producer);
            snprintf(env.occurred_at, sizeof env.occurred_at, "%sT10:00:%02d.%03dZ", base_day,
                     i / 4, (i % 4) * 250);
            env.schema_version = 1;
            char *body = sample(steps[i].type, order);
            env.body = body;
            env.body_len = strlen(body);
            th_publish("", "analytics-service", &env);
            free(body);
        }
    }
}

static json_object *summary(const char *day)
{
    char path[256];
    snprintf(path, sizeof path, "/analytics/summary?from=%sT00:00:00Z&to=%sT23:59:59Z", day, day);
    for (int i = 0; i < 100; i++) {
        json_object *out = NULL;
        cr_assert_eq(ts_call("GET", path, ts_admin(), NULL, &out), 200);
        json_object *dur = json_object_object_get(out, "saga_duration_ms");
        if (json_object_get_int(json_object_object_get(out, "orders")) == 2 &&
            json_object_get_int(json_object_object_get(dur, "count")) == 2 &&
            json_object_object_length(json_object_object_get(out, "step_ms")) == 7) {
            json_object_object_del(out, "window");
            return out;
        }
        json_object_put(out);
        th_sleep_ms(100);
    }
    cr_assert_fail("the summary of %s never showed both orders", day);
    return NULL;
}

Test(analytics, late_and_duplicate_events_do_not_skew_the_summary)
{
    char a[37], b[37], c[37], d[37];
    souk_uuid_v4(a);
    souk_uuid_v4(b);
    souk_uuid_v4(c);
    souk_uuid_v4(d);
    /* distinct far-past days per run would be cleaner; one run per database
     * is what `souk test` gives, and each day holds only this test's orders */
    feed("2001-01-01", a, completed, 6, 0, 0);
    feed("2001-01-01", b, cancelled, 4, 0, 0);
    feed("2002-01-01", c, completed, 6, 1, 1);
    feed("2002-01-01", d, cancelled, 4, 1, 1);

    json_object *in_order = summary("2001-01-01");
    json_object *shuffled = summary("2002-01-01");
    const char *x = json_object_to_json_string_ext(in_order, JSON_C_TO_STRING_PLAIN);
    const char *y = json_object_to_json_string_ext(shuffled, JSON_C_TO_STRING_PLAIN);
    cr_assert_str_eq(x, y);
    json_object *status = json_object_object_get(in_order, "orders_by_status");
    cr_assert_eq(json_object_get_int(json_object_object_get(status, "COMPLETED")), 1);
    cr_assert_eq(json_object_get_int(json_object_object_get(status, "CANCELLED")), 1);
    json_object *reasons = json_object_object_get(in_order, "cancellations_by_reason");
    cr_assert_eq(json_object_get_int(json_object_object_get(reasons, "out_of_stock")), 1);
    json_object *revenue = json_object_object_get(in_order, "revenue_minor_by_currency");
    cr_assert_eq(json_object_get_int64(json_object_object_get(revenue, "EUR")), 900);
    json_object *dur = json_object_object_get(in_order, "saga_duration_ms");
    cr_assert_eq(json_object_get_int(json_object_object_get(dur, "p50")),
                 1000); /* of 750 and 1250 */
    json_object_put(in_order);
    json_object_put(shuffled);
}

Test(analytics, customers_cannot_read_the_summary)
{
    char token[2048];
    ts_customer(token, sizeof token, NULL);
    json_object *out = NULL;
    cr_assert_eq(ts_call("GET", "/analytics/summary", token, NULL, &out), 403);
    json_object_put(out);
}
