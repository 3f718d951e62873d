/* /openapi.json, generated from the route table (routes.c) and the
 * embedded schemas (schemas/http/ for request bodies, schemas/http/responses/
 * for answers). Each route's operation
 * gets its operationId and tag, its path, query and header parameters, its
 * request body, its success answer (status, headers, schema), and every
 * error it can answer: those of its handler (the table's errors) and those
 * of the dispatcher and the front, derived from what it declares (401 and
 * 403 from its access, 400, 413 and 415 from its body, 429 from its rate
 * limits; 500 and 503 on every route). A schema becomes the component named
 * by its title, with its references to other files pointing at theirs.
 * The console's routes (a page or file of the browser console) are not API
 * operations: x-souk-console lists their patterns instead. */
#include "gateway/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonschema.h"
#include "core/mem.h"
#include "events/topology.h"
#include "gateway/deadletters.h"
#include "gateway/longpoll.h"
#include "gateway/orders.h"
#include "gateway/routes.h"
#include "gateway/sagas.h"
#include "gateway/system.h"

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    souk_assert(o != NULL);
    return o;
}

static json_object *ref_to(const char *section, const char *name)
{
    char ref[160];
    snprintf(ref, sizeof ref, "#/components/%s/%s", section, name);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "$ref", json_object_new_string(ref));
    return o;
}

static const char *add_schema(json_object *schemas, const char *name);

/* Rewrites every "$ref" to another file in node ("order_line.json", beside
 * the schema dir/) into a reference to that file's component, adding it. */
static void link_refs(json_object *schemas, json_object *node, const char *dir)
{
    if (json_object_is_type(node, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(node); i++)
            link_refs(schemas, json_object_array_get_idx(node, i), dir);
        return;
    }
    if (!json_object_is_type(node, json_type_object))
        return;
    json_object *ref = NULL;
    if (json_object_object_get_ex(node, "$ref", &ref)) {
        const char *target = json_object_get_string(ref);
        size_t len = strlen(target);
        if (target[0] != '#' && len > 5 && strcmp(target + len - 5, ".json") == 0) {
            char name[160];
            snprintf(name, sizeof name, "%s/%.*s", dir, (int)(len - 5), target);
            char local[200];
            snprintf(local, sizeof local, "#/components/schemas/%s", add_schema(schemas, name));
            json_object_object_add(node, "$ref", json_object_new_string(local));
        }
    }
    json_object_object_foreach(node, key, value)
    {
        if (strcmp(key, "$ref") != 0)
            link_refs(schemas, value, dir);
    }
}

/* Adds the embedded schema name ("http/responses/cart") to the components
 * under its title, once; returns the title. Titles are unique: two schemas
 * with one title would describe one of them wrongly. */
static const char *add_schema(json_object *schemas, const char *name)
{
    const char *text = souk_schema_text(name);
    souk_assert(text != NULL);
    json_object *schema = parse(text);
    const char *title = json_object_get_string(json_object_object_get(schema, "title"));
    souk_assert(title != NULL);
    json_object *known = NULL;
    if (json_object_object_get_ex(schemas, title, &known)) {
        const char *from = json_object_get_string(json_object_object_get(known, "x-souk-schema"));
        souk_assert(from && strcmp(from, name) == 0);
        json_object_put(schema);
        return json_object_get_string(json_object_object_get(known, "title"));
    }
    json_object_object_del(schema, "$schema");
    json_object_object_del(schema, "$id");
    json_object_object_add(schema, "x-souk-schema", json_object_new_string(name));
    json_object_object_add(schemas, title, schema); /* before its references: cycles end */
    char dir[160];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(name, '/') - name), name);
    link_refs(schemas, schema, dir);
    return json_object_get_string(json_object_object_get(schema, "title"));
}

