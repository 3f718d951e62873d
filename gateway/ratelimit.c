/* Token buckets in a fixed hash table split into stripes, each with its own
 * read-write lock, chains, insertion-ordered list and share of the key cap.
 * A take of a known key holds only the read lock and updates its bucket with
 * compare-and-swaps (of its time stamp and its fill), so requests of the same
 * client never sleep on each
 * other (a mutex holder preempted on a busy two-core machine stalled every
 * request behind it). A bucket is kept as the time it will be full again
 * (the generic cell rate algorithm, equivalent to a token bucket), which fits
 * one atomic word. Only a new key takes the write lock; it first forgets up
 * to IDLE_SCAN idle full buckets at the old end of the list and, at the cap,
 * the oldest bucket not used since it was last passed over (second chance,
 * an approximation of least recently used without relinking on every use).
 * Keys are hashed with SipHash-2-4 under a random per-limiter key, because
 * clients choose them (addresses, user ids) and could otherwise pile them
 * into one chain. */
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

/* Slack for rounding when comparing token counts computed in doubles. */
#define TOKEN_EPSILON 1e-9

typedef struct entry {
    struct entry *chain; /* next in the same hash bucket */
    struct entry *older; /* insertion-ordered list of the stripe */
    struct entry *newer;
    uint64_t hash;
    _Atomic double full_at; /* the time the bucket holds burst tokens again */
    _Atomic double last;    /* latest time a take was stamped with */
    atomic_int used;        /* taken since eviction last passed over it */
    size_t keylen;
    char key[];
} entry;

typedef struct stripe {
    pthread_rwlock_t lock;
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
        souk_assert(pthread_rwlock_init(&rl->stripes[i].lock, NULL) == 0);
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
        pthread_rwlock_destroy(&s->lock);
    }
    free(rl);
}

static entry **chain_head(stripe *s, uint64_t hash)
{
    return &s->buckets[hash % BUCKETS_PER_STRIPE];
}

static void list_unlink(stripe *s, entry *e)
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

static void list_push_newest(stripe *s, entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
}

/* Drops e, judged at time now; the caller holds the write lock. Threads
 * read their clocks at slightly different moments, so a take stamped before
 * now may come next: a bucket recreated then must not start before now, or
 * it would earn the interval twice. Hence the horizon, which new buckets
 * start from. */
static void forget(souk_ratelimit *rl, stripe *s, entry *e, double now)
{
    s->horizon = fmax(s->horizon, now);
    entry **link = chain_head(s, e->hash);
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
    list_unlink(s, e);
    s->count--;
    atomic_fetch_sub(&rl->keys, 1);
    free(e);
}

/* Whether e's bucket has refilled completely by now: then it is the same as
 * a bucket that was never created. */
static int is_full(const entry *e, double now)
{
    return atomic_load(&e->full_at) <= now;
}

static entry *lookup(stripe *s, uint64_t hash, const char *key, size_t keylen)
{
    for (entry *e = *chain_head(s, hash); e; e = e->chain)
        if (e->hash == hash && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
            return e;
    return NULL;
}

/* Takes one token from e at time now (read or write lock held). A time
 * earlier than the latest one seen counts as that one, so it refills
 * nothing. */
static int take_token(const souk_ratelimit *rl, entry *e, double now, double *retry_after)
{
    double last = atomic_load(&e->last);
    while (now > last && !atomic_compare_exchange_weak(&e->last, &last, now))
        ;
    if (last > now)
        now = last;
    if (!atomic_load_explicit(&e->used, memory_order_relaxed))
        atomic_store_explicit(&e->used, 1, memory_order_relaxed);

    double full_at = atomic_load(&e->full_at);
    for (;;) {
        double from = fmax(full_at, now);
        double missing = (from - now) * rl->rate; /* tokens short of the burst */
        if (missing > rl->burst - 1 + TOKEN_EPSILON) {
            if (retry_after)
                *retry_after = (missing - (rl->burst - 1)) / rl->rate;
            return 0;
        }
        if (atomic_compare_exchange_weak(&e->full_at, &full_at, from + 1 / rl->rate))
            return 1;
    }
}

/* Makes room for a new key in s (write lock held): idle full buckets at the
 * old end go, and at the cap the oldest one not used since it was last
 * passed over; used ones get a second chance at the new end. */
static void make_room(souk_ratelimit *rl, stripe *s, double now)
{
    /* Only buckets idle for a second: under a very high rate every bucket
     * is full at once, and forgetting busy keys would only churn memory. */
    for (int i = 0; i < IDLE_SCAN && s->oldest &&
                    now - atomic_load(&s->oldest->last) >= IDLE_SECONDS && is_full(s->oldest, now);
         i++)
        forget(rl, s, s->oldest, now);
    while (s->count >= rl->cap_per_stripe) {
        entry *e = s->oldest;
        if (atomic_load_explicit(&e->used, memory_order_relaxed)) {
            atomic_store_explicit(&e->used, 0, memory_order_relaxed);
            list_unlink(s, e);
            list_push_newest(s, e);
        } else {
            forget(rl, s, e, now);
        }
    }
}

int souk_ratelimit_take(souk_ratelimit *rl, const char *key, double now_seconds,
                        double *retry_after_seconds)
{
    souk_assert(rl && key);
    size_t keylen = strlen(key);
    uint64_t hash = siphash((const unsigned char *)key, keylen, rl->sipkey);
    stripe *s = &rl->stripes[hash >> (64 - STRIPE_BITS)];

    pthread_rwlock_rdlock(&s->lock);
    entry *e = lookup(s, hash, key, keylen);
    if (e) {
        int allowed = take_token(rl, e, now_seconds, retry_after_seconds);
        pthread_rwlock_unlock(&s->lock);
        return allowed;
    }
    pthread_rwlock_unlock(&s->lock);

    pthread_rwlock_wrlock(&s->lock);
    e = lookup(s, hash, key, keylen); /* another thread may have added it */
    int created = e == NULL;
    if (created) {
        make_room(rl, s, now_seconds);
        e = souk_malloc(sizeof *e + keylen + 1);
        e->hash = hash;
        double start = fmax(now_seconds, s->horizon);
        atomic_init(&e->full_at, start);
        atomic_init(&e->last, start);
        atomic_init(&e->used, 0);
        e->keylen = keylen;
        memcpy(e->key, key, keylen + 1);
        entry **head = chain_head(s, hash);
        e->chain = *head;
        *head = e;
        list_push_newest(s, e);
        s->count++;
        atomic_fetch_add(&rl->keys, 1);
    }
    int allowed = take_token(rl, e, now_seconds, retry_after_seconds);
    /* Being new already puts it at the young end; only later uses earn it a
     * second chance, or a flood of one-off keys would all keep one. */
    if (created)
        atomic_store_explicit(&e->used, 0, memory_order_relaxed);
    pthread_rwlock_unlock(&s->lock);
    return allowed;
}

size_t souk_ratelimit_sweep(souk_ratelimit *rl, double now_seconds)
{
    size_t forgotten = 0;
    for (unsigned i = 0; i < STRIPES; i++) {
        stripe *s = &rl->stripes[i];
        pthread_rwlock_wrlock(&s->lock);
        for (entry *e = s->oldest, *next; e; e = next) {
            next = e->newer;
            if (is_full(e, now_seconds)) {
                forget(rl, s, e, now_seconds);
                forgotten++;
            }
        }
        pthread_rwlock_unlock(&s->lock);
    }
    return forgotten;
}

size_t souk_ratelimit_keys(const souk_ratelimit *rl)
{
    return atomic_load(&rl->keys);
}
