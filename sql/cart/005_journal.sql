-- What the gateway published (CartCheckedOut), for the trace view.
\ir ../common/outbox_journal.sql
