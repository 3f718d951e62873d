-- Carts hold product ids and quantities only: prices always come from the
-- catalog at read and checkout time, never from the client.
CREATE TABLE cart_items (
    customer_id uuid NOT NULL,
    product_id uuid NOT NULL,
    quantity int NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, product_id)
);

-- One order per (customer, Idempotency-Key): a repeated checkout or order
-- request returns the same order.
CREATE TABLE checkouts (
    customer_id uuid NOT NULL,
    idempotency_key text NOT NULL,
    order_id uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, idempotency_key)
);
