// One order, live: where its saga is (a step tracker from its status and
// timeline), what it holds, and why it was cancelled if it was.
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { Loading, Notice, StatusBadge, useTitle } from "../components/bits";
import { shortId } from "../ids";
import { isDetail, isFinal, useLiveOrder } from "../live";
import { money, when } from "../money";
import { duration } from "../saga/model";
import { RequireAccount } from "./RequireAccount";

type TimelineEvent = Schemas["OrderTimeline"]["events"][number];

const WHY: Record<string, string> = {
  out_of_stock: "There was not enough stock for it: nothing was reserved, nothing was charged.",
  payment_declined: "The payment was declined: the reserved stock went back on the shelf.",
  shipping_failed: "Shipping does not deliver to that address: the payment was refunded and the stock released.",
  timed_out:
    "It was not final within the saga's deadline, so the order service cancelled it; any reservation was released and any payment refunded.",
};

const STEPS = [
  { status: "PENDING", label: "Placed", event: "OrderCreated" },
  { status: "STOCK_RESERVED", label: "Stock reserved", event: "StockReserved" },
  { status: "PAID", label: "Paid", event: "PaymentSucceeded" },
  { status: "COMPLETED", label: "Shipped", event: "OrderCompleted" },
] as const;

/** "+123 ms" after the first event of the timeline. */
function sinceFirst(events: TimelineEvent[], at: string): string {
  const first = Date.parse(events[0]?.at ?? "");
  const t = Date.parse(at);
  return Number.isNaN(first) || Number.isNaN(t) ? "" : `+${duration(t - first)}`;
}

function Tracker({ status, events }: { status: string; events: TimelineEvent[] }) {
  const seen = new Set(events.map((e) => e.type));
  const at = STEPS.findIndex((s) => s.status === status);
  const cancelled = status === "CANCELLED";
  return (
    <ol class={`tracker${cancelled ? " cancelled" : ""}`}>
      {STEPS.map((s, i) => {
        const done = cancelled ? seen.has(s.event) : i <= at;
        const current = !cancelled && i === at && status !== "COMPLETED";
        return (
          <li key={s.status} class={done ? "done" : current ? "current" : ""} aria-current={current ? "step" : undefined}>
            <span class="dot" aria-hidden="true" />
            {s.label}
          </li>
        );
      })}
      {cancelled && (
        <li class="done stop">
          <span class="dot" aria-hidden="true" />
          Cancelled
        </li>
      )}
    </ol>
  );
}

function OrderView({ id }: { id: string }) {
  const live = useLiveOrder(id, 5);
  const [events, setEvents] = useState<TimelineEvent[]>([]);
  const o = live.order;
  useTitle(`Order ${shortId(id)}`);
  useEffect(() => {
    if (!isDetail(o)) return;
    api.GET("/orders/{id}/events", { params: { path: { id } } }).then(({ data }) => data && setEvents(data.events));
  }, [id, o?.status]);

  if (live.missing) return <Notice kind="error">There is no such order among yours.</Notice>;
  if (!o) return live.error ? <Notice kind="error">{live.error}</Notice> : <Loading what="the order" />;
  return (
    <>
      <div class="order-head">
        <div>
          <h1>
            Order <code>{shortId(id)}</code>
          </h1>
          <p class="muted">
            Placed {when(o.created_at)} · <span class="mono">{id}</span>
          </p>
        </div>
        <div class="order-head-status">
          <StatusBadge status={o.status} reason={isDetail(o) ? o.cancel_reason : null} />
          <a class="button" href={`/shop/orders/${id}/saga`}>
            Watch the saga →
          </a>
        </div>
      </div>
      {live.error && <Notice kind="warning">{live.error}</Notice>}
      {!isDetail(o) ? (
        <Notice>Your checkout was accepted; the order service is creating the order…</Notice>
      ) : (
        <>
          <Tracker status={o.status} events={events} />
          {o.status === "CANCELLED" && (
            <Notice kind="warning">
              <strong>Cancelled.</strong> {WHY[o.cancel_reason ?? ""] ?? o.cancel_detail ?? ""}
            </Notice>
          )}
          {!isFinal(o) && (
            <p class="muted live-note" role="status">
              <span class="pulse" aria-hidden="true" /> Following the saga live…
            </p>
          )}
          <div class="order-body">
            <section class="card">
              <h2>Items</h2>
              <ul class="summary-lines">
                {o.lines.map((l) => (
                  <li key={l.product_id}>
                    <span>
                      {l.quantity} × {l.product_id ? <a href={`/shop/products/${l.product_id}`}>{l.name ?? l.sku ?? "product"}</a> : l.name}
                    </span>
                    <span class="price">{money(l.line_total_minor, o.currency)}</span>
                  </li>
                ))}
              </ul>
              <p class="summary-row total">
                <span>Total</span>
                <strong class="price">{money(o.total_minor, o.currency)}</strong>
              </p>
            </section>
            <section class="card">
              <h2>Payment and shipment</h2>
              <dl class="facts">
                <dt>Payment</dt>
                <dd>{o.payment ? <span class="mono">{o.payment.provider_ref ?? o.payment.payment_id}</span> : <span class="muted">none</span>}</dd>
                <dt>Shipment</dt>
                <dd>
                  {o.shipment ? (
                    <>
                      {o.shipment.carrier ?? "carrier"} <span class="mono">{o.shipment.tracking_number ?? o.shipment.shipment_id}</span>
                    </>
                  ) : (
                    <span class="muted">none</span>
                  )}
                </dd>
                <dt>Updated</dt>
                <dd>{when(o.updated_at)}</dd>
              </dl>
            </section>
          </div>
          <section class="card">
            <h2>Timeline</h2>
            {events.length === 0 ? (
              <p class="muted">No events recorded yet.</p>
            ) : (
              <ol class="timeline">
                {events.map((e) => (
                  <li key={e.message_id}>
                    <span class="timeline-at">
                      {when(e.at)} <span class="muted">{sinceFirst(events, e.at)}</span>
                    </span>
                    <span class="event-name">{e.type}</span>
                    <span class="muted">from {e.service}</span>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </>
      )}
    </>
  );
}

export function OrderPage({ id }: { id: string }) {
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/shop/orders">My orders</a> <span aria-hidden="true">/</span> <span>{shortId(id)}</span>
      </nav>
      <RequireAccount what="see this order">
        <OrderView id={id} />
      </RequireAccount>
    </div>
  );
}
