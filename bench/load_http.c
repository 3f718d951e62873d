/* souk-load's HTTP engine over the libcurl multi interface (see load_http.h).
 * Easy handles are recycled through a free list; the connections live in
 * the multi handle's cache, so keep-alive spans every request of the run. */
#include "bench/load_http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/mem.h"

#define RESPONSE_CAP   (1u << 20)
#define BATCH_ATTEMPTS 8

struct xfer {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char *resp;
    size_t len;
    size_t cap;
    int toobig;
    double retry_after;
    double started;
    load_http_cb cb;
    void *arg;
    int in_flight;
    struct xfer *next; /* every xfer, for cleanup */
    struct xfer *next_free;
};

struct load_http {
    CURLM *multi;
    char *base;
    long timeout_ms;
    struct xfer *all;
    struct xfer *free_list;
    int active;
    long requests;
    long status[LOAD_HTTP_STATUS_MAX];
    load_samples latency;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    if (x->len + n + 1 > RESPONSE_CAP) {
        x->toobig = 1;
        return 0; /* aborts the transfer */
    }
    if (x->len + n + 1 > x->cap) {
        while (x->len + n + 1 > x->cap)
            x->cap = x->cap ? x->cap * 2 : 1024;
        x->resp = souk_realloc(x->resp, x->cap);
    }
    memcpy(x->resp + x->len, data, n);
    x->len += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[32];
        size_t len = n - (sizeof name - 1);
        if (len >= sizeof value)
            len = sizeof value - 1;
        memcpy(value, data + sizeof name - 1, len);
        value[len] = '\0';
        x->retry_after = strtod(value, NULL);
    }
    return n;
}

static struct xfer *xfer_new(load_http *h)
{
    struct xfer *x = souk_calloc(1, sizeof *x);
    x->easy = curl_easy_init();
    souk_assert(x->easy != NULL);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    x->next = h->all;
    h->all = x;
    return x;
}

static struct xfer *xfer_take(load_http *h)
{
    struct xfer *x = h->free_list;
    if (x)
        h->free_list = x->next_free;
    else
        x = xfer_new(h);
    x->len = 0;
    x->toobig = 0;
    x->retry_after = 0;
    return x;
}

static void xfer_release(load_http *h, struct xfer *x)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->body);
    x->body = NULL;
    x->in_flight = 0;
    x->next_free = h->free_list;
    h->free_list = x;
}

load_http *load_http_new(const char *base_url, int max_connections, long timeout_ms)
{
    load_http *h = souk_calloc(1, sizeof *h);
    h->multi = curl_multi_init();
    souk_assert(h->multi != NULL);
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    h->base = souk_strndup(base_url, len);
    h->timeout_ms = timeout_ms;
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_connections);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_connections);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)max_connections);
    return h;
}

void load_http_free(load_http *h)
{
    if (!h)
        return;
    struct xfer *x = h->all;
    while (x) {
        struct xfer *next = x->next;
        if (x->in_flight)
            curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x->body);
        free(x->resp);
        free(x);
        x = next;
    }
    curl_multi_cleanup(h->multi);
    load_samples_free(&h->latency);
    free(h->base);
    free(h);
}

static void set_method(struct xfer *x, const load_request *rq)
{
    if (strcmp(rq->method, "GET") == 0) {
        /* A recycled handle may hold an earlier request's freed body. */
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
        return;
    }
    x->body = souk_strdup(rq->body ? rq->body : "");
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, rq->method);
}

