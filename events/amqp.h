/* One AMQP connection with one open channel, opened from the configuration
 * (SOUK_AMQP_URL plus the service's own broker user), and translation of
 * rabbitmq-c replies into souk_status. rabbitmq-c connections are not
 * thread-safe: each thread owns its own souk_amqp. */
#ifndef SOUK_EVENTS_AMQP_H
#define SOUK_EVENTS_AMQP_H

#include <amqp.h>

#include "core/config.h"
#include "core/status.h"

#define SOUK_AMQP_CHANNEL 1

typedef struct souk_amqp souk_amqp;

/* Connects, logs in and opens channel SOUK_AMQP_CHANNEL within timeout_ms.
 * Returns NULL with *status set (SOUK_EAMQP_UNAVAILABLE when the broker
 * cannot be reached, SOUK_EAUTH when it refuses the login). The caller owns
 * the result (souk_amqp_close). */
souk_amqp *souk_amqp_open(const souk_config *cfg, int timeout_ms, souk_status *status)
    __attribute__((warn_unused_result));

/* Closes channel and connection; accepts NULL. */
void souk_amqp_close(souk_amqp *amqp);

/* The underlying rabbitmq-c state, for publish/consume calls. */
amqp_connection_state_t souk_amqp_state(souk_amqp *amqp);

/* Translates the reply of the last synchronous call. */
souk_status souk_amqp_reply_status(amqp_rpc_reply_t reply);

/* Translates an amqp_status_enum return code. */
souk_status souk_amqp_code_status(int code);

/* Status of the last RPC on amqp's channel (amqp_get_rpc_reply). */
souk_status souk_amqp_last_status(souk_amqp *amqp);

/* Writes the virtual host of SOUK_AMQP_URL ("souk") into buf, for the
 * management API's paths. */
void souk_amqp_vhost(const souk_config *cfg, char *buf, size_t cap);

/* Checks that the broker accepts a login; used by /readyz. */
souk_status souk_amqp_ping(const souk_config *cfg, int timeout_ms);

#endif
