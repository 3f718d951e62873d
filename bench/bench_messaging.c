/* souk-bench messaging: the messaging core's throughput and latency next to
 * the two raw limits of this machine, measured in one run.
 *   1. RabbitMQ alone: persistent publishes with confirms (many in flight)
 *      into a durable queue, consumed with manual acks.
 *   2. PostgreSQL alone: transactions of one inbox insert, one update and one
 *      outbox insert, synchronous_commit on, from several connections.
 *   3. Souk: rows committed to inventory.outbox, relayed with confirms by the
 *      running `souk-worker inventory`, consumed with the inbox by
 *      `souk-worker analytics` (StockReleased reaches analytics only).
 *   4. Latency commit -> handler commit at half of the rate of 3, open loop.
 * `souk bench messaging` starts the stack and the workers, then runs this. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/amqp.h"
#include "events/envelope.h"
#include "events/outbox.h"
#include "events/tx.h"
#include "events/publisher.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double left = t - now_s();
    if (left <= 0)
        return;
    struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
    nanosleep(&ts, NULL);
}

static PGconn *admin_db(void)
{
    const char *conninfo = getenv("SOUK_BENCH_ADMIN_DB");
    PGconn *db = PQconnectdb(conninfo ? conninfo : "dbname=souk");
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "bench: admin connection failed: %s", PQerrorMessage(db));
        exit(1);
    }
    return db;
}

static void exec_or_die(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench: %s: %s", sql, PQresultErrorMessage(res));
        exit(1);
    }
    PQclear(res);
}

static long query_long(PGconn *db, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *res = PQexecParams(db, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    long v = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                 ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
                 : -1;
    PQclear(res);
    return v;
}

/* ---------------------------------------------------------- raw RabbitMQ */

struct raw_consumer {
    const souk_config *cfg;
    long expected;
    atomic_long received;
    double done_at;
};

static void *raw_consume(void *arg)
{
    struct raw_consumer *rc = arg;
    souk_status st;
    souk_amqp *amqp = souk_amqp_open(rc->cfg, 5000, &st);
    if (!amqp) {
        fprintf(stderr, "bench: raw consumer cannot connect\n");
        exit(1);
    }
    amqp_connection_state_t state = souk_amqp_state(amqp);
    amqp_basic_qos(state, SOUK_AMQP_CHANNEL, 0, 1000, 0);
    amqp_basic_consume(state, SOUK_AMQP_CHANNEL, amqp_cstring_bytes("bench-raw"), amqp_empty_bytes,
                       0, 0, 0, amqp_empty_table);
    long got = 0;
    while (got < rc->expected) {
        amqp_envelope_t env;
        struct timeval tv = {5, 0};
        amqp_maybe_release_buffers(state);
        amqp_rpc_reply_t r = amqp_consume_message(state, &env, &tv, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "bench: raw consume failed after %ld\n", got);
            exit(1);
        }
        got++;
        /* ack in groups, as a consumer with a prefetch window would */
        if (got % 100 == 0 || got == rc->expected)
            amqp_basic_ack(state, SOUK_AMQP_CHANNEL, env.delivery_tag, 1);
        amqp_destroy_envelope(&env);
    }
    rc->done_at = now_s();
    atomic_store(&rc->received, got);
    souk_amqp_close(amqp);
    return NULL;
}

static double bench_raw_rabbit(const souk_config *cfg, long count)
{
    souk_status st;
    souk_amqp *amqp = souk_amqp_open(cfg, 5000, &st);
    if (!amqp) {
        fprintf(stderr, "bench: cannot connect to RabbitMQ: %s\n", souk_strerror(st));
        exit(1);
    }
    amqp_queue_declare(souk_amqp_state(amqp), SOUK_AMQP_CHANNEL, amqp_cstring_bytes("bench-raw"), 0,
                       1, 0, 0, amqp_empty_table);
    amqp_queue_purge(souk_amqp_state(amqp), SOUK_AMQP_CHANNEL, amqp_cstring_bytes("bench-raw"));
    souk_amqp_close(amqp);

    struct raw_consumer rc = {.cfg = cfg, .expected = count};
    pthread_t consumer;
    pthread_create(&consumer, NULL, raw_consume, &rc);

    souk_publisher *pub = souk_publisher_new(cfg, SOUK_SERVICE_GATEWAY);
    enum { WINDOW = 500 };
    souk_envelope envs[WINDOW];
    souk_publish_item items[WINDOW];
    souk_status results[WINDOW];
    const char *body = "{\"order_id\":\"00000000-0000-4000-8000-000000000000\",\"lines\":[]}";
    for (int i = 0; i < WINDOW; i++) {
        memset(&envs[i], 0, sizeof envs[i]);
        snprintf(envs[i].type, sizeof envs[i].type, "BenchRaw");
        snprintf(envs[i].correlation_id, sizeof envs[i].correlation_id, "bench");
        envs[i].body = (char *)body;
        envs[i].body_len = strlen(body);
        items[i] = (souk_publish_item){.exchange = "", .routing_key = "bench-raw", .env = &envs[i]};
    }
    double start = now_s();
    for (long sent = 0; sent < count; sent += WINDOW) {
        int n = (int)(count - sent < WINDOW ? count - sent : WINDOW);
        for (int i = 0; i < n; i++)
            souk_uuid_v4(envs[i].message_id);
        if (souk_publisher_publish(pub, items, (size_t)n, results, 30000) != SOUK_OK) {
            fprintf(stderr, "bench: raw publish failed\n");
            exit(1);
        }
    }
    pthread_join(consumer, NULL);
    souk_publisher_free(pub);
    return (double)count / (rc.done_at - start);
}

