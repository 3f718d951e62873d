/* Publishing with publisher confirms and the mandatory flag. A batch is sent
 * in full before any confirm is awaited, so many confirms are in flight at
 * once. A message the broker nacks or returns as unroutable is reported
 * failed, never silently dropped. The connection is opened lazily and
 * re-opened (with the topology declared again) after a broker loss. Not
 * thread-safe: one publisher per thread. */
#ifndef SOUK_EVENTS_PUBLISHER_H
#define SOUK_EVENTS_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "events/envelope.h"
#include "events/topology.h"

typedef struct souk_publisher souk_publisher;

typedef struct souk_publish_item {
    const char *exchange;    /* "" for the default exchange */
    const char *routing_key; /* queue name for the default exchange, else "" */
    const souk_envelope *env;
} souk_publish_item;

/* Creates an unconnected publisher for service (whose exchanges it declares
 * on connect; SOUK_SERVICE_UNKNOWN declares none, for tools that publish
 * only to exchanges that must already exist). cfg must outlive it. */
souk_publisher *souk_publisher_new(const souk_config *cfg, souk_service service);

void souk_publisher_free(souk_publisher *pub);

/* Publishes count items and waits up to timeout_ms for all confirms.
 * results[i] is SOUK_OK when the broker confirmed item i, SOUK_ENOTFOUND when
 * it was unroutable (returned; or its exchange is missing, which closes the
 * channel and so fails every item not yet confirmed with SOUK_ENOTFOUND;
 * SOUK_EFORBIDDEN likewise when the user may not publish to it),
 * SOUK_EAMQP when nacked, SOUK_ETIMEOUT or
 * SOUK_EAMQP_UNAVAILABLE when its fate is unknown. Returns SOUK_OK when every
 * item is confirmed, else the first failure. */
souk_status souk_publisher_publish(souk_publisher *pub, const souk_publish_item *items,
                                   size_t count, souk_status *results, int timeout_ms)
    __attribute__((warn_unused_result));

/* When the latest souk_publisher_publish sent its items (microseconds since
 * the epoch, the x-souk-published-at they carry); 0 before any. */
int64_t souk_publisher_published_at_us(const souk_publisher *pub);

#endif
