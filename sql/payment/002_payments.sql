-- One payment per order; the provider's idempotency key is the order id.
CREATE TABLE payments (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL UNIQUE,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency char(3) NOT NULL,
    status text NOT NULL CHECK (status IN ('CAPTURED', 'DECLINED', 'REFUNDED')),
    provider_ref text,
    decline_reason text,
    refunded_minor bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Orders cancelled before payment saw their StockReserved: never charge them.
CREATE TABLE closed_orders (
    order_id uuid PRIMARY KEY,
    closed_at timestamptz NOT NULL DEFAULT now()
);

GRANT USAGE ON SCHEMA payment TO souk_payment_gateway;
GRANT SELECT ON payments TO souk_payment_gateway;
