-- One row per order's saga, for the gateway's saga list (GET /sagas) and the
-- trace view's owner check: who and what (the order, its customer and
-- e-mail, the trace its checkout began), its hops as this service recorded
-- them (the deliveries it settled and the events it published: the order
-- service hears every step of its orders, so its last hop is the saga's last
-- step in all but a retry inside another service), and its phase:
--   compensating  a step failed (PaymentFailed, ShippingFailed, or the
--                 deadline cancelled the order) and a compensation it calls
--                 for is not recorded yet: the release (StockReleased) of a
--                 reservation, the refund (PaymentRefunded) of a charge. The
--                 same two events events/topology.c names as compensations
--                 (souk_topology_is_compensation).
--   completed, cancelled  final, with nothing left to undo
--   in_flight     the rest; whether it is stuck (no hop for a while) is the
--                 reader's question, as it depends on the reader's "while".
CREATE VIEW gateway_sagas AS
    SELECT o.id AS order_id, o.customer_id, o.customer_email, o.status, o.cancel_reason,
           o.trace_id, o.created_at, o.updated_at,
           GREATEST(o.created_at, j.last_at, p.last_at, e.last_at) AS last_hop_at,
           coalesce(j.hops, 0) + coalesce(p.hops, 0) AS hops,
           CASE
               WHEN (coalesce(e.failed, false) OR o.cancel_reason = 'timed_out')
                    AND ((coalesce(e.reserved, false) AND NOT coalesce(e.released, false))
                         OR (coalesce(e.charged, false) AND NOT coalesce(e.refunded, false)))
                   THEN 'compensating'
               WHEN o.status = 'COMPLETED' THEN 'completed'
               WHEN o.status = 'CANCELLED' THEN 'cancelled'
               ELSE 'in_flight'
           END AS phase
    FROM orders o
    LEFT JOIN LATERAL (
        SELECT count(*) AS hops, max(GREATEST(delivered_at, committed_at)) AS last_at
        FROM journal WHERE journal.order_id = o.id::text) j ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS hops, max(GREATEST(created_at, published_at, sent_at)) AS last_at
        FROM outbox WHERE outbox.correlation_id = o.id::text) p ON true
    LEFT JOIN LATERAL (
        SELECT bool_or(type IN ('PaymentFailed', 'ShippingFailed')) AS failed,
               bool_or(type = 'StockReserved') AS reserved,
               bool_or(type = 'PaymentSucceeded') AS charged,
               bool_or(type = 'StockReleased') AS released,
               bool_or(type = 'PaymentRefunded') AS refunded,
               max(recorded_at) AS last_at
        FROM order_events WHERE order_events.order_id = o.id) e ON true;
CREATE INDEX orders_created ON orders (created_at DESC, id);
GRANT SELECT ON gateway_sagas TO souk_orders_gateway;
