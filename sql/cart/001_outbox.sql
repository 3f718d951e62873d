-- The cart publishes CartCheckedOut through its outbox.
\ir ../common/outbox.sql
