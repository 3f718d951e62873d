/* GET /notifications, read from the notification service's read model
 * (notification.gateway_notifications). */
#ifndef SOUK_GATEWAY_NOTIFICATIONS_H
#define SOUK_GATEWAY_NOTIFICATIONS_H

#include "gateway/http.h"

/* GET /notifications: the signed-in customer's notifications, newest first. */
void souk_notifications_list(souk_request *req);

#endif
