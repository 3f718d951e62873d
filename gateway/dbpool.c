/* Mutex + condition variable connection pool. */
#include "gateway/dbpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/db.h"
#include "core/mem.h"

struct souk_dbpool {
    const souk_config *cfg;
    souk_db_schema schema;
    int as_gateway;
    int size;
    int open;       /* connections that exist (idle or lent) */
    int idle_count; /* entries of idle */
    PGconn **idle;
    pthread_mutex_t lock;
    pthread_cond_t freed;
};

souk_dbpool *souk_dbpool_new(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                             int size)
{
    souk_dbpool *pool = souk_calloc(1, sizeof *pool);
    pool->cfg = cfg;
    pool->schema = schema;
    pool->as_gateway = as_gateway;
    pool->size = size;
    pool->idle = souk_calloc((size_t)size, sizeof *pool->idle);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    return pool;
}

void souk_dbpool_free(souk_dbpool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < pool->idle_count; i++)
        PQfinish(pool->idle[i]);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool->idle);
    free(pool);
}

PGconn *souk_dbpool_acquire(souk_dbpool *pool, souk_status *status)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&pool->lock);
    while (pool->idle_count == 0 && pool->open >= pool->size) {
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->lock);
            *status = SOUK_EDB_UNAVAILABLE;
            return NULL;
        }
    }
    if (pool->idle_count > 0) {
        PGconn *conn = pool->idle[--pool->idle_count];
        pthread_mutex_unlock(&pool->lock);
        *status = SOUK_OK;
        return conn;
    }
    pool->open++; /* reserve the slot, connect outside the lock */
    pthread_mutex_unlock(&pool->lock);
    PGconn *conn = pool->as_gateway ? souk_db_connect_gateway(pool->cfg, pool->schema, status)
                                    : souk_db_connect(pool->cfg, pool->schema, status);
    /* A request's queries are short: PostgreSQL's JIT compilation, which
     * it starts on estimated cost alone, is never won back. The saga
     * list's count over 50,000 orders took 1.7 s of JIT for 20 ms of work
     * (the planner costs the view's subqueries as if each ran for every
     * row, where a CASE runs one or none). */
    if (conn && (*status = souk_db_exec(conn, "SET jit = off")) != SOUK_OK) {
        PQfinish(conn);
        conn = NULL;
    }
    if (!conn) {
        pthread_mutex_lock(&pool->lock);
        pool->open--;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
    }
    return conn;
}

void souk_dbpool_release(souk_dbpool *pool, PGconn *conn)
{
    if (!conn)
        return;
    int healthy = PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    pthread_mutex_lock(&pool->lock);
    if (healthy) {
        pool->idle[pool->idle_count++] = conn;
    } else {
        pool->open--;
    }
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
    if (!healthy)
        PQfinish(conn);
}
