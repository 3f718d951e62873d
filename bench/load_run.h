/* The checkout phase of souk-load. Each checkout is one POST /orders (one
 * line, quantity 1, a random product; the direct order runs the same saga
 * as cart + checkout in one request) with its own Idempotency-Key, retried
 * with that key on 429 (after its Retry-After), 5xx, transport errors and a
 * concurrent request's 409, with capped exponential backoff, until the
 * per-order timeout (then it counts as not accepted); then GET
 * /orders/{id} every poll_ms until COMPLETED or CANCELLED, or until the
 * per-order timeout (then the order counts as stuck).
 *   closed loop (concurrency C): C slots, each starting its next checkout
 *     as soon as its previous one is final;
 *   open loop (rate R): checkout i is due at start + i/R whatever happened
 *     before, and its latency counts from that due time, so a slow system
 *     cannot hide its queueing (no coordinated omission).
 * New checkouts start for duration_s; the run then waits for those in
 * flight. A progress line goes to stderr every second. */
#ifndef SOUK_LOAD_RUN_H
#define SOUK_LOAD_RUN_H

#include "bench/load.h"
#include "bench/load_http.h"
#include "bench/load_rss.h"

/* Runs the checkouts and fills r; samples rss once a second. A first
 * SIGINT stops new checkouts early. */
void load_run_checkouts(const struct load_opts *o, struct load_world *w, load_http *h,
                        load_rss *rss, struct load_results *r);

void load_results_free(struct load_results *r);

/* True when a final order ended as its scenario says: happy COMPLETED,
 * the others CANCELLED with their reason. */
int load_run_expected(const struct load_order *o);

/* The cancel reason as GET /orders/{id} spells it ("other" for the rest). */
const char *load_reason_name(enum load_reason reason);

#endif
