/* GET /notifications: the signed-in customer's notifications, newest
 * first, read from the notification service's read model. */
#include "gateway/notifications.h"

#include <stdio.h>

#include "core/db.h"

void souk_notifications_list(souk_request *req)
{
    long limit, offset;
    if (souk_http_page(req, &limit, &offset))
        return;
    PGconn *db = souk_http_db(req, req->gw->notification_read, "notification database");
    if (!db)
        return;
    souk_status st;
    char limit_s[16], offset_s[16];
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    snprintf(offset_s, sizeof offset_s, "%ld", offset);
    const char *params[3] = {req->claims.sub, limit_s, offset_s};
    PGresult *res =
        PQexecParams(db,
                     "SELECT id, order_id, kind, subject, body, channel, "
                     "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
                     "delivered_at IS NOT NULL FROM notification.gateway_notifications WHERE "
                     "customer_id = $1::uuid "
                     "ORDER BY created_at DESC, id LIMIT $2::int OFFSET $3::int",
                     3, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "listing notifications", st);
    } else {
        json_object *body = json_object_new_object();
        json_object *items = json_object_new_array();
        static const char *const names[] = {"id",   "order_id", "kind",      "subject",
                                            "body", "channel",  "created_at"};
        for (int i = 0; i < PQntuples(res); i++) {
            json_object *n = json_object_new_object();
            for (int k = 0; k < 7; k++)
                json_object_object_add(
                    n, names[k],
                    PQgetisnull(res, i, k) ? NULL : json_object_new_string(PQgetvalue(res, i, k)));
            json_object_object_add(n, "delivered",
                                   json_object_new_boolean(PQgetvalue(res, i, 7)[0] == 't'));
            json_object_array_add(items, n);
        }
        json_object_object_add(body, "items", items);
        souk_http_respond(req, 200, body);
        json_object_put(body);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->notification_read, db);
}
