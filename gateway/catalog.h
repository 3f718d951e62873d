/* The catalog: product endpoints and the gateway's in-memory product cache.
 * Reads of one product are served from the cache. A write drops the product
 * from this process's cache before it answers, so the process that took the
 * write never serves the old product again; the other gateway processes drop
 * it when the catalog's NOTIFY reaches them (milliseconds), and in any case
 * within SOUK_CATALOG_CACHE_TTL_MS, the age after which an entry is
 * re-read. */
#ifndef SOUK_GATEWAY_CATALOG_H
#define SOUK_GATEWAY_CATALOG_H

#include "gateway/http.h"

typedef struct souk_product {
    char id[37];
    char sku[65];
    char name[201];
    char currency[4];
    long long price_minor;
    int active;
} souk_product;

/* Creates the cache and starts its invalidation listener; NULL on failure. */
souk_catalog_cache *souk_catalog_cache_new(souk_gateway *gw);
void souk_catalog_cache_free(souk_catalog_cache *cache);

/* Looks a product up (cache first). SOUK_ENOTFOUND when there is none. */
souk_status souk_catalog_lookup(souk_gateway *gw, const char *id, souk_product *out)
    __attribute__((warn_unused_result));

/* Looks the product id up into out (may be NULL). Returns 1 when it exists,
 * or 0 after answering 404 (or 503 when the catalog cannot be read). */
int souk_catalog_require(souk_request *req, const char *id, souk_product *out);

void souk_catalog_list(souk_request *req);   /* GET /products */
void souk_catalog_get(souk_request *req);    /* GET /products/{id} */
void souk_catalog_create(souk_request *req); /* POST /products */
void souk_catalog_update(souk_request *req); /* PUT /products/{id} */
void souk_catalog_delete(souk_request *req); /* DELETE /products/{id} */

#endif
