/* souk-load's PostgreSQL side, over a superuser connection (--pg): the
 * database clock at the start of the run, the money check, pending outbox
 * rows and the work the saga did (inbox and outbox rows). Every query is
 * parameterized; order ids travel as one uuid[] parameter. A connection
 * lost to a database restart is opened again (tried for up to 30 s) and the
 * query run once more, so a restart during the run does not fail a check. */
#ifndef SOUK_LOAD_DB_H
#define SOUK_LOAD_DB_H

#include <stddef.h>

#include "bench/load.h"

#define LOAD_OUTBOX_SCHEMAS 5
#define LOAD_INBOX_SCHEMAS  6

extern const char *const load_outbox_schemas[LOAD_OUTBOX_SCHEMAS];
extern const char *const load_inbox_schemas[LOAD_INBOX_SCHEMAS];

typedef struct load_db load_db;

/* Returns NULL with err set when the connection fails. */
load_db *load_db_open(const char *conninfo, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void load_db_close(load_db *db);

/* Remembers the database's now() as the start of the run. Returns 0 or -1. */
int load_db_mark_start(load_db *db) __attribute__((warn_unused_result));

/* Money of the run's accepted orders: *paid = captured minus refunded in
 * payment.payments, *owed = total_minor of the COMPLETED ones in
 * orders.orders. Returns 0, or -1 with err set. */
int load_db_money(load_db *db, const struct load_results *r, long long *paid, long long *owed,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

/* The per-order database invariants of a run (load_checks.h says what
 * each holds). Each is one statement over the run's accepted orders ($1,
 * uuid[]) and their Idempotency-Keys ($2, text[], in the same order) that
 * returns one row: how many it examined, a count of each violation, and
 * one offending order id (NULL when none). */
#define LOAD_DB_CHECKS         6
#define LOAD_DB_VIOLATIONS_MAX 4

struct load_db_check {
    const char *name;                              /* the invariant */
    const char *examined;                          /* what the first count counts */
    int violations;                                /* how many counts follow */
    const char *violation[LOAD_DB_VIOLATIONS_MAX]; /* what each means */
    const char *sql;
};

extern const struct load_db_check load_db_checks[LOAD_DB_CHECKS];

struct load_db_finding {
    long long examined;
    long long count[LOAD_DB_VIOLATIONS_MAX];
    char sample[40]; /* an offending order id, or "" */
};

/* Runs one of load_db_checks over the run's accepted orders into *f.
 * Returns 0, or -1 with err set. */
int load_db_check_run(load_db *db, const struct load_db_check *check, const struct load_results *r,
                      struct load_db_finding *f, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Rows with sent_at IS NULL per outbox (load_outbox_schemas order). */
int load_db_pending_outbox(load_db *db, long pending[LOAD_OUTBOX_SCHEMAS], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Inbox rows processed and outbox rows written since the start mark. */
int load_db_work(load_db *db, long inbox[LOAD_INBOX_SCHEMAS], long outbox[LOAD_OUTBOX_SCHEMAS],
                 char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
