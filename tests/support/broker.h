/* Test helpers that talk to the broker as its administrator: build an
 * envelope, publish it with confirms. */
#ifndef SOUK_TESTS_BROKER_H
#define SOUK_TESTS_BROKER_H

#include <json-c/json.h>

#include "events/envelope.h"

/* A new envelope of type for order_id with a fresh message id; body is
 * borrowed. */
souk_envelope th_envelope(const char *order_id, const char *type, const char *body);

/* Publishes env to exchange (routing_key for the default exchange) as the
 * broker admin and waits for the confirm; fails the test otherwise. The
 * admin credentials never stay in the environment, so processes spawned
 * later still connect as their own broker users. */
void th_publish(const char *exchange, const char *routing_key, const souk_envelope *env);

/* The sample payload tests/schemas/<type>/valid/full.json with its order_id
 * set to order_id (the caller puts it). */
json_object *th_event_payload(const char *type, const char *order_id);

/* Publishes the sample payload of type (th_event_payload) for order_id to
 * the exchange of type, as a saga's service would, in the trace of
 * traceparent (NULL: none); message_id (when not NULL) gets its id. */
void th_publish_event(const char *type, const char *order_id, const char *traceparent,
                      char message_id[37]);

#endif
