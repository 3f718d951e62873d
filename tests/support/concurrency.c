/* The concurrency scenarios of tests/support/concurrency.h. */
#include "tests/support/concurrency.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/outbox.h"
#include "events/tx.h"
#include "gateway/orderwatch.h"
#include "gateway/ratelimit.h"
#include "gateway/tokencache.h"
#include "gateway/waitbudget.h"
#include "tests/support/harness.h"

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Starts count threads of body over args (stride bytes apart) and joins
 * them; returns -1 when one could not start. */
static int run_threads(int count, void *(*body)(void *), void *args, size_t stride)
{
    pthread_t threads[16];
    int started = 0;
    for (; started < count && started < 16; started++)
        if (pthread_create(&threads[started], NULL, body, (char *)args + stride * (size_t)started))
            break;
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    return started == count ? 0 : -1;
}

/* ------------------------------------------------------------ ratelimit */

#define RL_THREADS 8
#define RL_STEPS   4000
#define RL_RATE    100.0
#define RL_BURST   10.0
#define RL_DT      0.001

typedef struct rl_worker {
    souk_ratelimit *rl;
    int id;
    atomic_int *shared_allowed;
    int own_allowed;
} rl_worker;

/* Each thread walks the same simulated clock, so takes at nearly the same
 * times race on one bucket; it also churns keys of its own. */
static void *rl_hammer(void *arg)
{
    rl_worker *w = arg;
    char key[32];
    for (int i = 0; i < RL_STEPS; i++) {
        double now = i * RL_DT;
        if (souk_ratelimit_take(w->rl, "shared", now, NULL))
            atomic_fetch_add(w->shared_allowed, 1);
        snprintf(key, sizeof key, "t%d", w->id);
        w->own_allowed += souk_ratelimit_take(w->rl, key, now, NULL);
        snprintf(key, sizeof key, "t%d-%d", w->id, i);
        (void)souk_ratelimit_take(w->rl, key, now, NULL);
    }
    return NULL;
}

int tc_ratelimit_takes(char *why, size_t cap)
{
    souk_ratelimit *rl = souk_ratelimit_new(RL_RATE, RL_BURST);
    atomic_int shared_allowed = 0;
    rl_worker workers[RL_THREADS];
    for (int t = 0; t < RL_THREADS; t++)
        workers[t] = (rl_worker){.rl = rl, .id = t, .shared_allowed = &shared_allowed};
    int rc = run_threads(RL_THREADS, rl_hammer, workers, sizeof workers[0]);
    double ceiling = RL_BURST + RL_RATE * (RL_STEPS - 1) * RL_DT;
    int total = atomic_load(&shared_allowed);
    if (rc != 0)
        rc = fail(why, cap, "threads did not start");
    else if (total > (int)ceiling)
        rc = fail(why, cap, "%d allowed, above the ceiling %.1f", total, ceiling);
    else if (total < (int)ceiling - 2) /* demand far exceeds supply: nearly all is used */
        rc = fail(why, cap, "%d allowed, far below the ceiling %.1f", total, ceiling);
    for (int t = 0; t < RL_THREADS && rc == 0; t++) {
        /* no lower bound near the ceiling here: a thread far ahead may forget
         * a slower thread's bucket, which then restarts at the later time */
        if (workers[t].own_allowed > (int)ceiling || workers[t].own_allowed < (int)RL_BURST)
            rc = fail(why, cap, "thread %d got %d of its own key", t, workers[t].own_allowed);
    }
    if (rc == 0 && souk_ratelimit_keys(rl) > SOUK_RATELIMIT_MAX_KEYS)
        rc = fail(why, cap, "%zu keys kept, above the cap", souk_ratelimit_keys(rl));
    souk_ratelimit_free(rl);
    return rc;
}

/* ----------------------------------------------------------- tokencache */

#define TC_THREADS 6
#define TC_LOOKUPS 20000

typedef struct tc_reader {
    souk_tokencache *cache;
    int id;
    int wrong; /* hits that returned another token's claims */
    int hits;
} tc_reader;

/* Even threads keep replacing the tokens in the cache's slots, every thread
 * looks them up and checks that a hit carries its own token's claims. */
