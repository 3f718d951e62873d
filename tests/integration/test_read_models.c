/* The gateway's roles in other services' schemas read the views those
 * schemas publish for it (sql/<schema>/NNN_gateway_views.sql) and nothing
 * else, so a service can change its tables without breaking the gateway. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/harness.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

TestSuite(read_models, .timeout = 60);

/* The SQLSTATE of sql run as the schema's gateway role ("" when it ran). */
static const char *run_as_gateway(const char *schema, const char *sql)
{
    static char state[8];
    char role[64];
    snprintf(role, sizeof role, "souk_%s_gateway", schema);
    PGconn *db = th_pg_as(role, role);
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PGresult *res = PQexec(db, sql);
    const char *s =
        PQresultStatus(res) == PGRES_TUPLES_OK ? "" : PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s", s ? s : "?");
    PQclear(res);
    PQfinish(db);
    return state;
}

#define DENIED "42501"

Test(read_models, the_gateway_reads_each_schemas_views_and_no_table)
{
    static const struct {
        const char *schema, *view, *table;
    } models[] = {
        {"orders", "orders.gateway_orders", "orders.orders"},
        {"orders", "orders.gateway_order_lines", "orders.order_lines"},
        {"orders", "orders.gateway_order_events", "orders.order_events"},
        {"inventory", "inventory.gateway_stock", "inventory.stock"},
        {"inventory", NULL, "inventory.reservations"},
        {"analytics", "analytics.gateway_order_events", "analytics.order_events"},
        {"notification", "notification.gateway_notifications", "notification.notifications"},
        {"payment", NULL, "payment.payments"},
        {"shipping", NULL, "shipping.shipments"},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char sql[160];
        if (models[i].view) {
            snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 1", models[i].view);
            cr_assert_str_eq(run_as_gateway(models[i].schema, sql), "", "%s is not readable",
                             models[i].view);
        }
        snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 1", models[i].table);
        cr_assert_str_eq(run_as_gateway(models[i].schema, sql), DENIED,
                         "the gateway can read the table %s", models[i].table);
    }
}

/* The gateway's one way to change stock. */
Test(read_models, inventory_admin_functions_still_work_for_the_gateway)
{
    cr_assert_str_eq(run_as_gateway("inventory", "SELECT on_hand FROM inventory.admin_adjust_stock("
                                                 "'00000000-0000-4000-8000-00000000ab01', 0)"),
                     "");
}
