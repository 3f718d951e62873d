-- The W3C trace context of each event (core/trace.h): traceparent and
-- tracestate are the message's own, those of its publish span, which the
-- relay publishes as they are, as AMQP headers; parent_span_id is the span
-- that emitted it (a request's, or the handling of the message that caused
-- it), from which the relay records the publish span. NULL in rows written
-- before it: such a message starts a new trace where it is consumed.
ALTER TABLE outbox
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate text,
    ADD COLUMN parent_span_id text;
