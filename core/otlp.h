/* The span exporter: with SOUK_OTLP_URL set, a process sends the spans it
 * ends (core/trace.h) to an OpenTelemetry collector as OTLP/HTTP JSON
 * (POST <url>/v1/traces), batched by a background thread of its own, so a
 * request or a message pays a copy into a bounded queue, never a network
 * call. A collector that is down, slow or refusing costs spans, not time:
 * the queue holds SOUK_OTLP_QUEUE_CAP spans and drops (and counts) what
 * does not fit, an export that fails or does not answer within its short
 * timeouts is dropped (and counted) and never retried, so it blocks
 * nothing behind it. One exporter per process. */
#ifndef SOUK_CORE_OTLP_H
#define SOUK_CORE_OTLP_H

#include <stddef.h>

#include "core/config.h"
#include "core/status.h"
#include "core/trace.h"

#define SOUK_OTLP_QUEUE_CAP   4096 /* spans waiting for export */
#define SOUK_OTLP_BATCH       512  /* spans per request at most */
#define SOUK_OTLP_INTERVAL_MS 1000 /* longest a span waits for its batch */
#define SOUK_OTLP_CONNECT_MS  500
#define SOUK_OTLP_TIMEOUT_MS  2000 /* a whole export request */

/* Starts the exporter when SOUK_OTLP_URL is set; does nothing otherwise.
 * service names the process in the spans' resource (service.name
 * "souk-<service>"). Returns SOUK_OK, or SOUK_EIO when its thread cannot
 * start (spans are then not recorded). */
souk_status souk_otlp_start(const souk_config *cfg, const char *service)
    __attribute__((warn_unused_result));

/* The same with the collector's base URL given (for tests). */
souk_status souk_otlp_start_url(const char *base_url, const char *service)
    __attribute__((warn_unused_result));

/* Exports what is queued (unless the last export failed, or for longer
 * than SOUK_OTLP_TIMEOUT_MS: the rest is then dropped) and stops the
 * thread. Spans ended afterwards are not recorded.
 * Safe to call when the exporter never started. */
void souk_otlp_stop(void);

/* True while an exporter runs: spans are recorded. */
int souk_otlp_enabled(void);

/* Queues a copy of s for export; drops it (counted) when the queue is full
 * or no exporter runs. Called by souk_span_end. */
void souk_otlp_submit(const souk_span *s);

typedef struct souk_otlp_stats {
    unsigned long long exported;       /* accepted by the collector (HTTP 2xx) */
    unsigned long long dropped_full;   /* the queue was full */
    unsigned long long dropped_failed; /* their export failed or timed out */
    unsigned long long queued;         /* waiting now */
} souk_otlp_stats;

void souk_otlp_stats_get(souk_otlp_stats *out);

/* The stats as Prometheus text (souk_trace_spans_exported_total,
 * souk_trace_spans_dropped_total{reason}, souk_trace_spans_queued) into
 * buf; returns what snprintf returns. For the gateway's and the workers'
 * /metrics. */
int souk_otlp_metrics_text(char *buf, size_t cap);

#endif
