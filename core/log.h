/* Structured one-line logs in logfmt:
 *   ts=2026-11-22T10:00:00.123Z level=info service=order msg="..." order_id=.. message_id=..
 *   trace_id=.. span_id=..
 * The trace and span ids are those of the calling thread's current trace
 * context (core/trace.h), when it has one: the request's or the message's.
 * Each line is written with a single write(2) so lines from threads and
 * processes never interleave. The level is tested before any argument is
 * evaluated. */
#ifndef SOUK_LOG_H
#define SOUK_LOG_H

typedef enum souk_log_level {
    SOUK_LOG_ERROR = 0,
    SOUK_LOG_WARN = 1,
    SOUK_LOG_INFO = 2,
    SOUK_LOG_DEBUG = 3,
} souk_log_level;

extern souk_log_level souk_log_threshold;

/* Sets the service name printed on every line (not copied: pass a literal
 * or a string that outlives logging). */
void souk_log_set_service(const char *service);

/* Parses "error", "warn", "info", "debug"; returns 0 on success, -1 otherwise. */
int souk_log_parse_level(const char *text, souk_log_level *level);

const char *souk_log_level_name(souk_log_level level);

/* Writes one line. order_id and message_id may be NULL; fields is an optional
 * pre-formatted " key=value" tail. Use the macros below instead. */
void souk_log_write(souk_log_level level, const char *order_id, const char *message_id,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Formats a line into buf (for tests), with the current trace context;
 * returns the length written. */
int souk_log_format(char *buf, int cap, souk_log_level level, const char *order_id,
                    const char *message_id, const char *msg);

#define SOUK_LOG(level, ...)                                                                       \
    do {                                                                                           \
        if ((level) <= souk_log_threshold)                                                         \
            souk_log_write((level), NULL, NULL, __VA_ARGS__);                                      \
    } while (0)

/* For every line about a message: carries its order id and message id. */
#define SOUK_LOG_MSG(level, order_id, message_id, ...)                                             \
    do {                                                                                           \
        if ((level) <= souk_log_threshold)                                                         \
            souk_log_write((level), (order_id), (message_id), __VA_ARGS__);                        \
    } while (0)

#endif
