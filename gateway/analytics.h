/* GET /analytics/summary (admins): how the shop and the saga are doing,
 * computed from the analytics service's read model of every saga event. */
#ifndef SOUK_GATEWAY_ANALYTICS_H
#define SOUK_GATEWAY_ANALYTICS_H

#include "gateway/http.h"

void souk_analytics_summary(souk_request *req);

#endif
