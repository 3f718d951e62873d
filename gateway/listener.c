/* One thread per channel, polling its socket in 200 ms steps so that a stop
 * request is seen promptly. */
#include "gateway/listener.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"

struct souk_listener {
    const souk_config *cfg;
    souk_db_schema schema;
    int as_gateway;
    const char *channel;
    souk_listener_callbacks callbacks;
    pthread_t thread;
    atomic_int stop;
};

static PGconn *listen_connect(souk_listener *l)
{
    souk_status st;
    PGconn *db = l->as_gateway ? souk_db_connect_gateway(l->cfg, l->schema, &st)
                               : souk_db_connect(l->cfg, l->schema, &st);
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    if (!db || souk_db_exec(db, sql) != SOUK_OK) {
        PQfinish(db);
        return NULL;
    }
    return db;
}

static void *listener_main(void *arg)
{
    souk_listener *l = arg;
    PGconn *db = NULL;
    while (!atomic_load(&l->stop)) {
        if (!db) {
            db = listen_connect(l);
            if (!db) {
                struct timespec ts = {0, 500000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            if (l->callbacks.on_connect)
                l->callbacks.on_connect(l->callbacks.ctx);
        }
        struct pollfd pfd = {.fd = PQsocket(db), .events = POLLIN};
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        if (!PQconsumeInput(db)) {
            SOUK_LOG(SOUK_LOG_WARN, "listener for %s lost its connection; reconnecting",
                     l->channel);
            PQfinish(db);
            db = NULL;
            continue;
        }
        PGnotify *note;
        while ((note = PQnotifies(db))) {
            l->callbacks.on_notify(l->callbacks.ctx, note->extra);
            PQfreemem(note);
        }
    }
    PQfinish(db);
    return NULL;
}

souk_listener *souk_listener_start(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                                   const char *channel, souk_listener_callbacks callbacks)
{
    souk_listener *l = souk_calloc(1, sizeof *l);
    l->cfg = cfg;
    l->schema = schema;
    l->as_gateway = as_gateway;
    l->channel = channel;
    l->callbacks = callbacks;
    atomic_init(&l->stop, 0);
    if (pthread_create(&l->thread, NULL, listener_main, l) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

void souk_listener_stop(souk_listener *listener)
{
    if (!listener)
        return;
    atomic_store(&listener->stop, 1);
    pthread_join(listener->thread, NULL);
    free(listener);
}
