/* The raw PostgreSQL transaction rate (see load_rawpg.h). */
#include "bench/load_rawpg.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/mem.h"

#define MAX_CONNECTIONS 64

struct raw_worker {
    const char *conninfo;
    int id;
    double until;
    long done;
    int failed;
    pthread_t thread;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

static void random_uuid(unsigned long long *state, char out[37])
{
    unsigned char b[16];
    for (int i = 0; i < 16; i++) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        b[i] = (unsigned char)((*state * 2685821657736338717ULL) >> 56);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static int one_transaction(PGconn *db, const char *message_id, const char *row)
{
    const char *p[2] = {message_id, row};
    return run(db, "BEGIN", 0, NULL) == 0 &&
                   run(db,
                       "INSERT INTO souk_load_raw.inbox (consumer, message_id) "
                       "VALUES ('load', $1::uuid)",
                       1, p) == 0 &&
                   run(db, "UPDATE souk_load_raw.state SET n = n + 1 WHERE id = $1::int", 1,
                       p + 1) == 0 &&
                   run(db,
                       "INSERT INTO souk_load_raw.outbox (message_id, payload) "
                       "VALUES ($1::uuid, '{}')",
                       1, p) == 0 &&
                   run(db, "COMMIT", 0, NULL) == 0
               ? 0
               : -1;
}

static void *raw_worker_main(void *arg)
{
    struct raw_worker *w = arg;
    PGconn *db = PQconnectdb(w->conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        w->failed = 1;
        PQfinish(db);
        return NULL;
    }
    unsigned long long state = 0x9e3779b97f4a7c15ULL ^ ((unsigned long long)w->id << 32) ^
                               (unsigned long long)(now_s() * 1e6);
    char row[16];
    snprintf(row, sizeof row, "%d", w->id);
    while (now_s() < w->until) {
        char message_id[37];
        random_uuid(&state, message_id);
        if (one_transaction(db, message_id, row) != 0) {
            w->failed = 1;
            break;
        }
        w->done++;
    }
    PQfinish(db);
    return NULL;
}

static const char *const SETUP[] = {
    "SET client_min_messages TO warning",
    "DROP SCHEMA IF EXISTS souk_load_raw CASCADE",
    "CREATE SCHEMA souk_load_raw",
    "CREATE TABLE souk_load_raw.inbox (consumer text NOT NULL, message_id uuid NOT NULL, "
    "processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer, message_id))",
    "CREATE TABLE souk_load_raw.state (id int PRIMARY KEY, n bigint NOT NULL)",
    "CREATE TABLE souk_load_raw.outbox (id bigserial PRIMARY KEY, message_id uuid NOT NULL "
    "UNIQUE, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "sent_at timestamptz)",
    "INSERT INTO souk_load_raw.state SELECT g, 0 FROM generate_series(0, 63) g",
};

double load_rawpg_rate(const char *conninfo, int connections, double seconds, char *err,
                       size_t errlen)
{
    if (connections < 1 || connections > MAX_CONNECTIONS) {
        snprintf(err, errlen, "connections must be 1 to %d", MAX_CONNECTIONS);
        return -1;
    }
    PGconn *admin = PQconnectdb(conninfo);
    if (PQstatus(admin) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(admin));
        PQfinish(admin);
        return -1;
    }
    for (size_t i = 0; i < sizeof SETUP / sizeof SETUP[0]; i++) {
        if (run(admin, SETUP[i], 0, NULL) != 0) {
            snprintf(err, errlen, "%s: %s", SETUP[i], PQerrorMessage(admin));
            PQfinish(admin);
            return -1;
        }
    }
    struct raw_worker *w = souk_calloc((size_t)connections, sizeof *w);
    double start = now_s();
    for (int i = 0; i < connections; i++) {
        w[i] = (struct raw_worker){.conninfo = conninfo, .id = i, .until = start + seconds};
        pthread_create(&w[i].thread, NULL, raw_worker_main, &w[i]);
    }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(w[i].thread, NULL);
        total += w[i].done;
        failed |= w[i].failed;
    }
    double elapsed = now_s() - start;
    free(w);
    run(admin, "DROP SCHEMA souk_load_raw CASCADE", 0, NULL);
    PQfinish(admin);
    if (failed) {
        snprintf(err, errlen, "a connection failed during the measurement");
        return -1;
    }
    return (double)total / elapsed;
}
