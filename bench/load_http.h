/* souk-load's HTTP engine: one libcurl multi handle drives every request of
 * the run over a bounded pool of keep-alive connections (TCP_NODELAY), so
 * one thread keeps hundreds of requests in flight. Every finished request
 * is counted by status and its latency recorded, from submission to the
 * last byte (a wait for a free connection included).
 *   load_http_submit   queue one request; its callback runs from step
 *   load_http_step     move transfers along, wait at most timeout_ms
 *   load_http_batch    run a set of requests to completion, with retries
 *                      of 429, 502, 503, 504 and transport errors */
#ifndef SOUK_LOAD_HTTP_H
#define SOUK_LOAD_HTTP_H

#include <stddef.h>

#include "bench/load_stats.h"

#define LOAD_HTTP_STATUS_MAX 600

typedef struct load_http load_http;

typedef struct load_request {
    const char *method;          /* GET, POST, PUT */
    const char *path;            /* after the base URL, starting with '/' */
    const char *token;           /* bearer token or NULL */
    const char *body;            /* JSON or NULL */
    const char *idempotency_key; /* or NULL */
} load_request;

typedef struct load_response {
    long status;      /* 0 when the server did not answer */
    const char *body; /* NUL-terminated; valid during the callback only */
    size_t body_len;
    double retry_after; /* seconds of a Retry-After header, else 0 */
    const char *error;  /* libcurl's words when status is 0 */
} load_response;

typedef void (*load_http_cb)(void *arg, const load_response *resp);

/* A new engine for base_url with at most max_connections connections.
 * Requests taking longer than timeout_ms fail with status 0. */
load_http *load_http_new(const char *base_url, int max_connections, long timeout_ms);

/* Aborts what is in flight (without callbacks) and frees everything. */
void load_http_free(load_http *h);

/* Queues a request (the strings are copied); cb(arg, response) runs from a
 * later load_http_step. */
void load_http_submit(load_http *h, const load_request *rq, load_http_cb cb, void *arg);

/* Performs transfers and runs the callbacks of finished ones, waiting up to
 * timeout_ms for network activity. */
void load_http_step(load_http *h, int timeout_ms);

/* Requests in flight. */
int load_http_active(const load_http *h);

/* Runs n requests at once and waits for all. Each retries up to 8 times on
 * 429 (after Retry-After), 502/503/504 and transport errors. Stores each
 * final status in status[i] and, when bodies is not NULL, its body in
 * bodies[i] (caller frees). */
void load_http_batch(load_http *h, const load_request *rqs, int n, long *status, char **bodies);

/* Latencies of every finished request. */
load_samples *load_http_latencies(load_http *h);

/* Finished requests by status (index 0: no answer); and their total. */
const long *load_http_status_counts(const load_http *h);
long load_http_requests(const load_http *h);

/* Requests answered 0 (no answer) or >= 400. */
long load_http_errors(const load_http *h);

/* Forgets the counts and latencies so far (e.g. those of the setup). */
void load_http_reset_stats(load_http *h);

#endif
