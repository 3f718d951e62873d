/* The probes: /healthz (the process is alive), /readyz (its dependencies
 * answer) and /metrics (Prometheus). Request counts and latencies by route
 * tell an outsider what runs and how loaded it is, so in production only an
 * admin reads /metrics (its route is ADMIN_IN_PRODUCTION). */
#ifndef SOUK_GATEWAY_HEALTH_H
#define SOUK_GATEWAY_HEALTH_H

#include "gateway/http.h"

void souk_health_alive(souk_request *req);   /* GET /healthz */
void souk_health_ready(souk_request *req);   /* GET /readyz */
void souk_health_metrics(souk_request *req); /* GET /metrics */

#endif
