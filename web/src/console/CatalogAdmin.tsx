// The catalog as an admin keeps it: every product with its stock, and a
// product's page to create, edit or delete it (POST, PUT, DELETE
// /products) and to set or adjust its stock (PUT /inventory/{id}: on_hand,
// or a delta). What is saved here is what the storefront shows next.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api, describeError, errorCode, type Schemas } from "../api/client";
import { Loading, Notice, ProductArt } from "../components/bits";
import { money } from "../money";
import { Confirm } from "./Dialogs";
import { ConsoleFrame } from "./Frame";
import { count, formatMinor, parseMinor } from "./format";

type Product = Schemas["ProductRecord"];
type Stock = Schemas["StockLevel"];
const PAGE = 20;
const CURRENCIES = ["EUR", "MAD", "USD", "GBP", "CHF"];

function StockCells({ stock }: { stock: Stock | null | undefined }) {
  if (stock === undefined)
    return (
      <td colSpan={3} class="muted">
        …
      </td>
    );
  if (stock === null)
    return (
      <td colSpan={3} class="muted">
        no stock record
      </td>
    );
  return (
    <>
      <td data-label="On hand" class="num">
        {count(stock.on_hand)}
      </td>
      <td data-label="Reserved" class="num">
        {count(stock.reserved)}
      </td>
      <td data-label="Available" class={`num${stock.available <= 0 ? " out" : stock.available < 5 ? " low" : ""}`}>
        {count(stock.available)}
      </td>
    </>
  );
}

