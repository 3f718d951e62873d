/* The stand-in payment provider (see psp.h). One mutex guards the ledger;
 * charges and refunds are never deleted, so a replayed request always finds
 * what the first one did. A tok_timeout charge is recorded before its slow
 * answer, like a real provider whose reply is lost on the way: the caller's
 * retry with the same idempotency key gets that charge at once, not a
 * second one. With a journal (souk_psp_journal_open) every charge, refund
 * and first tok_flaky failure is also appended to a file before it is
 * answered, one JSON object per line, and replayed at the next start: a
 * provider killed and started again still knows what it captured, as a
 * real one does. Errors use {"error": {"code": "...", "message": "..."}}. */
#include "psp/psp.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"

#define TABLE_BUCKETS  (1u << 16)
#define MAX_BODY_BYTES 65536
#define MAX_FIELD_LEN  255
#define ID_LEN         32
#define WAIT_STEP_MS   20
#define STOP_GRACE_MS  1000

/* A chained hash table from a string to an item; the name points into the
 * item (or is the item, for a set of strings). */
struct entry {
    struct entry *next;
    const char *name;
    void *item;
};

struct table {
    struct entry **buckets;
};

struct charge {
    char id[ID_LEN];
    char *key;
    char *token;
    char currency[4];
    long long amount_minor;
    long long refunded_minor;
    int approved;
    const char *decline_reason; /* a literal; NULL when approved */
};

struct refund {
    char id[ID_LEN];
    char *key;
    struct charge *charge;
    long long amount_minor;
};

struct souk_psp {
    pthread_mutex_t lock;
    struct table charges_by_key;
    struct table charges_by_id;
    struct table refunds_by_key;
    struct table flaky_keys; /* keys whose first tok_flaky attempt already failed */
    size_t entries;          /* charges + refunds + flaky keys */
    size_t max_entries;
    long timeout_sleep_ms;
    atomic_int stopping;
    atomic_int slow_answers; /* tok_timeout charges not yet answered */
    long long charges, approved_charges, declined_charges, refunds;
    long long approved_minor_total, refunded_minor_total;
    long long charge_requests, refund_requests;
    FILE *journal; /* or NULL: the ledger lives in memory only */
};

struct charge_request {
    const char *key;
    const char *token;
    const char *currency;
    long long amount_minor;
};

struct refund_request {
    const char *key;
    const char *charge_id;
    long long amount_minor;
};

/* ---- hash tables ---- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void table_init(struct table *t)
{
    t->buckets = souk_calloc(TABLE_BUCKETS, sizeof *t->buckets);
}

static void *table_get(const struct table *t, const char *name)
{
    for (struct entry *e = t->buckets[hash_name(name) % TABLE_BUCKETS]; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e->item;
    return NULL;
}

static void table_put(struct table *t, const char *name, void *item)
{
    struct entry *e = souk_malloc(sizeof *e);
    size_t b = hash_name(name) % TABLE_BUCKETS;
    e->name = name;
    e->item = item;
    e->next = t->buckets[b];
    t->buckets[b] = e;
}

static void table_free(struct table *t, void (*free_item)(void *))
{
    if (!t->buckets)
        return;
    for (size_t b = 0; b < TABLE_BUCKETS; b++) {
        struct entry *e = t->buckets[b];
        while (e) {
            struct entry *next = e->next;
            if (free_item)
                free_item(e->item);
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
}

static void charge_free(void *item)
{
    struct charge *c = item;
    free(c->key);
    free(c->token);
    free(c);
}

static void refund_free(void *item)
{
    struct refund *r = item;
    free(r->key);
    free(r);
}

/* ---- the ledger ---- */

souk_psp *souk_psp_new(long timeout_sleep_ms, size_t max_entries)
{
    souk_psp *psp = souk_calloc(1, sizeof *psp);
    pthread_mutex_init(&psp->lock, NULL);
    table_init(&psp->charges_by_key);
    table_init(&psp->charges_by_id);
    table_init(&psp->refunds_by_key);
    table_init(&psp->flaky_keys);
    psp->max_entries = max_entries;
    psp->timeout_sleep_ms = timeout_sleep_ms;
    atomic_init(&psp->stopping, 0);
    atomic_init(&psp->slow_answers, 0);
    return psp;
}

void souk_psp_free(souk_psp *psp)
{
    if (!psp)
        return;
    table_free(&psp->charges_by_id, NULL);
    table_free(&psp->charges_by_key, charge_free);
    table_free(&psp->refunds_by_key, refund_free);
    table_free(&psp->flaky_keys, free);
    if (psp->journal)
        fclose(psp->journal);
    pthread_mutex_destroy(&psp->lock);
    free(psp);
}

