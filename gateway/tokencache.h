/* A cache of bearer tokens that passed full verification, so a client's
 * repeated token costs a hash lookup instead of a signature check. Only the
 * exact token string verified earlier can hit; its exp and nbf are checked
 * again on every hit. Direct-mapped and bounded; thread-safe. */
#ifndef SOUK_GATEWAY_TOKENCACHE_H
#define SOUK_GATEWAY_TOKENCACHE_H

#include "gateway/jwt.h"

typedef struct souk_tokencache souk_tokencache;

souk_tokencache *souk_tokencache_new(void);
void souk_tokencache_free(souk_tokencache *cache);

/* Copies the claims of token into *claims and returns 1 when it was verified
 * before and is still within exp and nbf (with leeway) at now. */
int souk_tokencache_get(souk_tokencache *cache, const char *token, long now, long leeway,
                        souk_jwt_claims *claims);

/* Remembers a token that was just verified. */
void souk_tokencache_put(souk_tokencache *cache, const char *token, const souk_jwt_claims *claims);

#endif
