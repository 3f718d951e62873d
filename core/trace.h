/* W3C Trace Context and spans. A trace context is a trace id, the id of the
 * span it names and its flags (the traceparent header,
 * "00-<32 hex>-<16 hex>-<2 hex>"), plus the vendors' tracestate. It arrives
 * on HTTP requests and AMQP messages, each unit of work (a request, a
 * message's handling, a publish, a call to the provider) is a span that is
 * a child of it, and what that work causes carries the span's context on.
 *
 * Each thread has a "current" context (souk_trace_set_current), set by the
 * gateway's dispatcher and by the worker runtime around each request and
 * message: every log line written meanwhile carries its trace and span ids.
 *
 * Spans are recorded only when the process exports them (core/otlp.h,
 * SOUK_OTLP_URL) and their trace is sampled; otherwise a span costs its ids
 * and two clock reads. Interface:
 *   souk_trace_parse / souk_trace_format    traceparent text <-> context
 *   souk_trace_child / souk_trace_root      new span ids
 *   souk_trace_set_current / _current       the thread's context (logs)
 *   souk_span_start / _attr_* / _end        a span, handed to the exporter */
#ifndef SOUK_CORE_TRACE_H
#define SOUK_CORE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define SOUK_TRACEPARENT_LEN 55 /* version 00, without the NUL */
/* The spec asks to propagate tracestate of at most 512 characters. */
#define SOUK_TRACESTATE_MAX 512

typedef struct souk_trace_ctx {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags; /* bit 0: sampled */
    char tracestate[SOUK_TRACESTATE_MAX + 1];
} souk_trace_ctx;

#define SOUK_TRACE_SAMPLED 0x01

/* Parses a traceparent header value (and tracestate, which may be NULL)
 * into out, per W3C Trace Context: version 2 lowercase hex, not ff; version
 * 00 exactly 55 characters, a later version at least 55 with '-' after
 * them; trace id 32 and parent id 16 lowercase hex, neither all zeros;
 * flags 2 hex. Returns 0, or -1 for an invalid traceparent (out is then
 * zeroed: start a new trace). An invalid or over-long tracestate is dropped
 * (out->tracestate ""), as the spec says, without voiding the
 * traceparent. */
int souk_trace_parse(const char *traceparent, const char *tracestate, souk_trace_ctx *out)
    __attribute__((warn_unused_result));

/* True when tracestate is a valid list: at most 32 comma-separated
 * key=value members (empty members allowed), keys as the spec defines them
 * (lowercase letter or digit first, then [a-z0-9_*-/], optionally
 * tenant@system), values of printable ASCII but ',' and '=', not ending in
 * a space, the whole at most SOUK_TRACESTATE_MAX characters. */
int souk_trace_state_valid(const char *tracestate);

/* Writes ctx as a version-00 traceparent (55 characters and a NUL). */
void souk_trace_format(const souk_trace_ctx *ctx, char out[SOUK_TRACEPARENT_LEN + 1]);

/* Lowercase hex of n bytes into out (2n characters and a NUL). */
void souk_trace_hex(const uint8_t *bytes, size_t n, char *out);

/* Reads 2n lowercase hex characters of text into bytes; returns 0, or -1
 * when text is not exactly that. */
int souk_trace_unhex(const char *text, uint8_t *bytes, size_t n);

/* A new trace: random trace and span ids, sampled, no tracestate. */
void souk_trace_root(souk_trace_ctx *out);

/* A new span of parent's trace (same trace id, flags and tracestate, a new
 * span id); a new trace when parent is NULL or invalid. out may not be
 * parent. */
void souk_trace_child(const souk_trace_ctx *parent, souk_trace_ctx *out);

/* True when ctx has a non-zero trace id and span id. */
int souk_trace_valid(const souk_trace_ctx *ctx);

/* Sets the calling thread's current context (copied; NULL clears it). */
void souk_trace_set_current(const souk_trace_ctx *ctx);

/* The calling thread's current context, or NULL. */
const souk_trace_ctx *souk_trace_current(void);

/* Nanoseconds since the Unix epoch (what OTLP timestamps are). */
uint64_t souk_trace_now_ns(void);

typedef enum souk_span_kind {
    SOUK_SPAN_INTERNAL = 1, /* the values of OTLP's SpanKind */
    SOUK_SPAN_SERVER = 2,
    SOUK_SPAN_CLIENT = 3,
    SOUK_SPAN_PRODUCER = 4,
    SOUK_SPAN_CONSUMER = 5,
} souk_span_kind;

#define SOUK_SPAN_MAX_ATTRS 14
#define SOUK_SPAN_TEXT_CAP  80

typedef struct souk_span_attr {
    const char *key; /* a string literal: kept by pointer */
    int is_int;
    long long number;
    char text[SOUK_SPAN_TEXT_CAP];
} souk_span_attr;

typedef struct souk_span {
    souk_trace_ctx ctx; /* this span's context: what its work passes on */
    uint8_t parent_id[8];
    int has_parent;
    int recording; /* exported when it ends: an exporter runs and the trace is sampled */
    souk_span_kind kind;
    char name[96];
    uint64_t start_ns, end_ns;
    int error; /* status ERROR */
    char status_message[128];
    int attr_count;
    souk_span_attr attrs[SOUK_SPAN_MAX_ATTRS];
} souk_span;

/* Starts span s now: a child of parent (NULL or invalid: a new trace), of
 * kind, named name (copied; truncated). */
void souk_span_start(souk_span *s, const souk_trace_ctx *parent, souk_span_kind kind,
                     const char *name);

/* Starts s as a span whose context and parent are already known (the
 * outbox relay's publish span, whose id the message carries); ctx may be
 * &s->ctx, parent_id NULL for a root. */
void souk_span_start_as(souk_span *s, const souk_trace_ctx *ctx, const uint8_t parent_id[8],
                        souk_span_kind kind, const char *name, uint64_t start_ns);

/* Attributes; ignored when s is not recording or full. key must be a
 * string literal. Values longer than SOUK_SPAN_TEXT_CAP - 1 are cut. */
void souk_span_attr_str(souk_span *s, const char *key, const char *value);
void souk_span_attr_int(souk_span *s, const char *key, long long value);

/* Marks s failed, with a short reason (copied). */
void souk_span_fail(souk_span *s, const char *message);

/* Ends s now and hands it to the exporter when it is recording (the
 * exporter copies it; s may be reused after). */
void souk_span_end(souk_span *s);

#endif
