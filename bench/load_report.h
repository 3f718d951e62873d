/* The figures of a souk-load run, as text or as one JSON object:
 * checkouts by outcome, HTTP errors by status, completed checkouts/s,
 * saga and request latency percentiles, peak RSS per process, the
 * database work per completed checkout and the invariants. */
#ifndef SOUK_LOAD_REPORT_H
#define SOUK_LOAD_REPORT_H

#include <stdio.h>

#include "bench/load.h"
#include "bench/load_checks.h"
#include "bench/load_db.h"
#include "bench/load_http.h"
#include "bench/load_rss.h"

/* Inbox and outbox rows written during the run (known: --pg was given). */
struct load_work {
    int known;
    long inbox[LOAD_INBOX_SCHEMAS];
    long outbox[LOAD_OUTBOX_SCHEMAS];
};

struct load_report {
    const struct load_opts *o;
    const struct load_world *w;
    struct load_results *r;
    load_http *h;
    const load_rss *rss;
    const load_checks *checks;
    const struct load_work *work;
    int ok;
};

void load_report_text(FILE *out, const struct load_report *rep);
void load_report_json(FILE *out, const struct load_report *rep);

/* One line per failed invariant ("souk-load: invariant X failed: ..."). */
void load_report_failures(FILE *out, const struct load_report *rep);

#endif
