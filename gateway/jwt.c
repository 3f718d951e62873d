/* JWT issuing and verification on top of libjwt 1.10, which has no claim
 * validation of its own and accepts whatever algorithm a token's header
 * names. So the header is decoded here first and its alg compared with the
 * configured one before libjwt sees the token, and jwt_get_alg() is checked
 * again after the signature verifies; exp, nbf, iss, sub and role are then
 * checked here. RS256 keys are parsed once at configuration so a bad PEM
 * fails at start rather than at the first request. */
#include "gateway/jwt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/mem.h"

#define RSA_MIN_BITS 2048

struct souk_jwt_keys {
    jwt_alg_t alg;
    const char *alg_name;      /* as it must appear in a token header */
    unsigned char *sign_key;   /* secret or private PEM; NULL when verify-only */
    int sign_len;              /* bytes, without the terminating NUL */
    unsigned char *verify_key; /* secret or public PEM */
    int verify_len;
};

static unsigned char *copy_key(const char *key, int *len)
{
    size_t n = strlen(key);
    unsigned char *copy = souk_malloc(n + 1);
    memcpy(copy, key, n + 1);
    *len = (int)n;
    return copy;
}

static void scrub_free(unsigned char *key, int len)
{
    if (key) {
        OPENSSL_cleanse(key, (size_t)len);
        free(key);
    }
}

void souk_jwt_keys_free(souk_jwt_keys *keys)
{
    if (!keys)
        return;
    scrub_free(keys->sign_key, keys->sign_len);
    scrub_free(keys->verify_key, keys->verify_len);
    free(keys);
}

souk_status souk_jwt_keys_hs256(souk_jwt_keys **out, const char *secret)
{
    if (!out)
        return SOUK_EINVAL;
    *out = NULL;
    if (!secret)
        return SOUK_EINVAL;
    size_t len = strlen(secret);
    if (len < SOUK_JWT_MIN_SECRET || len > INT_MAX)
        return SOUK_ECONFIG;
    souk_jwt_keys *keys = souk_calloc(1, sizeof *keys);
    keys->alg = JWT_ALG_HS256;
    keys->alg_name = "HS256";
    keys->sign_key = copy_key(secret, &keys->sign_len);
    keys->verify_key = copy_key(secret, &keys->verify_len);
    *out = keys;
    return SOUK_OK;
}

/* Refuses encrypted keys instead of letting OpenSSL prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

/* Parses an RSA key of at least RSA_MIN_BITS from PEM text, the way libjwt
 * will (PEM_read_bio_PrivateKey / PEM_read_bio_PUBKEY); NULL if it is not. */
