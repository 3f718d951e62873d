/* JWT issuing and verification: round trips with HS256 and RS256, claim
 * checks (exp, nbf, iss, sub, role) and the attacks algorithm pinning exists
 * for: "alg": "none" and HS256 tokens keyed with the RSA public key. RSA keys
 * are generated per test with OpenSSL. */
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/jwt.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define ISSUER "souk-test"
#define NOW    1763800000L

typedef struct pem_pair {
    char *private_pem;
    char *public_pem;
} pem_pair;

static char *bio_text(BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    cr_assert(len > 0);
    char *text = malloc((size_t)len + 1);
    memcpy(text, data, (size_t)len);
    text[len] = '\0';
    return text;
}

static pem_pair rsa_pair(unsigned bits)
{
    EVP_PKEY *key = EVP_RSA_gen(bits);
    cr_assert_not_null(key);
    BIO *priv = BIO_new(BIO_s_mem());
    BIO *pub = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL) == 1);
    cr_assert(PEM_write_bio_PUBKEY(pub, key) == 1);
    pem_pair pair = {bio_text(priv), bio_text(pub)};
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(key);
    return pair;
}

static void pem_pair_free(pem_pair *pair)
{
    free(pair->private_pem);
    free(pair->public_pem);
}

static souk_jwt_keys *hs_keys(const char *secret)
{
    souk_jwt_keys *keys = NULL;
    cr_assert_eq(souk_jwt_keys_hs256(&keys, secret), SOUK_OK);
    cr_assert_not_null(keys);
    return keys;
}

static souk_jwt_keys *rs_keys(const pem_pair *pair)
{
    souk_jwt_keys *keys = NULL;
    cr_assert_eq(souk_jwt_keys_rs256(&keys, pair->private_pem, pair->public_pem), SOUK_OK);
    cr_assert_not_null(keys);
    return keys;
}

/* Verifies and expects a refusal with the given reason. */
static void expect_refused(const souk_jwt_keys *keys, const char *token, long now,
                           const char *reason)
{
    souk_jwt_claims claims;
    char why[64] = "";
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, token, now, 0, &claims, why, sizeof why), SOUK_EAUTH,
                 "token accepted: %s", token);
    cr_assert_str_eq(why, reason);
    cr_assert_str_empty(claims.sub);
    cr_assert_str_empty(claims.role);
}

static void expect_accepted(const souk_jwt_keys *keys, const char *token, long now, long leeway,
                            souk_jwt_claims *claims)
{
    char why[64] = "";
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, token, now, leeway, claims, why, sizeof why),
                 SOUK_OK, "%s", why);
}

/* base64url without padding of len bytes. */
static char *b64url(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return out;
}

/* A new string: segment i (0..2) of token. */
static char *segment(const char *token, int i)
{
    const char *start = token;
    for (int k = 0; k < i; k++)
        start = strchr(start, '.') + 1;
    const char *end = strchr(start, '.');
    size_t len = end ? (size_t)(end - start) : strlen(start);
    char *s = malloc(len + 1);
    memcpy(s, start, len);
    s[len] = '\0';
    return s;
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t len = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(len);
    snprintf(s, len, "%s.%s.%s", a, b, c);
    return s;
}

/* A token built directly with libjwt, HS256 with secret, with whatever
 * claims the test wants (role and sub NULL to leave them out). */
static char *raw_hs256(const char *secret, const char *sub, const char *role)
{
    jwt_t *jwt = NULL;
    cr_assert_eq(jwt_new(&jwt), 0);
    jwt_add_grant(jwt, "iss", ISSUER);
    if (sub)
        jwt_add_grant(jwt, "sub", sub);
    if (role)
        jwt_add_grant(jwt, "role", role);
    jwt_add_grant_int(jwt, "iat", NOW);
    jwt_add_grant_int(jwt, "nbf", NOW);
    jwt_add_grant_int(jwt, "exp", NOW + 600);
    cr_assert_eq(
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)), 0);
    char *token = jwt_encode_str(jwt);
    cr_assert_not_null(token);
    jwt_free(jwt);
    return token;
}

Test(jwt, hs256_issue_then_verify_round_trips)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *token = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 900, NOW);
    cr_assert_not_null(token);
    souk_jwt_claims claims;
    expect_accepted(keys, token, NOW + 10, 0, &claims);
    cr_assert_str_eq(claims.sub, "user-42");
    cr_assert_str_eq(claims.role, "customer");
    cr_assert_eq(claims.iat, NOW);
    cr_assert_eq(claims.nbf, NOW);
    cr_assert_eq(claims.exp, NOW + 900);
    char *header = segment(token, 0);
    char *expected = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
    cr_assert_str_eq(header, expected);
    free(expected);
    free(header);
    free(token);
    souk_jwt_keys_free(keys);
}

