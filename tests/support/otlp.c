/* The tests' OTLP receiver (see otlp.h). */
#include "tests/support/otlp.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define MAX_REQUEST     (16 * 1024 * 1024)

struct conn {
    th_otlp *r;
    int fd;
    pthread_t thread;
};

struct th_otlp {
    int listen_fd;
    int port;
    th_otlp_mode mode;
    atomic_int stop;
    pthread_t acceptor;
    pthread_mutex_t lock;
    struct conn conns[MAX_CONNECTIONS];
    int conn_count;
    json_object *spans; /* flattened, under lock */
    int requests;
};

/* {"stringValue": ...} or {"intValue": ...} as text. */
static const char *any_value_text(json_object *value, char *buf, size_t cap)
{
    json_object *v;
    if (json_object_object_get_ex(value, "stringValue", &v))
        return json_object_get_string(v);
    if (json_object_object_get_ex(value, "intValue", &v) ||
        json_object_object_get_ex(value, "doubleValue", &v) ||
        json_object_object_get_ex(value, "boolValue", &v)) {
        snprintf(buf, cap, "%s", json_object_get_string(v));
        return buf;
    }
    return "";
}

static json_object *flatten_attributes(json_object *list)
{
    json_object *out = json_object_new_object();
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *a = json_object_array_get_idx(list, i);
        char buf[64];
        const char *key = json_object_get_string(json_object_object_get(a, "key"));
        const char *text = any_value_text(json_object_object_get(a, "value"), buf, sizeof buf);
        if (key)
            json_object_object_add(out, key, json_object_new_string(text));
    }
    return out;
}

static void copy_member(json_object *to, json_object *from, const char *from_key,
                        const char *to_key)
{
    json_object *v;
    if (json_object_object_get_ex(from, from_key, &v))
        json_object_object_add(to, to_key, json_object_new_string(json_object_get_string(v)));
}

/* Keeps the spans of one ExportTraceServiceRequest; returns 0, or -1 when
 * it is not one. */
static int keep_spans(th_otlp *r, const char *body, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    json_object *resource_spans;
    if (!doc || !json_object_object_get_ex(doc, "resourceSpans", &resource_spans)) {
        json_object_put(doc);
        return -1;
    }
    for (size_t i = 0; i < json_object_array_length(resource_spans); i++) {
        json_object *rs = json_object_array_get_idx(resource_spans, i);
        json_object *resource = json_object_object_get(rs, "resource");
        json_object *rattrs = flatten_attributes(json_object_object_get(resource, "attributes"));
        const char *service =
            json_object_get_string(json_object_object_get(rattrs, "service.name"));
        json_object *scopes = json_object_object_get(rs, "scopeSpans");
        for (size_t j = 0; scopes && j < json_object_array_length(scopes); j++) {
            json_object *list =
                json_object_object_get(json_object_array_get_idx(scopes, j), "spans");
            for (size_t k = 0; list && k < json_object_array_length(list); k++) {
                json_object *s = json_object_array_get_idx(list, k);
                json_object *flat = json_object_new_object();
                copy_member(flat, s, "traceId", "traceId");
                copy_member(flat, s, "spanId", "spanId");
                copy_member(flat, s, "parentSpanId", "parentSpanId");
                copy_member(flat, s, "traceState", "traceState");
                copy_member(flat, s, "name", "name");
                copy_member(flat, s, "kind", "kind");
                copy_member(flat, s, "startTimeUnixNano", "start");
                copy_member(flat, s, "endTimeUnixNano", "end");
                json_object *status = json_object_object_get(s, "status");
                json_object *code = json_object_object_get(status, "code");
                json_object_object_add(
                    flat, "status",
                    json_object_new_string(code ? json_object_get_string(code) : "0"));
                json_object_object_add(flat, "service",
                                       json_object_new_string(service ? service : ""));
                json_object_object_add(flat, "attributes",
                                       flatten_attributes(json_object_object_get(s, "attributes")));
                pthread_mutex_lock(&r->lock);
                json_object_array_add(r->spans, flat);
                pthread_mutex_unlock(&r->lock);
            }
        }
        json_object_put(rattrs);
    }
    json_object_put(doc);
    return 0;
}

