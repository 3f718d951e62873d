// My orders, newest first, each following its saga live until it is final.
import { useEffect, useState } from "preact/hooks";
import { api, describeError, type Schemas } from "../api/client";
import { Empty, FINAL, Loading, Notice, StatusBadge, useTitle } from "../components/bits";
import { shortId } from "../ids";
import { isDetail, useLiveOrder } from "../live";
import { money, when } from "../money";
import { RequireAccount } from "./RequireAccount";

type Summary = Schemas["OrderSummary"];

function OrderRow({ order }: { order: Summary }) {
  const live = useLiveOrder(order.id, 20, { final: FINAL.has(order.status) });
  const o = isDetail(live.order) ? live.order : order;
  return (
    <li class="order-row" data-order={order.id}>
      <a href={`/shop/orders/${order.id}`} class="order-row-link">
        <span class="order-id">
          Order <code>{shortId(order.id)}</code>
        </span>
        <span class="muted">{when(order.created_at)}</span>
      </a>
      <StatusBadge status={o.status} reason={o.cancel_reason} />
      <span class="price">{money(o.total_minor, o.currency)}</span>
      <a class="link" href={`/shop/orders/${order.id}/saga`}>
        Saga<span class="visually-hidden"> of order {shortId(order.id)}</span> →
      </a>
    </li>
  );
}

function OrderList() {
  const [page, setPage] = useState<Schemas["OrderPage"] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.GET("/orders", { params: { query: { limit: 20 } } }).then(({ data, error: e, response }) => {
      if (data) setPage(data);
      else setError(describeError(e, response));
    });
  }, []);
  if (error) return <Notice kind="error">Your orders could not be read: {error}</Notice>;
  if (!page) return <Loading what="your orders" />;
  if (page.items.length === 0)
    return <Empty>No orders yet.</Empty>;
  return (
    <>
      <ul class="order-list">
        {page.items.map((o) => (
          <OrderRow key={o.id} order={o} />
        ))}
      </ul>
      {page.total > page.items.length && (
        <p class="muted">
          The newest {page.items.length} of {page.total} orders.
        </p>
      )}
    </>
  );
}

export function OrdersPage() {
  useTitle("My orders");
  return (
    <div class="page">
      <h1>My orders</h1>
      <RequireAccount what="see your orders">
        <OrderList />
      </RequireAccount>
    </div>
  );
}
