/* souk-load's per-order database invariants (load_db_checks) against the
 * real schemas of the stack `souk test` started: orders written straight
 * into each service's tables, one per kind of damage, must be counted by
 * the check that names it and by no other; an undamaged set passes them
 * all. The rows are deleted again at the end, so the whole-database
 * invariants of the e2e tests still hold. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load_db.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "tests/support/harness.h"

enum checkout { OWN, OTHER_ORDER, NO_ORDER_ROW };

/* One order as the services would have left it. */
struct fake {
    const char *status; /* COMPLETED or CANCELLED */
    long long total;
    const char *payment; /* payment status, or NULL for no payment */
    long long amount, refunded;
    int shipped;
    const char *reservation; /* reservation status, or NULL */
    const char *notified;    /* order_completed, order_cancelled, both, or NULL */
    enum checkout checkout;
    int in_run; /* given to the checks (0: an order of the customer the run did not make) */
};

static PGconn *admin;
static load_db *db;
static char customer[37];
static char product[37];
static struct load_results results;

TH_REQUIRE_STACK(TH_NEEDS_STACK)

static void setup(void)
{
    admin = th_pg_admin();
    cr_assert_eq(PQstatus(admin), CONNECTION_OK, "%s", PQerrorMessage(admin));
    char conninfo[512], err[256];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s dbname=souk user=postgres",
             getenv("SOUK_TEST_PG_SOCKET"), getenv("SOUK_PG_PORT"));
    db = load_db_open(conninfo, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    souk_uuid_v4(customer);
    souk_uuid_v4(product);
    memset(&results, 0, sizeof results);
}

