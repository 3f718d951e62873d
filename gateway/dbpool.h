/* A fixed-size pool of PostgreSQL connections to one schema, shared by the
 * gateway's request threads. Connections open lazily and are replaced when
 * they break. */
#ifndef SOUK_GATEWAY_DBPOOL_H
#define SOUK_GATEWAY_DBPOOL_H

#include <libpq-fe.h>

#include "core/config.h"
#include "core/status.h"

typedef struct souk_dbpool souk_dbpool;

/* A pool of up to size connections to schema, as its owner role or, with
 * as_gateway, as its gateway role. cfg must outlive the pool. */
souk_dbpool *souk_dbpool_new(const souk_config *cfg, souk_db_schema schema, int as_gateway,
                             int size);

void souk_dbpool_free(souk_dbpool *pool);

/* Takes a connection, waiting up to 5 s for a free one. Returns NULL with
 * *status SOUK_EDB_UNAVAILABLE when none can be had. */
PGconn *souk_dbpool_acquire(souk_dbpool *pool, souk_status *status)
    __attribute__((warn_unused_result));

/* Gives a connection back. One left broken or inside a transaction is
 * closed (a new one is opened on demand). Accepts NULL. */
void souk_dbpool_release(souk_dbpool *pool, PGconn *conn);

#endif
