/* Peak resident memory of the Souk processes during a souk-load run:
 * VmRSS from /proc/<pid>/status sampled once a second, and VmHWM (the
 * kernel's own high-water mark) read at the end; the peak is the larger. */
#ifndef SOUK_LOAD_RSS_H
#define SOUK_LOAD_RSS_H

#include <stddef.h>

struct load_proc {
    char name[64];
    long pid;
    long peak_rss_kb; /* largest VmRSS sampled */
    long hwm_kb;      /* VmHWM at the end (0 when the process was gone) */
};

typedef struct load_rss {
    struct load_proc *procs;
    int count;
} load_rss;

/* Adds the processes of spec ("name:pid,name:pid") and of every <name>.pid
 * file in dir (either may be NULL). Returns 0, or -1 with err set. */
int load_rss_init(load_rss *r, const char *spec, const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void load_rss_sample(load_rss *r);
void load_rss_finish(load_rss *r);

/* The larger of the sampled VmRSS peak and VmHWM, in KiB. */
long load_rss_peak_kb(const struct load_proc *p);

void load_rss_free(load_rss *r);

#endif
