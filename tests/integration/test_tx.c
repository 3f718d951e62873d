/* events/tx: the unit of work against the real database, as the orders
 * service's role: a state change and its events commit together or not at
 * all, a failure aborts the rest, and freeing rolls back. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/uuid.h"
#include "events/envelope.h"
#include "events/tx.h"
#include "tests/support/harness.h"

TH_REQUIRE_STACK(TH_NEEDS_STACK)

TestSuite(tx, .timeout = 60);

#define EVENTS_SQL   "SELECT count(*) FROM orders.outbox WHERE correlation_id = $1"
#define TIMELINE_SQL "SELECT count(*) FROM orders.order_events WHERE order_id = $1::uuid"

static PGconn *orders_db(void)
{
    PGconn *db = th_pg_as("souk_orders", "souk_orders");
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    return db;
}

/* An OrderCancelled payload for order_id that its schema accepts. */
static json_object *cancelled(const char *order_id)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "order_id", json_object_new_string(order_id));
    json_object_object_add(p, "customer_id", json_object_new_string(order_id));
    json_object_object_add(p, "reason", json_object_new_string("timed_out"));
    json_object_object_add(p, "total_minor", json_object_new_int64(100));
    json_object_object_add(p, "currency", json_object_new_string("EUR"));
    return p;
}

/* A state change of the unit of work: a timeline row of order_id. */
static PGresult *record(souk_tx *tx, const char *order_id)
{
    char id[37];
    souk_uuid_v4(id);
    const char *params[2] = {order_id, id};
    return souk_tx_exec(tx,
                        "INSERT INTO order_events (order_id, message_id, type, producer, "
                        "occurred_at) VALUES ($1::uuid, $2, 'Test', 'test', now())",
                        2, params);
}

Test(tx, a_change_and_its_events_commit_together)
{
    char order[37];
    souk_uuid_v4(order);
    PGconn *db = orders_db();
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx, "%s", souk_strerror(st));
    PGresult *res = record(tx, order);
    cr_assert_not_null(res, "%s", souk_tx_error(tx));
    PQclear(res);
    json_object *payload = cancelled(order);
    souk_outbox_event ev = {
        .type = SOUK_EVENT_ORDER_CANCELLED, .correlation_id = order, .payload = payload};
    char message_id[37] = "";
    cr_assert_eq(souk_tx_emit(tx, &ev, message_id), SOUK_OK, "%s", souk_tx_error(tx));
    json_object_put(payload);
    cr_assert(souk_uuid_valid(message_id));
    cr_assert_eq(souk_tx_events(tx), 1);
    cr_assert_eq(th_pg_long(EVENTS_SQL, order), 0, "nothing is visible before the commit");
    cr_assert_eq(souk_tx_commit(tx), SOUK_OK, "%s", souk_tx_error(tx));
    souk_tx_free(tx);
    cr_assert_eq(th_pg_long(EVENTS_SQL, order), 1);
    cr_assert_eq(th_pg_long(TIMELINE_SQL, order), 1);
    PQfinish(db);
}

/* PostgreSQL answers COMMIT of an aborted transaction with a ROLLBACK and
 * no error: the unit of work must not call that a commit. */
Test(tx, after_a_failed_statement_nothing_commits_and_the_first_failure_is_kept)
{
    char order[37];
    souk_uuid_v4(order);
    PGconn *db = orders_db();
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx);
    PGresult *res = record(tx, order);
    cr_assert_not_null(res);
    PQclear(res);
    const char *params[1] = {"not-a-uuid"};
    cr_assert_null(souk_tx_exec(tx, "SELECT $1::uuid", 1, params));
    cr_assert_eq(souk_tx_status(tx), SOUK_EDB);
    cr_assert(strstr(souk_tx_error(tx), "invalid input syntax for type uuid") != NULL, "%s",
              souk_tx_error(tx));
    cr_assert_null(record(tx, order), "a statement after the failure is not run");
    json_object *payload = cancelled(order);
    souk_outbox_event ev = {
        .type = SOUK_EVENT_ORDER_CANCELLED, .correlation_id = order, .payload = payload};
    cr_assert_eq(souk_tx_emit(tx, &ev, NULL), SOUK_EDB, "an event after the failure is refused");
    json_object_put(payload);
    cr_assert_eq(souk_tx_commit(tx), SOUK_EDB);
    cr_assert(strstr(souk_tx_error(tx), "uuid") != NULL, "the first failure: %s",
              souk_tx_error(tx));
    souk_tx_free(tx);
    cr_assert_eq(th_pg_long(TIMELINE_SQL, order), 0, "the change before the failure is gone");
    cr_assert_eq(th_pg_long(EVENTS_SQL, order), 0);
    /* the connection is usable again */
    tx = souk_tx_begin(db, &st);
    cr_assert_not_null(tx);
    souk_tx_free(tx);
    PQfinish(db);
}

Test(tx, an_event_that_breaks_its_schema_aborts_the_unit_of_work)
{
    char order[37];
    souk_uuid_v4(order);
    PGconn *db = orders_db();
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    PGresult *res = record(tx, order);
    cr_assert_not_null(res);
    PQclear(res);
    json_object *payload = cancelled(order);
    json_object_object_add(payload, "currency", json_object_new_string("euro"));
    souk_outbox_event ev = {
        .type = SOUK_EVENT_ORDER_CANCELLED, .correlation_id = order, .payload = payload};
    cr_assert_eq(souk_tx_emit(tx, &ev, NULL), SOUK_ESCHEMA);
    json_object_put(payload);
    cr_assert(strstr(souk_tx_error(tx), "currency") != NULL, "%s", souk_tx_error(tx));
    cr_assert_eq(souk_tx_commit(tx), SOUK_ESCHEMA);
    souk_tx_free(tx);
    cr_assert_eq(th_pg_long(TIMELINE_SQL, order), 0, "the change without its event is gone");
    PQfinish(db);
}

Test(tx, freeing_an_uncommitted_unit_of_work_rolls_it_back)
{
    char order[37];
    souk_uuid_v4(order);
    PGconn *db = orders_db();
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    PGresult *res = record(tx, order);
    cr_assert_not_null(res);
    PQclear(res);
    souk_tx_free(tx);
    cr_assert_eq(th_pg_long(TIMELINE_SQL, order), 0);
    cr_assert_eq(PQtransactionStatus(db), PQTRANS_IDLE, "no transaction left open");
    souk_tx_free(NULL);
    PQfinish(db);
}

Test(tx, the_arena_gives_aligned_zeroed_memory_that_lives_with_the_tx)
{
    PGconn *db = orders_db();
    souk_status st;
    souk_tx *tx = souk_tx_begin(db, &st);
    char *a = souk_tx_alloc(tx, 3);
    long double *b = souk_tx_alloc(tx, sizeof *b);
    cr_assert_eq((uintptr_t)b % _Alignof(max_align_t), 0);
    cr_assert_eq(a[0] | a[1] | a[2], 0);
    /* larger than a block, and many small ones across blocks */
    unsigned char *big = souk_tx_alloc(tx, 10000);
    cr_assert_eq(big[9999], 0);
    for (int i = 0; i < 1000; i++) {
        char text[32];
        snprintf(text, sizeof text, "item %d", i);
        cr_assert_str_eq(souk_tx_strdup(tx, text), text);
    }
    souk_tx_free(tx); /* ASan reports a leak or a bad free here */
    PQfinish(db);
}
