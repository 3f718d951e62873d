/* The notification service against the real broker and database, with an
 * SMTP sink of its own: a tiny SMTP server on loopback, run in a thread of
 * the test, that accepts every message and records it. The events are
 * published straight to their exchanges as the broker admin, as the order
 * service would publish them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/publisher.h"
#include "tests/support/broker.h"
#include "tests/support/harness.h"

#define ROWS_SQL "SELECT count(*) FROM notification.notifications WHERE order_id = $1::uuid"
#define EMAILED_SQL                                                                                \
    "SELECT count(*) FROM notification.notifications WHERE order_id = $1::uuid AND channel = "     \
    "'email' AND recipient = 'ada@example.com' AND delivered_at IS NOT NULL"
#define LOGGED_SQL                                                                                 \
    "SELECT count(*) FROM notification.notifications WHERE order_id = $1::uuid AND channel = "     \
    "'log' AND recipient IS NULL AND delivered_at IS NOT NULL"
#define EMAIL "ada@example.com"

/* ------------------------------------------------------------- SMTP sink */

/* Bounds: the sink never outlives a test, nor grows without limit. */
#define SINK_MAX_MESSAGES    16
#define SINK_MAX_CONNECTIONS 16
#define SINK_MAX_BYTES       65536
#define SINK_LIFETIME_MS     120000

struct sink {
    int listen_fd;
    int port;
    atomic_int stop;
    int started;
    pthread_t acceptor;
    pthread_mutex_t lock;
    char *messages[SINK_MAX_MESSAGES];
    int count;
    pthread_t conns[SINK_MAX_CONNECTIONS];
    int conn_count;
};

struct conn {
    struct sink *sink;
    int fd;
    char in[SINK_MAX_BYTES];
    size_t in_len;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int send_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The next line (without its CRLF) into line; 1 when one was read, 0 at
 * the end of the connection, the lifetime or a stop request. */
static int read_line(struct conn *c, char *line, size_t cap, long deadline)
{
    for (;;) {
        char *nl = memchr(c->in, '\n', c->in_len);
        if (nl) {
            size_t len = (size_t)(nl - c->in);
            size_t keep = len > 0 && c->in[len - 1] == '\r' ? len - 1 : len;
            if (keep >= cap)
                keep = cap - 1;
            memcpy(line, c->in, keep);
            line[keep] = '\0';
            memmove(c->in, nl + 1, c->in_len - len - 1);
            c->in_len -= len + 1;
            return 1;
        }
        if (c->in_len == sizeof c->in)
            return 0; /* a line longer than any SMTP line */
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        while (poll(&p, 1, 100) == 0)
            if (atomic_load(&c->sink->stop) || now_ms() > deadline)
                return 0;
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n <= 0)
            return 0;
        c->in_len += (size_t)n;
    }
}

static void record(struct sink *s, char *message)
{
    pthread_mutex_lock(&s->lock);
    if (s->count < SINK_MAX_MESSAGES)
        s->messages[s->count++] = message;
    else
        free(message);
    pthread_mutex_unlock(&s->lock);
}

/* One SMTP session: any number of transactions until QUIT. */
static void *serve(void *arg)
{
    struct conn *c = arg;
    long deadline = now_ms() + SINK_LIFETIME_MS;
    char line[1024];
    int ok = send_all(c->fd, "220 sink.test ESMTP\r\n") == 0;
    while (ok && read_line(c, line, sizeof line, deadline)) {
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            ok = send_all(c->fd, "250 sink.test\r\n") == 0;
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            send_all(c->fd, "221 bye\r\n");
            break;
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            if (send_all(c->fd, "354 end with <CRLF>.<CRLF>\r\n") != 0)
                break;
            char *message = calloc(1, SINK_MAX_BYTES + 1);
            size_t len = 0;
            int complete = 0;
            while (read_line(c, line, sizeof line, deadline)) {
                if (strcmp(line, ".") == 0) {
                    complete = 1;
                    break;
                }
                const char *text = line[0] == '.' ? line + 1 : line; /* dot-stuffing */
                int n = snprintf(message + len, SINK_MAX_BYTES + 1 - len, "%s\r\n", text);
                if (n > 0 && (size_t)n < SINK_MAX_BYTES + 1 - len)
                    len += (size_t)n;
            }
            if (!complete) {
                free(message);
                break;
            }
            record(c->sink, message);
            ok = send_all(c->fd, "250 queued\r\n") == 0;
        } else {
            ok = send_all(c->fd, "250 ok\r\n") == 0; /* MAIL, RCPT, RSET, NOOP */
        }
    }
    close(c->fd);
    free(c);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct sink *s = arg;
    long deadline = now_ms() + SINK_LIFETIME_MS;
    while (!atomic_load(&s->stop) && now_ms() < deadline) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        if (s->conn_count == SINK_MAX_CONNECTIONS) {
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        c->sink = s;
        c->fd = fd;
        if (pthread_create(&s->conns[s->conn_count], NULL, serve, c) == 0) {
            s->conn_count++;
        } else {
            close(fd);
            free(c);
        }
    }
    return NULL;
}

