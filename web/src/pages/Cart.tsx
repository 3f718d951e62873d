// The cart: quantities, totals, and the way to checkout.
import { useEffect, useState } from "preact/hooks";
import { cart, loadCart, removeFromCart, setQuantity } from "../cart";
import { Empty, Loading, Notice, ProductArt, useTitle } from "../components/bits";
import { money } from "../money";
import { RequireAccount } from "./RequireAccount";

function CartLines() {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState("");
  useEffect(() => {
    loadCart().then((r) => !r.ok && setError(r.message));
  }, []);
  const c = cart.value;
  if (error) return <Notice kind="error">The cart could not be read: {error}</Notice>;
  if (!c) return <Loading what="your cart" />;
  if (c.items.length === 0)
    return <Empty>Your cart is empty.</Empty>;
  const change = async (id: string, action: () => ReturnType<typeof setQuantity>) => {
    setBusy(id);
    const r = await action();
    setBusy("");
    setError(r.ok ? "" : r.message);
  };
  return (
    <div class="cart-layout">
      <ul class="cart-lines">
        {c.items.map((line) => (
          <li key={line.product_id} class="cart-line" aria-busy={busy === line.product_id}>
            <ProductArt sku={line.sku} name={line.name} size="tiny" />
            <div class="cart-line-name">
              <a href={`/shop/products/${line.product_id}`}>{line.name}</a>
              <small class="muted">{money(line.unit_price_minor, line.currency)} each</small>
              {!line.active && <span class="tag">no longer for sale</span>}
            </div>
            <div class="stepper" role="group" aria-label={`Quantity of ${line.name}`}>
              <button
                type="button"
                class="button ghost small"
                aria-label={`One ${line.name} less`}
                disabled={line.quantity <= 1 || busy !== ""}
                onClick={() => change(line.product_id, () => setQuantity(line.product_id, line.quantity - 1))}
              >
                −
              </button>
              <span class="stepper-value" aria-live="polite">
                {line.quantity}
              </span>
              <button
                type="button"
                class="button ghost small"
                aria-label={`One ${line.name} more`}
                disabled={busy !== ""}
                onClick={() => change(line.product_id, () => setQuantity(line.product_id, line.quantity + 1))}
              >
                +
              </button>
            </div>
            <span class="price">{money(line.line_total_minor, line.currency)}</span>
            <button
              type="button"
              class="link-button danger"
              disabled={busy !== ""}
              onClick={() => change(line.product_id, () => removeFromCart(line.product_id))}
            >
              Remove<span class="visually-hidden"> {line.name}</span>
            </button>
          </li>
        ))}
      </ul>
      <aside class="card summary">
        <h2>Summary</h2>
        <p class="summary-row">
          <span>{c.item_count} items</span>
          <strong class="price">{money(c.total_minor, c.currency)}</strong>
        </p>
        <a class="button primary wide" href="/shop/checkout">
          Check out
        </a>
      </aside>
    </div>
  );
}

export function CartPage() {
  useTitle("Cart");
  return (
    <div class="page">
      <h1>Your cart</h1>
      <RequireAccount what="see your cart">
        <CartLines />
      </RequireAccount>
    </div>
  );
}
