/* A background thread that LISTENs on one PostgreSQL channel and hands each
 * notification's payload to a callback. Connections that break are
 * reopened; since notifications may have been missed meanwhile, the
 * reconnect callback runs after every (re)connection, so the owner can
 * assume anything changed. */
#ifndef SOUK_GATEWAY_LISTENER_H
#define SOUK_GATEWAY_LISTENER_H

#include "core/config.h"

typedef struct souk_listener souk_listener;

typedef struct souk_listener_callbacks {
    void (*on_notify)(void *ctx, const char *payload);
    void (*on_connect)(void *ctx); /* after each successful LISTEN; may be NULL */
    void *ctx;
} souk_listener_callbacks;

/* Starts listening on channel (an identifier, not quoted) over a connection
 * to schema, as its gateway role when as_gateway is set. The callbacks run
 * on the listener's thread. cfg and channel must outlive the listener.
 * Returns NULL when the thread cannot start. */
souk_listener *souk_listener_start(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                                   const char *channel, souk_listener_callbacks callbacks)
    __attribute__((warn_unused_result));

/* Stops the thread (within about 200 ms) and frees the listener. NULL is
 * ignored. */
void souk_listener_stop(souk_listener *listener);

#endif
