-- The read model the gateway sees: views that name what it may read, so
-- this schema's tables can change without breaking it. Its role reads
-- nothing else here (it LISTENs to orders_status, which needs no grant).
CREATE VIEW gateway_orders AS
    SELECT id, customer_id, status, cancel_reason, cancel_detail, currency, total_minor,
           payment_id, provider_ref, shipment_id, carrier, tracking_number, created_at, updated_at
    FROM orders;
CREATE VIEW gateway_order_lines AS
    SELECT order_id, line_no, product_id, sku, name, quantity, unit_price_minor
    FROM order_lines;
CREATE VIEW gateway_order_events AS
    SELECT id, order_id, type, producer, message_id, occurred_at, recorded_at
    FROM order_events;
REVOKE SELECT ON orders, order_lines, order_events FROM souk_orders_gateway;
GRANT SELECT ON gateway_orders, gateway_order_lines, gateway_order_events TO souk_orders_gateway;
