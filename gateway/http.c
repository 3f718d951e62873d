/* Request helpers and JSON answers over civetweb. */
#include "gateway/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/db.h"
#include "core/json.h"
#include "core/jsonschema.h"
#include "core/log.h"
#include "core/mem.h"

const char *souk_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void souk_http_add_header(souk_request *req, const char *name, const char *value)
{
    size_t len = strlen(req->extra_headers);
    size_t room = sizeof req->extra_headers - len;
    int n = snprintf(req->extra_headers + len, room, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= room) {
        /* a header cut short would end the head mid-line: leave it out whole */
        req->extra_headers[len] = '\0';
        SOUK_LOG(SOUK_LOG_ERROR, "response header left out request_id=%s header=%s",
                 req->request_id, name);
    }
}

/* A bounded appender for the response head: snprintf's format parsing was a
 * visible share of a cached product read. */
typedef struct head_buf {
    char *at;
    char *end;
} head_buf;

static void head_put(head_buf *h, const char *text)
{
    size_t len = strlen(text);
    souk_assert((size_t)(h->end - h->at) > len);
    memcpy(h->at, text, len);
    h->at += len;
}

static void head_put_size(head_buf *h, size_t value)
{
    char digits[24];
    char *d = digits + sizeof digits;
    *--d = '\0';
    do {
        *--d = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    head_put(h, d);
}

size_t souk_http_compose(char *out, size_t cap, const souk_http_answer *answer, size_t *body_left)
{
    head_buf h = {out, out + cap};
    head_put(&h, "HTTP/1.1 ");
    head_put_size(&h, (size_t)answer->status);
    head_put(&h, " ");
    head_put(&h, souk_http_reason(answer->status));
    head_put(&h, "\r\nContent-Type: ");
    head_put(&h, answer->content_type);
    head_put(&h, "\r\nContent-Length: ");
    head_put_size(&h, answer->len);
    head_put(&h, "\r\nX-Request-Id: ");
    head_put(&h, answer->request_id);
    head_put(&h, "\r\nCache-Control: ");
    head_put(&h, answer->cache_control ? answer->cache_control : "no-store");
    head_put(&h, "\r\n");
    head_put(&h, answer->extra_headers);
    head_put(&h, "\r\n");
    size_t head = (size_t)(h.at - out);
    size_t len = answer->head_only ? 0 : answer->len;
    if (len <= cap - head) {
        if (len)
            memcpy(out + head, answer->body, len);
        *body_left = 0;
        return head + len;
    }
    *body_left = len;
    return head;
}

void souk_http_send(souk_request *req, int status, const char *content_type, const char *body,
                    size_t len)
{
    souk_http_send_cacheable(req, status, content_type, NULL, body, len, 0);
}

void souk_http_send_cacheable(souk_request *req, int status, const char *content_type,
                              const char *cache_control, const char *body, size_t len,
                              int head_only)
{
    /* Head and body leave in one write when they fit: one system call and
     * one segment instead of two, which the client would wake up for twice.
     * The head is bounded: extra_headers and request_id are fixed arrays. */
    char out[16384];
    souk_http_answer answer = {.status = status,
                               .content_type = content_type,
                               .request_id = req->request_id,
                               .extra_headers = req->extra_headers,
                               .body = body,
                               .len = len,
                               .head_only =
                                   head_only || strcmp(req->info->request_method, "HEAD") == 0,
                               .cache_control = cache_control};
    size_t body_left;
    size_t ready = souk_http_compose(out, sizeof out, &answer, &body_left);
    mg_write(req->conn, out, ready);
    if (body_left)
        mg_write(req->conn, body, body_left);
    req->status = status;
}

void souk_http_respond(souk_request *req, int status, json_object *body)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    souk_http_send(req, status, "application/json", text, len);
}

void souk_http_fail(souk_request *req, int status, const char *code, const char *message,
                    json_object *details)
{
    json_object *body = json_object_new_object();
    json_object *error = json_object_new_object();
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", json_object_new_string(message));
    if (details)
        json_object_object_add(error, "details", details);
    json_object_object_add(body, "error", error);
    json_object_object_add(body, "request_id", json_object_new_string(req->request_id));
    souk_http_respond(req, status, body);
    json_object_put(body);
}