/* A JSON array of the strings of list (NULL-terminated), for an enum. */
static void enum_text(const char *const *list, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "[");
    for (const char *const *v = list; *v && n < cap; v++)
        n += (size_t)snprintf(out + n, cap - n, "%s\"%s\"", v == list ? "" : ",", *v);
    if (n < cap)
        snprintf(out + n, cap - n, "]");
}

/* The query parameters of the saga list's filter. */
static void add_saga_filter(json_object *params)
{
    char text[900], states[200], reasons[200];
    json_object_array_add(
        params, parse("{\"name\":\"q\",\"in\":\"query\",\"description\":\"only the saga "
                      "of this order id or trace id, or those of this customer e-mail (either "
                      "case)\",\"schema\":{\"type\":\"string\",\"maxLength\":255}}"));
    enum_text(souk_sagas_states, states, sizeof states);
    snprintf(text, sizeof text,
             "{\"name\":\"state\",\"in\":\"query\",\"description\":\"only sagas in this "
             "state (stuck: not final and no hop for stuck_after seconds)\",\"schema\":{"
             "\"type\":\"string\",\"enum\":%s}}",
             states);
    json_object_array_add(params, parse(text));
    enum_text(souk_sagas_cancel_reasons, reasons, sizeof reasons);
    snprintf(text, sizeof text,
             "{\"name\":\"reason\",\"in\":\"query\",\"description\":\"only orders "
             "cancelled for this reason (with state=cancelled, or compensating)\",\"schema\":{"
             "\"type\":\"string\",\"enum\":%s}}",
             reasons);
    json_object_array_add(params, parse(text));
    snprintf(text, sizeof text,
             "{\"name\":\"stuck_after\",\"in\":\"query\",\"description\":\"seconds "
             "without a hop after which an unfinished saga is stuck\",\"schema\":{\"type\":"
             "\"integer\",\"minimum\":1,\"maximum\":%d,\"default\":%d}}",
             SOUK_SAGAS_STUCK_AFTER_MAX_S, SOUK_SAGAS_STUCK_AFTER_DEFAULT_S);
    json_object_array_add(params, parse(text));
}

/* The query parameters of a versioned long poll. */
static void add_change_wait(json_object *params)
{
    char text[600];
    snprintf(text, sizeof text,
             "{\"name\":\"wait\",\"in\":\"query\",\"description\":\"with version: "
             "seconds to wait for an answer whose version differs from it before answering "
             "(0: answer at once)\",\"schema\":{\"type\":\"integer\",\"minimum\":0,"
             "\"maximum\":%d,\"default\":0}}",
             SOUK_LONGPOLL_WAIT_MAX_S);
    json_object_array_add(params, parse(text));
    json_object_array_add(
        params, parse("{\"name\":\"version\",\"in\":\"query\",\"description\":\"the "
                      "version of an earlier answer (with wait: answer once it changed)\","
                      "\"schema\":{\"type\":\"string\"}}"));
}

/* Adds the query parameters a route may declare with bit, with the limits
 * its handler applies. */