/* Reads until want bytes are in buf, or the peer or the receiver stops. */
static int read_more(th_otlp *r, int fd, char *buf, size_t *len, size_t cap)
{
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        ssize_t got = read(fd, buf + *len, cap - *len);
        if (got <= 0)
            return -1;
        *len += (size_t)got;
        return 0;
    }
    return -1;
}

static void answer(int fd, int status, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\n\r\n",
                     status, status == 200 ? "OK" : "Service Unavailable", strlen(body));
    if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
        return; /* the exporter went away: nothing to do */
}

/* Serves the requests of one keep-alive connection. */
static void *conn_main(void *arg)
{
    struct conn *c = arg;
    th_otlp *r = c->r;
    char *buf = malloc(MAX_REQUEST);
    size_t len = 0;
    while (buf && !atomic_load(&r->stop)) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4)))
            if (len == MAX_REQUEST || read_more(r, c->fd, buf, &len, MAX_REQUEST) != 0)
                goto out;
        size_t head = (size_t)(end - buf) + 4;
        size_t body_len = 0;
        for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2)
            if (strncasecmp(line, "Content-Length:", 15) == 0)
                body_len = strtoul(line + 15, NULL, 10);
        if (head + body_len > MAX_REQUEST)
            goto out;
        while (len < head + body_len)
            if (read_more(r, c->fd, buf, &len, MAX_REQUEST) != 0)
                goto out;
        int ok = r->mode == TH_OTLP_ACCEPT && keep_spans(r, buf + head, body_len) == 0;
        pthread_mutex_lock(&r->lock);
        r->requests++;
        pthread_mutex_unlock(&r->lock);
        answer(c->fd, ok ? 200 : 503, ok ? "{}" : "{\"error\":\"unavailable\"}");
        memmove(buf, buf + head + body_len, len - head - body_len);
        len -= head + body_len;
    }
out:
    free(buf);
    close(c->fd);
    return NULL;
}

static void *accept_main(void *arg)
{
    th_otlp *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {.fd = r->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(r->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&r->lock);
        if (r->conn_count == MAX_CONNECTIONS) {
            pthread_mutex_unlock(&r->lock);
            close(fd);
            continue;
        }
        struct conn *c = &r->conns[r->conn_count];
        c->r = r;
        c->fd = fd;
        if (pthread_create(&c->thread, NULL, conn_main, c) == 0)
            r->conn_count++;
        else
            close(fd);
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

th_otlp *th_otlp_start(int port, th_otlp_mode mode)
{
    th_otlp *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    r->mode = mode;
    r->spans = json_object_new_array();
    pthread_mutex_init(&r->lock, NULL);
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(r->listen_fd >= 0);
    int one = 1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(r->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0,
                 "the OTLP receiver cannot listen on port %d: %s", port, strerror(errno));
    cr_assert_eq(listen(r->listen_fd, 64), 0);
    socklen_t alen = sizeof addr;
    getsockname(r->listen_fd, (struct sockaddr *)&addr, &alen);
    r->port = ntohs(addr.sin_port);
    /* a hanging collector: connections wait in the backlog, never answered */
    if (mode != TH_OTLP_HANG)
        cr_assert_eq(pthread_create(&r->acceptor, NULL, accept_main, r), 0);
    return r;
}

int th_otlp_port(const th_otlp *r)
{
    return r->port;
}

void th_otlp_stop(th_otlp *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, 1);
    if (r->mode != TH_OTLP_HANG)
        pthread_join(r->acceptor, NULL);
    for (int i = 0; i < r->conn_count; i++)
        pthread_join(r->conns[i].thread, NULL);
    close(r->listen_fd);
    json_object_put(r->spans);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int th_otlp_requests(th_otlp *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->requests;
    pthread_mutex_unlock(&r->lock);
    return n;
}

json_object *th_otlp_spans(th_otlp *r)
{
    pthread_mutex_lock(&r->lock);
    json_object *copy = NULL;
    json_object_deep_copy(r->spans, &copy, NULL);
    pthread_mutex_unlock(&r->lock);
    return copy;
}

const char *th_otlp_attr(json_object *span, const char *key)
{
    json_object *attrs = json_object_object_get(span, "attributes");
    json_object *v;
    return json_object_object_get_ex(attrs, key, &v) ? json_object_get_string(v) : NULL;
}

const char *th_otlp_field(json_object *span, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(span, key, &v) ? json_object_get_string(v) : NULL;
}
