/* The OTLP/HTTP JSON span exporter (see otlp.h). */
#include "core/otlp.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

/* A span as it waits in the queue: the fixed part of souk_span, with its
 * strings packed after it, so that a full queue holds a few hundred bytes
 * per span rather than a whole souk_span. */
struct packed_attr {
    const char *key;
    long long number;
    unsigned short text; /* offset in pool */
    unsigned char is_int;
};

struct packed {
    uint8_t trace_id[16], span_id[8], parent_id[8];
    unsigned char has_parent, flags, error, kind;
    uint64_t start_ns, end_ns;
    unsigned short name, tracestate, status; /* offsets in pool */
    int attr_count;
    struct packed_attr attrs[SOUK_SPAN_MAX_ATTRS];
    char pool[];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct packed *queue[SOUK_OTLP_QUEUE_CAP]; /* a ring */
    size_t head, count;
    int stop;
    struct timespec stop_deadline; /* at stop, what is still queued then is dropped */
    char *url;
    char service[64];
    char host[128];
    int failing; /* the last export failed: logged once, dropped at stop */
} ex = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static atomic_int enabled;
static atomic_ullong exported, dropped_full, dropped_failed;

int souk_otlp_enabled(void)
{
    return atomic_load_explicit(&enabled, memory_order_relaxed);
}

static unsigned short pack_text(char *pool, size_t *used, const char *text)
{
    size_t n = strlen(text) + 1;
    unsigned short at = (unsigned short)*used;
    memcpy(pool + *used, text, n);
    *used += n;
    return at;
}

static struct packed *pack(const souk_span *s)
{
    size_t need = strlen(s->name) + strlen(s->ctx.tracestate) + strlen(s->status_message) + 3;
    for (int i = 0; i < s->attr_count; i++)
        need += s->attrs[i].is_int ? 0 : strlen(s->attrs[i].text) + 1;
    struct packed *p = souk_malloc(sizeof *p + need);
    memcpy(p->trace_id, s->ctx.trace_id, 16);
    memcpy(p->span_id, s->ctx.span_id, 8);
    memcpy(p->parent_id, s->parent_id, 8);
    p->has_parent = (unsigned char)s->has_parent;
    p->flags = s->ctx.flags;
    p->error = (unsigned char)s->error;
    p->kind = (unsigned char)s->kind;
    p->start_ns = s->start_ns;
    p->end_ns = s->end_ns;
    size_t used = 0;
    p->name = pack_text(p->pool, &used, s->name);
    p->tracestate = pack_text(p->pool, &used, s->ctx.tracestate);
    p->status = pack_text(p->pool, &used, s->status_message);
    p->attr_count = s->attr_count;
    for (int i = 0; i < s->attr_count; i++) {
        p->attrs[i].key = s->attrs[i].key;
        p->attrs[i].is_int = (unsigned char)s->attrs[i].is_int;
        p->attrs[i].number = s->attrs[i].number;
        p->attrs[i].text = s->attrs[i].is_int ? 0 : pack_text(p->pool, &used, s->attrs[i].text);
    }
    return p;
}

void souk_otlp_submit(const souk_span *s)
{
    if (!souk_otlp_enabled())
        return;
    struct packed *p = pack(s);
    pthread_mutex_lock(&ex.lock);
    if (ex.count == SOUK_OTLP_QUEUE_CAP || ex.stop) {
        pthread_mutex_unlock(&ex.lock);
        atomic_fetch_add(&dropped_full, 1);
        free(p);
        return;
    }
    ex.queue[(ex.head + ex.count) % SOUK_OTLP_QUEUE_CAP] = p;
    ex.count++;
    if (ex.count == SOUK_OTLP_BATCH)
        pthread_cond_signal(&ex.wake);
    pthread_mutex_unlock(&ex.lock);
}

static json_object *attr_json(const char *key, json_object *value, const char *type)
{
    json_object *a = json_object_new_object();
    json_object_object_add(a, "key", json_object_new_string(key));
    json_object *v = json_object_new_object();
    json_object_object_add(v, type, value);
    json_object_object_add(a, "value", v);
    return a;
}

static json_object *str_attr(const char *key, const char *value)
{
    return attr_json(key, json_object_new_string(value), "stringValue");
}

/* OTLP's JSON encoding writes 64-bit integers as decimal strings. */
static json_object *u64_string(uint64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return json_object_new_string(text);
}

