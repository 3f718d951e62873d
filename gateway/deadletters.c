/* The dead-letter console (see deadletters.h): request handlers over
 * events/dlq.h, a lock per service queue, and the replay jobs. */
#include "gateway/deadletters.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/dlq.h"
#include "gateway/system.h"

/* Finished jobs are kept (to be polled) until their slot is needed. */
#define JOBS_MAX 32
/* How long an operation waits for another one on its queue (an inspection,
 * which takes well under a second) before it answers 409. */
#define LOCK_WAIT_S 10
/* The messages of a group listed with it. */
#define GROUP_MESSAGES_MAX 50

typedef enum job_state { JOB_FREE, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_STOPPED } job_state;

static const char *const job_state_names[] = {
    [JOB_FREE] = "free",     [JOB_RUNNING] = "running", [JOB_DONE] = "done",
    [JOB_FAILED] = "failed", [JOB_STOPPED] = "stopped",
};

/* A replay of every message of one service's DLQ. Its fields are read and
 * written under the owner's jobs lock. */
struct job {
    souk_deadletters *owner;
    char id[37];
    souk_service service;
    job_state state;
    souk_dlq_replay_result progress;
    char error[160];
    char started_at[40];
    char finished_at[40];
    double started; /* monotonic, for the slot's age */
    pthread_t thread;
    int joinable; /* a thread ran for this slot and was not joined yet */
};

struct souk_deadletters {
    const souk_config *cfg;
    pthread_mutex_t queue_lock[SOUK_SERVICE_COUNT]; /* one operation at a time per DLQ */
    pthread_mutex_t jobs_lock;
    struct job jobs[JOBS_MAX];
    atomic_int stopping;
};

souk_deadletters *souk_deadletters_new(const souk_config *cfg)
{
    souk_deadletters *dl = souk_calloc(1, sizeof *dl);
    dl->cfg = cfg;
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
        pthread_mutex_init(&dl->queue_lock[s], NULL);
    pthread_mutex_init(&dl->jobs_lock, NULL);
    atomic_init(&dl->stopping, 0);
    for (int i = 0; i < JOBS_MAX; i++)
        dl->jobs[i].owner = dl;
    return dl;
}

void souk_deadletters_free(souk_deadletters *dl)
{
    if (!dl)
        return;
    atomic_store(&dl->stopping, 1);
    for (int i = 0; i < JOBS_MAX; i++)
        if (dl->jobs[i].joinable)
            pthread_join(dl->jobs[i].thread, NULL);
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++)
        pthread_mutex_destroy(&dl->queue_lock[s]);
    pthread_mutex_destroy(&dl->jobs_lock);
    free(dl);
}

/* ------------------------------------------------------------ requests */

/* The worker service named by the path, or SOUK_SERVICE_UNKNOWN after
 * answering 404 (the gateway has no dead-letter queue). */
static souk_service path_service(souk_request *req)
{
    souk_service s = souk_service_from_name(req->params[0]);
    if (s == SOUK_SERVICE_UNKNOWN || s == SOUK_SERVICE_GATEWAY) {
        souk_http_fail(req, 404, "NOT_FOUND", "no such service (it has no dead-letter queue)",
                       NULL);
        return SOUK_SERVICE_UNKNOWN;
    }
    return s;
}

/* Answers a failure of the broker: 503 when it does not answer (or a queue
 * of the topology is missing, as after a broker lost its definitions: the
 * workers declare it again when they reconnect), else 500. */
static void fail_broker(souk_request *req, const char *what, souk_status st)
{
    if (st == SOUK_ETIMEOUT || st == SOUK_ENOTFOUND)
        st = SOUK_EAMQP_UNAVAILABLE;
    if (st == SOUK_EFORBIDDEN || st == SOUK_EAUTH)
        SOUK_LOG(SOUK_LOG_ERROR,
                 "the gateway's broker user may not do this request_id=%s what=\"%s\" (its "
                 "permissions: souk-worker --permissions gateway)",
                 req->request_id, what);
    souk_http_fail_status(req, what, st);
}

static json_object *job_json(const struct job *j);

/* The job running on service's queue, copied into *copy; 0 when none. */
static int running_job(souk_deadletters *dl, souk_service service, struct job *copy)
{
    int found = 0;
    pthread_mutex_lock(&dl->jobs_lock);
    for (int i = 0; i < JOBS_MAX && !found; i++)
        if (dl->jobs[i].state == JOB_RUNNING && dl->jobs[i].service == service) {
            *copy = dl->jobs[i];
            found = 1;
        }
    pthread_mutex_unlock(&dl->jobs_lock);
    return found;
}

