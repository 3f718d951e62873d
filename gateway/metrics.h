/* Prometheus metrics of the gateway: requests and a latency histogram per
 * route and status, requests in flight, and the span export counts
 * (core/otlp.h). Lock-free counters, rendered in
 * the text exposition format for GET /metrics. */
#ifndef SOUK_GATEWAY_METRICS_H
#define SOUK_GATEWAY_METRICS_H

#include <stddef.h>

typedef struct souk_metrics souk_metrics;

/* route_names: the labels of the routes, indexed as passed to
 * souk_metrics_observe; the array must outlive the metrics. */
souk_metrics *souk_metrics_new(const char *const *route_names, int route_count);
void souk_metrics_free(souk_metrics *m);

void souk_metrics_begin(souk_metrics *m);
/* Records one finished request of route (or -1 for an unmatched path). */
void souk_metrics_observe(souk_metrics *m, int route, int status, double seconds);

/* Renders the exposition text into a new string; the caller frees it. */
char *souk_metrics_render(const souk_metrics *m);

#endif
