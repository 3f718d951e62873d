/* The invariants of a souk-load run (see load_checks.h). */
#include "bench/load_checks.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/load_run.h"
#include "bench/load_setup.h"
#include "core/mem.h"
#include "events/mgmt.h"

/* The database checks' names come from load_db_checks. */
static const char *const check_names[LOAD_CHECKS] = {[LOAD_CHECK_ACCEPTED] = "checkouts_accepted",
                                                     [LOAD_CHECK_FINAL] = "orders_final",
                                                     [LOAD_CHECK_OUTCOMES] = "outcomes_expected",
                                                     [LOAD_CHECK_STOCK] = "no_oversell",
                                                     [LOAD_CHECK_MONEY] = "money_balances",
                                                     [LOAD_CHECK_OUTBOX] = "outboxes_drained",
                                                     [LOAD_CHECK_DLQ] = "dlqs_empty"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void set(struct load_check *c, enum load_check_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set(struct load_check *c, enum load_check_state state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->state = state;
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

/* Appends to a check's detail, keeping it bounded. */
static void append(struct load_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void append(struct load_check *c, const char *fmt, ...)
{
    size_t len = strlen(c->detail);
    if (len + 1 >= sizeof c->detail)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail + len, sizeof c->detail - len, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------ management API */

static int queue_depths_once(const struct load_opts *o, struct load_queue_depth **out, int *count,
                             int *complete, char *err, size_t errlen);

/* Depths of every queue of the souk vhost, or -1 with err set. Right after
 * a broker start the management API lists queues before it has their
 * statistics; waits (up to 15 s) until every queue has a depth. */
static int queue_depths(const struct load_opts *o, struct load_queue_depth **out, int *count,
                        char *err, size_t errlen)
{
    for (int attempt = 0;; attempt++) {
        int complete = 0;
        if (queue_depths_once(o, out, count, &complete, err, errlen) != 0)
            return -1;
        if (complete || attempt == 30)
            return 0;
        free(*out);
        *out = NULL;
        struct timespec ts = {0, 500000000L};
        nanosleep(&ts, NULL);
    }
}

static int queue_depths_once(const struct load_opts *o, struct load_queue_depth **out, int *count,
                             int *complete, char *err, size_t errlen)
{
    souk_mgmt_target api = {.url = o->mgmt_url, .user = o->mgmt_user, .password = o->mgmt_password};
    json_object *doc = NULL;
    if (souk_mgmt_get(&api, "/queues/souk?columns=name,messages", &doc, err, errlen) != SOUK_OK)
        return -1;
    if (!json_object_is_type(doc, json_type_array)) {
        snprintf(err, errlen, "management API %s answered no queue list", o->mgmt_url);
        json_object_put(doc);
        return -1;
    }
    int n = (int)json_object_array_length(doc);
    *out = souk_calloc((size_t)(n > 0 ? n : 1), sizeof **out);
    *count = n;
    *complete = 1;
    for (int i = 0; i < n; i++) {
        json_object *q = json_object_array_get_idx(doc, (size_t)i);
        if (!json_object_object_get_ex(q, "messages", NULL))
            *complete = 0;
        snprintf((*out)[i].name, sizeof(*out)[i].name, "%s",
                 json_object_get_string(json_object_object_get(q, "name")));
        (*out)[i].messages = (long)json_object_get_int64(json_object_object_get(q, "messages"));
    }
    json_object_put(doc);
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

void load_checks_start(load_checks *k, const struct load_opts *o)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; i < LOAD_CHECKS; i++)
        k->c[i].name = check_names[i];
    for (int i = 0; i < LOAD_DB_CHECKS; i++)
        k->c[LOAD_CHECK_DB_FIRST + i].name = load_db_checks[i].name;
    char err[256];
    if (o->mgmt_url && o->mgmt_url[0])
        k->before_known = queue_depths(o, &k->before, &k->before_count, err, sizeof err) == 0;
}

static long depth_before(const load_checks *k, const char *name)
{
    for (int i = 0; i < k->before_count; i++)
        if (strcmp(k->before[i].name, name) == 0)
            return k->before[i].messages;
    return 0;
}

static void check_dlqs(load_checks *k, const struct load_opts *o)
{
    struct load_check *c = &k->c[LOAD_CHECK_DLQ];
    if (!o->mgmt_url || !o->mgmt_url[0]) {
        set(c, LOAD_CHECK_SKIPPED, "no --mgmt-url");
        return;
    }
    struct load_queue_depth *now = NULL;
    int n = 0;
    char err[256];
    if (queue_depths(o, &now, &n, err, sizeof err) != 0) {
        set(c, LOAD_CHECK_FAILED, "%s", err);
        return;
    }
    set(c, LOAD_CHECK_PASSED, "every *.dlq as before the run");
    long waiting = 0;
    for (int i = 0; i < n; i++) {
        if (strstr(now[i].name, ".retry."))
            waiting += now[i].messages;
        if (!ends_with(now[i].name, ".dlq"))
            continue;
        long before = depth_before(k, now[i].name);
        if (now[i].messages > before) {
            if (c->state == LOAD_CHECK_PASSED)
                set(c, LOAD_CHECK_FAILED, "dead letters during the run:");
            append(c, " %s %ld (was %ld)", now[i].name, now[i].messages, before);
        } else if (now[i].messages > 0) {
            append(c, "; %s holds %ld from before the run", now[i].name, now[i].messages);
        }
    }
    if (!k->before_known)
        append(c, "; depths before the run unknown");
    if (waiting > 0)
        append(c, "; %ld message(s) waiting in retry queues", waiting);
    free(now);
}

/* ---------------------------------------------------------------- stock */

/* sold must equal the orders seen COMPLETED; with stuck orders (which may
 * complete after their timeout) it may only exceed it. */
static int stock_ok(const struct load_product *p, long long on_hand, long long reserved,
                    long long sold, int any_stuck)
{
    return on_hand >= 0 && on_hand + sold == p->initial && reserved == 0 &&
           (any_stuck ? sold >= p->completed : sold == p->completed);
}

static int check_stock(struct load_check *c, const struct load_world *w, load_http *h,
                       int any_stuck)
{
    int n = w->product_count;
    long long *v = souk_calloc((size_t)n * 3, sizeof *v);
    long long *on_hand = v, *reserved = v + n, *sold = v + 2 * n;
    if (load_setup_read_stock(h, w, on_hand, reserved, sold) != 0) {
        set(c, LOAD_CHECK_FAILED, "could not read the stock of every product");
        free(v);
        return 0;
    }
    set(c, LOAD_CHECK_PASSED, "%d products: on_hand + sold = initial, reserved = 0", n);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const struct load_product *p = &w->products[i];
        if (stock_ok(p, on_hand[i], reserved[i], sold[i], any_stuck))
            continue;
        if (bad++ == 0)
            set(c, LOAD_CHECK_FAILED, "products off:");
        if (bad <= 4)
            append(c, " %s on_hand %lld reserved %lld sold %lld (initial %ld, seen completed %ld);",
                   p->id, on_hand[i], reserved[i], sold[i], p->initial, p->completed);
    }
    free(v);
    return bad == 0;
}

/* ------------------------------------------------------------- database */

static int check_money(struct load_check *c, load_db *db, const struct load_results *r)
{
    if (!db) {
        set(c, LOAD_CHECK_SKIPPED, "needs --pg");
        return 1;
    }
    long long paid = 0, owed = 0;
    char err[256];
    if (load_db_money(db, r, &paid, &owed, err, sizeof err) != 0) {
        set(c, LOAD_CHECK_FAILED, "query failed: %s", err);
        return 0;
    }
    set(c, paid == owed ? LOAD_CHECK_PASSED : LOAD_CHECK_FAILED,
        "captured - refunded %lld minor, COMPLETED orders' total %lld minor "
        "(the client saw %lld completed)",
        paid, owed, r->completed_minor);
    return paid == owed;
}

/* One of load_db_checks: passed when it found no violation; the detail
 * counts what it examined and names each violation and one offender. */
static int check_db(struct load_check *c, load_db *db, const struct load_db_check *check,
                    const struct load_results *r)
{
    if (!db) {
        set(c, LOAD_CHECK_SKIPPED, "needs --pg");
        return 1;
    }
    struct load_db_finding f;
    char err[256];
    if (load_db_check_run(db, check, r, &f, err, sizeof err) != 0) {
        set(c, LOAD_CHECK_FAILED, "query failed: %s", err);
        return 0;
    }
    set(c, LOAD_CHECK_PASSED, "%lld %s, none off", f.examined, check->examined);
    for (int i = 0; i < check->violations; i++) {
        if (f.count[i] == 0)
            continue;
        if (c->state == LOAD_CHECK_PASSED)
            set(c, LOAD_CHECK_FAILED, "%lld %s:", f.examined, check->examined);
        append(c, " %lld %s;", f.count[i], check->violation[i]);
    }
    if (c->state == LOAD_CHECK_FAILED && f.sample[0])
        append(c, " e.g. order %s", f.sample);
    return c->state == LOAD_CHECK_PASSED;
}

static int check_outbox(struct load_check *c, load_db *db)
{
    if (!db) {
        set(c, LOAD_CHECK_SKIPPED, "needs --pg");
        return 1;
    }
    long pending[LOAD_OUTBOX_SCHEMAS];
    char err[256];
    if (load_db_pending_outbox(db, pending, err, sizeof err) != 0) {
        set(c, LOAD_CHECK_FAILED, "query failed: %s", err);
        return 0;
    }
    set(c, LOAD_CHECK_PASSED,
        "no unsent rows in the cart, orders, inventory, payment and "
        "shipping outboxes");
    for (int i = 0; i < LOAD_OUTBOX_SCHEMAS; i++) {
        if (pending[i] == 0)
            continue;
        if (c->state == LOAD_CHECK_PASSED)
            set(c, LOAD_CHECK_FAILED, "unsent rows:");
        append(c, " %s.outbox %ld", load_outbox_schemas[i], pending[i]);
    }
    return c->state == LOAD_CHECK_PASSED;
}

static const char *const scenario_names[LOAD_SCENARIOS] = {"happy", "tok_decline", "out of stock",
                                                           "country AQ"};

static void check_outcomes(struct load_check *c, const struct load_results *r)
{
    long final = r->completed;
    for (int i = 0; i < LOAD_REASONS; i++)
        final += r->cancelled[i];
    set(c, r->unexpected == 0 ? LOAD_CHECK_PASSED : LOAD_CHECK_FAILED,
        "%ld of %ld final orders ended as their scenario says", final - r->unexpected, final);
    int shown = 0;
    for (size_t i = 0; i < r->count && shown < 3 && r->unexpected > 0; i++) {
        const struct load_order *o = r->orders[i];
        if (!load_run_expected(o) &&
            (o->outcome == LOAD_COMPLETED || o->outcome == LOAD_CANCELLED)) {
            append(c, "%s %s (%s) %s", shown ? "," : ":", o->order_id, scenario_names[o->scenario],
                   o->outcome == LOAD_COMPLETED ? "COMPLETED" : load_reason_name(o->reason));
            shown++;
        }
    }
}

static void check_orders(load_checks *k, const struct load_results *r)
{
    check_outcomes(&k->c[LOAD_CHECK_OUTCOMES], r);
    set(&k->c[LOAD_CHECK_ACCEPTED],
        r->not_accepted == 0 && r->started > 0 ? LOAD_CHECK_PASSED : LOAD_CHECK_FAILED,
        "%ld of %ld checkouts accepted", r->accepted, r->started);
    set(&k->c[LOAD_CHECK_FINAL], r->stuck == 0 ? LOAD_CHECK_PASSED : LOAD_CHECK_FAILED,
        "%ld of %ld accepted orders final, %ld stuck past the per-order timeout",
        r->accepted - r->stuck, r->accepted, r->stuck);
    if (r->stuck > 0) {
        int shown = 0;
        for (size_t i = 0; i < r->count && shown < 3; i++) {
            if (r->orders[i]->outcome == LOAD_STUCK) {
                append(&k->c[LOAD_CHECK_FINAL], "%s %s", shown ? "," : ":", r->orders[i]->order_id);
                shown++;
            }
        }
    }
}

static double last_final(const struct load_results *r)
{
    double t = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->orders[i]->final_at > t)
            t = r->orders[i]->final_at;
    return t;
}

int load_checks_run(load_checks *k, const struct load_opts *o, const struct load_world *w,
                    load_http *h, load_db *db, const struct load_results *r)
{
    check_orders(k, r);
    double deadline = now_s() + o->grace_s;
    for (;;) {
        int ok = check_stock(&k->c[LOAD_CHECK_STOCK], w, h, r->stuck > 0);
        ok &= check_money(&k->c[LOAD_CHECK_MONEY], db, r);
        for (int i = 0; i < LOAD_DB_CHECKS; i++)
            ok &= check_db(&k->c[LOAD_CHECK_DB_FIRST + i], db, &load_db_checks[i], r);
        ok &= check_outbox(&k->c[LOAD_CHECK_OUTBOX], db);
        if (ok || now_s() >= deadline)
            break;
        sleep_s(0.5);
    }
    /* The management API's figures trail by its statistics interval (1 s). */
    sleep_s(last_final(r) + 2.0 - now_s());
    check_dlqs(k, o);
    int all = 1;
    for (int i = 0; i < LOAD_CHECKS; i++)
        all &= k->c[i].state != LOAD_CHECK_FAILED;
    return all;
}

void load_checks_free(load_checks *k)
{
    free(k->before);
    k->before = NULL;
    k->before_count = 0;
}