static json_object *span_json(const struct packed *p)
{
    char hex[33];
    json_object *o = json_object_new_object();
    souk_trace_hex(p->trace_id, 16, hex);
    json_object_object_add(o, "traceId", json_object_new_string(hex));
    souk_trace_hex(p->span_id, 8, hex);
    json_object_object_add(o, "spanId", json_object_new_string(hex));
    if (p->has_parent) {
        souk_trace_hex(p->parent_id, 8, hex);
        json_object_object_add(o, "parentSpanId", json_object_new_string(hex));
    }
    if (p->pool[p->tracestate])
        json_object_object_add(o, "traceState", json_object_new_string(p->pool + p->tracestate));
    json_object_object_add(o, "flags", json_object_new_int(p->flags));
    json_object_object_add(o, "name", json_object_new_string(p->pool + p->name));
    json_object_object_add(o, "kind", json_object_new_int(p->kind));
    json_object_object_add(o, "startTimeUnixNano", u64_string(p->start_ns));
    json_object_object_add(o, "endTimeUnixNano", u64_string(p->end_ns));
    json_object *attrs = json_object_new_array();
    for (int i = 0; i < p->attr_count; i++) {
        const struct packed_attr *a = &p->attrs[i];
        if (a->is_int) {
            char text[24];
            snprintf(text, sizeof text, "%lld", a->number);
            json_object_array_add(attrs,
                                  attr_json(a->key, json_object_new_string(text), "intValue"));
        } else {
            json_object_array_add(attrs, str_attr(a->key, p->pool + a->text));
        }
    }
    json_object_object_add(o, "attributes", attrs);
    if (p->error) {
        json_object *status = json_object_new_object();
        json_object_object_add(status, "code", json_object_new_int(2)); /* STATUS_CODE_ERROR */
        if (p->pool[p->status])
            json_object_object_add(status, "message", json_object_new_string(p->pool + p->status));
        json_object_object_add(o, "status", status);
    }
    return o;
}

/* The ExportTraceServiceRequest of n spans, as text the caller frees. */
static char *request_json(struct packed *const *spans, size_t n)
{
    json_object *resource_attrs = json_object_new_array();
    json_object_array_add(resource_attrs, str_attr("service.name", ex.service));
    json_object_array_add(resource_attrs, str_attr("service.namespace", "souk"));
    json_object_array_add(resource_attrs, str_attr("host.name", ex.host));
    json_object_array_add(resource_attrs,
                          attr_json("process.pid", json_object_new_int64(getpid()), "intValue"));
    json_object_array_add(resource_attrs, str_attr("telemetry.sdk.name", "souk"));
    json_object_array_add(resource_attrs, str_attr("telemetry.sdk.language", "c"));
    json_object *resource = json_object_new_object();
    json_object_object_add(resource, "attributes", resource_attrs);
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(list, span_json(spans[i]));
    json_object *scope = json_object_new_object();
    json_object_object_add(scope, "name", json_object_new_string("souk"));
    json_object_object_add(scope, "version", json_object_new_string("1"));
    json_object *scope_spans = json_object_new_object();
    json_object_object_add(scope_spans, "scope", scope);
    json_object_object_add(scope_spans, "spans", list);
    json_object *scope_list = json_object_new_array();
    json_object_array_add(scope_list, scope_spans);
    json_object *rs = json_object_new_object();
    json_object_object_add(rs, "resource", resource);
    json_object_object_add(rs, "scopeSpans", scope_list);
    json_object *rs_list = json_object_new_array();
    json_object_array_add(rs_list, rs);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "resourceSpans", rs_list);
    char *text = souk_strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    return text;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* One attempt, never retried: a collector that does not answer in time
 * costs this batch, not the ones behind it. */
