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
#include "events/dlq.h"

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

static void show_one(const amqp_message_t *message, const souk_envelope *env, void *arg)
{
    json_object_array_add((json_object *)arg, souk_dlq_message_json(message, env));
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
        souk_dlq_peek_result peeked;
        printf("MESSAGE_ID\tTYPE\tORDER_ID\tATTEMPTS\tFIRST_FAILURE\tERROR\n");
        st = souk_dlq_peek(dlq, count, list_one, NULL, &peeked);
    } else if (strcmp(action, "show") == 0) {
        souk_dlq_peek_result peeked;
        json_object *all = json_object_new_array();
        st = souk_dlq_peek(dlq, count, show_one, all, &peeked);
        if (st == SOUK_OK)
            printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
    } else if (strcmp(action, "replay") == 0) {
        souk_dlq_replay_result r;
        souk_dlq_replay_opts opts = {.count = count};
        st = souk_dlq_replay(dlq, &opts, &r);
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
