-- Every delivery this service settled, for the gateway's trace view.
\ir ../common/journal.sql
GRANT SELECT ON gateway_journal TO souk_notification_gateway;