/* -------------------------------------------------------- raw PostgreSQL */

struct raw_pg {
    int id;
    double until;
    long done;
};

static void *raw_pg_worker(void *arg)
{
    struct raw_pg *w = arg;
    PGconn *db = admin_db();
    char id[16];
    snprintf(id, sizeof id, "%d", w->id);
    while (now_s() < w->until) {
        char msg[37];
        souk_uuid_v4(msg);
        const char *p[2] = {msg, id};
        exec_or_die(db, "BEGIN");
        PGresult *r = PQexecParams(db,
                                   "INSERT INTO bench.inbox (consumer, message_id) "
                                   "VALUES ('bench', $1)",
                                   1, NULL, p, NULL, NULL, 0);
        PQclear(r);
        r = PQexecParams(db, "UPDATE bench.state SET n = n + 1 WHERE id = $1::int", 1, NULL, p + 1,
                         NULL, NULL, 0);
        PQclear(r);
        r = PQexecParams(db, "INSERT INTO bench.outbox (message_id, payload) VALUES ($1, '{}')", 1,
                         NULL, p, NULL, NULL, 0);
        PQclear(r);
        exec_or_die(db, "COMMIT");
        w->done++;
    }
    PQfinish(db);
    return NULL;
}

static double bench_raw_pg(int threads, double seconds)
{
    PGconn *db = admin_db();
    exec_or_die(db, "SET client_min_messages TO warning");
    exec_or_die(db, "DROP SCHEMA IF EXISTS bench CASCADE");
    exec_or_die(db, "CREATE SCHEMA bench");
    exec_or_die(db, "CREATE TABLE bench.inbox (consumer text, message_id uuid, "
                    "processed_at timestamptz DEFAULT now(), PRIMARY KEY (consumer, message_id))");
    exec_or_die(db, "CREATE TABLE bench.state (id int PRIMARY KEY, n bigint NOT NULL)");
    exec_or_die(db, "CREATE TABLE bench.outbox (id bigserial PRIMARY KEY, message_id uuid, "
                    "payload text, created_at timestamptz DEFAULT clock_timestamp(), "
                    "sent_at timestamptz)");
    exec_or_die(db, "INSERT INTO bench.state SELECT g, 0 FROM generate_series(0, 63) g");
    struct raw_pg w[64];
    pthread_t t[64];
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (struct raw_pg){.id = i, .until = start + seconds};
        pthread_create(&t[i], NULL, raw_pg_worker, &w[i]);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].done;
    }
    double elapsed = now_s() - start;
    exec_or_die(db, "DROP SCHEMA bench CASCADE");
    PQfinish(db);
    return (double)total / elapsed;
}

/* ------------------------------------------------------------- pipeline */

static json_object *stock_released(const char *order_id)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "order_id", json_object_new_string(order_id));
    json_object *lines = json_object_new_array();
    json_object *line = json_object_new_object();
    json_object_object_add(line, "product_id",
                           json_object_new_string("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"));
    json_object_object_add(line, "quantity", json_object_new_int(1));
    json_object_array_add(lines, line);
    json_object_object_add(p, "lines", lines);
    return p;
}

static PGconn *inventory_db(const souk_config *cfg)
{
    souk_status st;
    PGconn *db = souk_db_connect(cfg, SOUK_SCHEMA_INVENTORY, &st);
    if (!db) {
        fprintf(stderr, "bench: cannot connect as inventory: %s\n", souk_strerror(st));
        exit(1);
    }
    return db;
}

static void add_events(PGconn *db, const char *order_id, long count)
{
    json_object *payload = stock_released(order_id);
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    for (long i = 0; tx && i < count; i++) {
        souk_outbox_event ev = {
            .type = SOUK_EVENT_STOCK_RELEASED, .correlation_id = order_id, .payload = payload};
        if (souk_tx_emit(tx, &ev, NULL) != SOUK_OK)
            break;
    }
    /* The inventory worker relays it: wake it across processes. */
    if (!tx || souk_tx_notify_relays(tx, SOUK_SCHEMA_INVENTORY) != SOUK_OK ||
        souk_tx_commit(tx) != SOUK_OK) {
        fprintf(stderr, "bench: adding outbox rows failed: %s\n",
                tx ? souk_tx_error(tx) : souk_strerror(st));
        exit(1);
    }
    souk_tx_free(tx);
    json_object_put(payload);
}

