/* The system view (see system.h). Edge rates: every exchange is a fanout,
 * which hands each message it takes in to every queue bound to it, so an
 * exchange -> queue edge carries its exchange's publish-in rate when the
 * binding exists (0 otherwise), and a publisher -> exchange edge the same.
 * The management API samples rates every collect_statistics_interval (1 s
 * on the stacks of `souk up` and `souk test`, 5 s by default). */
#include "gateway/system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "events/amqp.h"
#include "events/mgmt.h"
#include "events/topology.h"

#define MGMT_TIMEOUT_MS 5000L

static const char *ui_base(const souk_config *cfg)
{
    const char *ui = souk_config_str(cfg, SOUK_CFG_RABBIT_UI_URL);
    return ui[0] ? ui : souk_config_str(cfg, SOUK_CFG_RABBIT_MGMT_URL);
}

void souk_system_queue_page(const souk_config *cfg, const char *queue, char *buf, size_t cap)
{
    char vhost[128];
    souk_amqp_vhost(cfg, vhost, sizeof vhost);
    souk_mgmt_queue_page(ui_base(cfg), vhost, queue, buf, cap);
}

/* ------------------------------------------------------------- broker */

/* The management API's listings the view is made of. */
struct broker {
    json_object *queues, *exchanges, *bindings;
};

static void broker_free(struct broker *b)
{
    json_object_put(b->queues);
    json_object_put(b->exchanges);
    json_object_put(b->bindings);
}

/* Reads the three listings; answers and returns 0 on a failure. */
static int broker_read(souk_request *req, struct broker *b)
{
    const souk_config *cfg = req->gw->cfg;
    souk_mgmt_target api = {.url = souk_config_str(cfg, SOUK_CFG_RABBIT_MGMT_URL),
                            .timeout_ms = MGMT_TIMEOUT_MS};
    souk_config_amqp_credentials(cfg, &api.user, &api.password);
    char vhost[128], path[512];
    souk_amqp_vhost(cfg, vhost, sizeof vhost);
    const char *what[3] = {"queues", "exchanges", "bindings"};
    const char *columns[3] = {
        "name,messages,messages_ready,messages_unacknowledged,consumers,message_stats",
        "name,type,message_stats", "source,destination,destination_type"};
    json_object **into[3] = {&b->queues, &b->exchanges, &b->bindings};
    char v[384];
    souk_mgmt_encode(vhost, v, sizeof v); /* "/" is "%2F" */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/%s/%s?columns=%s", what[i], v, columns[i]);
        char err[256];
        souk_status st = souk_mgmt_get(&api, path, into[i], err, sizeof err);
        if (st == SOUK_OK && !json_object_is_type(*into[i], json_type_array)) {
            st = SOUK_EPARSE;
            snprintf(err, sizeof err, "GET /%s answered no list", what[i]);
        }
        if (st != SOUK_OK) {
            SOUK_LOG(st == SOUK_EAMQP_UNAVAILABLE ? SOUK_LOG_WARN : SOUK_LOG_ERROR,
                     "system view request_id=%s error=\"%s\"%s", req->request_id, err,
                     st == SOUK_EAUTH ? " (the gateway's broker user needs the management tag)"
                                      : "");
            broker_free(b);
            souk_http_fail_status(req, "reading the management API", st);
            return 0;
        }
    }
    return 1;
}

static json_object *find_named(json_object *list, const char *key, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i);
        const char *n = json_object_get_string(json_object_object_get(o, key));
        if (n && strcmp(n, name) == 0)
            return o;
    }
    return NULL;
}

static int bound(json_object *bindings, const char *exchange, const char *queue)
{
    for (size_t i = 0; i < json_object_array_length(bindings); i++) {
        json_object *b = json_object_array_get_idx(bindings, i);
        const char *src = json_object_get_string(json_object_object_get(b, "source"));
        const char *dst = json_object_get_string(json_object_object_get(b, "destination"));
        const char *type = json_object_get_string(json_object_object_get(b, "destination_type"));
        if (src && dst && type && strcmp(src, exchange) == 0 && strcmp(dst, queue) == 0 &&
            strcmp(type, "queue") == 0)
            return 1;
    }
    return 0;
}

