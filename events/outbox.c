/* Outbox inserts and the relay thread. */
#include "events/outbox.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/db.h"
#include "core/jsonschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/otlp.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/publisher.h"

/* The relays of this process, woken through their eventfds after a commit
 * that added rows. A NOTIFY would reach relays in any process, but
 * PostgreSQL serializes the commits of notifying transactions (a database
 * lock held until the commit is flushed), which made every outbox write in
 * the system wait for the others' disk flushes. */
#define MAX_RELAYS 8
static pthread_mutex_t relays_lock = PTHREAD_MUTEX_INITIALIZER;
static int relay_fds[MAX_RELAYS];
static int relay_fd_count;
void souk_outbox_wake_relays(void)
{
    uint64_t one = 1;
    pthread_mutex_lock(&relays_lock);
    for (int i = 0; i < relay_fd_count; i++)
        if (write(relay_fds[i], &one, sizeof one) < 0 && errno != EAGAIN)
            SOUK_LOG(SOUK_LOG_WARN, "waking the outbox relay failed: %s", strerror(errno));
    pthread_mutex_unlock(&relays_lock);
}

static void register_relay_fd(int fd)
{
    pthread_mutex_lock(&relays_lock);
    if (relay_fd_count < MAX_RELAYS)
        relay_fds[relay_fd_count++] = fd; /* past it, the relay relies on its fallback poll */
    pthread_mutex_unlock(&relays_lock);
}

static void unregister_relay_fd(int fd)
{
    pthread_mutex_lock(&relays_lock);
    for (int i = 0; i < relay_fd_count; i++)
        if (relay_fds[i] == fd) {
            relay_fds[i] = relay_fds[--relay_fd_count];
            break;
        }
    pthread_mutex_unlock(&relays_lock);
}

const char souk_outbox_insert_sql[] =
    "INSERT INTO outbox (message_id, exchange, type, correlation_id, causation_id, request_id, "
    "payload, traceparent, tracestate, parent_span_id) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

souk_status souk_outbox_row(const souk_outbox_event *ev, souk_outbox_row_text *text,
                            const char *params[SOUK_OUTBOX_PARAMS], char *err, size_t errlen)
{
    char schema_name[96];
    snprintf(schema_name, sizeof schema_name, "events/%s", souk_event_name(ev->type));
    const souk_jsonschema *schema = souk_schema_get(schema_name);
    if (!schema) {
        snprintf(err, errlen, "no schema for event %s", souk_event_name(ev->type));
        return SOUK_ESCHEMA;
    }
    char why[256];
    if (souk_jsonschema_validate(schema, ev->payload, why, sizeof why) != SOUK_OK) {
        snprintf(err, errlen, "%s payload breaks its schema: %s", souk_event_name(ev->type), why);
        return SOUK_ESCHEMA;
    }
    souk_uuid_v4(text->message_id);
    /* the message's own span: its publish, a child of the emitting span */
    souk_trace_ctx publish;
    souk_trace_child(ev->trace, &publish);
    souk_trace_format(&publish, text->traceparent);
    int has_parent = souk_trace_valid(ev->trace);
    if (has_parent)
        souk_trace_hex(ev->trace->span_id, 8, text->parent_span_id);
    params[0] = text->message_id;
    params[1] = souk_event_name(ev->type);
    params[2] = souk_event_name(ev->type);
    params[3] = ev->correlation_id;
    params[4] = ev->causation_id && ev->causation_id[0] ? ev->causation_id : NULL;
    params[5] = ev->request_id && ev->request_id[0] ? ev->request_id : NULL;
    params[6] = json_object_to_json_string_ext(ev->payload, JSON_C_TO_STRING_PLAIN);
    params[7] = text->traceparent;
    params[8] = has_parent && ev->trace->tracestate[0] ? ev->trace->tracestate : NULL;
    params[9] = has_parent ? text->parent_span_id : NULL;
    return SOUK_OK;
}

struct souk_relay {
    const souk_config *cfg;
    souk_db_schema schema;
    souk_service service;
    pthread_t thread;
    atomic_int stop;
    atomic_ullong published;
    PGconn *db;
    souk_publisher *publisher;
    char channel[64];
    int wake_fd; /* eventfd written by souk_outbox_wake_relays */
};

struct pending_row {
    souk_envelope env;
    char exchange[SOUK_ID_CAP];
    char parent_span_id[17];
    long long created_us; /* when the row was written: its publish span's start */
};