void souk_psp_stop(souk_psp *psp)
{
    atomic_store(&psp->stopping, 1);
    /* civetweb refuses to write once mg_stop has begun */
    struct timespec step = {.tv_sec = 0, .tv_nsec = WAIT_STEP_MS * 1000000L};
    for (long waited = 0; waited < STOP_GRACE_MS && atomic_load(&psp->slow_answers) > 0;
         waited += WAIT_STEP_MS)
        nanosleep(&step, NULL);
}

/* prefix + 24 hex digits of randomness, e.g. "ch_3f9a...". */
static void new_id(char id[ID_LEN], const char *prefix)
{
    static atomic_ullong fallback_counter;
    unsigned char raw[12];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        unsigned long long n = atomic_fetch_add(&fallback_counter, 1);
        unsigned long long t =
            (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
        for (int i = 0; i < 8; i++)
            raw[i] = (unsigned char)(t >> (8 * i));
        for (int i = 0; i < 4; i++)
            raw[8 + i] = (unsigned char)(n >> (8 * i));
    }
    int pos = snprintf(id, ID_LEN, "%s", prefix);
    for (size_t i = 0; i < sizeof raw && pos + 2 < ID_LEN; i++)
        pos += snprintf(id + pos, (size_t)(ID_LEN - pos), "%02x", raw[i]);
}

/* Appends one entry to the journal, if any, and releases it. Called with
 * the lock held, before the entry is answered; one write per line, so a
 * process killed mid-way leaves at most a torn last line, which replay
 * skips. */
static void journal_append(souk_psp *psp, json_object *entry)
{
    if (psp->journal) {
        fprintf(psp->journal, "%s\n",
                json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PLAIN));
        if (fflush(psp->journal) != 0)
            SOUK_LOG(SOUK_LOG_ERROR, "psp journal write failed");
    }
    json_object_put(entry);
}

static json_object *journal_entry(const char *kind, const char *id, const char *key)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "kind", json_object_new_string(kind));
    if (id)
        json_object_object_add(e, "id", json_object_new_string(id));
    json_object_object_add(e, "key", json_object_new_string(key));
    return e;
}

/* Called with the lock held. A new charge when id is NULL (journaled), else
 * the journal's charge id restored. */
static struct charge *charge_create(souk_psp *psp, const struct charge_request *r, const char *id)
{
    struct charge *c = souk_calloc(1, sizeof *c);
    if (id)
        snprintf(c->id, ID_LEN, "%s", id);
    else
        new_id(c->id, "ch_");
    c->key = souk_strdup(r->key);
    c->token = souk_strdup(r->token);
    memcpy(c->currency, r->currency, 3);
    c->currency[3] = '\0';
    c->amount_minor = r->amount_minor;
    if (r->amount_minor > SOUK_PSP_AMOUNT_LIMIT)
        c->decline_reason = "amount_limit";
    else if (strcmp(r->token, "tok_decline") == 0)
        c->decline_reason = "card_declined";
    c->approved = c->decline_reason == NULL;
    table_put(&psp->charges_by_key, c->key, c);
    table_put(&psp->charges_by_id, c->id, c);
    psp->entries++;
    psp->charges++;
    if (c->approved) {
        psp->approved_charges++;
        psp->approved_minor_total += c->amount_minor;
    } else {
        psp->declined_charges++;
    }
    if (!id) {
        json_object *e = journal_entry("charge", c->id, c->key);
        json_object_object_add(e, "token", json_object_new_string(c->token));
        json_object_object_add(e, "currency", json_object_new_string(c->currency));
        json_object_object_add(e, "amount_minor", json_object_new_int64(c->amount_minor));
        journal_append(psp, e);
    }
    return c;
}

/* Called with the lock held; id as for charge_create. */
static struct refund *refund_create(souk_psp *psp, struct charge *c, const struct refund_request *r,
                                    const char *id)
{
    struct refund *f = souk_calloc(1, sizeof *f);
    if (id)
        snprintf(f->id, ID_LEN, "%s", id);
    else
        new_id(f->id, "re_");
    f->key = souk_strdup(r->key);
    f->charge = c;
    f->amount_minor = r->amount_minor;
    c->refunded_minor += r->amount_minor;
    table_put(&psp->refunds_by_key, f->key, f);
    psp->entries++;
    psp->refunds++;
    psp->refunded_minor_total += r->amount_minor;
    if (!id) {
        json_object *e = journal_entry("refund", f->id, f->key);
        json_object_object_add(e, "charge_id", json_object_new_string(c->id));
        json_object_object_add(e, "amount_minor", json_object_new_int64(f->amount_minor));
        journal_append(psp, e);
    }
    return f;
}