void souk_http_internal(souk_request *req, const char *what, souk_status status)
{
    SOUK_LOG(SOUK_LOG_ERROR, "request failed request_id=%s path=%s what=\"%s\" error=\"%s\"",
             req->request_id, req->info->local_uri, what, souk_strerror(status));
    souk_http_fail(req, 500, "INTERNAL", "internal error; quote the request id when reporting it",
                   NULL);
}

void souk_http_fail_status(souk_request *req, const char *what, souk_status status)
{
    if (status == SOUK_EDB_UNAVAILABLE || status == SOUK_EAMQP_UNAVAILABLE) {
        SOUK_LOG(SOUK_LOG_WARN, "dependency unavailable request_id=%s what=\"%s\"", req->request_id,
                 what);
        souk_http_add_header(req, "Retry-After", "1");
        souk_http_fail(req, 503, "UNAVAILABLE", "a dependency is unavailable; retry shortly", NULL);
        return;
    }
    souk_http_internal(req, what, status);
}

PGconn *souk_http_db(souk_request *req, souk_dbpool *pool, const char *what)
{
    souk_status st;
    PGconn *db = souk_dbpool_acquire(pool, &st);
    if (!db)
        souk_http_fail_status(req, what, st);
    return db;
}

const char *souk_http_header(const souk_request *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

/* Answers 400 VALIDATION_FAILED for why, "<json pointer>: <reason>". */
static void fail_validation(souk_request *req, const char *why)
{
    const char *sep = strstr(why, ": ");
    json_object *details = json_object_new_object();
    char field[200] = "";
    if (sep) {
        size_t n = (size_t)(sep - why);
        snprintf(field, sizeof field, "%.*s", (int)(n < sizeof field ? n : sizeof field - 1), why);
    }
    const char *pretty = field[0] == '/' && field[1] ? field + 1 : field;
    json_object_object_add(details, "field", json_object_new_string(pretty));
    json_object_object_add(details, "reason", json_object_new_string(sep ? sep + 2 : why));
    char message[600];
    snprintf(message, sizeof message, "%s: %s", pretty[0] ? pretty : "body", sep ? sep + 2 : why);
    souk_http_fail(req, 400, "VALIDATION_FAILED", message, details);
}

json_object *souk_http_read_body(souk_request *req, const char *schema)
{
    long long max = (long long)souk_config_int(req->gw->cfg, SOUK_CFG_MAX_BODY_BYTES);
    if (req->info->content_length > max) {
        char message[96];
        snprintf(message, sizeof message, "request body is over %lld bytes", max);
        souk_http_fail(req, 413, "BODY_TOO_LARGE", message, NULL);
        return NULL;
    }
    const char *type = souk_http_header(req, "Content-Type");
    if (!type || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] != '\0' && type[16] != ';' && type[16] != ' ')) {
        souk_http_fail(req, 415, "UNSUPPORTED_MEDIA_TYPE",
                       "send the body as Content-Type: application/json", NULL);
        return NULL;
    }
    char *body = souk_malloc((size_t)max + 2);
    size_t len = 0;
    for (;;) {
        int n = mg_read(req->conn, body + len, (size_t)max + 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len > (size_t)max)
            break;
    }
    if (len > (size_t)max) {
        free(body);
        char message[96];
        snprintf(message, sizeof message, "request body is over %lld bytes", max);
        souk_http_fail(req, 413, "BODY_TOO_LARGE", message, NULL);
        return NULL;
    }
    json_object *doc = NULL;
    char why[300];
    souk_status st = souk_json_parse(body, len, &doc, why, sizeof why);
    free(body);
    if (st == SOUK_EPARSE) {
        char message[360];
        snprintf(message, sizeof message, "body is not valid JSON: %s", why);
        souk_http_fail(req, 400, "MALFORMED_JSON", message, NULL);
        return NULL;
    }
    if (st != SOUK_OK) {
        fail_validation(req, why);
        return NULL;
    }
    char name[96];
    snprintf(name, sizeof name, "http/%s", schema);
    const souk_jsonschema *s = souk_schema_get(name);
    souk_assert(s != NULL);
    if (souk_jsonschema_validate(s, doc, why, sizeof why) != SOUK_OK) {
        json_object_put(doc);
        fail_validation(req, why);
        return NULL;
    }
    return doc;
}

