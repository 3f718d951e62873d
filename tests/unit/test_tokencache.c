/* The verified-token cache: only the exact token hits, exp and nbf are
 * checked on every hit (also on the per-thread shortcut), and one cache's
 * tokens never hit in another, also while other threads replace entries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gateway/tokencache.h"
#include "tests/support/concurrency.h"

static souk_jwt_claims claims_for(const char *sub, long nbf, long exp)
{
    souk_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", sub);
    snprintf(c.role, sizeof c.role, "customer");
    c.iat = nbf;
    c.nbf = nbf;
    c.exp = exp;
    return c;
}

Test(tokencache, only_the_exact_verified_token_hits_and_only_while_valid)
{
    souk_tokencache *c = souk_tokencache_new();
    souk_jwt_claims in = claims_for("alice", 1000, 2000), out;
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 1500, 5, &out), 0);
    souk_tokencache_put(c, "tok.alice.sig", &in);
    for (int i = 0; i < 3; i++) { /* the first from the table, then the thread's memo */
        memset(&out, 0, sizeof out);
        cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 1500, 5, &out), 1);
        cr_assert_str_eq(out.sub, "alice");
    }
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig2", 1500, 5, &out), 0);
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.si", 1500, 5, &out), 0);
    /* exp and nbf, with the leeway, on every hit */
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 2005, 5, &out), 1);
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 2006, 5, &out), 0);
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 994, 5, &out), 0);
    cr_assert_eq(souk_tokencache_get(c, "tok.alice.sig", 1500, 5, &out), 1);
    souk_tokencache_free(c);
}

Test(tokencache, a_token_remembered_by_one_cache_misses_in_another)
{
    souk_tokencache *a = souk_tokencache_new();
    souk_jwt_claims in = claims_for("bob", 0, 100), out;
    souk_tokencache_put(a, "tok.bob.sig", &in);
    cr_assert_eq(souk_tokencache_get(a, "tok.bob.sig", 50, 0, &out), 1);
    souk_tokencache_free(a);
    /* A new cache (maybe at the same address) knows nothing yet, even on the
     * thread that just hit the old one. */
    souk_tokencache *b = souk_tokencache_new();
    cr_assert_eq(souk_tokencache_get(b, "tok.bob.sig", 50, 0, &out), 0);
    souk_tokencache_free(b);
}

Test(tokencache, threads_putting_and_getting_at_once_only_hit_their_own_claims)
{
    char why[256] = "";
    cr_assert_eq(tc_tokencache_puts_and_gets(why, sizeof why), 0, "%s", why);
}
