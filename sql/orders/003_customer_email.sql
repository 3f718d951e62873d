-- The customer e-mail travels with the order so that its OrderCompleted and
-- OrderCancelled can carry it to the notification service.
ALTER TABLE orders ADD COLUMN customer_email text;