static void *tc_look_up(void *arg)
{
    tc_reader *r = arg;
    for (int i = 0; i < TC_LOOKUPS; i++) {
        int n = (i * 7 + r->id) % 64;
        char token[64], sub[32];
        snprintf(token, sizeof token, "tok.user%d.sig", n);
        snprintf(sub, sizeof sub, "user%d", n);
        if (r->id % 2 == 0) {
            souk_jwt_claims in;
            memset(&in, 0, sizeof in);
            snprintf(in.sub, sizeof in.sub, "%s", sub);
            snprintf(in.role, sizeof in.role, "customer");
            in.exp = 100;
            souk_tokencache_put(r->cache, token, &in);
        }
        souk_jwt_claims out;
        if (souk_tokencache_get(r->cache, token, 50, 0, &out)) {
            r->hits++;
            r->wrong += strcmp(out.sub, sub) != 0;
        }
    }
    return NULL;
}

int tc_tokencache_puts_and_gets(char *why, size_t cap)
{
    souk_tokencache *c = souk_tokencache_new();
    tc_reader readers[TC_THREADS];
    for (int t = 0; t < TC_THREADS; t++)
        readers[t] = (tc_reader){.cache = c, .id = t};
    int rc = run_threads(TC_THREADS, tc_look_up, readers, sizeof readers[0]);
    if (rc != 0)
        rc = fail(why, cap, "threads did not start");
    for (int t = 0; t < TC_THREADS && rc == 0; t++) {
        if (readers[t].wrong)
            rc = fail(why, cap, "thread %d saw another token's claims %d times", t,
                      readers[t].wrong);
        else if (t % 2 == 0 && readers[t].hits == 0)
            rc = fail(why, cap, "thread %d never found the tokens it put", t);
    }
    souk_tokencache_free(c);
    return rc;
}

/* ----------------------------------------------------------- waitbudget */

#define WB_THREADS 8
#define WB_ROUNDS  2000
#define WB_TOTAL   4

typedef struct wb_worker {
    souk_waitbudget *budget;
    int id;
    atomic_int *holding; /* slots held at once, over every thread */
    atomic_int *most;    /* the most ever held at once */
    int granted;
} wb_worker;

/* Takes and gives back slots as request threads do, each thread as one of
 * three customers. */
static void *wb_wait_and_leave(void *arg)
{
    wb_worker *w = arg;
    char customer[16];
    snprintf(customer, sizeof customer, "customer-%d", w->id % 3);
    for (int i = 0; i < WB_ROUNDS; i++) {
        if (souk_waitbudget_take(w->budget, customer) != SOUK_WAIT_GRANTED)
            continue;
        w->granted++;
        int now = atomic_fetch_add(w->holding, 1) + 1;
        int most = atomic_load(w->most);
        while (now > most && !atomic_compare_exchange_weak(w->most, &most, now))
            ;
        atomic_fetch_sub(w->holding, 1);
        souk_waitbudget_give(w->budget, customer);
    }
    return NULL;
}

int tc_waitbudget_takes_and_gives(char *why, size_t cap)
{
    souk_waitbudget *b = souk_waitbudget_new(WB_TOTAL, 2);
    atomic_int holding = 0, most = 0;
    wb_worker workers[WB_THREADS];
    for (int t = 0; t < WB_THREADS; t++)
        workers[t] = (wb_worker){.budget = b, .id = t, .holding = &holding, .most = &most};
    int rc = run_threads(WB_THREADS, wb_wait_and_leave, workers, sizeof workers[0]);
    int granted = 0;
    for (int t = 0; t < WB_THREADS; t++)
        granted += workers[t].granted;
    if (rc != 0)
        rc = fail(why, cap, "threads did not start");
    else if (atomic_load(&most) > WB_TOTAL)
        rc = fail(why, cap, "%d slots held at once, budget %d", atomic_load(&most), WB_TOTAL);
    else if (granted == 0)
        rc = fail(why, cap, "no slot was ever granted");
    else if (souk_waitbudget_in_use(b) != 0)
        rc = fail(why, cap, "%d slots never came back", souk_waitbudget_in_use(b));
    souk_waitbudget_free(b);
    return rc;
}

/* ----------------------------------------------------------- orderwatch */

#define OW_WAITERS 8
#define OW_ORDER_A "aaaaaaaa-0000-4000-8000-000000000001"
#define OW_ORDER_B "bbbbbbbb-0000-4000-8000-000000000002"

typedef struct ow_waiter {
    souk_orderwatch *watch;
    const char *order_id;
    double wait_s;
    atomic_int *joined;
    int woken;
    double seconds;
} ow_waiter;