Test(jwt, rs256_issue_then_verify_round_trips)
{
    pem_pair pair = rsa_pair(2048);
    souk_jwt_keys *keys = rs_keys(&pair);
    char *token = souk_jwt_issue(keys, ISSUER, "admin-1", "admin", 60, NOW);
    cr_assert_not_null(token);
    souk_jwt_claims claims;
    expect_accepted(keys, token, NOW, 0, &claims);
    cr_assert_str_eq(claims.sub, "admin-1");
    cr_assert_str_eq(claims.role, "admin");
    cr_assert_eq(claims.exp, NOW + 60);

    /* A verify-only key set (public key alone) accepts it but cannot issue. */
    souk_jwt_keys *verify_only = NULL;
    cr_assert_eq(souk_jwt_keys_rs256(&verify_only, NULL, pair.public_pem), SOUK_OK);
    expect_accepted(verify_only, token, NOW, 0, &claims);
    cr_assert_null(souk_jwt_issue(verify_only, ISSUER, "admin-1", "admin", 60, NOW));

    free(token);
    souk_jwt_keys_free(verify_only);
    souk_jwt_keys_free(keys);
    pem_pair_free(&pair);
}

Test(jwt, tampered_payload_is_a_bad_signature)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *customer = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 900, NOW);
    char *admin = souk_jwt_issue(keys, ISSUER, "user-42", "admin", 900, NOW);
    /* The admin payload under the customer token's signature. */
    char *h = segment(customer, 0), *p = segment(admin, 1), *s = segment(customer, 2);
    char *forged = join3(h, p, s);
    expect_refused(keys, forged, NOW, "bad signature");

    /* One changed character in the signature. */
    char *flipped = strdup(customer);
    char *last = flipped + strlen(flipped) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    expect_refused(keys, flipped, NOW, "bad signature");

    /* An empty signature. */
    char *unsigned_token = join3(h, p, "");
    expect_refused(keys, unsigned_token, NOW, "bad signature");

    free(unsigned_token);
    free(flipped);
    free(forged);
    free(h);
    free(p);
    free(s);
    free(customer);
    free(admin);
    souk_jwt_keys_free(keys);
}

Test(jwt, rs256_tampered_payload_is_a_bad_signature)
{
    pem_pair pair = rsa_pair(2048);
    souk_jwt_keys *keys = rs_keys(&pair);
    char *customer = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 900, NOW);
    char *admin = souk_jwt_issue(keys, ISSUER, "user-42", "admin", 900, NOW);
    char *h = segment(customer, 0), *p = segment(admin, 1), *s = segment(customer, 2);
    char *forged = join3(h, p, s);
    expect_refused(keys, forged, NOW, "bad signature");
    free(forged);
    free(h);
    free(p);
    free(s);
    free(customer);
    free(admin);
    souk_jwt_keys_free(keys);
    pem_pair_free(&pair);
}

Test(jwt, token_signed_with_another_secret_is_a_bad_signature)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    souk_jwt_keys *other = hs_keys("another-secret-that-is-long-enough-0123456789");
    char *token = souk_jwt_issue(other, ISSUER, "user-42", "customer", 900, NOW);
    expect_refused(keys, token, NOW, "bad signature");
    free(token);
    souk_jwt_keys_free(other);
    souk_jwt_keys_free(keys);
}

Test(jwt, expired_token_is_refused_after_the_leeway)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *token = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 60, NOW);
    souk_jwt_claims claims;
    expect_accepted(keys, token, NOW + 60, 0, &claims);
    expect_refused(keys, token, NOW + 61, "expired");
    expect_accepted(keys, token, NOW + 90, 30, &claims);
    char why[64];
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, token, NOW + 91, 30, &claims, why, sizeof why),
                 SOUK_EAUTH);
    cr_assert_str_eq(why, "expired");
    free(token);
    souk_jwt_keys_free(keys);
}

Test(jwt, token_from_the_future_is_not_yet_valid)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *token = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 600, NOW);
    souk_jwt_claims claims;
    expect_refused(keys, token, NOW - 1, "not yet valid");
    expect_accepted(keys, token, NOW - 5, 5, &claims);
    char why[64];
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, token, NOW - 6, 5, &claims, why, sizeof why),
                 SOUK_EAUTH);
    cr_assert_str_eq(why, "not yet valid");
    free(token);
    souk_jwt_keys_free(keys);
}

Test(jwt, wrong_issuer_is_refused)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *token = souk_jwt_issue(keys, "someone-else", "user-42", "customer", 600, NOW);
    cr_assert_not_null(token);
    expect_refused(keys, token, NOW, "wrong issuer");
    free(token);
    souk_jwt_keys_free(keys);
}

