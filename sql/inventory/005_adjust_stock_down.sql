-- An admin's negative delta never reached the stock: INSERT ... ON CONFLICT
-- checks the row it would insert (on_hand = delta, below zero) against the
-- table's CHECK constraints before it finds the conflict, so every decrease
-- failed with 23514 (409 STOCK_CONFLICT) however much was on hand. The row
-- is updated first; only a product without one is inserted.
CREATE OR REPLACE FUNCTION admin_adjust_stock(p_product uuid, p_delta int) RETURNS stock
LANGUAGE plpgsql SECURITY DEFINER SET search_path = inventory AS $$
DECLARE result stock;
BEGIN
    UPDATE stock SET on_hand = on_hand + p_delta, received = received + p_delta, updated_at = now()
    WHERE product_id = p_product
    RETURNING * INTO result;
    IF NOT FOUND THEN
        -- a concurrent first adjustment of the product still adds up
        INSERT INTO stock (product_id, on_hand, received) VALUES (p_product, p_delta, p_delta)
        ON CONFLICT (product_id) DO UPDATE
            SET on_hand = stock.on_hand + p_delta, received = stock.received + p_delta,
                updated_at = now()
        RETURNING * INTO result;
    END IF;
    RETURN result;
END $$;