/* A request thread of GET /orders/{id}?wait=: join, wait, leave. */
static void *ow_wait_for_order(void *arg)
{
    ow_waiter *w = arg;
    souk_orderwatch_waiter waiter;
    souk_orderwatch_join(w->watch, &waiter, w->order_id);
    atomic_fetch_add(w->joined, 1);
    double start = souk_monotonic_seconds();
    w->woken = souk_orderwatch_wait(w->watch, &waiter, start + w->wait_s);
    w->seconds = souk_monotonic_seconds() - start;
    souk_orderwatch_leave(w->watch, &waiter);
    return NULL;
}

/* A watch whose listener listens (its reconnect wake-up done), or NULL. */
static souk_orderwatch *ow_listening(const souk_config *cfg, char *why, size_t cap)
{
    souk_orderwatch *watch = souk_orderwatch_new(cfg);
    if (!watch) {
        fail(why, cap, "the order watch did not start");
        return NULL;
    }
    /* listening once its connection's last statement is the LISTEN; the
     * reconnect wake-up runs right after, before any waiter joins */
    if (th_wait_pg_long("SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND "
                        "query = 'LISTEN orders_status'",
                        "souk_orders_gateway", 1, 20000) < 1) {
        souk_orderwatch_free(watch);
        fail(why, cap, "the order watch never listened");
        return NULL;
    }
    th_sleep_ms(300);
    return watch;
}

/* Runs OW_WAITERS threads, odd ones on order B, and calls act once all
 * have joined; then joins them. */
static int ow_run(souk_orderwatch *watch, double a_wait_s, double b_wait_s,
                  void (*act)(souk_orderwatch *), ow_waiter *w)
{
    atomic_int joined = 0;
    pthread_t threads[OW_WAITERS];
    int started = 0;
    for (; started < OW_WAITERS; started++) {
        w[started] = (ow_waiter){.watch = watch,
                                 .order_id = started % 2 ? OW_ORDER_B : OW_ORDER_A,
                                 .wait_s = started % 2 ? b_wait_s : a_wait_s,
                                 .joined = &joined};
        if (pthread_create(&threads[started], NULL, ow_wait_for_order, &w[started]))
            break;
    }
    for (int tries = 0; atomic_load(&joined) < started && tries < 2000; tries++)
        th_sleep_ms(5);
    act(watch);
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    return started == OW_WAITERS ? 0 : -1;
}

static void ow_notify_a(souk_orderwatch *watch)
{
    (void)watch;
    PGconn *db = th_pg_admin();
    const char *params[] = {OW_ORDER_A};
    PQclear(
        PQexecParams(db, "SELECT pg_notify('orders_status', $1)", 1, NULL, params, NULL, NULL, 0));
    PQfinish(db);
}

int tc_orderwatch_notification(const souk_config *cfg, char *why, size_t cap)
{
    souk_orderwatch *watch = ow_listening(cfg, why, cap);
    if (!watch)
        return -1;
    ow_waiter w[OW_WAITERS];
    int rc = ow_run(watch, 20.0, 1.5, ow_notify_a, w);
    if (rc != 0)
        rc = fail(why, cap, "threads did not start");
    for (int i = 0; i < OW_WAITERS && rc == 0; i++) {
        int own = strcmp(w[i].order_id, OW_ORDER_A) == 0;
        if (own && (!w[i].woken || w[i].seconds > 10.0))
            rc = fail(why, cap, "waiter %d of the notified order: woken %d after %.2f s", i,
                      w[i].woken, w[i].seconds);
        else if (!own && (w[i].woken || w[i].seconds < 1.4))
            rc = fail(why, cap, "waiter %d of another order: woken %d after %.2f s", i, w[i].woken,
                      w[i].seconds);
    }
    souk_orderwatch_free(watch);
    return rc;
}

int tc_orderwatch_shutdown(const souk_config *cfg, char *why, size_t cap)
{
    souk_orderwatch *watch = ow_listening(cfg, why, cap);
    if (!watch)
        return -1;
    ow_waiter w[OW_WAITERS];
    double start = souk_monotonic_seconds();
    int rc = ow_run(watch, 30.0, 30.0, souk_orderwatch_shutdown, w);
    double took = souk_monotonic_seconds() - start;
    if (rc != 0)
        rc = fail(why, cap, "threads did not start");
    for (int i = 0; i < OW_WAITERS && rc == 0; i++)
        if (w[i].woken)
            rc = fail(why, cap, "waiter %d counted the shutdown as a change", i);
    if (rc == 0 && took > 10.0)
        rc = fail(why, cap, "the waiters took %.1f s to leave after the shutdown", took);
    if (rc == 0) {
        souk_orderwatch_waiter late;
        souk_orderwatch_join(watch, &late, OW_ORDER_A);
        start = souk_monotonic_seconds();
        if (souk_orderwatch_wait(watch, &late, start + 30.0) != 0 ||
            souk_monotonic_seconds() - start > 5.0)
            rc = fail(why, cap, "a wait after the shutdown did not return at once");
        souk_orderwatch_leave(watch, &late);
    }
    souk_orderwatch_free(watch);
    return rc;
}

