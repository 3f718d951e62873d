/* souk-load: scripted checkout load against a running Souk, through the
 * public HTTP API only, followed by invariant checks. One process drives
 * every connection through libcurl's multi interface. Phases:
 *   1. setup (load_setup.c): admin login, products and stock, customers;
 *   2. checkouts (load_run.c): closed loop (--concurrency) or open loop
 *      (--rate) for --duration seconds, each order followed to its final
 *      state, a progress line on stderr every second;
 *   3. checks (load_checks.c): no oversell, every order final, money
 *      balances, DLQs, outboxes; then the figures (load_report.c).
 * --raw-pg-rate measures PostgreSQL alone instead (load_rawpg.c).
 * Exit status: 0 every invariant holds, 1 one failed, 2 usage or setup. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load.h"
#include "bench/load_checks.h"
#include "bench/load_db.h"
#include "bench/load_http.h"
#include "bench/load_rawpg.h"
#include "bench/load_report.h"
#include "bench/load_rss.h"
#include "bench/load_run.h"
#include "bench/load_setup.h"

static const char USAGE[] =
    "usage: souk-load [options]\n"
    "  --url URL               gateway (default http://127.0.0.1:8080)\n"
    "  --customers N           customers registered for the run (default 50)\n"
    "  --products M            products with stock (default 20; plus one without stock)\n"
    "  --stock S               initial stock per product (default 100000)\n"
    "  --concurrency C         closed loop: C checkouts in flight (default 16)\n"
    "  --rate R                open loop: R checkouts/s, latency from each scheduled start\n"
    "  --duration SECONDS      how long new checkouts start (default 30)\n"
    "  --decline-share F       share paid with tok_decline (default 0.05)\n"
    "  --oos-share F           share ordering the product without stock (default 0.05)\n"
    "  --ship-fail-share F     share shipped to AQ, which fails (default 0.05)\n"
    "  --wait SECONDS          follow each order by long poll, GET /orders/{id}?wait=SECONDS\n"
    "                          (default 10; 0 polls every --poll-ms instead)\n"
    "  --poll-ms MS            GET /orders/{id} interval without long polls (default 100)\n"
    "  --order-timeout SECONDS an order not final by then is stuck (default 60)\n"
    "  --grace SECONDS         how long the checks wait for the system to settle (default 15)\n"
    "  --connections N         keep-alive connections to the gateway (default: the\n"
    "                          concurrency + 16, at least 32; a long poll holds one)\n"
    "  --json                  print the figures as one JSON object on stdout\n"
    "  --admin-email E, --admin-password P   (default $SOUK_ADMIN_EMAIL/$SOUK_ADMIN_PASSWORD,\n"
    "                          else admin@souk.local / souk-admin-password)\n"
    "  --pg CONNINFO           superuser libpq conninfo for the money and outbox checks\n"
    "                          (default $SOUK_LOAD_PG; without it they are skipped)\n"
    "  --mgmt-url URL          RabbitMQ management API (default http://127.0.0.1:15672;\n"
    "                          \"\" skips the DLQ check)\n"
    "  --mgmt-user U, --mgmt-password P      (default souk-admin / souk-admin)\n"
    "  --rss-pids name:pid,... processes whose peak RSS to report\n"
    "  --rss-from DIR          the same from DIR/<name>.pid files\n"
    "  --seed N                seed of the random choices (default 1)\n"
    "  --raw-pg-rate CONNINFO  only measure raw PostgreSQL transactions/s and exit\n"
    "  --raw-pg-connections N  (default 8)   --raw-pg-seconds S  (default 8)\n";

enum {
    OPT_URL = 256,
    OPT_CUSTOMERS,
    OPT_PRODUCTS,
    OPT_STOCK,
    OPT_CONCURRENCY,
    OPT_RATE,
    OPT_DURATION,
    OPT_DECLINE,
    OPT_OOS,
    OPT_SHIP_FAIL,
    OPT_POLL,
    OPT_WAIT,
    OPT_ORDER_TIMEOUT,
    OPT_GRACE,
    OPT_CONNECTIONS,
    OPT_JSON,
    OPT_ADMIN_EMAIL,
    OPT_ADMIN_PASSWORD,
    OPT_PG,
    OPT_MGMT_URL,
    OPT_MGMT_USER,
    OPT_MGMT_PASSWORD,
    OPT_RSS_PIDS,
    OPT_RSS_FROM,
    OPT_SEED,
    OPT_RAW_PG,
    OPT_RAW_PG_CONNECTIONS,
    OPT_RAW_PG_SECONDS,
    OPT_HELP,
};

static const struct option OPTIONS[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"customers", required_argument, NULL, OPT_CUSTOMERS},
    {"products", required_argument, NULL, OPT_PRODUCTS},
    {"stock", required_argument, NULL, OPT_STOCK},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"decline-share", required_argument, NULL, OPT_DECLINE},
    {"oos-share", required_argument, NULL, OPT_OOS},
    {"ship-fail-share", required_argument, NULL, OPT_SHIP_FAIL},
    {"poll-ms", required_argument, NULL, OPT_POLL},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"order-timeout", required_argument, NULL, OPT_ORDER_TIMEOUT},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"json", no_argument, NULL, OPT_JSON},
    {"admin-email", required_argument, NULL, OPT_ADMIN_EMAIL},
    {"admin-password", required_argument, NULL, OPT_ADMIN_PASSWORD},
    {"pg", required_argument, NULL, OPT_PG},
    {"mgmt-url", required_argument, NULL, OPT_MGMT_URL},
    {"mgmt-user", required_argument, NULL, OPT_MGMT_USER},
    {"mgmt-password", required_argument, NULL, OPT_MGMT_PASSWORD},
    {"rss-pids", required_argument, NULL, OPT_RSS_PIDS},
    {"rss-from", required_argument, NULL, OPT_RSS_FROM},
    {"seed", required_argument, NULL, OPT_SEED},
    {"raw-pg-rate", required_argument, NULL, OPT_RAW_PG},
    {"raw-pg-connections", required_argument, NULL, OPT_RAW_PG_CONNECTIONS},
    {"raw-pg-seconds", required_argument, NULL, OPT_RAW_PG_SECONDS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

static void defaults(struct load_opts *o)
{
    *o = (struct load_opts){
        .url = "http://127.0.0.1:8080",
        .customers = 50,
        .products = 20,
        .stock = 100000,
        .duration_s = 30,
        .decline_share = 0.05,
        .oos_share = 0.05,
        .ship_fail_share = 0.05,
        .poll_ms = 100,
        .wait_s = 10,
        .order_timeout_s = 60,
        .grace_s = 15,
        .connections = 0, /* see effective_connections */
        .admin_email = env_or("SOUK_ADMIN_EMAIL", "admin@souk.local"),
        .admin_password = env_or("SOUK_ADMIN_PASSWORD", "souk-admin-password"),
        .pg = env_or("SOUK_LOAD_PG", NULL),
        .mgmt_url = "http://127.0.0.1:15672",
        .mgmt_user = "souk-admin",
        .mgmt_password = "souk-admin",
        .seed = 1,
        .raw_pg_connections = 8,
        .raw_pg_seconds = 8,
    };
}

