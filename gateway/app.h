/* The gateway's shared state, built once at start and read by every
 * request thread: configuration, connection pools, keys, limiters, the
 * product cache and the metrics. */
#ifndef SOUK_GATEWAY_APP_H
#define SOUK_GATEWAY_APP_H

#include "core/config.h"
#include "gateway/dbpool.h"
#include "gateway/jwt.h"
#include "gateway/metrics.h"
#include "gateway/ratelimit.h"
#include "gateway/tokencache.h"

typedef struct souk_catalog_cache souk_catalog_cache;
typedef struct souk_deadletters souk_deadletters;
typedef struct souk_orderwatch souk_orderwatch;
typedef struct souk_waitbudget souk_waitbudget;
typedef struct souk_static souk_static;

#define SOUK_GATEWAY_MAX_TRUSTED_PROXIES 8

typedef struct souk_gateway {
    const souk_config *cfg;
    /* the schemas the gateway owns */
    souk_dbpool *identity;
    souk_dbpool *catalog;
    souk_dbpool *cart;
    /* other services' read models, as their souk_<schema>_gateway roles */
    souk_dbpool *orders_read;
    souk_dbpool *inventory_read;
    souk_dbpool *payment_read;  /* journal and publishes only (trace view) */
    souk_dbpool *shipping_read; /* journal and publishes only (trace view) */
    souk_dbpool *analytics_read;
    souk_dbpool *notification_read;
    souk_jwt_keys *jwt;
    souk_tokencache *tokens;
    souk_ratelimit *api_limit;
    souk_ratelimit *login_limit;
    souk_catalog_cache *products;
    souk_orderwatch *orders_watch; /* wakes long polls of GET /orders/{id} */
    souk_waitbudget *waits;        /* caps the requests that wait (long polls) */
    /* peers (the front proxy) whose X-Real-IP header names the client */
    char trusted_proxies[SOUK_GATEWAY_MAX_TRUSTED_PROXIES][64];
    int trusted_proxy_count;
    souk_metrics *metrics;
    souk_deadletters *deadletters; /* the admins' DLQ locks and replay jobs */
    souk_static *web;              /* the browser console's built files */
} souk_gateway;

/* Builds the gateway state from cfg (which must outlive it). Returns NULL
 * with a reason in err when the JWT keys are unusable. */
souk_gateway *souk_gateway_new(const souk_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void souk_gateway_free(souk_gateway *gw);

#endif
