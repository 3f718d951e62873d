/* /healthz (the process is alive) and /readyz (its dependencies answer). */
#ifndef SOUK_GATEWAY_HEALTH_H
#define SOUK_GATEWAY_HEALTH_H

#include "gateway/http.h"

void souk_health_alive(souk_request *req); /* GET /healthz */
void souk_health_ready(souk_request *req); /* GET /readyz */

#endif
