-- Orders, their lines and their event timeline.
CREATE TABLE orders (
    id uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('PENDING', 'STOCK_RESERVED', 'PAID', 'COMPLETED', 'CANCELLED')),
    cancel_reason text CHECK (cancel_reason IN ('out_of_stock', 'payment_declined', 'shipping_failed', 'timed_out')),
    cancel_detail text,
    currency char(3) NOT NULL,
    total_minor bigint NOT NULL CHECK (total_minor >= 0),
    shipping_address jsonb NOT NULL,
    payment_id uuid,
    provider_ref text,
    shipment_id uuid,
    carrier text,
    tracking_number text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deadline_at timestamptz NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, created_at DESC);
CREATE INDEX orders_open_deadline ON orders (deadline_at) WHERE status NOT IN ('COMPLETED', 'CANCELLED');

CREATE TABLE order_lines (
    order_id uuid NOT NULL REFERENCES orders (id),
    line_no int NOT NULL,
    product_id uuid NOT NULL,
    sku text,
    name text,
    quantity int NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_events (
    id bigserial PRIMARY KEY,
    order_id uuid NOT NULL,
    message_id uuid NOT NULL,
    type text NOT NULL,
    producer text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- The read model the gateway may see (its role has no other access here).
GRANT USAGE ON SCHEMA orders TO souk_orders_gateway;
GRANT SELECT ON orders, order_lines, order_events TO souk_orders_gateway;
