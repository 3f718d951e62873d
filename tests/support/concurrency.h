/* Concurrency scenarios of the modules that run threads, shared by their
 * Criterion tests and by souk-tsan-scenarios, the program `souk test
 * --tsan` runs under ThreadSanitizer (Criterion itself cannot start under
 * TSan: its boxfort arena wants addresses TSan's shadow memory holds).
 * Each scenario runs its threads to the end and returns 0 when what it
 * checks held, or -1 with the reason in why. The ones taking a cfg need
 * the PostgreSQL (and RabbitMQ) of `souk test`. No Criterion here. */
#ifndef SOUK_TESTS_CONCURRENCY_H
#define SOUK_TESTS_CONCURRENCY_H

#include <stddef.h>

#include "core/config.h"

/* gateway/ratelimit: threads taking from one bucket (and churning keys of
 * their own) at simulated times never get more than burst + refill. */
int tc_ratelimit_takes(char *why, size_t cap);

/* gateway/tokencache: threads replacing and reading entries of one cache
 * only ever hit their own token's claims. */
int tc_tokencache_puts_and_gets(char *why, size_t cap);

/* gateway/waitbudget: threads taking and giving slots never hold more than
 * the budget, and every slot comes back. */
int tc_waitbudget_takes_and_gives(char *why, size_t cap);

/* gateway/orderwatch: request threads waiting on two orders; a NOTIFY on
 * orders_status wakes the waiters of its order only, the others wait out
 * their deadline. cfg: the gateway's. */
int tc_orderwatch_notification(const souk_config *cfg, char *why, size_t cap);

/* gateway/orderwatch: a shutdown wakes every waiter at once (as no change)
 * and later waits return at once. */
int tc_orderwatch_shutdown(const souk_config *cfg, char *why, size_t cap);

/* events/outbox and events/tx: writer threads commit outbox rows through
 * souk_tx_commit while the process's relay waits with a fallback poll
 * of a minute; the commits' wake-ups alone get every row published and
 * marked sent within seconds. cfg: the order service's, with
 * SOUK_OUTBOX_POLL_MS=60000. */
int tc_relay_wakeup(const souk_config *cfg, char *why, size_t cap);

#endif
