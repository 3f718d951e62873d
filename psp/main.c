/* souk-psp: a stand-in card payment provider over HTTP, for development and
 * tests. It listens on SOUK_BIND_ADDRESS:SOUK_PSP_PORT and keeps its ledger
 * in memory (psp/psp.h), and also in the journal file SOUK_PSP_LEDGER_FILE
 * when set (souk up and souk test set it), replayed at start so that a
 * restarted provider still knows its charges. SOUK_PSP_TIMEOUT_SLEEP_MS (a
 * test knob, default 5000) is how long a tok_timeout charge takes to
 * answer. */
#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/startgate.h"
#include "core/otlp.h"
#include "psp/psp.h"

#define MAX_LEDGER_ENTRIES       1000000
#define DEFAULT_TIMEOUT_SLEEP_MS 5000L

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

/* Reads SOUK_PSP_TIMEOUT_SLEEP_MS into *ms; returns -1 on a bad value. */
static int timeout_sleep_ms(long *ms)
{
    const char *text = getenv("SOUK_PSP_TIMEOUT_SLEEP_MS");
    *ms = DEFAULT_TIMEOUT_SLEEP_MS;
    if (!text || !*text)
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 0 || v > 3600000)
        return -1;
    *ms = v;
    return 0;
}

int main(void)
{
    souk_log_set_service("psp");
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, "psp", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-psp: configuration error: %s\n", err);
        return 2;
    }
    souk_log_threshold = (souk_log_level)souk_config_int(cfg, SOUK_CFG_LOG_LEVEL);
    long sleep_ms = 0;
    if (timeout_sleep_ms(&sleep_ms) != 0) {
        fprintf(stderr,
                "souk-psp: configuration error: SOUK_PSP_TIMEOUT_SLEEP_MS: '%s' is not a "
                "number of milliseconds (0..3600000)\n",
                getenv("SOUK_PSP_TIMEOUT_SLEEP_MS"));
        souk_config_free(cfg);
        return 2;
    }

    char ports[128];
    snprintf(ports, sizeof ports, "%s:%ld", souk_config_str(cfg, SOUK_CFG_BIND_ADDRESS),
             souk_config_int(cfg, SOUK_CFG_PSP_PORT));
    const char *options[] = {
        "listening_ports",   ports, "num_threads",        "32",    "tcp_nodelay", "1",
        "enable_keep_alive", "yes", "request_timeout_ms", "30000", NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = log_civetweb;
    callbacks.begin_request = souk_startgate_begin_request;

    /* Blocked before civetweb starts its threads, so only the sigsuspend
     * below takes SIGTERM/SIGINT and no stop request is lost. */
    sigset_t stop_signals;
    sigset_t waiting;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    souk_psp *psp = souk_psp_new(sleep_ms, MAX_LEDGER_ENTRIES);
    const char *ledger = getenv("SOUK_PSP_LEDGER_FILE");
    if (ledger && *ledger) {
        long restored = 0;
        if (souk_psp_journal_open(psp, ledger, &restored, err, sizeof err) != 0) {
            fprintf(stderr, "souk-psp: SOUK_PSP_LEDGER_FILE: %s\n", err);
            souk_psp_free(psp);
            souk_config_free(cfg);
            return 2;
        }
        SOUK_LOG(SOUK_LOG_INFO, "psp ledger %s: %ld entries restored", ledger, restored);
    }
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (!ctx) {
        fprintf(stderr, "souk-psp: cannot listen on %s (port in use? set SOUK_PSP_PORT)\n", ports);
        mg_exit_library();
        souk_psp_free(psp);
        souk_config_free(cfg);
        return 1;
    }
    if (souk_otlp_start(cfg, "psp") != SOUK_OK)
        SOUK_LOG(SOUK_LOG_WARN, "the span exporter did not start: spans are not exported");
    souk_psp_register(ctx, psp);
    souk_startgate_open();

    SOUK_LOG(SOUK_LOG_INFO, "psp listening on %s (tok_timeout answers after %ld ms)", ports,
             sleep_ms);
    while (!stop_requested)
        sigsuspend(&waiting);
    SOUK_LOG(SOUK_LOG_INFO, "psp stopping");
    souk_psp_stop(psp);
    mg_stop(ctx);
    mg_exit_library();
    souk_otlp_stop();
    souk_psp_free(psp);
    souk_config_free(cfg);
    SOUK_LOG(SOUK_LOG_INFO, "psp stopped");
    return 0;
}