static void add_query_parameters(json_object *params, unsigned bit)
{
    char text[600];
    switch (bit) {
    case SOUK_QUERY_CHANGE: add_change_wait(params); return;
    case SOUK_QUERY_SAGA_FILTER: add_saga_filter(params); return;
    case SOUK_QUERY_LIMIT:
        snprintf(text, sizeof text,
                 "{\"name\":\"limit\",\"in\":\"query\",\"description\":\"how many to "
                 "answer\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":%d,"
                 "\"default\":%d}}",
                 SOUK_HTTP_PAGE_LIMIT_MAX, SOUK_HTTP_PAGE_LIMIT_DEFAULT);
        break;
    case SOUK_QUERY_OFFSET:
        snprintf(text, sizeof text,
                 "{\"name\":\"offset\",\"in\":\"query\",\"description\":\"how many to "
                 "skip\",\"schema\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":%d,"
                 "\"default\":0}}",
                 SOUK_HTTP_PAGE_OFFSET_MAX);
        break;
    case SOUK_QUERY_Q:
        snprintf(text, sizeof text,
                 "{\"name\":\"q\",\"in\":\"query\",\"description\":\"only products whose "
                 "name holds this text (case-insensitive; its first 127 bytes)\",\"schema\":"
                 "{\"type\":\"string\"}}");
        break;
    case SOUK_QUERY_WAIT:
        snprintf(text, sizeof text,
                 "{\"name\":\"wait\",\"in\":\"query\",\"description\":\"seconds to wait "
                 "for the order to be COMPLETED or CANCELLED before answering (0: answer at "
                 "once)\",\"schema\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":%d,"
                 "\"default\":0}}",
                 SOUK_ORDERS_WAIT_MAX_S);
        break;
    case SOUK_QUERY_FROM:
    case SOUK_QUERY_TO:
        snprintf(text, sizeof text,
                 "{\"name\":\"%s\",\"in\":\"query\",\"description\":\"orders that "
                 "started %s this time (ISO 8601, e.g. 2026-11-22T10:00:00Z)\",\"schema\":{"
                 "\"type\":\"string\",\"default\":\"%s\"}}",
                 bit == SOUK_QUERY_FROM ? "from" : "to",
                 bit == SOUK_QUERY_FROM ? "at or after" : "before",
                 bit == SOUK_QUERY_FROM ? "-infinity" : "infinity");
        break;
    case SOUK_QUERY_SCAN_OFFSET:
        snprintf(text, sizeof text,
                 "{\"name\":\"offset\",\"in\":\"query\",\"description\":\"how many to "
                 "skip (of the first %d messages, the ones inspected)\",\"schema\":{\"type\":"
                 "\"integer\",\"minimum\":0,\"maximum\":%d,\"default\":0}}",
                 SOUK_DLQ_SCAN_MAX, SOUK_DLQ_SCAN_MAX - 1);
        break;
    case SOUK_QUERY_REASON:
        snprintf(text, sizeof text,
                 "{\"name\":\"reason\",\"in\":\"query\",\"description\":\"only messages "
                 "with this x-souk-error (a group's reason)\",\"schema\":{\"type\":"
                 "\"string\"}}");
        break;
    case SOUK_QUERY_WINDOW:
        snprintf(text, sizeof text,
                 "{\"name\":\"window\",\"in\":\"query\",\"description\":\"seconds back "
                 "from now the checkout figures cover\",\"schema\":{\"type\":\"integer\","
                 "\"minimum\":%d,\"maximum\":%d,\"default\":%d}}",
                 SOUK_SYSTEM_WINDOW_MIN, SOUK_SYSTEM_WINDOW_MAX, SOUK_SYSTEM_WINDOW_DEFAULT);
        break;
    default: souk_assert(!"an undocumented query parameter");
    }
    json_object_array_add(params, parse(text));
}

/* The schema of a path parameter: ids are UUIDs, but for a service (one of
 * the topology's workers) and a message id (whatever a dead letter
 * carries). */
static json_object *path_schema(const char *name, size_t len)
{
    if (len == 7 && strncmp(name, "service", len) == 0) {
        json_object *schema = parse("{\"type\":\"string\"}");
        json_object *names = json_object_new_array();
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
            json_object_array_add(names,
                                  json_object_new_string(souk_service_name((souk_service)s)));
        json_object_object_add(schema, "enum", names);
        return schema;
    }
    if (len == 10 && strncmp(name, "message_id", len) == 0)
        return parse("{\"type\":\"string\",\"minLength\":1,\"maxLength\":127}");
    return parse("{\"type\":\"string\",\"format\":\"uuid\"}");
}

