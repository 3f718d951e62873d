/* souk-dlq: the dead-letter tool behind `souk dlq`.
 *   souk-dlq list <service> [count]     one line per message (tab-separated)
 *   souk-dlq show <service> [count]     headers and payloads, as JSON
 *   souk-dlq replay <service> [count]   back to the original exchange
 *   souk-dlq purge <service>
 * Services are those of the topology table (events/topology.c). The broker
 * user comes from SOUK_AMQP_URL / SOUK_AMQP_USER / SOUK_AMQP_PASSWORD (the
 * `souk` script passes the stack's administrator). Exit status: 0 done,
 * 1 a broker error or a message that could not be replayed, 2 bad usage. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "events/topology.h"
#include "tools/dlq.h"

#define DEFAULT_COUNT 100

static void usage(FILE *out)
{
    fprintf(out,
            "usage: souk dlq list|show|replay|purge <service> [count]\n"
            "  count: messages to list, show or replay (default %d)\nservices:",
            DEFAULT_COUNT);
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
        fprintf(out, " %s", souk_service_name((souk_service)s));
    fprintf(out, "\n");
}

/* One field of a tab-separated line, escaped as jq's @tsv does. */
static void print_tsv_field(const char *text, int last)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\t': fputs("\\t", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        default: putchar(*p);
        }
    }
    putchar(last ? '\n' : '\t');
}

static void list_one(const amqp_message_t *message, const souk_envelope *env, void *arg)
{
    (void)message;
    (void)arg;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", env->attempts);
    print_tsv_field(env->message_id, 0);
    print_tsv_field(env->type, 0);
    print_tsv_field(env->correlation_id, 0);
    print_tsv_field(attempts, 0);
    print_tsv_field(env->first_failure, 0);
    print_tsv_field(env->error, 1);
}

static json_object *field_json(const amqp_field_value_t *v);

static json_object *table_json(const amqp_table_t *table)
{
    json_object *obj = json_object_new_object();
    for (int i = 0; i < table->num_entries; i++) {
        const amqp_table_entry_t *e = &table->entries[i];
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)e->key.len, (const char *)e->key.bytes);
        json_object_object_add(obj, key, field_json(&e->value));
    }
    return obj;
}

/* A header value as JSON: text as strings, numbers as numbers, tables and
 * arrays nested. */
static json_object *field_json(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        return json_object_new_string_len(v->value.bytes.bytes, (int)v->value.bytes.len);
    case AMQP_FIELD_KIND_BOOLEAN: return json_object_new_boolean(v->value.boolean);
    case AMQP_FIELD_KIND_I8: return json_object_new_int64(v->value.i8);
    case AMQP_FIELD_KIND_U8: return json_object_new_int64(v->value.u8);
    case AMQP_FIELD_KIND_I16: return json_object_new_int64(v->value.i16);
    case AMQP_FIELD_KIND_U16: return json_object_new_int64(v->value.u16);
    case AMQP_FIELD_KIND_I32: return json_object_new_int64(v->value.i32);
    case AMQP_FIELD_KIND_U32: return json_object_new_int64(v->value.u32);
    case AMQP_FIELD_KIND_I64: return json_object_new_int64(v->value.i64);
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: return json_object_new_uint64(v->value.u64);
    case AMQP_FIELD_KIND_F32: return json_object_new_double(v->value.f32);
    case AMQP_FIELD_KIND_F64: return json_object_new_double(v->value.f64);
    case AMQP_FIELD_KIND_TABLE: return table_json(&v->value.table);
    case AMQP_FIELD_KIND_ARRAY: {
        json_object *arr = json_object_new_array();
        for (int i = 0; i < v->value.array.num_entries; i++)
            json_object_array_add(arr, field_json(&v->value.array.entries[i]));
        return arr;
    }
    default: return NULL; /* void, decimal: null */
    }
}

static json_object *text_or_null(const char *text)
{
    return text[0] ? json_object_new_string(text) : NULL;
}

