/* Helpers shared by the saga handlers: reading payload fields, emitting an
 * event through the service's outbox (correlated by order id, caused by the
 * message in hand), and turning database statuses into handler results. */
#ifndef SOUK_WORKERS_SAGA_H
#define SOUK_WORKERS_SAGA_H

#include "workers/handler.h"

/* A string field of the payload, or "" when absent. */
const char *souk_saga_str(json_object *obj, const char *name);

/* An integer field of the payload, or 0. */
long long souk_saga_int(json_object *obj, const char *name);

/* A new object with the order fields every step of the checkout passes on
 * (order_id, customer_id, lines, currency, total_minor, shipping_address,
 * payment_token), shared from payload. */
json_object *souk_saga_order_fields(json_object *payload);

/* Adds an event of type to the outbox in the handler's transaction; the
 * payload is consumed. message_id (may be NULL) receives its id. Returns
 * SOUK_HANDLE_OK, or a failure with ctx->error set. */
souk_handler_result souk_saga_emit(souk_handler_ctx *ctx, souk_event_type type,
                                   json_object *payload, char message_id[37]);

/* Runs a parameterised statement, prepared once per connection
 * (souk_db_exec_prepared: sql must be a string literal); on failure sets
 * ctx->error and returns NULL. The caller clears the result. */
PGresult *souk_saga_exec(souk_handler_ctx *ctx, const char *sql, int count,
                         const char *const *params);

/* The handler result for a failed database call: RETRY when transient. */
souk_handler_result souk_saga_db_failure(souk_handler_ctx *ctx);

#endif
