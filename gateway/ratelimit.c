/* Token buckets in a fixed hash table split into stripes, each with its own
 * mutex, chains, least-recently-used list and share of the key cap, so
 * threads limiting different clients rarely wait on each other. Keys are
 * hashed with SipHash-2-4 under a random per-limiter key, because clients
 * choose them (addresses, user ids) and could otherwise pile them into one
 * chain. Each take also forgets up to IDLE_SCAN full buckets at the old end
 * of its stripe's list. */
#include "gateway/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/mem.h"

#define STRIPE_BITS        4
#define STRIPES            (1u << STRIPE_BITS)
#define BUCKETS_PER_STRIPE 1024u /* 16384 chains in all */
#define IDLE_SCAN          4
#define IDLE_SECONDS       1.0

typedef struct entry {
    struct entry *chain; /* next in the same hash bucket */
    struct entry *older; /* least-recently-used list of the stripe */
    struct entry *newer;
    uint64_t hash;
    double tokens;
    double last; /* time tokens was computed at */
    size_t keylen;
    char key[];
} entry;

typedef struct stripe {
    pthread_mutex_t lock;
    entry *buckets[BUCKETS_PER_STRIPE];
    entry *oldest;
    entry *newest;
    size_t count;
    double horizon; /* latest time a bucket of this stripe was forgotten at */
} stripe;

struct souk_ratelimit {
    double rate;
    double burst;
    size_t cap_per_stripe;
    uint64_t sipkey[2];
    atomic_size_t keys;
    stripe stripes[STRIPES];
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

/* SipHash-2-4 (Aumasson and Bernstein) of in[0..len) under key k. */
static uint64_t siphash(const unsigned char *in, size_t len, const uint64_t k[2])
{
    uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k[0];
    uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k[1];
    uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k[0];
    uint64_t v3 = UINT64_C(0x7465646279746573) ^ k[1];
    uint64_t b = (uint64_t)len << 56;
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = 0;
        for (int j = 7; j >= 0; j--)
            m = (m << 8) | in[i + (size_t)j];
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < len % 8; j++)
        b |= (uint64_t)in[whole + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

souk_ratelimit *souk_ratelimit_new(double rate_per_second, double burst)
{
    if (!isfinite(rate_per_second) || !isfinite(burst) || rate_per_second <= 0 || burst < 1)
        return NULL;
    souk_ratelimit *rl = souk_calloc(1, sizeof *rl);
    rl->rate = rate_per_second;
    rl->burst = burst;
    rl->cap_per_stripe = SOUK_RATELIMIT_MAX_KEYS / STRIPES;
    if (getrandom(rl->sipkey, sizeof rl->sipkey, 0) != (ssize_t)sizeof rl->sipkey) {
        /* No entropy (very early boot): still a working table, only less
         * resistant to crafted keys. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rl->sipkey[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)rl;
        rl->sipkey[1] = (uint64_t)ts.tv_sec;
    }
    atomic_init(&rl->keys, 0);
    for (unsigned i = 0; i < STRIPES; i++) {
        souk_assert(pthread_mutex_init(&rl->stripes[i].lock, NULL) == 0);
        rl->stripes[i].horizon = -INFINITY;
    }
    return rl;
}

void souk_ratelimit_free(souk_ratelimit *rl)
{
    if (!rl)
        return;
    for (unsigned i = 0; i < STRIPES; i++) {
        stripe *s = &rl->stripes[i];
        for (entry *e = s->oldest, *next; e; e = next) {
            next = e->newer;
            free(e);
        }
        pthread_mutex_destroy(&s->lock);
    }
    free(rl);
}

static entry **chain_head(stripe *s, uint64_t hash)
{
    return &s->buckets[hash % BUCKETS_PER_STRIPE];
}

static void lru_unlink(stripe *s, entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    e->older = e->newer = NULL;
}

static void lru_push_newest(stripe *s, entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
}

/* Drops e, judged at time now. Threads read their clocks at slightly
 * different moments, so a take stamped before now may come next: a bucket
 * recreated then must not start before now, or it would earn the interval
 * twice. Hence the horizon, which new buckets start from. */
static void forget(souk_ratelimit *rl, stripe *s, entry *e, double now)
{
    s->horizon = fmax(s->horizon, now);
    entry **link = chain_head(s, e->hash);
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
    lru_unlink(s, e);
    s->count--;
    atomic_fetch_sub(&rl->keys, 1);
    free(e);
}

/* Whether e's bucket has refilled completely by now: then it is the same as
 * a bucket that was never created. */
static int is_full(const souk_ratelimit *rl, const entry *e, double now)
{
    double elapsed = now > e->last ? now - e->last : 0;
    return e->tokens + elapsed * rl->rate >= rl->burst;
}

static entry *lookup(stripe *s, uint64_t hash, const char *key, size_t keylen)
{
    for (entry *e = *chain_head(s, hash); e; e = e->chain)
        if (e->hash == hash && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
            return e;
    return NULL;
}

int souk_ratelimit_take(souk_ratelimit *rl, const char *key, double now_seconds,
                        double *retry_after_seconds)
{
    souk_assert(rl && key);
    size_t keylen = strlen(key);
    uint64_t hash = siphash((const unsigned char *)key, keylen, rl->sipkey);
    stripe *s = &rl->stripes[hash >> (64 - STRIPE_BITS)];

    pthread_mutex_lock(&s->lock);
    entry *e = lookup(s, hash, key, keylen);
    /* Forget idle full buckets, never the one about to be used, and only
     * those idle for a second: under a very high rate every bucket is full
     * at once, and forgetting busy keys would only churn the allocator. */
    for (int i = 0;
         i < IDLE_SCAN && s->oldest && s->oldest != e &&
         now_seconds - s->oldest->last >= IDLE_SECONDS && is_full(rl, s->oldest, now_seconds);
         i++)
        forget(rl, s, s->oldest, now_seconds);
    if (e) {
        if (now_seconds > e->last) {
            e->tokens = fmin(rl->burst, e->tokens + (now_seconds - e->last) * rl->rate);
            e->last = now_seconds;
        }
        lru_unlink(s, e);
    } else {
        if (s->count >= rl->cap_per_stripe)
            forget(rl, s, s->oldest, now_seconds);
        e = souk_malloc(sizeof *e + keylen + 1);
        e->hash = hash;
        e->tokens = rl->burst;
        e->last = fmax(now_seconds, s->horizon);
        e->keylen = keylen;
        memcpy(e->key, key, keylen + 1);
        entry **head = chain_head(s, hash);
        e->chain = *head;
        *head = e;
        s->count++;
        atomic_fetch_add(&rl->keys, 1);
    }
    lru_push_newest(s, e);

    int allowed = e->tokens >= 1;
    if (allowed)
        e->tokens -= 1;
    else if (retry_after_seconds)
        *retry_after_seconds = (1 - e->tokens) / rl->rate;
    pthread_mutex_unlock(&s->lock);
    return allowed;
}

size_t souk_ratelimit_sweep(souk_ratelimit *rl, double now_seconds)
{
    size_t forgotten = 0;
    for (unsigned i = 0; i < STRIPES; i++) {
        stripe *s = &rl->stripes[i];
        pthread_mutex_lock(&s->lock);
        for (entry *e = s->oldest, *next; e; e = next) {
            next = e->newer;
            if (is_full(rl, e, now_seconds)) {
                forget(rl, s, e, now_seconds);
                forgotten++;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    return forgotten;
}

size_t souk_ratelimit_keys(const souk_ratelimit *rl)
{
    return atomic_load(&rl->keys);
}
