/* The gateway's route table: every endpoint's method and path, its handler
 * and what it declares. The dispatcher (server.c) enforces the declarations
 * before the handler runs: the caller's access (401 without a valid token,
 * 403 without the admin role), the login limit, and the body (read, parsed
 * and checked against its schema in schemas/http/; the handler gets it as
 * req->body). /openapi.json (openapi.c) is generated from the same table,
 * so what is documented is what is enforced. A new endpoint is one entry
 * here and its handler. */
#ifndef SOUK_GATEWAY_ROUTES_H
#define SOUK_GATEWAY_ROUTES_H

#include "core/config.h"
#include "gateway/http.h"

typedef enum souk_access {
    SOUK_ACCESS_PUBLIC,
    SOUK_ACCESS_USER,  /* any valid token */
    SOUK_ACCESS_ADMIN, /* a valid token with role admin */
    /* PUBLIC in development (Prometheus scrapes without a token), ADMIN
     * with SOUK_ENV=production */
    SOUK_ACCESS_ADMIN_IN_PRODUCTION,
} souk_access;

/* The rate limits a request of the route takes before its handler runs. */
typedef enum souk_route_limit {
    SOUK_LIMIT_API,   /* the per-user (or per-IP) bucket: every route but the probes */
    SOUK_LIMIT_NONE,  /* probes: a load balancer or Prometheus is never limited */
    SOUK_LIMIT_LOGIN, /* the API bucket, then the stricter per-IP login bucket */
} souk_route_limit;

typedef void (*souk_route_fn)(souk_request *req);

typedef struct souk_route {
    const char *method;
    const char *pattern; /* ":name" segments capture a path parameter */
    souk_route_fn fn;
    souk_access access;
    souk_route_limit limit;
    const char *body; /* schemas/http/<body>.json, or NULL: the route reads no body */
    const char *summary;
} souk_route;

/* The table, in matching order; *count gets its length. */
const souk_route *souk_routes(int *count);

/* The access r has under cfg (ADMIN_IN_PRODUCTION resolved). */
souk_access souk_route_access(const souk_route *r, const souk_config *cfg);

#endif
