#include <criterion/criterion.h>
#include <string.h>

#include "core/uuid.h"
#include "events/envelope.h"

static souk_envelope sample(void)
{
    souk_envelope env;
    memset(&env, 0, sizeof env);
    strcpy(env.message_id, "0b8f4f62-8a58-4d6c-9d43-3d9a7a1f2c11");
    strcpy(env.correlation_id, "order-42");
    strcpy(env.type, "OrderCreated");
    strcpy(env.app_id, "order");
    strcpy(env.causation_id, "5f0c6a52-2b43-4e3b-8b8e-0c4d3d8f0a99");
    strcpy(env.request_id, "req-7");
    env.timestamp = 1763800000;
    env.schema_version = 1;
    env.body = (char *)"{\"order_id\":\"order-42\"}";
    env.body_len = strlen(env.body);
    return env;
}

static amqp_message_t as_message(const souk_envelope *env, amqp_table_entry_t *entries)
{
    amqp_message_t m;
    memset(&m, 0, sizeof m);
    souk_envelope_properties(env, 1764633600123456, &m.properties, entries);
    m.body.bytes = env->body;
    m.body.len = env->body_len;
    return m;
}

Test(envelope, properties_round_trip_through_decode)
{
    souk_envelope in = sample();
    amqp_table_entry_t entries[SOUK_ENVELOPE_MAX_HEADERS];
    amqp_message_t m = as_message(&in, entries);
    cr_assert_eq(m.properties.delivery_mode, AMQP_DELIVERY_PERSISTENT);
    souk_envelope out;
    char err[128] = "";
    cr_assert_eq(souk_envelope_decode(&m, "OrderCreated", &out, err, sizeof err), SOUK_OK, "%s",
                 err);
    cr_assert_str_eq(out.message_id, in.message_id);
    cr_assert_str_eq(out.correlation_id, "order-42");
    cr_assert_str_eq(out.type, "OrderCreated");
    cr_assert_str_eq(out.app_id, "order");
    cr_assert_str_eq(out.causation_id, in.causation_id);
    cr_assert_str_eq(out.request_id, "req-7");
    cr_assert_str_eq(out.original_exchange, "OrderCreated");
    cr_assert_eq(out.timestamp, 1763800000);
    cr_assert_eq(out.schema_version, 1);
    cr_assert_eq(out.attempts, 0);
    cr_assert_str_eq(out.body, in.body);
    souk_envelope_clear(&out);
}

Test(envelope, failure_headers_survive_a_retry_hop)
{
    souk_envelope in = sample();
    in.attempts = 2;
    strcpy(in.error, "provider timeout");
    strcpy(in.first_failure, "2026-11-22T10:00:00.000Z");
    strcpy(in.original_exchange, "StockReserved");
    amqp_table_entry_t entries[SOUK_ENVELOPE_MAX_HEADERS];
    amqp_message_t m = as_message(&in, entries);
    souk_envelope out;
    char err[128];
    /* after a retry queue the delivery comes from the default exchange */
    cr_assert_eq(souk_envelope_decode(&m, "", &out, err, sizeof err), SOUK_OK);
    cr_assert_eq(out.attempts, 2);
    cr_assert_str_eq(out.error, "provider timeout");
    cr_assert_str_eq(out.first_failure, "2026-11-22T10:00:00.000Z");
    cr_assert_str_eq(out.original_exchange, "StockReserved");
    souk_envelope_clear(&out);
}

Test(envelope, every_header_fits_and_a_replay_count_round_trips)
{
    /* all headers at once: a header added without room is an overflow ASan reports */
    souk_envelope in = sample();
    strcpy(in.occurred_at, "2026-11-22T10:00:00.123Z");
    in.attempts = 3;
    strcpy(in.error, "retries exhausted");
    strcpy(in.first_failure, "2026-11-22T10:00:00.000Z");
    strcpy(in.original_exchange, "StockReserved");
    in.replayed = 2;
    strcpy(in.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    strcpy(in.tracestate, "souk=1");
    amqp_table_entry_t entries[SOUK_ENVELOPE_MAX_HEADERS];
    amqp_message_t m = as_message(&in, entries);
    cr_assert_eq(m.properties.headers.num_entries, SOUK_ENVELOPE_MAX_HEADERS);
    souk_envelope out;
    char err[128] = "";
    cr_assert_eq(souk_envelope_decode(&m, "", &out, err, sizeof err), SOUK_OK, "%s", err);
    cr_assert_eq(out.replayed, 2);
    cr_assert_eq(out.attempts, 3);
    cr_assert_str_eq(out.occurred_at, "2026-11-22T10:00:00.123Z");
    cr_assert_str_eq(out.traceparent, in.traceparent, "the trace context travels as it came");
    cr_assert_str_eq(out.tracestate, "souk=1");
    cr_assert_eq(out.published_at_us, 1764633600123456, "the publish time travels to the consumer");
    souk_envelope_clear(&out);

    /* a message never replayed carries no such header */
    in = sample();
    m = as_message(&in, entries);
    for (int i = 0; i < m.properties.headers.num_entries; i++)
        cr_assert_not(entries[i].key.len == strlen("x-souk-replayed") &&
                      memcmp(entries[i].key.bytes, "x-souk-replayed", entries[i].key.len) == 0);
}

Test(envelope, a_message_without_type_or_id_is_refused_with_a_reason)
{
    souk_envelope in = sample();
    in.type[0] = '\0';
    amqp_table_entry_t entries[SOUK_ENVELOPE_MAX_HEADERS];
    amqp_message_t m = as_message(&in, entries);
    m.properties._flags &= ~AMQP_BASIC_TYPE_FLAG;
    souk_envelope out;
    char err[128] = "";
    cr_assert_eq(souk_envelope_decode(&m, "x", &out, err, sizeof err), SOUK_EPARSE);
    cr_assert(strstr(err, "type") != NULL, "%s", err);
    souk_envelope_clear(&out);

    in = sample();
    m = as_message(&in, entries);
    m.properties._flags &= ~AMQP_BASIC_MESSAGE_ID_FLAG;
    cr_assert_eq(souk_envelope_decode(&m, "x", &out, err, sizeof err), SOUK_EPARSE);
    cr_assert(strstr(err, "message_id") != NULL, "%s", err);
    souk_envelope_clear(&out);
}

Test(envelope, uuids_are_version_4_and_validated)
{
    char a[37], b[37];
    souk_uuid_v4(a);
    souk_uuid_v4(b);
    cr_assert(souk_uuid_valid(a));
    cr_assert_str_neq(a, b);
    cr_assert_eq(a[14], '4');
    cr_assert(strchr("89ab", a[19]) != NULL);
    cr_assert_not(souk_uuid_valid("not-a-uuid"));
    cr_assert_not(souk_uuid_valid("0b8f4f62-8a58-4d6c-9d43-3d9a7a1f2c1z"));
}

Test(envelope, a_uuid_is_formatted_from_its_bytes_with_version_and_variant)
{
    unsigned char bytes[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff, 0x77,
                               0xff, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f};
    char out[37];
    souk_uuid_format_v4(bytes, out);
    cr_assert_str_eq(out, "00112233-4455-4f77-bf99-aabbccddee0f");
}