void souk_http_unauthorized(souk_request *req)
{
    char value[160];
    if (req->auth_error[0])
        snprintf(value, sizeof value,
                 "Bearer realm=\"souk\", error=\"invalid_token\", error_description=\"%s\"",
                 req->auth_error);
    else
        snprintf(value, sizeof value, "Bearer realm=\"souk\"");
    souk_http_add_header(req, "WWW-Authenticate", value);
    char message[128];
    snprintf(message, sizeof message, "%s%s",
             req->auth_error[0] ? "invalid access token: " : "an access token is required",
             req->auth_error);
    souk_http_fail(req, 401, "UNAUTHORIZED", message, NULL);
}

int souk_http_is_admin(const souk_request *req)
{
    return strcmp(req->claims.role, "admin") == 0;
}

const char *souk_http_json_text(json_object *doc, const char *name)
{
    return json_object_get_string(json_object_object_get(doc, name));
}

int souk_http_query_text(const souk_request *req, const char *name, char *buf, size_t cap)
{
    const char *qs = req->info->query_string;
    if (!qs || cap == 0)
        return 0;
    /* mg_get_var empties its buffer when the parameter is absent: decode
     * aside, so that an absent parameter leaves the caller's default */
    char *value = souk_malloc(cap);
    int found = mg_get_var(qs, strlen(qs), name, value, cap) >= 0;
    if (found)
        memcpy(buf, value, cap);
    free(value);
    return found;
}

int souk_http_fail_window(souk_request *req, PGresult *res)
{
    if (strncmp(souk_db_sqlstate(res), "22", 2) != 0)
        return 0;
    json_object *details = json_object_new_object();
    json_object_object_add(details, "field", json_object_new_string("from"));
    souk_http_fail(req, 400, "VALIDATION_FAILED",
                   "from and to must be ISO 8601 times, e.g. 2026-11-22T10:00:00Z", details);
    return 1;
}

int souk_http_page(souk_request *req, long *limit, long *offset)
{
    if (souk_http_query_long(req, "limit", SOUK_HTTP_PAGE_LIMIT_DEFAULT, 1,
                             SOUK_HTTP_PAGE_LIMIT_MAX, limit) ||
        souk_http_query_long(req, "offset", 0, 0, SOUK_HTTP_PAGE_OFFSET_MAX, offset))
        return -1;
    return 0;
}

json_object *souk_http_page_body(PGresult *res, json_object *(*row_json)(PGresult *, int),
                                 long limit, long offset, int total_column)
{
    json_object *body = json_object_new_object();
    json_object *items = json_object_new_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_array_add(items, row_json(res, i));
    json_object_object_add(body, "items", items);
    json_object_object_add(body, "limit", json_object_new_int64(limit));
    json_object_object_add(body, "offset", json_object_new_int64(offset));
    long long total = PQntuples(res) ? strtoll(PQgetvalue(res, 0, total_column), NULL, 10) : 0;
    json_object_object_add(body, "total", json_object_new_int64(total));
    return body;
}

void souk_http_respond_page(souk_request *req, PGresult *res,
                            json_object *(*row_json)(PGresult *, int), long limit, long offset,
                            int total_column)
{
    json_object *body = souk_http_page_body(res, row_json, limit, offset, total_column);
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

int souk_http_query_long(souk_request *req, const char *name, long def, long min, long max,
                         long *out)
{
    char text[32];
    if (!souk_http_query_text(req, name, text, sizeof text)) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        char message[128];
        snprintf(message, sizeof message, "query parameter %s must be an integer from %ld to %ld",
                 name, min, max);
        json_object *details = json_object_new_object();
        json_object_object_add(details, "field", json_object_new_string(name));
        souk_http_fail(req, 400, "VALIDATION_FAILED", message, details);
        return -1;
    }
    *out = v;
    return 0;
}
