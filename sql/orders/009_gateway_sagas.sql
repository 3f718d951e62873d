-- One row per order's saga, for the gateway's saga list (GET /sagas) and the
-- trace view's owner check: who and what (the order, its customer and
-- e-mail, the trace its checkout began), its hops as this service recorded
-- them (the deliveries it settled and the events it published: the order
-- service hears every step of its orders, so its last hop is the saga's last
-- step in all but a retry inside another service), and its phase:
--   completed     COMPLETED: nothing failed, nothing to undo
--   compensating  a step failed (PaymentFailed, ShippingFailed, or the
--                 deadline cancelled the order) and a compensation it calls
--                 for is not recorded yet: the release (StockReleased) of a
--                 reservation, the refund (PaymentRefunded) of a charge. The
--                 same two events events/topology.c names as compensations
--                 (souk_topology_is_compensation).
--   cancelled     CANCELLED with nothing left to undo
--   in_flight     the rest; whether it is stuck (no hop for a while) is the
--                 reader's question, as it depends on the reader's "while".
-- The figures are subqueries, not joins: a query computes only those it
-- reads, for the rows it reads (a page of 20 reads 20 orders' hops, and a
-- completed order's phase reads nothing more), so the list stays cheap as
-- the journal grows.
CREATE VIEW gateway_sagas AS
    SELECT o.id AS order_id, o.customer_id, o.customer_email, o.status, o.cancel_reason,
           o.trace_id, o.created_at, o.updated_at,
           GREATEST(o.created_at,
                    (SELECT max(GREATEST(j.delivered_at, j.committed_at))
                     FROM journal j WHERE j.order_id = o.id::text),
                    (SELECT max(GREATEST(p.created_at, p.published_at, p.sent_at))
                     FROM outbox p WHERE p.correlation_id = o.id::text),
                    (SELECT max(e.recorded_at) FROM order_events e WHERE e.order_id = o.id))
               AS last_hop_at,
           (SELECT count(*) FROM journal j WHERE j.order_id = o.id::text)
               + (SELECT count(*) FROM outbox p WHERE p.correlation_id = o.id::text) AS hops,
           CASE
               WHEN o.status = 'COMPLETED' THEN 'completed'
               WHEN (o.cancel_reason = 'timed_out'
                     OR EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id
                                AND e.type IN ('PaymentFailed', 'ShippingFailed')))
                    AND ((EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id
                                  AND e.type = 'StockReserved')
                          AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id
                                          AND e.type = 'StockReleased'))
                         OR (EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id
                                     AND e.type = 'PaymentSucceeded')
                             AND NOT EXISTS (SELECT 1 FROM order_events e
                                             WHERE e.order_id = o.id
                                             AND e.type = 'PaymentRefunded')))
                   THEN 'compensating'
               WHEN o.status = 'CANCELLED' THEN 'cancelled'
               ELSE 'in_flight'
           END AS phase
    FROM orders o;
-- The saga list's order, and its search by e-mail (by id and by trace id
-- have theirs).
CREATE INDEX orders_created ON orders (created_at DESC, id);
CREATE INDEX orders_customer_email ON orders (lower(customer_email));
GRANT SELECT ON gateway_sagas TO souk_orders_gateway;
