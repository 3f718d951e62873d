-- Every hop of this service, for the gateway's trace and saga views.
\ir ../common/journal.sql
\ir ../common/outbox_journal.sql
GRANT USAGE ON SCHEMA inventory TO souk_inventory_gateway;
GRANT SELECT ON gateway_journal, gateway_publishes TO souk_inventory_gateway;
