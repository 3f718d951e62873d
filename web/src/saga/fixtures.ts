// Traces shaped as GET /orders/{id}/trace answers them, for the unit tests
// of the model and for the browser test that draws the view before a
// stack with the trace API is at hand. Timings follow the trace of
// README.md ("Tracing"): one checkout on the ASan build.
import type { Hop, Trace } from "./types.js";

const ORDER = "0b7e3c1a-5d2f-4a8e-9c61-2f4d8b9a7e10";
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const T0 = Date.parse("2026-12-01T10:00:00.000Z");

let n = 0;
const id = (p: string) => `${p}${(++n).toString(16).padStart(4, "0")}-0000-4000-8000-000000000000`.slice(0, 36);
const iso = (offset: number) => new Date(T0 + offset).toISOString();
const span = () => Math.floor(Math.random() * 2 ** 48).toString(16).padStart(16, "0");

function publish(service: string, type: string, at: number, causation: string | null, extra: Partial<Hop> = {}): Hop {
  const s = span();
  return {
    kind: "publish",
    service,
    event_type: type,
    message_id: id("m"),
    causation_id: causation,
    exchange: type,
    queue: null,
    outcome: "published",
    attempt: null,
    retry_delay_ms: null,
    reason: null,
    replayed: 0,
    compensation: type === "PaymentRefunded" || type === "StockReleased",
    trace_id: TRACE,
    span_id: s,
    parent_span_id: span(),
    at: iso(at),
    written_at: iso(at),
    published_at: iso(at + 1.2),
    confirmed_at: iso(at + 6.5),
    headers: { traceparent: `00-${TRACE}-${s}-01`, tracestate: "souk=1" },
    payload: { order_id: ORDER, type },
    ...extra,
  };
}

function consume(p: Hop, service: string, after: number, wait: number, handler: number, extra: Partial<Hop> = {}): Hop {
  const delivered = Date.parse(p.at) - T0 + after;
  return {
    kind: "consume",
    service,
    event_type: p.event_type,
    message_id: p.message_id,
    causation_id: p.causation_id,
    exchange: p.event_type,
    queue: `${service}-service`,
    outcome: "handled",
    attempt: 1,
    retry_delay_ms: null,
    reason: null,
    replayed: 0,
    compensation: false,
    trace_id: TRACE,
    span_id: span(),
    parent_span_id: p.span_id,
    at: iso(delivered),
    delivered_at: iso(delivered),
    handler_started_at: iso(delivered + 0.2),
    handler_ended_at: iso(delivered + 0.2 + handler),
    committed_at: iso(delivered + 0.4 + handler),
    queue_wait_ms: wait,
    handler_ms: handler,
    ...extra,
  };
}

function trace(hops: Hop[], status: string, final: boolean): Trace {
  hops.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { order_id: ORDER, trace_id: TRACE, status, final, version: `v${hops.length}`, hops };
}

/** The happy path, COMPLETED: 6 events, 15 deliveries. */
export function completedTrace(): Trace {
  const cco = publish("gateway", "CartCheckedOut", 21, null);
  const oc = publish("order", "OrderCreated", 70, cco.message_id);
  const sr = publish("inventory", "StockReserved", 110, oc.message_id);
  const ps = publish("payment", "PaymentSucceeded", 154, sr.message_id);
  const sc = publish("shipping", "ShippingCreated", 185, ps.message_id);
  const ocd = publish("order", "OrderCompleted", 195, sc.message_id);
  return trace(
    [
      cco, consume(cco, "order", 11, 3.1, 30.2), consume(cco, "analytics", 17, 4.0, 1.1),
      oc, consume(oc, "analytics", 5, 1.3, 2.2), consume(oc, "inventory", 8, 2.4, 28.7),
      sr, consume(sr, "order", 7, 1.8, 26.1), consume(sr, "analytics", 9, 1.2, 0.9), consume(sr, "payment", 11, 2.0, 31.5),
      ps, consume(ps, "analytics", 6, 1.1, 1.4), consume(ps, "order", 6.5, 1.4, 1.5), consume(ps, "shipping", 9, 1.9, 20.4),
      sc, consume(sc, "order", 6, 1.2, 4.5), consume(sc, "analytics", 6.2, 1.3, 1.7),
      ocd, consume(ocd, "inventory", 2.3, 0.9, 22.1), consume(ocd, "analytics", 4.9, 1.0, 1.1),
      consume(ocd, "notification", 8.4, 1.6, 26.0),
    ],
    "COMPLETED",
    true,
  );
}