static void fail_replay_running(souk_request *req, const struct job *j)
{
    json_object *details = json_object_new_object();
    json_object_object_add(details, "replay", job_json(j));
    souk_http_fail(req, 409, "REPLAY_RUNNING",
                   "a replay of this dead-letter queue is running; poll it (details) and try "
                   "again when it is done",
                   details);
}

/* Takes service's queue for one operation: 409 while a replay job holds it
 * (or another operation holds it past LOCK_WAIT_S). Returns 1 when taken. */
static int lock_queue(souk_request *req, souk_service service)
{
    souk_deadletters *dl = req->gw->deadletters;
    struct job j;
    if (running_job(dl, service, &j)) {
        fail_replay_running(req, &j);
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += LOCK_WAIT_S;
    int rc = pthread_mutex_timedlock(&dl->queue_lock[service], &until);
    if (rc == 0)
        return 1;
    if (running_job(dl, service, &j))
        fail_replay_running(req, &j);
    else
        souk_http_fail(req, 409, "DLQ_BUSY",
                       "another operation on this dead-letter queue is taking long; try again",
                       NULL);
    return 0;
}

/* The service of the path, its queue taken and a connection to it open;
 * NULL after answering. Release with close_queue. */
static souk_dlq *open_queue(souk_request *req, souk_service *service)
{
    *service = path_service(req);
    if (*service == SOUK_SERVICE_UNKNOWN || !lock_queue(req, *service))
        return NULL;
    souk_status st;
    souk_dlq *dlq = souk_dlq_open(req->gw->cfg, *service, &st);
    if (!dlq) {
        pthread_mutex_unlock(&req->gw->deadletters->queue_lock[*service]);
        fail_broker(req, "opening the dead-letter queue", st);
    }
    return dlq;
}

static void close_queue(souk_request *req, souk_service service, souk_dlq *dlq)
{
    souk_dlq_close(dlq);
    pthread_mutex_unlock(&req->gw->deadletters->queue_lock[service]);
}

static void add_queue_fields(json_object *out, const souk_config *cfg, souk_service service)
{
    char queue[96], page[512];
    snprintf(queue, sizeof queue, "%s-service.dlq", souk_service_name(service));
    souk_system_queue_page(cfg, queue, page, sizeof page);
    json_object_object_add(out, "service", json_object_new_string(souk_service_name(service)));
    json_object_object_add(out, "queue", json_object_new_string(queue));
    json_object_object_add(out, "ui_url", json_object_new_string(page));
}

/* ---------------------------------------------------------------- jobs */

static void job_json_add(json_object *out, const struct job *j)
{
    const souk_dlq_replay_result *p = &j->progress;
    long remaining = p->planned - p->replayed - p->unroutable;
    char location[160];
    snprintf(location, sizeof location, "/admin/dlq/%s/replays/%s", souk_service_name(j->service),
             j->id);
    json_object_object_add(out, "id", json_object_new_string(j->id));
    json_object_object_add(out, "service", json_object_new_string(souk_service_name(j->service)));
    json_object_object_add(out, "state", json_object_new_string(job_state_names[j->state]));
    json_object_object_add(out, "planned", json_object_new_int64(p->planned));
    json_object_object_add(out, "replayed", json_object_new_int64(p->replayed));
    json_object_object_add(out, "unroutable", json_object_new_int64(p->unroutable));
    json_object_object_add(out, "remaining", json_object_new_int64(remaining > 0 ? remaining : 0));
    json_object_object_add(out, "error", j->error[0] ? json_object_new_string(j->error) : NULL);
    json_object_object_add(out, "started_at", json_object_new_string(j->started_at));
    json_object_object_add(out, "finished_at",
                           j->finished_at[0] ? json_object_new_string(j->finished_at) : NULL);
    json_object_object_add(out, "url", json_object_new_string(location));
}

static json_object *job_json(const struct job *j)
{
    json_object *out = json_object_new_object();
    job_json_add(out, j);
    return out;
}

static int job_progress(const souk_dlq_replay_result *so_far, void *arg)
{
    struct job *j = arg;
    pthread_mutex_lock(&j->owner->jobs_lock);
    j->progress = *so_far;
    pthread_mutex_unlock(&j->owner->jobs_lock);
    return atomic_load(&j->owner->stopping);
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    souk_deadletters *dl = j->owner;
    pthread_mutex_lock(&dl->queue_lock[j->service]);
    souk_status st;
    souk_dlq_replay_result result = {0};
    souk_dlq *dlq = souk_dlq_open(dl->cfg, j->service, &st);
    if (dlq) {
        souk_dlq_replay_opts opts = {.count = LONG_MAX, .progress = job_progress, .arg = j};
        st = souk_dlq_replay(dlq, &opts, &result);
        souk_dlq_close(dlq);
    }
    pthread_mutex_unlock(&dl->queue_lock[j->service]);
    pthread_mutex_lock(&dl->jobs_lock);
    if (dlq)
        j->progress = result;
    if (st == SOUK_OK || st == SOUK_ENOTFOUND) {
        /* unroutable messages (counted) stay in the DLQ: the replay itself is done */
        j->state = JOB_DONE;
    } else if (st == SOUK_ESTOPPED) {
        j->state = JOB_STOPPED;
        snprintf(j->error, sizeof j->error, "the gateway stopped; what was not replayed stays");
    } else {
        j->state = JOB_FAILED;
        snprintf(j->error, sizeof j->error, "%s; what was not replayed stays in the DLQ",
                 souk_strerror(st));
    }
    souk_now_iso(j->finished_at, sizeof j->finished_at);
    const char *state = job_state_names[j->state];
    char id[37];
    memcpy(id, j->id, sizeof id);
    pthread_mutex_unlock(&dl->jobs_lock);
    SOUK_LOG(st == SOUK_OK ? SOUK_LOG_INFO : SOUK_LOG_WARN,
             "dlq replay %s service=%s replay_id=%s planned=%ld replayed=%ld unroutable=%ld "
             "error=\"%s\"",
             state, souk_service_name(j->service), id, result.planned, result.replayed,
             result.unroutable, st == SOUK_OK || st == SOUK_ENOTFOUND ? "" : souk_strerror(st));
    return NULL;
}

/* A slot for a new job: a free one, else the oldest finished one (its
 * thread joined). NULL when every slot runs, which JOBS_MAX above the
 * number of services rules out. Called with jobs_lock held. */
static struct job *free_slot(souk_deadletters *dl)
{
    struct job *best = NULL;
    for (int i = 0; i < JOBS_MAX; i++) {
        struct job *j = &dl->jobs[i];
        if (j->state == JOB_FREE)
            return j;
        if (j->state != JOB_RUNNING && (!best || j->started < best->started))
            best = j;
    }
    if (best && best->joinable) {
        pthread_join(best->thread, NULL); /* finished: its last step is the log line */
        best->joinable = 0;
    }
    return best;
}

/* ------------------------------------------------------------- handlers */

void souk_deadletters_overview(souk_request *req)
{
    json_object *services = json_object_new_array();
    for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
        souk_status st;
        souk_dlq *dlq = souk_dlq_open(req->gw->cfg, (souk_service)s, &st);
        long depth = 0;
        if (dlq)
            st = souk_dlq_depth(dlq, &depth);
        souk_dlq_close(dlq);
        if (st != SOUK_OK) {
            json_object_put(services);
            fail_broker(req, "reading the dead-letter queues", st);
            return;
        }
        json_object *item = json_object_new_object();
        add_queue_fields(item, req->gw->cfg, (souk_service)s);
        json_object_object_add(item, "depth", json_object_new_int64(depth));
        /* the latest replay of this queue, running or not */
        souk_deadletters *dl = req->gw->deadletters;
        json_object *replay = NULL;
        pthread_mutex_lock(&dl->jobs_lock);
        const struct job *latest = NULL;
        for (int i = 0; i < JOBS_MAX; i++) {
            const struct job *j = &dl->jobs[i];
            if (j->state != JOB_FREE && j->service == (souk_service)s &&
                (!latest || j->started > latest->started))
                latest = j;
        }
        if (latest)
            replay = job_json(latest);
        pthread_mutex_unlock(&dl->jobs_lock);
        json_object_object_add(item, "replay", replay);
        json_object_array_add(services, item);
    }
    json_object *body = json_object_new_object();
    json_object_object_add(body, "services", services);
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

/* The short form of a dead letter, in a group. */
static json_object *summary_json(const souk_envelope *env)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "message_id", json_object_new_string(env->message_id));
    json_object_object_add(m, "type", json_object_new_string(env->type));
    json_object_object_add(m, "order_id", json_object_new_string(env->correlation_id));
    json_object_object_add(m, "attempts", json_object_new_int(env->attempts));
    json_object_object_add(m, "first_failure",
                           env->first_failure[0] ? json_object_new_string(env->first_failure)
                                                 : NULL);
    json_object_object_add(m, "replayed", json_object_new_int(env->replayed));
    return m;
}

