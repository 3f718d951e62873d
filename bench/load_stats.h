/* Latency samples for souk-load: an append-only list of milliseconds and
 * its percentiles by nearest rank over the sorted samples. */
#ifndef SOUK_LOAD_STATS_H
#define SOUK_LOAD_STATS_H

#include <stddef.h>

typedef struct load_samples {
    double *ms;
    size_t count;
    size_t cap;
    int sorted;
} load_samples;

void load_samples_add(load_samples *s, double ms);

/* The pct-th percentile (0 < pct <= 100), or 0 without samples. Sorts the
 * samples in place the first time after an add. */
double load_samples_pct(load_samples *s, double pct);

/* The largest sample, or 0. */
double load_samples_max(load_samples *s);

void load_samples_free(load_samples *s);

#endif
