/* Product endpoints and the product cache with LISTEN/NOTIFY invalidation. */
#include "gateway/catalog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "gateway/listener.h"

#define CACHE_SLOTS 4096
#define CACHE_MAX   100000

/* The product as served: immutable once made and shared by reference, so a
 * cache hit copies nothing; the last holder frees it. */
typedef struct served_json {
    atomic_uint refs;
    size_t len;
    char text[];
} served_json;

static served_json *served_json_new(const char *text, size_t len)
{
    served_json *j = souk_malloc(sizeof *j + len + 1);
    atomic_init(&j->refs, 1);
    j->len = len;
    memcpy(j->text, text, len);
    j->text[len] = '\0';
    return j;
}

static served_json *served_json_ref(served_json *j)
{
    atomic_fetch_add_explicit(&j->refs, 1, memory_order_relaxed);
    return j;
}

static void served_json_unref(served_json *j)
{
    if (j && atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) == 1)
        free(j);
}

struct entry {
    struct entry *next;
    char id[37];
    served_json *json;
    souk_product product;
    double fetched_at;
};

struct souk_catalog_cache {
    souk_gateway *gw;
    pthread_rwlock_t lock;
    struct entry *slots[CACHE_SLOTS];
    size_t count;
    souk_listener *listener;
};

static unsigned slot_of(const char *id)
{
    return (unsigned)(souk_hash_text(id) % CACHE_SLOTS);
}

static void drop_locked(souk_catalog_cache *cache, const char *id)
{
    struct entry **link = &cache->slots[slot_of(id)];
    while (*link) {
        struct entry *e = *link;
        if (strcmp(e->id, id) == 0) {
            *link = e->next;
            served_json_unref(e->json);
            free(e);
            cache->count--;
            return;
        }
        link = &e->next;
    }
}

static void drop(souk_catalog_cache *cache, const char *id)
{
    pthread_rwlock_wrlock(&cache->lock);
    drop_locked(cache, id);
    pthread_rwlock_unlock(&cache->lock);
}

static void drop_all(souk_catalog_cache *cache)
{
    pthread_rwlock_wrlock(&cache->lock);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        while (cache->slots[i]) {
            struct entry *e = cache->slots[i];
            cache->slots[i] = e->next;
            served_json_unref(e->json);
            free(e);
        }
    }
    cache->count = 0;
    pthread_rwlock_unlock(&cache->lock);
}

/* A catalog_products notification names a product to drop. After a
 * (re)connection everything goes: notifications may have been missed. */
static void on_product_changed(void *ctx, const char *id)
{
    drop(ctx, id);
}

static void on_listener_connect(void *ctx)
{
    drop_all(ctx);
}

souk_catalog_cache *souk_catalog_cache_new(souk_gateway *gw)
{
    souk_catalog_cache *cache = souk_calloc(1, sizeof *cache);
    cache->gw = gw;
    pthread_rwlock_init(&cache->lock, NULL);
    souk_listener_callbacks callbacks = {
        .on_notify = on_product_changed, .on_connect = on_listener_connect, .ctx = cache};
    cache->listener =
        souk_listener_start(gw->cfg, SOUK_SCHEMA_CATALOG, 0, "catalog_products", callbacks);
    if (!cache->listener) {
        pthread_rwlock_destroy(&cache->lock);
        free(cache);
        return NULL;
    }
    return cache;
}

void souk_catalog_cache_free(souk_catalog_cache *cache)
{
    if (!cache)
        return;
    souk_listener_stop(cache->listener);
    drop_all(cache);
    pthread_rwlock_destroy(&cache->lock);
    free(cache);
}

#define PRODUCT_COLUMNS                                                                            \
    "id, sku, name, description, price_minor, currency, active, "                                  \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                   \
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static json_object *product_json(PGresult *res, int row)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_string(PQgetvalue(res, row, 0)));
    json_object_object_add(p, "sku", json_object_new_string(PQgetvalue(res, row, 1)));
    json_object_object_add(p, "name", json_object_new_string(PQgetvalue(res, row, 2)));
    json_object_object_add(p, "description", json_object_new_string(PQgetvalue(res, row, 3)));
    json_object_object_add(p, "price_minor",
                           json_object_new_int64(strtoll(PQgetvalue(res, row, 4), NULL, 10)));
    json_object_object_add(p, "currency", json_object_new_string(PQgetvalue(res, row, 5)));
    json_object_object_add(p, "active", json_object_new_boolean(PQgetvalue(res, row, 6)[0] == 't'));
    json_object_object_add(p, "created_at", json_object_new_string(PQgetvalue(res, row, 7)));
    json_object_object_add(p, "updated_at", json_object_new_string(PQgetvalue(res, row, 8)));
    return p;
}