/* Called with the lock held: a tok_flaky key whose first attempt failed. */
static void flaky_remember(souk_psp *psp, const char *key, int journaled)
{
    char *copy = souk_strdup(key);
    table_put(&psp->flaky_keys, copy, copy);
    psp->entries++;
    if (!journaled)
        journal_append(psp, journal_entry("flaky", NULL, copy));
}

/* Restores one journal line; returns 0, or -1 when it is not an entry. */
static int journal_replay_line(souk_psp *psp, const char *line)
{
    json_object *e = json_tokener_parse(line);
    const char *kind = json_object_get_string(json_object_object_get(e, "kind"));
    const char *id = json_object_get_string(json_object_object_get(e, "id"));
    const char *key = json_object_get_string(json_object_object_get(e, "key"));
    long long amount = json_object_get_int64(json_object_object_get(e, "amount_minor"));
    int rc = -1;
    if (!kind || !key) {
        rc = -1;
    } else if (strcmp(kind, "charge") == 0 && id && !table_get(&psp->charges_by_key, key)) {
        struct charge_request r = {
            .key = key,
            .token = json_object_get_string(json_object_object_get(e, "token")),
            .currency = json_object_get_string(json_object_object_get(e, "currency")),
            .amount_minor = amount};
        if (r.token && r.currency && strlen(r.currency) == 3) {
            charge_create(psp, &r, id);
            rc = 0;
        }
    } else if (strcmp(kind, "refund") == 0 && id && !table_get(&psp->refunds_by_key, key)) {
        const char *charge_id = json_object_get_string(json_object_object_get(e, "charge_id"));
        struct charge *c = charge_id ? table_get(&psp->charges_by_id, charge_id) : NULL;
        if (c) {
            struct refund_request r = {.key = key, .charge_id = charge_id, .amount_minor = amount};
            refund_create(psp, c, &r, id);
            rc = 0;
        }
    } else if (strcmp(kind, "flaky") == 0 && !table_get(&psp->flaky_keys, key)) {
        flaky_remember(psp, key, 1);
        rc = 0;
    }
    json_object_put(e);
    return rc;
}

int souk_psp_journal_open(souk_psp *psp, const char *path, long *restored, char *err, size_t errlen)
{
    *restored = 0;
    FILE *in = fopen(path, "r");
    if (in) {
        char *line = NULL;
        size_t cap = 0;
        long skipped = 0;
        while (getline(&line, &cap, in) > 0) {
            if (journal_replay_line(psp, line) == 0)
                (*restored)++;
            else
                skipped++;
        }
        free(line);
        fclose(in);
        if (skipped > 0)
            SOUK_LOG(SOUK_LOG_WARN, "psp journal %s: %ld line(s) skipped (torn or unknown)", path,
                     skipped);
    }
    psp->journal = fopen(path, "a");
    if (!psp->journal) {
        snprintf(err, errlen, "cannot append to %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static json_object *charge_json(const struct charge *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(c->id));
    json_object_object_add(o, "status",
                           json_object_new_string(c->approved ? "approved" : "declined"));
    json_object_object_add(o, "amount_minor", json_object_new_int64(c->amount_minor));
    json_object_object_add(o, "currency", json_object_new_string(c->currency));
    if (c->decline_reason)
        json_object_object_add(o, "decline_reason", json_object_new_string(c->decline_reason));
    json_object_object_add(o, "refunded_minor", json_object_new_int64(c->refunded_minor));
    return o;
}

static json_object *refund_json(const struct refund *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "status", json_object_new_string("refunded"));
    json_object_object_add(o, "charge_id", json_object_new_string(f->charge->id));
    json_object_object_add(o, "amount_minor", json_object_new_int64(f->amount_minor));
    return o;
}

/* Sleeps ms in short steps so souk_psp_stop ends the wait early. */
static void wait_unless_stopping(souk_psp *psp, long ms)
{
    struct timespec step = {.tv_sec = 0, .tv_nsec = WAIT_STEP_MS * 1000000L};
    for (long waited = 0; waited < ms && !atomic_load(&psp->stopping); waited += WAIT_STEP_MS)
        nanosleep(&step, NULL);
}

/* ---- HTTP ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* Sends body (owned by the caller); extra_headers is "" or "Name: v\r\n"... */
static int send_json(struct mg_connection *conn, int status, json_object *body,
                     const char *extra_headers)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n%s\r\n",
              status, reason(status), len, extra_headers);
    mg_write(conn, text, len);
    return status;
}

