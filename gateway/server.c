/* Request dispatch, the route table, /metrics, /openapi.json and /docs. */
#include "gateway/server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/jsonschema.h"
#include "core/log.h"
#include "events/envelope.h"
#include "gateway/accounts.h"
#include "gateway/analytics.h"
#include "gateway/catalog.h"
#include "gateway/health.h"
#include "gateway/http.h"
#include "gateway/cart.h"
#include "gateway/checkout.h"
#include "gateway/inventory.h"
#include "gateway/orders.h"

typedef void (*route_fn)(souk_request *req);

/* ADMIN_IN_PRODUCTION: PUBLIC in development (Prometheus scrapes without a
 * token), ADMIN with SOUK_ENV=production. */
enum access { PUBLIC, USER, ADMIN, ADMIN_IN_PRODUCTION };

struct route {
    const char *method;
    const char *pattern; /* ":name" segments capture a path parameter */
    route_fn fn;
    enum access access; /* documentation; handlers enforce it */
    const char *body;   /* schemas/http/<body>.json, or NULL */
    const char *summary;
};

static void metrics_route(souk_request *req);
static void openapi_route(souk_request *req);
static void docs_route(souk_request *req);

static const struct route routes[] = {
    {"GET", "/healthz", souk_health_alive, PUBLIC, NULL, "The process is alive"},
    {"GET", "/readyz", souk_health_ready, PUBLIC, NULL,
     "PostgreSQL and RabbitMQ answer (503 naming the one that does not)"},
    {"GET", "/metrics", metrics_route, ADMIN_IN_PRODUCTION, NULL,
     "Prometheus metrics (with SOUK_ENV=production, for an admin token only)"},
    {"GET", "/openapi.json", openapi_route, PUBLIC, NULL, "This description"},
    {"GET", "/docs", docs_route, PUBLIC, NULL, "Human-readable API documentation"},
    {"POST", "/auth/register", souk_accounts_register, PUBLIC, "register",
     "Create a customer account and get an access token"},
    {"POST", "/auth/login", souk_accounts_login, PUBLIC, "login", "Get an access token"},
    {"GET", "/auth/me", souk_accounts_me, USER, NULL, "The signed-in account"},
    {"GET", "/products", souk_catalog_list, USER, NULL,
     "List products (limit, offset, q: name search)"},
    {"POST", "/products", souk_catalog_create, ADMIN, "product", "Create a product"},
    {"GET", "/products/:id", souk_catalog_get, USER, NULL, "One product (served from cache)"},
    {"PUT", "/products/:id", souk_catalog_update, ADMIN, "product", "Replace a product"},
    {"DELETE", "/products/:id", souk_catalog_delete, ADMIN, NULL, "Delete a product"},
    {"GET", "/inventory/:product_id", souk_inventory_get, USER, NULL,
     "Stock of a product: on_hand, reserved, available"},
    {"PUT", "/inventory/:product_id", souk_inventory_set, ADMIN, "stock",
     "Set (on_hand) or adjust (delta) the stock of a product"},
    {"GET", "/cart", souk_cart_get, USER, NULL, "My cart with catalog prices and totals"},
    {"POST", "/cart/items", souk_cart_add, USER, "cart_item", "Add an item to my cart"},
    {"PUT", "/cart/items/:product_id", souk_cart_set, USER, "cart_quantity",
     "Change the quantity of an item"},
    {"DELETE", "/cart/items/:product_id", souk_cart_remove, USER, NULL,
     "Remove an item from my cart"},
    {"POST", "/cart/checkout", souk_checkout_cart, USER, "checkout",
     "Check out my cart (Idempotency-Key header); 202 with the order id"},
    {"POST", "/orders", souk_checkout_order, USER, "order",
     "Order items directly (Idempotency-Key header); 202 with the order id"},
    {"GET", "/orders", souk_orders_list, USER, NULL, "My orders, newest first (limit, offset)"},
    {"GET", "/orders/:id", souk_orders_get, USER, NULL,
     "Status, cancel reason, lines, totals, payment and shipment; with wait=S (1-30), a long "
     "poll answering as soon as the order is COMPLETED or CANCELLED, or after S seconds"},
    {"GET", "/orders/:id/events", souk_orders_events, USER, NULL,
     "The order's timeline: each event, when, from which service"},
    {"GET", "/analytics/summary", souk_analytics_summary, ADMIN, NULL,
     "Orders by status, cancellations by reason, revenue, top products, saga timings "
     "(from, to: ISO 8601)"},
    {"GET", "/notifications", souk_notifications_list, USER, NULL,
     "My notifications (order completed or cancelled), newest first"},
};
#define ROUTE_COUNT ((int)(sizeof routes / sizeof routes[0]))

static const char *route_names[ROUTE_COUNT];
static char route_name_store[ROUTE_COUNT][96];