static long long count_of(json_object *q, const char *key)
{
    return (long long)json_object_get_int64(json_object_object_get(q, key));
}

/* A rate rounded to 0.01 message/s: the API's own precision is no better. */
static json_object *rate_json(double rate)
{
    return json_object_new_double((double)(long long)(rate * 100 + 0.5) / 100);
}

/* The service a queue belongs to ("<service>-service", its retry queues
 * and DLQ) and its role in that family. */
static void queue_role(const char *name, json_object *out)
{
    const char *service = NULL, *role = "other";
    for (int s = 0; s < SOUK_SERVICE_COUNT && !service; s++) {
        char queue[64];
        souk_topology_queue_name((souk_service)s, queue, sizeof queue);
        size_t len = strlen(queue);
        if (strncmp(name, queue, len) != 0)
            continue;
        const char *rest = name + len;
        if (!*rest)
            role = "main";
        else if (strcmp(rest, ".dlq") == 0)
            role = "dlq";
        else if (strncmp(rest, ".retry.", 7) == 0)
            role = "retry";
        else
            continue;
        service = souk_service_name((souk_service)s);
    }
    json_object_object_add(out, "service", service ? json_object_new_string(service) : NULL);
    json_object_object_add(out, "role", json_object_new_string(role));
}

static int by_name(const void *a, const void *b)
{
    const char *na =
        json_object_get_string(json_object_object_get(*(json_object *const *)a, "name"));
    const char *nb =
        json_object_get_string(json_object_object_get(*(json_object *const *)b, "name"));
    return strcmp(na ? na : "", nb ? nb : "");
}

static json_object *queues_json(const souk_config *cfg, json_object *queues)
{
    json_object *out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(queues); i++) {
        json_object *q = json_object_array_get_idx(queues, i);
        const char *name = json_object_get_string(json_object_object_get(q, "name"));
        if (!name)
            continue;
        json_object *item = json_object_new_object();
        char page[512];
        souk_system_queue_page(cfg, name, page, sizeof page);
        json_object_object_add(item, "name", json_object_new_string(name));
        queue_role(name, item);
        json_object_object_add(item, "messages", json_object_new_int64(count_of(q, "messages")));
        json_object_object_add(item, "messages_ready",
                               json_object_new_int64(count_of(q, "messages_ready")));
        json_object_object_add(item, "messages_unacknowledged",
                               json_object_new_int64(count_of(q, "messages_unacknowledged")));
        json_object_object_add(item, "consumers", json_object_new_int64(count_of(q, "consumers")));
        json_object_object_add(item, "publish_per_s", rate_json(souk_mgmt_rate(q, "publish")));
        json_object_object_add(item, "deliver_per_s", rate_json(souk_mgmt_rate(q, "deliver_get")));
        json_object_object_add(item, "ack_per_s", rate_json(souk_mgmt_rate(q, "ack")));
        json_object_object_add(item, "redeliver_per_s", rate_json(souk_mgmt_rate(q, "redeliver")));
        json_object_object_add(item, "ui_url", json_object_new_string(page));
        json_object_array_add(out, item);
    }
    json_object_array_sort(out, by_name);
    return out;
}

/* The service that publishes event (every event has one). */
static const char *publisher_of(souk_event_type e)
{
    for (int s = 0; s <= SOUK_SERVICE_COUNT; s++)
        if (souk_service_publishes((souk_service)s, e))
            return souk_service_name((souk_service)s);
    return "unknown";
}

/* The exchanges and edges of the choreography, from the topology table,
 * with the broker's rates and bindings. */