function ProductTable() {
  const { query, route } = useLocation();
  const q = query["q"] ?? "";
  const offset = Math.max(0, Number(query["offset"] ?? 0) || 0);
  const [page, setPage] = useState<Schemas["ProductPage"] | null>(null);
  const [stock, setStock] = useState<Record<string, Stock | null>>({});
  const [error, setError] = useState("");
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  useEffect(() => {
    let live = true;
    setError("");
    api.GET("/products", { params: { query: { limit: PAGE, offset, ...(q ? { q } : {}) } } }).then(({ data, error: e, response }) => {
      if (!live) return;
      if (!data) return setError(describeError(e, response));
      setPage(data);
      for (const p of data.items)
        api.GET("/inventory/{product_id}", { params: { path: { product_id: p.id } } }).then(({ data: s }) => {
          if (live) setStock((m) => ({ ...m, [p.id]: s ?? null }));
        });
    });
    return () => {
      live = false;
    };
  }, [q, offset]);
  const go = (nextQ: string, nextOffset: number) => {
    const p = new URLSearchParams();
    if (nextQ) p.set("q", nextQ);
    if (nextOffset) p.set("offset", String(nextOffset));
    route(p.toString() ? `/console/catalog?${p}` : "/console/catalog", true);
  };
  return (
    <>
      <form
        class="filters card compact"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go(text.trim(), 0);
        }}
      >
        <div class="filter filter-q">
          <label for="catalog-q">Search by name</label>
          <input id="catalog-q" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="filter-buttons">
          <button class="button" type="submit">
            Search
          </button>
        </div>
      </form>
      {error && <Notice kind="error">The catalog could not be read: {error}</Notice>}
      {!page && !error && <Loading what="the catalog" />}
      {page && (
        <>
          <p class="list-meta">
            <span>
              <strong>{count(page.total)}</strong> {page.total === 1 ? "product" : "products"}
              {q && ` matching “${q}”`}
            </span>
          </p>
          {page.items.length === 0 ? (
            <div class="empty card">
              <p>{q ? "Nothing matches." : "The catalog is empty."}</p>
              <a class="button primary" href="/console/catalog/new">
                Add a product
              </a>
            </div>
          ) : (
            <div class="table-card card">
              <table class="data products">
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">SKU</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                    <th scope="col" class="num">
                      On hand
                    </th>
                    <th scope="col" class="num">
                      Reserved
                    </th>
                    <th scope="col" class="num">
                      Available
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Edit</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((p) => (
                    <tr key={p.id} data-product={p.id} class={p.active ? "" : "inactive"}>
                      <td data-label="Product">
                        <span class="product-cell">
                          <ProductArt sku={p.sku} name={p.name} size="tiny" />
                          <span>
                            <strong>{p.name}</strong>
                            {!p.active && <span class="tag">not for sale</span>}
                          </span>
                        </span>
                      </td>
                      <td data-label="SKU" class="mono">
                        {p.sku}
                      </td>
                      <td data-label="Price" class="num price">
                        {money(p.price_minor, p.currency)}
                      </td>
                      <StockCells stock={stock[p.id]} />
                      <td class="row-actions">
                        <a class="button ghost small" href={`/console/catalog/${p.id}`}>
                          Edit<span class="visually-hidden"> {p.name}</span>
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {page.total > PAGE && (
            <nav class="pager" aria-label="Pages">
              <button type="button" class="button ghost" disabled={offset === 0} onClick={() => go(q, Math.max(0, offset - PAGE))}>
                ← Previous
              </button>
              <span>
                Page {Math.floor(offset / PAGE) + 1} of {Math.ceil(page.total / PAGE)}
              </span>
              <button type="button" class="button ghost" disabled={offset + PAGE >= page.total} onClick={() => go(q, offset + PAGE)}>
                Next →
              </button>
            </nav>
          )}
        </>
      )}
    </>
  );
}

export function CatalogAdminPage() {
  const { query } = useLocation();
  return (
    <ConsoleFrame
      title="Catalog & stock"
      actions={
        <a class="button primary" href="/console/catalog/new">
          + New product
        </a>
      }
    >
      {query["deleted"] && <Notice kind="success">Deleted “{query["deleted"]}”.</Notice>}
      <ProductTable />
    </ConsoleFrame>
  );
}

// ------------------------------------------------------------ one product

interface Draft {
  sku: string;
  name: string;
  description: string;
  price: string;
  currency: string;
  active: boolean;
}

const blank: Draft = { sku: "", name: "", description: "", price: "", currency: "EUR", active: true };
const draftOf = (p: Product): Draft => ({
  sku: p.sku,
  name: p.name,
  description: p.description,
  price: formatMinor(p.price_minor),
  currency: p.currency,
  active: p.active,
});

function ProductForm({ product, onSaved }: { product: Product | null; onSaved: (p: Product, created: boolean) => void }) {
  const [draft, setDraft] = useState<Draft>(product ? draftOf(product) : blank);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(product ? draftOf(product) : blank), [product?.id, product?.updated_at]);
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft((d) => ({ ...d, ...patch }));
  };
  const save = async () => {
    const price = parseMinor(draft.price);
    if (price === null) return setError("The price is a number with at most two decimals, e.g. 12.50.");
    const body = {
      sku: draft.sku.trim(),
      name: draft.name.trim(),
      description: draft.description,
      price_minor: price,
      currency: draft.currency,
      active: draft.active,
    };
    setBusy(true);
    setError("");
    const answer = product
      ? await api.PUT("/products/{id}", { params: { path: { id: product.id } }, body })
      : await api.POST("/products", { body });
    setBusy(false);
    if (answer.data) {
      setSaved(true);
      onSaved(answer.data, !product);
    } else
      setError(errorCode(answer.error) === "SKU_TAKEN" ? "Another product has this SKU." : describeError(answer.error, answer.response));
  };
  return (
    <form
      class="card product-form"
      aria-labelledby="product-form-title"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2 id="product-form-title">{product ? "Product" : "A new product"}</h2>
      <div class="grid-2">
        <div class="span-2">
          <label for="p-name">Name</label>
          <input id="p-name" required maxLength={200} value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </div>
        <div>
          <label for="p-sku">SKU</label>
          <input
            id="p-sku"
            required
            maxLength={64}
            pattern="[A-Za-z0-9._\-]+"
            title="letters, digits, '.', '_' and '-'"
            value={draft.sku}
            onInput={(e) => set({ sku: e.currentTarget.value })}
          />
        </div>
        <div class="price-fields">
          <div>
            <label for="p-price">Price</label>
            <input id="p-price" required inputMode="decimal" placeholder="12.50" value={draft.price} onInput={(e) => set({ price: e.currentTarget.value })} />
          </div>
          <div>
            <label for="p-currency">Currency</label>
            <select id="p-currency" value={draft.currency} onChange={(e) => set({ currency: e.currentTarget.value })}>
              {[...new Set([draft.currency, ...CURRENCIES])].map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div class="span-2">
          <label for="p-description">Description</label>
          <textarea id="p-description" rows={3} maxLength={4000} value={draft.description} onInput={(e) => set({ description: e.currentTarget.value })} />
        </div>
        <label class="check span-2">
          <input type="checkbox" checked={draft.active} onChange={(e) => set({ active: e.currentTarget.checked })} /> For sale
          <span class="muted"> (unticked: listed, but not for sale)</span>
        </label>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {saved && <Notice kind="success">Saved.</Notice>}
      <div class="form-buttons">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Saving…" : product ? "Save the product" : "Create the product"}
        </button>
        {product && (
          <a class="link" href={`/shop/products/${product.id}`}>
            See it in the shop →
          </a>
        )}
      </div>
    </form>
  );
}

function StockForm({ id }: { id: string }) {
  const [stock, setStock] = useState<Stock | null>(null);
  const [onHand, setOnHand] = useState("");
  const [delta, setDelta] = useState("");
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.GET("/inventory/{product_id}", { params: { path: { product_id: id } } }).then(({ data }) => {
      if (data) {
        setStock(data);
        // what the admin typed meanwhile stays
        setOnHand((typed) => typed || String(data.on_hand));
      }
    });
  }, [id]);
  const change = async (body: { on_hand: number } | { delta: number }, what: string) => {
    setBusy(true);
    const { data, error, response } = await api.PUT("/inventory/{product_id}", { params: { path: { product_id: id } }, body });
    setBusy(false);
    if (data) {
      setStock(data);
      setOnHand(String(data.on_hand));
      setDelta("");
      setMessage({ kind: "success", text: `${what}: ${data.on_hand} on hand, ${data.available} available.` });
    } else
      setMessage({
        kind: "error",
        text: errorCode(error) === "STOCK_CONFLICT" ? "Stock cannot go below zero, nor below the units reserved for open orders." : describeError(error, response),
      });
  };
  const int = (s: string) => (/^\s*[-+]?\d+\s*$/.test(s) ? Number(s) : NaN);
  return (
    <section class="card stock-form" aria-labelledby="stock-title">
      <h2 id="stock-title">Stock</h2>
      {!stock ? (
        <Loading what="the stock" />
      ) : (
        <dl class="stock-figures">
          <div>
            <dt>On hand</dt>
            <dd data-testid="on-hand">{count(stock.on_hand)}</dd>
          </div>
          <div>
            <dt>Reserved</dt>
            <dd>{count(stock.reserved)}</dd>
          </div>
          <div>
            <dt>Available</dt>
            <dd data-testid="available">{count(stock.available)}</dd>
          </div>
          <div>
            <dt>Sold</dt>
            <dd>{count(stock.sold)}</dd>
          </div>
        </dl>
      )}
      <form
        class="stock-row"
        onSubmit={(e) => {
          e.preventDefault();
          const n = int(onHand);
          if (!Number.isInteger(n) || n < 0) return setMessage({ kind: "error", text: "On hand is a whole number, 0 or more." });
          void change({ on_hand: n }, "Set");
        }}
      >
        <label for="s-on-hand">Set on hand to</label>
        <input id="s-on-hand" type="number" min={0} max={10000000} value={onHand} onInput={(e) => setOnHand(e.currentTarget.value)} />
        <button type="submit" class="button" disabled={busy || !stock}>
          Set
        </button>
      </form>
      <form
        class="stock-row"
        onSubmit={(e) => {
          e.preventDefault();
          const n = int(delta);
          if (!Number.isInteger(n) || n === 0) return setMessage({ kind: "error", text: "The change is a whole number: + to receive, − to remove." });
          void change({ delta: n }, n > 0 ? `Received ${n}` : `Removed ${-n}`);
        }}
      >
        <label for="s-delta">Adjust by (+ received, − removed)</label>
        <input id="s-delta" type="number" placeholder="+10" value={delta} onInput={(e) => setDelta(e.currentTarget.value)} />
        <button type="submit" class="button" disabled={busy || !stock}>
          Adjust
        </button>
      </form>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
    </section>
  );
}

