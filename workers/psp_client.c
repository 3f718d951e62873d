/* The payment provider client (see psp_client.h). libcurl and HTTP outcomes
 * are translated into souk_status here: curl timeouts into SOUK_ETIMEOUT,
 * other transport failures and 5xx into SOUK_EIO, 4xx into SOUK_EINVAL. */
#include "workers/psp_client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/trace.h"

/* Answers larger than this are not from a payment provider. */
#define MAX_RESPONSE_BYTES 65536

struct souk_psp_client {
    CURL *curl;
    char *base_url; /* without a trailing slash */
    char *response; /* MAX_RESPONSE_BYTES + 1, NUL-terminated */
    size_t response_len;
    int response_too_big;
    char curl_error[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe; consumer threads create clients at once. */
static void curl_start(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        SOUK_LOG(SOUK_LOG_ERROR, "libcurl failed to initialise");
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    souk_psp_client *c = userdata;
    size_t n = size * nmemb;
    if (n > MAX_RESPONSE_BYTES - c->response_len) {
        c->response_too_big = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    memcpy(c->response + c->response_len, ptr, n);
    c->response_len += n;
    c->response[c->response_len] = '\0';
    return n;
}

souk_psp_client *souk_psp_client_new(const souk_config *cfg)
{
    pthread_once(&curl_once, curl_start);
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    souk_psp_client *c = souk_calloc(1, sizeof *c);
    c->curl = curl;
    const char *url = souk_config_str(cfg, SOUK_CFG_PSP_URL);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    c->base_url = souk_strndup(url, len);
    c->response = souk_malloc(MAX_RESPONSE_BYTES + 1);
    c->response[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, SOUK_PSP_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, SOUK_PSP_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "souk-payment");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->curl_error);
    return c;
}

void souk_psp_client_free(souk_psp_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->response);
    free(c->base_url);
    free(c);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A key goes into a header: no control characters (no header injection). */
static int valid_key(const char *key)
{
    if (!key || !*key || strlen(key) > 255)
        return 0;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *header)
{
    struct curl_slist *grown = curl_slist_append(list, header);
    souk_assert(grown != NULL); /* only fails when out of memory */
    return grown;
}

/* The provider's error text: error.message of its JSON body, else the body. */
static const char *error_text(json_object *body, const char *raw)
{
    json_object *error = NULL;
    json_object *message = NULL;
    if (json_object_object_get_ex(body, "error", &error)) {
        if (json_object_is_type(error, json_type_string))
            return json_object_get_string(error);
        if (json_object_object_get_ex(error, "message", &message))
            return json_object_get_string(message);
    }
    return raw;
}

/* POSTs req to base_url + path. On SOUK_OK *out is the parsed 200 answer
 * (a JSON object the caller puts); otherwise *out is NULL and err says why. */
static souk_status post_json(souk_psp_client *c, const char *path, const char *key,
                             json_object *req, json_object **out, char *err, size_t errlen)
{
    *out = NULL;
    char *url = souk_asprintf("%s%s", c->base_url, path);
    char *key_header = souk_asprintf("Idempotency-Key: %s", key);
    struct curl_slist *headers = add_header(NULL, "Content-Type: application/json");
    headers = add_header(headers, "Accept: application/json");
    headers = add_header(headers, "Expect:");
    headers = add_header(headers, key_header);
    /* The call is a client span of the message's handling (the thread's
     * current context), and the provider gets its context: a provider that
     * traces joins the order's trace. */
    const souk_trace_ctx *caller = souk_trace_current();
    souk_trace_ctx restore;
    if (caller)
        restore = *caller;
    souk_span span;
    souk_span_start(&span, caller, SOUK_SPAN_CLIENT, "POST");
    if (span.recording)
        snprintf(span.name, sizeof span.name, "POST %s", path);
    char traceparent[SOUK_TRACEPARENT_LEN + 1];
    souk_trace_format(&span.ctx, traceparent);
    char *trace_header = souk_asprintf("traceparent: %s", traceparent);
    headers = add_header(headers, trace_header);
    char *state_header = NULL;
    if (span.ctx.tracestate[0]) {
        state_header = souk_asprintf("tracestate: %s", span.ctx.tracestate);
        headers = add_header(headers, state_header);
    }
    souk_trace_set_current(&span.ctx);
    size_t payload_len = 0;
    const char *payload =
        json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &payload_len);

    c->response_len = 0;
    c->response[0] = '\0';
    c->response_too_big = 0;
    c->curl_error[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c->curl);
    long http = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http);
    /* the handle outlives these buffers */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);

    souk_status status = SOUK_OK;
    json_object *body = NULL;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        status = SOUK_ETIMEOUT;
        set_err(err, errlen, "psp %s: no answer within %ld ms", path, SOUK_PSP_CLIENT_TIMEOUT_MS);
        goto out;
    }
    if (rc != CURLE_OK) {
        status = SOUK_EIO;
        set_err(err, errlen, "psp %s: %s", path,
                c->response_too_big ? "answer too large"
                : c->curl_error[0]  ? c->curl_error
                                    : curl_easy_strerror(rc));
        goto out;
    }
    body = json_tokener_parse(c->response);
    if (http >= 400) {
        /* 5xx: the provider failed and may succeed later; 4xx: it never will */
        status = http >= 500 ? SOUK_EIO : SOUK_EINVAL;
        set_err(err, errlen, "psp %s: HTTP %ld: %.200s", path, http, error_text(body, c->response));
        goto out;
    }
    if (http != 200 || !json_object_is_type(body, json_type_object)) {
        status = SOUK_EIO;
        set_err(err, errlen, "psp %s: unexpected answer (HTTP %ld)", path, http);
        goto out;
    }
    *out = body;
    body = NULL;
