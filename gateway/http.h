/* One HTTP request in the gateway and the error contract every answer
 * follows:
 *   {"error": {"code": "...", "message": "...", "details": ...}, "request_id": "..."}
 * Helpers here answer (JSON, errors, 503 for an unavailable dependency),
 * read query parameters, and read and check a JSON body (size cap -> 413,
 * content type -> 415, syntax -> 400, JSON Schema in schemas/http/ -> 400
 * naming the field) for the dispatcher, which also checks access before a
 * handler runs (see routes.h). A helper that fails has already answered;
 * the handler returns. */
#ifndef SOUK_GATEWAY_HTTP_H
#define SOUK_GATEWAY_HTTP_H

#include <civetweb.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/status.h"
#include "core/trace.h"
#include "gateway/app.h"
#include "gateway/jwt.h"

#define SOUK_HTTP_MAX_PARAMS 4

typedef struct souk_request {
    struct mg_connection *conn;
    const struct mg_request_info *info;
    souk_gateway *gw;
    char request_id[64];
    char params[SOUK_HTTP_MAX_PARAMS][128]; /* path parameters, in pattern order */
    int authenticated;
    souk_jwt_claims claims;
    char auth_error[64];
    char client_ip[64]; /* the peer, or the X-Real-IP a trusted proxy set */
    int status;         /* of the answer sent, 0 before */
    /* the body the route declares, checked against its schema; owned by the
     * dispatcher (freed after the handler), NULL for routes without one */
    json_object *body;
    char extra_headers[512];
    /* the request's span (W3C trace context: the caller's traceparent, or a
     * new trace): the parent of the events the request emits */
    souk_trace_ctx trace;
} souk_request;

/* Adds "Name: value\r\n" to the headers of the answer still to be sent; a
 * header that does not fit in extra_headers is left out whole (and logged),
 * never cut. */
void souk_http_add_header(souk_request *req, const char *name, const char *value);

/* An answer to compose: head fields and the body (borrowed). */
typedef struct souk_http_answer {
    int status;
    const char *content_type;
    const char *request_id;
    const char *extra_headers; /* "Name: value\r\n" lines */
    const char *body;
    size_t len;
    int head_only;             /* a HEAD request or a 304: the body's length, not the body */
    const char *cache_control; /* NULL: no-store */
} souk_http_answer;

/* Writes into out the head of answer (status line, Content-Type,
 * Content-Length, X-Request-Id, Cache-Control (no-store unless the answer
 * names its own), the extra header
 * lines, the blank line) followed by the body when both fit in cap, so
 * they leave in one write. Returns the bytes written; *body_left is 0, or
 * the body's length when it did not fit and must be written after them.
 * The head must fit in cap (it is bounded by the request's arrays). */
size_t souk_http_compose(char *out, size_t cap, const souk_http_answer *answer, size_t *body_left);

/* Sends len bytes of body (borrowed) with status, the request id and the
 * added headers, in one write when they fit (souk_http_compose). */
void souk_http_send(souk_request *req, int status, const char *content_type, const char *body,
                    size_t len);

/* souk_http_send for what a client may keep: Cache-Control is
 * cache_control (souk_http_send's is no-store), and with head_only (a 304)
 * the head alone, Content-Length saying what the body would be. */
void souk_http_send_cacheable(souk_request *req, int status, const char *content_type,
                              const char *cache_control, const char *body, size_t len,
                              int head_only);

/* Sends body (borrowed) as JSON with status. */
void souk_http_respond(souk_request *req, int status, json_object *body);

/* Sends the error contract. details (may be NULL) is consumed. */
void souk_http_fail(souk_request *req, int status, const char *code, const char *message,
                    json_object *details);

/* Sends a 500 that leaks nothing, logging what happened with the request id. */
void souk_http_internal(souk_request *req, const char *what, souk_status status);

/* Sends 503 when a dependency is down, else 500. */
void souk_http_fail_status(souk_request *req, const char *what, souk_status status);

/* Takes a connection from pool; answers 503 (naming nothing internal) and
 * returns NULL when none can be had. what is logged. */
PGconn *souk_http_db(souk_request *req, souk_dbpool *pool, const char *what);

/* The dispatcher's (handlers get req->body): reads the body as JSON and
 * checks it against schemas/http/<schema>.json. Returns a new object, or
 * NULL after answering 413, 415 or 400. */
json_object *souk_http_read_body(souk_request *req, const char *schema);

/* Answers 401 UNAUTHORIZED with WWW-Authenticate (naming req->auth_error,
 * when set). */
void souk_http_unauthorized(souk_request *req);

/* 1 when the caller's token has the admin role. */
int souk_http_is_admin(const souk_request *req);

/* The string member name of doc, or NULL (borrowed from doc). */
const char *souk_http_json_text(json_object *doc, const char *name);

/* A header's value or NULL. */
const char *souk_http_header(const souk_request *req, const char *name);

/* Reads an integer query parameter in [min, max], default when absent.
 * Returns 0, or -1 after answering 400. */
int souk_http_query_long(souk_request *req, const char *name, long def, long min, long max,
                         long *out);

/* For a query of a window (the query parameters from and to, passed as
 * timestamptz parameters) that failed with res: answers 400
 * VALIDATION_FAILED and returns 1 when PostgreSQL refused from or to as
 * times (SQLSTATE class 22), else returns 0 (another failure). */
int souk_http_fail_window(souk_request *req, PGresult *res);

#define SOUK_HTTP_PAGE_LIMIT_DEFAULT 20
#define SOUK_HTTP_PAGE_LIMIT_MAX     100
#define SOUK_HTTP_PAGE_OFFSET_MAX    10000000

/* Reads the paging parameters limit (1 to SOUK_HTTP_PAGE_LIMIT_MAX, default
 * SOUK_HTTP_PAGE_LIMIT_DEFAULT) and offset (0 to SOUK_HTTP_PAGE_OFFSET_MAX).
 * Returns 0, or -1 after answering 400. */
int souk_http_page(souk_request *req, long *limit, long *offset);

/* A page {"items", "limit", "offset", "total"}: one item per row of res
 * made by row_json, total read from column total_column (a count(*) OVER
 * () of the query). Returns a new object. */
json_object *souk_http_page_body(PGresult *res, json_object *(*row_json)(PGresult *, int),
                                 long limit, long offset, int total_column)
    __attribute__((warn_unused_result));

/* Answers 200 with the page souk_http_page_body makes. */
void souk_http_respond_page(souk_request *req, PGresult *res,
                            json_object *(*row_json)(PGresult *, int), long limit, long offset,
                            int total_column);

/* Copies a query parameter (URL-decoded) into buf; returns 1 when present,
 * and 0 leaving buf as it was when absent (or longer than cap - 1). */
int souk_http_query_text(const souk_request *req, const char *name, char *buf, size_t cap);

/* Reason phrase for a status code ("Not Found"). */
const char *souk_http_reason(int status);

#endif
