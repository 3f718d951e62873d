-- The journal (events/journal.h): one row per delivery a consumer of this
-- schema settled, written in the same transaction as its effect (handled,
-- duplicate, replayed), or, for a delivery whose transaction was rolled
-- back, right after its retry or dead letter was confirmed. What a service
-- published is its outbox (published_at, sent_at), so a hop of either kind
-- costs no extra commit. Purged after SOUK_JOURNAL_RETENTION_S.
CREATE TABLE journal (
    order_id text NOT NULL,          -- the message's correlation id
    message_id uuid NOT NULL,
    causation_id text,
    event_type text NOT NULL,
    queue text NOT NULL,             -- the consumer's queue
    exchange text NOT NULL,          -- the event's exchange (the original one for a retry)
    outcome text NOT NULL CHECK (outcome IN
        ('handled', 'duplicate', 'retry_scheduled', 'dead_lettered', 'replayed')),
    attempt int NOT NULL,            -- 1 for the first delivery, n after n-1 failures
    retry_delay_ms bigint,           -- retry_scheduled: how long until the next attempt
    reason text,                     -- retry_scheduled, dead_lettered: why
    replayed int NOT NULL DEFAULT 0, -- times it came back from a dead-letter queue
    trace_id text,                   -- of the process span
    span_id text,
    parent_span_id text,             -- the publish span of the message
    published_at timestamptz,        -- when this delivery was sent (relay, or retry)
    delivered_at timestamptz NOT NULL,
    handler_started_at timestamptz,
    handler_ended_at timestamptz,
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX journal_order ON journal (order_id);
CREATE INDEX journal_age ON journal USING brin (committed_at);
CREATE VIEW gateway_journal AS
    SELECT order_id, message_id, causation_id, event_type, queue, exchange, outcome, attempt,
           retry_delay_ms, reason, replayed, trace_id, span_id, parent_span_id, published_at,
           delivered_at, handler_started_at, handler_ended_at, committed_at
    FROM journal;
