/* Per-client request rate limiting for the gateway: one token bucket per key
 * (a user id or a client address) refilling at a fixed rate up to a burst.
 * Thread-safe, and a client's requests never wait on each other for a lock;
 * memory is bounded by SOUK_RATELIMIT_MAX_KEYS, and a bucket that has
 * refilled completely (and sat idle for a second) is forgotten because it is
 * no different from a new one. The caller passes the time, so tests are
 * deterministic. */
#ifndef SOUK_GATEWAY_RATELIMIT_H
#define SOUK_GATEWAY_RATELIMIT_H

#include <stddef.h>

/* The most keys remembered at once. Past it a key not used for a while (an
 * approximation of the least recently used) is forgotten, which gives that
 * key a full bucket again: under a flood of distinct keys the limiter errs on
 * the side of letting requests through. */
#define SOUK_RATELIMIT_MAX_KEYS 100000

typedef struct souk_ratelimit souk_ratelimit;

/* Returns a limiter allowing burst requests at once per key and
 * rate_per_second on average, or NULL unless rate_per_second > 0 and
 * burst >= 1 (both finite). Free with souk_ratelimit_free. */
souk_ratelimit *souk_ratelimit_new(double rate_per_second, double burst)
    __attribute__((warn_unused_result));

/* Releases rl and every bucket; NULL is ignored. No thread may be using it. */
void souk_ratelimit_free(souk_ratelimit *rl);

/* Takes one token from key's bucket at time now_seconds (any monotonic
 * clock, in seconds; a time earlier than the bucket's last one refills
 * nothing). Returns 1 if the request is allowed, 0 if it is limited, and
 * then sets *retry_after_seconds (if not NULL) to the time until one token
 * is available, > 0. key is copied; memory per key grows with its length,
 * so pass short identifiers. rl and key must not be NULL. */
int souk_ratelimit_take(souk_ratelimit *rl, const char *key, double now_seconds,
                        double *retry_after_seconds);

/* Forgets every bucket that is full at now_seconds (for a periodic timer;
 * takes also forget a few as they go). Returns how many were forgotten. */
size_t souk_ratelimit_sweep(souk_ratelimit *rl, double now_seconds);

/* The number of keys currently remembered. */
size_t souk_ratelimit_keys(const souk_ratelimit *rl);

#endif
