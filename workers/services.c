/* The table of worker services and their handlers. Each service's handlers
 * live in workers/<service>.c. */
#include "core/mem.h"
#include "workers/analytics.h"
#include "workers/handler.h"

#define ALL_EVENTS(fn)                                                                             \
    {                                                                                              \
        fn, fn, fn, fn, fn, fn, fn, fn, fn, fn, fn, fn                                             \
    }

static const souk_service_def definitions[SOUK_SERVICE_COUNT] = {
    [SOUK_SERVICE_ORDER] = {.service = SOUK_SERVICE_ORDER, .schema = SOUK_SCHEMA_ORDERS},
    [SOUK_SERVICE_INVENTORY] = {.service = SOUK_SERVICE_INVENTORY, .schema = SOUK_SCHEMA_INVENTORY},
    [SOUK_SERVICE_PAYMENT] = {.service = SOUK_SERVICE_PAYMENT, .schema = SOUK_SCHEMA_PAYMENT},
    [SOUK_SERVICE_SHIPPING] = {.service = SOUK_SERVICE_SHIPPING, .schema = SOUK_SCHEMA_SHIPPING},
    [SOUK_SERVICE_ANALYTICS] = {.service = SOUK_SERVICE_ANALYTICS,
                                .schema = SOUK_SCHEMA_ANALYTICS,
                                .handlers = ALL_EVENTS(souk_analytics_record)},
    [SOUK_SERVICE_NOTIFICATION] = {.service = SOUK_SERVICE_NOTIFICATION,
                                   .schema = SOUK_SCHEMA_NOTIFICATION},
};

const souk_service_def *souk_service_definition(souk_service service)
{
    souk_assert((unsigned)service < SOUK_SERVICE_COUNT);
    return &definitions[service];
}

_Static_assert(SOUK_EVENT_COUNT == 12, "ALL_EVENTS lists one handler per event type");
