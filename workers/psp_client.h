/* The payment worker's client for the card payment provider (souk-psp or a
 * real one speaking the same API): charges and refunds over HTTP with
 * libcurl, JSON via json-c. One client per consumer thread; it keeps its
 * curl handle so the connection is reused. The client never retries: a
 * transient failure (SOUK_ETIMEOUT, SOUK_EIO) goes back to the worker
 * runtime, which retries later with the same idempotency key, so the
 * provider charges at most once. */
#ifndef SOUK_WORKERS_PSP_CLIENT_H
#define SOUK_WORKERS_PSP_CLIENT_H

#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

/* Time to open a connection, and for a whole request. */
#define SOUK_PSP_CLIENT_CONNECT_TIMEOUT_MS 1000L
#define SOUK_PSP_CLIENT_TIMEOUT_MS         2000L

typedef struct souk_psp_client souk_psp_client;

/* The provider's answer to a charge. decline_reason is "" when approved. */
typedef struct souk_psp_charge {
    char id[64];
    int approved;
    char decline_reason[64];
} souk_psp_charge;

/* Returns a new client for the provider at SOUK_PSP_URL, or NULL when
 * libcurl cannot start. Not thread-safe: use one client per thread. cfg
 * need not outlive the client. Free with souk_psp_client_free. */
souk_psp_client *souk_psp_client_new(const souk_config *cfg) __attribute__((warn_unused_result));

/* Frees the client and closes its connection; accepts NULL. */
void souk_psp_client_free(souk_psp_client *c);

/* Charges amount_minor of currency to the card token, once per
 * idempotency_key (the order id). Returns SOUK_OK when the provider decided:
 * *out holds the charge id and out->approved tells whether it was approved
 * (else out->decline_reason says why). Errors, with the reason in err:
 *   SOUK_ETIMEOUT  no answer within SOUK_PSP_CLIENT_TIMEOUT_MS (transient)
 *   SOUK_EIO       connection failure, 5xx or a malformed answer (transient)
 *   SOUK_EINVAL    bad arguments, or a 4xx (e.g. the key was used for
 *                  another amount): permanent.
 * Retrying a transient error with the same key never charges twice. */
souk_status souk_psp_client_charge(souk_psp_client *c, const char *idempotency_key,
                                   long long amount_minor, const char *currency, const char *token,
                                   souk_psp_charge *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Refunds amount_minor of charge_id, once per idempotency_key, and writes
 * the refund id into refund_id. Same errors as souk_psp_client_charge; an
 * unknown charge, a declined one or a refund beyond what was captured are
 * 4xx, so SOUK_EINVAL. */
souk_status souk_psp_client_refund(souk_psp_client *c, const char *charge_id,
                                   const char *idempotency_key, long long amount_minor,
                                   char refund_id[64], char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
