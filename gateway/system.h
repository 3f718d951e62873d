/* The admins' system view, for watching a load test (GET /admin/system):
 * every queue of the vhost with its depth, consumers and message rates,
 * every event's exchange with its publish rates, the choreography's edges
 * (publisher -> exchange -> consuming queue, from the topology table of
 * events/topology.c) with a rate each, each queue and exchange with the
 * URL of its page in the RabbitMQ management UI; and completed checkouts
 * per second with saga p50/p99 over the last minutes, from the orders read
 * model. The broker's figures come from its management API
 * (SOUK_RABBIT_MGMT_URL, read as the gateway's broker user through
 * events/mgmt.h); a broker or database that does not answer is 503. */
#ifndef SOUK_GATEWAY_SYSTEM_H
#define SOUK_GATEWAY_SYSTEM_H

#include <stddef.h>

#include "core/config.h"
#include "gateway/http.h"

/* window's bounds and default, in seconds */
#define SOUK_SYSTEM_WINDOW_MIN     60
#define SOUK_SYSTEM_WINDOW_MAX     3600
#define SOUK_SYSTEM_WINDOW_DEFAULT 300

/* The page of queue in the RabbitMQ management UI (SOUK_RABBIT_UI_URL,
 * else SOUK_RABBIT_MGMT_URL), for links a browser follows. */
void souk_system_queue_page(const souk_config *cfg, const char *queue, char *buf, size_t cap);

void souk_system_view(souk_request *req); /* GET /admin/system[?window=S] */

#endif
