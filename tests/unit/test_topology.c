#include <criterion/criterion.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "events/topology.h"

static int matches(const char *pattern, const char *text)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "%s", pattern);
    int ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

Test(topology, event_names_round_trip)
{
    for (int i = 0; i < SOUK_EVENT_COUNT; i++) {
        const char *name = souk_event_name((souk_event_type)i);
        cr_assert_eq(souk_event_from_name(name, strlen(name)), i);
    }
    cr_assert_eq(souk_event_from_name("OrderCreatedX", 13), SOUK_EVENT_UNKNOWN);
    cr_assert_eq(souk_event_from_name("OrderCreated", 5), SOUK_EVENT_UNKNOWN);
}

Test(topology, subscriptions_follow_the_saga_table)
{
    cr_assert(souk_service_consumes(SOUK_SERVICE_ORDER, SOUK_EVENT_CART_CHECKED_OUT));
    cr_assert(souk_service_consumes(SOUK_SERVICE_INVENTORY, SOUK_EVENT_ORDER_CREATED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_PAYMENT, SOUK_EVENT_STOCK_RESERVED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_INVENTORY, SOUK_EVENT_PAYMENT_FAILED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_ORDER, SOUK_EVENT_PAYMENT_FAILED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_SHIPPING, SOUK_EVENT_PAYMENT_SUCCEEDED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_PAYMENT, SOUK_EVENT_SHIPPING_FAILED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_ORDER, SOUK_EVENT_SHIPPING_CREATED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_INVENTORY, SOUK_EVENT_ORDER_COMPLETED));
    cr_assert(souk_service_consumes(SOUK_SERVICE_NOTIFICATION, SOUK_EVENT_ORDER_CANCELLED));
    cr_assert_not(souk_service_consumes(SOUK_SERVICE_SHIPPING, SOUK_EVENT_ORDER_CREATED));
    cr_assert_not(souk_service_consumes(SOUK_SERVICE_GATEWAY, SOUK_EVENT_ORDER_CREATED));
    for (int i = 0; i < SOUK_EVENT_COUNT; i++)
        cr_assert(souk_service_consumes(SOUK_SERVICE_ANALYTICS, (souk_event_type)i));
}

Test(topology, every_event_has_one_publisher_and_a_consumer)
{
    for (int e = 0; e < SOUK_EVENT_COUNT; e++) {
        int publishers = 0, consumers = 0;
        for (int s = 0; s <= SOUK_SERVICE_COUNT; s++) {
            publishers += souk_service_publishes((souk_service)s, (souk_event_type)e);
            consumers += souk_service_consumes((souk_service)s, (souk_event_type)e);
        }
        cr_assert_eq(publishers, 1, "%s", souk_event_name((souk_event_type)e));
        cr_assert_geq(consumers, 1, "%s", souk_event_name((souk_event_type)e));
    }
}

Test(topology, service_permissions_cover_only_its_own_resources)
{
    char *c, *w, *r;
    souk_topology_permissions(SOUK_SERVICE_INVENTORY, &c, &w, &r);
    cr_assert(matches(c, "inventory-service"));
    cr_assert(matches(c, "inventory-service.retry.2"));
    cr_assert(matches(c, "StockReserved"));
    cr_assert_not(matches(c, "order-service"));
    cr_assert(matches(w, "StockReleased"));
    cr_assert(matches(w, "amq.default"));
    cr_assert_not(matches(w, "PaymentSucceeded"));
    cr_assert_not(matches(w, "OrderCreatedX"));
    cr_assert(matches(r, "OrderCreated"));
    cr_assert_not(matches(r, "payment-service"));
    free(c);
    free(w);
    free(r);
    souk_topology_permissions(SOUK_SERVICE_GATEWAY, &c, &w, &r);
    cr_assert(matches(c, "CartCheckedOut"));
    cr_assert_not(matches(c, "OrderCreated"));
    cr_assert_not(matches(c, "order-service.dlq"));
    cr_assert(matches(w, "CartCheckedOut"));
    /* the dead-letter console replays into any event's exchange, reads only DLQs */
    cr_assert(matches(w, "OrderCreated"));
    cr_assert_not(matches(w, "amq.default"));
    cr_assert_not(matches(w, "order-service"));
    cr_assert(matches(r, "order-service.dlq"));
    cr_assert(matches(r, "notification-service.dlq"));
    cr_assert_not(matches(r, "order-service"));
    cr_assert_not(matches(r, "order-service.retry.200ms"));
    cr_assert_not(matches(r, "order-serviceXdlq"));
    free(c);
    free(w);
    free(r);
}

Test(topology, service_names_round_trip_and_unknown_is_refused)
{
    for (int s = 0; s <= SOUK_SERVICE_COUNT; s++)
        cr_assert_eq(souk_service_from_name(souk_service_name((souk_service)s)), s);
    cr_assert_eq(souk_service_from_name("billing"), SOUK_SERVICE_UNKNOWN);
    char q[64];
    souk_topology_queue_name(SOUK_SERVICE_PAYMENT, q, sizeof q);
    cr_assert_str_eq(q, "payment-service");
}

/* The refund and the release, and the deliveries that cause them, are the
 * compensations; the step they undo and the cancel itself are not. */
Test(topology, compensations_are_the_refund_the_release_and_what_causes_them)
{
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_PAYMENT, 0, SOUK_EVENT_SHIPPING_FAILED));
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_PAYMENT, 0, SOUK_EVENT_ORDER_CANCELLED));
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 0, SOUK_EVENT_PAYMENT_FAILED));
    cr_assert(
        souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 0, SOUK_EVENT_PAYMENT_REFUNDED));
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 0, SOUK_EVENT_ORDER_CANCELLED));
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_PAYMENT, 1, SOUK_EVENT_PAYMENT_REFUNDED));
    cr_assert(souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 1, SOUK_EVENT_STOCK_RELEASED));
    /* hearing of a compensation is not making one */
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_ORDER, 0, SOUK_EVENT_PAYMENT_REFUNDED));
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_ANALYTICS, 0, SOUK_EVENT_SHIPPING_FAILED));
    cr_assert_not(souk_topology_is_compensation(SOUK_SERVICE_ORDER, 0, SOUK_EVENT_STOCK_RELEASED));
    /* the failures themselves and the forward steps */
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_SHIPPING, 1, SOUK_EVENT_SHIPPING_FAILED));
    cr_assert_not(souk_topology_is_compensation(SOUK_SERVICE_ORDER, 1, SOUK_EVENT_ORDER_CANCELLED));
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 0, SOUK_EVENT_ORDER_CREATED));
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_PAYMENT, 1, SOUK_EVENT_PAYMENT_SUCCEEDED));
    /* only what a service really publishes or consumes */
    cr_assert_not(souk_topology_is_compensation(SOUK_SERVICE_ORDER, 1, SOUK_EVENT_STOCK_RELEASED));
    cr_assert_not(
        souk_topology_is_compensation(SOUK_SERVICE_UNKNOWN, 0, SOUK_EVENT_PAYMENT_FAILED));
    cr_assert_not(souk_topology_is_compensation(SOUK_SERVICE_INVENTORY, 0, SOUK_EVENT_UNKNOWN));
}
