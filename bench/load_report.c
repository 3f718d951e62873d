/* Text and JSON figures of a souk-load run (see load_report.h). */
#include "bench/load_report.h"

#include <json-c/json.h>
#include <string.h>

#include "bench/load_run.h"

static double completed_per_s(const struct load_results *r)
{
    return r->window_s > 0 ? (double)r->completed_in_window / r->window_s : 0;
}

static long total_rows(const long *v, int n)
{
    long t = 0;
    for (int i = 0; i < n; i++)
        t += v[i];
    return t;
}

/* Gateway checkouts + inbox rows + outbox rows, per completed checkout. */
static double tx_per_checkout(const struct load_report *rep)
{
    const struct load_results *r = rep->r;
    if (!rep->work->known || r->completed == 0)
        return 0;
    return (double)(r->accepted + total_rows(rep->work->inbox, LOAD_INBOX_SCHEMAS) +
                    total_rows(rep->work->outbox, LOAD_OUTBOX_SCHEMAS)) /
           (double)r->completed;
}

static void text_mode(FILE *out, const struct load_report *rep)
{
    const struct load_opts *o = rep->o;
    fprintf(out, "souk-load run %s against %s: ", rep->w->run_id, o->url);
    if (o->rate > 0)
        fprintf(out, "open loop, %.1f checkouts/s scheduled", o->rate);
    else
        fprintf(out, "closed loop, %d checkouts in flight", o->concurrency);
    if (o->wait_s > 0)
        fprintf(out, " for %.0f s; POST /orders, followed by long poll (wait=%ld s)\n",
                o->duration_s, o->wait_s);
    else
        fprintf(out, " for %.0f s; POST /orders, polled every %ld ms\n", o->duration_s, o->poll_ms);
    fprintf(out, "  mix: %.0f%% declined, %.0f%% out of stock, %.0f%% shipping fails, rest happy\n",
            o->decline_share * 100, o->oos_share * 100, o->ship_fail_share * 100);
}

static void text_checkouts(FILE *out, const struct load_results *r)
{
    long cancelled = 0;
    for (int i = 0; i < LOAD_REASONS; i++)
        cancelled += r->cancelled[i];
    fprintf(out, "checkouts        started %ld, accepted %ld, completed %ld, cancelled %ld (",
            r->started, r->accepted, r->completed, cancelled);
    for (int i = 0; i < LOAD_REASONS; i++)
        fprintf(out, "%s%s %ld", i ? ", " : "", load_reason_name((enum load_reason)i),
                r->cancelled[i]);
    fprintf(out, "), stuck %ld, not accepted %ld, unexpected outcome %ld\n", r->stuck,
            r->not_accepted, r->unexpected);
}

static void text_http(FILE *out, load_http *h)
{
    const long *by = load_http_status_counts(h);
    fprintf(out, "http             %ld requests, errors:", load_http_requests(h));
    int any = 0;
    for (int s = 0; s < LOAD_HTTP_STATUS_MAX; s++) {
        if (by[s] == 0 || (s > 0 && s < 400))
            continue;
        if (s == 0)
            fprintf(out, "%s no answer x%ld", any ? "," : "", by[s]);
        else
            fprintf(out, "%s HTTP %d x%ld", any ? "," : "", s, by[s]);
        any = 1;
    }
    fprintf(out, "%s\n", any ? "" : " none");
}

static void text_latency(FILE *out, const struct load_report *rep)
{
    struct load_results *r = rep->r;
    load_samples *req = load_http_latencies(rep->h);
    fprintf(
        out,
        "throughput       %.1f completed checkouts/s (%ld completed within the %.1f s window)\n",
        completed_per_s(r), r->completed_in_window, r->window_s);
    fprintf(out,
            "saga latency     p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms "
            "(%zu orders; scheduled start -> final state seen)\n",
            load_samples_pct(&r->saga_ms, 50), load_samples_pct(&r->saga_ms, 95),
            load_samples_pct(&r->saga_ms, 99), load_samples_max(&r->saga_ms), r->saga_ms.count);
    fprintf(out, "request latency  p50 %.2f ms, p99 %.2f ms, max %.2f ms (all %zu requests)\n",
            load_samples_pct(req, 50), load_samples_pct(req, 99), load_samples_max(req),
            req->count);
}

