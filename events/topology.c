/* Exchanges, queues and bindings of the checkout saga, and their declaration. */
#include "events/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define BIT(e)     (1u << SOUK_EVENT_##e)
#define ALL_EVENTS ((1u << SOUK_EVENT_COUNT) - 1u)

static const char *const event_names[SOUK_EVENT_COUNT] = {
#define SOUK_EVENT_NAME(key, name) name,
    SOUK_EVENT_TYPES(SOUK_EVENT_NAME)
#undef SOUK_EVENT_NAME
};

static const char *const service_names[SOUK_SERVICE_COUNT + 1] = {
#define SOUK_SERVICE_NAME(key, name) name,
    SOUK_SERVICES(SOUK_SERVICE_NAME)
#undef SOUK_SERVICE_NAME
        "gateway",
};

/* The saga table of ARCHITECTURE.md, plus: OrderCancelled also reaches
 * inventory and payment, so that a saga cancelled by its deadline is fully
 * compensated; and the order service hears every step of its orders
 * (StockReserved, PaymentSucceeded, ShippingFailed, StockReleased) to move
 * the status through STOCK_RESERVED and PAID and keep the full timeline. */
static const unsigned consumes[SOUK_SERVICE_COUNT + 1] = {
    [SOUK_SERVICE_ORDER] = BIT(CART_CHECKED_OUT) | BIT(STOCK_RESERVATION_FAILED) |
                           BIT(PAYMENT_FAILED) | BIT(PAYMENT_REFUNDED) | BIT(SHIPPING_CREATED) |
                           BIT(STOCK_RESERVED) | BIT(PAYMENT_SUCCEEDED) | BIT(SHIPPING_FAILED) |
                           BIT(STOCK_RELEASED),
    [SOUK_SERVICE_INVENTORY] = BIT(ORDER_CREATED) | BIT(PAYMENT_FAILED) | BIT(PAYMENT_REFUNDED) |
                               BIT(ORDER_COMPLETED) | BIT(ORDER_CANCELLED),
    [SOUK_SERVICE_PAYMENT] = BIT(STOCK_RESERVED) | BIT(SHIPPING_FAILED) | BIT(ORDER_CANCELLED),
    [SOUK_SERVICE_SHIPPING] = BIT(PAYMENT_SUCCEEDED),
    [SOUK_SERVICE_ANALYTICS] = ALL_EVENTS,
    [SOUK_SERVICE_NOTIFICATION] = BIT(ORDER_COMPLETED) | BIT(ORDER_CANCELLED),
    [SOUK_SERVICE_GATEWAY] = 0,
};

static const unsigned publishes[SOUK_SERVICE_COUNT + 1] = {
    [SOUK_SERVICE_ORDER] = BIT(ORDER_CREATED) | BIT(ORDER_CANCELLED) | BIT(ORDER_COMPLETED),
    [SOUK_SERVICE_INVENTORY] =
        BIT(STOCK_RESERVED) | BIT(STOCK_RESERVATION_FAILED) | BIT(STOCK_RELEASED),
    [SOUK_SERVICE_PAYMENT] = BIT(PAYMENT_SUCCEEDED) | BIT(PAYMENT_FAILED) | BIT(PAYMENT_REFUNDED),
    [SOUK_SERVICE_SHIPPING] = BIT(SHIPPING_CREATED) | BIT(SHIPPING_FAILED),
    [SOUK_SERVICE_ANALYTICS] = 0,
    [SOUK_SERVICE_NOTIFICATION] = 0,
    [SOUK_SERVICE_GATEWAY] = BIT(CART_CHECKED_OUT),
};

/* What undoes a step: the deliveries that make a service compensate, and
 * the events that say it did. */
static const unsigned compensates_on[SOUK_SERVICE_COUNT + 1] = {
    [SOUK_SERVICE_PAYMENT] = BIT(SHIPPING_FAILED) | BIT(ORDER_CANCELLED),
    [SOUK_SERVICE_INVENTORY] = BIT(PAYMENT_FAILED) | BIT(PAYMENT_REFUNDED) | BIT(ORDER_CANCELLED),
};
static const unsigned compensation_events = BIT(PAYMENT_REFUNDED) | BIT(STOCK_RELEASED);

const char *souk_event_name(souk_event_type type)
{
    if ((unsigned)type >= SOUK_EVENT_COUNT)
        return "unknown";
    return event_names[type];
}

