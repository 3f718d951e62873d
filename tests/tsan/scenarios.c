/* souk-tsan-scenarios: runs every scenario of tests/support/concurrency.h
 * once, in this process, for ThreadSanitizer to watch (`souk test --tsan`
 * starts it on its stack). Prints one line per scenario and the count;
 * exits 1 when one failed, 77 (skipped) without the stack. ThreadSanitizer's
 * own reports go where TSAN_OPTIONS says. */
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "tests/support/concurrency.h"
#include "tests/support/harness.h"

static int passed, failed;

static void report(const char *name, int rc, const char *why)
{
    printf("%s %s%s%s\n", rc == 0 ? "PASS" : "FAIL", name, rc == 0 ? "" : ": ", rc == 0 ? "" : why);
    fflush(stdout);
    if (rc == 0)
        passed++;
    else
        failed++;
}

static souk_config *load(const char *service)
{
    souk_config *cfg = NULL;
    char err[256] = "";
    if (souk_config_load(&cfg, service, err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk-tsan-scenarios: configuration error: %s\n", err);
        exit(2);
    }
    return cfg;
}

int main(void)
{
    th_require_stack(TH_NEEDS_STACK);
    char why[256];
    report("ratelimit takes", tc_ratelimit_takes(why, sizeof why), why);
    report("tokencache puts and gets", tc_tokencache_puts_and_gets(why, sizeof why), why);
    report("waitbudget takes and gives", tc_waitbudget_takes_and_gives(why, sizeof why), why);

    souk_config *gateway = load("gateway");
    report("orderwatch notification", tc_orderwatch_notification(gateway, why, sizeof why), why);
    report("orderwatch shutdown", tc_orderwatch_shutdown(gateway, why, sizeof why), why);
    souk_config_free(gateway);

    setenv("SOUK_OUTBOX_POLL_MS", "60000", 1);
    souk_config *order = load("order");
    report("relay wake-up", tc_relay_wakeup(order, why, sizeof why), why);
    souk_config_free(order);

    printf("tsan scenarios: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
