/* Test harness implementation (see harness.h). */
#include "tests/support/harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_SPAWNED 64
static pid_t spawned[MAX_SPAWNED];
static int spawned_count;

void th_require_stack(th_needs needs)
{
    const char *missing = NULL;
    if (!getenv("SOUK_TEST_STACK"))
        missing = "SOUK_TEST_STACK";
    else if (needs == TH_NEEDS_E2E_STACK && !getenv("SOUK_TEST_GATEWAY_URL"))
        missing = "SOUK_TEST_GATEWAY_URL";
    if (!missing)
        return;
    fprintf(stderr, "skipped: needs the %s that `souk test` starts (%s is not set)\n",
            needs == TH_NEEDS_E2E_STACK ? "e2e stack" : "stack", missing);
    /* _exit: no atexit handler (LeakSanitizer's among them) may turn the
     * skip into another status. */
    _exit(TH_EXIT_SKIPPED);
}

const char *th_binary(const char *relative)
{
    static char path[1024];
    const char *dir = getenv("SOUK_BUILD_DIR");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", relative);
    return path;
}

const char *th_log_path(const char *name)
{
    static char path[1024];
    const char *state = getenv("SOUK_STATE");
    snprintf(path, sizeof path, "%s/logs/%s.log", state ? state : "/tmp", name);
    return path;
}

void th_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

pid_t th_spawn(const char *binary, const char *const *args, const char *const *extra_env,
               const char *log_name)
{
    char bin[1024];
    snprintf(bin, sizeof bin, "%s", binary);
    char log[1024];
    snprintf(log, sizeof log, "%s", th_log_path(log_name));
    pid_t pid = fork();
    if (pid == 0) {
        for (const char *const *e = extra_env; e && *e; e++)
            putenv((char *)*e);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        const char *argv[32];
        int n = 0;
        argv[n++] = bin;
        for (const char *const *a = args; a && *a && n < 31; a++)
            argv[n++] = *a;
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (pid > 0 && spawned_count < MAX_SPAWNED)
        spawned[spawned_count++] = pid;
    return pid;
}

int th_wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            for (int i = 0; i < spawned_count; i++)
                if (spawned[i] == pid)
                    spawned[i] = 0;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
            return -1;
        }
        th_sleep_ms(20);
    }
    return -1;
}

void th_signal(pid_t pid, int sig)
{
    kill(pid, sig);
}

void th_kill_all(void)
{
    for (int i = 0; i < spawned_count; i++) {
        if (spawned[i] > 0) {
            kill(spawned[i], SIGTERM);
            if (th_wait_exit(spawned[i], 5000) == -1) {
                kill(spawned[i], SIGKILL);
                waitpid(spawned[i], NULL, 0);
            }
        }
    }
    spawned_count = 0;
}

int th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    bind(fd, (struct sockaddr *)&addr, sizeof addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

struct buffer {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Whether an exchange with url is recorded: one with the front of the
 * stack (a Souk gateway), when `souk test` asks for records. */
static int records_url(const char *url)
{
    const char *const bases[] = {getenv("SOUK_TEST_GATEWAY_URL"), getenv("SOUK_TEST_TLS_URL")};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        if (bases[i] && bases[i][0] && strncmp(url, bases[i], strlen(bases[i])) == 0)
            return 1;
    return 0;
}

/* Appends one exchange with a gateway to
 * SOUK_TEST_HTTP_RECORD_DIR/<pid>.jsonl: method, path, status, the headers
 * of the last answer in head (a 100 Continue may come first) and the body.
 * tests/openapi/responses.sh checks every one against /openapi.json. */
static void record(const char *method, const char *url, long status, const char *head,
                   const char *body)
{
    const char *dir = getenv("SOUK_TEST_HTTP_RECORD_DIR");
    if (!dir || !dir[0] || status == 0)
        return;
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    json_object *line = json_object_new_object();
    json_object_object_add(line, "method", json_object_new_string(method));
    json_object_object_add(line, "path", json_object_new_string(path ? path : "/"));
    json_object_object_add(line, "status", json_object_new_int64(status));
    json_object *headers = json_object_new_object();
    const char *last = head;
    for (const char *h = strstr(head, "HTTP/"); h; h = strstr(h + 1, "\nHTTP/"))
        last = h;
    for (const char *l = strchr(last, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *start = l + 1, *colon = strchr(start, ':'), *end = strpbrk(start, "\r\n");
        if (!colon || !end || colon > end)
            continue;
        char name[128];
        size_t n =
            (size_t)(colon - start) < sizeof name - 1 ? (size_t)(colon - start) : sizeof name - 1;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)(start[i] >= 'A' && start[i] <= 'Z' ? start[i] - 'A' + 'a' : start[i]);
        name[n] = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        json_object_object_add(headers, name,
                               json_object_new_string_len(value, (int)(end - value)));
    }
    json_object_object_add(line, "headers", headers);
    json_object_object_add(line, "body", json_object_new_string(body ? body : ""));
    char file[1024];
    snprintf(file, sizeof file, "%s/%ld.jsonl", dir, (long)getpid());
    FILE *f = fopen(file, "a");
    if (f) {
        fprintf(f, "%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
        fclose(f);
    }
    json_object_put(line);
}

static long http_full2(const char *method, const char *url, const char *body,
                       const char *const *headers, const char *userpwd, char **response,
                       char **response_headers, int recorded)
{
    CURL *curl = curl_easy_init();
    struct buffer b = {NULL, 0};
    struct buffer hb = {NULL, 0};
    if (response_headers || recorded) {
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hb);
    }
    struct curl_slist *list = NULL;
    for (const char *const *h = headers; h && *h; h++)
        list = curl_slist_append(list, *h);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (userpwd)
        curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (list)
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (recorded)
        record(method, url, status, hb.data ? hb.data : "", b.data);
    if (response)
        *response = b.data ? b.data : strdup("");
    else
        free(b.data);
    if (response_headers)
        *response_headers = hb.data ? hb.data : strdup("");
    else
        free(hb.data);
    return status;
}

static long http_full(const char *method, const char *url, const char *body,
                      const char *const *headers, const char *userpwd, char **response)
{
    return http_full2(method, url, body, headers, userpwd, response, NULL, records_url(url));
}

long th_http_headers(const char *method, const char *url, const char *body,
                     const char *const *headers, char **response, char **response_headers)
{
    return http_full2(method, url, body, headers, NULL, response, response_headers,
                      records_url(url));
}

long th_http(const char *method, const char *url, const char *body, const char *const *headers,
             char **response)
{
    return http_full(method, url, body, headers, NULL, response);
}

long th_http_gateway(const char *method, const char *url, const char *body,
                     const char *const *headers, char **response)
{
    return http_full2(method, url, body, headers, NULL, response, NULL, 1);
}

int th_wait_http(const char *url, long want_status, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if (th_http("GET", url, NULL, NULL, NULL) == want_status)
            return 1;
        th_sleep_ms(100);
    }
    return 0;
}

json_object *th_mgmt_get(const char *path)
{
    char url[1024];
    char userpwd[256];
    snprintf(url, sizeof url, "%s/api%s", getenv("SOUK_TEST_MGMT_URL"), path);
    snprintf(userpwd, sizeof userpwd, "%s:%s", getenv("SOUK_TEST_ADMIN_USER"),
             getenv("SOUK_TEST_ADMIN_PASSWORD"));
    char *response = NULL;
    long status = http_full("GET", url, NULL, NULL, userpwd, &response);
    json_object *json = status == 200 ? json_tokener_parse(response) : NULL;
    free(response);
    return json;
}

int th_queue_consumers(const char *queue)
{
    char path[256];
    snprintf(path, sizeof path, "/queues/souk/%s", queue);
    json_object *q = th_mgmt_get(path);
    if (!q)
        return -1;
    json_object *c = NULL;
    int n = json_object_object_get_ex(q, "consumers", &c) ? json_object_get_int(c) : 0;
    json_object_put(q);
    return n;
}

PGconn *th_pg_admin(void)
{
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s dbname=souk user=postgres",
             getenv("SOUK_TEST_PG_SOCKET"), getenv("SOUK_PG_PORT"));
    return PQconnectdb(conninfo);
}

