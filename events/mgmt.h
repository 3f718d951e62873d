/* The RabbitMQ management API (HTTP, JSON), read with libcurl: the one
 * reader of it in C, for the gateway's system view and souk-load's DLQ
 * check. Failures are translated into souk_status where curl answers, so
 * that a broker that does not answer is SOUK_EAMQP_UNAVAILABLE to every
 * caller. Thread-safe: each call has its own curl handle. */
#ifndef SOUK_EVENTS_MGMT_H
#define SOUK_EVENTS_MGMT_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/status.h"

/* Where the API is and who reads it (borrowed strings). */
typedef struct souk_mgmt_target {
    const char *url; /* "http://127.0.0.1:15672", without /api */
    const char *user;
    const char *password;
    long timeout_ms; /* for the whole request; 0: 10 s */
} souk_mgmt_target;

/* GET <url>/api<path> (path starts with '/', query included). On SOUK_OK
 * *out is the parsed answer (a new value; the caller puts it). Errors, with
 * a line in err: SOUK_EAMQP_UNAVAILABLE when the API does not answer, times
 * out or answers 5xx (a booting node); SOUK_EAUTH on 401 (the user lacks
 * the management tag or its password is wrong); SOUK_ENOTFOUND on 404;
 * SOUK_EAMQP on any other status; SOUK_EPARSE when the answer is not JSON. */
souk_status souk_mgmt_get(const souk_mgmt_target *target, const char *path, json_object **out,
                          char *err, size_t errlen) __attribute__((warn_unused_result));

/* Writes text percent-encoded (RFC 3986 unreserved characters stay) into
 * buf, for a segment of an API path ("/" is "%2F"). */
void souk_mgmt_encode(const char *text, char *buf, size_t cap);

/* Writes "<url>/#/queues/<vhost>/<queue>" (vhost and queue percent-encoded),
 * the page of a queue in the management UI at url, into buf. */
void souk_mgmt_queue_page(const char *url, const char *vhost, const char *queue, char *buf,
                          size_t cap);

/* The same for an exchange: "<url>/#/exchanges/<vhost>/<exchange>". */
void souk_mgmt_exchange_page(const char *url, const char *vhost, const char *exchange, char *buf,
                             size_t cap);

/* A rate of a management API object: obj.message_stats.<name>_details.rate
 * (messages per second), 0 when the broker has not sampled one yet. */
double souk_mgmt_rate(json_object *obj, const char *name);

#endif