const char *const *souk_server_route_names(int *count)
{
    for (int i = 0; i < ROUTE_COUNT; i++) {
        snprintf(route_name_store[i], sizeof route_name_store[i], "%s %s", routes[i].method,
                 routes[i].pattern);
        route_names[i] = route_name_store[i];
    }
    *count = ROUTE_COUNT;
    return route_names;
}

/* Matches path against pattern, capturing ":x" segments into params. */
static int match(const char *pattern, const char *path, souk_request *req)
{
    int n = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return 0;
        p++;
        u++;
        const char *pend = strchr(p, '/');
        const char *uend = strchr(u, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t ulen = uend ? (size_t)(uend - u) : strlen(u);
        if (*p == ':') {
            if (ulen == 0 || ulen >= sizeof req->params[0] || n == SOUK_HTTP_MAX_PARAMS)
                return 0;
            memcpy(req->params[n], u, ulen);
            req->params[n][ulen] = '\0';
            n++;
        } else if (plen != ulen || memcmp(p, u, plen) != 0) {
            return 0;
        }
        p += plen;
        u += ulen;
    }
    return *p == '\0' && *u == '\0';
}

/* Request ids need to be unique, not secret: a per-thread xorshift seeded
 * once from the system's random source, in the UUID v4 layout. */
static void new_request_id(char out[64])
{
    static _Thread_local unsigned long long state;
    if (!state) {
        char seed[37];
        souk_uuid_v4(seed);
        for (const char *p = seed; *p; p++)
            state = state * 131 + (unsigned char)*p;
        state |= 1;
    }
    unsigned char b[16];
    for (int i = 0; i < 16; i += 8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        memcpy(b + i, &state, 8);
    }
    souk_uuid_format_v4(b, out);
}

/* Accepts a caller's X-Request-Id when it is short and plain, else makes one. */
static void assign_request_id(souk_request *req)
{
    const char *given = souk_http_header(req, "X-Request-Id");
    if (given) {
        size_t len = strlen(given);
        int plain = len > 0 && len < sizeof req->request_id;
        for (size_t i = 0; plain && i < len; i++) {
            char c = given[i];
            plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
        }
        if (plain) {
            memcpy(req->request_id, given, len + 1);
            return;
        }
    }
    new_request_id(req->request_id);
}

static void authenticate(souk_request *req)
{
    const char *auth = souk_http_header(req, "Authorization");
    if (!auth)
        return;
    if (strncmp(auth, "Bearer ", 7) != 0) {
        snprintf(req->auth_error, sizeof req->auth_error, "not a Bearer token");
        return;
    }
    const souk_config *cfg = req->gw->cfg;
    const char *token = auth + 7;
    long now = (long)time(NULL);
    if (souk_tokencache_get(req->gw->tokens, token, now, 5, &req->claims)) {
        req->authenticated = 1;
        return;
    }
    char why[64] = "";
    if (souk_jwt_verify(req->gw->jwt, souk_config_str(cfg, SOUK_CFG_JWT_ISSUER), token, now, 5,
                        &req->claims, why, sizeof why) == SOUK_OK) {
        req->authenticated = 1;
        souk_tokencache_put(req->gw->tokens, token, &req->claims);
    } else {
        snprintf(req->auth_error, sizeof req->auth_error, "%s", why[0] ? why : "invalid");
    }
}

/* The client's address: the peer's, unless the peer is a trusted proxy
 * (the front, which sets X-Real-IP to the address it was reached from). */
static void client_address(souk_request *req)
{
    const char *peer = req->info->remote_addr;
    const char *real = NULL;
    for (int i = 0; i < req->gw->trusted_proxy_count && !real; i++)
        if (strcmp(peer, req->gw->trusted_proxies[i]) == 0)
            real = souk_http_header(req, "X-Real-IP");
    const char *ip = real && real[0] ? real : peer;
    size_t n = strnlen(ip, sizeof req->client_ip - 1);
    memcpy(req->client_ip, ip, n);
    req->client_ip[n] = '\0';
}

/* "user:<sub>" or "ip:<address>", truncated to fit; formatted by hand, it is
 * on every request. */
static void rate_key(const souk_request *req, char *key, size_t size)
{
    const char *prefix = req->authenticated ? "user:" : "ip:";
    const char *who = req->authenticated ? req->claims.sub : req->client_ip;
    size_t plen = strlen(prefix);
    size_t wlen = strnlen(who, size - plen - 1);
    memcpy(key, prefix, plen);
    memcpy(key + plen, who, wlen);
    key[plen + wlen] = '\0';
}

