-- The outbox as the journal of what a service published: published_at is
-- when the relay sent the row, sent_at when the broker confirmed it; rows
-- are found by order for the trace view.
ALTER TABLE outbox ADD COLUMN published_at timestamptz;
CREATE INDEX outbox_order ON outbox (correlation_id);
CREATE VIEW gateway_publishes AS
    SELECT correlation_id AS order_id, message_id, causation_id, type AS event_type, exchange,
           traceparent, tracestate, parent_span_id, payload, created_at AS written_at,
           published_at, sent_at AS confirmed_at
    FROM outbox;
