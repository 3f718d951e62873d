/* W3C trace context parsing, ids, the thread's current context, spans. */
#include "core/trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/otlp.h"

static const char hex_digits[] = "0123456789abcdef";

void souk_trace_hex(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase too: the spec's hex is lowercase */
}

/* Reads 2n hex characters at text, which may go on after them. */
static int read_hex(const char *text, uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(text[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(text[2 * i + 1]);
        if (lo < 0)
            return -1;
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int souk_trace_unhex(const char *text, uint8_t *bytes, size_t n)
{
    if (!text || strlen(text) != 2 * n)
        return -1;
    return read_hex(text, bytes, n);
}

static int all_zero(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bytes[i])
            return 0;
    return 1;
}

/* [*start, *end) of text without HTTP's optional whitespace around it. */
static void trim(const char *text, const char **start, const char **end)
{
    const char *s = text, *e = text + strlen(text);
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *start = s;
    *end = e;
}

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
           c == '/';
}

/* A tracestate key: simple-key, or tenant-id@system-id. */
static int valid_key(const char *k, size_t len)
{
    const char *at = memchr(k, '@', len);
    if (!at) {
        if (len < 1 || len > 256 || !(k[0] >= 'a' && k[0] <= 'z'))
            return 0;
        for (size_t i = 1; i < len; i++)
            if (!key_char(k[i]))
                return 0;
        return 1;
    }
    size_t tenant = (size_t)(at - k), system = len - tenant - 1;
    if (tenant < 1 || tenant > 241 || system < 1 || system > 14)
        return 0;
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= '0' && k[0] <= '9')))
        return 0;
    for (size_t i = 1; i < tenant; i++)
        if (!key_char(k[i]))
            return 0;
    if (!(at[1] >= 'a' && at[1] <= 'z'))
        return 0;
    for (size_t i = 2; i <= system; i++)
        if (!key_char(at[i]))
            return 0;
    return 1;
}

static int valid_value(const char *v, size_t len)
{
    if (len < 1 || len > 256 || v[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
            return 0;
    }
    return 1;
}

/* Validates the list in [s, e). */
static int valid_state(const char *s, const char *e)
{
    if (e - s > SOUK_TRACESTATE_MAX)
        return 0;
    const char *keys[32];
    size_t key_lens[32];
    int members = 0;
    while (s <= e) {
        const char *comma = memchr(s, ',', (size_t)(e - s));
        const char *end = comma ? comma : e;
        const char *ms = s, *me = end;
        while (ms < me && (*ms == ' ' || *ms == '\t'))
            ms++;
        while (me > ms && (me[-1] == ' ' || me[-1] == '\t'))
            me--;
        if (me > ms) { /* empty members are allowed */
            const char *eq = memchr(ms, '=', (size_t)(me - ms));
            if (!eq || members == 32 || !valid_key(ms, (size_t)(eq - ms)) ||
                !valid_value(eq + 1, (size_t)(me - eq - 1)))
                return 0;
            for (int i = 0; i < members; i++)
                if (key_lens[i] == (size_t)(eq - ms) && memcmp(keys[i], ms, key_lens[i]) == 0)
                    return 0; /* a key appears once */
            keys[members] = ms;
            key_lens[members] = (size_t)(eq - ms);
            members++;
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return 1;
}

int souk_trace_state_valid(const char *tracestate)
{
    if (!tracestate)
        return 0;
    const char *s, *e;
    trim(tracestate, &s, &e);
    return valid_state(s, e);
}

int souk_trace_parse(const char *traceparent, const char *tracestate, souk_trace_ctx *out)
{
    memset(out, 0, sizeof *out);
    if (!traceparent)
        return -1;
    const char *s, *e;
    trim(traceparent, &s, &e);
    size_t len = (size_t)(e - s);
    uint8_t version;
    if (len < SOUK_TRACEPARENT_LEN || read_hex(s, &version, 1) != 0 || version == 0xff)
        return -1;
    /* a later version may append fields, after a '-' */
    if (version == 0 ? len != SOUK_TRACEPARENT_LEN
                     : len > SOUK_TRACEPARENT_LEN && s[SOUK_TRACEPARENT_LEN] != '-')
        return -1;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-')
        return -1;
    souk_trace_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    if (read_hex(s + 3, ctx.trace_id, 16) != 0 || read_hex(s + 36, ctx.span_id, 8) != 0 ||
        read_hex(s + 53, &ctx.flags, 1) != 0)
        return -1;
    if (all_zero(ctx.trace_id, 16) || all_zero(ctx.span_id, 8))
        return -1;
    if (tracestate) {
        const char *ts, *te;
        trim(tracestate, &ts, &te);
        if (valid_state(ts, te)) {
            memcpy(ctx.tracestate, ts, (size_t)(te - ts));
            ctx.tracestate[te - ts] = '\0';
        }
    }
    *out = ctx;
    return 0;
}

void souk_trace_format(const souk_trace_ctx *ctx, char out[SOUK_TRACEPARENT_LEN + 1])
{
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    souk_trace_hex(ctx->trace_id, 16, out + 3);
    out[35] = '-';
    souk_trace_hex(ctx->span_id, 8, out + 36);
    out[52] = '-';
    souk_trace_hex(&ctx->flags, 1, out + 53);
}

/* Ids need to be unique, not secret: xoshiro256** per thread, seeded from
 * the kernel once, so a span costs no system call. */
static _Thread_local uint64_t rng[4];
static _Thread_local int rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_random(void)
{
    if (!rng_seeded) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng) {
            struct timespec now; /* no entropy source: still unique per thread */
            clock_gettime(CLOCK_REALTIME, &now);
            rng[0] = (uint64_t)now.tv_nsec ^ (uint64_t)(uintptr_t)&rng;
            rng[1] = (uint64_t)now.tv_sec * 0x9e3779b97f4a7c15ULL;
            rng[2] = 0x2545f4914f6cdd1dULL;
        }
        rng[3] |= 1; /* never the all-zero state */
        rng_seeded = 1;
    }
    uint64_t result = rotl(rng[1] * 5, 7) * 9;
    uint64_t t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return result;
}

static void random_id(uint8_t *bytes, size_t n)
{
    do {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = next_random();
            memcpy(bytes + i, &r, n - i < 8 ? n - i : 8);
        }
    } while (all_zero(bytes, n));
}

