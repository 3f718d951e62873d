// Checkout: the shipping address, the payment method and, clearly set
// apart, the demo panel that picks a failure path of the saga. Placing the
// order is POST /cart/checkout with an Idempotency-Key (kept while the
// same attempt is retried), then the order's page follows it live.
import { useLocation } from "preact-iso";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, describeError, retryAfter, sleep } from "../api/client";
import { cart, loadCart, setQuantity } from "../cart";
import { Empty, Loading, Notice, useTitle } from "../components/bits";
import { money } from "../money";
import { PAYMENT_METHODS, SCENARIOS, UNSERVED_COUNTRY, scenario, type ScenarioId } from "../scenarios";
import { newKey } from "../ids";
import { account } from "../session";
import { RequireAccount } from "./RequireAccount";

const COUNTRIES: [string, string][] = [
  ["MA", "Morocco"],
  ["FR", "France"],
  ["DE", "Germany"],
  ["ES", "Spain"],
  ["NL", "Netherlands"],
  ["GB", "United Kingdom"],
  ["US", "United States"],
  ["TN", "Tunisia"],
  [UNSERVED_COUNTRY, "Antarctica"],
];

interface Address {
  name: string;
  line1: string;
  line2: string;
  city: string;
  postal_code: string;
  country: string;
}

