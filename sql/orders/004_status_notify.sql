-- Every new order and every status change notifies channel orders_status
-- with the order id, at commit. Gateways LISTEN on it to answer long polls
-- (GET /orders/{id}?wait=) the moment an order moves, instead of clients
-- polling the database. A trigger rather than code in each handler, so no
-- writer of orders.status can forget it.
CREATE FUNCTION notify_order_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_status', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_created_notify AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION notify_order_status();
CREATE TRIGGER orders_status_notify AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_order_status();