static void graph_json(const souk_config *cfg, const struct broker *b, json_object *body)
{
    char vhost[128];
    souk_amqp_vhost(cfg, vhost, sizeof vhost);
    json_object *exchanges = json_object_new_array();
    json_object *edges = json_object_new_array();
    for (int e = 0; e < SOUK_EVENT_COUNT; e++) {
        const char *name = souk_event_name((souk_event_type)e);
        json_object *x = find_named(b->exchanges, "name", name);
        double in = x ? souk_mgmt_rate(x, "publish_in") : 0;
        char page[512];
        souk_mgmt_exchange_page(ui_base(cfg), vhost, name, page, sizeof page);
        json_object *item = json_object_new_object();
        json_object_object_add(item, "name", json_object_new_string(name));
        json_object_object_add(item, "publisher",
                               json_object_new_string(publisher_of((souk_event_type)e)));
        json_object_object_add(item, "declared", json_object_new_boolean(x != NULL));
        json_object_object_add(item, "publish_in_per_s", rate_json(in));
        json_object_object_add(item, "publish_out_per_s",
                               rate_json(x ? souk_mgmt_rate(x, "publish_out") : 0));
        json_object_object_add(item, "ui_url", json_object_new_string(page));
        json_object_array_add(exchanges, item);

        json_object *edge = json_object_new_object();
        json_object_object_add(edge, "kind", json_object_new_string("publish"));
        json_object_object_add(edge, "from",
                               json_object_new_string(publisher_of((souk_event_type)e)));
        json_object_object_add(edge, "to", json_object_new_string(name));
        json_object_object_add(edge, "exchange", json_object_new_string(name));
        json_object_object_add(edge, "bound", json_object_new_boolean(x != NULL));
        json_object_object_add(edge, "per_s", rate_json(in));
        json_object_array_add(edges, edge);
        for (int s = 0; s < SOUK_SERVICE_COUNT; s++) {
            if (!souk_service_consumes((souk_service)s, (souk_event_type)e))
                continue;
            char queue[64];
            souk_topology_queue_name((souk_service)s, queue, sizeof queue);
            int is_bound = bound(b->bindings, name, queue);
            edge = json_object_new_object();
            json_object_object_add(edge, "kind", json_object_new_string("route"));
            json_object_object_add(edge, "from", json_object_new_string(name));
            json_object_object_add(edge, "to", json_object_new_string(queue));
            json_object_object_add(edge, "exchange", json_object_new_string(name));
            json_object_object_add(edge, "bound", json_object_new_boolean(is_bound));
            json_object_object_add(edge, "per_s", rate_json(is_bound ? in : 0));
            json_object_array_add(edges, edge);
        }
    }
    json_object_object_add(body, "exchanges", exchanges);
    json_object_object_add(body, "edges", edges);
}

/* ------------------------------------------------------------ checkouts */

/* Orders that became final in the window, in buckets of bucket_s seconds
 * ending now: a saga's time is from the order's creation by the order
 * service to its final state (updated_at of a final order, which nothing
 * moves afterwards). */
static const char checkouts_sql[] =
    "WITH p AS (SELECT $1::int AS n, $2::int AS bucket_s, now() AS t), "
    "f AS (SELECT o.status, extract(epoch FROM o.updated_at - o.created_at) * 1000 AS ms, "
    "  LEAST(p.n - 1, floor(extract(epoch FROM o.updated_at - "
    "    (p.t - make_interval(secs => p.n * p.bucket_s))) / p.bucket_s)::int) AS b "
    "  FROM orders.gateway_orders o, p "
    "  WHERE o.status IN ('COMPLETED', 'CANCELLED') "
    "  AND o.updated_at > p.t - make_interval(secs => p.n * p.bucket_s) AND o.updated_at <= p.t), "
    "s AS (SELECT i, p.t - make_interval(secs => (p.n - i) * p.bucket_s) AS start, "
    "  count(f.b) FILTER (WHERE f.status = 'COMPLETED') AS completed, "
    "  count(f.b) FILTER (WHERE f.status = 'CANCELLED') AS cancelled, "
    "  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ms)::numeric, 1) AS p50, "
    "  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY f.ms)::numeric, 1) AS p99 "
    "  FROM p CROSS JOIN generate_series(0, p.n - 1) i LEFT JOIN f ON f.b = i "
    "  GROUP BY i, p.t, p.n, p.bucket_s) "
    "SELECT json_build_object("
    " 'to', (SELECT t FROM p), "
    " 'completed', (SELECT count(*) FROM f WHERE status = 'COMPLETED'), "
    " 'cancelled', (SELECT count(*) FROM f WHERE status = 'CANCELLED'), "
    " 'saga_ms', (SELECT json_build_object('count', count(*), "
    "   'p50', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), "
    "   'p99', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)) FROM f), "
    " 'series', (SELECT json_agg(json_build_object('start', start, 'completed', completed, "
    "   'cancelled', cancelled, 'p50_ms', p50, 'p99_ms', p99) ORDER BY i) FROM s))";

