/* Password hashing for the identity endpoints: PBKDF2-HMAC-SHA256 with a
 * random 16-byte salt per password and a caller-chosen iteration count,
 * stored as one self-describing string
 *   pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>
 * so the count can be raised later without invalidating stored hashes. */
#ifndef SOUK_GATEWAY_PASSWORD_H
#define SOUK_GATEWAY_PASSWORD_H

#include <stddef.h>

#include "core/status.h"

/* A buffer of this size always holds a stored string. */
#define SOUK_PASSWORD_HASH_MAX 128
/* Iteration counts accepted when hashing and when verifying (the upper bound
 * keeps a corrupted stored string from pinning a thread for minutes). */
#define SOUK_PASSWORD_MIN_ITERATIONS 1
#define SOUK_PASSWORD_MAX_ITERATIONS 10000000

/* Hashes password with a fresh random salt and writes the stored string into
 * out (cap bytes, SOUK_PASSWORD_HASH_MAX is always enough). Returns SOUK_OK;
 * SOUK_EINVAL for a NULL argument or an iteration count outside the bounds
 * above; SOUK_ETOOBIG if cap is too small; SOUK_EIO if OpenSSL fails. On
 * error out holds "" (when cap > 0). */
souk_status souk_password_hash(const char *password, int iterations, char *out, size_t cap)
    __attribute__((warn_unused_result));

/* Returns 1 if password matches stored (a string from souk_password_hash,
 * verified with the iteration count recorded in it), 0 otherwise, including
 * for NULL arguments and any malformed stored string. The comparison takes
 * constant time. */
int souk_password_verify(const char *password, const char *stored)
    __attribute__((warn_unused_result));

#endif
