/* Saga handler helpers. */
#include "workers/saga.h"

#include <stdio.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "events/outbox.h"

const char *souk_saga_str(json_object *obj, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

long long souk_saga_int(json_object *obj, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, name, &v))
        return 0;
    return (long long)json_object_get_int64(v);
}

json_object *souk_saga_order_fields(json_object *payload)
{
    static const char *const fields[] = {"order_id",     "customer_id", "lines",
                                         "currency",     "total_minor", "shipping_address",
                                         "payment_token"};
    json_object *out = json_object_new_object();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        json_object_object_add(out, fields[i],
                               json_object_get(json_object_object_get(payload, fields[i])));
    return out;
}

souk_handler_result souk_saga_emit(souk_handler_ctx *ctx, souk_event_type type,
                                   json_object *payload, char message_id[37])
{
    char id[37];
    souk_outbox_event ev = {.type = type,
                            .correlation_id = ctx->msg->correlation_id,
                            .causation_id = ctx->msg->message_id,
                            .request_id = ctx->msg->request_id,
                            .payload = payload};
    souk_status st = souk_tx_emit(ctx->tx, &ev, id);
    json_object_put(payload);
    if (st != SOUK_OK) {
        snprintf(ctx->error, sizeof ctx->error, "%s", souk_tx_error(ctx->tx));
        return st == SOUK_ESCHEMA ? SOUK_HANDLE_REJECT : souk_saga_db_failure(ctx);
    }
    if (message_id)
        memcpy(message_id, id, 37);
    SOUK_LOG_MSG(SOUK_LOG_DEBUG, ctx->msg->correlation_id, id, "emitting %s caused_by=%s",
                 souk_event_name(type), ctx->msg->message_id);
    return SOUK_HANDLE_OK;
}

PGresult *souk_saga_exec(souk_handler_ctx *ctx, const char *sql, int count,
                         const char *const *params)
{
    /* the same few statements over and over on the thread's connection */
    PGresult *res = souk_tx_exec(ctx->tx, sql, count, params);
    if (!res)
        snprintf(ctx->error, sizeof ctx->error, "%s", souk_tx_error(ctx->tx));
    return res;
}

souk_handler_result souk_saga_db_failure(souk_handler_ctx *ctx)
{
    if (PQstatus(souk_tx_db(ctx->tx)) != CONNECTION_OK ||
        souk_db_status_is_transient(souk_tx_status(ctx->tx)))
        return SOUK_HANDLE_RETRY;
    return SOUK_HANDLE_REJECT;
}