static void text_rss(FILE *out, const load_rss *rss)
{
    if (rss->count == 0)
        return;
    fprintf(out, "peak RSS        ");
    for (int i = 0; i < rss->count; i++)
        fprintf(out, "%s %s %.1f MB", i ? "," : "", rss->procs[i].name,
                (double)load_rss_peak_kb(&rss->procs[i]) / 1024.0);
    fprintf(out, "\n");
}

static void text_work(FILE *out, const struct load_report *rep)
{
    const struct load_work *wk = rep->work;
    if (!wk->known || rep->r->completed == 0)
        return;
    double n = (double)rep->r->completed;
    fprintf(out,
            "db work          per completed checkout: %.2f gateway checkout + %.2f inbox rows (",
            (double)rep->r->accepted / n, (double)total_rows(wk->inbox, LOAD_INBOX_SCHEMAS) / n);
    for (int i = 0; i < LOAD_INBOX_SCHEMAS; i++)
        fprintf(out, "%s%s %.2f", i ? ", " : "", load_inbox_schemas[i], (double)wk->inbox[i] / n);
    fprintf(out, ") + %.2f outbox rows relayed = %.2f transactions\n",
            (double)total_rows(wk->outbox, LOAD_OUTBOX_SCHEMAS) / n, tx_per_checkout(rep));
}

static const char *state_word(enum load_check_state s)
{
    return s == LOAD_CHECK_PASSED ? "ok  " : s == LOAD_CHECK_FAILED ? "FAIL" : "skip";
}

void load_report_text(FILE *out, const struct load_report *rep)
{
    text_mode(out, rep);
    text_checkouts(out, rep->r);
    text_http(out, rep->h);
    text_latency(out, rep);
    text_rss(out, rep->rss);
    text_work(out, rep);
    fprintf(out, "invariants\n");
    for (int i = 0; i < LOAD_CHECKS; i++) {
        const struct load_check *c = &rep->checks->c[i];
        fprintf(out, "  %s %-22s %s\n", state_word(c->state), c->name, c->detail);
    }
    fprintf(out, "%s\n", rep->ok ? "result: every invariant holds" : "result: INVARIANT FAILED");
}

void load_report_failures(FILE *out, const struct load_report *rep)
{
    for (int i = 0; i < LOAD_CHECKS; i++) {
        const struct load_check *c = &rep->checks->c[i];
        if (c->state == LOAD_CHECK_FAILED)
            fprintf(out, "souk-load: invariant %s failed: %s\n", c->name, c->detail);
    }
}

/* ----------------------------------------------------------------- JSON */

static json_object *number(double v, int decimals)
{
    char text[64];
    snprintf(text, sizeof text, "%.*f", decimals, v);
    return json_object_new_double_s(v, text);
}

