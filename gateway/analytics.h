/* GET /analytics/summary (admins): how the shop and the saga are doing,
 * computed from the analytics service's read model of every saga event;
 * and GET /notifications, read from the notification service's. */
#ifndef SOUK_GATEWAY_ANALYTICS_H
#define SOUK_GATEWAY_ANALYTICS_H

#include "gateway/http.h"

void souk_analytics_summary(souk_request *req);

/* GET /notifications: the signed-in customer's notifications, newest first. */
void souk_notifications_list(souk_request *req);

#endif