static int dispatch(struct mg_connection *conn, void *data)
{
    souk_gateway *gw = data;
    souk_request req;
    memset(&req, 0, sizeof req);
    req.conn = conn;
    req.info = mg_get_request_info(conn);
    req.gw = gw;
    double start = souk_monotonic_seconds();
    souk_metrics_begin(gw->metrics);
    assign_request_id(&req);
    client_address(&req);
    authenticate(&req);

    const char *path = req.info->local_uri ? req.info->local_uri : "/";
    int route = -1;
    char allowed[64] = "";
    int probe = strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
                strcmp(path, "/metrics") == 0;
    double retry_after = 0;
    char key[96];
    rate_key(&req, key, sizeof key);
    if (!probe && !souk_ratelimit_take(gw->api_limit, key, start, &retry_after)) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", (int)ceil(retry_after));
        souk_http_add_header(&req, "Retry-After", seconds);
        souk_http_fail(&req, 429, "RATE_LIMITED", "too many requests; see Retry-After", NULL);
    } else {
        for (int i = 0; i < ROUTE_COUNT; i++) {
            if (!match(routes[i].pattern, path, &req))
                continue;
            if (strcmp(routes[i].method, req.info->request_method) == 0) {
                route = i;
                break;
            }
            size_t len = strlen(allowed);
            snprintf(allowed + len, sizeof allowed - len, "%s%s", len ? ", " : "",
                     routes[i].method);
        }
        if (route >= 0) {
            routes[route].fn(&req);
            if (req.status == 0)
                souk_http_internal(&req, "handler sent no answer", SOUK_EIO);
        } else if (allowed[0]) {
            souk_http_add_header(&req, "Allow", allowed);
            souk_http_fail(&req, 405, "METHOD_NOT_ALLOWED", "this path does not take that method",
                           NULL);
        } else {
            souk_http_fail(&req, 404, "NOT_FOUND", "no such endpoint", NULL);
        }
    }
    double elapsed = souk_monotonic_seconds() - start;
    souk_metrics_observe(gw->metrics, route, req.status, elapsed);
    SOUK_LOG(SOUK_LOG_DEBUG, "request_id=%s method=%s path=%s status=%d ms=%.2f", req.request_id,
             req.info->request_method, path, req.status, elapsed * 1e3);
    return req.status;
}

/* The access a route has under cfg. */
static enum access route_access(const struct route *r, const souk_config *cfg)
{
    if (r->access == ADMIN_IN_PRODUCTION)
        return souk_config_is_production(cfg) ? ADMIN : PUBLIC;
    return r->access;
}

static void metrics_route(souk_request *req)
{
    /* Request counts and latencies by route tell an outsider what runs and
     * how loaded it is; in production only an admin reads them. */
    if (souk_config_is_production(req->gw->cfg) && !souk_http_require_admin(req))
        return;
    char *text = souk_metrics_render(req->gw->metrics);
    souk_http_send(req, 200, "text/plain; version=0.0.4", text, strlen(text));
    free(text);
}

static json_object *error_schema(void)
{
    return json_tokener_parse(
        "{\"type\":\"object\",\"required\":[\"error\",\"request_id\"],\"properties\":{"
        "\"error\":{\"type\":\"object\",\"required\":[\"code\",\"message\"],\"properties\":{"
        "\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"details\":{}}},"
        "\"request_id\":{\"type\":\"string\"}}}");
}

