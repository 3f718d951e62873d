/* The shipping service: creates a shipment with a carrier and a tracking
 * number for each paid order, or ShippingFailed when the destination country
 * is one it does not serve (SOUK_SHIPPING_UNSERVED_COUNTRIES), which starts
 * the refund chain. */
#include "workers/shipping.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "workers/saga.h"

static int served(const souk_config *cfg, const char *country)
{
    const char *list = souk_config_str(cfg, SOUK_CFG_SHIPPING_UNSERVED_COUNTRIES);
    size_t len = strlen(country);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, country, n) == 0)
            return 0;
        p += n;
        if (*p == ',')
            p++;
    }
    return 1;
}

static souk_handler_result on_payment_succeeded(souk_handler_ctx *ctx)
{
    json_object *address = json_object_object_get(ctx->payload, "shipping_address");
    const char *country = souk_saga_str(address, "country");
    if (!served(ctx->cfg, country)) {
        json_object *p = json_object_new_object();
        char reason[96];
        snprintf(reason, sizeof reason, "destination country %s is not served", country);
        json_object_object_add(p, "order_id", json_object_new_string(ctx->msg->correlation_id));
        json_object_object_add(p, "reason", json_object_new_string(reason));
        SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                     "shipping failed: %s", reason);
        return souk_saga_emit(ctx, SOUK_EVENT_SHIPPING_FAILED, p, NULL);
    }
    char id[37];
    souk_uuid_v4(id);
    /* Tracking numbers in the carrier's shape: 2 letters, 9 digits, country. */
    char tracking[32];
    unsigned long long digits = 0;
    for (const char *c = id; *c; c++)
        digits = digits * 31 + (unsigned char)*c;
    snprintf(tracking, sizeof tracking, "SP%09llu%s", digits % 1000000000ULL, country);
    const char *params[4] = {id, ctx->msg->correlation_id, tracking, country};
    PGresult *res = souk_saga_exec(ctx,
                                   "INSERT INTO shipments (id, order_id, carrier, tracking_number, "
                                   "country) VALUES ($1, $2, 'SoukPost', $3, $4) "
                                   "ON CONFLICT (order_id) DO NOTHING",
                                   4, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    int created = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!created)
        return SOUK_HANDLE_OK;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "order_id", json_object_new_string(ctx->msg->correlation_id));
    json_object_object_add(p, "shipment_id", json_object_new_string(id));
    json_object_object_add(p, "carrier", json_object_new_string("SoukPost"));
    json_object_object_add(p, "tracking_number", json_object_new_string(tracking));
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "shipment created tracking=%s", tracking);
    return souk_saga_emit(ctx, SOUK_EVENT_SHIPPING_CREATED, p, NULL);
}

void souk_shipping_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT])
{
    handlers[SOUK_EVENT_PAYMENT_SUCCEEDED] = on_payment_succeeded;
}
