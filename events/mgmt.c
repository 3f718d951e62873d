/* Reading the RabbitMQ management API (see mgmt.h). */
#include "events/mgmt.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

/* Listings of a busy vhost stay far below this; an answer above it is not
 * one the callers could use. */
#define MAX_ANSWER         (8u << 20)
#define DEFAULT_TIMEOUT_MS 10000L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe, and request threads call in at once. */
static void curl_start(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        SOUK_LOG(SOUK_LOG_ERROR, "libcurl failed to initialise");
}

typedef struct answer {
    char *data;
    size_t len;
} answer;

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    answer *a = userdata;
    size_t n = size * nmemb;
    if (a->len + n > MAX_ANSWER)
        return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
    a->data = souk_realloc(a->data, a->len + n + 1);
    memcpy(a->data + a->len, data, n);
    a->len += n;
    a->data[a->len] = '\0';
    return n;
}

static souk_status curl_status(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return SOUK_EAMQP_UNAVAILABLE;
    case CURLE_WRITE_ERROR: return SOUK_ETOOBIG;
    default: return SOUK_EAMQP;
    }
}

souk_status souk_mgmt_get(const souk_mgmt_target *target, const char *path, json_object **out,
                          char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_start);
    *out = NULL;
    char *url = souk_asprintf("%s/api%s", target->url, path);
    answer a = {NULL, 0};
    CURL *c = curl_easy_init();
    souk_assert(c != NULL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERNAME, target->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, target->password);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    long timeout = target->timeout_ms > 0 ? target->timeout_ms : DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 2000 ? timeout : 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* a local broker, whatever http_proxy says */
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    souk_status st = SOUK_OK;
    if (rc != CURLE_OK) {
        st = curl_status(rc);
        snprintf(err, errlen, "management API %s: %s", target->url, curl_easy_strerror(rc));
    } else if (status != 200) {
        st = status == 401   ? SOUK_EAUTH
             : status == 404 ? SOUK_ENOTFOUND
             : status >= 500 ? SOUK_EAMQP_UNAVAILABLE
                             : SOUK_EAMQP;
        snprintf(err, errlen, "management API %s answered %ld to GET %s", target->url, status,
                 path);
    } else if (!(*out = a.data ? json_tokener_parse(a.data) : NULL)) {
        st = SOUK_EPARSE;
        snprintf(err, errlen, "management API %s: the answer to GET %s is not JSON", target->url,
                 path);
    }
    free(a.data);
    free(url);
    return st;
}

/* Appends text to buf percent-encoded. */
static void append_encoded(const char *text, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(buf);
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    buf[n] = '\0';
}

void souk_mgmt_encode(const char *text, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    append_encoded(text, buf, cap);
}

static void page(const char *url, const char *kind, const char *vhost, const char *name, char *buf,
                 size_t cap)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    snprintf(buf, cap, "%.*s/#/%s/", (int)len, url, kind);
    append_encoded(vhost, buf, cap);
    size_t n = strlen(buf);
    if (n + 1 < cap) {
        buf[n] = '/';
        buf[n + 1] = '\0';
    }
    append_encoded(name, buf, cap);
}

void souk_mgmt_queue_page(const char *url, const char *vhost, const char *queue, char *buf,
                          size_t cap)
{
    page(url, "queues", vhost, queue, buf, cap);
}

void souk_mgmt_exchange_page(const char *url, const char *vhost, const char *exchange, char *buf,
                             size_t cap)
{
    page(url, "exchanges", vhost, exchange, buf, cap);
}

double souk_mgmt_rate(json_object *obj, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s_details", name);
    json_object *stats = NULL, *details = NULL, *rate = NULL;
    if (!json_object_object_get_ex(obj, "message_stats", &stats) ||
        !json_object_object_get_ex(stats, key, &details) ||
        !json_object_object_get_ex(details, "rate", &rate))
        return 0;
    return json_object_get_double(rate);
}