static json_object *parameters(const souk_route *r)
{
    json_object *params = json_object_new_array();
    for (const char *p = strchr(r->pattern, ':'); p; p = strchr(p + 1, ':')) {
        size_t len = strcspn(p + 1, "/");
        json_object *param = parse("{\"in\":\"path\",\"required\":true}");
        json_object_object_add(param, "name", json_object_new_string_len(p + 1, (int)len));
        json_object_object_add(param, "schema", path_schema(p + 1, len));
        json_object_array_add(params, param);
    }
    for (unsigned bit = 1; bit <= SOUK_QUERY_LAST; bit <<= 1)
        if (r->query & bit)
            add_query_parameters(params, bit);
    if (r->headers & SOUK_HEADER_IDEMPOTENCY_KEY)
        json_object_array_add(params, ref_to("parameters", "IdempotencyKey"));
    json_object_array_add(params, ref_to("parameters", "RequestId"));
    json_object_array_add(params, ref_to("parameters", "Traceparent"));
    json_object_array_add(params, ref_to("parameters", "Tracestate"));
    return params;
}

/* Adds when to the answer status of op's responses, making it (with the
 * error schema and the headers of that status) when it is the first. */
static void add_error(json_object *responses, int status, const char *when)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_object *response = NULL;
    if (json_object_object_get_ex(responses, code, &response)) {
        const char *was = json_object_get_string(json_object_object_get(response, "description"));
        size_t size = strlen(was) + strlen(when) + 3;
        char *both = souk_malloc(size);
        snprintf(both, size, "%s; %s", was, when);
        json_object_object_add(response, "description", json_object_new_string(both));
        free(both);
        return;
    }
    response = json_object_new_object();
    json_object_object_add(response, "description", json_object_new_string(when));
    json_object *headers = json_object_new_object();
    json_object_object_add(headers, "X-Request-Id", ref_to("headers", "ErrorRequestId"));
    json_object_object_add(headers, "traceparent", ref_to("headers", "ErrorTraceparent"));
    if (status == 401)
        json_object_object_add(headers, "WWW-Authenticate", ref_to("headers", "WWWAuthenticate"));
    if (status == 429)
        json_object_object_add(headers, "Retry-After", ref_to("headers", "RetryAfter"));
    if (status == 503)
        json_object_object_add(headers, "Retry-After",
                               ref_to("headers", "RetryAfterIfUnavailable"));
    json_object_object_add(response, "headers", headers);
    json_object *media = json_object_new_object();
    json_object_object_add(media, "schema", ref_to("schemas", "Error"));
    json_object *content = json_object_new_object();
    json_object_object_add(content, "application/json", media);
    json_object_object_add(response, "content", content);
    json_object_object_add(responses, code, response);
}

static json_object *success(json_object *schemas, const souk_route *r)
{
    json_object *response = json_object_new_object();
    json_object_object_add(response, "description",
                           json_object_new_string(souk_http_reason(r->success)));
    json_object *headers = json_object_new_object();
    json_object_object_add(headers, "X-Request-Id", ref_to("headers", "RequestId"));
    json_object_object_add(headers, "traceparent", ref_to("headers", "Traceparent"));
    if (r->headers & SOUK_HEADER_LOCATION)
        json_object_object_add(headers, "Location", ref_to("headers", "Location"));
    if (r->headers & SOUK_HEADER_IDEMPOTENT_REPLAYED)
        json_object_object_add(headers, "Idempotent-Replayed",
                               ref_to("headers", "IdempotentReplayed"));
    json_object_object_add(response, "headers", headers);
    if (r->response || r->media) {
        json_object *media = json_object_new_object();
        if (r->response) {
            char name[96];
            snprintf(name, sizeof name, "http/responses/%s", r->response);
            json_object_object_add(media, "schema", ref_to("schemas", add_schema(schemas, name)));
        } else {
            json_object_object_add(media, "schema", parse("{\"type\":\"string\"}"));
        }
        json_object *content = json_object_new_object();
        json_object_object_add(content, r->media ? r->media : "application/json", media);
        json_object_object_add(response, "content", content);
    }
    return response;
}

