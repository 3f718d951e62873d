/* The notification service: tells the customer how an order ended. Each
 * OrderCompleted and OrderCancelled becomes one row of notifications, keyed
 * by (order id, kind), and is delivered inside the message's transaction:
 * e-mailed through SMTP (libcurl) when SOUK_SMTP_URL is set and the event
 * carries customer_email, otherwise written to the log as one line. A failed
 * e-mail is RETRY, so the row rolls back with it and the runtime's retry
 * queues try again; after the last retry the message is dead-lettered.
 *
 * E-mail is at-least-once, and that is accepted: the mail is sent before
 * the commit, so a commit that fails after a successful send (or a crash
 * between the two) lets a retry send it again. Once the row is committed,
 * no delivery of the same outcome sends anything, under any message id:
 * the insert finds the (order_id, kind) row and the handler stops there (a
 * concurrent duplicate waits on the uncommitted row, then finds it). The
 * Message-ID is derived from the kind and the order id, the same on every
 * attempt, so a mail client can fold such a duplicate. */
#include "workers/notification.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "workers/saga.h"

/* Both for connecting and for the whole SMTP conversation. */
#define SMTP_TIMEOUT_MS 5000L
/* RFC 5321's limit on a forward path. */
#define MAX_ADDRESS_LEN 320

typedef struct souk_notification_mailer {
    CURL *curl;
    char *from_header; /* SOUK_SMTP_FROM as given: "souk@host" or "Souk <souk@host>" */
    char *from_path;   /* "<souk@host>" for MAIL FROM */
    char *domain;      /* of the sender: the right-hand side of Message-IDs */
    char curl_error[CURL_ERROR_SIZE];
} souk_notification_mailer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe; consumer threads start at once. */
static void curl_start(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        SOUK_LOG(SOUK_LOG_ERROR, "libcurl failed to initialise");
}

/* An address that can go into a header and an SMTP command as it is:
 * printable ASCII without spaces, angle brackets, commas or quotes, one @
 * with something on both sides. The schema's e-mail format is looser. */
static int address_ok(const char *s, size_t len)
{
    if (len == 0 || len > MAX_ADDRESS_LEN)
        return 0;
    size_t at = len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr("<>,;:\"()[]\\", c))
            return 0;
        if (c == '@') {
            if (at != len)
                return 0;
            at = i;
        }
    }
    return at > 0 && at + 1 < len;
}

static int header_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

void *souk_notification_thread_init(const souk_config *cfg)
{
    const char *url = souk_config_str(cfg, SOUK_CFG_SMTP_URL);
    if (!url[0])
        return NULL;
    if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
        SOUK_LOG(SOUK_LOG_ERROR, "SOUK_SMTP_URL must start with smtp:// or smtps://");
        return NULL;
    }
    /* "Name <addr>" or a bare address. */
    const char *from = souk_config_str(cfg, SOUK_CFG_SMTP_FROM);
    const char *addr = from;
    size_t addr_len = strlen(from);
    const char *open = strchr(from, '<');
    if (open) {
        const char *close = strchr(open, '>');
        addr = open + 1;
        addr_len = close ? (size_t)(close - addr) : 0;
    }
    if (!header_text_ok(from) || !address_ok(addr, addr_len)) {
        SOUK_LOG(SOUK_LOG_ERROR, "SOUK_SMTP_FROM is not a usable address: \"%s\"", from);
        return NULL;
    }
    pthread_once(&curl_once, curl_start);
    CURL *curl = curl_easy_init();
    if (!curl) {
        SOUK_LOG(SOUK_LOG_ERROR, "cannot create an SMTP client (curl_easy_init)");
        return NULL;
    }
    souk_notification_mailer *m = souk_calloc(1, sizeof *m);
    m->curl = curl;
    m->from_header = souk_strdup(from);
    m->from_path = souk_asprintf("<%.*s>", (int)addr_len, addr);
    const char *at = memchr(addr, '@', addr_len); /* address_ok: there is one */
    m->domain = souk_strndup(at + 1, addr_len - (size_t)(at + 1 - addr));
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, m->from_path);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, SMTP_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, SMTP_TIMEOUT_MS);
    /* A connection idle this long is not reused: servers drop idle clients,
     * and a send on a dropped connection would cost a retry. */
    curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, 30L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, m->curl_error);
    return m;
}

void souk_notification_thread_free(void *state)
{
    souk_notification_mailer *m = state;
    if (!m)
        return;
    curl_easy_cleanup(m->curl);
    free(m->domain);
    free(m->from_path);
    free(m->from_header);
    free(m);
}

/* What a notification says. Lines of body end in "\n". */
struct notice {
    const char *kind; /* order_completed or order_cancelled */
    char subject[192];
    char body[2048];
};

/* Detail text longer than this is cut (at a character boundary): it ends
 * up on one line of the e-mail, and RFC 5322 lines stay under 998 bytes. */
