/* The saga list (see sagas.h). The view decides a saga's phase from what
 * the order service recorded; whether an unfinished one is stuck depends on
 * the caller's stuck_after, so that last step is this query's. */
#include "gateway/sagas.h"

#include <stdio.h>
#include <string.h>

#include "core/db.h"
#include "core/uuid.h"
#include "gateway/longpoll.h"

const char *const souk_sagas_states[] = {"in_flight", "compensating", "stuck",
                                         "completed", "cancelled",    NULL};
const char *const souk_sagas_cancel_reasons[] = {"out_of_stock", "payment_declined",
                                                 "shipping_failed", "timed_out", NULL};

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* A saga's state: its phase, or stuck when in flight with no hop for $3
 * seconds. */
#define STATE(t)                                                                                   \
    "CASE WHEN " t ".phase = 'in_flight' AND " t ".last_hop_at < now() - "                         \
    "make_interval(secs => $3::int) THEN 'stuck' ELSE " t ".phase END"

/* The filter: $1 an order id or NULL, $2 the search text or '', $4 and $5
 * the window, $6 a cancel reason or '', $7 a state or ''. The status tests
 * are what each state implies, so that a filtered list computes the state
 * only of the orders that can be in it. Not clang-formatted: it splits
 * the SQL at its macros. */
/* clang-format off */
#define MATCHES(t)                                                                                 \
    "($2::text = '' OR " t ".order_id = $1::uuid OR " t ".trace_id = lower($2) OR "                \
    "lower(" t ".customer_email) = lower($2)) "                                                    \
    "AND " t ".created_at >= $4::timestamptz AND " t ".created_at < $5::timestamptz "              \
    "AND ($6::text = '' OR " t ".cancel_reason = $6) "                                             \
    "AND ($7::text NOT IN ('in_flight', 'stuck') OR " t ".status NOT IN ('COMPLETED', 'CANCELLED')) " \
    "AND ($7::text <> 'completed' OR " t ".status = 'COMPLETED') "                                 \
    "AND ($7::text <> 'cancelled' OR " t ".status = 'CANCELLED') "                                 \
    "AND ($7::text <> 'compensating' OR " t ".status <> 'COMPLETED') "                             \
    "AND ($7::text = '' OR " STATE(t) " = $7)"

/* A page ($8, $9) newest first, with the total: the hops and the last hop
 * (subqueries of the view) are read for the page's rows only. */
static const char list_sql[] =
    "SELECT s.order_id, s.customer_id, s.customer_email, s.status, s.cancel_reason, s.trace_id, "
    ISO("s.created_at") ", " ISO("s.updated_at") ", " ISO("s.last_hop_at") ", "
    STATE("s") ", s.hops, "
    "(SELECT count(*) FROM orders.gateway_sagas c WHERE " MATCHES("c") ") "
    "FROM orders.gateway_sagas s WHERE " MATCHES("s") " "
    "ORDER BY s.created_at DESC, s.order_id LIMIT $8::int OFFSET $9::int";
/* clang-format on */

static json_object *saga_json(PGresult *res, int row)
{
    json_object *o = json_object_new_object();
    static const char *const names[] = {
        "order_id", "customer_id", "customer_email", "status",      "cancel_reason",
        "trace_id", "created_at",  "updated_at",     "last_hop_at", "state"};
    for (int col = 0; col < (int)(sizeof names / sizeof names[0]); col++)
        json_object_object_add(
            o, names[col],
            PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col)));
    json_object_object_add(o, "hops",
                           json_object_new_int64(strtoll(PQgetvalue(res, row, 10), NULL, 10)));
    return o;
}

/* The query as read from the request. */
struct filter {
    char q[256];
    char state[32];
    char reason[32];
    char from[64];
    char to[64];
    long stuck_after;
    long limit;
    long offset;
};

/* Reads the text parameter name, which must be one of allowed when given.
 * Returns 0, or -1 after answering 400. */
static int read_choice(souk_request *req, const char *name, const char *const *allowed, char *out,
                       size_t cap)
{
    out[0] = '\0';
    if (!souk_http_query_text(req, name, out, cap) || !out[0])
        return 0;
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(out, *a) == 0)
            return 0;
    char message[300];
    size_t n = (size_t)snprintf(message, sizeof message, "query parameter %s must be one of", name);
    for (const char *const *a = allowed; *a && n < sizeof message; a++)
        n +=
            (size_t)snprintf(message + n, sizeof message - n, "%s %s", a == allowed ? "" : ",", *a);
    json_object *details = json_object_new_object();
    json_object_object_add(details, "field", json_object_new_string(name));
    json_object_object_add(details, "reason", json_object_new_string("not one of its values"));
    souk_http_fail(req, 400, "VALIDATION_FAILED", message, details);
    return -1;
}

static int read_filter(souk_request *req, struct filter *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->from, sizeof f->from, "-infinity");
    snprintf(f->to, sizeof f->to, "infinity");
    souk_http_query_text(req, "q", f->q, sizeof f->q);
    souk_http_query_text(req, "from", f->from, sizeof f->from);
    souk_http_query_text(req, "to", f->to, sizeof f->to);
    if (souk_http_page(req, &f->limit, &f->offset) ||
        souk_http_query_long(req, "stuck_after", SOUK_SAGAS_STUCK_AFTER_DEFAULT_S, 1,
                             SOUK_SAGAS_STUCK_AFTER_MAX_S, &f->stuck_after) ||
        read_choice(req, "state", souk_sagas_states, f->state, sizeof f->state) ||
        read_choice(req, "reason", souk_sagas_cancel_reasons, f->reason, sizeof f->reason))
        return -1;
    return 0;
}

static int read_page(souk_request *req, void *arg, json_object **out)
{
    const struct filter *f = arg;
    PGconn *db = souk_http_db(req, req->gw->orders_read, "orders database");
    if (!db)
        return -1;
    char stuck_s[16], limit_s[16], offset_s[16];
    snprintf(stuck_s, sizeof stuck_s, "%ld", f->stuck_after);
    snprintf(limit_s, sizeof limit_s, "%ld", f->limit);
    snprintf(offset_s, sizeof offset_s, "%ld", f->offset);
    const char *params[9] = {souk_uuid_valid(f->q) ? f->q : NULL,
                             f->q,
                             stuck_s,
                             f->from,
                             f->to,
                             f->reason,
                             f->state,
                             limit_s,
                             offset_s};
    PGresult *res = souk_db_exec_prepared(db, list_sql, 9, params);
    souk_status st = souk_db_result_status(db, res);
    int rc = -1;
    if (st != SOUK_OK) {
        if (!souk_http_fail_window(req, res))
            souk_http_fail_status(req, "listing sagas", st);
    } else {
        *out = souk_http_page_body(res, saga_json, f->limit, f->offset, 11);
        rc = 0;
    }
    PQclear(res);
    souk_dbpool_release(req->gw->orders_read, db);
    return rc;
}

void souk_sagas_list(souk_request *req)
{
    struct filter f;
    if (read_filter(req, &f))
        return;
    souk_longpoll_serve(req, NULL, read_page, &f);
}
