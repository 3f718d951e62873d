/* The vocabulary shared by the souk-load modules: the options of one run,
 * the world its setup created through the public API (customers, products)
 * and what happened to each checkout. Each module has its own header for its
 * functions; this one holds only these plain structs. */
#ifndef SOUK_LOAD_H
#define SOUK_LOAD_H

#include <stddef.h>

#include "bench/load_stats.h"

struct load_opts {
    const char *url;
    int customers;
    int products;
    long stock;
    int concurrency; /* closed loop when > 0 */
    double rate;     /* open loop when > 0 */
    double duration_s;
    double decline_share;   /* tok_decline */
    double oos_share;       /* the zero-stock product */
    double ship_fail_share; /* country AQ */
    long poll_ms;
    long wait_s; /* long poll seconds; 0: poll every poll_ms */
    double order_timeout_s;
    double grace_s;
    int connections;
    int json;
    const char *admin_email;
    const char *admin_password;
    const char *pg;
    const char *mgmt_url;
    const char *mgmt_user;
    const char *mgmt_password;
    const char *rss_pids;
    const char *rss_from;
    unsigned long long seed;
    const char *raw_pg;
    int raw_pg_connections;
    double raw_pg_seconds;
};

struct load_product {
    char id[37];
    long initial;   /* on_hand set at setup */
    long completed; /* orders of it observed COMPLETED */
};

/* What the setup created. The last product has no stock. */
struct load_world {
    char run_id[24];
    char *admin_token;
    char **tokens;
    int customer_count;
    struct load_product *products;
    int product_count;
};

enum load_scenario { LOAD_HAPPY, LOAD_DECLINE, LOAD_OUT_OF_STOCK, LOAD_SHIP_FAIL, LOAD_SCENARIOS };

enum load_outcome {
    LOAD_RUNNING,
    LOAD_COMPLETED,
    LOAD_CANCELLED,
    LOAD_STUCK,        /* accepted, not final within the per-order timeout */
    LOAD_NOT_ACCEPTED, /* the checkout request never got its 202 */
};

/* Cancel reasons as GET /orders/{id} reports them; the last is anything else. */
enum load_reason {
    LOAD_OUT_OF_STOCK_REASON,
    LOAD_PAYMENT_DECLINED,
    LOAD_SHIPPING_FAILED,
    LOAD_TIMED_OUT,
    LOAD_OTHER_REASON,
    LOAD_REASONS
};

struct load_driver;

/* One checkout, from its scheduled start to its final state. */
struct load_order {
    struct load_driver *driver;
    char order_id[37];
    char key[64];
    int customer;
    int product;
    int slot; /* closed-loop slot, or -1 */
    enum load_scenario scenario;
    enum load_outcome outcome;
    enum load_reason reason;
    double scheduled; /* monotonic seconds */
    double next_at;   /* when to send the next request */
    double final_at;
    int busy;          /* a request is in flight */
    int attempts;      /* of the POST /orders */
    int poll_failures; /* consecutive failed polls */
    long long total_minor;
};

struct load_results {
    struct load_order **orders;
    size_t count;
    size_t cap;
    long started;
    long accepted;
    long completed;
    long completed_in_window;
    long cancelled[LOAD_REASONS];
    long stuck;
    long not_accepted;
    long unexpected;           /* final state other than the scenario's expected one */
    long long completed_minor; /* sum of total_minor of COMPLETED orders */
    double window_s;
    load_samples saga_ms; /* scheduled start -> final state observed */
};

#endif