out:
    SOUK_LOG(SOUK_LOG_DEBUG, "psp POST %s idempotency_key=%s: HTTP %ld, %s", path, key, http,
             souk_status_name(status));
    souk_span_attr_str(&span, "http.request.method", "POST");
    souk_span_attr_str(&span, "url.full", url);
    souk_span_attr_str(&span, "souk.idempotency_key", key);
    if (http)
        souk_span_attr_int(&span, "http.response.status_code", http);
    if (status != SOUK_OK) {
        souk_span_attr_str(&span, "error.type", souk_status_name(status));
        souk_span_fail(&span, err && errlen ? err : souk_status_name(status));
    }
    souk_span_end(&span);
    souk_trace_set_current(caller ? &restore : NULL);
    json_object_put(body);
    curl_slist_free_all(headers);
    free(state_header);
    free(trace_header);
    free(key_header);
    free(url);
    return status;
}

/* Copies a string member of obj into dst; returns -1 when it is missing or
 * does not fit. */
static int copy_member(json_object *obj, const char *name, char *dst, size_t cap)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
        return -1;
    const char *s = json_object_get_string(v);
    size_t len = strlen(s);
    if (len == 0 || len >= cap)
        return -1;
    memcpy(dst, s, len + 1);
    return 0;
}

souk_status souk_psp_client_charge(souk_psp_client *c, const char *idempotency_key,
                                   long long amount_minor, const char *currency, const char *token,
                                   souk_psp_charge *out, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (out)
        memset(out, 0, sizeof *out);
    if (!c || !out || !valid_key(idempotency_key) || amount_minor < 0 || !currency || !token) {
        set_err(err, errlen, "psp charge: invalid arguments");
        return SOUK_EINVAL;
    }
    json_object *req = json_object_new_object();
    json_object_object_add(req, "amount_minor", json_object_new_int64(amount_minor));
    json_object_object_add(req, "currency", json_object_new_string(currency));
    json_object_object_add(req, "token", json_object_new_string(token));
    json_object_object_add(req, "idempotency_key", json_object_new_string(idempotency_key));
    json_object *resp = NULL;
    souk_status status = post_json(c, "/charges", idempotency_key, req, &resp, err, errlen);
    json_object_put(req);
    if (status != SOUK_OK)
        return status;

    char state[16];
    if (copy_member(resp, "id", out->id, sizeof out->id) != 0 ||
        copy_member(resp, "status", state, sizeof state) != 0 ||
        (strcmp(state, "approved") != 0 && strcmp(state, "declined") != 0)) {
        memset(out, 0, sizeof *out);
        set_err(err, errlen, "psp /charges: malformed answer");
        status = SOUK_EIO;
        goto out;
    }
    out->approved = strcmp(state, "approved") == 0;
    if (!out->approved &&
        copy_member(resp, "decline_reason", out->decline_reason, sizeof out->decline_reason) != 0)
        snprintf(out->decline_reason, sizeof out->decline_reason, "%s", "declined");
out:
    json_object_put(resp);
    return status;
}

souk_status souk_psp_client_refund(souk_psp_client *c, const char *charge_id,
                                   const char *idempotency_key, long long amount_minor,
                                   char refund_id[64], char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (refund_id)
        refund_id[0] = '\0';
    if (!c || !refund_id || !charge_id || !*charge_id || !valid_key(idempotency_key) ||
        amount_minor < 0) {
        set_err(err, errlen, "psp refund: invalid arguments");
        return SOUK_EINVAL;
    }
    json_object *req = json_object_new_object();
    json_object_object_add(req, "charge_id", json_object_new_string(charge_id));
    json_object_object_add(req, "amount_minor", json_object_new_int64(amount_minor));
    json_object_object_add(req, "idempotency_key", json_object_new_string(idempotency_key));
    json_object *resp = NULL;
    souk_status status = post_json(c, "/refunds", idempotency_key, req, &resp, err, errlen);
    json_object_put(req);
    if (status != SOUK_OK)
        return status;

    char state[16];
    if (copy_member(resp, "id", refund_id, 64) != 0 ||
        copy_member(resp, "status", state, sizeof state) != 0 || strcmp(state, "refunded") != 0) {
        refund_id[0] = '\0';
        set_err(err, errlen, "psp /refunds: malformed answer");
        status = SOUK_EIO;
    }
    json_object_put(resp);
    return status;
}
