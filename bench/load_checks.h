/* The invariants souk-load checks after a run, each passed, failed (with
 * what broke) or skipped (its option not given):
 *   checkouts_accepted  every checkout got its 202 (after retries)
 *   orders_final        every accepted order reached COMPLETED or CANCELLED
 *                       within the per-order timeout
 *   outcomes_expected   every final order ended as its scenario says (happy
 *                       COMPLETED; tok_decline, the product without stock,
 *                       country AQ: CANCELLED with that reason)
 *   no_oversell         per product, via the API: on_hand >= 0, on_hand +
 *                       sold = initial stock, reserved = 0, sold = orders
 *                       of it seen COMPLETED (at least that many when some
 *                       order was stuck: it may complete after its timeout)
 *   money_balances      (--pg) captured minus refunded = total_minor of the
 *                       COMPLETED orders, over this run's order ids
 *   (--pg) per order of the run, nothing lost and nothing doubled, from
 *   each service's own tables (load_db_checks in load_db.c):
 *   one_order_per_checkout  each key has its one checkout row naming the
 *                       order the client was given, that order exists, and
 *                       the run's customers have no other order
 *   cancelled_not_charged   a CANCELLED order keeps no money (captured
 *                       minus refunded is 0)
 *   charged_once        at most one payment per order, of the order's
 *                       total, refunded whole or not at all; a COMPLETED
 *                       order paid exactly its total
 *   shipped_once        one shipment per COMPLETED order, none for a
 *                       CANCELLED one
 *   sold_once           a COMPLETED order's reservations sold for its
 *                       lines, a CANCELLED order sold nothing, no final
 *                       order still holds stock
 *   notified_once       each final order announced once, with its outcome
 *   outboxes_drained    (--pg) no outbox row left with sent_at NULL
 *   dlqs_empty          (management API) no *.dlq queue gained a message
 *                       during the run; messages already there before the
 *                       run are named but do not fail it
 * The API and database checks are retried for up to --grace seconds, since
 * compensations and the last relays may trail the final order status. */
#ifndef SOUK_LOAD_CHECKS_H
#define SOUK_LOAD_CHECKS_H

#include "bench/load.h"
#include "bench/load_db.h"
#include "bench/load_http.h"

enum {
    LOAD_CHECK_ACCEPTED,
    LOAD_CHECK_FINAL,
    LOAD_CHECK_OUTCOMES,
    LOAD_CHECK_STOCK,
    LOAD_CHECK_MONEY,
    LOAD_CHECK_DB_FIRST, /* then the LOAD_DB_CHECKS of load_db_checks, in order */
    LOAD_CHECK_OUTBOX = LOAD_CHECK_DB_FIRST + LOAD_DB_CHECKS,
    LOAD_CHECK_DLQ,
    LOAD_CHECKS
};

enum load_check_state { LOAD_CHECK_SKIPPED = -1, LOAD_CHECK_FAILED = 0, LOAD_CHECK_PASSED = 1 };

struct load_check {
    const char *name;
    enum load_check_state state;
    char detail[512];
};

struct load_queue_depth {
    char name[128];
    long messages;
};

typedef struct load_checks {
    struct load_check c[LOAD_CHECKS];
    struct load_queue_depth *before; /* queue depths when the run started */
    int before_count;
    int before_known;
} load_checks;

/* Records the queue depths at the start (no-op without a management URL). */
void load_checks_start(load_checks *k, const struct load_opts *o);

/* Runs every check (db may be NULL). Returns 1 when none failed. */
int load_checks_run(load_checks *k, const struct load_opts *o, const struct load_world *w,
                    load_http *h, load_db *db, const struct load_results *r);

void load_checks_free(load_checks *k);

#endif