export function ProductAdminPage({ id }: { id: string }) {
  const { route } = useLocation();
  const creating = id === "new";
  const [product, setProduct] = useState<Product | null>(null);
  const [error, setError] = useState("");
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (creating) return setProduct(null);
    api.GET("/products/{id}", { params: { path: { id } } }).then(({ data, error: e, response }) => {
      if (data) setProduct(data);
      else setError(response.status === 404 ? "There is no such product." : describeError(e, response));
    });
  }, [id]);
  const remove = async () => {
    if (!product) return;
    setBusy(true);
    const { error: e, response } = await api.DELETE("/products/{id}", { params: { path: { id: product.id } } });
    setBusy(false);
    setDeleting(false);
    if (response.status === 204) route(`/console/catalog?deleted=${encodeURIComponent(product.name)}`);
    else setError(describeError(e, response));
  };
  const title = creating ? "New product" : (product?.name ?? "Product");
  return (
    <ConsoleFrame
      title={title}
      crumbs={
        <>
          <a href="/console/catalog">Catalog & stock</a> <span aria-hidden="true">/</span> <span>{title}</span>
        </>
      }
      actions={
        product && (
          <button type="button" class="button ghost danger-text" onClick={() => setDeleting(true)}>
            Delete…
          </button>
        )
      }
    >
      {error && <Notice kind="error">{error}</Notice>}
      {!creating && !product && !error && <Loading what="the product" />}
      {(creating || product) && (
        <div class="product-admin">
          <ProductForm
            product={product}
            onSaved={(p, created) => {
              setProduct(p);
              if (created) route(`/console/catalog/${p.id}`, true);
            }}
          />
          {product ? (
            <StockForm id={product.id} />
          ) : (
            <section class="card stock-form muted">
              <h2>Stock</h2>
              <p>Create the product first; then set its stock here.</p>
            </section>
          )}
        </div>
      )}
      {deleting && product && (
        <Confirm title={`Delete “${product.name}”?`} confirm="Delete the product" busy={busy} onConfirm={() => void remove()} onCancel={() => setDeleting(false)}>
          <p>It leaves the catalog: the shop stops listing it. Orders that hold it keep their lines.</p>
        </Confirm>
      )}
    </ConsoleFrame>
  );
}
