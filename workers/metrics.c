/* Worker counters and their /metrics endpoint (civetweb). */
#include "workers/metrics.h"

#include <civetweb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/otlp.h"
#include "workers/handler.h"

static const char *const outcome_names[SOUK_OUTCOME_COUNT] = {"handled", "duplicate", "retried",
                                                              "dead_lettered", "requeued"};
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define BUCKETS (sizeof bounds / sizeof bounds[0])

static atomic_ullong outcomes[SOUK_OUTCOME_COUNT];
static atomic_ullong latency_buckets[BUCKETS];
static atomic_ullong latency_count;
static atomic_ullong latency_micros;

const char *souk_worker_outcome_name(souk_worker_outcome outcome)
{
    return (unsigned)outcome < SOUK_OUTCOME_COUNT ? outcome_names[outcome] : "unknown";
}

void souk_worker_metrics_count(souk_worker_outcome outcome, double handler_seconds)
{
    if ((unsigned)outcome >= SOUK_OUTCOME_COUNT)
        return;
    atomic_fetch_add(&outcomes[outcome], 1);
    if (outcome != SOUK_OUTCOME_HANDLED)
        return;
    atomic_fetch_add(&latency_count, 1);
    atomic_fetch_add(&latency_micros, (unsigned long long)(handler_seconds * 1e6));
    for (size_t b = 0; b < BUCKETS; b++)
        if (handler_seconds <= bounds[b])
            atomic_fetch_add(&latency_buckets[b], 1);
}

struct souk_worker_metrics_server {
    const souk_config *cfg;
    souk_service service;
    int with_outbox;
    struct mg_context *ctx;
};

static int serve(struct mg_connection *conn, void *data)
{
    souk_worker_metrics_server *s = data;
    char text[8192];
    size_t n = 0;
    const char *svc = souk_service_name(s->service);
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "# HELP souk_worker_messages_total Messages consumed, by outcome.\n"
                          "# TYPE souk_worker_messages_total counter\n");
    for (int i = 0; i < SOUK_OUTCOME_COUNT; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "souk_worker_messages_total{service=\"%s\",outcome=\"%s\"} %llu\n",
                              svc, outcome_names[i], atomic_load(&outcomes[i]));
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "# HELP souk_worker_handler_seconds Handler time of handled messages.\n"
                          "# TYPE souk_worker_handler_seconds histogram\n");
    for (size_t b = 0; b < BUCKETS; b++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "souk_worker_handler_seconds_bucket{service=\"%s\",le=\"%g\"} %llu\n",
                              svc, bounds[b], atomic_load(&latency_buckets[b]));
    unsigned long long count = atomic_load(&latency_count);
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "souk_worker_handler_seconds_bucket{service=\"%s\",le=\"+Inf\"} %llu\n"
                          "souk_worker_handler_seconds_sum{service=\"%s\"} %.6f\n"
                          "souk_worker_handler_seconds_count{service=\"%s\"} %llu\n",
                          svc, count, svc, (double)atomic_load(&latency_micros) / 1e6, svc, count);
    if (s->with_outbox) {
        souk_status st;
        PGconn *db = souk_db_connect(s->cfg, souk_service_definition(s->service)->schema, &st);
        PGresult *res = db ? PQexec(db, "SELECT count(*), COALESCE(extract(epoch FROM now() - "
                                        "min(created_at)), 0) FROM outbox WHERE sent_at IS NULL")
                           : NULL;
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
            n += (size_t)snprintf(
                text + n, sizeof text - n,
                "# HELP souk_worker_outbox_backlog Outbox rows not yet confirmed by the broker.\n"
                "# TYPE souk_worker_outbox_backlog gauge\n"
                "souk_worker_outbox_backlog{service=\"%s\"} %s\n"
                "# HELP souk_worker_outbox_oldest_seconds Age of the oldest pending outbox row.\n"
                "# TYPE souk_worker_outbox_oldest_seconds gauge\n"
                "souk_worker_outbox_oldest_seconds{service=\"%s\"} %s\n",
                svc, PQgetvalue(res, 0, 0), svc, PQgetvalue(res, 0, 1));
        PQclear(res);
        PQfinish(db);
    }
    if (n < sizeof text) {
        int t = souk_otlp_metrics_text(text + n, sizeof text - n);
        n += t > 0 ? (size_t)t : 0;
    }
    if (n >= sizeof text)
        n = sizeof text - 1;
    mg_printf(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
        "\r\n",
        n);
    mg_write(conn, text, n);
    return 200;
}

souk_worker_metrics_server *souk_worker_metrics_start(const souk_config *cfg, souk_service service,
                                                      int with_outbox)
{
    long port = souk_config_int(cfg, SOUK_CFG_METRICS_PORT);
    if (port == 0)
        return NULL;
    char ports[96];
    snprintf(ports, sizeof ports, "%s:%ld", souk_config_str(cfg, SOUK_CFG_BIND_ADDRESS), port);
    const char *options[] = {"listening_ports", ports, "num_threads", "2",
                             "tcp_nodelay",     "1",   NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    souk_worker_metrics_server *s = souk_calloc(1, sizeof *s);
    s->cfg = cfg;
    s->service = service;
    s->with_outbox = with_outbox;
    s->ctx = mg_start(&callbacks, NULL, options);
    if (!s->ctx) {
        SOUK_LOG(SOUK_LOG_ERROR, "metrics: cannot listen on %s (SOUK_METRICS_PORT)", ports);
        free(s);
        return NULL;
    }
    mg_set_request_handler(s->ctx, "/metrics$", serve, s);
    SOUK_LOG(SOUK_LOG_INFO, "metrics on http://%s/metrics", ports);
    return s;
}

void souk_worker_metrics_stop(souk_worker_metrics_server *s)
{
    if (!s)
        return;
    mg_stop(s->ctx);
    free(s);
}
