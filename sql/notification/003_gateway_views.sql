-- The read model the gateway sees: a customer's notifications, through a
-- view, so this schema's tables can change without breaking it.
CREATE VIEW gateway_notifications AS
    SELECT id, order_id, customer_id, kind, subject, body, channel, created_at, delivered_at
    FROM notifications;
REVOKE SELECT ON notifications FROM souk_notification_gateway;
GRANT SELECT ON gateway_notifications TO souk_notification_gateway;