souk_event_type souk_event_from_name(const char *name, size_t len)
{
    for (int i = 0; i < SOUK_EVENT_COUNT; i++)
        if (strlen(event_names[i]) == len && memcmp(event_names[i], name, len) == 0)
            return (souk_event_type)i;
    return SOUK_EVENT_UNKNOWN;
}

const char *souk_service_name(souk_service service)
{
    if ((unsigned)service > SOUK_SERVICE_COUNT)
        return "unknown";
    return service_names[service];
}

souk_service souk_service_from_name(const char *name)
{
    for (int i = 0; name && i <= SOUK_SERVICE_COUNT; i++)
        if (strcmp(service_names[i], name) == 0)
            return (souk_service)i;
    return SOUK_SERVICE_UNKNOWN;
}

int souk_service_consumes(souk_service service, souk_event_type type)
{
    if ((unsigned)service > SOUK_SERVICE_COUNT || (unsigned)type >= SOUK_EVENT_COUNT)
        return 0;
    return (consumes[service] >> type) & 1u;
}

int souk_service_publishes(souk_service service, souk_event_type type)
{
    if ((unsigned)service > SOUK_SERVICE_COUNT || (unsigned)type >= SOUK_EVENT_COUNT)
        return 0;
    return (publishes[service] >> type) & 1u;
}

int souk_topology_is_compensation(souk_service service, int publish, souk_event_type type)
{
    if ((unsigned)service > SOUK_SERVICE_COUNT || (unsigned)type >= SOUK_EVENT_COUNT)
        return 0;
    if (publish)
        return souk_service_publishes(service, type) && ((compensation_events >> type) & 1u);
    return souk_service_consumes(service, type) && ((compensates_on[service] >> type) & 1u);
}

void souk_topology_queue_name(souk_service service, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-service", souk_service_name(service));
}

/* "A|B|C" of the events in mask, or "" when none. */
static char *event_alternatives(unsigned mask)
{
    size_t cap = 1;
    for (int i = 0; i < SOUK_EVENT_COUNT; i++)
        cap += strlen(event_names[i]) + 1;
    char *out = souk_calloc(1, cap);
    size_t len = 0;
    for (int i = 0; i < SOUK_EVENT_COUNT; i++) {
        if (!((mask >> i) & 1u))
            continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? "|" : "", event_names[i]);
        len += (size_t)n;
    }
    return out;
}

void souk_topology_permissions(souk_service service, char **configure, char **write, char **read)
{
    char queue[64];
    souk_topology_queue_name(service, queue, sizeof queue);
    char *pub = event_alternatives(publishes[service]);
    char *sub = event_alternatives(consumes[service]);
    const char *pub_sep = pub[0] ? "|" : "";
    const char *sub_sep = sub[0] ? "|" : "";
    if (service == SOUK_SERVICE_GATEWAY) {
        /* It declares and publishes CartCheckedOut. For its admins' dead-
         * letter console (gateway/deadletters.c, on the events/dlq.c of
         * `souk dlq`) it also reads every service's DLQ and replays into
         * the exchange of any event; it reads no other queue. */
        char *every = event_alternatives(ALL_EVENTS);
        char *dlqs = souk_calloc(1, 1);
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
            char *more =
                souk_asprintf("%s%s%s-service\\.dlq", dlqs, s ? "|" : "", service_names[s]);
            free(dlqs);
            dlqs = more;
        }
        *configure = souk_asprintf("^(%s)$", pub);
        *write = souk_asprintf("^(%s)$", every);
        *read = souk_asprintf("^(%s)$", dlqs);
        free(every);
        free(dlqs);
    } else {
        /* Its own queue family (queue, retry queues, dlq), the exchanges it
         * publishes or binds, and the default exchange for retries and DLQ. */
        *configure = souk_asprintf("^(%s(\\..*)?%s%s%s%s)$", queue, pub_sep, pub, sub_sep, sub);
        *write = souk_asprintf("^(amq\\.default|%s(\\..*)?%s%s)$", queue, pub_sep, pub);
        *read = souk_asprintf("^(%s(\\..*)?%s%s)$", queue, sub_sep, sub);
    }
    free(pub);
    free(sub);
}

void souk_topology_retry_queue_name(const char *queue, long delay_ms, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.retry.%ldms", queue, delay_ms);
}

static souk_status declare_exchange(souk_amqp *amqp, souk_event_type type)
{
    amqp_exchange_declare(souk_amqp_state(amqp), SOUK_AMQP_CHANNEL,
                          amqp_cstring_bytes(event_names[type]), amqp_cstring_bytes("fanout"), 0, 1,
                          0, 0, amqp_empty_table);
    return souk_amqp_last_status(amqp);
}