static void fill_product(PGresult *res, int row, souk_product *out)
{
    snprintf(out->id, sizeof out->id, "%s", PQgetvalue(res, row, 0));
    snprintf(out->sku, sizeof out->sku, "%s", PQgetvalue(res, row, 1));
    snprintf(out->name, sizeof out->name, "%s", PQgetvalue(res, row, 2));
    out->price_minor = strtoll(PQgetvalue(res, row, 4), NULL, 10);
    snprintf(out->currency, sizeof out->currency, "%s", PQgetvalue(res, row, 5));
    out->active = PQgetvalue(res, row, 6)[0] == 't';
}

/* Copies the cached entry for id, if fresh, into product and/or hands out a
 * reference to its JSON. Returns 1 on a hit. */
static int cache_get(souk_catalog_cache *cache, const char *id, souk_product *product,
                     served_json **json)
{
    double max_age = (double)souk_config_int(cache->gw->cfg, SOUK_CFG_CATALOG_CACHE_TTL_MS) / 1e3;
    int hit = 0;
    pthread_rwlock_rdlock(&cache->lock);
    for (struct entry *e = cache->slots[slot_of(id)]; e; e = e->next) {
        if (strcmp(e->id, id) == 0 && souk_monotonic_seconds() - e->fetched_at < max_age) {
            if (product)
                *product = e->product;
            if (json)
                *json = served_json_ref(e->json);
            hit = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&cache->lock);
    return hit;
}

static void cache_put(souk_catalog_cache *cache, const souk_product *product, served_json *json,
                      double fetched_at)
{
    struct entry *e = souk_calloc(1, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", product->id);
    e->product = *product;
    e->json = served_json_ref(json);
    e->fetched_at = fetched_at;
    pthread_rwlock_wrlock(&cache->lock);
    drop_locked(cache, e->id);
    if (cache->count >= CACHE_MAX) {
        pthread_rwlock_unlock(&cache->lock);
        served_json_unref(e->json);
        free(e);
        return;
    }
    unsigned s = slot_of(e->id);
    e->next = cache->slots[s];
    cache->slots[s] = e;
    cache->count++;
    pthread_rwlock_unlock(&cache->lock);
}

/* Reads a product from the database into the cache. */
static souk_status fetch(souk_gateway *gw, const char *id, souk_product *product,
                         served_json **json)
{
    if (!souk_uuid_valid(id))
        return SOUK_ENOTFOUND;
    souk_status st;
    PGconn *db = souk_dbpool_acquire(gw->catalog, &st);
    if (!db)
        return st;
    /* Taken before the read: an invalidation that lands during the read
     * makes the entry already stale rather than newer than it is. */
    double fetched_at = souk_monotonic_seconds();
    const char *params[1] = {id};
    PGresult *res = PQexecParams(db, "SELECT " PRODUCT_COLUMNS " FROM products WHERE id = $1", 1,
                                 NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st == SOUK_OK && PQntuples(res) != 1)
        st = SOUK_ENOTFOUND;
    if (st == SOUK_OK) {
        souk_product p;
        fill_product(res, 0, &p);
        json_object *obj = product_json(res, 0);
        const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
        served_json *served = served_json_new(text, strlen(text));
        cache_put(gw->products, &p, served, fetched_at);
        if (product)
            *product = p;
        if (json)
            *json = served_json_ref(served);
        served_json_unref(served);
        json_object_put(obj);
    }
    PQclear(res);
    souk_dbpool_release(gw->catalog, db);
    return st;
}

souk_status souk_catalog_lookup(souk_gateway *gw, const char *id, souk_product *out)
{
    if (cache_get(gw->products, id, out, NULL))
        return SOUK_OK;
    return fetch(gw, id, out, NULL);
}

int souk_catalog_require(souk_request *req, const char *id, souk_product *out)
{
    souk_product ignored;
    souk_status st = souk_catalog_lookup(req->gw, id, out ? out : &ignored);
    if (st == SOUK_OK)
        return 1;
    if (st == SOUK_ENOTFOUND)
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
    else
        souk_http_fail_status(req, "reading a product", st);
    return 0;
}

void souk_catalog_get(souk_request *req)
{
    const char *id = req->params[0];
    served_json *json = NULL;
    souk_status st = SOUK_OK;
    if (!cache_get(req->gw->products, id, NULL, &json))
        st = fetch(req->gw, id, NULL, &json);
    if (st == SOUK_ENOTFOUND) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
    } else if (st != SOUK_OK) {
        souk_http_fail_status(req, "reading a product", st);
    } else {
        souk_http_send(req, 200, "application/json", json->text, json->len);
    }
    served_json_unref(json);
}

void souk_catalog_list(souk_request *req)
{
    long limit, offset;
    if (souk_http_page(req, &limit, &offset))
        return;
    char q[128] = "";
    souk_http_query_text(req, "q", q, sizeof q);
    char limit_s[16], offset_s[16], pattern[140];
    snprintf(limit_s, sizeof limit_s, "%ld", limit);
    snprintf(offset_s, sizeof offset_s, "%ld", offset);
    /* The search is a substring match on the name; LIKE wildcards in q are
     * taken literally. */
    size_t n = 0;
    pattern[n++] = '%';
    for (const char *p = q; *p && n < sizeof pattern - 3; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            pattern[n++] = '\\';
        pattern[n++] = *p;
    }
    pattern[n++] = '%';
    pattern[n] = '\0';
    PGconn *db = souk_http_db(req, req->gw->catalog, "catalog database");
    if (!db)
        return;
    souk_status st;
    const char *params[3] = {pattern, limit_s, offset_s};
    PGresult *res = PQexecParams(db,
                                 "SELECT " PRODUCT_COLUMNS ", count(*) OVER () FROM products "
                                 "WHERE lower(name) LIKE lower($1) ORDER BY name, id "
                                 "LIMIT $2::int OFFSET $3::int",
                                 3, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "listing products", st);
    } else {
        souk_http_respond_page(req, res, product_json, limit, offset, 9);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->catalog, db);
}

