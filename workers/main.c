/* souk-worker <service>: one process of a saga service.
 *   souk-worker <service> [--concurrency N]
 *   souk-worker --permissions <service|gateway>   broker permission regexes
 *   souk-worker --declare-topology                declare every exchange and queue
 *   souk-worker --services | --schemas            the worker services / database schemas */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/otlp.h"
#include "events/amqp.h"
#include "events/outbox.h"
#include "events/topology.h"
#include "workers/handler.h"
#include "workers/metrics.h"
#include "workers/order.h"
#include "workers/runtime.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: souk-worker <service> [--concurrency N]\n"
                 "       souk-worker --permissions <service|gateway>\n"
                 "       souk-worker --declare-topology\n"
                 "       souk-worker --services | --schemas\nservices:");
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
        fprintf(out, " %s", souk_service_name((souk_service)s));
    fprintf(out, "\n");
}

static int print_permissions(const char *name)
{
    souk_service service = souk_service_from_name(name);
    if (service == SOUK_SERVICE_UNKNOWN) {
        fprintf(stderr, "souk-worker: unknown service '%s'\n", name);
        usage(stderr);
        return 2;
    }
    char *configure, *write, *read;
    souk_topology_permissions(service, &configure, &write, &read);
    printf("%s\n%s\n%s\n", configure, write, read);
    free(configure);
    free(write);
    free(read);
    return 0;
}

/* Declares the whole topology with the operator's credentials, so that no
 * event published before a consumer's first start is unroutable. */
static int declare_topology(void)
{
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, "admin", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-worker: configuration error: %s\n", err);
        return 2;
    }
    souk_status st = souk_topology_declare_all(cfg, 5000);
    souk_config_free(cfg);
    if (st != SOUK_OK) {
        fprintf(stderr, "souk-worker: declaring the topology failed: %s\n", souk_strerror(st));
        return 1;
    }
    return 0;
}

/* The worker services of the topology table and the schemas of the
 * configuration, one a line: scripts/stack.sh reads them instead of keeping
 * copies. */
static int print_services(void)
{
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
        printf("%s\n", souk_service_name((souk_service)s));
    return 0;
}

static int print_schemas(void)
{
    for (int s = 0; s < SOUK_SCHEMA_COUNT; s++)
        printf("%s\n", souk_db_schema_name((souk_db_schema)s));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--permissions") == 0 && argc == 3)
        return print_permissions(argv[2]);
    if (strcmp(argv[1], "--declare-topology") == 0)
        return declare_topology();
    if (strcmp(argv[1], "--services") == 0 && argc == 2)
        return print_services();
    if (strcmp(argv[1], "--schemas") == 0 && argc == 2)
        return print_schemas();

    souk_service service = souk_service_from_name(argv[1]);
    if (service == SOUK_SERVICE_UNKNOWN || service == SOUK_SERVICE_GATEWAY) {
        fprintf(stderr, "souk-worker: unknown service '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, argv[1], err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-worker: configuration error: %s\n", err);
        return 2;
    }
    long concurrency = souk_config_int(cfg, SOUK_CFG_WORKER_CONCURRENCY);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) {
            char *end;
            concurrency = strtol(argv[++i], &end, 10);
            if (*end || concurrency < 1 || concurrency > 256) {
                fprintf(stderr, "souk-worker: --concurrency must be 1-256\n");
                souk_config_free(cfg);
                return 2;
            }
        } else {
            fprintf(stderr, "souk-worker: unknown option '%s'\n", argv[i]);
            usage(stderr);
            souk_config_free(cfg);
            return 2;
        }
    }
    souk_log_set_service(argv[1]);
    souk_log_threshold = (souk_log_level)souk_config_int(cfg, SOUK_CFG_LOG_LEVEL);
    if (souk_otlp_start(cfg, argv[1]) != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "the span exporter did not start: spans are not exported");

    /* Signals are taken by sigwait in this thread only. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    souk_status st;
    souk_runtime *rt = souk_runtime_start(cfg, service, (int)concurrency, &st);
    if (!rt) {
        fprintf(stderr, "souk-worker: cannot start: %s\n", souk_strerror(st));
        souk_otlp_stop();
        souk_config_free(cfg);
        return 1;
    }
    /* Services that emit events relay their own outbox. */
    souk_relay *relay = NULL;
    for (int e = 0; e < SOUK_EVENT_COUNT && !relay; e++) {
        if (!souk_service_publishes(service, (souk_event_type)e))
            continue;
        relay = souk_relay_start(cfg, souk_service_definition(service)->schema, service, &st);
        if (!relay) {
            fprintf(stderr, "souk-worker: cannot start the outbox relay: %s\n", souk_strerror(st));
            souk_runtime_request_stop();
            souk_runtime_join(rt);
            souk_otlp_stop();
            souk_config_free(cfg);
            return 1;
        }
    }
    souk_worker_metrics_server *metrics = souk_worker_metrics_start(cfg, service, relay != NULL);
    souk_order_deadline *deadline = NULL;
    if (service == SOUK_SERVICE_ORDER)
        deadline = souk_order_deadline_start(cfg);
    SOUK_LOG(SOUK_LOG_INFO, "worker started service=%s concurrency=%ld", argv[1], concurrency);
    int sig = 0;
    sigwait(&signals, &sig);
    SOUK_LOG(SOUK_LOG_INFO, "stopping on signal %d: finishing messages in hand", sig);
    souk_runtime_request_stop();
    souk_runtime_join(rt);
    souk_order_deadline_stop(deadline);
    /* After the consumers, whose last commits may have added outbox rows. */
    souk_relay_stop(relay);
    souk_worker_metrics_stop(metrics);
    souk_otlp_stop(); /* after everything that ends spans */
    SOUK_LOG(SOUK_LOG_INFO, "worker stopped");
    souk_config_free(cfg);
    return 0;
}