/* {"alg":"none","typ":"JWT"} + "." + a genuine payload + "." */
static char *alg_none_token(const char *genuine)
{
    const char *header = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *h = b64url(header, strlen(header));
    char *p = segment(genuine, 1);
    char *token = join3(h, p, "");
    free(h);
    free(p);
    return token;
}

Test(jwt, alg_none_token_is_refused)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *genuine = souk_jwt_issue(keys, ISSUER, "user-42", "admin", 600, NOW);
    char *token = alg_none_token(genuine);
    expect_refused(keys, token, NOW, "algorithm not allowed");

    /* Other spellings of none, and a header without alg. */
    const char *headers[] = {"{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}", "{\"alg\":\"hs256\"}",
                             "{\"typ\":\"JWT\"}", "{\"alg\":null}"};
    char *p = segment(genuine, 1), *s = segment(genuine, 2);
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *h = b64url(headers[i], strlen(headers[i]));
        char *forged = join3(h, p, s);
        souk_jwt_claims claims;
        char why[64];
        cr_assert_eq(souk_jwt_verify(keys, ISSUER, forged, NOW, 0, &claims, why, sizeof why),
                     SOUK_EAUTH, "%s", headers[i]);
        free(forged);
        free(h);
    }
    free(p);
    free(s);
    free(token);
    free(genuine);
    souk_jwt_keys_free(keys);
}

Test(jwt, alg_none_token_is_refused_when_rs256_is_configured)
{
    pem_pair pair = rsa_pair(2048);
    souk_jwt_keys *keys = rs_keys(&pair);
    char *genuine = souk_jwt_issue(keys, ISSUER, "user-42", "admin", 600, NOW);
    char *token = alg_none_token(genuine);
    expect_refused(keys, token, NOW, "algorithm not allowed");
    free(token);
    free(genuine);
    souk_jwt_keys_free(keys);
    pem_pair_free(&pair);
}

Test(jwt, hs256_token_is_refused_when_rs256_is_configured)
{
    pem_pair pair = rsa_pair(2048);
    souk_jwt_keys *rs = rs_keys(&pair);
    souk_jwt_keys *hs = hs_keys(SECRET);
    char *token = souk_jwt_issue(hs, ISSUER, "user-42", "customer", 600, NOW);
    expect_refused(rs, token, NOW, "algorithm not allowed");
    /* And the other way round. */
    char *rs_token = souk_jwt_issue(rs, ISSUER, "user-42", "customer", 600, NOW);
    expect_refused(hs, rs_token, NOW, "algorithm not allowed");
    free(rs_token);
    free(token);
    souk_jwt_keys_free(hs);
    souk_jwt_keys_free(rs);
    pem_pair_free(&pair);
}

Test(jwt, hs256_token_keyed_with_the_rsa_public_key_is_refused)
{
    pem_pair pair = rsa_pair(2048);
    souk_jwt_keys *rs = rs_keys(&pair);
    /* The classic confusion attack: the public key is public, so an attacker
     * can HMAC with it and hope the verifier uses it as an HMAC secret. */
    souk_jwt_keys *attacker = hs_keys(pair.public_pem);
    char *token = souk_jwt_issue(attacker, ISSUER, "mallory", "admin", 600, NOW);
    cr_assert_not_null(token);
    expect_refused(rs, token, NOW, "algorithm not allowed");
    /* libjwt itself would have accepted it: the pin is what stops it. */
    jwt_t *jwt = NULL;
    cr_assert_eq(jwt_decode(&jwt, token, (const unsigned char *)pair.public_pem,
                            (int)strlen(pair.public_pem)),
                 0);
    jwt_free(jwt);
    free(token);
    souk_jwt_keys_free(attacker);
    souk_jwt_keys_free(rs);
    pem_pair_free(&pair);
}

Test(jwt, short_secret_is_refused)
{
    souk_jwt_keys *keys = (souk_jwt_keys *)1;
    cr_assert_eq(souk_jwt_keys_hs256(&keys, "too-short"), SOUK_ECONFIG);
    cr_assert_null(keys);
    cr_assert_eq(souk_jwt_keys_hs256(&keys, "0123456789abcdef0123456789abcde"), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_hs256(&keys, ""), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_hs256(&keys, NULL), SOUK_EINVAL);
    cr_assert_eq(souk_jwt_keys_hs256(&keys, "0123456789abcdef0123456789abcdef"), SOUK_OK);
    souk_jwt_keys_free(keys);
}