int souk_trace_valid(const souk_trace_ctx *ctx)
{
    return ctx && !all_zero(ctx->trace_id, 16) && !all_zero(ctx->span_id, 8);
}

void souk_trace_root(souk_trace_ctx *out)
{
    random_id(out->trace_id, 16);
    random_id(out->span_id, 8);
    out->flags = SOUK_TRACE_SAMPLED;
    out->tracestate[0] = '\0';
}

void souk_trace_child(const souk_trace_ctx *parent, souk_trace_ctx *out)
{
    if (!souk_trace_valid(parent)) {
        souk_trace_root(out);
        return;
    }
    memcpy(out->trace_id, parent->trace_id, 16);
    random_id(out->span_id, 8);
    out->flags = parent->flags;
    memcpy(out->tracestate, parent->tracestate, strlen(parent->tracestate) + 1);
}

static _Thread_local souk_trace_ctx current;
static _Thread_local int has_current;

void souk_trace_set_current(const souk_trace_ctx *ctx)
{
    has_current = ctx != NULL && souk_trace_valid(ctx);
    if (has_current && ctx != &current) {
        memcpy(current.trace_id, ctx->trace_id, 16);
        memcpy(current.span_id, ctx->span_id, 8);
        current.flags = ctx->flags;
        memcpy(current.tracestate, ctx->tracestate, strlen(ctx->tracestate) + 1);
    }
}

const souk_trace_ctx *souk_trace_current(void)
{
    return has_current ? &current : NULL;
}

uint64_t souk_trace_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

static void set_name(souk_span *s, const char *name)
{
    size_t n = strnlen(name, sizeof s->name - 1);
    memcpy(s->name, name, n);
    s->name[n] = '\0';
}

void souk_span_start(souk_span *s, const souk_trace_ctx *parent, souk_span_kind kind,
                     const char *name)
{
    souk_trace_child(parent, &s->ctx);
    souk_span_start_as(s, &s->ctx, souk_trace_valid(parent) ? parent->span_id : NULL, kind, name,
                       souk_trace_now_ns());
}

void souk_span_start_as(souk_span *s, const souk_trace_ctx *ctx, const uint8_t parent_id[8],
                        souk_span_kind kind, const char *name, uint64_t start_ns)
{
    if (ctx != &s->ctx)
        s->ctx = *ctx;
    s->has_parent = parent_id != NULL && !all_zero(parent_id, 8);
    if (s->has_parent)
        memcpy(s->parent_id, parent_id, 8);
    s->kind = kind;
    s->recording = souk_otlp_enabled() && (s->ctx.flags & SOUK_TRACE_SAMPLED);
    s->attr_count = 0;
    s->error = 0;
    s->status_message[0] = '\0';
    s->end_ns = 0;
    s->start_ns = start_ns;
    if (s->recording)
        set_name(s, name);
}

static souk_span_attr *next_attr(souk_span *s, const char *key)
{
    if (!s->recording || s->attr_count == SOUK_SPAN_MAX_ATTRS)
        return NULL;
    souk_span_attr *a = &s->attrs[s->attr_count++];
    a->key = key;
    return a;
}

void souk_span_attr_str(souk_span *s, const char *key, const char *value)
{
    souk_span_attr *a = next_attr(s, key);
    if (!a)
        return;
    a->is_int = 0;
    size_t n = strnlen(value ? value : "", sizeof a->text - 1);
    memcpy(a->text, value ? value : "", n);
    a->text[n] = '\0';
}

void souk_span_attr_int(souk_span *s, const char *key, long long value)
{
    souk_span_attr *a = next_attr(s, key);
    if (!a)
        return;
    a->is_int = 1;
    a->number = value;
}

void souk_span_fail(souk_span *s, const char *message)
{
    s->error = 1;
    if (s->recording)
        snprintf(s->status_message, sizeof s->status_message, "%s", message ? message : "");
}

void souk_span_end(souk_span *s)
{
    s->end_ns = souk_trace_now_ns();
    if (s->end_ns < s->start_ns)
        s->end_ns = s->start_ns; /* the wall clock stepped back */
    if (s->recording)
        souk_otlp_submit(s);
}
