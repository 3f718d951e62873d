/* logfmt writer behind SOUK_LOG. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/trace.h"

souk_log_level souk_log_threshold = SOUK_LOG_INFO;
static const char *log_service = "souk";

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void souk_log_set_service(const char *service)
{
    log_service = service ? service : "souk";
}

int souk_log_parse_level(const char *text, souk_log_level *level)
{
    for (int i = 0; i <= SOUK_LOG_DEBUG; i++) {
        if (text && strcasecmp(text, level_names[i]) == 0) {
            *level = (souk_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *souk_log_level_name(souk_log_level level)
{
    if ((unsigned)level > SOUK_LOG_DEBUG)
        return "info";
    return level_names[level];
}

/* Appends msg as a quoted logfmt value, escaping quotes, backslashes and
 * control characters so one call is always one line. */
static int append_quoted(char *buf, int pos, int cap, const char *msg)
{
    if (pos < cap - 1)
        buf[pos++] = '"';
    for (const char *p = msg; *p && pos < cap - 3; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char)c;
        } else if (c == '\n') {
            buf[pos++] = '\\';
            buf[pos++] = 'n';
        } else if (c < 0x20) {
            buf[pos++] = ' ';
        } else {
            buf[pos++] = (char)c;
        }
    }
    if (pos < cap - 1)
        buf[pos++] = '"';
    return pos;
}

int souk_log_format(char *buf, int cap, souk_log_level level, const char *order_id,
                    const char *message_id, const char *msg)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    int pos = snprintf(buf, (size_t)cap,
                       "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s service=%s msg=",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, now.tv_nsec / 1000000, souk_log_level_name(level), log_service);
    if (pos < 0 || pos >= cap)
        pos = cap - 1;
    pos = append_quoted(buf, pos, cap, msg);
    if (order_id && pos < cap) {
        int n = snprintf(buf + pos, (size_t)(cap - pos), " order_id=%s", order_id);
        pos = n > 0 && n < cap - pos ? pos + n : cap - 1;
    }
    if (message_id && pos < cap) {
        int n = snprintf(buf + pos, (size_t)(cap - pos), " message_id=%s", message_id);
        pos = n > 0 && n < cap - pos ? pos + n : cap - 1;
    }
    /* the request's or message's trace, set around its work by the
     * gateway's dispatcher and the worker runtime */
    const souk_trace_ctx *trace = souk_trace_current();
    if (trace && pos + 70 < cap) {
        memcpy(buf + pos, " trace_id=", 10);
        souk_trace_hex(trace->trace_id, 16, buf + pos + 10);
        memcpy(buf + pos + 42, " span_id=", 9);
        souk_trace_hex(trace->span_id, 8, buf + pos + 51);
        pos += 67;
    }
    if (pos >= cap - 1)
        pos = cap - 2;
    buf[pos++] = '\n';
    buf[pos] = '\0';
    return pos;
}

void souk_log_write(souk_log_level level, const char *order_id, const char *message_id,
                    const char *fmt, ...)
{
    char msg[1024];
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int len = souk_log_format(line, (int)sizeof line, level, order_id, message_id, msg);
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
    (void)ignored;
}
