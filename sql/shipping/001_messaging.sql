-- The messaging tables every consuming and publishing service has.
\ir ../common/inbox.sql
\ir ../common/outbox.sql
