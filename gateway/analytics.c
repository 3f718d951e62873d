/* The analytics summary. Figures are computed from the first occurrence of
 * each (order, event type) and an order's status from the furthest step it
 * reached, never from arrival order, so late or duplicated events do not
 * skew them. The window (from, to) selects orders by when they started. */
#include "gateway/analytics.h"

#include <stdio.h>
#include <string.h>

#include "core/db.h"

static const char summary_sql[] =
    "WITH ev AS (SELECT DISTINCT ON (order_id, type) order_id, type, occurred_at, payload "
    "  FROM analytics.gateway_order_events ORDER BY order_id, type, occurred_at), "
    "o AS (SELECT order_id, min(occurred_at) AS started, "
    "  CASE WHEN bool_or(type = 'OrderCancelled') THEN 'CANCELLED' "
    "       WHEN bool_or(type = 'OrderCompleted') THEN 'COMPLETED' "
    "       WHEN bool_or(type = 'PaymentSucceeded') THEN 'PAID' "
    "       WHEN bool_or(type = 'StockReserved') THEN 'STOCK_RESERVED' "
    "       ELSE 'PENDING' END AS status, "
    "  max(occurred_at) FILTER (WHERE type IN ('OrderCompleted', 'OrderCancelled')) AS ended "
    "  FROM ev GROUP BY order_id "
    "  HAVING min(occurred_at) >= $1::timestamptz AND min(occurred_at) < $2::timestamptz), "
    "e AS (SELECT ev.* FROM ev JOIN o USING (order_id)), "
    "rev AS (SELECT payload->>'currency' AS currency, "
    "  sum((payload->>'total_minor')::bigint) AS completed FROM e "
    "  WHERE type = 'OrderCompleted' GROUP BY 1), "
    "ref AS (SELECT e.payload->>'currency' AS currency, "
    "  sum((e.payload->>'amount_minor')::bigint) AS refunded FROM e JOIN o USING (order_id) "
    "  WHERE e.type = 'PaymentRefunded' AND o.status = 'COMPLETED' GROUP BY 1), "
    "top AS (SELECT l->>'product_id' AS product_id, max(l->>'sku') AS sku, "
    "  max(l->>'name') AS name, sum((l->>'quantity')::int) AS units "
    "  FROM e JOIN o USING (order_id) CROSS JOIN jsonb_array_elements(e.payload->'lines') l "
    "  WHERE e.type = 'OrderCreated' AND o.status = 'COMPLETED' "
    "  GROUP BY 1 ORDER BY units DESC, product_id LIMIT 10), "
    "dur AS (SELECT extract(epoch FROM ended - started) * 1000 AS ms FROM o "
    "  WHERE ended IS NOT NULL), "
    "steps AS (SELECT lag(type) OVER w AS prev, type, "
    "  extract(epoch FROM occurred_at - lag(occurred_at) OVER w) * 1000 AS ms FROM e "
    "  WINDOW w AS (PARTITION BY order_id ORDER BY occurred_at, type)) "
    "SELECT json_build_object("
    " 'orders', (SELECT count(*) FROM o), "
    " 'orders_by_status', (SELECT COALESCE(json_object_agg(status, n), '{}') "
    "   FROM (SELECT status, count(*) AS n FROM o GROUP BY status) s), "
    " 'cancellations_by_reason', (SELECT COALESCE(json_object_agg(reason, n), '{}') "
    "   FROM (SELECT payload->>'reason' AS reason, count(*) AS n FROM e "
    "   WHERE type = 'OrderCancelled' GROUP BY 1) c), "
    " 'revenue_minor_by_currency', (SELECT COALESCE(json_object_agg(r.currency, "
    "   r.completed - COALESCE(f.refunded, 0)), '{}') FROM rev r LEFT JOIN ref f USING "
    "(currency)), "
    " 'top_products', (SELECT COALESCE(json_agg(top), '[]') FROM top), "
    " 'saga_duration_ms', (SELECT json_build_object('count', count(*), "
    "   'p50', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), "
    "   'p95', round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1), "
    "   'p99', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)) FROM dur), "
    " 'step_ms', (SELECT COALESCE(json_object_agg(step, stats), '{}') FROM ("
    "   SELECT prev || ' -> ' || type AS step, json_build_object('count', count(*), "
    "   'p50', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), "
    "   'p95', round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1)) AS stats "
    "   FROM steps WHERE prev IS NOT NULL GROUP BY prev, type) t))";

void souk_analytics_summary(souk_request *req)
{
    char from[64] = "-infinity", to[64] = "infinity";
    souk_http_query_text(req, "from", from, sizeof from);
    souk_http_query_text(req, "to", to, sizeof to);
    PGconn *db = souk_http_db(req, req->gw->analytics_read, "analytics database");
    if (!db)
        return;
    souk_status st;
    const char *params[2] = {from, to};
    PGresult *res = PQexecParams(db, summary_sql, 2, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        if (!souk_http_fail_window(req, res))
            souk_http_fail_status(req, "computing the summary", st);
    } else {
        json_object *body = json_tokener_parse(PQgetvalue(res, 0, 0));
        json_object *window = json_object_new_object();
        json_object_object_add(window, "from", json_object_new_string(from));
        json_object_object_add(window, "to", json_object_new_string(to));
        json_object_object_add(body, "window", window);
        souk_http_respond(req, 200, body);
        json_object_put(body);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->analytics_read, db);
}
