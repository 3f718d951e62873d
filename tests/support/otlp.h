/* A small OTLP/HTTP receiver for tests: a plain-socket HTTP server in the
 * test process that takes POST /v1/traces (OTLP JSON), answers 200 and
 * keeps every span it was sent, flattened for assertions. It can also
 * stand for a collector that fails (answers 503) or hangs (accepts
 * connections and never reads or answers). */
#ifndef SOUK_TESTS_OTLP_H
#define SOUK_TESTS_OTLP_H

#include <json-c/json.h>

typedef enum th_otlp_mode {
    TH_OTLP_ACCEPT, /* 200, spans kept */
    TH_OTLP_FAIL,   /* 503, spans not kept */
    TH_OTLP_HANG,   /* listens, never answers */
} th_otlp_mode;

typedef struct th_otlp th_otlp;

/* Listens on 127.0.0.1:port (0: a free port) in mode; fails the test when
 * it cannot. */
th_otlp *th_otlp_start(int port, th_otlp_mode mode);

int th_otlp_port(const th_otlp *r);

/* Stops listening, closes every connection, frees r; accepts NULL. */
void th_otlp_stop(th_otlp *r);

/* Export requests answered so far. */
int th_otlp_requests(th_otlp *r);

/* A new array of the spans received so far, each
 *   {"traceId", "spanId", "parentSpanId" (or absent), "name", "kind",
 *    "service" (the resource's service.name), "start", "end" (nanosecond
 *    strings), "status" (the status code, 0 unset), "attributes": {key: value}}
 * with attribute values as strings (intValue's decimal text). */
json_object *th_otlp_spans(th_otlp *r);

/* A span's attribute, or NULL. */
const char *th_otlp_attr(json_object *span, const char *key);

/* A span's string member ("name", "spanId", ...), or NULL. */
const char *th_otlp_field(json_object *span, const char *key);

#endif
