/* Building and tearing down the gateway state. */
#include "gateway/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "gateway/catalog.h"
#include "gateway/deadletters.h"
#include "gateway/orderwatch.h"
#include "gateway/server.h"
#include "gateway/static.h"
#include "gateway/waitbudget.h"

/* Threads that waiting requests may never take. */
#define ORDINARY_THREADS_MIN 64

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = souk_malloc(65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* SOUK_TRUSTED_PROXIES, a comma-separated list of peer addresses. */
static void read_trusted_proxies(souk_gateway *gw)
{
    const char *list = souk_config_str(gw->cfg, SOUK_CFG_TRUSTED_PROXIES);
    while (*list && gw->trusted_proxy_count < SOUK_GATEWAY_MAX_TRUSTED_PROXIES) {
        size_t n = strcspn(list, ",");
        while (n && (*list == ' ')) {
            list++;
            n--;
        }
        if (n && n < sizeof gw->trusted_proxies[0])
            snprintf(gw->trusted_proxies[gw->trusted_proxy_count++], sizeof gw->trusted_proxies[0],
                     "%.*s", (int)n, list);
        list += n;
        if (*list == ',')
            list++;
    }
}

static souk_status load_keys(souk_gateway *gw, char *err, size_t errlen)
{
    const souk_config *cfg = gw->cfg;
    if (strcmp(souk_config_str(cfg, SOUK_CFG_JWT_ALG), "HS256") == 0) {
        souk_status st = souk_jwt_keys_hs256(&gw->jwt, souk_config_str(cfg, SOUK_CFG_JWT_SECRET));
        if (st != SOUK_OK)
            snprintf(err, errlen, "SOUK_JWT_SECRET: must be at least 32 bytes");
        return st;
    }
    char *private_pem = read_file(souk_config_str(cfg, SOUK_CFG_JWT_PRIVATE_KEY_FILE));
    char *public_pem = read_file(souk_config_str(cfg, SOUK_CFG_JWT_PUBLIC_KEY_FILE));
    souk_status st = SOUK_ECONFIG;
    if (!private_pem || !public_pem)
        snprintf(err, errlen, "SOUK_JWT_PRIVATE_KEY_FILE/SOUK_JWT_PUBLIC_KEY_FILE: cannot read");
    else if ((st = souk_jwt_keys_rs256(&gw->jwt, private_pem, public_pem)) != SOUK_OK)
        snprintf(err, errlen,
                 "SOUK_JWT_PRIVATE_KEY_FILE: not a matching RSA key pair (2048+ bits)");
    free(private_pem);
    free(public_pem);
    return st;
}

souk_gateway *souk_gateway_new(const souk_config *cfg, char *err, size_t errlen)
{
    souk_gateway *gw = souk_calloc(1, sizeof *gw);
    gw->cfg = cfg;
    if (load_keys(gw, err, errlen) != SOUK_OK) {
        free(gw);
        return NULL;
    }
    gw->tokens = souk_tokencache_new();
    int size = (int)souk_config_int(cfg, SOUK_CFG_DB_POOL_SIZE);
    gw->identity = souk_dbpool_new(cfg, SOUK_SCHEMA_IDENTITY, 0, size);
    gw->catalog = souk_dbpool_new(cfg, SOUK_SCHEMA_CATALOG, 0, size);
    gw->cart = souk_dbpool_new(cfg, SOUK_SCHEMA_CART, 0, size);
    gw->orders_read = souk_dbpool_new(cfg, SOUK_SCHEMA_ORDERS, 1, size);
    gw->inventory_read = souk_dbpool_new(cfg, SOUK_SCHEMA_INVENTORY, 1, size);
    gw->payment_read = souk_dbpool_new(cfg, SOUK_SCHEMA_PAYMENT, 1, size);
    gw->shipping_read = souk_dbpool_new(cfg, SOUK_SCHEMA_SHIPPING, 1, size);
    gw->analytics_read = souk_dbpool_new(cfg, SOUK_SCHEMA_ANALYTICS, 1, size);
    gw->notification_read = souk_dbpool_new(cfg, SOUK_SCHEMA_NOTIFICATION, 1, size);
    double rps = (double)souk_config_int(cfg, SOUK_CFG_RATE_LIMIT_RPS);
    gw->api_limit =
        souk_ratelimit_new(rps, (double)souk_config_int(cfg, SOUK_CFG_RATE_LIMIT_BURST));
    double per_min = (double)souk_config_int(cfg, SOUK_CFG_LOGIN_LIMIT_PER_MIN);
    gw->login_limit = souk_ratelimit_new(per_min / 60.0, per_min);
    int count = 0;
    const char *const *names = souk_server_route_names(&count);
    gw->metrics = souk_metrics_new(names, count);
    gw->products = souk_catalog_cache_new(gw);
    gw->orders_watch = souk_orderwatch_new(cfg);
    /* Waiting requests never take the threads ordinary requests need. */
    long threads = souk_config_int(cfg, SOUK_CFG_GATEWAY_THREADS);
    long waits = souk_config_int(cfg, SOUK_CFG_LONG_POLL_MAX);
    if (waits > threads - ORDINARY_THREADS_MIN) {
        waits = threads > ORDINARY_THREADS_MIN ? threads - ORDINARY_THREADS_MIN : 0;
        SOUK_LOG(SOUK_LOG_WARN,
                 "SOUK_LONG_POLL_MAX lowered to %ld: %d of SOUK_GATEWAY_THREADS=%ld stay for "
                 "ordinary requests",
                 waits, ORDINARY_THREADS_MIN, threads);
    }
    gw->waits =
        souk_waitbudget_new((int)waits, (int)souk_config_int(cfg, SOUK_CFG_LONG_POLL_PER_CUSTOMER));
    gw->deadletters = souk_deadletters_new(cfg);
    read_trusted_proxies(gw);
    gw->web = souk_static_load(souk_config_str(cfg, SOUK_CFG_WEB_DIR));
    souk_assert(gw->api_limit && gw->login_limit && gw->products && gw->orders_watch);
    return gw;
}

void souk_gateway_free(souk_gateway *gw)
{
    if (!gw)
        return;
    souk_deadletters_free(gw->deadletters); /* its replays stop first */
    souk_catalog_cache_free(gw->products);
    souk_static_free(gw->web);
    souk_orderwatch_free(gw->orders_watch);
    souk_metrics_free(gw->metrics);
    souk_ratelimit_free(gw->api_limit);
    souk_ratelimit_free(gw->login_limit);
    souk_waitbudget_free(gw->waits);
    souk_dbpool_free(gw->identity);
    souk_dbpool_free(gw->catalog);
    souk_dbpool_free(gw->cart);
    souk_dbpool_free(gw->orders_read);
    souk_dbpool_free(gw->inventory_read);
    souk_dbpool_free(gw->payment_read);
    souk_dbpool_free(gw->shipping_read);
    souk_dbpool_free(gw->analytics_read);
    souk_dbpool_free(gw->notification_read);
    souk_jwt_keys_free(gw->jwt);
    souk_tokencache_free(gw->tokens);
    free(gw);
}
