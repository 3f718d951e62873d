/* The table of worker services and their handlers. Each service's handlers
 * live in workers/<service>.c. */
#include <pthread.h>

#include "core/mem.h"
#include "workers/analytics.h"
#include "workers/handler.h"
#include "workers/inventory.h"
#include "workers/notification.h"
#include "workers/order.h"
#include "workers/payment.h"
#include "workers/shipping.h"

static souk_service_def definitions[SOUK_SERVICE_COUNT] = {
    [SOUK_SERVICE_ORDER] = {.service = SOUK_SERVICE_ORDER, .schema = SOUK_SCHEMA_ORDERS},
    [SOUK_SERVICE_INVENTORY] = {.service = SOUK_SERVICE_INVENTORY,
                                .schema = SOUK_SCHEMA_INVENTORY,
                                .batch_lock = souk_inventory_batch_lock},
    [SOUK_SERVICE_PAYMENT] = {.service = SOUK_SERVICE_PAYMENT,
                              .schema = SOUK_SCHEMA_PAYMENT,
                              .thread_init = souk_payment_thread_init,
                              .thread_free = souk_payment_thread_free},
    [SOUK_SERVICE_SHIPPING] = {.service = SOUK_SERVICE_SHIPPING, .schema = SOUK_SCHEMA_SHIPPING},
    [SOUK_SERVICE_ANALYTICS] = {.service = SOUK_SERVICE_ANALYTICS, .schema = SOUK_SCHEMA_ANALYTICS},
    [SOUK_SERVICE_NOTIFICATION] = {.service = SOUK_SERVICE_NOTIFICATION,
                                   .schema = SOUK_SCHEMA_NOTIFICATION,
                                   .thread_init = souk_notification_thread_init,
                                   .thread_free = souk_notification_thread_free},
};

static pthread_once_t filled = PTHREAD_ONCE_INIT;

static void fill_handlers(void)
{
    souk_order_handlers(definitions[SOUK_SERVICE_ORDER].handlers);
    souk_inventory_handlers(definitions[SOUK_SERVICE_INVENTORY].handlers);
    souk_payment_handlers(definitions[SOUK_SERVICE_PAYMENT].handlers);
    souk_shipping_handlers(definitions[SOUK_SERVICE_SHIPPING].handlers);
    souk_notification_handlers(definitions[SOUK_SERVICE_NOTIFICATION].handlers);
    for (int e = 0; e < SOUK_EVENT_COUNT; e++)
        definitions[SOUK_SERVICE_ANALYTICS].handlers[e] = souk_analytics_record;
}

const souk_service_def *souk_service_definition(souk_service service)
{
    souk_assert((unsigned)service < SOUK_SERVICE_COUNT);
    pthread_once(&filled, fill_handlers);
    return &definitions[service];
}