Test(jwt, bad_rsa_keys_are_refused)
{
    pem_pair pair = rsa_pair(2048);
    pem_pair other = rsa_pair(2048);
    pem_pair weak = rsa_pair(1024);
    souk_jwt_keys *keys = NULL;
    cr_assert_eq(souk_jwt_keys_rs256(&keys, pair.private_pem, other.public_pem), SOUK_ECONFIG);
    cr_assert_null(keys);
    cr_assert_eq(souk_jwt_keys_rs256(&keys, weak.private_pem, weak.public_pem), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_rs256(&keys, "not a pem", pair.public_pem), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_rs256(&keys, pair.private_pem, "not a pem"), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_rs256(&keys, pair.public_pem, pair.private_pem), SOUK_ECONFIG);
    cr_assert_eq(souk_jwt_keys_rs256(&keys, pair.private_pem, NULL), SOUK_EINVAL);
    cr_assert_null(keys);
    pem_pair_free(&weak);
    pem_pair_free(&other);
    pem_pair_free(&pair);
}

Test(jwt, unknown_role_is_refused)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "user-42", "root", 600, NOW));
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "user-42", "Admin", 600, NOW));
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "user-42", NULL, 600, NOW));
    /* Correctly signed, but with a role the gateway does not know. */
    char *token = raw_hs256(SECRET, "user-42", "root");
    expect_refused(keys, token, NOW, "unknown role");
    free(token);
    souk_jwt_keys_free(keys);
}

Test(jwt, missing_subject_or_role_is_refused)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *no_sub = raw_hs256(SECRET, NULL, "customer");
    expect_refused(keys, no_sub, NOW, "missing claim");
    char *no_role = raw_hs256(SECRET, "user-42", NULL);
    expect_refused(keys, no_role, NOW, "missing claim");
    char *long_sub =
        raw_hs256(SECRET, "a-subject-that-is-far-too-long-to-fit-into-sixty-four-bytes-of-claims",
                  "customer");
    expect_refused(keys, long_sub, NOW, "malformed");
    free(long_sub);
    free(no_role);
    free(no_sub);
    souk_jwt_keys_free(keys);
}

Test(jwt, malformed_tokens_are_refused)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    char *genuine = souk_jwt_issue(keys, ISSUER, "user-42", "customer", 600, NOW);
    char *h = segment(genuine, 0), *p = segment(genuine, 1), *s = segment(genuine, 2);
    char *not_json = b64url("not json", 8);
    char *array = b64url("[1,2]", 5);

    const char *cases[] = {"", ".", "..", "abc", "a.b", "a.b.c.d", "!!!.???.###"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(keys, cases[i], NOW, "malformed");
    char *t = join3(not_json, p, s);
    expect_refused(keys, t, NOW, "malformed");
    free(t);
    t = join3(h, array, s);
    expect_refused(keys, t, NOW, "malformed");
    free(t);
    t = join3(h, "e30=", s); /* padded base64 is not base64url */
    expect_refused(keys, t, NOW, "malformed");
    free(t);
    size_t big = SOUK_JWT_MAX_TOKEN + 10;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = '\0';
    expect_refused(keys, huge, NOW, "malformed");
    free(huge);

    souk_jwt_claims claims;
    char why[64];
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, NULL, NOW, 0, &claims, why, sizeof why), SOUK_EAUTH);
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, genuine, NOW, 0, NULL, why, sizeof why),
                 SOUK_EINVAL);
    cr_assert_eq(souk_jwt_verify(keys, ISSUER, genuine, NOW, 0, &claims, NULL, 0), SOUK_OK);

    free(array);
    free(not_json);
    free(h);
    free(p);
    free(s);
    free(genuine);
    souk_jwt_keys_free(keys);
}

Test(jwt, issue_refuses_bad_arguments)
{
    souk_jwt_keys *keys = hs_keys(SECRET);
    cr_assert_null(souk_jwt_issue(NULL, ISSUER, "u", "customer", 60, NOW));
    cr_assert_null(souk_jwt_issue(keys, NULL, "u", "customer", 60, NOW));
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "", "customer", 60, NOW));
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "u", "customer", 0, NOW));
    cr_assert_null(souk_jwt_issue(keys, ISSUER, "u", "customer", -5, NOW));
    char sub[65];
    memset(sub, 'x', 64);
    sub[64] = '\0';
    cr_assert_null(souk_jwt_issue(keys, ISSUER, sub, "customer", 60, NOW));
    sub[63] = '\0';
    char *token = souk_jwt_issue(keys, ISSUER, sub, "customer", 60, NOW);
    cr_assert_not_null(token);
    souk_jwt_claims claims;
    expect_accepted(keys, token, NOW, 0, &claims);
    cr_assert_str_eq(claims.sub, sub);
    free(token);
    souk_jwt_keys_free(keys);
}
