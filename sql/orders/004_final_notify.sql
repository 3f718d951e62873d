-- An order reaching a final state (COMPLETED or CANCELLED) notifies channel
-- orders_status with its id, at commit. Gateways LISTEN on it to answer
-- long polls (GET /orders/{id}?wait=) the moment an order is done, instead
-- of clients polling the database. Only final states: PostgreSQL serializes
-- the commits of notifying transactions, so one notification per order
-- costs far less than one per step. A trigger rather than code in each
-- handler, so no writer of orders.status can forget it.
CREATE FUNCTION notify_order_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_status', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_final_notify AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (NEW.status IN ('COMPLETED', 'CANCELLED') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_order_final();