/* Groups by reason, as peeking visits them: reason text -> group. */
static void group_one(const amqp_message_t *message, const souk_envelope *env, void *arg)
{
    (void)message;
    json_object *groups = arg, *g = NULL;
    if (!json_object_object_get_ex(groups, env->error, &g)) {
        g = json_object_new_object();
        json_object_object_add(g, "reason",
                               env->error[0] ? json_object_new_string(env->error) : NULL);
        json_object_object_add(g, "count", json_object_new_int64(0));
        json_object_object_add(g, "types", json_object_new_object());
        json_object_object_add(g, "first_failure", NULL);
        json_object_object_add(g, "last_failure", NULL);
        json_object_object_add(g, "messages", json_object_new_array());
        json_object_object_add(groups, env->error, g);
    }
    json_object *count = json_object_object_get(g, "count");
    json_object_set_int64(count, json_object_get_int64(count) + 1);
    json_object *types = json_object_object_get(g, "types"), *n = NULL;
    const char *type = env->type[0] ? env->type : "(none)";
    if (json_object_object_get_ex(types, type, &n))
        json_object_set_int64(n, json_object_get_int64(n) + 1);
    else
        json_object_object_add(types, type, json_object_new_int64(1));
    if (env->first_failure[0]) {
        /* ISO 8601 in UTC: text order is time order */
        const char *first = json_object_get_string(json_object_object_get(g, "first_failure"));
        const char *last = json_object_get_string(json_object_object_get(g, "last_failure"));
        if (!first || strcmp(env->first_failure, first) < 0)
            json_object_object_add(g, "first_failure", json_object_new_string(env->first_failure));
        if (!last || strcmp(env->first_failure, last) > 0)
            json_object_object_add(g, "last_failure", json_object_new_string(env->first_failure));
    }
    json_object *messages = json_object_object_get(g, "messages");
    if (json_object_array_length(messages) < GROUP_MESSAGES_MAX)
        json_object_array_add(messages, summary_json(env));
}

