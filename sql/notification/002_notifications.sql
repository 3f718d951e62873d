-- One notification per order outcome. The (order_id, kind) key makes a
-- second delivery of the same event (under another message id) send
-- nothing twice: once a row is committed, that outcome has been announced.
-- A row is written in the same transaction as its delivery, so an e-mail
-- that could not be sent leaves no row behind (the message is retried).
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('order_completed', 'order_cancelled')),
    subject text NOT NULL,
    body text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('email', 'log')),
    recipient text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (order_id, kind)
);
-- A customer's notifications in order, for the gateway's reads.
CREATE INDEX notifications_customer ON notifications (customer_id, created_at);

GRANT USAGE ON SCHEMA notification TO souk_notification_gateway;
GRANT SELECT ON notifications TO souk_notification_gateway;
