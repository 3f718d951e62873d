/* souk-gateway: the HTTP entry point of Souk. */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/startgate.h"
#include "core/otlp.h"
#include "events/outbox.h"
#include "gateway/accounts.h"
#include "gateway/app.h"
#include "gateway/openapi.h"
#include "gateway/orderwatch.h"
#include "gateway/server.h"

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    SOUK_LOG(SOUK_LOG_WARN, "civetweb: %s", message);
    return 1;
}

static void print_config_vars(void)
{
    for (int k = 0; k < SOUK_CFG_COUNT; k++)
        printf("%s\t%s\t%s\n", souk_config_env_name(k), souk_config_default(k), souk_config_doc(k));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--config-vars") == 0) {
        print_config_vars();
        return 0;
    }
    souk_log_set_service("gateway");
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, "gateway", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-gateway: configuration error: %s\n", err);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "--openapi") == 0) {
        /* what GET /openapi.json answers under this configuration */
        json_object *doc = souk_openapi_document(cfg);
        puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(doc);
        souk_config_free(cfg);
        return 0;
    }
    souk_log_threshold = (souk_log_level)souk_config_int(cfg, SOUK_CFG_LOG_LEVEL);
    if (souk_otlp_start(cfg, "gateway") != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "the span exporter did not start: spans are not exported");

    char ports[128];
    char threads[32];
    snprintf(ports, sizeof ports, "%s:%ld", souk_config_str(cfg, SOUK_CFG_BIND_ADDRESS),
             souk_config_int(cfg, SOUK_CFG_GATEWAY_PORT));
    snprintf(threads, sizeof threads, "%ld", souk_config_int(cfg, SOUK_CFG_GATEWAY_THREADS));
    const char *options[] = {
        "listening_ports",   ports, "num_threads",        threads, "tcp_nodelay", "1",
        "enable_keep_alive", "yes", "request_timeout_ms", "30000", NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = log_civetweb;
    callbacks.begin_request = souk_startgate_begin_request;

    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (!ctx) {
        fprintf(stderr, "souk-gateway: cannot listen on %s (port in use? set SOUK_GATEWAY_PORT)\n",
                ports);
        souk_otlp_stop();
        souk_config_free(cfg);
        mg_exit_library();
        return 1;
    }
    souk_gateway *gw = souk_gateway_new(cfg, err, sizeof err);
    if (!gw) {
        fprintf(stderr, "souk-gateway: configuration error: %s\n", err);
        mg_stop(ctx);
        souk_otlp_stop();
        mg_exit_library();
        souk_config_free(cfg);
        return 2;
    }
    souk_server_register(ctx, gw);
    souk_startgate_open();
    /* The first admin; retried in the background of requests if the
     * database is not up yet. */
    for (int attempt = 0; attempt < 50; attempt++) {
        if (souk_accounts_ensure_admin(gw) == SOUK_OK)
            break;
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL);
    }
    /* CartCheckedOut leaves through the cart outbox. */
    souk_status st;
    souk_relay *relay = souk_relay_start(cfg, SOUK_SCHEMA_CART, SOUK_SERVICE_GATEWAY, &st);
    if (!relay)
        SOUK_LOG(SOUK_LOG_ERROR, "cart outbox relay did not start: %s", souk_strerror(st));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    SOUK_LOG(SOUK_LOG_INFO, "gateway listening on %s with %s threads", ports, threads);
    while (!stop_requested)
        pause();
    SOUK_LOG(SOUK_LOG_INFO, "gateway stopping");
    souk_orderwatch_shutdown(gw->orders_watch); /* long polls answer now */
    mg_stop(ctx);
    souk_relay_stop(relay);
    souk_otlp_stop(); /* after everything that ends spans */
    souk_gateway_free(gw);
    mg_exit_library();
    souk_config_free(cfg);
    return 0;
}
