/* Atomic counters and histograms behind /metrics. */
#include "gateway/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/otlp.h"

static const int statuses[] = {200, 201, 202, 204, 400, 401, 403, 404,
                               405, 409, 413, 415, 429, 500, 503, 0};
#define STATUS_SLOTS (sizeof statuses / sizeof statuses[0])
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define BUCKETS (sizeof bounds / sizeof bounds[0])

struct series {
    atomic_ullong count;
    atomic_ullong micros;
    atomic_ullong buckets[BUCKETS];
};

struct souk_metrics {
    const char *const *names;
    int routes;            /* plus one slot for unmatched paths */
    struct series *series; /* [(routes + 1) * STATUS_SLOTS] */
    atomic_llong in_flight;
};

souk_metrics *souk_metrics_new(const char *const *route_names, int route_count)
{
    souk_metrics *m = souk_calloc(1, sizeof *m);
    m->names = route_names;
    m->routes = route_count;
    m->series = souk_calloc((size_t)(route_count + 1) * STATUS_SLOTS, sizeof *m->series);
    return m;
}

void souk_metrics_free(souk_metrics *m)
{
    if (!m)
        return;
    free(m->series);
    free(m);
}

void souk_metrics_begin(souk_metrics *m)
{
    atomic_fetch_add(&m->in_flight, 1);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i + 1 < STATUS_SLOTS; i++)
        if (statuses[i] == status)
            return i;
    return STATUS_SLOTS - 1;
}

void souk_metrics_observe(souk_metrics *m, int route, int status, double seconds)
{
    atomic_fetch_sub(&m->in_flight, 1);
    int r = route < 0 || route >= m->routes ? m->routes : route;
    struct series *s = &m->series[(size_t)r * STATUS_SLOTS + status_slot(status)];
    atomic_fetch_add(&s->count, 1);
    atomic_fetch_add(&s->micros, (unsigned long long)(seconds * 1e6));
    for (size_t b = 0; b < BUCKETS; b++)
        if (seconds <= bounds[b])
            atomic_fetch_add(&s->buckets[b], 1);
}

struct out {
    char *buf;
    size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap * 2 + (size_t)(n > 0 ? n : 64);
        o->buf = souk_realloc(o->buf, o->cap);
    }
}

char *souk_metrics_render(const souk_metrics *m)
{
    struct out o = {souk_malloc(8192), 0, 8192};
    o.buf[0] = '\0';
    put(&o,
        "# HELP souk_http_requests_in_flight Requests being served.\n"
        "# TYPE souk_http_requests_in_flight gauge\nsouk_http_requests_in_flight %lld\n",
        (long long)atomic_load(&((souk_metrics *)m)->in_flight) - 1);
    put(&o, "# HELP souk_http_requests_total Requests served, by route and status.\n"
            "# TYPE souk_http_requests_total counter\n");
    for (int r = 0; r <= m->routes; r++) {
        for (size_t st = 0; st < STATUS_SLOTS; st++) {
            struct series *s = &m->series[(size_t)r * STATUS_SLOTS + st];
            unsigned long long n = atomic_load(&s->count);
            if (n)
                put(&o, "souk_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    r < m->routes ? m->names[r] : "unmatched", statuses[st], n);
        }
    }
    put(&o, "# HELP souk_http_request_duration_seconds Request latency, by route and status.\n"
            "# TYPE souk_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= m->routes; r++) {
        for (size_t st = 0; st < STATUS_SLOTS; st++) {
            struct series *s = &m->series[(size_t)r * STATUS_SLOTS + st];
            unsigned long long n = atomic_load(&s->count);
            if (!n)
                continue;
            const char *name = r < m->routes ? m->names[r] : "unmatched";
            for (size_t b = 0; b < BUCKETS; b++)
                put(&o,
                    "souk_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\","
                    "le=\"%g\"} %llu\n",
                    name, statuses[st], bounds[b], atomic_load(&s->buckets[b]));
            put(&o,
                "souk_http_request_duration_seconds_bucket{route=\"%s\",status=\"%d\",le=\"+Inf\"} "
                "%llu\n",
                name, statuses[st], n);
            put(&o, "souk_http_request_duration_seconds_sum{route=\"%s\",status=\"%d\"} %.6f\n",
                name, statuses[st], (double)atomic_load(&s->micros) / 1e6);
            put(&o, "souk_http_request_duration_seconds_count{route=\"%s\",status=\"%d\"} %llu\n",
                name, statuses[st], n);
        }
    }
    char spans[1024];
    souk_otlp_metrics_text(spans, sizeof spans);
    put(&o, "%s", spans);
    return o.buf;
}
