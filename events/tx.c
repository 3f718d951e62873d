/* The unit of work (see tx.h). */
#include "events/tx.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"

/* Arena blocks: most units of work need less than the first. */
#define ARENA_BLOCK 4096

struct block {
    struct block *next;
    size_t used, size;
    _Alignas(max_align_t) unsigned char data[];
};

struct souk_tx {
    PGconn *db;
    int open;   /* BEGIN done, neither COMMIT nor ROLLBACK yet */
    int events; /* outbox rows added */
    souk_status status;
    char error[512];
    struct block *blocks;
};

static void fail(souk_tx *tx, souk_status status, const char *fmt, const char *detail)
{
    if (tx->status != SOUK_OK)
        return; /* the first failure is the one that matters */
    tx->status = status;
    snprintf(tx->error, sizeof tx->error, fmt, detail);
    tx->error[strcspn(tx->error, "\n")] = '\0';
}

souk_tx *souk_tx_begin(PGconn *db, souk_status *status)
{
    *status = souk_db_exec(db, "BEGIN");
    if (*status != SOUK_OK)
        return NULL;
    souk_tx *tx = souk_calloc(1, sizeof *tx);
    tx->db = db;
    tx->open = 1;
    return tx;
}

PGresult *souk_tx_exec(souk_tx *tx, const char *sql, int count, const char *const *params)
{
    if (tx->status != SOUK_OK)
        return NULL;
    PGresult *res = souk_db_exec_prepared(tx->db, sql, count, params);
    souk_status st = souk_db_result_status(tx->db, res);
    if (st == SOUK_OK)
        return res;
    fail(tx, st, "database: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(tx->db));
    PQclear(res);
    return NULL;
}

souk_status souk_tx_emit(souk_tx *tx, const souk_outbox_event *ev, char message_id[37])
{
    if (tx->status != SOUK_OK)
        return tx->status;
    char id[37];
    const char *params[SOUK_OUTBOX_PARAMS];
    char why[sizeof tx->error];
    souk_status st = souk_outbox_row(ev, id, params, why, sizeof why);
    if (st != SOUK_OK) {
        fail(tx, st, "%s", why);
        return st;
    }
    PGresult *res = souk_tx_exec(tx, souk_outbox_insert_sql, SOUK_OUTBOX_PARAMS, params);
    if (!res)
        return tx->status;
    PQclear(res);
    tx->events++;
    if (message_id)
        memcpy(message_id, id, 37);
    return SOUK_OK;
}

souk_status souk_tx_notify_relays(souk_tx *tx, souk_db_schema schema)
{
    if (tx->status != SOUK_OK)
        return tx->status;
    char sql[96];
    snprintf(sql, sizeof sql, "NOTIFY %s_outbox", souk_db_schema_name(schema));
    PGresult *res = PQexec(tx->db, sql);
    souk_status st = souk_db_result_status(tx->db, res);
    if (st != SOUK_OK)
        fail(tx, st, "notify: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(tx->db));
    PQclear(res);
    return st;
}

static void end(souk_tx *tx, const char *command)
{
    PGresult *res = PQexec(tx->db, command);
    PQclear(res);
    tx->open = 0;
}

souk_status souk_tx_commit(souk_tx *tx)
{
    if (!tx->open)
        return tx->status != SOUK_OK ? tx->status : SOUK_EINVAL;
    if (tx->status != SOUK_OK) {
        end(tx, "ROLLBACK");
        return tx->status;
    }
    PGresult *res = PQexec(tx->db, "COMMIT");
    souk_status st = souk_db_result_status(tx->db, res);
    /* An aborted transaction answers COMMIT with the tag ROLLBACK. */
    if (st == SOUK_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        st = SOUK_EDB;
    if (st != SOUK_OK)
        fail(tx, st, "commit: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(tx->db));
    PQclear(res);
    tx->open = 0;
    if (st == SOUK_OK && tx->events > 0)
        souk_outbox_wake_relays();
    return st;
}

void souk_tx_free(souk_tx *tx)
{
    if (!tx)
        return;
    if (tx->open && PQstatus(tx->db) == CONNECTION_OK)
        end(tx, "ROLLBACK");
    for (struct block *b = tx->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(tx);
}

PGconn *souk_tx_db(const souk_tx *tx)
{
    return tx->db;
}

souk_status souk_tx_status(const souk_tx *tx)
{
    return tx->status;
}

const char *souk_tx_error(const souk_tx *tx)
{
    return tx->error;
}

int souk_tx_events(const souk_tx *tx)
{
    return tx->events;
}

void *souk_tx_alloc(souk_tx *tx, size_t size)
{
    size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    struct block *b = tx->blocks;
    if (!b || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = souk_malloc(sizeof *b + cap);
        b->next = tx->blocks;
        b->used = 0;
        b->size = cap;
        tx->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *souk_tx_strdup(souk_tx *tx, const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = souk_tx_alloc(tx, n);
    memcpy(copy, text, n);
    return copy;
}
