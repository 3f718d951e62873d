-- The read model the gateway sees: a product's stock, through a view, so
-- this schema's tables can change without breaking it. Writes go through
-- admin_set_stock and admin_adjust_stock only.
CREATE VIEW gateway_stock AS
    SELECT product_id, on_hand, reserved, sold FROM stock;
REVOKE SELECT ON stock, reservations FROM souk_inventory_gateway;
GRANT SELECT ON gateway_stock TO souk_inventory_gateway;
