/* Request dispatch: the request id, the caller's token and address, the
 * rate limits, and the route table's declarations (access, login limit,
 * body) enforced before the route's handler runs. */
#include "gateway/server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "gateway/http.h"
#include "gateway/routes.h"

const char *const *souk_server_route_names(int *count)
{
    /* built once, at start, for the metrics' labels; kept for the process */
    static const char **names;
    const souk_route *routes = souk_routes(count);
    if (!names) {
        names = souk_calloc((size_t)*count, sizeof *names);
        for (int i = 0; i < *count; i++) {
            size_t size = strlen(routes[i].method) + strlen(routes[i].pattern) + 2;
            char *name = souk_malloc(size);
            snprintf(name, size, "%s %s", routes[i].method, routes[i].pattern);
            names[i] = name;
        }
    }
    return names;
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
        if (p[0] == '*' && p[1] == '\0')
            return 1; /* the rest of the path, however many segments */
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

/* Answers 429 with Retry-After and returns 0 when key has no token left in
 * limit. */
static int take_limit(souk_request *req, souk_ratelimit *limit, const char *key, double now,
                      const char *code, const char *message)
{
    double retry_after = 0;
    if (souk_ratelimit_take(limit, key, now, &retry_after))
        return 1;
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%d", (int)ceil(retry_after));
    souk_http_add_header(req, "Retry-After", seconds);
    souk_http_fail(req, 429, code, message, NULL);
    return 0;
}

/* 1 when path is a probe's (SOUK_LIMIT_NONE), whatever the method. */
static int unlimited(const souk_route *routes, int count, const char *path, souk_request *req)
{
    for (int i = 0; i < count; i++)
        if (routes[i].limit == SOUK_LIMIT_NONE && match(routes[i].pattern, path, req))
            return 1;
    return 0;
}

/* Enforces what route r declares, in this order: its access (401 without a
 * valid token, 403 without the admin role), the login limit, and its body
 * (413, 415, 400 for JSON or schema), read into req->body. Returns 1 when
 * the handler may run, 0 after answering. */
static int admit(souk_request *req, const souk_route *r, double now)
{
    souk_access access = souk_route_access(r, req->gw->cfg);
    if (access != SOUK_ACCESS_PUBLIC && !req->authenticated) {
        souk_http_unauthorized(req);
        return 0;
    }
    if (access == SOUK_ACCESS_ADMIN && !souk_http_is_admin(req)) {
        souk_http_fail(req, 403, "FORBIDDEN", "this needs the admin role", NULL);
        return 0;
    }
    if (r->limit == SOUK_LIMIT_LOGIN) {
        char key[80];
        snprintf(key, sizeof key, "login:%s", req->client_ip);
        if (!take_limit(req, req->gw->login_limit, key, now, "TOO_MANY_LOGINS",
                        "too many login attempts; wait and retry"))
            return 0;
    }
    if (r->body) {
        req->body = souk_http_read_body(req, r->body);
        if (!req->body)
            return 0;
    }
    return 1;
}

/* Starts the request's server span: a child of the caller's traceparent
 * (and tracestate) when valid, else of nothing (a new trace). Its context
 * goes into req, becomes the thread's current one (its log lines) and is
 * answered as the traceparent header. */
static void start_request_span(souk_request *req, souk_span *span)
{
    souk_trace_ctx caller;
    int valid = souk_trace_parse(souk_http_header(req, "traceparent"),
                                 souk_http_header(req, "tracestate"), &caller) == 0;
    souk_span_start(span, valid ? &caller : NULL, SOUK_SPAN_SERVER, req->info->request_method);
    req->trace = span->ctx;
    souk_trace_set_current(&span->ctx);
    char traceparent[SOUK_TRACEPARENT_LEN + 1];
    souk_trace_format(&span->ctx, traceparent);
    souk_http_add_header(req, "traceparent", traceparent);
}

/* Ends it, named "<METHOD> <route pattern>" (the method alone when no
 * route matched), with OpenTelemetry's HTTP server attributes. */
static void end_request_span(souk_request *req, souk_span *span, const souk_route *route,
                             const char *path)
{
    if (span->recording) {
        const char *method = req->info->request_method;
        if (route) {
            snprintf(span->name, sizeof span->name, "%s %s", method, route->pattern);
            souk_span_attr_str(span, "http.route", route->pattern);
        }
        souk_span_attr_str(span, "http.request.method", method);
        souk_span_attr_int(span, "http.response.status_code", req->status);
        souk_span_attr_str(span, "url.path", path);
        souk_span_attr_str(span, "url.scheme", "http");
        souk_span_attr_str(span, "client.address", req->client_ip);
        souk_span_attr_str(span, "network.protocol.version", req->info->http_version);
        const char *agent = souk_http_header(req, "User-Agent");
        if (agent)
            souk_span_attr_str(span, "user_agent.original", agent);
        souk_span_attr_str(span, "souk.request_id", req->request_id);
        if (req->status >= 500) { /* a server span's 4xx is the client's error */
            char code[16];
            snprintf(code, sizeof code, "%d", req->status);
            souk_span_attr_str(span, "error.type", code);
            souk_span_fail(span, souk_http_reason(req->status));
        }
    }
    souk_span_end(span);
    souk_trace_set_current(NULL); /* the thread serves other requests next */
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
    souk_span span;
    start_request_span(&req, &span);
    client_address(&req);
    authenticate(&req);

    const char *path = req.info->local_uri ? req.info->local_uri : "/";
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    int route = -1;
    char allowed[64] = "";
    char key[96];
    rate_key(&req, key, sizeof key);
    if (unlimited(routes, count, path, &req) ||
        take_limit(&req, gw->api_limit, key, start, "RATE_LIMITED",
                   "too many requests; see Retry-After")) {
        for (int i = 0; i < count; i++) {
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
            if (admit(&req, &routes[route], start))
                routes[route].fn(&req);
            json_object_put(req.body);
            req.body = NULL;
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
    end_request_span(&req, &span, route >= 0 ? &routes[route] : NULL, path);
    return req.status;
}

void souk_server_register(struct mg_context *ctx, souk_gateway *gw)
{
    mg_set_request_handler(ctx, "/", dispatch, gw);
}
