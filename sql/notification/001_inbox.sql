-- A consumer that publishes nothing: inbox only.
\ir ../common/inbox.sql
