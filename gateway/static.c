/* The console's files in memory, and the handlers that serve them (see
 * static.h). */
#include "gateway/static.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"

/* Bounds on what is read at start: the build is a few files of a few MB
 * (Swagger UI's bundle is the largest); anything far beyond is not it. */
#define STATIC_MAX_FILES 512
#define STATIC_MAX_BYTES (64u << 20)
#define STATIC_MAX_DEPTH 4

/* Hashed files never change under their name; the pages name them. */
#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

/* What the pages may load and talk to: their own origin only (nothing from
 * the internet), Swagger UI's inline styles and data: images included. */
#define PAGE_POLICY                                                                                \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

struct static_file {
    char *path; /* "/index.html", "/assets/index-3f2a.js" */
    const char *type;
    char *data;
    size_t len;
    char etag[24]; /* "\"<16 hex>\"" */
};

struct souk_static {
    struct static_file *files; /* sorted by path */
    int count;
    size_t bytes;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A strong validator from the content (FNV-1a, 64 bits): equal bytes,
 * equal tag, whichever gateway or start answered. */
static void etag_of(struct static_file *f)
{
    snprintf(f->etag, sizeof f->etag, "\"%016llx\"",
             (unsigned long long)souk_hash_bytes(f->data, f->len));
}

static char *read_whole(const char *path, size_t size)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return NULL;
    char *data = souk_malloc(size ? size : 1);
    size_t got = fread(data, 1, size, in);
    fclose(in);
    if (got != size) {
        free(data);
        return NULL;
    }
    return data;
}

/* Adds the files below dir/rel (rel "" or "/assets") to set; returns -1
 * when a bound is passed (what was read so far stays). */
static int walk(souk_static *set, const char *dir, const char *rel, int depth)
{
    char here[PATH_MAX];
    snprintf(here, sizeof here, "%s%s", dir, rel);
    DIR *d = opendir(here);
    if (!d)
        return 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* ., .. and hidden files are not the build's */
            continue;
        char name[PATH_MAX], full[PATH_MAX];
        int n = snprintf(name, sizeof name, "%s/%s", rel, e->d_name);
        if (n < 0 || (size_t)n >= sizeof name ||
            (size_t)snprintf(full, sizeof full, "%s%s", dir, name) >= sizeof full)
            continue;
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < STATIC_MAX_DEPTH)
                rc = walk(set, dir, name, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (set->count == STATIC_MAX_FILES || (size_t)st.st_size > STATIC_MAX_BYTES - set->bytes) {
            SOUK_LOG(SOUK_LOG_ERROR, "console files: over %d files or %u bytes in %s",
                     STATIC_MAX_FILES, STATIC_MAX_BYTES, dir);
            rc = -1;
            break;
        }
        char *data = read_whole(full, (size_t)st.st_size);
        if (!data) {
            SOUK_LOG(SOUK_LOG_WARN, "console files: cannot read %s: %s", full, strerror(errno));
            continue;
        }
        struct static_file *f = &set->files[set->count++];
        f->path = souk_strdup(name);
        f->type = type_of(name);
        f->data = data;
        f->len = (size_t)st.st_size;
        etag_of(f);
        set->bytes += f->len;
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

/* "<folder of this program>/../web", the build tree's layout. */
static void default_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, cap, "web");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/../web", exe) >= cap)
        snprintf(out, cap, "web");
}

static const struct static_file *find(const souk_static *set, const char *path)
{
    if (!set || set->count == 0)
        return NULL;
    struct static_file key = {.path = (char *)path};
    return bsearch(&key, set->files, (size_t)set->count, sizeof key, by_path);
}

souk_static *souk_static_load(const char *dir)
{
    souk_static *set = souk_calloc(1, sizeof *set);
    set->files = souk_calloc(STATIC_MAX_FILES, sizeof *set->files);
    char given[PATH_MAX], where[PATH_MAX];
    if (dir && dir[0])
        snprintf(given, sizeof given, "%s", dir);
    else
        default_dir(given, sizeof given);
    if (!realpath(given, where)) /* a missing folder is reported below */
        snprintf(where, sizeof where, "%s", given);
    (void)walk(set, where, "", 0);
    qsort(set->files, (size_t)set->count, sizeof *set->files, by_path);
    if (!find(set, "/index.html")) {
        SOUK_LOG(SOUK_LOG_WARN,
                 "the browser console is not built: no index.html in %s (./souk build builds "
                 "web/; SOUK_WEB_DIR names another folder); its pages answer 404",
                 where);
        souk_static_free(set);
        set = souk_calloc(1, sizeof *set);
        return set;
    }
    SOUK_LOG(SOUK_LOG_INFO, "the browser console: %d files, %zu bytes, from %s", set->count,
             set->bytes, where);
    return set;
}

void souk_static_free(souk_static *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->count; i++) {
        free(set->files[i].path);
        free(set->files[i].data);
    }
    free(set->files);
    free(set);
}

int souk_static_count(const souk_static *set)
{
    return set ? set->count : 0;
}

/* 1 when an If-None-Match list names etag (or is "*"). */
static int not_modified(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return 0;
    if (strcmp(if_none_match, "*") == 0)
        return 1;
    size_t len = strlen(etag);
    for (const char *p = strstr(if_none_match, etag); p; p = strstr(p + 1, etag)) {
        const char *end = p + len;
        if ((*end == '\0' || *end == ',' || *end == ' ') &&
            (p == if_none_match || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/'))
            return 1;
    }
    return 0;
}

/* Answers f with cache (a Cache-Control value), or 304 when the caller
 * already holds this version; a missing file is the JSON 404. */
static void serve(souk_request *req, const struct static_file *f, const char *cache)
{
    if (!f) {
        souk_http_fail(req, 404, "NOT_FOUND",
                       souk_static_count(req->gw->web)
                           ? "no such file of the console"
                           : "the browser console is not built (./souk build builds web/)",
                       NULL);
        return;
    }
    souk_http_add_header(req, "ETag", f->etag);
    souk_http_add_header(req, "X-Content-Type-Options", "nosniff");
    if (strncmp(f->type, "text/html", 9) == 0) {
        souk_http_add_header(req, "Content-Security-Policy", PAGE_POLICY);
        souk_http_add_header(req, "Referrer-Policy", "same-origin");
    }
    int fresh = not_modified(souk_http_header(req, "If-None-Match"), f->etag);
    souk_http_send_cacheable(req, fresh ? 304 : 200, f->type, cache, f->data, f->len, fresh);
}

void souk_static_console(souk_request *req)
{
    serve(req, find(req->gw->web, "/index.html"), CACHE_REVALIDATE);
}

void souk_static_docs(souk_request *req)
{
    serve(req, find(req->gw->web, "/docs/index.html"), CACHE_REVALIDATE);
}

void souk_static_asset(souk_request *req)
{
    /* the dispatcher captured one path segment: no '/' can be in it */
    char path[160];
    snprintf(path, sizeof path, "/assets/%s", req->params[0]);
    serve(req, find(req->gw->web, path), CACHE_IMMUTABLE);
}
