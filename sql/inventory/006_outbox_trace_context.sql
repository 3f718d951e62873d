-- Each event keeps the trace context it was emitted in.
\ir ../common/outbox_trace.sql