static json_object *responses(json_object *schemas, const souk_route *r, souk_access access)
{
    json_object *out = json_object_new_object();
    char code[8];
    snprintf(code, sizeof code, "%d", r->success);
    json_object_object_add(out, code, success(schemas, r));
    /* what the dispatcher answers before the handler runs, in its order */
    if (r->access == SOUK_ACCESS_ADMIN_IN_PRODUCTION && access == SOUK_ACCESS_PUBLIC) {
        /* the same gateway in production answers these */
        add_error(out, 401, "UNAUTHORIZED (with SOUK_ENV=production): no valid bearer token");
        add_error(out, 403,
                  "FORBIDDEN (with SOUK_ENV=production): the token lacks the admin "
                  "role");
    }
    if (access != SOUK_ACCESS_PUBLIC)
        add_error(out, 401, "UNAUTHORIZED: no valid bearer token (WWW-Authenticate says why)");
    if (access == SOUK_ACCESS_ADMIN)
        add_error(out, 403, "FORBIDDEN: the token lacks the admin role");
    if (r->body) {
        add_error(out, 400,
                  "MALFORMED_JSON: the body is not one JSON value; VALIDATION_FAILED: the body "
                  "breaks its schema or holds a NUL character (details.field and details.reason "
                  "say where and why)");
        add_error(out, 413,
                  "BODY_TOO_LARGE: the body is over SOUK_MAX_BODY_BYTES (at the front: over "
                  "1 MiB)");
        add_error(out, 415, "UNSUPPORTED_MEDIA_TYPE: the body is not sent as application/json");
    }
    for (int i = 0; i < SOUK_ROUTE_MAX_ERRORS && r->errors[i].status; i++)
        add_error(out, r->errors[i].status, r->errors[i].when);
    if (r->limit != SOUK_LIMIT_NONE)
        add_error(out, 429,
                  "RATE_LIMITED: the caller's request budget is spent (per user, or "
                  "per address without a token)");
    if (r->limit == SOUK_LIMIT_LOGIN)
        add_error(out, 429, "TOO_MANY_LOGINS: too many login attempts from this address");
    add_error(out, 429, "TOO_MANY_CONNECTIONS (the front): too many connections from this address");
    add_error(out, 500, "INTERNAL: an unexpected failure; quote the request id when reporting it");
    add_error(out, 503,
              "UNAVAILABLE: a dependency (at the front: the gateway) is unavailable; retry after "
              "Retry-After");
    return out;
}

/* The route's pattern in OpenAPI form: ":id" becomes "{id}". */
static void openapi_path(const char *pattern, char *path, size_t cap)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n < cap - 2;) {
        if (*p == ':') {
            path[n++] = '{';
            p++;
            while (*p && *p != '/' && n < cap - 2)
                path[n++] = *p++;
            path[n++] = '}';
        } else {
            path[n++] = *p++;
        }
    }
    path[n] = '\0';
}

static json_object *operation(json_object *schemas, const souk_route *r, const souk_config *cfg)
{
    json_object *op = json_object_new_object();
    json_object_object_add(op, "operationId", json_object_new_string(r->operation_id));
    json_object *tags = json_object_new_array();
    json_object_array_add(tags, json_object_new_string(r->tag));
    json_object_object_add(op, "tags", tags);
    json_object_object_add(op, "summary", json_object_new_string(r->summary));
    if (r->description)
        json_object_object_add(op, "description", json_object_new_string(r->description));
    souk_access access = souk_route_access(r, cfg);
    if (access != SOUK_ACCESS_PUBLIC) {
        json_object_object_add(op, "security", parse("[{\"bearer\":[]}]"));
        if (access == SOUK_ACCESS_ADMIN)
            json_object_object_add(op, "x-souk-role", json_object_new_string("admin"));
    }
    json_object_object_add(op, "parameters", parameters(r));
    if (r->body) {
        char name[96];
        snprintf(name, sizeof name, "http/%s", r->body);
        json_object *media = json_object_new_object();
        json_object_object_add(media, "schema", ref_to("schemas", add_schema(schemas, name)));
        json_object *content = json_object_new_object();
        json_object_object_add(content, "application/json", media);
        json_object *rb = json_object_new_object();
        json_object_object_add(rb, "required", json_object_new_boolean(1));
        json_object_object_add(rb, "content", content);
        json_object_object_add(op, "requestBody", rb);
    }
    json_object_object_add(op, "responses", responses(schemas, r, access));
    return op;
}