/* Binds a port on 127.0.0.1 without listening: connections to it are
 * refused until sink_start. */
static void sink_open(struct sink *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->listen_fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    cr_assert_eq(getsockname(s->listen_fd, (struct sockaddr *)&addr, &len), 0);
    s->port = ntohs(addr.sin_port);
}

static void sink_start(struct sink *s)
{
    cr_assert_eq(listen(s->listen_fd, 16), 0);
    cr_assert_eq(pthread_create(&s->acceptor, NULL, accept_loop, s), 0);
    s->started = 1;
}

static void sink_close(struct sink *s)
{
    atomic_store(&s->stop, 1);
    if (s->started)
        pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->conn_count; i++)
        pthread_join(s->conns[i], NULL);
    close(s->listen_fd);
    for (int i = 0; i < s->count; i++)
        free(s->messages[i]);
    pthread_mutex_destroy(&s->lock);
}

static int sink_count(struct sink *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Waits until the sink holds want messages; returns the count then seen. */
static int sink_wait(struct sink *s, int want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms && sink_count(s) < want; waited += 50)
        th_sleep_ms(50);
    return sink_count(s);
}

/* A copy of message i (the caller frees it). */
static char *sink_message(struct sink *s, int i)
{
    pthread_mutex_lock(&s->lock);
    char *copy = i < s->count ? strdup(s->messages[i]) : NULL;
    pthread_mutex_unlock(&s->lock);
    return copy;
}

/* ------------------------------------------------------------ the suite */

static struct sink sink;

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void setup(void)
{
    th_purge_queue("notification-service");
    th_purge_queue("notification-service.dlq");
    sink_open(&sink);
}

static void teardown(void)
{
    th_kill_all();
    if (sink.listen_fd > 0)
        sink_close(&sink);
}

TestSuite(notification, .init = setup, .fini = teardown, .timeout = 120);

static void start_worker(int smtp_port, const char *extra_env, const char *log)
{
    static char url[64];
    snprintf(url, sizeof url, "SOUK_SMTP_URL=smtp://127.0.0.1:%d", smtp_port);
    const char *env[] = {url, "SOUK_LOG_LEVEL=debug", extra_env, NULL};
    const char *args[] = {"notification", "--concurrency", "2", NULL};
    th_spawn(th_binary("workers/souk-worker"), args, env, log);
}

/* A valid sample payload of event for order_id, with email unless NULL. */
static char *payload_for(const char *event, const char *order_id, const char *email)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/schemas/%s/valid/full.json", SOUK_SOURCE_DIR, event);
    json_object *payload = json_object_from_file(path);
    cr_assert_not_null(payload, "%s", path);
    json_object_object_add(payload, "order_id", json_object_new_string(order_id));
    if (email)
        json_object_object_add(payload, "customer_email", json_object_new_string(email));
    char *body = strdup(json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
    json_object_put(payload);
    return body;
}

static const char *header_text(json_object *message, const char *key)
{
    json_object *props = json_object_object_get(message, "properties");
    json_object *headers = json_object_object_get(props, "headers");
    return json_object_get_string(json_object_object_get(headers, key));
}

/* Waits until the notification DLQ has a message and takes it. */
static json_object *take_dead_letter(int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        json_object *taken = th_queue_take("notification-service.dlq", 1);
        if (taken && json_object_array_length(taken) == 1) {
            json_object *message = json_object_get(json_object_array_get_idx(taken, 0));
            json_object_put(taken);
            return message;
        }
        json_object_put(taken);
        th_sleep_ms(100);
    }
    return NULL;
}

Test(notification, a_completed_order_is_mailed_once_whatever_the_redeliveries)
{
    char order[37];
    souk_uuid_v4(order);
    sink_start(&sink);
    start_worker(sink.port, NULL, "t-notif-completed");
    char *body = payload_for("OrderCompleted", order, EMAIL);
    souk_envelope first = th_envelope(order, "OrderCompleted", body);
    th_publish(first.type, "", &first);

    cr_assert_eq(sink_wait(&sink, 1, 30000), 1, "no e-mail arrived");
    char *mail = sink_message(&sink, 0);
    cr_assert(strstr(mail, order) != NULL, "%s", mail);
    cr_assert(strstr(mail, "completed") != NULL, "%s", mail);
    cr_assert(strstr(mail, "\r\nTo: <" EMAIL ">\r\n") != NULL, "%s", mail);
    cr_assert(strstr(mail, "\r\nFrom: souk@localhost\r\n") != NULL, "%s", mail);
    cr_assert(strncmp(mail, "Date: ", 6) == 0, "%s", mail);
    cr_assert(strstr(mail, "\r\nSubject: Your Souk order ") != NULL, "%s", mail);
    cr_assert(strstr(mail, "\r\nMessage-ID: <order_completed.") != NULL, "%s", mail);
    free(mail);
    cr_assert_eq(th_wait_pg_long(EMAILED_SQL, order, 1, 10000), 1);

    /* The same event under a new message id (a republished outcome), then
     * the very same message again (a redelivery). */
    souk_envelope again = th_envelope(order, "OrderCompleted", body);
    th_publish(again.type, "", &again);
    th_publish(first.type, "", &first);
    cr_assert(
        th_wait_log("t-notif-completed", again.message_id, "notification already sent", 15000),
        "the second message id was not handled");
    cr_assert(th_wait_log("t-notif-completed", first.message_id, "duplicate ignored", 15000),
              "the redelivery was not recognised");
    th_sleep_ms(2000);
    cr_assert_eq(sink_count(&sink), 1, "an outcome was mailed twice");
    cr_assert_eq(th_pg_long(ROWS_SQL, order), 1);
    free(body);
}

