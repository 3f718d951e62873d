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

/* The query parameters a route reads (their schemas are in openapi.c, from
 * the limits the handlers apply). */
enum {
    SOUK_QUERY_LIMIT = 1 << 0,  /* a page's size, SOUK_HTTP_PAGE_LIMIT_* */
    SOUK_QUERY_OFFSET = 1 << 1, /* where a page starts */
    SOUK_QUERY_PAGE = SOUK_QUERY_LIMIT | SOUK_QUERY_OFFSET,
    SOUK_QUERY_Q = 1 << 2,    /* a name search */
    SOUK_QUERY_WAIT = 1 << 3, /* a long poll's seconds */
    SOUK_QUERY_FROM = 1 << 4, /* a window's start */
    SOUK_QUERY_TO = 1 << 5,   /* a window's end */
    /* where a page of a dead-letter queue starts, within the messages that
     * are inspected (SOUK_DLQ_SCAN_MAX) */
    SOUK_QUERY_SCAN_OFFSET = 1 << 6,
    SOUK_QUERY_REASON = 1 << 7, /* dead letters of one x-souk-error */
    SOUK_QUERY_WINDOW = 1 << 8, /* the system view's seconds back from now */
    /* wait and version: a long poll for an answer whose version differs
     * from an earlier one's (gateway/longpoll.h) */
    SOUK_QUERY_CHANGE = 1 << 9,
    SOUK_QUERY_SAGA_FILTER = 1 << 10, /* q, state, reason, stuck_after of GET /sagas */
    SOUK_QUERY_LAST = SOUK_QUERY_SAGA_FILTER,
};

/* The headers a route reads or sets besides those every route has
 * (X-Request-Id both ways; WWW-Authenticate on a 401, Retry-After on 429
 * and 503). */
enum {
    SOUK_HEADER_IDEMPOTENCY_KEY = 1 << 0,     /* read: a repeated key answers the same order */
    SOUK_HEADER_LOCATION = 1 << 1,            /* set on success: where the new thing is */
    SOUK_HEADER_IDEMPOTENT_REPLAYED = 1 << 2, /* set on a replayed success */
};

/* An error status the handler answers, and which codes when (the
 * dispatcher's own, for access, body and rate limits, are added by the
 * document generator from the route's other declarations). */
typedef struct souk_route_error {
    int status;
    const char *when; /* "NOT_FOUND: no such product" */
} souk_route_error;

#define SOUK_ROUTE_MAX_ERRORS 4

typedef struct souk_route {
    const char *method;
    /* ":name" segments capture a path parameter; a last segment "*" matches
     * the rest of the path, whatever its segments (a console page) */
    const char *pattern;
    souk_route_fn fn;
    souk_access access;
    souk_route_limit limit;
    const char *body; /* schemas/http/<body>.json, or NULL: the route reads no body */
    int success;      /* the status of its successful answer */
    /* schemas/http/responses/<response>.json of that answer (NULL: none,
     * a 204, or text when media is set) */
    const char *response;
    const char *media; /* the success answer's content type, when not JSON */
    unsigned query;    /* SOUK_QUERY_* */
    unsigned headers;  /* SOUK_HEADER_* */
    souk_route_error errors[SOUK_ROUTE_MAX_ERRORS];
    /* 1: a page or file of the browser console (static.c), not an API
     * operation: left out of /openapi.json's paths (its x-souk-console
     * lists these patterns). The dispatcher treats it as any route. */
    int console;
    const char *operation_id; /* unique, camelCase */
    const char *tag;          /* one of souk_route_tags */
    const char *summary;
    const char *description; /* or NULL */
} souk_route;

/* A group of routes in the document, and what it is about. */
typedef struct souk_route_tag {
    const char *name;
    const char *description;
} souk_route_tag;

/* The tags, in the document's order; *count gets their number. */
const souk_route_tag *souk_route_tags(int *count);

/* The table, in matching order; *count gets its length. */
const souk_route *souk_routes(int *count);

/* The access r has under cfg (ADMIN_IN_PRODUCTION resolved). */
souk_access souk_route_access(const souk_route *r, const souk_config *cfg);

#endif