function ScenarioPanel({ value, onPick }: { value: ScenarioId | "custom"; onPick: (id: ScenarioId) => void }) {
  return (
    <fieldset class="scenario-panel" aria-describedby="scenario-note">
      <legend>
        <span class="demo-tag">Demo aid</span> Scenario
      </legend>
      <p id="scenario-note" class="muted">
        Not part of a real shop: pick the path the saga should take. It fills in the payment method,
        the country or the quantity below; the services decide the rest.
      </p>
      <div class="scenario-list">
        {SCENARIOS.map((s) => (
          <label key={s.id} class={`scenario${value === s.id ? " picked" : ""}`}>
            <input type="radio" name="scenario" value={s.id} checked={value === s.id} onChange={() => onPick(s.id)} />
            <span class="scenario-title">{s.title}</span>
            <span class="scenario-expect">{s.expect}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function CheckoutForm() {
  const { route } = useLocation();
  const [address, setAddress] = useState<Address>({
    name: account.value?.name ?? "",
    line1: "12 Rue des Souks",
    line2: "",
    city: "Marrakesh",
    postal_code: "40000",
    country: "MA",
  });
  const [token, setToken] = useState<string>("tok_approve");
  const [picked, setPicked] = useState<ScenarioId | "custom">("approve");
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  // one key per attempt: a retry of the same attempt cannot order twice
  const [attemptKey, setAttemptKey] = useState(() => newKey());

  useEffect(() => {
    void loadCart();
  }, []);
  const c = cart.value;
  const first = c?.items[0];
  const [firstStock, setFirstStock] = useState<number | null>(null);
  useEffect(() => {
    if (!first) return;
    api
      .GET("/inventory/{product_id}", { params: { path: { product_id: first.product_id } } })
      .then(({ data }) => setFirstStock(data ? data.available : null));
  }, [first?.product_id]);

  const s = picked === "custom" ? null : scenario(picked);
  const overStockQty = firstStock === null ? null : firstStock + 1;
  const overStockPossible = overStockQty !== null && overStockQty <= 1000;

  const pick = (id: ScenarioId) => {
    const next = scenario(id);
    setPicked(id);
    setToken(next.token);
    setAddress((a) => ({ ...a, country: next.country ?? (a.country === UNSERVED_COUNTRY ? "MA" : a.country) }));
    setAttemptKey(newKey());
  };
  const edit = (patch: Partial<Address>) => {
    setAddress((a) => ({ ...a, ...patch }));
    setPicked("custom");
    setAttemptKey(newKey());
  };

  const lineNote = useMemo(() => {
    if (!s?.overStock || !first) return "";
    if (firstStock === null) return "Reading the stock…";
    return overStockPossible
      ? `Sets ${first.name} to ${overStockQty} (${firstStock} available).`
      : `${first.name} has ${firstStock} in stock: a cart holds at most 1000 units, so this scenario needs a product with less stock.`;
  }, [s, first, firstStock]);

  if (!c) return <Loading what="your cart" />;
  if (c.items.length === 0)
    return <Empty>Your cart is empty: there is nothing to check out.</Empty>;

  const place = async (e: Event) => {
    e.preventDefault();
    setError("");
    if (s?.overStock) {
      if (!first || !overStockPossible || overStockQty === null) {
        setError("This scenario cannot be reached with this cart.");
        return;
      }
      setBusy("Setting the quantity above the stock…");
      const r = await setQuantity(first.product_id, overStockQty);
      if (!r.ok) {
        setBusy("");
        setError(r.message);
        return;
      }
    }
    setBusy("Placing the order…");
    const { line2, ...required } = address;
    const shipping_address = line2.trim() ? { ...required, line2 } : required;
    for (let attempt = 0; ; attempt++) {
      const { data, error: err, response } = await api.POST("/cart/checkout", {
        params: { header: { "Idempotency-Key": attemptKey } },
        body: { shipping_address, payment_token: token },
      });
      if (data) {
        cart.value = { items: [], item_count: 0, total_minor: 0, currency: null };
        route(`/shop/orders/${data.order_id}`);
        return;
      }
      if ((response.status === 429 || response.status === 503) && attempt < 5) {
        await sleep(retryAfter(response) * 1000);
        continue;
      }
      setBusy("");
      setError(describeError(err, response));
      return;
    }
  };

  return (
    <form class="checkout" onSubmit={place}>
      <div class="checkout-main">
        <fieldset class="card">
          <legend>Shipping address</legend>
          <div class="grid-2">
            <div class="span-2">
              <label for="ship-name">Full name</label>
              <input id="ship-name" autoComplete="name" required maxLength={200} value={address.name} onInput={(e) => edit({ name: e.currentTarget.value })} />
            </div>
            <div class="span-2">
              <label for="ship-line1">Address</label>
              <input id="ship-line1" autoComplete="address-line1" required maxLength={200} value={address.line1} onInput={(e) => edit({ line1: e.currentTarget.value })} />
            </div>
            <div class="span-2">
              <label for="ship-line2">
                Address line 2 <span class="muted">(optional)</span>
              </label>
              <input id="ship-line2" autoComplete="address-line2" maxLength={200} value={address.line2} onInput={(e) => edit({ line2: e.currentTarget.value })} />
            </div>
            <div>
              <label for="ship-city">City</label>
              <input id="ship-city" autoComplete="address-level2" required maxLength={100} value={address.city} onInput={(e) => edit({ city: e.currentTarget.value })} />
            </div>
            <div>
              <label for="ship-postal">Postal code</label>
              <input id="ship-postal" autoComplete="postal-code" required maxLength={20} value={address.postal_code} onInput={(e) => edit({ postal_code: e.currentTarget.value })} />
            </div>
            <div class="span-2">
              <label for="ship-country">Country</label>
              <select id="ship-country" autoComplete="country" value={address.country} onChange={(e) => edit({ country: e.currentTarget.value })}>
                {COUNTRIES.map(([code, name]) => (
                  <option key={code} value={code}>
                    {name} ({code})
                  </option>
                ))}
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset class="card">
          <legend>Payment method</legend>
          <div class="methods">
            {PAYMENT_METHODS.map((m) => (
              <label key={m.token} class={`method${token === m.token ? " picked" : ""}`}>
                <input
                  type="radio"
                  name="payment"
                  value={m.token}
                  checked={token === m.token}
                  onChange={() => {
                    setToken(m.token);
                    setPicked("custom");
                    setAttemptKey(newKey());
                  }}
                />
                <span class="method-label">{m.label}</span>
                <span class="muted">{m.note}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <ScenarioPanel value={picked} onPick={pick} />
      </div>
      <aside class="card summary">
        <h2>Your order</h2>
        <ul class="summary-lines">
          {c.items.map((l) => (
            <li key={l.product_id}>
              <span>
                {l.quantity} × {l.name}
              </span>
              <span class="price">{money(l.line_total_minor, l.currency)}</span>
            </li>
          ))}
        </ul>
        <p class="summary-row total">
          <span>Total</span>
          <strong class="price">{money(c.total_minor, c.currency)}</strong>
        </p>
        {s && (
          <div class="scenario-summary" data-scenario={s.id}>
            <strong>Scenario: {s.title}</strong>
            <span>Sends {s.sends}.</span>
            {lineNote && <span>{lineNote}</span>}
          </div>
        )}
        {error && <Notice kind="error">{error}</Notice>}
        <button class="button primary wide" type="submit" disabled={busy !== "" || (s?.overStock === true && !overStockPossible)}>
          {busy || "Place the order"}
        </button>
      </aside>
    </form>
  );
}

export function CheckoutPage() {
  useTitle("Checkout");
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/shop/cart">Cart</a> <span aria-hidden="true">/</span> <span>Checkout</span>
      </nav>
      <h1>Checkout</h1>
      <RequireAccount what="check out">
        <CheckoutForm />
      </RequireAccount>
    </div>
  );
}