static const char description[] =
    "Carts, checkouts and orders of Souk, through its front (nginx). Every error is JSON: "
    "{\"error\": {\"code\", \"message\", \"details\"?}, \"request_id\"} (schema Error); "
    "each operation lists the statuses and codes it can answer. A path that does not exist "
    "answers 404 NOT_FOUND, a method a path does not take 405 METHOD_NOT_ALLOWED with Allow, "
    "and a request the front cannot read 400 BAD_REQUEST. Send X-Request-Id (letters, digits, "
    "'-', '_', '.') to have your own id echoed, logged and carried into the events the "
    "request causes. Send a W3C traceparent (and tracestate) to have the request and the saga "
    "it starts join your trace; every answer carries the traceparent of the gateway's span.";

/* What every operation shares: the request id both ways, the other
 * headers, the bearer scheme and the error schema. */
static json_object *components(void)
{
    json_object *c = json_object_new_object();
    json_object_object_add(
        c, "securitySchemes",
        parse("{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\",\"bearerFormat\":"
              "\"JWT\",\"description\":\"an access_token from POST /auth/login or POST "
              "/auth/register\"}}"));
    json_object_object_add(
        c, "parameters",
        parse("{\"RequestId\":{\"name\":\"X-Request-Id\",\"in\":\"header\",\"description\":"
              "\"your id for the request (used when 1 to 63 of letters, digits, '-', '_' and "
              "'.'; one is made otherwise)\",\"schema\":{\"type\":\"string\"}},"
              "\"Traceparent\":{\"name\":\"traceparent\",\"in\":\"header\",\"description\":"
              "\"W3C Trace Context: the request and what it causes join this trace (an "
              "invalid one is ignored: a new trace starts)\",\"schema\":{\"type\":\"string\"}},"
              "\"Tracestate\":{\"name\":\"tracestate\",\"in\":\"header\",\"description\":"
              "\"W3C Trace Context vendor state, carried along with traceparent\",\"schema\":{"
              "\"type\":\"string\"}},"
              "\"IdempotencyKey\":{\"name\":\"Idempotency-Key\",\"in\":\"header\","
              "\"description\":\"a repeated key answers with the order the first request "
              "made (Idempotent-Replayed: true)\",\"schema\":{\"type\":\"string\","
              "\"minLength\":1,\"maxLength\":200}}}"));
    json_object_object_add(
        c, "headers",
        parse("{\"RequestId\":{\"description\":\"the request's id (yours, or the one "
              "made)\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
              "\"ErrorRequestId\":{\"description\":\"the request's id; not on the errors "
              "the front answers itself (their body has its request_id)\",\"schema\":{"
              "\"type\":\"string\"}},"
              "\"Traceparent\":{\"description\":\"W3C traceparent of the gateway's span of "
              "the request (the caller's trace, or a new one)\",\"required\":true,\"schema\":{"
              "\"type\":\"string\",\"pattern\":\"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$\"}},"
              "\"ErrorTraceparent\":{\"description\":\"W3C traceparent of the gateway's span; "
              "not on the errors the front answers itself\",\"schema\":{\"type\":\"string\","
              "\"pattern\":\"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$\"}},"
              "\"Location\":{\"description\":\"where the new resource is\",\"required\":"
              "true,\"schema\":{\"type\":\"string\"}},"
              "\"IdempotentReplayed\":{\"description\":\"true when an earlier request with "
              "this Idempotency-Key made the order\",\"schema\":{\"type\":\"string\","
              "\"enum\":[\"true\"]}},"
              "\"RetryAfter\":{\"description\":\"seconds to wait before retrying\","
              "\"required\":true,\"schema\":{\"type\":\"integer\",\"minimum\":0}},"
              "\"RetryAfterIfUnavailable\":{\"description\":\"seconds to wait before "
              "retrying (with UNAVAILABLE)\",\"schema\":{\"type\":\"integer\","
              "\"minimum\":0}},"
              "\"WWWAuthenticate\":{\"description\":\"Bearer realm=\\\"souk\\\", with "
              "error=\\\"invalid_token\\\" and why when a token was sent\",\"required\":"
              "true,\"schema\":{\"type\":\"string\"}}}"));
    return c;
}

