-- The gateway's admin summary reads the event record (and nothing else here).
GRANT USAGE ON SCHEMA analytics TO souk_analytics_gateway;
GRANT SELECT ON order_events TO souk_analytics_gateway;
