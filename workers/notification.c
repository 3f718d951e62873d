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
