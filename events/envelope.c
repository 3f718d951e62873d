/* Encoding and decoding of AMQP properties and headers. */
#include "events/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/uuid.h"

static void copy_bytes(char *dst, size_t cap, amqp_bytes_t src)
{
    size_t n = src.len < cap - 1 ? src.len : cap - 1;
    if (n)
        memcpy(dst, src.bytes, n);
    dst[n] = '\0';
}

static const amqp_field_value_t *find_header(const amqp_table_t *table, const char *key)
{
    size_t klen = strlen(key);
    for (int i = 0; i < table->num_entries; i++) {
        const amqp_table_entry_t *e = &table->entries[i];
        if (e->key.len == klen && memcmp(e->key.bytes, key, klen) == 0)
            return &e->value;
    }
    return NULL;
}

static void header_text(const amqp_table_t *table, const char *key, char *dst, size_t cap)
{
    const amqp_field_value_t *v = find_header(table, key);
    if (v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES))
        copy_bytes(dst, cap, v->value.bytes);
}

static int64_t header_int(const amqp_table_t *table, const char *key, int64_t fallback)
{
    const amqp_field_value_t *v = find_header(table, key);
    if (!v)
        return fallback;
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8: return v->value.i8;
    case AMQP_FIELD_KIND_U8: return v->value.u8;
    case AMQP_FIELD_KIND_I16: return v->value.i16;
    case AMQP_FIELD_KIND_U16: return v->value.u16;
    case AMQP_FIELD_KIND_I32: return v->value.i32;
    case AMQP_FIELD_KIND_U32: return v->value.u32;
    case AMQP_FIELD_KIND_I64: return v->value.i64;
    case AMQP_FIELD_KIND_U64: return (int64_t)v->value.u64;
    default: return fallback;
    }
}

souk_status souk_envelope_decode(const amqp_message_t *message, const char *exchange,
                                 souk_envelope *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const amqp_basic_properties_t *p = &message->properties;
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        copy_bytes(out->message_id, sizeof out->message_id, p->message_id);
    if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        copy_bytes(out->correlation_id, sizeof out->correlation_id, p->correlation_id);
    if (p->_flags & AMQP_BASIC_TYPE_FLAG)
        copy_bytes(out->type, sizeof out->type, p->type);
    if (p->_flags & AMQP_BASIC_APP_ID_FLAG)
        copy_bytes(out->app_id, sizeof out->app_id, p->app_id);
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        out->timestamp = (int64_t)p->timestamp;
    out->schema_version = 1;
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
        const amqp_table_t *h = &p->headers;
        header_text(h, "causation_id", out->causation_id, sizeof out->causation_id);
        header_text(h, "request_id", out->request_id, sizeof out->request_id);
        header_text(h, "occurred_at", out->occurred_at, sizeof out->occurred_at);
        header_text(h, "traceparent", out->traceparent, sizeof out->traceparent);
        header_text(h, "tracestate", out->tracestate, sizeof out->tracestate);
        header_text(h, "x-souk-original-exchange", out->original_exchange,
                    sizeof out->original_exchange);
        header_text(h, "x-souk-first-failure", out->first_failure, sizeof out->first_failure);
        header_text(h, "x-souk-error", out->error, sizeof out->error);
        out->schema_version = (int)header_int(h, "schema_version", 1);
        out->attempts = (int)header_int(h, "x-souk-attempts", 0);
        out->replayed = (int)header_int(h, "x-souk-replayed", 0);
        out->published_at_us = header_int(h, "x-souk-published-at", 0);
    }
    if (!out->original_exchange[0] && exchange && exchange[0])
        snprintf(out->original_exchange, sizeof out->original_exchange, "%s", exchange);
    out->body = souk_strndup(message->body.bytes ? message->body.bytes : "", message->body.len);
    out->body_len = message->body.len;

    if (!out->message_id[0]) {
        snprintf(err, errlen, "missing message_id property");
        return SOUK_EPARSE;
    }
    if (!souk_uuid_valid(out->message_id)) {
        snprintf(err, errlen, "message_id '%s' is not a UUID", out->message_id);
        return SOUK_EPARSE;
    }
    if (!out->type[0]) {
        snprintf(err, errlen, "missing type property");
        return SOUK_EPARSE;
    }
    if (!out->correlation_id[0]) {
        snprintf(err, errlen, "missing correlation_id property");
        return SOUK_EPARSE;
    }
    if ((p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) &&
        !(p->content_type.len == 16 &&
          memcmp(p->content_type.bytes, "application/json", 16) == 0)) {
        snprintf(err, errlen, "content_type is not application/json");
        return SOUK_EPARSE;
    }
    return SOUK_OK;
}

void souk_envelope_clear(souk_envelope *env)
{
    if (!env)
        return;
    free(env->body);
    env->body = NULL;
    env->body_len = 0;
}

static void add_text(amqp_table_entry_t *entries, int *n, const char *key, const char *value)
{
    if (!value || !value[0])
        return;
    entries[*n].key = amqp_cstring_bytes(key);
    entries[*n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[*n].value.value.bytes = amqp_cstring_bytes(value);
    (*n)++;
}

static void add_int(amqp_table_entry_t *entries, int *n, const char *key, int value)
{
    entries[*n].key = amqp_cstring_bytes(key);
    entries[*n].value.kind = AMQP_FIELD_KIND_I32;
    entries[*n].value.value.i32 = value;
    (*n)++;
}

void souk_envelope_properties(const souk_envelope *env, int64_t published_at_us,
                              amqp_basic_properties_t *props, amqp_table_entry_t *entries)
{
    memset(props, 0, sizeof *props);
    props->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                    AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
                    AMQP_BASIC_HEADERS_FLAG;
    props->content_type = amqp_cstring_bytes("application/json");
    props->delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props->message_id = amqp_cstring_bytes(env->message_id);
    props->type = amqp_cstring_bytes(env->type);
    props->timestamp = (uint64_t)env->timestamp;
    if (env->correlation_id[0]) {
        props->_flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props->correlation_id = amqp_cstring_bytes(env->correlation_id);
    }
    if (env->app_id[0]) {
        props->_flags |= AMQP_BASIC_APP_ID_FLAG;
        props->app_id = amqp_cstring_bytes(env->app_id);
    }
    int n = 0;
    add_text(entries, &n, "causation_id", env->causation_id);
    add_int(entries, &n, "schema_version", env->schema_version ? env->schema_version : 1);
    add_text(entries, &n, "request_id", env->request_id);
    add_text(entries, &n, "occurred_at", env->occurred_at);
    add_text(entries, &n, "traceparent", env->traceparent);
    add_text(entries, &n, "tracestate", env->tracestate);
    if (env->attempts > 0)
        add_int(entries, &n, "x-souk-attempts", env->attempts);
    add_text(entries, &n, "x-souk-error", env->error);
    add_text(entries, &n, "x-souk-original-exchange", env->original_exchange);
    add_text(entries, &n, "x-souk-first-failure", env->first_failure);
    if (env->replayed > 0)
        add_int(entries, &n, "x-souk-replayed", env->replayed);
    if (published_at_us > 0) {
        entries[n].key = amqp_cstring_bytes("x-souk-published-at");
        entries[n].value.kind = AMQP_FIELD_KIND_I64;
        entries[n].value.value.i64 = published_at_us;
        n++;
    }
    props->headers.num_entries = n;
    props->headers.entries = entries;
}