souk_status souk_topology_declare_publisher(souk_amqp *amqp, souk_service service)
{
    for (int i = 0; i < SOUK_EVENT_COUNT; i++) {
        if (!souk_service_publishes(service, (souk_event_type)i))
            continue;
        souk_status st = declare_exchange(amqp, (souk_event_type)i);
        if (st != SOUK_OK)
            return st;
    }
    return SOUK_OK;
}

static souk_status declare_queue(souk_amqp *amqp, const char *name, amqp_table_t args)
{
    amqp_queue_declare(souk_amqp_state(amqp), SOUK_AMQP_CHANNEL, amqp_cstring_bytes(name), 0, 1, 0,
                       0, args);
    return souk_amqp_last_status(amqp);
}

souk_status souk_topology_declare_consumer(souk_amqp *amqp, souk_service service,
                                           const char *queue_type, const long *retry_delays_ms,
                                           int retry_count)
{
    char queue[64];
    char name[96];
    souk_topology_queue_name(service, queue, sizeof queue);

    amqp_table_entry_t main_args[1];
    main_args[0].key = amqp_cstring_bytes("x-queue-type");
    main_args[0].value.kind = AMQP_FIELD_KIND_UTF8;
    main_args[0].value.value.bytes = amqp_cstring_bytes(queue_type);
    souk_status st = declare_queue(amqp, queue, (amqp_table_t){1, main_args});
    if (st != SOUK_OK)
        return st;

    snprintf(name, sizeof name, "%s.dlq", queue);
    st = declare_queue(amqp, name, (amqp_table_t){1, main_args});
    if (st != SOUK_OK)
        return st;

    /* A retried message waits out its TTL in <queue>.retry.<delay>ms, then the
     * broker dead-letters it through the default exchange straight back to
     * this service's queue only, not to the other subscribers. */
    for (int i = 0; i < retry_count; i++) {
        amqp_table_entry_t args[4];
        args[0] = main_args[0];
        args[1].key = amqp_cstring_bytes("x-message-ttl");
        args[1].value.kind = AMQP_FIELD_KIND_I64;
        args[1].value.value.i64 = retry_delays_ms[i];
        args[2].key = amqp_cstring_bytes("x-dead-letter-exchange");
        args[2].value.kind = AMQP_FIELD_KIND_UTF8;
        args[2].value.value.bytes = amqp_cstring_bytes("");
        args[3].key = amqp_cstring_bytes("x-dead-letter-routing-key");
        args[3].value.kind = AMQP_FIELD_KIND_UTF8;
        args[3].value.value.bytes = amqp_cstring_bytes(queue);
        souk_topology_retry_queue_name(queue, retry_delays_ms[i], name, sizeof name);
        st = declare_queue(amqp, name, (amqp_table_t){4, args});
        if (st != SOUK_OK)
            return st;
    }

    for (int i = 0; i < SOUK_EVENT_COUNT; i++) {
        if (!souk_service_consumes(service, (souk_event_type)i))
            continue;
        st = declare_exchange(amqp, (souk_event_type)i);
        if (st != SOUK_OK)
            return st;
        amqp_queue_bind(souk_amqp_state(amqp), SOUK_AMQP_CHANNEL, amqp_cstring_bytes(queue),
                        amqp_cstring_bytes(event_names[i]), amqp_empty_bytes, amqp_empty_table);
        st = souk_amqp_last_status(amqp);
        if (st != SOUK_OK)
            return st;
    }
    return SOUK_OK;
}

souk_status souk_topology_declare_all(const souk_config *cfg, int timeout_ms)
{
    souk_status st;
    souk_amqp *amqp = souk_amqp_open(cfg, timeout_ms, &st);
    long delays[16];
    int n = souk_config_retry_delays(cfg, delays, 16);
    for (int s = 0; amqp && st == SOUK_OK && s <= SOUK_SERVICE_COUNT; s++) {
        st = souk_topology_declare_publisher(amqp, (souk_service)s);
        if (st == SOUK_OK && s < SOUK_SERVICE_COUNT)
            st = souk_topology_declare_consumer(amqp, (souk_service)s,
                                                souk_config_str(cfg, SOUK_CFG_QUEUE_TYPE), delays,
                                                n < 16 ? n : 16);
    }
    souk_amqp_close(amqp);
    return st;
}