/* Answers and returns NULL on a failure. */
static json_object *checkouts_json(souk_request *req, long window)
{
    long bucket = window / 60 > 5 ? window / 60 : 5;
    long n = window / bucket;
    char n_text[24], bucket_text[24];
    snprintf(n_text, sizeof n_text, "%ld", n);
    snprintf(bucket_text, sizeof bucket_text, "%ld", bucket);
    PGconn *db = souk_http_db(req, req->gw->orders_read, "orders database");
    if (!db)
        return NULL;
    const char *params[2] = {n_text, bucket_text};
    PGresult *res = souk_db_exec_prepared(db, checkouts_sql, 2, params);
    souk_status st = souk_db_result_status(db, res);
    json_object *out = st == SOUK_OK ? json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    souk_dbpool_release(req->gw->orders_read, db);
    if (!out) {
        souk_http_fail_status(req, "reading the orders read model",
                              st == SOUK_OK ? SOUK_EPARSE : st);
        return NULL;
    }
    double span = (double)(n * bucket);
    json_object_object_add(out, "window_s", json_object_new_int64(n * bucket));
    json_object_object_add(out, "bucket_s", json_object_new_int64(bucket));
    json_object_object_add(
        out, "completed_per_s",
        rate_json((double)json_object_get_int64(json_object_object_get(out, "completed")) / span));
    json_object *series = json_object_object_get(out, "series");
    double last = 0;
    for (size_t i = 0; i < json_object_array_length(series); i++) {
        json_object *s = json_object_array_get_idx(series, i);
        last =
            (double)json_object_get_int64(json_object_object_get(s, "completed")) / (double)bucket;
        json_object_object_add(s, "completed_per_s", rate_json(last));
    }
    json_object_object_add(out, "current_completed_per_s", rate_json(last));
    return out;
}

void souk_system_view(souk_request *req)
{
    long window;
    if (souk_http_query_long(req, "window", SOUK_SYSTEM_WINDOW_DEFAULT, SOUK_SYSTEM_WINDOW_MIN,
                             SOUK_SYSTEM_WINDOW_MAX, &window))
        return;
    struct broker b = {0};
    if (!broker_read(req, &b))
        return;
    json_object *checkouts = checkouts_json(req, window);
    if (!checkouts) {
        broker_free(&b);
        return;
    }
    const souk_config *cfg = req->gw->cfg;
    json_object *body = json_object_new_object();
    json_object_object_add(body, "generated_at",
                           json_object_get(json_object_object_get(checkouts, "to")));
    json_object *rabbit = json_object_new_object();
    char base[512];
    snprintf(base, sizeof base, "%s", ui_base(cfg));
    json_object_object_add(rabbit, "ui_url", json_object_new_string(base));
    json_object_object_add(body, "rabbitmq", rabbit);
    json_object_object_add(body, "queues", queues_json(cfg, b.queues));
    graph_json(cfg, &b, body);
    json_object_object_del(checkouts, "to");
    json_object_object_add(body, "checkouts", checkouts);
    broker_free(&b);
    souk_http_respond(req, 200, body);
    json_object_put(body);
}