/* Sends body and releases it. */
static int send_owned(struct mg_connection *conn, int status, json_object *body)
{
    send_json(conn, status, body, "");
    json_object_put(body);
    return status;
}

static int send_error_with(struct mg_connection *conn, int status, const char *code,
                           const char *message, const char *extra_headers)
{
    json_object *body = json_object_new_object();
    json_object *error = json_object_new_object();
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", json_object_new_string(message));
    json_object_object_add(body, "error", error);
    send_json(conn, status, body, extra_headers);
    json_object_put(body);
    return status;
}

static int send_error(struct mg_connection *conn, int status, const char *code, const char *message)
{
    return send_error_with(conn, status, code, message, "");
}

static int method_not_allowed(struct mg_connection *conn, const char *allowed)
{
    char header[64];
    snprintf(header, sizeof header, "Allow: %s\r\n", allowed);
    return send_error_with(conn, 405, "METHOD_NOT_ALLOWED", "method not allowed", header);
}

static int is_method(struct mg_connection *conn, const char *method)
{
    return strcmp(mg_get_request_info(conn)->request_method, method) == 0;
}

/* Reads the body as one JSON object into *out (caller puts it). On failure
 * answers the client itself and returns that status; 0 on success. */
static int read_json_object(struct mg_connection *conn, json_object **out)
{
    *out = NULL;
    if (mg_get_request_info(conn)->content_length > MAX_BODY_BYTES)
        return send_error(conn, 413, "TOO_BIG", "request body too large");
    char *buf = souk_malloc(MAX_BODY_BYTES + 1);
    size_t len = 0;
    while (len <= MAX_BODY_BYTES) {
        int n = mg_read(conn, buf + len, MAX_BODY_BYTES + 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    int status = 0;
    if (len > MAX_BODY_BYTES) {
        status = send_error(conn, 413, "TOO_BIG", "request body too large");
        goto out;
    }
    json_object *obj = NULL;
    char why[256];
    if (souk_json_parse(buf, len, &obj, why, sizeof why) != SOUK_OK ||
        !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        status = send_error(conn, 400, "INVALID_REQUEST", "body must be one JSON object");
        goto out;
    }
    *out = obj;
out:
    free(buf);
    return status;
}

/* A non-empty string field of at most MAX_FIELD_LEN bytes, or NULL. */
static const char *field_string(json_object *obj, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    int len = json_object_get_string_len(v);
    if (len <= 0 || len > MAX_FIELD_LEN)
        return NULL;
    const char *s = json_object_get_string(v);
    if (strlen(s) != (size_t)len) /* an embedded NUL */
        return NULL;
    return s;
}

/* A non-negative integer field; returns 0 when present and valid. */
static int field_amount(json_object *obj, const char *name, long long *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    int64_t n = json_object_get_int64(v);
    if (n < 0)
        return -1;
    *out = (long long)n;
    return 0;
}

static int valid_currency(const char *s)
{
    if (!s || strlen(s) != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* The Idempotency-Key header is optional, but must agree with the body. */
static int header_agrees(struct mg_connection *conn, const char *key)
{
    const char *header = mg_get_header(conn, "Idempotency-Key");
    return !header || strcmp(header, key) == 0;
}

/* Returns NULL when req is a valid charge request, else why not. */
static const char *parse_charge(struct mg_connection *conn, json_object *req,
                                struct charge_request *r)
{
    if (field_amount(req, "amount_minor", &r->amount_minor) != 0)
        return "amount_minor must be an integer >= 0";
    r->currency = field_string(req, "currency");
    if (!valid_currency(r->currency))
        return "currency must be three upper-case letters";
    r->token = field_string(req, "token");
    if (!r->token)
        return "token must be a non-empty string";
    r->key = field_string(req, "idempotency_key");
    if (!r->key)
        return "idempotency_key must be a non-empty string of at most 255 bytes";
    if (!header_agrees(conn, r->key))
        return "Idempotency-Key header differs from idempotency_key";
    return NULL;
}

static const char *parse_refund(struct mg_connection *conn, json_object *req,
                                struct refund_request *r)
{
    r->charge_id = field_string(req, "charge_id");
    if (!r->charge_id)
        return "charge_id must be a non-empty string";
    if (field_amount(req, "amount_minor", &r->amount_minor) != 0)
        return "amount_minor must be an integer >= 0";
    r->key = field_string(req, "idempotency_key");
    if (!r->key)
        return "idempotency_key must be a non-empty string of at most 255 bytes";
    if (!header_agrees(conn, r->key))
        return "Idempotency-Key header differs from idempotency_key";
    return NULL;
}

static int create_charge(struct mg_connection *conn, souk_psp *psp)
{
    json_object *req = NULL;
    int status = read_json_object(conn, &req);
    if (status)
        return status;
    struct charge_request r;
    const char *why = parse_charge(conn, req, &r);
    if (why) {
        status = send_error(conn, 400, "INVALID_REQUEST", why);
        goto out;
    }

    json_object *body = NULL;
    const char *code = NULL;
    const char *message = NULL;
    int slow = 0;
    int replay = 0;
    pthread_mutex_lock(&psp->lock);
    psp->charge_requests++;
    struct charge *c = table_get(&psp->charges_by_key, r.key);
    if (c) {
        if (c->amount_minor != r.amount_minor || strcmp(c->currency, r.currency) != 0 ||
            strcmp(c->token, r.token) != 0) {
            status = 409;
            code = "IDEMPOTENCY_CONFLICT";
            message = "idempotency_key was used for a different charge";
        } else {
            replay = 1;
        }
    } else if (strcmp(r.token, "tok_error") == 0) {
        status = 500;
        code = "PROVIDER_ERROR";
        message = "simulated provider failure (tok_error)";
    } else if (psp->entries >= psp->max_entries) {
        status = 503;
        code = "LEDGER_FULL";
        message = "the stand-in's ledger is full";
    } else if (strcmp(r.token, "tok_flaky") == 0 && !table_get(&psp->flaky_keys, r.key)) {
        flaky_remember(psp, r.key, 0);
        status = 500;
        code = "PROVIDER_ERROR";
        message = "simulated transient failure (tok_flaky, first attempt)";
    } else {
        c = charge_create(psp, &r, NULL);
        slow = strcmp(r.token, "tok_timeout") == 0;
        if (slow)
            atomic_fetch_add(&psp->slow_answers, 1);
    }
    char id[ID_LEN] = "";
    int approved = 0;
    if (c && !code) {
        status = 200;
        body = charge_json(c);
        memcpy(id, c->id, ID_LEN);
        approved = c->approved;
    }
    pthread_mutex_unlock(&psp->lock);

    if (code) {
        SOUK_LOG(status >= 500 ? SOUK_LOG_WARN : SOUK_LOG_INFO,
                 "charge refused with %d %s idempotency_key=%s", status, code, r.key);
        send_error(conn, status, code, message);
        goto out;
    }
    SOUK_LOG(SOUK_LOG_INFO, "charge %s %s%s amount_minor=%lld currency=%s idempotency_key=%s", id,
             approved ? "approved" : "declined", replay ? " (replayed)" : "", r.amount_minor,
             r.currency, r.key);
    if (slow)
        wait_unless_stopping(psp, psp->timeout_sleep_ms);
    send_owned(conn, 200, body);
    if (slow)
        atomic_fetch_sub(&psp->slow_answers, 1);
out:
    json_object_put(req);
    return status;
}

static int get_charge(struct mg_connection *conn, souk_psp *psp, const char *id)
{
    pthread_mutex_lock(&psp->lock);
    struct charge *c = table_get(&psp->charges_by_id, id);
    json_object *body = c ? charge_json(c) : NULL;
    pthread_mutex_unlock(&psp->lock);
    if (!body)
        return send_error(conn, 404, "NOT_FOUND", "no such charge");
    return send_owned(conn, 200, body);
}

static int handle_charges(struct mg_connection *conn, void *data)
{
    souk_psp *psp = data;
    const char *uri = mg_get_request_info(conn)->local_uri;
    static const char prefix[] = "/charges/";
    if (strcmp(uri, "/charges") == 0)
        return is_method(conn, "POST") ? create_charge(conn, psp)
                                       : method_not_allowed(conn, "POST");
    const char *id = uri + sizeof prefix - 1;
    if (strncmp(uri, prefix, sizeof prefix - 1) != 0 || *id == '\0' || strchr(id, '/'))
        return send_error(conn, 404, "NOT_FOUND", "no such resource");
    return is_method(conn, "GET") ? get_charge(conn, psp, id) : method_not_allowed(conn, "GET");
}

static int create_refund(struct mg_connection *conn, souk_psp *psp)
{
    json_object *req = NULL;
    int status = read_json_object(conn, &req);
    if (status)
        return status;
    struct refund_request r;
    const char *why = parse_refund(conn, req, &r);
    if (why) {
        status = send_error(conn, 400, "INVALID_REQUEST", why);
        goto out;
    }

    json_object *body = NULL;
    const char *code = NULL;
    const char *message = NULL;
    int replay = 0;
    pthread_mutex_lock(&psp->lock);
    psp->refund_requests++;
    struct refund *f = table_get(&psp->refunds_by_key, r.key);
    struct charge *c = table_get(&psp->charges_by_id, r.charge_id);
    if (f) {
        if (strcmp(f->charge->id, r.charge_id) != 0 || f->amount_minor != r.amount_minor) {
            status = 409;
            code = "IDEMPOTENCY_CONFLICT";
            message = "idempotency_key was used for a different refund";
        } else {
            replay = 1;
        }
    } else if (!c) {
        status = 404;
        code = "NOT_FOUND";
        message = "no such charge";
    } else if (!c->approved) {
        status = 409;
        code = "NOT_REFUNDABLE";
        message = "a declined charge cannot be refunded";
    } else if (r.amount_minor > c->amount_minor - c->refunded_minor) {
        status = 409;
        code = "NOT_REFUNDABLE";
        message = "refund exceeds the amount captured and not yet refunded";
    } else if (psp->entries >= psp->max_entries) {
        status = 503;
        code = "LEDGER_FULL";
        message = "the stand-in's ledger is full";
    } else {
        f = refund_create(psp, c, &r, NULL);
    }
    char id[ID_LEN] = "";
    if (!code) {
        status = 200;
        body = refund_json(f);
        memcpy(id, f->id, ID_LEN);
    }
    pthread_mutex_unlock(&psp->lock);

    if (code) {
        SOUK_LOG(SOUK_LOG_INFO, "refund refused with %d %s charge=%s idempotency_key=%s", status,
                 code, r.charge_id, r.key);
        send_error(conn, status, code, message);
        goto out;
    }
    SOUK_LOG(SOUK_LOG_INFO, "refund %s%s charge=%s amount_minor=%lld idempotency_key=%s", id,
             replay ? " (replayed)" : "", r.charge_id, r.amount_minor, r.key);
    send_owned(conn, 200, body);
out:
    json_object_put(req);
    return status;
}

static int handle_refunds(struct mg_connection *conn, void *data)
{
    return is_method(conn, "POST") ? create_refund(conn, data) : method_not_allowed(conn, "POST");
}

static int handle_stats(struct mg_connection *conn, void *data)
{
    souk_psp *psp = data;
    if (!is_method(conn, "GET"))
        return method_not_allowed(conn, "GET");
    json_object *o = json_object_new_object();
    pthread_mutex_lock(&psp->lock);
    json_object_object_add(o, "charges", json_object_new_int64(psp->charges));
    json_object_object_add(o, "approved_charges", json_object_new_int64(psp->approved_charges));
    json_object_object_add(o, "declined_charges", json_object_new_int64(psp->declined_charges));
    json_object_object_add(o, "approved_minor_total",
                           json_object_new_int64(psp->approved_minor_total));
    json_object_object_add(o, "refunds", json_object_new_int64(psp->refunds));
    json_object_object_add(o, "refunded_minor_total",
                           json_object_new_int64(psp->refunded_minor_total));
    json_object_object_add(o, "charge_requests", json_object_new_int64(psp->charge_requests));
    json_object_object_add(o, "refund_requests", json_object_new_int64(psp->refund_requests));
    pthread_mutex_unlock(&psp->lock);
    return send_owned(conn, 200, o);
}

static int handle_healthz(struct mg_connection *conn, void *data)
{
    (void)data;
    if (!is_method(conn, "GET"))
        return method_not_allowed(conn, "GET");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("alive"));
    return send_owned(conn, 200, o);
}

void souk_psp_register(struct mg_context *ctx, souk_psp *psp)
{
    mg_set_request_handler(ctx, "/healthz$", handle_healthz, psp);
    mg_set_request_handler(ctx, "/stats$", handle_stats, psp);
    mg_set_request_handler(ctx, "/refunds$", handle_refunds, psp);
    /* "/charges" and "/charges/<id>" */
    mg_set_request_handler(ctx, "/charges", handle_charges, psp);
}
