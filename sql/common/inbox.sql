-- Idempotent inbox: one row per (consumer, message) handled, written in
-- the same transaction as the effect.
CREATE TABLE inbox (
    consumer text NOT NULL,
    message_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
