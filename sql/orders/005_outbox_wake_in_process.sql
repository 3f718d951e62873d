-- The relay is now woken inside the writing process after its commit
-- (souk_outbox_committed). A NOTIFY per outbox insert made PostgreSQL
-- serialize every writing transaction's commit, disk flush included.
-- Writers outside the services still NOTIFY explicitly
-- (souk_outbox_notify_relays); the relays keep listening for that.
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
