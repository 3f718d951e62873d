-- The read model of the gateway's admin summary: the event record, through
-- a view, so this schema's tables can change without breaking it.
CREATE VIEW gateway_order_events AS
    SELECT order_id, type, occurred_at, payload FROM order_events;
REVOKE SELECT ON order_events FROM souk_analytics_gateway;
GRANT SELECT ON gateway_order_events TO souk_analytics_gateway;
