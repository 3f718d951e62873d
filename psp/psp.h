/* The stand-in payment provider's ledger and HTTP routes: idempotent
 * charges and refunds kept in memory (and in a journal file when one is
 * opened, so that they survive a restart), with deterministic outcomes
 * chosen by test tokens (tok_approve, tok_decline, tok_timeout, tok_error,
 * tok_flaky) and an amount limit. Interface:
 *   POST /charges, POST /refunds, GET /charges/{id}, GET /stats, GET /healthz. */
#ifndef SOUK_PSP_PSP_H
#define SOUK_PSP_PSP_H

#include <civetweb.h>
#include <stddef.h>

/* Charges above this many minor units decline with "amount_limit". */
#define SOUK_PSP_AMOUNT_LIMIT 1000000LL

typedef struct souk_psp souk_psp;

/* Returns a new, empty ledger holding at most max_entries charges, refunds
 * and remembered flaky attempts together (beyond that requests answer 503).
 * timeout_sleep_ms is how long a tok_timeout charge waits before answering.
 * Free with souk_psp_free. */
souk_psp *souk_psp_new(long timeout_sleep_ms, size_t max_entries);

/* Replays the journal at path (if it exists) into the new ledger psp, then
 * appends every later charge, refund and first tok_flaky failure to it
 * before answering. Sets *restored to the entries replayed (torn or unknown
 * lines are skipped). Returns 0, or -1 with err set when the file cannot
 * be opened for appending. Call before the routes are registered. */
int souk_psp_journal_open(souk_psp *psp, const char *path, long *restored, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees the ledger; accepts NULL. Call after mg_stop. */
void souk_psp_free(souk_psp *psp);

/* Registers every route on ctx with psp as their data; psp must outlive ctx. */
void souk_psp_register(struct mg_context *ctx, souk_psp *psp);

/* Cuts short every tok_timeout wait and waits (at most a second) until
 * those charges are answered, so that mg_stop neither waits for them nor
 * cuts their answers off. Call it just before mg_stop. */
void souk_psp_stop(souk_psp *psp);

#endif