static int export_batch(CURL *curl, struct curl_slist *headers, struct packed *const *spans,
                        size_t n, char *why, size_t whylen)
{
    char *body = request_json(spans, n);
    curl_easy_setopt(curl, CURLOPT_URL, ex.url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    CURLcode rc = curl_easy_perform(curl);
    long http = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
    free(body);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (http < 200 || http > 299) {
        snprintf(why, whylen, "HTTP %ld", http);
        return -1;
    }
    return 0;
}

static void *export_main(void *arg)
{
    (void)arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    if (curl) {
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)SOUK_OTLP_CONNECT_MS);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)SOUK_OTLP_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "souk-otlp");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    }
    struct packed *batch[SOUK_OTLP_BATCH];
    for (;;) {
        pthread_mutex_lock(&ex.lock);
        if (!ex.stop && ex.count < SOUK_OTLP_BATCH) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_nsec += (SOUK_OTLP_INTERVAL_MS % 1000) * 1000000L;
            deadline.tv_sec += SOUK_OTLP_INTERVAL_MS / 1000 + deadline.tv_nsec / 1000000000L;
            deadline.tv_nsec %= 1000000000L;
            while (!ex.stop && ex.count < SOUK_OTLP_BATCH &&
                   pthread_cond_timedwait(&ex.wake, &ex.lock, &deadline) != ETIMEDOUT) {
            }
        }
        int stopping = ex.stop;
        int late = 0;
        if (stopping) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            late = now.tv_sec > ex.stop_deadline.tv_sec || (now.tv_sec == ex.stop_deadline.tv_sec &&
                                                            now.tv_nsec > ex.stop_deadline.tv_nsec);
        }
        size_t n = ex.count < SOUK_OTLP_BATCH ? ex.count : SOUK_OTLP_BATCH;
        for (size_t i = 0; i < n; i++) {
            batch[i] = ex.queue[ex.head];
            ex.head = (ex.head + 1) % SOUK_OTLP_QUEUE_CAP;
        }
        ex.count -= n;
        int failing = ex.failing;
        pthread_mutex_unlock(&ex.lock);
        if (n == 0 && stopping)
            break;
        if (n > 0) {
            char why[160] = "no curl handle";
            /* at stop, a collector that just failed, or has had its time,
             * is not waited for again: a process stops within seconds */
            int ok = curl && !(stopping && (failing || late)) &&
                     export_batch(curl, headers, batch, n, why, sizeof why) == 0;
            atomic_fetch_add(ok ? &exported : &dropped_failed, (unsigned long long)n);
            if (!ok && !failing)
                SOUK_LOG(SOUK_LOG_WARN,
                         "span export to %s failed (%s); spans are dropped until it answers",
                         ex.url, why);
            else if (ok && failing)
                SOUK_LOG(SOUK_LOG_INFO, "span export to %s works again", ex.url);
            pthread_mutex_lock(&ex.lock);
            ex.failing = !ok;
            pthread_mutex_unlock(&ex.lock);
            for (size_t i = 0; i < n; i++)
                free(batch[i]);
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

souk_status souk_otlp_start_url(const char *base_url, const char *service)
{
    if (souk_otlp_enabled())
        return SOUK_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return SOUK_EIO;
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    ex.url = souk_asprintf("%.*s/v1/traces", (int)len, base_url);
    snprintf(ex.service, sizeof ex.service, "souk-%s", service);
    if (gethostname(ex.host, sizeof ex.host) != 0)
        snprintf(ex.host, sizeof ex.host, "unknown");
    ex.host[sizeof ex.host - 1] = '\0';
    ex.stop = 0;
    ex.failing = 0;
    ex.head = ex.count = 0;
    atomic_store(&enabled, 1);
    if (pthread_create(&ex.thread, NULL, export_main, NULL) != 0) {
        atomic_store(&enabled, 0);
        free(ex.url);
        ex.url = NULL;
        return SOUK_EIO;
    }
    SOUK_LOG(SOUK_LOG_INFO, "exporting spans to %s", ex.url);
    return SOUK_OK;
}

souk_status souk_otlp_start(const souk_config *cfg, const char *service)
{
    const char *url = souk_config_str(cfg, SOUK_CFG_OTLP_URL);
    if (!url[0])
        return SOUK_OK;
    return souk_otlp_start_url(url, service);
}

void souk_otlp_stop(void)
{
    if (!souk_otlp_enabled())
        return;
    pthread_mutex_lock(&ex.lock);
    clock_gettime(CLOCK_MONOTONIC, &ex.stop_deadline);
    ex.stop_deadline.tv_sec += SOUK_OTLP_TIMEOUT_MS / 1000;
    ex.stop = 1; /* submit drops from now on */
    atomic_store(&enabled, 0);
    pthread_cond_signal(&ex.wake);
    pthread_mutex_unlock(&ex.lock);
    pthread_join(ex.thread, NULL);
    free(ex.url);
    ex.url = NULL;
}

void souk_otlp_stats_get(souk_otlp_stats *out)
{
    out->exported = atomic_load(&exported);
    out->dropped_full = atomic_load(&dropped_full);
    out->dropped_failed = atomic_load(&dropped_failed);
    pthread_mutex_lock(&ex.lock);
    out->queued = ex.count;
    pthread_mutex_unlock(&ex.lock);
}

int souk_otlp_metrics_text(char *buf, size_t cap)
{
    souk_otlp_stats s;
    souk_otlp_stats_get(&s);
    return snprintf(
        buf, cap,
        "# HELP souk_trace_spans_exported_total Spans the OTLP collector accepted.\n"
        "# TYPE souk_trace_spans_exported_total counter\n"
        "souk_trace_spans_exported_total %llu\n"
        "# HELP souk_trace_spans_dropped_total Spans not exported: the queue was full, or their "
        "export failed or timed out.\n"
        "# TYPE souk_trace_spans_dropped_total counter\n"
        "souk_trace_spans_dropped_total{reason=\"queue_full\"} %llu\n"
        "souk_trace_spans_dropped_total{reason=\"export_failed\"} %llu\n"
        "# HELP souk_trace_spans_queued Spans waiting for export.\n"
        "# TYPE souk_trace_spans_queued gauge\n"
        "souk_trace_spans_queued %llu\n",
        s.exported, s.dropped_full, s.dropped_failed, s.queued);
}