Test(notification, a_cancelled_order_is_mailed_with_its_reason)
{
    char order[37];
    souk_uuid_v4(order);
    sink_start(&sink);
    start_worker(sink.port, NULL, "t-notif-cancelled");
    char *body = payload_for("OrderCancelled", order, EMAIL); /* reason payment_declined */
    souk_envelope env = th_envelope(order, "OrderCancelled", body);
    th_publish(env.type, "", &env);

    cr_assert_eq(sink_wait(&sink, 1, 30000), 1, "no e-mail arrived");
    char *mail = sink_message(&sink, 0);
    cr_assert(strstr(mail, order) != NULL, "%s", mail);
    cr_assert(strstr(mail, "cancelled") != NULL, "%s", mail);
    cr_assert(strstr(mail, "payment_declined") != NULL, "%s", mail);
    cr_assert(strstr(mail, "\r\nMessage-ID: <order_cancelled.") != NULL, "%s", mail);
    free(mail);
    cr_assert_eq(th_wait_pg_long(EMAILED_SQL, order, 1, 10000), 1);
    cr_assert_eq(th_pg_long("SELECT count(*) FROM notification.notifications WHERE order_id = "
                            "$1::uuid AND kind = 'order_cancelled' AND body LIKE "
                            "'%payment_declined%'",
                            order),
                 1);
    free(body);
}

Test(notification, an_event_without_an_address_is_logged_not_mailed)
{
    char order[37];
    souk_uuid_v4(order);
    sink_start(&sink);
    start_worker(sink.port, NULL, "t-notif-logged");
    char *body = payload_for("OrderCompleted", order, NULL);
    souk_envelope env = th_envelope(order, "OrderCompleted", body);
    th_publish(env.type, "", &env);

    cr_assert_eq(th_wait_pg_long(LOGGED_SQL, order, 1, 30000), 1);
    cr_assert(th_wait_log("t-notif-logged", env.message_id, "notification logged", 5000));
    th_sleep_ms(500);
    cr_assert_eq(sink_count(&sink), 0);
    free(body);
}

Test(notification, an_unreachable_mail_server_retries_then_dead_letters_without_a_row)
{
    char order[37];
    souk_uuid_v4(order);
    start_worker(th_free_port(), "SOUK_RETRY_DELAYS_MS=200,400", "t-notif-unreachable");
    char *body = payload_for("OrderCompleted", order, EMAIL);
    souk_envelope env = th_envelope(order, "OrderCompleted", body);
    th_publish(env.type, "", &env);

    cr_assert(th_wait_log("t-notif-unreachable", env.message_id, "retry scheduled", 30000),
              "the failed delivery was not retried");
    json_object *dead = take_dead_letter(30000);
    cr_assert_not_null(dead, "the message never reached notification-service.dlq");
    json_object *props = json_object_object_get(dead, "properties");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(props, "message_id")),
                     env.message_id);
    cr_assert_str_eq(header_text(dead, "x-souk-attempts"), "3");
    const char *error = header_text(dead, "x-souk-error");
    cr_assert(strstr(error, "retries exhausted") != NULL, "%s", error);
    cr_assert(strstr(error, "e-mail not sent") != NULL, "%s", error);
    cr_assert_eq(th_pg_long(ROWS_SQL, order), 0, "a row was kept without its delivery");
    json_object_put(dead);
    free(body);
}

Test(notification, the_row_is_committed_only_once_the_mail_server_takes_the_mail)
{
    char order[37];
    souk_uuid_v4(order);
    /* The sink's port is bound but not listening yet: connections are refused. */
    start_worker(sink.port, "SOUK_RETRY_DELAYS_MS=300,600,1200,2400,4800", "t-notif-late");
    char *body = payload_for("OrderCompleted", order, EMAIL);
    souk_envelope env = th_envelope(order, "OrderCompleted", body);
    th_publish(env.type, "", &env);

    cr_assert(th_wait_log("t-notif-late", env.message_id, "retry scheduled", 30000),
              "the failed delivery was not retried");
    cr_assert_eq(th_pg_long(ROWS_SQL, order), 0, "a row was kept without its delivery");
    sink_start(&sink);
    cr_assert_eq(sink_wait(&sink, 1, 30000), 1, "the retry sent nothing");
    cr_assert_eq(th_wait_pg_long(EMAILED_SQL, order, 1, 10000), 1);
    th_sleep_ms(1000);
    cr_assert_eq(sink_count(&sink), 1);
    cr_assert_eq(th_pg_long(ROWS_SQL, order), 1);
    free(body);
}