/** tok_decline: PaymentFailed, the stock released, CANCELLED
 * (payment_declined); one duplicate delivery on the way. */
export function declinedTrace(): Trace {
  const cco = publish("gateway", "CartCheckedOut", 20, null);
  const oc = publish("order", "OrderCreated", 66, cco.message_id);
  const sr = publish("inventory", "StockReserved", 104, oc.message_id);
  const pf = publish("payment", "PaymentFailed", 151, sr.message_id, { payload: { order_id: ORDER, reason: "card_declined" } });
  const rel = publish("inventory", "StockReleased", 180, pf.message_id);
  const can = publish("order", "OrderCancelled", 183, pf.message_id, { payload: { order_id: ORDER, reason: "payment_declined" } });
  return trace(
    [
      cco, consume(cco, "order", 10, 2.9, 29.0), consume(cco, "analytics", 15, 3.2, 1.0),
      oc, consume(oc, "inventory", 7, 2.2, 27.4), consume(oc, "analytics", 5, 1.4, 2.0),
      sr, consume(sr, "order", 6, 1.5, 20.3), consume(sr, "payment", 9, 1.8, 33.0), consume(sr, "analytics", 8, 1.0, 1.0),
      consume(sr, "order", 40, 0.9, 0.3, { outcome: "duplicate", attempt: 1 }),
      pf, consume(pf, "inventory", 8, 1.4, 18.2, { compensation: true }), consume(pf, "order", 9, 1.5, 21.9),
      consume(pf, "analytics", 10, 1.2, 1.2),
      rel, consume(rel, "order", 5, 1.1, 2.1), consume(rel, "analytics", 6, 1.0, 0.8),
      can, consume(can, "inventory", 6, 1.2, 1.0, { compensation: true }), consume(can, "payment", 7, 1.3, 1.1, { compensation: true }),
      consume(can, "notification", 9, 1.5, 24.0), consume(can, "analytics", 8, 1.1, 0.9),
    ],
    "CANCELLED",
    true,
  );
}

/** tok_error while it runs: the charge retried twice, then dead-lettered,
 * the order still STOCK_RESERVED; its dead letter later replayed. */
export function deadLetteredTrace(replayed = false): Trace {
  const cco = publish("gateway", "CartCheckedOut", 20, null);
  const oc = publish("order", "OrderCreated", 66, cco.message_id);
  const sr = publish("inventory", "StockReserved", 104, oc.message_id);
  const hops = [
    cco, consume(cco, "order", 10, 2.9, 29.0), consume(cco, "analytics", 15, 3.2, 1.0),
    oc, consume(oc, "inventory", 7, 2.2, 27.4), consume(oc, "analytics", 5, 1.4, 2.0),
    sr, consume(sr, "order", 6, 1.5, 20.3), consume(sr, "analytics", 8, 1.0, 1.0),
    consume(sr, "payment", 9, 1.8, 40.0, { outcome: "retry_scheduled", attempt: 1, retry_delay_ms: 200, reason: "provider answered 500" }),
    consume(sr, "payment", 260, 1.1, 38.0, { outcome: "retry_scheduled", attempt: 2, retry_delay_ms: 500, reason: "provider answered 500" }),
    consume(sr, "payment", 820, 1.0, 39.0, { outcome: "dead_lettered", attempt: 3, reason: "provider answered 500; retries spent" }),
  ];
  if (replayed)
    hops.push(consume(sr, "payment", 30000, 2.0, 35.0, { outcome: "replayed", attempt: 4, replayed: 1, reason: "replayed by souk dlq" }));
  return trace(hops, "STOCK_RESERVED", false);
}
