-- One shipment per order.
CREATE TABLE shipments (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL UNIQUE,
    carrier text NOT NULL,
    tracking_number text NOT NULL UNIQUE,
    country char(2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

GRANT USAGE ON SCHEMA shipping TO souk_shipping_gateway;
GRANT SELECT ON shipments TO souk_shipping_gateway;
