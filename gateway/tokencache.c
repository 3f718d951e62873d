/* Direct-mapped verified-token cache with striped locks. */
#include "gateway/tokencache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define SLOTS     8192
#define STRIPES   64
#define MAX_TOKEN 4096

struct slot {
    char *token;
    souk_jwt_claims claims;
};

struct souk_tokencache {
    pthread_rwlock_t locks[STRIPES];
    struct slot slots[SLOTS];
};

static size_t hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

souk_tokencache *souk_tokencache_new(void)
{
    souk_tokencache *c = souk_calloc(1, sizeof *c);
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

int souk_tokencache_get(souk_tokencache *c, const char *token, long now, long leeway,
                        souk_jwt_claims *claims)
{
    size_t i = hash(token) % SLOTS;
    pthread_rwlock_t *lock = &c->locks[i % STRIPES];
    int hit = 0;
    pthread_rwlock_rdlock(lock);
    struct slot *s = &c->slots[i];
    if (s->token && strcmp(s->token, token) == 0 && now <= s->claims.exp + leeway &&
        now + leeway >= s->claims.nbf) {
        *claims = s->claims;
        hit = 1;
    }
    pthread_rwlock_unlock(lock);
    return hit;
}

void souk_tokencache_put(souk_tokencache *c, const char *token, const souk_jwt_claims *claims)
{
    if (strlen(token) > MAX_TOKEN)
        return;
    size_t i = hash(token) % SLOTS;
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