static void show_one(const amqp_message_t *message, const souk_envelope *env, void *arg)
{
    json_object *item = json_object_new_object();
    json_object_object_add(item, "message_id", text_or_null(env->message_id));
    json_object_object_add(item, "type", text_or_null(env->type));
    json_object_object_add(item, "order_id", text_or_null(env->correlation_id));
    const amqp_basic_properties_t *p = &message->properties;
    json_object_object_add(item, "headers",
                           (p->_flags & AMQP_BASIC_HEADERS_FLAG) ? table_json(&p->headers) : NULL);
    /* the payload as JSON when it is JSON, else as the text it is */
    json_tokener *tok = json_tokener_new();
    json_object *payload = json_tokener_parse_ex(tok, env->body, (int)env->body_len);
    size_t end = json_tokener_get_parse_end(tok);
    while (end < env->body_len && strchr(" \t\r\n", env->body[end]))
        end++;
    if (json_tokener_get_error(tok) != json_tokener_success || end != env->body_len) {
        json_object_put(payload);
        payload = json_object_new_string_len(env->body, (int)env->body_len);
    }
    json_tokener_free(tok);
    json_object_object_add(item, "payload", payload);
    json_object_array_add((json_object *)arg, item);
}

/* count from argv, or the default; -1 when not a positive number. */
static long parse_count(const char *text)
{
    if (!text)
        return DEFAULT_COUNT;
    char *end;
    long n = strtol(text, &end, 10);
    return (*text && !*end && n > 0 && n <= 1000000) ? n : -1;
}

static int run(souk_dlq *dlq, const char *action, long count)
{
    const char *queue = souk_dlq_queue(dlq);
    souk_status st;
    if (strcmp(action, "list") == 0) {
        long seen;
        printf("MESSAGE_ID\tTYPE\tORDER_ID\tATTEMPTS\tFIRST_FAILURE\tERROR\n");
        st = souk_dlq_peek(dlq, count, list_one, NULL, &seen);
    } else if (strcmp(action, "show") == 0) {
        long seen;
        json_object *all = json_object_new_array();
        st = souk_dlq_peek(dlq, count, show_one, all, &seen);
        if (st == SOUK_OK)
            printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
    } else if (strcmp(action, "replay") == 0) {
        souk_dlq_replay_result r;
        st = souk_dlq_replay(dlq, count, &r);
        printf("souk: replayed %ld message(s) from %s\n", r.replayed, queue);
        if (r.unroutable > 0)
            fprintf(stderr,
                    "souk: error: %ld message(s) could not be routed (no such exchange, or "
                    "no queue bound to it); they stay in %s\n",
                    r.unroutable, queue);
        if (st == SOUK_ENOTFOUND && r.unroutable > 0)
            return 1;
    } else {
        long purged;
        st = souk_dlq_purge(dlq, &purged);
        if (st == SOUK_OK)
            printf("souk: purged %s (%ld message(s))\n", queue, purged);
    }
    fflush(stdout);
    if (st != SOUK_OK) {
        fprintf(stderr, "souk: error: %s: %s\n", queue,
                st == SOUK_ENOTFOUND ? "no such queue" : souk_strerror(st));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    const char *action = argc > 1 ? argv[1] : "";
    int known = strcmp(action, "list") == 0 || strcmp(action, "show") == 0 ||
                strcmp(action, "replay") == 0 || strcmp(action, "purge") == 0;
    int max_args = strcmp(action, "purge") == 0 ? 3 : 4;
    if (!known || argc < 3 || argc > max_args) {
        usage(stderr);
        return 2;
    }
    souk_service service = souk_service_from_name(argv[2]);
    if (service == SOUK_SERVICE_UNKNOWN || service == SOUK_SERVICE_GATEWAY) {
        fprintf(stderr, "souk: error: unknown service '%s' (it has no dead-letter queue)\n",
                argv[2]);
        usage(stderr);
        return 2;
    }
    long count = parse_count(argc > 3 ? argv[3] : NULL);
    if (count < 0) {
        fprintf(stderr, "souk: error: count must be a positive number, not '%s'\n", argv[3]);
        return 2;
    }
    souk_config *cfg = NULL;
    char err[512];
    if (souk_config_load(&cfg, "admin", err, sizeof err) != SOUK_OK) {
        fprintf(stderr, "souk: configuration error: %s\n", err);
        return 2;
    }
    souk_log_set_service("dlq");
    souk_log_threshold = (souk_log_level)souk_config_int(cfg, SOUK_CFG_LOG_LEVEL);
    souk_status st;
    souk_dlq *dlq = souk_dlq_open(cfg, service, &st);
    int rc;
    if (!dlq) {
        fprintf(stderr, "souk: error: cannot reach the broker: %s\n", souk_strerror(st));
        rc = 1;
    } else {
        rc = run(dlq, action, count);
    }
    souk_dlq_close(dlq);
    souk_config_free(cfg);
    return rc;
}
