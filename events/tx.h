/* The unit of work: one PostgreSQL transaction of a writer (a handler's
 * batch, a gateway request, the order deadline sweep), the outbox events it
 * emits, and the memory it uses meanwhile. Every writer begins, runs its
 * statements, emits its events and commits through it, so that a state
 * change and its events commit together or not at all, the relays are woken
 * exactly when events were committed, and nothing is left open:
 *
 *   souk_tx *tx = souk_tx_begin(db, &st);         BEGIN
 *   PGresult *r = souk_tx_exec(tx, SQL, n, params); prepared once per connection
 *   souk_tx_emit(tx, &event, message_id);         an outbox row
 *   souk_tx_commit(tx);                           COMMIT, wake the relays
 *   souk_tx_free(tx);                             ROLLBACK if still open; always
 *
 * After a statement fails the transaction is aborted: later statements and
 * events fail at once with the first failure, and a commit rolls back and
 * returns it (PostgreSQL answers COMMIT of an aborted transaction with a
 * silent ROLLBACK). scripts/lint.sh refuses BEGIN, COMMIT and ROLLBACK
 * anywhere else outside the relay, the tools and the benchmarks. */
#ifndef SOUK_EVENTS_TX_H
#define SOUK_EVENTS_TX_H

#include <libpq-fe.h>
#include <stddef.h>

#include "core/status.h"
#include "events/outbox.h"

typedef struct souk_tx souk_tx;

/* Begins a transaction on db (borrowed: it must outlive the tx). Returns
 * NULL with *status set when BEGIN failed. */
souk_tx *souk_tx_begin(PGconn *db, souk_status *status) __attribute__((warn_unused_result));

/* Runs a parameterised statement, prepared once per connection
 * (souk_db_exec_prepared: sql must be a string literal or otherwise live
 * as long as the connection). Returns the result (the caller clears it), or
 * NULL when it failed; the failure is then the tx's status and error. */
PGresult *souk_tx_exec(souk_tx *tx, const char *sql, int count, const char *const *params)
    __attribute__((warn_unused_result));

/* Adds ev to the outbox of the connection's schema, inside the tx. Returns
 * SOUK_OK (message_id, when not NULL, receives the new id), SOUK_ESCHEMA
 * when the payload breaks the event's schema, or the database's status;
 * either failure aborts the tx. */
souk_status souk_tx_emit(souk_tx *tx, const souk_outbox_event *ev, char message_id[37])
    __attribute__((warn_unused_result));

/* For writers in a process that does not relay the outbox (tools, tests,
 * benchmarks): asks the relays of every process to look at schema's outbox
 * once the tx commits. Services do not use it: PostgreSQL serializes the
 * commits of notifying transactions. Returns SOUK_OK or the failure, which
 * aborts the tx. */
souk_status souk_tx_notify_relays(souk_tx *tx, souk_db_schema schema)
    __attribute__((warn_unused_result));

/* Commits tx. When it emitted events, wakes this process's relays after
 * the commit. Returns SOUK_OK, or the failure that stopped the tx (the
 * transaction is then rolled back). The caller still frees tx. */
souk_status souk_tx_commit(souk_tx *tx) __attribute__((warn_unused_result));

/* Rolls back what is uncommitted and frees tx and its arena; NULL is
 * ignored. */
void souk_tx_free(souk_tx *tx);

/* The connection, for reads that need the tx's snapshot or locks; run
 * writes through souk_tx_exec. */
PGconn *souk_tx_db(const souk_tx *tx);

/* SOUK_OK, or the first failure. */
souk_status souk_tx_status(const souk_tx *tx);

/* What failed, for logs ("" while nothing has). */
const char *souk_tx_error(const souk_tx *tx);

/* Events emitted so far. */
int souk_tx_events(const souk_tx *tx);

/* size bytes, zeroed, that live until the tx ends (the arena of the unit of
 * work: no free of its own). */
void *souk_tx_alloc(souk_tx *tx, size_t size);

/* A copy of text in the tx's arena. */
char *souk_tx_strdup(souk_tx *tx, const char *text);

#endif
