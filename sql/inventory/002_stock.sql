-- Stock per product. on_hand counts the units in the warehouse, reserved
-- those held for open orders; available = on_hand - reserved. A sale takes
-- units out of both. received counts every unit ever stocked, so that
-- on_hand + sold = received always holds.
CREATE TABLE stock (
    product_id uuid PRIMARY KEY,
    on_hand int NOT NULL CHECK (on_hand >= 0),
    reserved int NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    sold int NOT NULL DEFAULT 0 CHECK (sold >= 0),
    received int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (on_hand + sold = received)
);

CREATE TABLE reservations (
    order_id uuid NOT NULL,
    product_id uuid NOT NULL,
    quantity int NOT NULL CHECK (quantity > 0),
    status text NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'SOLD')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id)
);

-- Orders whose saga ended before inventory saw their OrderCreated: a late
-- OrderCreated must not reserve anything.
CREATE TABLE closed_orders (
    order_id uuid PRIMARY KEY,
    closed_at timestamptz NOT NULL DEFAULT now()
);

-- The gateway's door into inventory: read stock, and let admins set or
-- adjust it through these functions only.
CREATE FUNCTION admin_set_stock(p_product uuid, p_on_hand int) RETURNS stock
LANGUAGE plpgsql SECURITY DEFINER SET search_path = inventory AS $$
DECLARE result stock;
BEGIN
    INSERT INTO stock (product_id, on_hand, received) VALUES (p_product, p_on_hand, p_on_hand)
    ON CONFLICT (product_id) DO UPDATE
        SET received = stock.received + (p_on_hand - stock.on_hand),
            on_hand = p_on_hand, updated_at = now()
    RETURNING * INTO result;
    RETURN result;
END $$;

CREATE FUNCTION admin_adjust_stock(p_product uuid, p_delta int) RETURNS stock
LANGUAGE plpgsql SECURITY DEFINER SET search_path = inventory AS $$
DECLARE result stock;
BEGIN
    INSERT INTO stock (product_id, on_hand, received) VALUES (p_product, p_delta, p_delta)
    ON CONFLICT (product_id) DO UPDATE
        SET on_hand = stock.on_hand + p_delta, received = stock.received + p_delta, updated_at = now()
    RETURNING * INTO result;
    RETURN result;
END $$;

REVOKE ALL ON FUNCTION admin_set_stock(uuid, int), admin_adjust_stock(uuid, int) FROM PUBLIC;
GRANT USAGE ON SCHEMA inventory TO souk_inventory_gateway;
GRANT SELECT ON stock, reservations TO souk_inventory_gateway;
GRANT EXECUTE ON FUNCTION admin_set_stock(uuid, int), admin_adjust_stock(uuid, int) TO souk_inventory_gateway;
