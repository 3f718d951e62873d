/* Analytics handlers. */
#include "workers/analytics.h"

#include <stdio.h>

#include "core/db.h"

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
    PGresult *res = PQexecParams(
        ctx->db,
        "INSERT INTO order_events (message_id, order_id, type, producer, occurred_at, payload) "
        "VALUES ($1, $2, $3, $4, COALESCE($7::timestamptz, to_timestamp($5::bigint)), $6::jsonb)",
        7, NULL, params, NULL, NULL, 0);
    souk_status st = souk_db_result_status(ctx->db, res);
    if (st != SOUK_OK)
        snprintf(ctx->error, sizeof ctx->error, "recording event failed: %s",
                 PQresultErrorMessage(res));
    PQclear(res);
    if (st == SOUK_OK)
        return SOUK_HANDLE_OK;
    return souk_db_status_is_transient(st) ? SOUK_HANDLE_RETRY : SOUK_HANDLE_REJECT;
}
