/* Access tokens for the gateway: issuing and verifying JWTs with libjwt,
 * either HS256 with a shared secret or RS256 with an RSA key pair. The
 * configured algorithm is pinned: a token whose header names any other one
 * ("none", or HS256 signed with the RSA public key as secret) is refused
 * before its signature is looked at. Claims: iss, sub, role (customer or
 * admin), iat, nbf and exp; times are passed in so callers and tests decide
 * what "now" is. */
#ifndef SOUK_GATEWAY_JWT_H
#define SOUK_GATEWAY_JWT_H

#include <stddef.h>

#include "core/status.h"

/* The shortest HS256 secret accepted (RFC 7518 3.2: at least the hash size). */
#define SOUK_JWT_MIN_SECRET 32
/* Tokens longer than this are refused as malformed. */
#define SOUK_JWT_MAX_TOKEN 8192

typedef struct souk_jwt_keys souk_jwt_keys;

/* The claims of a verified token. */
typedef struct souk_jwt_claims {
    char sub[64];
    char role[16];
    long iat;
    long exp;
    long nbf;
} souk_jwt_claims;

/* Keys for HS256. secret is copied and must be at least SOUK_JWT_MIN_SECRET
 * bytes. Returns SOUK_OK with *out owning the keys (free with
 * souk_jwt_keys_free), SOUK_ECONFIG for a short secret, SOUK_EINVAL for NULL
 * arguments; on error *out is NULL. */
souk_status souk_jwt_keys_hs256(souk_jwt_keys **out, const char *secret)
    __attribute__((warn_unused_result));

/* Keys for RS256 from PEM text (copied): private_pem signs, public_pem
 * verifies. private_pem may be NULL for verify-only keys (souk_jwt_issue then
 * returns NULL). Both must be unencrypted RSA keys of at least 2048 bits and
 * belong together. Returns SOUK_OK with *out owning the keys, SOUK_ECONFIG
 * for a key that does not parse or fit, SOUK_EINVAL for NULL arguments; on
 * error *out is NULL. */
souk_status souk_jwt_keys_rs256(souk_jwt_keys **out, const char *private_pem,
                                const char *public_pem) __attribute__((warn_unused_result));

/* Releases keys (scrubbing the secret); NULL is ignored. */
void souk_jwt_keys_free(souk_jwt_keys *keys);

/* Issues a token with iss = issuer, sub = subject, role, iat = nbf = now and
 * exp = now + ttl_seconds. Returns a new NUL-terminated token the caller frees
 * with free(), or NULL for NULL/empty arguments, a subject that does not fit
 * souk_jwt_claims, a role other than "customer"/"admin", ttl_seconds <= 0,
 * verify-only keys or a libjwt failure. */
char *souk_jwt_issue(const souk_jwt_keys *keys, const char *issuer, const char *subject,
                     const char *role, long ttl_seconds, long now)
    __attribute__((warn_unused_result));

/* Verifies token at time now, allowing leeway_seconds (negative counts as 0)
 * of clock skew on exp and nbf. Returns SOUK_OK and fills claims, or
 * SOUK_EAUTH with a short reason in why (whylen bytes; why may be NULL):
 * "malformed", "algorithm not allowed", "bad signature", "expired",
 * "not yet valid", "wrong issuer", "missing claim", "unknown role".
 * SOUK_EINVAL for NULL keys, issuer or claims. claims is zeroed on failure. */
souk_status souk_jwt_verify(const souk_jwt_keys *keys, const char *issuer, const char *token,
                            long now, long leeway_seconds, souk_jwt_claims *claims, char *why,
                            size_t whylen) __attribute__((warn_unused_result));

#endif