/* --------------------------------------------------------- relay wake-up */

#define RW_WRITERS 4
#define RW_ROWS    5

typedef struct rw_writer {
    const souk_config *cfg;
    const char *order_id;
    json_object *payload; /* its own: json-c objects keep a print buffer */
    int committed;
    char error[256];
} rw_writer;

/* Commits RW_ROWS outbox rows, one unit of work each, as a handler does. */
static void *rw_write(void *arg)
{
    rw_writer *w = arg;
    souk_status st;
    PGconn *db = souk_db_connect(w->cfg, SOUK_SCHEMA_ORDERS, &st);
    for (int i = 0; db && i < RW_ROWS; i++) {
        souk_outbox_event ev = {
            .type = SOUK_EVENT_ORDER_CREATED, .correlation_id = w->order_id, .payload = w->payload};
        souk_tx *tx = souk_tx_begin(db, &st);
        if (tx)
            st = souk_tx_emit(tx, &ev, NULL);
        if (tx && st == SOUK_OK)
            st = souk_tx_commit(tx);
        if (tx && st != SOUK_OK)
            snprintf(w->error, sizeof w->error, "%s", souk_tx_error(tx));
        souk_tx_free(tx);
        if (st != SOUK_OK)
            break;
        w->committed++;
    }
    if (!db)
        snprintf(w->error, sizeof w->error, "cannot connect: %s", souk_strerror(st));
    PQfinish(db);
    return NULL;
}

int tc_relay_wakeup(const souk_config *cfg, char *why, size_t cap)
{
    char order[37], path[1024];
    souk_uuid_v4(order);
    snprintf(path, sizeof path, "%s/tests/schemas/OrderCreated/valid/full.json", SOUK_SOURCE_DIR);
    json_object *payload = json_object_from_file(path);
    if (!payload)
        return fail(why, cap, "cannot read %s", path);
    json_object_object_add(payload, "order_id", json_object_new_string(order));

    souk_status st;
    souk_relay *relay = souk_relay_start(cfg, SOUK_SCHEMA_ORDERS, SOUK_SERVICE_ORDER, &st);
    if (!relay) {
        json_object_put(payload);
        return fail(why, cap, "the relay did not start: %s", souk_strerror(st));
    }
    th_sleep_ms(1500); /* connected, first pass done: waiting on its poll of a minute */
    rw_writer writers[RW_WRITERS];
    for (int t = 0; t < RW_WRITERS; t++) {
        writers[t] = (rw_writer){.cfg = cfg, .order_id = order};
        json_object_deep_copy(payload, &writers[t].payload, NULL);
    }
    double start = souk_monotonic_seconds();
    int rc = run_threads(RW_WRITERS, rw_write, writers, sizeof writers[0]);
    int committed = 0;
    for (int t = 0; t < RW_WRITERS; t++) {
        committed += writers[t].committed;
        if (writers[t].committed != RW_ROWS && rc == 0)
            rc = fail(why, cap, "writer %d: %s", t, writers[t].error);
    }
    long pending = -1;
    if (rc == 0)
        pending = th_wait_pg_long("SELECT count(*) FROM orders.outbox WHERE correlation_id = $1 "
                                  "AND sent_at IS NULL",
                                  order, 0, 10000);
    double took = souk_monotonic_seconds() - start;
    if (rc == 0 && pending != 0)
        rc = fail(why, cap,
                  "%ld of %d rows still pending after %.1f s: the commits did not wake "
                  "the relay",
                  pending, committed, took);
    if (rc == 0 && souk_relay_published(relay) < (unsigned long long)committed)
        rc = fail(why, cap, "the relay counts %llu published, %d committed",
                  souk_relay_published(relay), committed);
    souk_relay_stop(relay);
    for (int t = 0; t < RW_WRITERS; t++)
        json_object_put(writers[t].payload);
    json_object_put(payload);
    /* the events went to the queues bound to OrderCreated */
    th_purge_queue("inventory-service");
    th_purge_queue("analytics-service");
    return rc;
}
