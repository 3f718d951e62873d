/* Peak RSS of the Souk processes (see load_rss.h). */
#include "bench/load_rss.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static void add(load_rss *r, const char *name, size_t name_len, long pid)
{
    r->procs = souk_realloc(r->procs, (size_t)(r->count + 1) * sizeof *r->procs);
    struct load_proc *p = &r->procs[r->count++];
    memset(p, 0, sizeof *p);
    if (name_len >= sizeof p->name)
        name_len = sizeof p->name - 1;
    memcpy(p->name, name, name_len);
    p->pid = pid;
}

static int add_spec(load_rss *r, const char *spec, char *err, size_t errlen)
{
    const char *s = spec;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *colon = memchr(s, ':', len);
        char *stop = NULL;
        long pid = colon ? strtol(colon + 1, &stop, 10) : 0;
        if (!colon || pid <= 0 || stop != s + len) {
            snprintf(err, errlen, "--rss-pids: expected name:pid, got \"%.*s\"", (int)len, s);
            return -1;
        }
        add(r, s, (size_t)(colon - s), pid);
        s += len + (end ? 1 : 0);
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct load_proc *)a)->name, ((const struct load_proc *)b)->name);
}

static int add_dir(load_rss *r, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "--rss-from: cannot open %s", dir);
        return -1;
    }
    int first = r->count;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".pid") != 0)
            continue;
        char *path = souk_asprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        free(path);
        long pid = 0;
        if (f && fscanf(f, "%ld", &pid) == 1 && pid > 0)
            add(r, e->d_name, len - 4, pid);
        if (f)
            fclose(f);
    }
    closedir(d);
    qsort(r->procs + first, (size_t)(r->count - first), sizeof *r->procs, compare_names);
    return 0;
}

int load_rss_init(load_rss *r, const char *spec, const char *dir, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if ((spec && add_spec(r, spec, err, errlen) != 0) ||
        (dir && add_dir(r, dir, err, errlen) != 0)) {
        load_rss_free(r);
        return -1;
    }
    return 0;
}

/* A "Field:   123 kB" line of /proc/<pid>/status in KiB, or 0. */
static long status_kb(long pid, const char *field)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    size_t len = strlen(field);
    long kb = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

void load_rss_sample(load_rss *r)
{
    for (int i = 0; i < r->count; i++) {
        long kb = status_kb(r->procs[i].pid, "VmRSS");
        if (kb > r->procs[i].peak_rss_kb)
            r->procs[i].peak_rss_kb = kb;
    }
}

void load_rss_finish(load_rss *r)
{
    load_rss_sample(r);
    for (int i = 0; i < r->count; i++)
        r->procs[i].hwm_kb = status_kb(r->procs[i].pid, "VmHWM");
}

long load_rss_peak_kb(const struct load_proc *p)
{
    return p->hwm_kb > p->peak_rss_kb ? p->hwm_kb : p->peak_rss_kb;
}

void load_rss_free(load_rss *r)
{
    free(r->procs);
    memset(r, 0, sizeof *r);
}