/* OpenAPI 3.1 from the route table and the embedded request schemas. */
static json_object *openapi_document(const souk_config *cfg)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.1.0"));
    json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string("Souk gateway"));
    json_object_object_add(info, "version", json_object_new_string("1.0.0"));
    json_object_object_add(info, "description",
                           json_object_new_string("Carts, checkouts and orders of Souk. Errors "
                                                  "are JSON: {error: {code, message, details?}, "
                                                  "request_id}."));
    json_object_object_add(doc, "info", info);
    json_object *components = json_object_new_object();
    json_object *schemas = json_object_new_object();
    json_object_object_add(schemas, "Error", error_schema());
    json_object *security_schemes = json_object_new_object();
    json_object_object_add(security_schemes, "bearer",
                           json_tokener_parse("{\"type\":\"http\",\"scheme\":\"bearer\","
                                              "\"bearerFormat\":\"JWT\"}"));
    json_object_object_add(components, "securitySchemes", security_schemes);
    json_object *paths = json_object_new_object();
    for (int i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        char path[128];
        size_t n = 0;
        for (const char *p = r->pattern; *p && n < sizeof path - 2;) {
            if (*p == ':') {
                path[n++] = '{';
                p++;
                while (*p && *p != '/' && n < sizeof path - 2)
                    path[n++] = *p++;
                path[n++] = '}';
            } else {
                path[n++] = *p++;
            }
        }
        path[n] = '\0';
        json_object *item = NULL;
        if (!json_object_object_get_ex(paths, path, &item)) {
            item = json_object_new_object();
            json_object_object_add(paths, path, item);
        }
        json_object *op = json_object_new_object();
        json_object_object_add(op, "summary", json_object_new_string(r->summary));
        enum access access = route_access(r, cfg);
        if (access != PUBLIC) {
            json_object_object_add(op, "security", json_tokener_parse("[{\"bearer\":[]}]"));
            if (access == ADMIN)
                json_object_object_add(op, "x-souk-role", json_object_new_string("admin"));
        }
        if (strchr(r->pattern, ':')) {
            json_object *params = json_object_new_array();
            for (const char *p = strchr(r->pattern, ':'); p; p = strchr(p + 1, ':')) {
                json_object *param = json_object_new_object();
                size_t len = strcspn(p + 1, "/");
                json_object_object_add(param, "name", json_object_new_string_len(p + 1, (int)len));
                json_object_object_add(param, "in", json_object_new_string("path"));
                json_object_object_add(param, "required", json_object_new_boolean(1));
                json_object_object_add(param, "schema",
                                       json_tokener_parse("{\"type\":\"string\"}"));
                json_object_array_add(params, param);
            }
            json_object_object_add(op, "parameters", params);
        }
        if (r->body) {
            char name[96];
            snprintf(name, sizeof name, "http/%s", r->body);
            if (!json_object_object_get_ex(schemas, r->body, NULL)) {
                /* the embedded schema is the single source of the body's shape */
                json_object *body_schema = json_tokener_parse(souk_schema_text(name));
                json_object_object_del(body_schema, "$schema");
                json_object_object_del(body_schema, "$id");
                json_object_object_add(schemas, r->body, body_schema);
            }
            json_object *schema = json_object_new_object();
            char ref[160];
            snprintf(ref, sizeof ref, "#/components/schemas/%s", r->body);
            json_object_object_add(schema, "$ref", json_object_new_string(ref));
            json_object *content = json_object_new_object();
            json_object *media = json_object_new_object();
            json_object_object_add(media, "schema", schema);
            json_object_object_add(content, "application/json", media);
            json_object *rb = json_object_new_object();
            json_object_object_add(rb, "required", json_object_new_boolean(1));
            json_object_object_add(rb, "content", content);
            json_object_object_add(op, "requestBody", rb);
        }
        json_object *responses = json_object_new_object();
        json_object_object_add(responses, "default",
                               json_tokener_parse("{\"description\":\"An error\",\"content\":{"
                                                  "\"application/json\":{\"schema\":{\"$ref\":"
                                                  "\"#/components/schemas/Error\"}}}}"));
        json_object_object_add(responses, "2XX",
                               json_tokener_parse("{\"description\":\"Success\"}"));
        json_object_object_add(op, "responses", responses);
        char method[16];
        snprintf(method, sizeof method, "%s", r->method);
        for (char *m = method; *m; m++)
            *m = (char)(*m - 'A' + 'a');
        json_object_object_add(item, method, op);
    }
    json_object_object_add(doc, "paths", paths);
    json_object_object_add(components, "schemas", schemas);
    json_object_object_add(doc, "components", components);
    return doc;
}

static void openapi_route(souk_request *req)
{
    json_object *doc = openapi_document(req->gw->cfg);
    souk_http_respond(req, 200, doc);
    json_object_put(doc);
}

static const char docs_page[] =
    "<!doctype html><html><head><meta charset=utf-8><title>Souk API</title><style>"
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}code{background:#eee}"
    ".m{display:inline-block;width:5em;font-weight:bold}</style></head><body>"
    "<h1>Souk gateway API</h1><p>Rendered from <a href=/openapi.json>/openapi.json</a>. "
    "Errors are <code>{\"error\":{\"code\",\"message\",\"details\"},\"request_id\"}</code>.</p>"
    "<div id=api>loading...</div><script>"
    "fetch('/openapi.json').then(r=>r.json()).then(d=>{let h='';"
    "for(const[p,ops]of Object.entries(d.paths))for(const[m,o]of Object.entries(ops)){"
    "h+='<p><span class=m>'+m.toUpperCase()+'</span><code>'+p+'</code> '+o.summary+"
    "(o.security?' <i>(token'+(o['x-souk-role']?', admin':'')+')</i>':'')+"
    "(o.requestBody?'<br><small>body: '+o.requestBody.content['application/json'].schema.$ref"
    ".split('/').pop()+'</small>':'')+'</p>'}"
    "document.getElementById('api').innerHTML=h})</script></body></html>";

static void docs_route(souk_request *req)
{
    souk_http_send(req, 200, "text/html; charset=utf-8", docs_page, sizeof docs_page - 1);
}

void souk_server_register(struct mg_context *ctx, souk_gateway *gw)
{
    mg_set_request_handler(ctx, "/", dispatch, gw);
}
