/* The messaging topology of ARCHITECTURE.md as data: one fanout exchange per
 * event type, one durable queue per consuming service bound to the events it
 * consumes, and per queue its retry queues (TTL, dead-lettered back) and its
 * dead-letter queue. Declaring is idempotent, so any start order is safe. */
#ifndef SOUK_EVENTS_TOPOLOGY_H
#define SOUK_EVENTS_TOPOLOGY_H

#include <stddef.h>

#include "core/status.h"
#include "events/amqp.h"

#define SOUK_EVENT_TYPES(X)                                                                        \
    X(CART_CHECKED_OUT, "CartCheckedOut")                                                          \
    X(ORDER_CREATED, "OrderCreated")                                                               \
    X(STOCK_RESERVED, "StockReserved")                                                             \
    X(STOCK_RESERVATION_FAILED, "StockReservationFailed")                                          \
    X(PAYMENT_SUCCEEDED, "PaymentSucceeded")                                                       \
    X(PAYMENT_FAILED, "PaymentFailed")                                                             \
    X(SHIPPING_CREATED, "ShippingCreated")                                                         \
    X(SHIPPING_FAILED, "ShippingFailed")                                                           \
    X(PAYMENT_REFUNDED, "PaymentRefunded")                                                         \
    X(STOCK_RELEASED, "StockReleased")                                                             \
    X(ORDER_COMPLETED, "OrderCompleted")                                                           \
    X(ORDER_CANCELLED, "OrderCancelled")

typedef enum souk_event_type {
#define SOUK_EVENT_ENUM(key, name) SOUK_EVENT_##key,
    SOUK_EVENT_TYPES(SOUK_EVENT_ENUM)
#undef SOUK_EVENT_ENUM
        SOUK_EVENT_COUNT,
    SOUK_EVENT_UNKNOWN = -1
} souk_event_type;

#define SOUK_SERVICES(X)                                                                           \
    X(ORDER, "order")                                                                              \
    X(INVENTORY, "inventory")                                                                      \
    X(PAYMENT, "payment")                                                                          \
    X(SHIPPING, "shipping")                                                                        \
    X(ANALYTICS, "analytics")                                                                      \
    X(NOTIFICATION, "notification")

typedef enum souk_service {
#define SOUK_SERVICE_ENUM(key, name) SOUK_SERVICE_##key,
    SOUK_SERVICES(SOUK_SERVICE_ENUM)
#undef SOUK_SERVICE_ENUM
        SOUK_SERVICE_COUNT,
    SOUK_SERVICE_GATEWAY = SOUK_SERVICE_COUNT, /* publishes, consumes nothing */
    SOUK_SERVICE_UNKNOWN = -1
} souk_service;

const char *souk_event_name(souk_event_type type);
/* SOUK_EVENT_UNKNOWN for a name that is not an event of the saga. */
souk_event_type souk_event_from_name(const char *name, size_t len);

/* "order", ...; "gateway" for SOUK_SERVICE_GATEWAY. */
const char *souk_service_name(souk_service service);
/* Accepts the worker services and "gateway"; SOUK_SERVICE_UNKNOWN otherwise. */
souk_service souk_service_from_name(const char *name);

/* True when service consumes / publishes the event. */
int souk_service_consumes(souk_service service, souk_event_type type);
int souk_service_publishes(souk_service service, souk_event_type type);

/* The saga's compensations (the refund and the release, and what makes
 * them): 1 when service consuming type undoes an earlier step (payment
 * consuming ShippingFailed or OrderCancelled; inventory consuming
 * PaymentFailed, PaymentRefunded or OrderCancelled), or, with publish, when
 * service publishing type announces one (PaymentRefunded, StockReleased).
 * The one place the trace view (gateway/sagatrace.c) marks compensation
 * hops from; the saga list's "compensating" state (sql/orders/
 * 009_gateway_sagas.sql) waits for the same two events. */
int souk_topology_is_compensation(souk_service service, int publish, souk_event_type type);

/* Writes "<service>-service" (the service's queue) into buf. */
void souk_topology_queue_name(souk_service service, char *buf, size_t cap);

/* Writes "<queue>.retry.<delay>ms": retry queues are named by their delay,
 * so changing SOUK_RETRY_DELAYS_MS never conflicts with queues declared
 * earlier with another TTL. */
void souk_topology_retry_queue_name(const char *queue, long delay_ms, char *buf, size_t cap);

/* Broker permissions of a service's user, as regular expressions for
 * rabbitmqctl set_permissions. Returned strings are new; the caller frees. */
void souk_topology_permissions(souk_service service, char **configure, char **write, char **read);

/* Declares the exchanges service publishes to. */
souk_status souk_topology_declare_publisher(souk_amqp *amqp, souk_service service)
    __attribute__((warn_unused_result));

/* Declares the service's queue, bindings, retry queues (one per delay) and
 * dead-letter queue. queue_type is "classic" or "quorum". */
souk_status souk_topology_declare_consumer(souk_amqp *amqp, souk_service service,
                                           const char *queue_type, const long *retry_delays_ms,
                                           int retry_count) __attribute__((warn_unused_result));

/* Connects with cfg's broker user (an administrator: it declares for every
 * service) within timeout_ms and declares every service's exchanges,
 * queues, retry queues and DLQ, as the services themselves would, so that
 * no event published before a consumer's first start is unroutable.
 * Returns the first failure's status. */
souk_status souk_topology_declare_all(const souk_config *cfg, int timeout_ms)
    __attribute__((warn_unused_result));

#endif