/* Inserts or updates from a checked body; id NULL creates. */
static void write_product(souk_request *req, const char *id)
{
    if (id && !souk_uuid_valid(id)) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
        return;
    }
    json_object *doc = req->body;
    char new_id[37];
    if (!id) {
        souk_uuid_v4(new_id);
        id = new_id;
    }
    json_object *active = NULL;
    char price[32];
    snprintf(price, sizeof price, "%lld",
             (long long)json_object_get_int64(json_object_object_get(doc, "price_minor")));
    const char *desc = json_object_get_string(json_object_object_get(doc, "description"));
    const char *params[7] = {
        id,
        json_object_get_string(json_object_object_get(doc, "sku")),
        json_object_get_string(json_object_object_get(doc, "name")),
        desc ? desc : "",
        price,
        json_object_get_string(json_object_object_get(doc, "currency")),
        json_object_object_get_ex(doc, "active", &active) && !json_object_get_boolean(active)
            ? "false"
            : "true",
    };
    PGconn *db = souk_http_db(req, req->gw->catalog, "catalog database");
    if (!db)
        return;
    souk_status st;
    PGresult *res = PQexecParams(
        db,
        id == new_id
            ? "INSERT INTO products (id, sku, name, description, price_minor, currency, active) "
              "VALUES ($1, $2, $3, $4, $5::bigint, $6, $7::boolean) RETURNING " PRODUCT_COLUMNS
            : "UPDATE products SET sku = $2, name = $3, description = $4, price_minor = "
              "$5::bigint, currency = $6, active = $7::boolean, version = version + 1, "
              "updated_at = now() WHERE id = $1 RETURNING " PRODUCT_COLUMNS,
        7, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    /* Dropped before answering: this process never serves the old product. */
    drop(req->gw->products, id);
    if (st == SOUK_ECONFLICT) {
        souk_http_fail(req, 409, "SKU_TAKEN", "another product has this sku", NULL);
    } else if (st != SOUK_OK) {
        souk_http_fail_status(req, "writing a product", st);
    } else if (PQntuples(res) != 1) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
    } else {
        json_object *body = product_json(res, 0);
        if (id == new_id) {
            char location[64];
            snprintf(location, sizeof location, "/products/%s", id);
            souk_http_add_header(req, "Location", location);
        }
        souk_http_respond(req, id == new_id ? 201 : 200, body);
        json_object_put(body);
        SOUK_LOG(SOUK_LOG_INFO, "product %s request_id=%s product_id=%s",
                 id == new_id ? "created" : "updated", req->request_id, id);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->catalog, db);
}

void souk_catalog_create(souk_request *req)
{
    write_product(req, NULL);
}

void souk_catalog_update(souk_request *req)
{
    write_product(req, req->params[0]);
}

void souk_catalog_delete(souk_request *req)
{
    const char *id = req->params[0];
    if (!souk_uuid_valid(id)) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
        return;
    }
    PGconn *db = souk_http_db(req, req->gw->catalog, "catalog database");
    if (!db)
        return;
    souk_status st;
    const char *params[1] = {id};
    PGresult *res =
        PQexecParams(db, "DELETE FROM products WHERE id = $1", 1, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    drop(req->gw->products, id);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "deleting a product", st);
    } else if (strcmp(PQcmdTuples(res), "1") != 0) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such product", NULL);
    } else {
        mg_printf(req->conn,
                  "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-Request-Id: %s\r\n%s\r\n",
                  req->request_id, req->extra_headers);
        req->status = 204;
    }
    PQclear(res);
    souk_dbpool_release(req->gw->catalog, db);
}
