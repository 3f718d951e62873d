/* The checkout phase of souk-load: scheduling, the order state machine and
 * the progress line (see load_run.h). */
#include "bench/load_run.h"

#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

/* Retries of a POST /orders back off exponentially from the first delay
 * up to the cap (a Retry-After wins, up to its own cap). */
#define RETRY_FIRST_S     0.1
#define RETRY_CAP_S       2.0
#define RETRY_AFTER_CAP_S 10.0

struct load_driver {
    const struct load_opts *o;
    struct load_world *w;
    load_http *h;
    load_rss *rss;
    struct load_results *r;
    struct load_order **active;
    size_t active_count;
    size_t active_cap;
    double t0;
    double end;
    unsigned long long rng;
    long seq;
    long completed_at_tick;
    long errors_at_tick;
    char order_path[80];
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted)
        _exit(130);
    interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible choices from --seed. */
static double random_unit(struct load_driver *d)
{
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return (double)((d->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int random_below(struct load_driver *d, int n)
{
    int i = (int)(random_unit(d) * n);
    return i < n ? i : n - 1;
}

static const char *const reason_names[LOAD_REASONS] = {"out_of_stock", "payment_declined",
                                                       "shipping_failed", "timed_out", "other"};

const char *load_reason_name(enum load_reason reason)
{
    return (unsigned)reason < LOAD_REASONS ? reason_names[reason] : "other";
}

static enum load_reason parse_reason(const char *text)
{
    for (int i = 0; i < LOAD_OTHER_REASON; i++)
        if (text && strcmp(text, reason_names[i]) == 0)
            return (enum load_reason)i;
    return LOAD_OTHER_REASON;
}

static enum load_scenario pick_scenario(struct load_driver *d)
{
    double u = random_unit(d);
    const struct load_opts *o = d->o;
    if (u < o->decline_share)
        return LOAD_DECLINE;
    if (u < o->decline_share + o->oos_share)
        return LOAD_OUT_OF_STOCK;
    if (u < o->decline_share + o->oos_share + o->ship_fail_share)
        return LOAD_SHIP_FAIL;
    return LOAD_HAPPY;
}

int load_run_expected(const struct load_order *o)
{
    switch (o->scenario) {
    case LOAD_HAPPY: return o->outcome == LOAD_COMPLETED;
    case LOAD_DECLINE: return o->outcome == LOAD_CANCELLED && o->reason == LOAD_PAYMENT_DECLINED;
    case LOAD_OUT_OF_STOCK:
        return o->outcome == LOAD_CANCELLED && o->reason == LOAD_OUT_OF_STOCK_REASON;
    case LOAD_SHIP_FAIL: return o->outcome == LOAD_CANCELLED && o->reason == LOAD_SHIPPING_FAILED;
    case LOAD_SCENARIOS: break;
    }
    return 0;
}

static void push(struct load_order ***list, size_t *count, size_t *cap, struct load_order *o)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *list = souk_realloc(*list, *cap * sizeof **list);
    }
    (*list)[(*count)++] = o;
}

static char *order_body(struct load_driver *d, const struct load_order *o)
{
    json_object *doc = json_object_new_object();
    json_object *items = json_object_new_array();
    json_object *line = json_object_new_object();
    json_object_object_add(line, "product_id",
                           json_object_new_string(d->w->products[o->product].id));
    json_object_object_add(line, "quantity", json_object_new_int(1));
    json_object_array_add(items, line);
    json_object_object_add(doc, "items", items);
    json_object *address = json_object_new_object();
    json_object_object_add(address, "name", json_object_new_string("Load Customer"));
    json_object_object_add(address, "line1", json_object_new_string("1 Benchmark Street"));
    json_object_object_add(address, "city", json_object_new_string("Berlin"));
    json_object_object_add(address, "postal_code", json_object_new_string("10115"));
    json_object_object_add(address, "country",
                           json_object_new_string(o->scenario == LOAD_SHIP_FAIL ? "AQ" : "DE"));
    json_object_object_add(doc, "shipping_address", address);
    json_object_object_add(
        doc, "payment_token",
        json_object_new_string(o->scenario == LOAD_DECLINE ? "tok_decline" : "tok_approve"));
    char *body = souk_strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    return body;
}

static void start_checkout(struct load_driver *d, int slot, double scheduled);

static void finish_order(struct load_driver *d, struct load_order *o, enum load_outcome outcome)
{
    struct load_results *r = d->r;
    double now = now_s();
    o->outcome = outcome;
    o->final_at = now;
    switch (outcome) {
    case LOAD_COMPLETED:
        r->completed++;
        r->completed_in_window += now <= d->end;
        r->completed_minor += o->total_minor;
        d->w->products[o->product].completed++;
        break;
    case LOAD_CANCELLED: r->cancelled[o->reason]++; break;
    case LOAD_STUCK: r->stuck++; break;
    case LOAD_NOT_ACCEPTED: r->not_accepted++; break;
    case LOAD_RUNNING: break;
    }
    if (outcome == LOAD_COMPLETED || outcome == LOAD_CANCELLED) {
        load_samples_add(&r->saga_ms, (now - o->scheduled) * 1e3);
        r->unexpected += !load_run_expected(o);
    }
    if (o->slot >= 0 && now < d->end && !interrupted)
        start_checkout(d, o->slot, now);
}

/* Answers after which the same POST /orders, with its Idempotency-Key, may
 * succeed: no answer (the gateway down or restarting), 429, any 5xx (a
 * database or broker outage), and the 409 CONFLICT of a concurrent request
 * with the same key (an earlier attempt of ours still in the gateway). */
static int retryable(const load_response *resp)
{
    if (resp->status == 409)
        return resp->body && strstr(resp->body, "\"CONFLICT\"") != NULL;
    return resp->status == 0 || resp->status == 429 || resp->status >= 500;
}

static double retry_delay(const load_response *resp, int attempts)
{
    if (resp->retry_after > 0)
        return resp->retry_after < RETRY_AFTER_CAP_S ? resp->retry_after : RETRY_AFTER_CAP_S;
    double wait = RETRY_FIRST_S;
    for (int i = 1; i < attempts && wait < RETRY_CAP_S; i++)
        wait *= 2;
    return wait < RETRY_CAP_S ? wait : RETRY_CAP_S;
}

static void on_order_answer(void *arg, const load_response *resp)
{
    struct load_order *o = arg;
    struct load_driver *d = o->driver;
    o->busy = 0;
    o->attempts++;
    if (resp->status == 202 || resp->status == 200) {
        json_object *doc = json_tokener_parse(resp->body);
        const char *id = json_object_get_string(json_object_object_get(doc, "order_id"));
        if (id && strlen(id) == 36) {
            memcpy(o->order_id, id, 37);
            d->r->accepted++;
            o->next_at = now_s() + (d->o->wait_s > 0 ? 0 : (double)d->o->poll_ms / 1e3);
        }
        json_object_put(doc);
        if (o->order_id[0])
            return;
    } else if (retryable(resp) && now_s() - o->scheduled < d->o->order_timeout_s) {
        /* The key makes a retry safe however long an outage lasts; scan
         * gives up on the order at its timeout. */
        o->next_at = now_s() + retry_delay(resp, o->attempts);
        return;
    }
    finish_order(d, o, LOAD_NOT_ACCEPTED);
}

static void submit_order(struct load_driver *d, struct load_order *o)
{
    char *body = order_body(d, o);
    load_request rq = {.method = "POST",
                       .path = "/orders",
                       .token = d->w->tokens[o->customer],
                       .body = body,
                       .idempotency_key = o->key};
    o->busy = 1;
    load_http_submit(d->h, &rq, on_order_answer, o);
    free(body);
}

static void on_poll_answer(void *arg, const load_response *resp)
{
    struct load_order *o = arg;
    struct load_driver *d = o->driver;
    o->busy = 0;
    double wait = (double)d->o->poll_ms / 1e3;
    if (resp->status == 200) {
        o->poll_failures = 0;
        if (d->o->wait_s > 0)
            wait = 0; /* the long poll did the waiting */
        json_object *doc = json_tokener_parse(resp->body);
        const char *status = json_object_get_string(json_object_object_get(doc, "status"));
        if (status && strcmp(status, "COMPLETED") == 0) {
            o->total_minor = json_object_get_int64(json_object_object_get(doc, "total_minor"));
            json_object_put(doc);
            finish_order(d, o, LOAD_COMPLETED);
            return;
        }
        if (status && strcmp(status, "CANCELLED") == 0) {
            o->reason =
                parse_reason(json_object_get_string(json_object_object_get(doc, "cancel_reason")));
            json_object_put(doc);
            finish_order(d, o, LOAD_CANCELLED);
            return;
        }
        json_object_put(doc);
    } else {
        /* Back off while the gateway is down or failing, as for the POST. */
        double backoff = retry_delay(resp, ++o->poll_failures);
        if (backoff > wait)
            wait = backoff;
    }
    o->next_at = now_s() + wait;
}

static void submit_poll(struct load_driver *d, struct load_order *o)
{
    if (d->o->wait_s > 0)
        snprintf(d->order_path, sizeof d->order_path, "/orders/%s?wait=%ld", o->order_id,
                 d->o->wait_s);
    else
        snprintf(d->order_path, sizeof d->order_path, "/orders/%s", o->order_id);
    load_request rq = {.method = "GET", .path = d->order_path, .token = d->w->tokens[o->customer]};
    o->busy = 1;
    load_http_submit(d->h, &rq, on_poll_answer, o);
}

static void start_checkout(struct load_driver *d, int slot, double scheduled)
{
    struct load_order *o = souk_calloc(1, sizeof *o);
    o->driver = d;
    o->slot = slot;
    o->scheduled = scheduled;
    o->customer = slot >= 0 ? slot % d->w->customer_count : random_below(d, d->w->customer_count);
    o->scenario = pick_scenario(d);
    int stocked = d->w->product_count - 1;
    o->product = o->scenario == LOAD_OUT_OF_STOCK ? stocked : random_below(d, stocked);
    snprintf(o->key, sizeof o->key, "load-%s-%ld", d->w->run_id, d->seq++);
    push(&d->r->orders, &d->r->count, &d->r->cap, o);
    push(&d->active, &d->active_count, &d->active_cap, o);
    d->r->started++;
    submit_order(d, o);
}

/* Sends what is due, ends orders past their timeout, drops final ones.
 * Returns the earliest time something idle is due next. */
static double scan(struct load_driver *d, double now)
{
    double next = now + 1;
    size_t kept = 0;
    for (size_t i = 0; i < d->active_count; i++) {
        struct load_order *o = d->active[i];
        if (o->outcome == LOAD_RUNNING && !o->busy) {
            if (now - o->scheduled > d->o->order_timeout_s)
                finish_order(d, o, o->order_id[0] ? LOAD_STUCK : LOAD_NOT_ACCEPTED);
            else if (o->next_at <= now)
                o->order_id[0] ? submit_poll(d, o) : submit_order(d, o);
            else if (o->next_at < next)
                next = o->next_at;
        }
        if (o->outcome == LOAD_RUNNING)
            d->active[kept++] = o;
    }
    d->active_count = kept;
    return next;
}

static void progress(struct load_driver *d, double now)
{
    long errors = load_http_errors(d->h);
    fprintf(stderr,
            "load: %5.0f s  started %ld  completed/s %ld  in flight %zu  errors/s %ld  errors "
            "%ld%s\n",
            now - d->t0, d->r->started, d->r->completed - d->completed_at_tick, d->active_count,
            errors - d->errors_at_tick, errors, now >= d->end ? "  (draining)" : "");
    d->completed_at_tick = d->r->completed;
    d->errors_at_tick = errors;
    if (d->rss)
        load_rss_sample(d->rss);
}

void load_run_checkouts(const struct load_opts *o, struct load_world *w, load_http *h,
                        load_rss *rss, struct load_results *r)
{
    struct load_driver d = {.o = o, .w = w, .h = h, .rss = rss, .r = r};
    d.rng = o->seed ? o->seed : 0x9e3779b97f4a7c15ULL;
    signal(SIGINT, on_sigint);
    d.t0 = now_s();
    d.end = d.t0 + o->duration_s;
    double tick = d.t0 + 1, next_due = d.t0;
    long due_count = 0;
    for (int slot = 0; o->concurrency > 0 && slot < o->concurrency; slot++)
        start_checkout(&d, slot, d.t0);
    for (;;) {
        double now = now_s();
        if (interrupted && now < d.end)
            d.end = now;
        while (o->rate > 0 && next_due < d.end && next_due <= now) {
            start_checkout(&d, -1, next_due);
            next_due = d.t0 + (double)++due_count / o->rate;
        }
        double wake = scan(&d, now);
        if (now >= tick) {
            progress(&d, now);
            while (tick <= now)
                tick += 1;
        }
        if (now >= d.end && d.active_count == 0)
            break;
        if (tick < wake)
            wake = tick;
        if (o->rate > 0 && next_due < d.end && next_due < wake)
            wake = next_due;
        double wait_ms = ceil((wake - now) * 1e3);
        load_http_step(h, wait_ms < 0 ? 0 : wait_ms > 100 ? 100 : (int)wait_ms);
    }
    signal(SIGINT, SIG_DFL);
    r->window_s = d.end - d.t0;
    free(d.active);
}

void load_results_free(struct load_results *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->orders[i]);
    free(r->orders);
    load_samples_free(&r->saga_ms);
    memset(r, 0, sizeof *r);
}
