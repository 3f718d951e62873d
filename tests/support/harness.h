/* Helpers for integration tests against the throwaway stack that `souk test`
 * starts: spawning Souk processes with the stack's environment, HTTP calls
 * through libcurl, the RabbitMQ management API and a superuser PostgreSQL
 * connection. Every spawned process is killed at the end of the test. */
#ifndef SOUK_TESTS_HARNESS_H
#define SOUK_TESTS_HARNESS_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>

/* TH_EXIT_SKIPPED, the exit status ctest reads as "skipped", is defined
 * by tests/CMakeLists.txt (SOUK_TEST_SKIP_CODE, the SKIP_RETURN_CODE of the
 * integration and e2e tests). */
#ifndef TH_EXIT_SKIPPED
#error "TH_EXIT_SKIPPED comes from tests/CMakeLists.txt (SOUK_TEST_SKIP_CODE)"
#endif

/* What a test binary needs of `souk test`: the throwaway PostgreSQL and
 * RabbitMQ (integration), or those and the running gateway, souk-psp and
 * workers of the ctest fixture "stack" (e2e). */
typedef enum th_needs { TH_NEEDS_STACK, TH_NEEDS_E2E_STACK } th_needs;

/* Ends the process with TH_EXIT_SKIPPED, naming what is missing, when the
 * environment of `souk test` lacks what needs names; returns otherwise.
 * A test that cannot run must be reported as not run, never as passed (a
 * Criterion cr_skip_test is counted as a pass by the exit status). */
void th_require_stack(th_needs needs);

/* Put once in every integration and e2e test file: calls
 * th_require_stack(needs) in Criterion's runner process before any test is
 * forked, so the whole binary is skipped, not each test passed. */
#define TH_REQUIRE_STACK(needs)                                                                    \
    ReportHook(PRE_ALL)(struct criterion_test_set * th_tests_)                                     \
    {                                                                                              \
        (void)th_tests_;                                                                           \
        th_require_stack(needs);                                                                   \
    }

/* "<build dir>/<relative>" in a static buffer. */
const char *th_binary(const char *relative);

/* Starts binary with argv (argv[0] filled in) and extra "NAME=value" entries
 * added to this process's environment. Output goes to the stack's log folder
 * under log_name. Returns the pid; the process is killed at test end. */
pid_t th_spawn(const char *binary, const char *const *args, const char *const *extra_env,
               const char *log_name);

/* Waits up to timeout_ms for pid to exit; returns its exit status, or -1 on
 * timeout, or 128+signal when killed. */
int th_wait_exit(pid_t pid, int timeout_ms);

/* Sends sig to pid. */
void th_signal(pid_t pid, int sig);

/* Kills every process spawned in this test. */
void th_kill_all(void);

/* A port nobody listens on (bound, then released). */
int th_free_port(void);

/* HTTP request. body may be NULL. Returns the status (0 when the server did
 * not answer) and stores a new response body in *response (caller frees). */
long th_http(const char *method, const char *url, const char *body, const char *const *headers,
             char **response);

/* th_http to a Souk gateway at any address: with SOUK_TEST_HTTP_RECORD_DIR
 * set (by `souk test`) the exchange is recorded, as every exchange th_http
 * and th_http_headers have with the stack's front is, and
 * tests/openapi/responses.sh checks each against /openapi.json. */
long th_http_gateway(const char *method, const char *url, const char *body,
                     const char *const *headers, char **response);

/* th_http that also returns the response's header block (caller frees). */
long th_http_headers(const char *method, const char *url, const char *body,
                     const char *const *headers, char **response, char **response_headers);

/* Polls url until it answers want_status or timeout_ms passes; returns 1 when it did. */
int th_wait_http(const char *url, long want_status, int timeout_ms);

/* GET on the RabbitMQ management API (path after /api); new JSON or NULL. */
json_object *th_mgmt_get(const char *path);

/* Consumers on a queue of the souk vhost according to the management API,
 * or -1 when the queue does not exist. */
int th_queue_consumers(const char *queue);

/* A superuser connection to the souk database. */
PGconn *th_pg_admin(void);

/* A connection to the souk database as role/password. */
PGconn *th_pg_as(const char *role, const char *password);

/* The first line of a file that contains needle, or NULL (static buffer). */
const char *th_file_find(const char *path, const char *needle);

/* "<state>/logs/<name>.log". */
const char *th_log_path(const char *name);

/* Sleeps for ms milliseconds. */
void th_sleep_ms(long ms);

/* Any request on the management API; returns the HTTP status and a new
 * response body in *response when not NULL. */
long th_mgmt(const char *method, const char *path, const char *body, char **response);

/* Empties a queue of the souk vhost. */
void th_purge_queue(const char *queue);

/* Takes up to count messages off a queue (acked, removed); new JSON array. */
json_object *th_queue_take(const char *queue, int count);

/* Runs "<source>/souk _testctl <action>"; returns its exit status. */
int th_stackctl(const char *action);

/* Runs a one-value query as the superuser and returns it as a long, or -1. */
long th_pg_long(const char *sql, const char *param);

/* Polls th_pg_long(sql, param) until it equals want or timeout_ms passes;
 * returns the last value seen. */
long th_wait_pg_long(const char *sql, const char *param, long want, int timeout_ms);

/* Waits up to timeout_ms for a line of the named log holding both needles;
 * returns 1 when one appeared. */
int th_wait_log(const char *log_name, const char *needle, const char *needle2, int timeout_ms);

#endif