/* Sets (or, with NULL, clears) the thread's trace context to the row's,
 * for the log lines about it. */
static void row_context(const struct pending_row *p)
{
    souk_trace_ctx ctx;
    if (p && souk_trace_parse(p->env.traceparent, NULL, &ctx) == 0)
        souk_trace_set_current(&ctx);
    else
        souk_trace_set_current(NULL);
}

/* The publish span of a confirmed row: it is the message's own span (the
 * row's traceparent), from the row's write to the broker's confirm, a child
 * of the span that emitted it. Rows written without a context (before
 * the migration that added it) have none. */
static void record_publish(const struct pending_row *p, int batch)
{
    souk_trace_ctx ctx;
    if (!souk_otlp_enabled() || souk_trace_parse(p->env.traceparent, p->env.tracestate, &ctx) != 0)
        return;
    uint8_t parent[8];
    int has_parent = souk_trace_unhex(p->parent_span_id, parent, 8) == 0;
    char name[96];
    snprintf(name, sizeof name, "publish %s", p->exchange);
    souk_span span;
    souk_span_start_as(&span, &ctx, has_parent ? parent : NULL, SOUK_SPAN_PRODUCER, name,
                       (uint64_t)p->created_us * 1000);
    souk_span_attr_str(&span, "messaging.system", "rabbitmq");
    souk_span_attr_str(&span, "messaging.operation.type", "send");
    souk_span_attr_str(&span, "messaging.operation.name", "publish");
    souk_span_attr_str(&span, "messaging.destination.name", p->exchange);
    souk_span_attr_str(&span, "messaging.message.id", p->env.message_id);
    souk_span_attr_str(&span, "messaging.message.conversation_id", p->env.correlation_id);
    souk_span_attr_int(&span, "messaging.message.body.size", (long long)p->env.body_len);
    souk_span_attr_int(&span, "messaging.batch.message_count", batch);
    souk_span_attr_str(&span, "souk.event", p->env.type);
    souk_span_end(&span);
}

