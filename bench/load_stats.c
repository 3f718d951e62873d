/* Latency samples of souk-load (see load_stats.h). */
#include "bench/load_stats.h"

#include <math.h>
#include <stdlib.h>

#include "core/mem.h"

void load_samples_add(load_samples *s, double ms)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->ms = souk_realloc(s->ms, s->cap * sizeof *s->ms);
    }
    s->ms[s->count++] = ms;
    s->sorted = 0;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double load_samples_pct(load_samples *s, double pct)
{
    if (s->count == 0)
        return 0;
    if (!s->sorted) {
        qsort(s->ms, s->count, sizeof *s->ms, compare);
        s->sorted = 1;
    }
    size_t rank = (size_t)ceil(pct / 100.0 * (double)s->count);
    if (rank < 1)
        rank = 1;
    if (rank > s->count)
        rank = s->count;
    return s->ms[rank - 1];
}

double load_samples_max(load_samples *s)
{
    return load_samples_pct(s, 100);
}

void load_samples_free(load_samples *s)
{
    free(s->ms);
    *s = (load_samples){0};
}
