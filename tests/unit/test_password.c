/* PBKDF2 password hashes: round trip, salting, recorded iteration counts and
 * safe refusal of tampered stored strings. Low iteration counts keep the
 * tests fast; the algorithm is the same. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gateway/password.h"

#define ITER 1000

static void hash_ok(const char *password, int iterations, char *out)
{
    cr_assert_eq(souk_password_hash(password, iterations, out, SOUK_PASSWORD_HASH_MAX), SOUK_OK);
}

Test(password, hash_then_verify_accepts_the_same_password)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("correct horse battery staple", ITER, stored);
    cr_assert(strncmp(stored, "pbkdf2-sha256$", 14) == 0, "%s", stored);
    cr_assert_eq(souk_password_verify("correct horse battery staple", stored), 1);
}

Test(password, wrong_password_is_refused)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("s3cret!", ITER, stored);
    cr_assert_eq(souk_password_verify("s3cret", stored), 0);
    cr_assert_eq(souk_password_verify("S3cret!", stored), 0);
    cr_assert_eq(souk_password_verify("", stored), 0);
}

Test(password, empty_password_round_trips)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("", ITER, stored);
    cr_assert_eq(souk_password_verify("", stored), 1);
    cr_assert_eq(souk_password_verify("x", stored), 0);
}

Test(password, two_hashes_of_one_password_differ_by_salt)
{
    char a[SOUK_PASSWORD_HASH_MAX], b[SOUK_PASSWORD_HASH_MAX];
    hash_ok("same", ITER, a);
    hash_ok("same", ITER, b);
    cr_assert_str_neq(a, b);
    /* Salt and hash both differ, not just one of them. */
    const char *salt_a = strchr(a + 14, '$') + 1, *salt_b = strchr(b + 14, '$') + 1;
    cr_assert(strncmp(salt_a, salt_b, 24) != 0);
    cr_assert_str_neq(strrchr(a, '$'), strrchr(b, '$'));
    cr_assert_eq(souk_password_verify("same", a), 1);
    cr_assert_eq(souk_password_verify("same", b), 1);
}

Test(password, iteration_count_is_recorded_and_honoured)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("pw", 1000, stored);
    cr_assert(strncmp(stored, "pbkdf2-sha256$1000$", 19) == 0, "%s", stored);
    hash_ok("pw", 1, stored);
    cr_assert(strncmp(stored, "pbkdf2-sha256$1$", 16) == 0, "%s", stored);
    cr_assert_eq(souk_password_verify("pw", stored), 1);
}

Test(password, stored_format_has_base64_salt_and_hash_of_fixed_length)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("pw", ITER, stored);
    const char *salt = strchr(stored + 14, '$') + 1;
    const char *hash = strchr(salt, '$') + 1;
    cr_assert_eq(hash - salt - 1, 24, "%s", stored);
    cr_assert_eq(strlen(hash), 44, "%s", stored);
}

Test(password, changed_iteration_count_fails)
{
    char stored[SOUK_PASSWORD_HASH_MAX], tampered[SOUK_PASSWORD_HASH_MAX + 8];
    hash_ok("pw", 1000, stored);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$1001%s", stored + 18);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$01000%s", stored + 18);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$-1000%s", stored + 18);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$0%s", stored + 18);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$999999999999%s", stored + 18);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
    snprintf(tampered, sizeof tampered, "pbkdf2-sha256$%s", stored + 19);
    cr_assert_eq(souk_password_verify("pw", tampered), 0);
}

Test(password, bad_base64_fails)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("pw", ITER, stored);
    char *salt = strchr(stored + 14, '$') + 1;
    char *hash = strchr(salt, '$') + 1;
    char copy[SOUK_PASSWORD_HASH_MAX];

    memcpy(copy, stored, sizeof copy);
    copy[salt - stored] = '*';
    cr_assert_eq(souk_password_verify("pw", copy), 0);

    memcpy(copy, stored, sizeof copy);
    copy[hash - stored + 3] = '!';
    cr_assert_eq(souk_password_verify("pw", copy), 0);

    memcpy(copy, stored, sizeof copy);
    copy[hash - stored] = ' ';
    cr_assert_eq(souk_password_verify("pw", copy), 0);

    /* One flipped character that is still valid base64 changes the hash. */
    memcpy(copy, stored, sizeof copy);
    copy[hash - stored + 5] = copy[hash - stored + 5] == 'A' ? 'B' : 'A';
    cr_assert_eq(souk_password_verify("pw", copy), 0);

    /* Same for the salt. */
    memcpy(copy, stored, sizeof copy);
    copy[salt - stored + 5] = copy[salt - stored + 5] == 'A' ? 'B' : 'A';
    cr_assert_eq(souk_password_verify("pw", copy), 0);
}

Test(password, truncated_or_malformed_stored_strings_fail)
{
    char stored[SOUK_PASSWORD_HASH_MAX];
    hash_ok("pw", ITER, stored);
    size_t len = strlen(stored);
    char copy[SOUK_PASSWORD_HASH_MAX];
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(copy, stored, cut);
        copy[cut] = '\0';
        cr_assert_eq(souk_password_verify("pw", copy), 0, "cut at %zu: %s", cut, copy);
    }
    char longer[SOUK_PASSWORD_HASH_MAX + 8];
    snprintf(longer, sizeof longer, "%s=", stored);
    cr_assert_eq(souk_password_verify("pw", longer), 0);
    snprintf(longer, sizeof longer, "%s$x", stored);
    cr_assert_eq(souk_password_verify("pw", longer), 0);
    snprintf(longer, sizeof longer, "pbkdf2-sha512%s", stored + 13);
    cr_assert_eq(souk_password_verify("pw", longer), 0);
    cr_assert_eq(souk_password_verify("pw", "pbkdf2-sha256$$$"), 0);
    cr_assert_eq(souk_password_verify("pw", "plaintext"), 0);
    cr_assert_eq(souk_password_verify("pw", ""), 0);
    cr_assert_eq(souk_password_verify("pw", NULL), 0);
    cr_assert_eq(souk_password_verify(NULL, stored), 0);
}

Test(password, bad_arguments_are_refused)
{
    char out[SOUK_PASSWORD_HASH_MAX];
    cr_assert_eq(souk_password_hash("pw", 0, out, sizeof out), SOUK_EINVAL);
    cr_assert_str_empty(out);
    cr_assert_eq(souk_password_hash("pw", -5, out, sizeof out), SOUK_EINVAL);
    cr_assert_eq(souk_password_hash("pw", SOUK_PASSWORD_MAX_ITERATIONS + 1, out, sizeof out),
                 SOUK_EINVAL);
    cr_assert_eq(souk_password_hash(NULL, ITER, out, sizeof out), SOUK_EINVAL);
    cr_assert_eq(souk_password_hash("pw", ITER, NULL, 0), SOUK_EINVAL);
    char small[40];
    cr_assert_eq(souk_password_hash("pw", ITER, small, sizeof small), SOUK_ETOOBIG);
    cr_assert_str_empty(small);
}
