/* PBKDF2-HMAC-SHA256 password hashes with OpenSSL: a random salt per
 * password, the iteration count recorded next to it, strict parsing of the
 * stored string (canonical base64 only) and a constant-time comparison. */
#include "gateway/password.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_LEN   16
#define DIGEST_LEN 32
#define PREFIX     "pbkdf2-sha256$"
/* Base64 lengths of SALT_LEN and DIGEST_LEN bytes, with padding. */
#define B64_LEN(n) (4 * (((n) + 2) / 3))

static int derive(const char *password, const unsigned char *salt, int iterations,
                  unsigned char out[DIGEST_LEN])
{
    size_t len = strlen(password);
    if (len > INT_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)len, salt, SALT_LEN, iterations, EVP_sha256(),
                             DIGEST_LEN, out) == 1
               ? 0
               : -1;
}

souk_status souk_password_hash(const char *password, int iterations, char *out, size_t cap)
{
    if (out && cap > 0)
        out[0] = '\0';
    if (!password || !out || iterations < SOUK_PASSWORD_MIN_ITERATIONS ||
        iterations > SOUK_PASSWORD_MAX_ITERATIONS)
        return SOUK_EINVAL;

    unsigned char salt[SALT_LEN];
    unsigned char digest[DIGEST_LEN];
    char salt_b64[B64_LEN(SALT_LEN) + 1];
    char digest_b64[B64_LEN(DIGEST_LEN) + 1];
    souk_status st = SOUK_OK;

    if (RAND_bytes(salt, sizeof salt) != 1 || derive(password, salt, iterations, digest) != 0) {
        st = SOUK_EIO;
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)salt_b64, salt, SALT_LEN);
    EVP_EncodeBlock((unsigned char *)digest_b64, digest, DIGEST_LEN);
    int n = snprintf(out, cap, PREFIX "%d$%s$%s", iterations, salt_b64, digest_b64);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        st = SOUK_ETOOBIG;
    }
out:
    OPENSSL_cleanse(digest, sizeof digest);
    OPENSSL_cleanse(digest_b64, sizeof digest_b64);
    return st;
}

/* Decodes text[0..len) into exactly want bytes. Only the canonical encoding
 * (the one EVP_EncodeBlock produces) is accepted: re-encoding must give the
 * same text, which rules out stray characters, whitespace and junk bits. */
static int decode_exact(const char *text, size_t len, unsigned char *out, size_t want)
{
    unsigned char buf[B64_LEN(DIGEST_LEN)];
    char again[B64_LEN(DIGEST_LEN) + 1];
    if (want > DIGEST_LEN || len != B64_LEN(want))
        return -1;
    int n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
    if (n < (int)want)
        return -1;
    memcpy(out, buf, want);
    EVP_EncodeBlock((unsigned char *)again, out, (int)want);
    return memcmp(again, text, len) == 0 ? 0 : -1;
}

/* Parses "<digits>$" at *p into an iteration count within bounds; no sign,
 * no leading zero. Advances *p past the '$'. */
static int parse_iterations(const char **p, int *iterations)
{
    const char *s = *p;
    long value = 0;
    size_t digits = 0;
    if (*s == '0')
        return -1;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 8)
            return -1;
        value = value * 10 + (*s - '0');
        s++;
    }
    if (digits == 0 || *s != '$' || value < SOUK_PASSWORD_MIN_ITERATIONS ||
        value > SOUK_PASSWORD_MAX_ITERATIONS)
        return -1;
    *iterations = (int)value;
    *p = s + 1;
    return 0;
}

int souk_password_verify(const char *password, const char *stored)
{
    if (!password || !stored || strncmp(stored, PREFIX, strlen(PREFIX)) != 0)
        return 0;

    const char *p = stored + strlen(PREFIX);
    int iterations = 0;
    if (parse_iterations(&p, &iterations) != 0)
        return 0;
    const char *dollar = strchr(p, '$');
    if (!dollar)
        return 0;
    const char *hash_b64 = dollar + 1;

    unsigned char salt[SALT_LEN];
    unsigned char expected[DIGEST_LEN];
    unsigned char actual[DIGEST_LEN];
    int match = 0;
    if (decode_exact(p, (size_t)(dollar - p), salt, SALT_LEN) != 0 ||
        decode_exact(hash_b64, strlen(hash_b64), expected, DIGEST_LEN) != 0)
        goto out;
    if (derive(password, salt, iterations, actual) != 0)
        goto out;
    match = CRYPTO_memcmp(expected, actual, DIGEST_LEN) == 0;
out:
    OPENSSL_cleanse(actual, sizeof actual);
    OPENSSL_cleanse(expected, sizeof expected);
    return match;
}