static void add_int(json_object *o, const char *key, long long v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *json_checkouts(const struct load_results *r)
{
    json_object *c = json_object_new_object();
    add_int(c, "started", r->started);
    add_int(c, "accepted", r->accepted);
    add_int(c, "completed", r->completed);
    add_int(c, "completed_in_window", r->completed_in_window);
    json_object *cancelled = json_object_new_object();
    for (int i = 0; i < LOAD_REASONS; i++)
        add_int(cancelled, load_reason_name((enum load_reason)i), r->cancelled[i]);
    json_object_object_add(c, "cancelled", cancelled);
    add_int(c, "stuck", r->stuck);
    add_int(c, "not_accepted", r->not_accepted);
    add_int(c, "unexpected_outcome", r->unexpected);
    add_int(c, "completed_total_minor", r->completed_minor);
    return c;
}

static json_object *json_http(load_http *h)
{
    json_object *o = json_object_new_object();
    add_int(o, "requests", load_http_requests(h));
    add_int(o, "errors", load_http_errors(h));
    json_object *by = json_object_new_object();
    const long *counts = load_http_status_counts(h);
    for (int s = 0; s < LOAD_HTTP_STATUS_MAX; s++) {
        if (counts[s] == 0)
            continue;
        char key[8];
        snprintf(key, sizeof key, "%d", s);
        add_int(by, key, counts[s]);
    }
    json_object_object_add(o, "by_status", by);
    load_samples *lat = load_http_latencies(h);
    json_object *l = json_object_new_object();
    json_object_object_add(l, "p50", number(load_samples_pct(lat, 50), 2));
    json_object_object_add(l, "p99", number(load_samples_pct(lat, 99), 2));
    json_object_object_add(l, "max", number(load_samples_max(lat), 2));
    json_object_object_add(o, "latency_ms", l);
    return o;
}

static json_object *json_saga(struct load_results *r)
{
    json_object *l = json_object_new_object();
    json_object_object_add(l, "p50", number(load_samples_pct(&r->saga_ms, 50), 1));
    json_object_object_add(l, "p95", number(load_samples_pct(&r->saga_ms, 95), 1));
    json_object_object_add(l, "p99", number(load_samples_pct(&r->saga_ms, 99), 1));
    json_object_object_add(l, "max", number(load_samples_max(&r->saga_ms), 1));
    add_int(l, "count", (long long)r->saga_ms.count);
    return l;
}

static json_object *json_rss(const load_rss *rss)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < rss->count; i++) {
        const struct load_proc *p = &rss->procs[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        add_int(o, "pid", p->pid);
        add_int(o, "peak_rss_kb", load_rss_peak_kb(p));
        add_int(o, "vmhwm_kb", p->hwm_kb);
        add_int(o, "sampled_vmrss_kb", p->peak_rss_kb);
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *json_work(const struct load_report *rep)
{
    const struct load_work *wk = rep->work;
    if (!wk->known)
        return NULL;
    json_object *o = json_object_new_object();
    json_object *in = json_object_new_object(), *out = json_object_new_object();
    for (int i = 0; i < LOAD_INBOX_SCHEMAS; i++)
        add_int(in, load_inbox_schemas[i], wk->inbox[i]);
    for (int i = 0; i < LOAD_OUTBOX_SCHEMAS; i++)
        add_int(out, load_outbox_schemas[i], wk->outbox[i]);
    json_object_object_add(o, "inbox_rows", in);
    json_object_object_add(o, "outbox_rows", out);
    add_int(o, "gateway_checkouts", rep->r->accepted);
    json_object_object_add(o, "tx_per_completed_checkout", number(tx_per_checkout(rep), 2));
    json_object_object_add(
        o, "formula",
        json_object_new_string("(gateway checkouts + inbox rows + outbox rows written during the "
                               "run) / completed checkouts"));
    return o;
}

static json_object *json_checks(const load_checks *k)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < LOAD_CHECKS; i++) {
        const struct load_check *c = &k->c[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "state",
                               json_object_new_string(c->state == LOAD_CHECK_PASSED   ? "passed"
                                                      : c->state == LOAD_CHECK_FAILED ? "failed"
                                                                                      : "skipped"));
        json_object_object_add(o, "detail", json_object_new_string(c->detail));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *json_run(const struct load_report *rep)
{
    const struct load_opts *o = rep->o;
    json_object *run = json_object_new_object();
    json_object_object_add(run, "run_id", json_object_new_string(rep->w->run_id));
    json_object_object_add(run, "url", json_object_new_string(o->url));
    json_object_object_add(run, "mode", json_object_new_string(o->rate > 0 ? "open" : "closed"));
    json_object_object_add(run, "rate", number(o->rate, 2));
    add_int(run, "concurrency", o->concurrency);
    json_object_object_add(run, "duration_s", number(o->duration_s, 1));
    json_object_object_add(run, "window_s", number(rep->r->window_s, 2));
    add_int(run, "customers", o->customers);
    add_int(run, "products", o->products);
    add_int(run, "poll_ms", o->poll_ms);
    add_int(run, "wait_s", o->wait_s);
    add_int(run, "connections", o->connections);
    add_int(run, "seed", (long long)o->seed);
    return run;
}

void load_report_json(FILE *out, const struct load_report *rep)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "run", json_run(rep));
    json_object_object_add(doc, "checkouts", json_checkouts(rep->r));
    json_object_object_add(doc, "completed_per_s", number(completed_per_s(rep->r), 2));
    json_object_object_add(doc, "saga_latency_ms", json_saga(rep->r));
    json_object_object_add(doc, "http", json_http(rep->h));
    json_object_object_add(doc, "rss", json_rss(rep->rss));
    json_object_object_add(doc, "db_work", json_work(rep));
    json_object_object_add(doc, "invariants", json_checks(rep->checks));
    json_object_object_add(doc, "ok", json_object_new_boolean(rep->ok));
    fprintf(out, "%s\n",
            json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
}