static const char *const COUNT_SQL =
    "SELECT count(*) FROM analytics.order_events WHERE order_id = $1";

static double bench_pipeline(const souk_config *cfg, long count)
{
    char run[37];
    souk_uuid_v4(run);
    PGconn *db = inventory_db(cfg);
    PGconn *admin = admin_db();
    /* The clock starts at the commit: this measures outbox -> relay ->
     * broker -> consumer, not how fast the bench can insert rows. */
    add_events(db, run, count);
    double start = now_s();
    double deadline = start + 300;
    while (query_long(admin, COUNT_SQL, run) < count) {
        if (now_s() > deadline) {
            fprintf(stderr, "bench: pipeline did not drain in 300 s\n");
            exit(1);
        }
        sleep_until(now_s() + 0.02);
    }
    double elapsed = now_s() - start;
    PQfinish(db);
    PQfinish(admin);
    return (double)count / elapsed;
}

static void bench_latency(const souk_config *cfg, double rate, double seconds, double *p50,
                          double *p99, long *events)
{
    char run[37];
    souk_uuid_v4(run);
    PGconn *db = inventory_db(cfg);
    long total = (long)(rate * seconds);
    double start = now_s();
    /* Open loop: event i is due at start + i / rate, whatever happened before. */
    for (long i = 0; i < total; i++) {
        sleep_until(start + (double)i / rate);
        add_events(db, run, 1);
    }
    PGconn *admin = admin_db();
    double deadline = now_s() + 120;
    while (query_long(admin, COUNT_SQL, run) < total && now_s() < deadline)
        sleep_until(now_s() + 0.05);
    const char *params[1] = {run};
    PGresult *res = PQexecParams(
        admin,
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), count(*) FROM ("
        "SELECT extract(epoch FROM (e.received_at - o.created_at)) * 1000 AS ms "
        "FROM analytics.order_events e JOIN inventory.outbox o ON o.message_id = e.message_id "
        "WHERE e.order_id = $1) x",
        1, NULL, params, NULL, NULL, 0);
    *p50 = strtod(PQgetvalue(res, 0, 0), NULL);
    *p99 = strtod(PQgetvalue(res, 0, 1), NULL);
    *events = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    PQfinish(admin);
    PQfinish(db);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "messaging") != 0) {
        fprintf(stderr, "usage: souk-bench messaging\n");
        return 2;
    }
    long raw_count = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
    long pipe_count = argc > 3 ? strtol(argv[3], NULL, 10) : 30000;
    souk_config *admin_cfg = NULL, *inv_cfg = NULL;
    char err[256];
    if (souk_config_load(&inv_cfg, "inventory", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    setenv("SOUK_AMQP_USER", getenv("SOUK_BENCH_ADMIN_USER"), 1);
    setenv("SOUK_AMQP_PASSWORD", getenv("SOUK_BENCH_ADMIN_PASSWORD"), 1);
    if (souk_config_load(&admin_cfg, "bench", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }

    printf("messaging benchmark (nproc=%ld)\n", sysconf(_SC_NPROCESSORS_ONLN));
    double rabbit = bench_raw_rabbit(admin_cfg, raw_count);
    printf("  raw RabbitMQ  persistent publish+confirm+consume   %8.0f msg/s  (%ld messages)\n",
           rabbit, raw_count);
    fflush(stdout);
    double pg = bench_raw_pg(8, 8.0);
    printf(
        "  raw PostgreSQL inbox+update+outbox transactions   %8.0f tx/s   (8 connections, 8 s)\n",
        pg);
    fflush(stdout);
    double ours = bench_pipeline(inv_cfg, pipe_count);
    double lower = rabbit < pg ? rabbit : pg;
    printf("  Souk outbox -> relay -> broker -> inbox consumer   %8.0f msg/s  (%ld messages)\n",
           ours, pipe_count);
    printf("  ratio to the lower raw limit (%s)             %8.2f       (target >= 0.50)\n",
           rabbit < pg ? "RabbitMQ  " : "PostgreSQL", ours / lower);
    fflush(stdout);
    double p50 = 0, p99 = 0;
    long events = 0;
    bench_latency(inv_cfg, ours / 2, 10.0, &p50, &p99, &events);
    printf("  latency commit -> handler commit at %5.0f msg/s     p50 %6.2f ms  p99 %6.2f ms  "
           "(%ld events; target p50 < 10 ms)\n",
           ours / 2, p50, p99, events);
    souk_config_free(admin_cfg);
    souk_config_free(inv_cfg);
    return 0;
}
