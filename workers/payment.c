/* The payment service: charges each order whose stock is reserved through
 * the provider (idempotency key = order id, so a retry never charges
 * twice), refunds on ShippingFailed and on a cancellation after capture.
 * Provider timeouts and 5xx are RETRY; a decline is PaymentFailed. */
#include "workers/payment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "workers/psp_client.h"
#include "workers/saga.h"

void *souk_payment_thread_init(const souk_config *cfg)
{
    return souk_psp_client_new(cfg);
}

void souk_payment_thread_free(void *state)
{
    souk_psp_client_free(state);
}

static int order_closed(souk_handler_ctx *ctx, int *is_closed)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res =
        souk_saga_exec(ctx,
                       "SELECT EXISTS (SELECT 1 FROM closed_orders WHERE order_id = $1::uuid) OR "
                       "EXISTS (SELECT 1 FROM payments WHERE order_id = $1::uuid)",
                       1, params);
    if (!res)
        return -1;
    *is_closed = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

static souk_handler_result provider_failure(souk_handler_ctx *ctx, souk_status st, const char *what,
                                            const char *err)
{
    snprintf(ctx->error, sizeof ctx->error, "provider %s: %s (%s)", what, souk_strerror(st), err);
    return st == SOUK_ETIMEOUT || st == SOUK_EIO ? SOUK_HANDLE_RETRY : SOUK_HANDLE_REJECT;
}

static souk_handler_result on_stock_reserved(souk_handler_ctx *ctx)
{
    int is_closed = 0;
    if (order_closed(ctx, &is_closed) != 0)
        return souk_saga_db_failure(ctx);
    if (is_closed)
        return SOUK_HANDLE_OK; /* cancelled already, or charged under another message id */
    souk_psp_client *psp = ctx->service_state;
    if (!psp) {
        snprintf(ctx->error, sizeof ctx->error, "no provider client");
        return SOUK_HANDLE_RETRY;
    }
    json_object *p = ctx->payload;
    long long amount = souk_saga_int(p, "total_minor");
    const char *currency = souk_saga_str(p, "currency");
    souk_psp_charge charge;
    char err[256] = "";
    souk_status st =
        souk_psp_client_charge(psp, ctx->msg->correlation_id, amount, currency,
                               souk_saga_str(p, "payment_token"), &charge, err, sizeof err);
    if (st != SOUK_OK)
        return provider_failure(ctx, st, "charge", err);
    char id[37], amount_s[32];
    souk_uuid_v4(id);
    snprintf(amount_s, sizeof amount_s, "%lld", amount);
    const char *params[6] = {id,
                             ctx->msg->correlation_id,
                             amount_s,
                             currency,
                             charge.approved ? "CAPTURED" : "DECLINED",
                             charge.id};
    const char *reason = charge.decline_reason[0] ? charge.decline_reason : "declined";
    const char *params_reason[7] = {params[0],
                                    params[1],
                                    params[2],
                                    params[3],
                                    params[4],
                                    params[5],
                                    charge.approved ? NULL : reason};
    PGresult *res = souk_saga_exec(ctx,
                                   "INSERT INTO payments (id, order_id, amount_minor, currency, "
                                   "status, provider_ref, decline_reason) VALUES ($1, $2, "
                                   "$3::bigint, $4, $5, $6, $7)",
                                   7, params_reason);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    json_object *out = json_object_new_object();
    json_object_object_add(out, "order_id", json_object_new_string(ctx->msg->correlation_id));
    json_object_object_add(out, "amount_minor", json_object_new_int64(amount));
    json_object_object_add(out, "currency", json_object_new_string(currency));
    if (!charge.approved) {
        json_object_object_add(out, "reason", json_object_new_string(reason));
        SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                     "payment declined reason=%s", reason);
        return souk_saga_emit(ctx, SOUK_EVENT_PAYMENT_FAILED, out, NULL);
    }
    json_object_object_add(out, "customer_id",
                           json_object_get(json_object_object_get(p, "customer_id")));
    json_object_object_add(out, "payment_id", json_object_new_string(id));
    json_object_object_add(out, "provider_ref", json_object_new_string(charge.id));
    json_object_object_add(out, "lines", json_object_get(json_object_object_get(p, "lines")));
    json_object_object_add(out, "shipping_address",
                           json_object_get(json_object_object_get(p, "shipping_address")));
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "payment captured amount_minor=%lld provider_ref=%s", amount, charge.id);
    return souk_saga_emit(ctx, SOUK_EVENT_PAYMENT_SUCCEEDED, out, NULL);
}

