-- Every hop of this service, for the trace and saga views; the order keeps
-- the trace id its checkout began, to find a saga by trace.
\ir ../common/journal.sql
\ir ../common/outbox_journal.sql
ALTER TABLE orders ADD COLUMN trace_id text;
CREATE INDEX orders_trace ON orders (trace_id);
GRANT SELECT ON gateway_journal, gateway_publishes TO souk_orders_gateway;
