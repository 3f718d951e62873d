/* The pure parts of the outbox (events/outbox.h): building a row checks the
 * payload against its event's schema and fills every column of the insert
 * (the event's trace context among them),
 * and the relay marks sent exactly the rows the broker confirmed. Writing
 * rows, committing and waking the relays run against PostgreSQL in
 * tests/integration/test_messaging.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "events/outbox.h"

#define ORDER   "6f1c1e6a-2b4d-4c1e-9a57-1c2d3e4f5a6b"
#define PRODUCT "0b8e4a7c-5d6f-4e1a-8b2c-3d4e5f6a7b8c"

static json_object *released_payload(int quantity)
{
    json_object *line = json_object_new_object();
    json_object_object_add(line, "product_id", json_object_new_string(PRODUCT));
    json_object_object_add(line, "quantity", json_object_new_int(quantity));
    json_object *lines = json_object_new_array();
    json_object_array_add(lines, line);
    json_object *payload = json_object_new_object();
    json_object_object_add(payload, "order_id", json_object_new_string(ORDER));
    json_object_object_add(payload, "lines", lines);
    return payload;
}

Test(outbox, a_row_fills_every_column_of_the_insert_in_its_order)
{
    json_object *payload = released_payload(2);
    souk_outbox_event ev = {.type = SOUK_EVENT_STOCK_RELEASED,
                            .correlation_id = ORDER,
                            .causation_id = "11111111-2222-4333-8444-555555555555",
                            .request_id = "req-1",
                            .payload = payload};
    souk_outbox_row_text row;
    char err[256] = "";
    const char *params[SOUK_OUTBOX_PARAMS];
    cr_assert_eq(souk_outbox_row(&ev, &row, params, err, sizeof err), SOUK_OK, "%s", err);
    /* message_id, exchange, type, correlation_id, causation_id, request_id, payload,
     * traceparent, tracestate, parent_span_id */
    cr_assert(souk_uuid_valid(row.message_id));
    cr_assert_eq(params[0], row.message_id);
    cr_assert_str_eq(params[1], "StockReleased"); /* one fanout exchange per event */
    cr_assert_str_eq(params[2], "StockReleased");
    cr_assert_str_eq(params[3], ORDER);
    cr_assert_str_eq(params[4], "11111111-2222-4333-8444-555555555555");
    cr_assert_str_eq(params[5], "req-1");
    cr_assert_str_eq(params[6], "{\"order_id\":\"" ORDER "\",\"lines\":[{\"product_id\":\"" PRODUCT
                                "\",\"quantity\":2}]}");
    cr_assert(strstr(souk_outbox_insert_sql,
                     "(message_id, exchange, type, correlation_id, causation_id, request_id, "
                     "payload, traceparent, tracestate, parent_span_id)"));
    json_object_put(payload);
}