#define MAX_DETAIL_BYTES 600

/* Copies free text for a body line: control characters become spaces, and
 * it is cut at MAX_DETAIL_BYTES without splitting a UTF-8 sequence. */
static void clean_line(const char *text, char *out, size_t cap)
{
    size_t len = strlen(text);
    if (len > MAX_DETAIL_BYTES) {
        len = MAX_DETAIL_BYTES;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[len] = '\0';
}

/* "9.00 EUR": minor units by the currency's ISO 4217 exponent (2 unless
 * listed). */
static void format_amount(long long minor, const char *currency, char *out, size_t cap)
{
    static const char zero[] = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF";
    static const char three[] = "BHD IQD JOD KWD LYD OMR TND";
    int exponent = 2;
    if (strlen(currency) == 3 && strstr(zero, currency))
        exponent = 0;
    else if (strlen(currency) == 3 && strstr(three, currency))
        exponent = 3;
    if (exponent == 0)
        snprintf(out, cap, "%lld %s", minor, currency);
    else if (exponent == 3)
        snprintf(out, cap, "%lld.%03lld %s", minor / 1000, minor % 1000, currency);
    else
        snprintf(out, cap, "%lld.%02lld %s", minor / 100, minor % 100, currency);
}

static const char *reason_text(const char *reason)
{
    if (strcmp(reason, "out_of_stock") == 0)
        return "an item was out of stock";
    if (strcmp(reason, "payment_declined") == 0)
        return "the payment was declined";
    if (strcmp(reason, "shipping_failed") == 0)
        return "we cannot ship to the address given";
    if (strcmp(reason, "timed_out") == 0)
        return "it could not be completed in time";
    return "it could not be completed";
}

static void completed_notice(json_object *p, struct notice *n)
{
    const char *order_id = souk_saga_str(p, "order_id");
    char amount[64];
    format_amount(souk_saga_int(p, "total_minor"), souk_saga_str(p, "currency"), amount,
                  sizeof amount);
    n->kind = "order_completed";
    snprintf(n->subject, sizeof n->subject, "Your Souk order %s is completed", order_id);
    snprintf(n->body, sizeof n->body,
             "Hello,\n\n"
             "your order %s is completed: it is paid (%s) and on its way.\n\n"
             "Thank you for shopping at Souk.\n",
             order_id, amount);
}

static void cancelled_notice(json_object *p, struct notice *n)
{
    const char *order_id = souk_saga_str(p, "order_id");
    const char *reason = souk_saga_str(p, "reason");
    char detail[MAX_DETAIL_BYTES + 16];
    clean_line(souk_saga_str(p, "detail"), detail, sizeof detail);
    n->kind = "order_cancelled";
    snprintf(n->subject, sizeof n->subject, "Your Souk order %s was cancelled (%s)", order_id,
             reason);
    snprintf(n->body, sizeof n->body,
             "Hello,\n\n"
             "your order %s was cancelled (reason: %s): %s.\n"
             "%s%s%s"
             "Any payment taken for it is refunded.\n\n"
             "Souk\n",
             order_id, reason, reason_text(reason), detail[0] ? "Detail: " : "", detail,
             detail[0] ? "\n" : "");
}

/* "Sat, 22 Nov 2025 10:00:00 +0000" (RFC 5322), without the locale. */
static void rfc5322_date(char *out, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The RFC 5322 message, CRLF line ends; the caller frees it. The
 * Message-ID is the same on every attempt for the same outcome. */
static char *build_message(const souk_notification_mailer *m, const char *rcpt,
                           const char *order_id, const struct notice *n)
{
    char date[64];
    rfc5322_date(date, sizeof date);
    size_t lines = 0;
    for (const char *c = n->body; *c; c++)
        lines += *c == '\n';
    char *body = souk_malloc(strlen(n->body) + lines + 1);
    char *w = body;
    for (const char *c = n->body; *c; c++) {
        if (*c == '\n')
            *w++ = '\r';
        *w++ = *c;
    }
    *w = '\0';
    char *message =
        souk_asprintf("Date: %s\r\n"
                      "From: %s\r\n"
                      "To: <%s>\r\n"
                      "Subject: %s\r\n"
                      "Message-ID: <%s.%s@%s>\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n"
                      "\r\n"
                      "%s",
                      date, m->from_header, rcpt, n->subject, n->kind, order_id, m->domain, body);
    free(body);
    return message;
}

struct upload {
    const char *data;
    size_t len;
    size_t off;
};

static size_t read_upload(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct upload *u = userdata;
    size_t room = size * nitems;
    size_t n = u->len - u->off < room ? u->len - u->off : room;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* Sends message to rcpt. Returns SOUK_OK once the server accepted it,
 * SOUK_ETIMEOUT when it did not answer in time, SOUK_EIO for any other
 * failure (refused connection, an SMTP error reply), with err saying why. */
static souk_status mailer_send(souk_notification_mailer *m, const char *rcpt, const char *message,
                               char *err, size_t errlen)
{
    char *path = souk_asprintf("<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, path);
    souk_assert(rcpts != NULL); /* only fails when out of memory */
    struct upload up = {.data = message, .len = strlen(message), .off = 0};
    m->curl_error[0] = '\0';
    curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(m->curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(m->curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    CURLcode rc = curl_easy_perform(m->curl);
    long reply = 0;
    curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &reply);
    /* the handle outlives these */
    curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(m->curl, CURLOPT_READDATA, NULL);
    curl_slist_free_all(rcpts);
    free(path);
    if (rc == CURLE_OK)
        return SOUK_OK;
    const char *why = m->curl_error[0] ? m->curl_error : curl_easy_strerror(rc);
    if (reply > 0) /* the server's last SMTP reply code */
        snprintf(err, errlen, "smtp: %.180s (reply %ld)", why, reply);
    else
        snprintf(err, errlen, "smtp: %.180s", why);
    return rc == CURLE_OPERATION_TIMEDOUT ? SOUK_ETIMEOUT : SOUK_EIO;
}

/* Records the notification and delivers it, in the message's transaction. */
static souk_handler_result notify(souk_handler_ctx *ctx, const struct notice *n)
{
    const char *oid = ctx->msg->correlation_id;
    const char *mid = ctx->msg->message_id;
    const char *order_id = souk_saga_str(ctx->payload, "order_id");
    const char *email = souk_saga_str(ctx->payload, "customer_email");
    int by_mail = souk_config_str(ctx->cfg, SOUK_CFG_SMTP_URL)[0] && email[0];
    if (by_mail && !address_ok(email, strlen(email))) {
        SOUK_LOG_MSG(SOUK_LOG_WARN, oid, mid,
                     "customer_email is not usable as an SMTP recipient; logging the "
                     "notification instead kind=%s",
                     n->kind);
        by_mail = 0;
    }
    char id[37];
    souk_uuid_v4(id);
    const char *params[8] = {id,
                             order_id,
                             souk_saga_str(ctx->payload, "customer_id"),
                             n->kind,
                             n->subject,
                             n->body,
                             by_mail ? "email" : "log",
                             by_mail ? email : NULL};
    PGresult *res = souk_saga_exec(ctx,
                                   "INSERT INTO notifications (id, order_id, customer_id, kind, "
                                   "subject, body, channel, recipient) VALUES ($1, $2::uuid, "
                                   "$3::uuid, $4, $5, $6, $7, $8) "
                                   "ON CONFLICT (order_id, kind) DO NOTHING",
                                   8, params);
    if (!res)
        return souk_saga_db_failure(ctx);
    int created = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!created) {
        SOUK_LOG_MSG(SOUK_LOG_DEBUG, oid, mid, "notification already sent kind=%s", n->kind);
        return SOUK_HANDLE_OK;
    }
    if (by_mail) {
        souk_notification_mailer *m = ctx->service_state;
        if (!m) {
            snprintf(ctx->error, sizeof ctx->error,
                     "no SMTP client (see the worker's start-up errors)");
            return SOUK_HANDLE_RETRY;
        }
        char *message = build_message(m, email, order_id, n);
        char err[256];
        souk_status st = mailer_send(m, email, message, err, sizeof err);
        free(message);
        if (st != SOUK_OK) {
            snprintf(ctx->error, sizeof ctx->error, "e-mail not sent: %.230s", err);
            return SOUK_HANDLE_RETRY; /* the runtime rolls the row back */
        }
    }
    const char *up[1] = {id};
    res = souk_saga_exec(
        ctx, "UPDATE notifications SET delivered_at = clock_timestamp() WHERE id = $1::uuid", 1,
        up);
    if (!res)
        return souk_saga_db_failure(ctx);
    PQclear(res);
    SOUK_LOG_MSG(SOUK_LOG_INFO, oid, mid, "notification %s kind=%s channel=%s subject=\"%s\"",
                 by_mail ? "e-mailed" : "logged", n->kind, by_mail ? "email" : "log", n->subject);
    return SOUK_HANDLE_OK;
}

static souk_handler_result on_order_completed(souk_handler_ctx *ctx)
{
    struct notice n;
    completed_notice(ctx->payload, &n);
    return notify(ctx, &n);
}

static souk_handler_result on_order_cancelled(souk_handler_ctx *ctx)
{
    struct notice n;
    cancelled_notice(ctx->payload, &n);
    return notify(ctx, &n);
}

void souk_notification_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT])
{
    handlers[SOUK_EVENT_ORDER_COMPLETED] = on_order_completed;
    handlers[SOUK_EVENT_ORDER_CANCELLED] = on_order_cancelled;
}