static int by_count(const void *a, const void *b)
{
    json_object *ga = *(json_object *const *)a, *gb = *(json_object *const *)b;
    int64_t ca = json_object_get_int64(json_object_object_get(ga, "count"));
    int64_t cb = json_object_get_int64(json_object_object_get(gb, "count"));
    if (ca != cb)
        return ca > cb ? -1 : 1;
    const char *ra = json_object_get_string(json_object_object_get(ga, "reason"));
    const char *rb = json_object_get_string(json_object_object_get(gb, "reason"));
    return strcmp(ra ? ra : "", rb ? rb : "");
}

/* The peek's depth and how much of it was looked at. */
static void add_scan_fields(json_object *out, const souk_dlq_peek_result *peeked)
{
    json_object_object_add(out, "depth", json_object_new_int64(peeked->depth));
    json_object_object_add(out, "scanned", json_object_new_int64(peeked->seen));
    json_object_object_add(out, "truncated", json_object_new_boolean(peeked->depth > peeked->seen));
}

void souk_deadletters_groups(souk_request *req)
{
    souk_service service;
    souk_dlq *dlq = open_queue(req, &service);
    if (!dlq)
        return;
    json_object *by_reason = json_object_new_object();
    souk_dlq_peek_result peeked;
    souk_status st = souk_dlq_peek(dlq, SOUK_DLQ_SCAN_MAX, group_one, by_reason, &peeked);
    close_queue(req, service, dlq);
    if (st != SOUK_OK) {
        json_object_put(by_reason);
        fail_broker(req, "reading the dead-letter queue", st);
        return;
    }
    json_object *groups = json_object_new_array();
    json_object_object_foreach(by_reason, reason, g)
    {
        (void)reason;
        json_object_array_add(groups, json_object_get(g));
    }
    json_object_put(by_reason);
    json_object_array_sort(groups, by_count);
    json_object *body = json_object_new_object();
    add_queue_fields(body, req->gw->cfg, service);
    add_scan_fields(body, &peeked);
    json_object_object_add(body, "groups", groups);
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

/* What the listing keeps while peeking. */
struct listing {
    const char *reason;     /* only this x-souk-error (NULL: any) */
    const char *message_id; /* only this id (NULL: any) */
    long offset, limit;
    long matched;
    json_object *items;
};

static void list_one(const amqp_message_t *message, const souk_envelope *env, void *arg)
{
    struct listing *l = arg;
    if (l->reason && strcmp(env->error, l->reason) != 0)
        return;
    if (l->message_id && strcmp(env->message_id, l->message_id) != 0)
        return;
    if (l->matched >= l->offset && l->matched < l->offset + l->limit)
        json_object_array_add(l->items, souk_dlq_message_json(message, env));
    l->matched++;
}

/* Peeks with l into the open queue; answers and returns 0 on a failure. */
static int peek_listing(souk_request *req, souk_service service, souk_dlq *dlq, struct listing *l,
                        souk_dlq_peek_result *peeked)
{
    l->items = json_object_new_array();
    souk_status st = souk_dlq_peek(dlq, SOUK_DLQ_SCAN_MAX, list_one, l, peeked);
    close_queue(req, service, dlq);
    if (st != SOUK_OK) {
        json_object_put(l->items);
        fail_broker(req, "reading the dead-letter queue", st);
        return 0;
    }
    return 1;
}

void souk_deadletters_list(souk_request *req)
{
    long limit, offset;
    if (souk_http_query_long(req, "limit", SOUK_HTTP_PAGE_LIMIT_DEFAULT, 1,
                             SOUK_HTTP_PAGE_LIMIT_MAX, &limit) ||
        souk_http_query_long(req, "offset", 0, 0, SOUK_DLQ_SCAN_MAX - 1, &offset))
        return;
    char reason[512];
    int by_reason = souk_http_query_text(req, "reason", reason, sizeof reason);
    souk_service service;
    souk_dlq *dlq = open_queue(req, &service);
    if (!dlq)
        return;
    struct listing l = {.reason = by_reason ? reason : NULL, .offset = offset, .limit = limit};
    souk_dlq_peek_result peeked;
    if (!peek_listing(req, service, dlq, &l, &peeked))
        return;
    json_object *body = json_object_new_object();
    add_queue_fields(body, req->gw->cfg, service);
    add_scan_fields(body, &peeked);
    json_object_object_add(body, "items", l.items);
    json_object_object_add(body, "limit", json_object_new_int64(limit));
    json_object_object_add(body, "offset", json_object_new_int64(offset));
    json_object_object_add(body, "total", json_object_new_int64(l.matched));
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

static void fail_no_message(souk_request *req)
{
    souk_http_fail(req, 404, "NOT_FOUND",
                   "no message of this id among the first messages of the dead-letter queue", NULL);
}

void souk_deadletters_get(souk_request *req)
{
    souk_service service;
    souk_dlq *dlq = open_queue(req, &service);
    if (!dlq)
        return;
    struct listing l = {.message_id = req->params[1], .limit = 1};
    souk_dlq_peek_result peeked;
    if (!peek_listing(req, service, dlq, &l, &peeked))
        return;
    if (json_object_array_length(l.items) == 0)
        fail_no_message(req);
    else
        souk_http_respond(req, 200, json_object_array_get_idx(l.items, 0));
    json_object_put(l.items);
}

static void respond_replayed(souk_request *req, souk_service service, const char *message_id,
                             const souk_dlq_replay_result *r)
{
    json_object *body = json_object_new_object();
    add_queue_fields(body, req->gw->cfg, service);
    json_object_object_add(body, "message_id", json_object_new_string(message_id));
    json_object_object_add(body, "replayed", json_object_new_int64(r->replayed));
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

void souk_deadletters_replay_one(souk_request *req)
{
    souk_service service;
    souk_dlq *dlq = open_queue(req, &service);
    if (!dlq)
        return;
    const char *id = req->params[1];
    souk_dlq_replay_opts opts = {.count = 1, .message_id = id, .scan = SOUK_DLQ_SCAN_MAX};
    souk_dlq_replay_result r;
    souk_status st = souk_dlq_replay(dlq, &opts, &r);
    close_queue(req, service, dlq);
    SOUK_LOG(SOUK_LOG_INFO,
             "dlq replay of one message request_id=%s service=%s message_id=%s replayed=%ld "
             "unroutable=%ld status=%s",
             req->request_id, souk_service_name(service), id, r.replayed, r.unroutable,
             souk_status_name(st));
    if (st == SOUK_OK && r.replayed == 1)
        respond_replayed(req, service, id, &r);
    else if (st == SOUK_OK)
        fail_no_message(req);
    else if (st == SOUK_ENOTFOUND && r.unroutable > 0)
        souk_http_fail(req, 409, "UNROUTABLE",
                       "its exchange is missing or has no queue bound to it; it stays in the "
                       "dead-letter queue",
                       NULL);
    else
        fail_broker(req, "replaying a dead letter", st);
}

void souk_deadletters_replay_all(souk_request *req)
{
    souk_service service = path_service(req);
    if (service == SOUK_SERVICE_UNKNOWN)
        return;
    souk_deadletters *dl = req->gw->deadletters;
    /* A broker that does not answer is said now, not in the job. */
    souk_status st;
    souk_dlq *probe = souk_dlq_open(req->gw->cfg, service, &st);
    long depth = 0;
    if (probe)
        st = souk_dlq_depth(probe, &depth);
    souk_dlq_close(probe);
    if (st != SOUK_OK) {
        fail_broker(req, "reading the dead-letter queue", st);
        return;
    }
    pthread_mutex_lock(&dl->jobs_lock);
    struct job running;
    for (int i = 0; i < JOBS_MAX; i++)
        if (dl->jobs[i].state == JOB_RUNNING && dl->jobs[i].service == service) {
            running = dl->jobs[i];
            pthread_mutex_unlock(&dl->jobs_lock);
            fail_replay_running(req, &running);
            return;
        }
    struct job *j = free_slot(dl);
    souk_assert(j != NULL);
    memset(&j->progress, 0, sizeof j->progress);
    j->progress.planned = depth; /* the job's own count replaces it at its first message */
    souk_uuid_v4(j->id);
    j->service = service;
    j->state = JOB_RUNNING;
    j->error[0] = '\0';
    j->finished_at[0] = '\0';
    souk_now_iso(j->started_at, sizeof j->started_at);
    j->started = souk_monotonic_seconds();
    int rc = pthread_create(&j->thread, NULL, job_run, j);
    if (rc != 0) {
        j->state = JOB_FREE;
        pthread_mutex_unlock(&dl->jobs_lock);
        souk_http_internal(req, "starting a replay thread", SOUK_EIO);
        return;
    }
    j->joinable = 1;
    json_object *body = job_json(j);
    pthread_mutex_unlock(&dl->jobs_lock);
    SOUK_LOG(SOUK_LOG_INFO, "dlq replay started request_id=%s service=%s replay_id=%s depth=%ld",
             req->request_id, souk_service_name(service),
             json_object_get_string(json_object_object_get(body, "id")), depth);
    souk_http_add_header(req, "Location",
                         json_object_get_string(json_object_object_get(body, "url")));
    souk_http_respond(req, 202, body);
    json_object_put(body);
}

void souk_deadletters_replay_status(souk_request *req)
{
    souk_service service = path_service(req);
    if (service == SOUK_SERVICE_UNKNOWN)
        return;
    souk_deadletters *dl = req->gw->deadletters;
    json_object *body = NULL;
    pthread_mutex_lock(&dl->jobs_lock);
    for (int i = 0; i < JOBS_MAX && !body; i++) {
        const struct job *j = &dl->jobs[i];
        if (j->state != JOB_FREE && j->service == service && strcmp(j->id, req->params[1]) == 0)
            body = job_json(j);
    }
    pthread_mutex_unlock(&dl->jobs_lock);
    if (!body) {
        souk_http_fail(req, 404, "NOT_FOUND",
                       "no such replay on this gateway (finished ones are kept while there is "
                       "room)",
                       NULL);
        return;
    }
    souk_http_respond(req, 200, body);
    json_object_put(body);
}

void souk_deadletters_purge(souk_request *req)
{
    souk_service service;
    souk_dlq *dlq = open_queue(req, &service);
    if (!dlq)
        return;
    long purged = 0;
    souk_status st = souk_dlq_purge(dlq, &purged);
    close_queue(req, service, dlq);
    if (st != SOUK_OK) {
        fail_broker(req, "purging the dead-letter queue", st);
        return;
    }
    SOUK_LOG(SOUK_LOG_WARN, "dlq purged request_id=%s service=%s purged=%ld admin=%s",
             req->request_id, souk_service_name(service), purged, req->claims.sub);
    json_object *body = json_object_new_object();
    add_queue_fields(body, req->gw->cfg, service);
    json_object_object_add(body, "purged", json_object_new_int64(purged));
    souk_http_respond(req, 200, body);
    json_object_put(body);
}