PGconn *th_pg_as(const char *role, const char *password)
{
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%s dbname=souk user=%s password=%s connect_timeout=3",
             getenv("SOUK_PG_PORT"), role, password);
    return PQconnectdb(conninfo);
}

const char *th_file_find(const char *path, const char *needle)
{
    static char line[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    const char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, needle)) {
            found = line;
            break;
        }
    }
    fclose(f);
    return found;
}

long th_mgmt(const char *method, const char *path, const char *body, char **response)
{
    char url[1024];
    char userpwd[256];
    snprintf(url, sizeof url, "%s/api%s", getenv("SOUK_TEST_MGMT_URL"), path);
    snprintf(userpwd, sizeof userpwd, "%s:%s", getenv("SOUK_TEST_ADMIN_USER"),
             getenv("SOUK_TEST_ADMIN_PASSWORD"));
    const char *headers[] = {"Content-Type: application/json", NULL};
    return http_full(method, url, body, headers, userpwd, response);
}

void th_purge_queue(const char *queue)
{
    char path[256];
    snprintf(path, sizeof path, "/queues/souk/%s/contents", queue);
    th_mgmt("DELETE", path, NULL, NULL);
}

json_object *th_queue_take(const char *queue, int count)
{
    char path[256];
    char body[128];
    snprintf(path, sizeof path, "/queues/souk/%s/get", queue);
    snprintf(body, sizeof body,
             "{\"count\":%d,\"ackmode\":\"ack_requeue_false\",\"encoding\":\"auto\"}", count);
    char *response = NULL;
    long status = th_mgmt("POST", path, body, &response);
    json_object *json = status == 200 ? json_tokener_parse(response) : NULL;
    free(response);
    return json;
}

int th_stackctl(const char *action)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/souk' _testctl %s >/dev/null 2>&1", SOUK_SOURCE_DIR, action);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

long th_pg_long(const char *sql, const char *param)
{
    PGconn *db = th_pg_admin();
    long value = -1;
    if (PQstatus(db) == CONNECTION_OK) {
        const char *params[1] = {param};
        PGresult *res = PQexecParams(db, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            value = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    PQfinish(db);
    return value;
}

long th_wait_pg_long(const char *sql, const char *param, long want, int timeout_ms)
{
    long value = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        value = th_pg_long(sql, param);
        if (value == want)
            return value;
        th_sleep_ms(100);
    }
    return value;
}

int th_wait_log(const char *log_name, const char *needle, const char *needle2, int timeout_ms)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", th_log_path(log_name));
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        FILE *f = fopen(path, "r");
        char line[4096];
        int found = 0;
        while (f && !found && fgets(line, sizeof line, f))
            found = strstr(line, needle) && (!needle2 || strstr(line, needle2));
        if (f)
            fclose(f);
        if (found)
            return 1;
        th_sleep_ms(100);
    }
    return 0;
}