/* Refunds the order's captured payment, if any, and emits PaymentRefunded. */
static souk_handler_result refund(souk_handler_ctx *ctx, const char *reason)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(ctx,
                                   "SELECT id, amount_minor, currency, provider_ref FROM payments "
                                   "WHERE order_id = $1::uuid AND status = 'CAPTURED' FOR UPDATE",
                                   1, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return SOUK_HANDLE_OK; /* nothing captured, or refunded already */
    }
    char payment_id[37], currency[4], provider_ref[64];
    snprintf(payment_id, sizeof payment_id, "%s", PQgetvalue(res, 0, 0));
    long long amount = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    snprintf(currency, sizeof currency, "%s", PQgetvalue(res, 0, 2));
    snprintf(provider_ref, sizeof provider_ref, "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    souk_psp_client *psp = ctx->service_state;
    if (!psp) {
        snprintf(ctx->error, sizeof ctx->error, "no provider client");
        return SOUK_HANDLE_RETRY;
    }
    char key[80], refund_id[64], err[256] = "";
    snprintf(key, sizeof key, "refund:%s", ctx->msg->correlation_id);
    souk_status st =
        souk_psp_client_refund(psp, provider_ref, key, amount, refund_id, err, sizeof err);
    if (st != SOUK_OK)
        return provider_failure(ctx, st, "refund", err);
    const char *up[1] = {payment_id};
    res = souk_saga_exec(ctx,
                         "UPDATE payments SET status = 'REFUNDED', refunded_minor = amount_minor, "
                         "updated_at = now() WHERE id = $1::uuid",
                         1, up);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    json_object *out = json_object_new_object();
    json_object_object_add(out, "order_id", json_object_new_string(ctx->msg->correlation_id));
    json_object_object_add(out, "payment_id", json_object_new_string(payment_id));
    json_object_object_add(out, "amount_minor", json_object_new_int64(amount));
    json_object_object_add(out, "currency", json_object_new_string(currency));
    json_object_object_add(out, "reason", json_object_new_string(reason));
    SOUK_LOG_MSG(SOUK_LOG_INFO, ctx->msg->correlation_id, ctx->msg->message_id,
                 "payment refunded amount_minor=%lld reason=\"%s\"", amount, reason);
    return souk_saga_emit(ctx, SOUK_EVENT_PAYMENT_REFUNDED, out, NULL);
}

static souk_handler_result on_shipping_failed(souk_handler_ctx *ctx)
{
    char reason[300];
    snprintf(reason, sizeof reason, "shipping failed: %s", souk_saga_str(ctx->payload, "reason"));
    return refund(ctx, reason);
}

static souk_handler_result on_order_cancelled(souk_handler_ctx *ctx)
{
    const char *params[1] = {ctx->msg->correlation_id};
    PGresult *res = souk_saga_exec(
        ctx, "INSERT INTO closed_orders (order_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING", 1,
        params);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    char reason[300];
    snprintf(reason, sizeof reason, "order cancelled: %s", souk_saga_str(ctx->payload, "reason"));
    return refund(ctx, reason);
}

void souk_payment_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT])
{
    handlers[SOUK_EVENT_STOCK_RESERVED] = on_stock_reserved;
    handlers[SOUK_EVENT_SHIPPING_FAILED] = on_shipping_failed;
    handlers[SOUK_EVENT_ORDER_CANCELLED] = on_order_cancelled;
}