/* Whole-string numbers within [lo, hi]; 0 on success. */
static int parse_long(const char *name, const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!text[0] || *end || v < lo || v > hi) {
        fprintf(stderr, "souk-load: --%s wants an integer from %ld to %ld, not \"%s\"\n", name, lo,
                hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *name, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (!text[0] || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "souk-load: --%s wants a number from %g to %g, not \"%s\"\n", name, lo, hi,
                text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_int(const char *name, const char *text, long lo, long hi, int *out)
{
    long v = 0;
    int rc = parse_long(name, text, lo, hi, &v);
    *out = (int)v;
    return rc;
}

/* Applies one option; 0 on success, -1 on a bad value, 1 for --help. */
static int apply(struct load_opts *o, int opt, const char *arg)
{
    long seed = 0;
    switch (opt) {
    case OPT_URL: o->url = arg; return 0;
    case OPT_CUSTOMERS: return parse_int("customers", arg, 1, 100000, &o->customers);
    case OPT_PRODUCTS: return parse_int("products", arg, 1, 10000, &o->products);
    case OPT_STOCK: return parse_long("stock", arg, 0, 1000000000L, &o->stock);
    case OPT_CONCURRENCY: return parse_int("concurrency", arg, 1, 100000, &o->concurrency);
    case OPT_RATE: return parse_double("rate", arg, 0.001, 1e6, &o->rate);
    case OPT_DURATION: return parse_double("duration", arg, 0.1, 86400, &o->duration_s);
    case OPT_DECLINE: return parse_double("decline-share", arg, 0, 1, &o->decline_share);
    case OPT_OOS: return parse_double("oos-share", arg, 0, 1, &o->oos_share);
    case OPT_SHIP_FAIL: return parse_double("ship-fail-share", arg, 0, 1, &o->ship_fail_share);
    case OPT_POLL: return parse_long("poll-ms", arg, 1, 60000, &o->poll_ms);
    case OPT_WAIT: return parse_long("wait", arg, 0, 30, &o->wait_s);
    case OPT_ORDER_TIMEOUT: return parse_double("order-timeout", arg, 1, 3600, &o->order_timeout_s);
    case OPT_GRACE: return parse_double("grace", arg, 0, 3600, &o->grace_s);
    case OPT_CONNECTIONS: return parse_int("connections", arg, 1, 10000, &o->connections);
    case OPT_JSON: o->json = 1; return 0;
    case OPT_ADMIN_EMAIL: o->admin_email = arg; return 0;
    case OPT_ADMIN_PASSWORD: o->admin_password = arg; return 0;
    case OPT_PG: o->pg = arg[0] ? arg : NULL; return 0;
    case OPT_MGMT_URL: o->mgmt_url = arg; return 0;
    case OPT_MGMT_USER: o->mgmt_user = arg; return 0;
    case OPT_MGMT_PASSWORD: o->mgmt_password = arg; return 0;
    case OPT_RSS_PIDS: o->rss_pids = arg; return 0;
    case OPT_RSS_FROM: o->rss_from = arg; return 0;
    case OPT_SEED:
        if (parse_long("seed", arg, 0, 2147483647L, &seed) != 0)
            return -1;
        o->seed = (unsigned long long)seed;
        return 0;
    case OPT_RAW_PG: o->raw_pg = arg; return 0;
    case OPT_RAW_PG_CONNECTIONS:
        return parse_int("raw-pg-connections", arg, 1, 64, &o->raw_pg_connections);
    case OPT_RAW_PG_SECONDS:
        return parse_double("raw-pg-seconds", arg, 0.5, 3600, &o->raw_pg_seconds);
    case OPT_HELP: return 1;
    default: return -1;
    }
}

/* Returns 0, 1 after --help, or -1 on a usage error. */
static int parse_options(struct load_opts *o, int argc, char **argv)
{
    defaults(o);
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
        int rc = apply(o, opt, optarg);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "souk-load: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (o->rate > 0 && o->concurrency > 0) {
        fprintf(stderr,
                "souk-load: give --concurrency (closed loop) or --rate (open loop), not both\n");
        return -1;
    }
    if (o->rate <= 0 && o->concurrency <= 0)
        o->concurrency = 16;
    if (o->decline_share + o->oos_share + o->ship_fail_share > 1.0 + 1e-9) {
        fprintf(stderr, "souk-load: the three shares add up to more than 1\n");
        return -1;
    }
    return 0;
}

static int raw_pg_mode(const struct load_opts *o)
{
    char err[512];
    double rate =
        load_rawpg_rate(o->raw_pg, o->raw_pg_connections, o->raw_pg_seconds, err, sizeof err);
    if (rate < 0) {
        fprintf(stderr, "souk-load: raw PostgreSQL rate: %s\n", err);
        return 2;
    }
    if (o->json)
        printf("{\"raw_pg_tx_per_s\": %.1f, \"connections\": %d, \"seconds\": %.1f}\n", rate,
               o->raw_pg_connections, o->raw_pg_seconds);
    else
        printf("raw PostgreSQL: %.0f transactions/s (BEGIN; INSERT inbox; UPDATE; INSERT outbox; "
               "COMMIT; %d connections, %.0f s)\n",
               rate, o->raw_pg_connections, o->raw_pg_seconds);
    return 0;
}

static void measure_work(load_db *db, struct load_work *work)
{
    char err[256];
    work->known = db && load_db_work(db, work->inbox, work->outbox, err, sizeof err) == 0;
    if (db && !work->known)
        fprintf(stderr, "souk-load: counting inbox/outbox rows failed: %s\n", err);
}

/* The whole run once the options are known. */
static int load_main(const struct load_opts *o)
{
    char err[512];
    load_rss rss;
    if (load_rss_init(&rss, o->rss_pids, o->rss_from, err, sizeof err) != 0) {
        fprintf(stderr, "souk-load: %s\n", err);
        return 2;
    }
    load_db *db = NULL;
    if (o->pg && !(db = load_db_open(o->pg, err, sizeof err))) {
        fprintf(stderr, "souk-load: %s", err);
        load_rss_free(&rss);
        return 2;
    }
    load_http *h = load_http_new(o->url, o->connections, 30000 + o->wait_s * 1000);
    struct load_world w;
    struct load_results r = {0};
    load_checks checks;
    int rc = 2;
    fprintf(stderr, "souk-load: setting up %d customers and %d products at %s\n", o->customers,
            o->products + 1, o->url);
    if (load_setup(o, h, &w) != 0)
        goto out;
    load_http_reset_stats(h); /* the figures are those of the checkouts */
    load_checks_start(&checks, o);
    if (db && load_db_mark_start(db) != 0)
        fprintf(stderr, "souk-load: could not read the database clock\n");
    load_run_checkouts(o, &w, h, &rss, &r);
    load_rss_finish(&rss);
    struct load_work work = {0};
    int ok = load_checks_run(&checks, o, &w, h, db, &r);
    measure_work(db, &work);
    struct load_report rep = {
        .o = o, .w = &w, .r = &r, .h = h, .rss = &rss, .checks = &checks, .work = &work, .ok = ok};
    if (o->json) {
        load_report_json(stdout, &rep);
        load_report_failures(stderr, &rep);
    } else {
        load_report_text(stdout, &rep);
    }
    rc = ok ? 0 : 1;
    load_checks_free(&checks);
out:
    load_results_free(&r);
    load_world_free(&w);
    load_http_free(h);
    load_db_close(db);
    load_rss_free(&rss);
    return rc;
}

int main(int argc, char **argv)
{
    struct load_opts o;
    int parsed = parse_options(&o, argc, argv);
    if (parsed != 0) {
        fputs(USAGE, parsed > 0 ? stdout : stderr);
        return parsed > 0 ? 0 : 2;
    }
    if (o.raw_pg)
        return raw_pg_mode(&o);
    if (o.connections == 0) {
        /* Every order in flight may hold a connection in a long poll. */
        int in_flight = o.concurrency > 0 ? o.concurrency : (int)(o.rate * 2);
        o.connections = in_flight + 16 > 32 ? in_flight + 16 : 32;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = load_main(&o);
    curl_global_cleanup();
    return rc;
}