json_object *souk_openapi_document(const souk_config *cfg)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.1.0"));
    json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string("Souk gateway"));
    json_object_object_add(info, "version", json_object_new_string("1.0.0"));
    json_object_object_add(info, "description", json_object_new_string(description));
    /* the truth until the project picks a license */
    json_object_object_add(info, "license",
                           parse("{\"name\":\"No license granted (all rights "
                                 "reserved)\",\"identifier\":\"LicenseRef-All-Rights-Reserved\"}"));
    json_object_object_add(doc, "info", info);
    json_object_object_add(doc, "servers",
                           parse("[{\"url\":\"/\",\"description\":\"the front this "
                                 "document is served from\"}]"));
    /* no token unless an operation asks for one */
    json_object_object_add(doc, "security", parse("[{}]"));
    int tag_count = 0;
    const souk_route_tag *tag_list = souk_route_tags(&tag_count);
    json_object *tags = json_object_new_array();
    for (int i = 0; i < tag_count; i++) {
        json_object *tag = json_object_new_object();
        json_object_object_add(tag, "name", json_object_new_string(tag_list[i].name));
        json_object_object_add(tag, "description", json_object_new_string(tag_list[i].description));
        json_object_array_add(tags, tag);
    }
    json_object_object_add(doc, "tags", tags);
    json_object *comps = components();
    json_object *schemas = json_object_new_object();
    add_schema(schemas, "http/responses/error");
    json_object *paths = json_object_new_object();
    json_object *console = json_object_new_array();
    int count = 0;
    const souk_route *routes = souk_routes(&count);
    for (int i = 0; i < count; i++) {
        const souk_route *r = &routes[i];
        if (r->console) {
            json_object_array_add(console, json_object_new_string(r->pattern));
            continue;
        }
        char path[128];
        openapi_path(r->pattern, path, sizeof path);
        json_object *item = NULL;
        if (!json_object_object_get_ex(paths, path, &item)) {
            item = json_object_new_object();
            json_object_object_add(paths, path, item);
        }
        char method[16];
        snprintf(method, sizeof method, "%s", r->method);
        for (char *m = method; *m; m++)
            *m = (char)(*m - 'A' + 'a');
        json_object_object_add(item, method, operation(schemas, r, cfg));
    }
    json_object_object_add(doc, "paths", paths);
    /* what a client of the API need not know, but a checker of the
     * gateway's answers must: these paths answer the console's files */
    json_object_object_add(doc, "x-souk-console", console);
    /* x-souk-schema only told add_schema where a component came from */
    json_object_object_foreach(schemas, name, schema)
    {
        (void)name;
        json_object_object_del(schema, "x-souk-schema");
    }
    json_object_object_add(comps, "schemas", schemas);
    json_object_object_add(doc, "components", comps);
    return doc;
}

void souk_openapi_serve(souk_request *req)
{
    json_object *doc = souk_openapi_document(req->gw->cfg);
    souk_http_respond(req, 200, doc);
    json_object_put(doc);
}