static void exec(const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(admin, sql, n, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

static void teardown(void)
{
    if (admin && customer[0]) {
        const char *p[1] = {customer};
        static const char *const by_order[] = {
            "DELETE FROM payment.payments WHERE order_id IN (SELECT order_id FROM cart.checkouts "
            "WHERE customer_id = $1) OR order_id IN (SELECT id FROM orders.orders WHERE "
            "customer_id = $1)",
            "DELETE FROM shipping.shipments WHERE order_id IN (SELECT id FROM orders.orders WHERE "
            "customer_id = $1)",
            "DELETE FROM inventory.reservations WHERE order_id IN (SELECT id FROM orders.orders "
            "WHERE customer_id = $1)",
            "DELETE FROM notification.notifications WHERE customer_id = $1",
            "DELETE FROM orders.order_lines WHERE order_id IN (SELECT id FROM orders.orders WHERE "
            "customer_id = $1)",
            "DELETE FROM orders.orders WHERE customer_id = $1",
            "DELETE FROM cart.checkouts WHERE customer_id = $1",
        };
        for (size_t i = 0; i < sizeof by_order / sizeof by_order[0]; i++) {
            PGresult *res = PQexecParams(admin, by_order[i], 1, NULL, p, NULL, NULL, 0);
            PQclear(res);
        }
    }
    for (size_t i = 0; i < results.count; i++)
        free(results.orders[i]);
    free(results.orders);
    memset(&results, 0, sizeof results);
    load_db_close(db);
    db = NULL;
    PQfinish(admin);
    admin = NULL;
}

TestSuite(load_checks, .init = setup, .fini = teardown, .timeout = 60);

static void notify(const char *id, const char *kind)
{
    const char *p[3] = {id, customer, kind};
    exec("INSERT INTO notification.notifications (id, order_id, customer_id, kind, subject, body, "
         "channel) VALUES (gen_random_uuid(), $1, $2, $3, 'subject', 'body', 'log')",
         3, p);
}

/* Writes one order's rows and, when in_run, adds it to the results. */
static void add(const struct fake *f)
{
    char id[37], other[37], total[24], amount[24], refunded[24];
    souk_uuid_v4(id);
    souk_uuid_v4(other);
    snprintf(total, sizeof total, "%lld", f->total);
    snprintf(amount, sizeof amount, "%lld", f->amount);
    snprintf(refunded, sizeof refunded, "%lld", f->refunded);
    char key[64];
    snprintf(key, sizeof key, "load-test-%s", id);
    const char *checkout[3] = {customer, key, f->checkout == OTHER_ORDER ? other : id};
    exec("INSERT INTO cart.checkouts (customer_id, idempotency_key, order_id) VALUES ($1, $2, $3)",
         3, checkout);
    if (f->in_run) {
        struct load_order *o = souk_calloc(1, sizeof *o);
        memcpy(o->order_id, id, 37);
        snprintf(o->key, sizeof o->key, "%s", key);
        if (results.count == results.cap) {
            results.cap = results.cap ? results.cap * 2 : 16;
            results.orders = souk_realloc(results.orders, results.cap * sizeof *results.orders);
        }
        results.orders[results.count++] = o;
    }
    if (f->checkout == NO_ORDER_ROW)
        return;
    const char *order[4] = {id, customer, f->status, total};
    exec("INSERT INTO orders.orders (id, customer_id, status, currency, total_minor, "
         "shipping_address, deadline_at) VALUES ($1, $2, $3, 'EUR', $4, '{}', now())",
         4, order);
    const char *line[3] = {id, product, total};
    exec("INSERT INTO orders.order_lines (order_id, line_no, product_id, quantity, "
         "unit_price_minor) VALUES ($1, 1, $2, 1, $3)",
         3, line);
    if (f->payment) {
        const char *pay[4] = {id, amount, f->payment, refunded};
        exec("INSERT INTO payment.payments (id, order_id, amount_minor, currency, status, "
             "refunded_minor) VALUES (gen_random_uuid(), $1, $2, 'EUR', $3, $4)",
             4, pay);
    }
    if (f->shipped) {
        char tracking[48];
        snprintf(tracking, sizeof tracking, "T-%s", id);
        const char *ship[2] = {id, tracking};
        exec("INSERT INTO shipping.shipments (id, order_id, carrier, tracking_number, country) "
             "VALUES (gen_random_uuid(), $1, 'test', $2, 'DE')",
             2, ship);
    }
    if (f->reservation) {
        const char *rsv[3] = {id, product, f->reservation};
        exec("INSERT INTO inventory.reservations (order_id, product_id, quantity, status) "
             "VALUES ($1, $2, 1, $3)",
             3, rsv);
    }
    if (f->notified && strcmp(f->notified, "both") == 0) {
        notify(id, "order_completed");
        notify(id, "order_cancelled");
    } else if (f->notified) {
        notify(id, f->notified);
    }
}

/* What one check must find: examined, then each violation's count. */
struct want {
    const char *check;
    long long examined;
    long long count[LOAD_DB_VIOLATIONS_MAX];
};

static void assert_findings(const struct want *wants, int n)
{
    cr_assert_eq(n, LOAD_DB_CHECKS, "every check has its expectation");
    for (int i = 0; i < n; i++) {
        const struct load_db_check *check = &load_db_checks[i];
        cr_assert_str_eq(check->name, wants[i].check);
        struct load_db_finding f;
        char err[256];
        cr_assert_eq(load_db_check_run(db, check, &results, &f, err, sizeof err), 0, "%s: %s",
                     check->name, err);
        cr_expect_eq(f.examined, wants[i].examined, "%s examined %lld %s, not %lld", check->name,
                     f.examined, check->examined, wants[i].examined);
        long long bad = 0;
        for (int v = 0; v < check->violations; v++) {
            bad += f.count[v];
            cr_expect_eq(f.count[v], wants[i].count[v], "%s found %lld %s, not %lld", check->name,
                         f.count[v], check->violation[v], wants[i].count[v]);
        }
        cr_expect_eq(f.sample[0] != '\0', bad > 0, "%s names an offender only when one exists",
                     check->name);
    }
}

Test(load_checks, orders_the_saga_finished_cleanly_pass_every_check)
{
    static const struct fake orders[] = {
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "SOLD", "order_completed", OWN, 1},
        {"CANCELLED", 300, "DECLINED", 300, 0, 0, NULL, "order_cancelled", OWN, 1},
        {"CANCELLED", 700, "REFUNDED", 700, 700, 0, "RELEASED", "order_cancelled", OWN, 1},
    };
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        add(&orders[i]);
    static const struct want wants[] = {
        {"one_order_per_checkout", 3, {0, 0, 0}},
        {"cancelled_not_charged", 2, {0}},
        {"charged_once", 3, {0, 0, 0, 0}},
        {"shipped_once", 3, {0, 0, 0}},
        {"sold_once", 3, {0, 0, 0}},
        {"notified_once", 3, {0, 0}},
    };
    assert_findings(wants, (int)(sizeof wants / sizeof wants[0]));
}

Test(load_checks, each_kind_of_damage_is_counted_by_its_check_alone)
{
    static const struct fake orders[] = {
        /* cancelled, but the capture kept */
        {"CANCELLED", 300, "CAPTURED", 300, 0, 0, "RELEASED", "order_cancelled", OWN, 1},
        /* captured less than the total */
        {"COMPLETED", 500, "CAPTURED", 400, 0, 1, "SOLD", "order_completed", OWN, 1},
        /* refunded in part, status REFUNDED */
        {"COMPLETED", 500, "REFUNDED", 500, 250, 1, "SOLD", "order_completed", OWN, 1},
        /* completed, never shipped */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 0, "SOLD", "order_completed", OWN, 1},
        /* cancelled, shipped anyway */
        {"CANCELLED", 300, NULL, 0, 0, 1, "RELEASED", "order_cancelled", OWN, 1},
        /* completed with its stock still reserved */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "RESERVED", "order_completed", OWN, 1},
        /* cancelled with its stock sold */
        {"CANCELLED", 300, NULL, 0, 0, 0, "SOLD", "order_cancelled", OWN, 1},
        /* never announced */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "SOLD", NULL, OWN, 1},
        /* announced as completed and as cancelled */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "SOLD", "both", OWN, 1},
        /* its key's checkout names another order */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "SOLD", "order_completed", OTHER_ORDER, 1},
        /* a checkout whose order was never created */
        {"COMPLETED", 500, NULL, 0, 0, 0, NULL, NULL, NO_ORDER_ROW, 1},
        /* an order of the run's customer that no checkout of the run made */
        {"COMPLETED", 500, "CAPTURED", 500, 0, 1, "SOLD", "order_completed", OWN, 0},
    };
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        add(&orders[i]);
    static const struct want wants[] = {
        {"one_order_per_checkout", 11, {1, 1, 1}},
        {"cancelled_not_charged", 3, {1}},
        {"charged_once", 10, {0, 1, 1, 2}},
        {"shipped_once", 10, {0, 1, 1}},
        {"sold_once", 10, {1, 1, 1}},
        {"notified_once", 10, {1, 1}},
    };
    assert_findings(wants, (int)(sizeof wants / sizeof wants[0]));
}
