/* Analytics handlers. */
#include "workers/analytics.h"

#include <stdio.h>

#include "core/db.h"
#include "workers/saga.h"

souk_handler_result souk_analytics_record(souk_handler_ctx *ctx)
{
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%lld", (long long)ctx->msg->timestamp);
    /* occurred_at has milliseconds; timestamp (seconds) is the fallback */
    const char *params[7] = {ctx->msg->message_id,
                             ctx->msg->correlation_id,
                             ctx->msg->type,
                             ctx->msg->app_id[0] ? ctx->msg->app_id : "unknown",
                             seconds,
                             ctx->msg->body,
                             ctx->msg->occurred_at[0] ? ctx->msg->occurred_at : NULL};
    PGresult *res = souk_saga_exec(
        ctx,
        "INSERT INTO order_events (message_id, order_id, type, producer, occurred_at, payload) "
        "VALUES ($1, $2, $3, $4, COALESCE($7::timestamptz, to_timestamp($5::bigint)), $6::jsonb)",
        7, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    return SOUK_HANDLE_OK;
}
