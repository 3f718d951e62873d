-- Every saga event analytics has seen. The summaries are computed from it
-- (no shared counter row, which would serialise every consumer's commit).
CREATE TABLE order_events (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL,
    order_id text NOT NULL,
    type text NOT NULL,
    producer text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload jsonb NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, occurred_at);