Test(outbox, a_row_carries_its_publish_span_a_child_of_the_emitting_span)
{
    json_object *payload = released_payload(1);
    souk_trace_ctx emitter;
    cr_assert_eq(souk_trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                  "souk=1", &emitter),
                 0);
    souk_outbox_event ev = {.type = SOUK_EVENT_STOCK_RELEASED,
                            .correlation_id = ORDER,
                            .payload = payload,
                            .trace = &emitter};
    souk_outbox_row_text row;
    char err[256] = "";
    const char *params[SOUK_OUTBOX_PARAMS];
    cr_assert_eq(souk_outbox_row(&ev, &row, params, err, sizeof err), SOUK_OK, "%s", err);
    souk_trace_ctx publish;
    cr_assert_eq(souk_trace_parse(params[7], NULL, &publish), 0, "%s", params[7]);
    cr_assert_eq(strncmp(params[7], "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36), 0, "%s",
                 params[7]);
    cr_assert_neq(strncmp(params[7] + 36, "00f067aa0ba902b7", 16), 0, "a span of its own");
    cr_assert_str_eq(params[8], "souk=1");
    cr_assert_str_eq(params[9], "00f067aa0ba902b7");

    /* emitted outside any span: the event starts a trace */
    ev.trace = NULL;
    cr_assert_eq(souk_outbox_row(&ev, &row, params, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(souk_trace_parse(params[7], NULL, &publish), 0, "%s", params[7]);
    cr_assert_neq(strncmp(params[7] + 3, "4bf92f3577b34da6a3ce929d0e0e4736", 32), 0);
    cr_assert_null(params[8]);
    cr_assert_null(params[9]);
    json_object_put(payload);
}

Test(outbox, missing_or_empty_causation_and_request_ids_become_null)
{
    json_object *payload = released_payload(1);
    souk_outbox_event ev = {.type = SOUK_EVENT_STOCK_RELEASED,
                            .correlation_id = ORDER,
                            .causation_id = "",
                            .request_id = NULL,
                            .payload = payload};
    souk_outbox_row_text row;
    char err[256] = "";
    const char *params[SOUK_OUTBOX_PARAMS];
    cr_assert_eq(souk_outbox_row(&ev, &row, params, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_null(params[4]);
    cr_assert_null(params[5]);
    json_object_put(payload);
}

Test(outbox, every_row_gets_a_new_message_id)
{
    json_object *payload = released_payload(1);
    souk_outbox_event ev = {
        .type = SOUK_EVENT_STOCK_RELEASED, .correlation_id = ORDER, .payload = payload};
    souk_outbox_row_text a, b;
    char err[256] = "";
    const char *params[SOUK_OUTBOX_PARAMS];
    cr_assert_eq(souk_outbox_row(&ev, &a, params, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(souk_outbox_row(&ev, &b, params, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_str_neq(a.message_id, b.message_id);
    cr_assert_str_neq(a.traceparent, b.traceparent);
    json_object_put(payload);
}

Test(outbox, a_payload_breaking_its_events_schema_is_refused_with_the_reason)
{
    json_object *payload = released_payload(0); /* quantity minimum is 1 */
    souk_outbox_event ev = {
        .type = SOUK_EVENT_STOCK_RELEASED, .correlation_id = ORDER, .payload = payload};
    souk_outbox_row_text row;
    char err[256] = "";
    const char *params[SOUK_OUTBOX_PARAMS];
    cr_assert_eq(souk_outbox_row(&ev, &row, params, err, sizeof err), SOUK_ESCHEMA);
    cr_assert(strstr(err, "StockReleased payload breaks its schema"), "%s", err);
    cr_assert(strstr(err, "quantity"), "%s", err);
    json_object_put(payload);
}

Test(outbox, only_rows_the_broker_confirmed_are_marked_sent_in_batch_order)
{
    const char ids[5][SOUK_OUTBOX_ID_CAP] = {"7", "8", "9", "10", "123456789012"};
    const souk_status results[5] = {SOUK_OK, SOUK_EAMQP, SOUK_OK, SOUK_ETIMEOUT, SOUK_OK};
    int confirmed = -1;
    char *text = souk_outbox_confirmed_ids(ids, results, 5, &confirmed);
    cr_assert_str_eq(text, "{7,9,123456789012}");
    cr_assert_eq(confirmed, 3);
    free(text);
}

Test(outbox, a_batch_nothing_of_which_was_confirmed_marks_nothing)
{
    const char ids[2][SOUK_OUTBOX_ID_CAP] = {"1", "2"};
    const souk_status results[2] = {SOUK_EAMQP_UNAVAILABLE, SOUK_EAMQP_UNAVAILABLE};
    int confirmed = -1;
    char *text = souk_outbox_confirmed_ids(ids, results, 2, &confirmed);
    cr_assert_str_eq(text, "{}");
    cr_assert_eq(confirmed, 0);
    free(text);
}

Test(outbox, a_whole_batch_of_the_largest_ids_fits)
{
    enum { ROWS = 256 };
    static char ids[ROWS][SOUK_OUTBOX_ID_CAP];
    souk_status results[ROWS];
    for (int i = 0; i < ROWS; i++) {
        snprintf(ids[i], sizeof ids[i], "%lld", 9223372036854775807LL - i); /* bigint's max */
        results[i] = SOUK_OK;
    }
    int confirmed = 0;
    char *text = souk_outbox_confirmed_ids((const char(*)[SOUK_OUTBOX_ID_CAP])ids, results, ROWS,
                                           &confirmed);
    cr_assert_eq(confirmed, ROWS);
    cr_assert_eq(strlen(text), 2 + ROWS * 19 + (ROWS - 1));
    cr_assert(strncmp(text, "{9223372036854775807,9223372036854775806,", 41) == 0);
    free(text);
}
