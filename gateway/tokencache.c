/* Direct-mapped verified-token cache with striped locks, in front of which
 * each thread remembers the last token it saw: a keep-alive connection
 * (one civetweb thread) sends the same token again and again, and then
 * finds it without touching memory other threads write. */
#include "gateway/tokencache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"

#define SLOTS     8192
#define STRIPES   64
#define MAX_TOKEN 4096

struct slot {
    char *token;
    souk_jwt_claims claims;
};

#define MEMO_TOKEN 2048

/* The calling thread's last hit; id tells caches apart, even one freed and
 * another allocated at the same address. */
static _Thread_local struct {
    unsigned long cache_id;
    size_t len;
    char token[MEMO_TOKEN];
    souk_jwt_claims claims;
} memo;

static atomic_ulong next_cache_id = 1;

struct souk_tokencache {
    unsigned long id;
    pthread_rwlock_t locks[STRIPES];
    struct slot slots[SLOTS];
};

souk_tokencache *souk_tokencache_new(void)
{
    souk_tokencache *c = souk_calloc(1, sizeof *c);
    c->id = atomic_fetch_add(&next_cache_id, 1);
    for (int i = 0; i < STRIPES; i++)
        pthread_rwlock_init(&c->locks[i], NULL);
    return c;
}

void souk_tokencache_free(souk_tokencache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SLOTS; i++)
        free(c->slots[i].token);
    for (int i = 0; i < STRIPES; i++)
        pthread_rwlock_destroy(&c->locks[i]);
    free(c);
}

static int claims_current(const souk_jwt_claims *claims, long now, long leeway)
{
    return now <= claims->exp + leeway && now + leeway >= claims->nbf;
}

int souk_tokencache_get(souk_tokencache *c, const char *token, long now, long leeway,
                        souk_jwt_claims *claims)
{
    size_t len = strlen(token);
    if (memo.cache_id == c->id && memo.len == len && memcmp(memo.token, token, len) == 0) {
        if (!claims_current(&memo.claims, now, leeway))
            return 0;
        *claims = memo.claims;
        return 1;
    }
    size_t i = (size_t)(souk_hash_text(token) % SLOTS);
    pthread_rwlock_t *lock = &c->locks[i % STRIPES];
    int hit = 0;
    pthread_rwlock_rdlock(lock);
    struct slot *s = &c->slots[i];
    if (s->token && strcmp(s->token, token) == 0 && claims_current(&s->claims, now, leeway)) {
        *claims = s->claims;
        hit = 1;
    }
    pthread_rwlock_unlock(lock);
    if (hit && len < MEMO_TOKEN) {
        memo.cache_id = c->id;
        memo.len = len;
        memcpy(memo.token, token, len);
        memo.claims = *claims;
    }
    return hit;
}

void souk_tokencache_put(souk_tokencache *c, const char *token, const souk_jwt_claims *claims)
{
    if (strlen(token) > MAX_TOKEN)
        return;
    size_t i = (size_t)(souk_hash_text(token) % SLOTS);
    char *copy = souk_strdup(token);
    pthread_rwlock_t *lock = &c->locks[i % STRIPES];
    pthread_rwlock_wrlock(lock);
    struct slot *s = &c->slots[i];
    char *old = s->token;
    s->token = copy;
    s->claims = *claims;
    pthread_rwlock_unlock(lock);
    free(old);
}