static EVP_PKEY *read_rsa_pem(const char *pem, int private_key)
{
    size_t len = strlen(pem);
    if (len > INT_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return NULL;
    EVP_PKEY *key = private_key ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                                : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (key &&
        (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < RSA_MIN_BITS)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

souk_status souk_jwt_keys_rs256(souk_jwt_keys **out, const char *private_pem,
                                const char *public_pem)
{
    if (!out)
        return SOUK_EINVAL;
    *out = NULL;
    if (!public_pem)
        return SOUK_EINVAL;

    souk_status st = SOUK_ECONFIG;
    EVP_PKEY *priv = NULL;
    EVP_PKEY *pub = read_rsa_pem(public_pem, 0);
    if (!pub)
        goto out;
    if (private_pem) {
        priv = read_rsa_pem(private_pem, 1);
        if (!priv || EVP_PKEY_eq(priv, pub) != 1)
            goto out;
    }
    souk_jwt_keys *keys = souk_calloc(1, sizeof *keys);
    keys->alg = JWT_ALG_RS256;
    keys->alg_name = "RS256";
    if (private_pem)
        keys->sign_key = copy_key(private_pem, &keys->sign_len);
    keys->verify_key = copy_key(public_pem, &keys->verify_len);
    *out = keys;
    st = SOUK_OK;
out:
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
    ERR_clear_error();
    return st;
}

static int role_known(const char *role)
{
    return role && (strcmp(role, "customer") == 0 || strcmp(role, "admin") == 0);
}

char *souk_jwt_issue(const souk_jwt_keys *keys, const char *issuer, const char *subject,
                     const char *role, long ttl_seconds, long now)
{
    if (!keys || !keys->sign_key || !issuer || !*issuer || !subject || !*subject ||
        strlen(subject) >= sizeof((souk_jwt_claims *)0)->sub || !role_known(role) ||
        ttl_seconds <= 0 || now > LONG_MAX - ttl_seconds)
        return NULL;

    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grant(jwt, "iss", issuer) != 0 || jwt_add_grant(jwt, "sub", subject) != 0 ||
        jwt_add_grant(jwt, "role", role) != 0 || jwt_add_grant_int(jwt, "iat", now) != 0 ||
        jwt_add_grant_int(jwt, "nbf", now) != 0 ||
        jwt_add_grant_int(jwt, "exp", now + ttl_seconds) != 0 ||
        jwt_set_alg(jwt, keys->alg, keys->sign_key, keys->sign_len) != 0)
        goto out;
    token = jwt_encode_str(jwt);
out:
    jwt_free(jwt);
    ERR_clear_error();
    return token;
}

/* Decodes unpadded base64url text[0..len) into a new NUL-terminated buffer
 * (*outlen bytes before the NUL); NULL if it is not base64url. */
static char *b64url_decode(const char *text, size_t len, size_t *outlen)
{
    if (len % 4 == 1)
        return NULL;
    size_t padded = len + (4 - len % 4) % 4;
    unsigned char *std = souk_malloc(padded + 1);
    unsigned char *out = souk_malloc(padded / 4 * 3 + 1);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            std[i] = (unsigned char)c;
        else if (c == '-')
            std[i] = '+';
        else if (c == '_')
            std[i] = '/';
        else
            goto fail;
    }
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int n = EVP_DecodeBlock(out, std, (int)padded);
    if (n < 0 || (size_t)n < padded - len)
        goto fail;
    *outlen = (size_t)n - (padded - len);
    out[*outlen] = '\0';
    free(std);
    return (char *)out;
fail:
    free(std);
    free(out);
    return NULL;
}

/* Decodes one base64url segment holding a JSON object; NULL otherwise. The
 * caller puts the result. */
static json_object *decode_object(const char *text, size_t len)
{
    size_t n = 0;
    char *buf = b64url_decode(text, len, &n);
    if (!buf)
        return NULL;
    json_object *obj = NULL;
    if (n > 0 && n <= INT_MAX && strlen(buf) == n) {
        json_tokener *tok = json_tokener_new();
        obj = json_tokener_parse_ex(tok, buf, (int)n);
        if (obj &&
            (json_tokener_get_error(tok) != json_tokener_success ||
             json_tokener_get_parse_end(tok) != n || !json_object_is_type(obj, json_type_object))) {
            json_object_put(obj);
            obj = NULL;
        }
        json_tokener_free(tok);
    }
    free(buf);
    return obj;
}

/* Checks the token's shape and that its header names exactly the configured
 * algorithm, without trusting anything in it. Returns NULL if all is well,
 * else the reason. */
static const char *precheck(const souk_jwt_keys *keys, const char *token)
{
    size_t len = strnlen(token, SOUK_JWT_MAX_TOKEN + 1);
    if (len > SOUK_JWT_MAX_TOKEN)
        return "malformed";
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return "malformed";

    const char *reason = NULL;
    json_object *header = decode_object(token, (size_t)(dot1 - token));
    json_object *payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    json_object *alg = NULL;
    if (!header || !payload || !json_object_object_get_ex(header, "alg", &alg) ||
        !json_object_is_type(alg, json_type_string))
        reason = "malformed";
    else if (strcmp(json_object_get_string(alg), keys->alg_name) != 0)
        reason = "algorithm not allowed";
    json_object_put(payload);
    json_object_put(header);
    return reason;
}

/* Reads an integer claim; 0 if present and an integer, -1 otherwise. */
static int grant_long(jwt_t *jwt, const char *name, long *value)
{
    errno = 0;
    *value = jwt_get_grant_int(jwt, name);
    return errno == 0 ? 0 : -1;
}

static souk_status refuse(char *why, size_t whylen, const char *reason)
{
    if (why && whylen > 0)
        snprintf(why, whylen, "%s", reason);
    return SOUK_EAUTH;
}

souk_status souk_jwt_verify(const souk_jwt_keys *keys, const char *issuer, const char *token,
                            long now, long leeway_seconds, souk_jwt_claims *claims, char *why,
                            size_t whylen)
{
    if (why && whylen > 0)
        why[0] = '\0';
    if (claims)
        memset(claims, 0, sizeof *claims);
    if (!keys || !issuer || !claims) {
        if (why && whylen > 0)
            snprintf(why, whylen, "invalid argument");
        return SOUK_EINVAL;
    }
    if (!token)
        return refuse(why, whylen, "malformed");
    const char *reason = precheck(keys, token);
    if (reason)
        return refuse(why, whylen, reason);

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, keys->verify_key, keys->verify_len) != 0 || !jwt) {
        jwt_free(jwt);
        ERR_clear_error();
        return refuse(why, whylen, "bad signature");
    }

    long leeway = leeway_seconds > 0 ? leeway_seconds : 0;
    long iat = 0, nbf = 0, exp = 0;
    const char *iss = NULL, *sub = NULL, *role = NULL;
    if (jwt_get_alg(jwt) != keys->alg) {
        reason = "algorithm not allowed";
    } else if (grant_long(jwt, "iat", &iat) != 0 || grant_long(jwt, "nbf", &nbf) != 0 ||
               grant_long(jwt, "exp", &exp) != 0) {
        reason = "missing claim";
    } else if (now - leeway > exp) { /* now > exp + leeway, without overflow on exp */
        reason = "expired";
    } else if (now + leeway < nbf) {
        reason = "not yet valid";
    } else if (!(iss = jwt_get_grant(jwt, "iss")) || strcmp(iss, issuer) != 0) {
        reason = "wrong issuer";
    } else if (!(sub = jwt_get_grant(jwt, "sub")) || !*sub ||
               !(role = jwt_get_grant(jwt, "role"))) {
        reason = "missing claim";
    } else if (strlen(sub) >= sizeof claims->sub) {
        reason = "malformed";
    } else if (!role_known(role)) {
        reason = "unknown role";
    } else {
        snprintf(claims->sub, sizeof claims->sub, "%s", sub);
        snprintf(claims->role, sizeof claims->role, "%s", role);
        claims->iat = iat;
        claims->exp = exp;
        claims->nbf = nbf;
    }
    jwt_free(jwt);
    return reason ? refuse(why, whylen, reason) : SOUK_OK;
}