static void set_headers(struct xfer *x, const load_request *rq)
{
    x->headers = curl_slist_append(NULL, "Accept: application/json");
    x->headers = curl_slist_append(x->headers, "Expect:");
    if (rq->body)
        x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
    if (rq->token) {
        char *line = souk_asprintf("Authorization: Bearer %s", rq->token);
        x->headers = curl_slist_append(x->headers, line);
        free(line);
    }
    if (rq->idempotency_key) {
        char *line = souk_asprintf("Idempotency-Key: %s", rq->idempotency_key);
        x->headers = curl_slist_append(x->headers, line);
        free(line);
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
}

void load_http_submit(load_http *h, const load_request *rq, load_http_cb cb, void *arg)
{
    struct xfer *x = xfer_take(h);
    char *url = souk_asprintf("%s%s", h->base, rq->path);
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    free(url);
    set_method(x, rq);
    set_headers(x, rq);
    x->cb = cb;
    x->arg = arg;
    x->started = now_s();
    x->in_flight = 1;
    souk_assert(curl_multi_add_handle(h->multi, x->easy) == CURLM_OK);
    h->active++;
}

static void finish(load_http *h, struct xfer *x, CURLcode result)
{
    curl_multi_remove_handle(h->multi, x->easy);
    h->active--;
    long status = 0;
    if (result == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 0 || status >= LOAD_HTTP_STATUS_MAX)
        status = 0;
    h->status[status]++;
    h->requests++;
    load_samples_add(&h->latency, (now_s() - x->started) * 1e3);
    if (!x->resp) {
        x->cap = 1024;
        x->resp = souk_malloc(x->cap);
    }
    x->resp[x->len] = '\0';
    load_response resp = {
        .status = status,
        .body = x->resp,
        .body_len = x->len,
        .retry_after = x->retry_after,
        .error = result == CURLE_OK ? NULL
                 : x->toobig        ? "response too big"
                                    : curl_easy_strerror(result),
    };
    /* The callback may submit more requests: they take other xfers. */
    x->cb(x->arg, &resp);
    xfer_release(h, x);
}

static void drain(load_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish(h, x, msg->data.result);
    }
}

void load_http_step(load_http *h, int timeout_ms)
{
    int running = 0;
    curl_multi_perform(h->multi, &running);
    drain(h);
    if (timeout_ms > 0)
        curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(h->multi, &running);
    drain(h);
}

int load_http_active(const load_http *h)
{
    return h->active;
}

load_samples *load_http_latencies(load_http *h)
{
    return &h->latency;
}

const long *load_http_status_counts(const load_http *h)
{
    return h->status;
}

long load_http_requests(const load_http *h)
{
    return h->requests;
}

long load_http_errors(const load_http *h)
{
    long n = h->status[0];
    for (int s = 400; s < LOAD_HTTP_STATUS_MAX; s++)
        n += h->status[s];
    return n;
}

void load_http_reset_stats(load_http *h)
{
    load_samples_free(&h->latency);
    memset(h->status, 0, sizeof h->status);
    h->requests = 0;
}

/* ----------------------------------------------------------------- batch */

struct batch_item {
    const load_request *rq;
    long *status;
    char **body;
    int attempts;
    int busy;
    int done;
    double due;
};

static int retryable(long status)
{
    return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

static void on_batch_answer(void *arg, const load_response *resp)
{
    struct batch_item *it = arg;
    it->busy = 0;
    it->attempts++;
    if (retryable(resp->status) && it->attempts < BATCH_ATTEMPTS) {
        double wait = resp->retry_after > 0 ? resp->retry_after : 0.2 * it->attempts;
        it->due = now_s() + (wait > 5 ? 5 : wait);
        return;
    }
    it->done = 1;
    *it->status = resp->status;
    if (it->body)
        *it->body = souk_strdup(resp->status || !resp->error ? resp->body : resp->error);
}

void load_http_batch(load_http *h, const load_request *rqs, int n, long *status, char **bodies)
{
    struct batch_item *items = souk_calloc((size_t)(n > 0 ? n : 1), sizeof *items);
    for (int i = 0; i < n; i++)
        items[i] = (struct batch_item){
            .rq = &rqs[i], .status = &status[i], .body = bodies ? &bodies[i] : NULL};
    for (;;) {
        int pending = 0;
        double now = now_s();
        for (int i = 0; i < n; i++) {
            struct batch_item *it = &items[i];
            pending += !it->done;
            if (!it->done && !it->busy && it->due <= now) {
                it->busy = 1;
                load_http_submit(h, it->rq, on_batch_answer, it);
            }
        }
        if (pending == 0)
            break;
        load_http_step(h, 20);
    }
    free(items);
}