char *souk_outbox_confirmed_ids(const char (*ids)[SOUK_OUTBOX_ID_CAP], const souk_status *results,
                                int rows, int *confirmed)
{
    size_t cap = (size_t)rows * SOUK_OUTBOX_ID_CAP + 3;
    char *out = souk_malloc(cap);
    size_t len = 0;
    *confirmed = 0;
    out[len++] = '{';
    for (int i = 0; i < rows; i++) {
        if (results[i] != SOUK_OK)
            continue;
        if (*confirmed)
            out[len++] = ',';
        size_t n = strnlen(ids[i], SOUK_OUTBOX_ID_CAP - 1);
        memcpy(out + len, ids[i], n);
        len += n;
        (*confirmed)++;
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

static void relay_sleep(souk_relay *r, long ms)
{
    for (long slept = 0; slept < ms && !atomic_load(&r->stop); slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static souk_status relay_connect(souk_relay *r)
{
    souk_status st;
    r->db = souk_db_connect(r->cfg, r->schema, &st);
    if (!r->db)
        return st;
    char listen[96];
    snprintf(listen, sizeof listen, "LISTEN %s", r->channel);
    st = souk_db_exec(r->db, listen);
    if (st != SOUK_OK) {
        PQfinish(r->db);
        r->db = NULL;
    }
    return st;
}

static void copy_field(char *dst, size_t cap, PGresult *res, int row, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

/* Claims up to batch pending rows, publishes them, marks the confirmed ones
 * sent and commits. Returns the number of rows claimed, or -1 on a database
 * failure; *published counts the confirmed ones. */
static int relay_batch(souk_relay *r, int batch, int *published)
{
    *published = 0;
    if (souk_db_exec(r->db, "BEGIN") != SOUK_OK)
        return -1;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", batch);
    const char *params[1] = {limit};
    PGresult *res = souk_db_exec_prepared(
        r->db,
        "SELECT id, message_id, exchange, type, correlation_id, causation_id, request_id, "
        "schema_version, payload, extract(epoch FROM created_at)::bigint, "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
        "traceparent, tracestate, parent_span_id, "
        "(extract(epoch FROM created_at) * 1000000)::bigint "
        "FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        1, params);
    if (souk_db_result_status(r->db, res) != SOUK_OK) {
        PQclear(res);
        return -1;
    }
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return souk_db_exec(r->db, "COMMIT") == SOUK_OK ? 0 : -1;
    }
    struct pending_row *pending = souk_calloc((size_t)rows, sizeof *pending);
    char(*row_ids)[SOUK_OUTBOX_ID_CAP] = souk_calloc((size_t)rows, sizeof *row_ids);
    souk_publish_item *items = souk_calloc((size_t)rows, sizeof *items);
    souk_status *results = souk_calloc((size_t)rows, sizeof *results);
    for (int i = 0; i < rows; i++) {
        struct pending_row *p = &pending[i];
        copy_field(row_ids[i], sizeof row_ids[i], res, i, 0);
        copy_field(p->env.message_id, sizeof p->env.message_id, res, i, 1);
        copy_field(p->exchange, sizeof p->exchange, res, i, 2);
        copy_field(p->env.type, sizeof p->env.type, res, i, 3);
        copy_field(p->env.correlation_id, sizeof p->env.correlation_id, res, i, 4);
        copy_field(p->env.causation_id, sizeof p->env.causation_id, res, i, 5);
        copy_field(p->env.request_id, sizeof p->env.request_id, res, i, 6);
        p->env.schema_version = (int)strtol(PQgetvalue(res, i, 7), NULL, 10);
        p->env.body = PQgetvalue(res, i, 8);
        p->env.body_len = (size_t)PQgetlength(res, i, 8);
        p->env.timestamp = strtoll(PQgetvalue(res, i, 9), NULL, 10);
        copy_field(p->env.occurred_at, sizeof p->env.occurred_at, res, i, 10);
        copy_field(p->env.traceparent, sizeof p->env.traceparent, res, i, 11);
        copy_field(p->env.tracestate, sizeof p->env.tracestate, res, i, 12);
        copy_field(p->parent_span_id, sizeof p->parent_span_id, res, i, 13);
        p->created_us = strtoll(PQgetvalue(res, i, 14), NULL, 10);
        snprintf(p->env.app_id, sizeof p->env.app_id, "%s", souk_service_name(r->service));
        items[i] = (souk_publish_item){.exchange = p->exchange, .routing_key = "", .env = &p->env};
    }
    souk_status pst = souk_publisher_publish(r->publisher, items, (size_t)rows, results, 10000);

    for (int i = 0; i < rows; i++) {
        row_context(&pending[i]);
        if (results[i] != SOUK_OK) {
            SOUK_LOG_MSG(SOUK_LOG_WARN, pending[i].env.correlation_id, pending[i].env.message_id,
                         "outbox row not confirmed type=%s error=\"%s\"; it stays pending",
                         pending[i].env.type, souk_strerror(results[i]));
            continue;
        }
        SOUK_LOG_MSG(SOUK_LOG_DEBUG, pending[i].env.correlation_id, pending[i].env.message_id,
                     "published type=%s", pending[i].env.type);
        record_publish(&pending[i], rows);
    }
    row_context(NULL);
    /* one UPDATE marks every confirmed row, and only those */
    char *ids = souk_outbox_confirmed_ids(row_ids, results, rows, published);
    PQclear(res);
    int ok = 1;
    if (*published > 0) {
        char published_at[32];
        snprintf(published_at, sizeof published_at, "%lld",
                 (long long)souk_publisher_published_at_us(r->publisher));
        const char *uparams[2] = {ids, published_at};
        PGresult *up = souk_db_exec_prepared(
            r->db,
            "UPDATE outbox SET sent_at = clock_timestamp(), "
            "published_at = to_timestamp($2::bigint / 1e6) WHERE id = ANY($1::bigint[])",
            2, uparams);
        ok = souk_db_result_status(r->db, up) == SOUK_OK;
        PQclear(up);
    }
    if (ok)
        ok = souk_db_exec(r->db, "COMMIT") == SOUK_OK;
    free(ids);
    free(results);
    free(items);
    free(row_ids);
    free(pending);
    (void)pst; /* per-row results carry it; nothing confirmed makes the caller back off */
    /* A row confirmed but whose UPDATE did not commit is published again
     * later: consumers' inboxes make that duplicate harmless. */
    return ok ? rows : -1;
}

/* Waits for a commit of this process that added rows, or a NOTIFY on the
 * relay's channel (from writers elsewhere), at most timeout_ms. */
static void wait_for_rows(souk_relay *r, long timeout_ms)
{
    struct pollfd pfd[2] = {{.fd = PQsocket(r->db), .events = POLLIN},
                            {.fd = r->wake_fd, .events = POLLIN}};
    long waited = 0;
    while (waited < timeout_ms && !atomic_load(&r->stop)) {
        int slice = 100;
        int n = poll(pfd, r->wake_fd >= 0 ? 2 : 1, slice);
        waited += slice;
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t count; /* only the wake-up matters; EAGAIN: nothing left to read */
            ssize_t got = read(r->wake_fd, &count, sizeof count);
            (void)got;
            return;
        }
        if (n > 0 && (pfd[0].revents & POLLIN)) {
            if (!PQconsumeInput(r->db))
                return;
            PGnotify *note;
            int woke = 0;
            while ((note = PQnotifies(r->db))) {
                woke = 1;
                PQfreemem(note);
            }
            if (woke)
                return;
        }
    }
}

static void purge_sent(souk_relay *r)
{
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%ld", souk_config_int(r->cfg, SOUK_CFG_OUTBOX_RETENTION_S));
    const char *params[1] = {seconds};
    PGresult *res = PQexecParams(r->db,
                                 "DELETE FROM outbox WHERE sent_at IS NOT NULL "
                                 "AND sent_at < now() - make_interval(secs => $1::int)",
                                 1, NULL, params, NULL, NULL, 0);
    if (souk_db_result_status(r->db, res) == SOUK_OK && strcmp(PQcmdTuples(res), "0") != 0)
        SOUK_LOG(SOUK_LOG_INFO, "outbox purged rows=%s schema=%s", PQcmdTuples(res),
                 souk_db_schema_name(r->schema));
    PQclear(res);
}

static void *relay_main(void *arg)
{
    souk_relay *r = arg;
    long backoff = 100;
    int batch = (int)souk_config_int(r->cfg, SOUK_CFG_OUTBOX_BATCH);
    long poll_ms = souk_config_int(r->cfg, SOUK_CFG_OUTBOX_POLL_MS);
    time_t last_purge = 0;
    while (!atomic_load(&r->stop)) {
        if (!r->db && relay_connect(r) != SOUK_OK) {
            relay_sleep(r, backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        int published = 0;
        int claimed = relay_batch(r, batch, &published);
        if (claimed < 0) {
            SOUK_LOG(SOUK_LOG_WARN, "outbox relay lost the database schema=%s; reconnecting",
                     souk_db_schema_name(r->schema));
            PQfinish(r->db);
            r->db = NULL;
            continue;
        }
        atomic_fetch_add(&r->published, (unsigned long long)published);
        if (claimed > 0 && published == 0) {
            relay_sleep(r, backoff); /* the broker refuses or is gone */
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        backoff = 100;
        /* at most a minute apart, and as often as a short retention needs */
        long retention = souk_config_int(r->cfg, SOUK_CFG_OUTBOX_RETENTION_S);
        if (time(NULL) - last_purge >= (retention < 60 ? retention : 60)) {
            purge_sent(r);
            last_purge = time(NULL);
        }
        if (claimed < batch)
            wait_for_rows(r, poll_ms);
    }
    PQfinish(r->db);
    r->db = NULL;
    return NULL;
}

souk_relay *souk_relay_start(const souk_config *cfg, souk_db_schema schema, souk_service service,
                             souk_status *status)
{
    souk_relay *r = souk_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->schema = schema;
    r->service = service;
    snprintf(r->channel, sizeof r->channel, "%s_outbox", souk_db_schema_name(schema));
    r->publisher = souk_publisher_new(cfg, service);
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd >= 0)
        register_relay_fd(r->wake_fd);
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        if (r->wake_fd >= 0) {
            unregister_relay_fd(r->wake_fd);
            close(r->wake_fd);
        }
        souk_publisher_free(r->publisher);
        free(r);
        *status = SOUK_EIO;
        return NULL;
    }
    *status = SOUK_OK;
    return r;
}

void souk_relay_stop(souk_relay *relay)
{
    if (!relay)
        return;
    atomic_store(&relay->stop, 1);
    pthread_join(relay->thread, NULL);
    if (relay->wake_fd >= 0) {
        unregister_relay_fd(relay->wake_fd);
        close(relay->wake_fd);
    }
    souk_publisher_free(relay->publisher);
    free(relay);
}

unsigned long long souk_relay_published(const souk_relay *relay)
{
    return atomic_load(&((souk_relay *)relay)->published);
}
