// The shop's front page: the catalog, searchable by name, a page at a
// time. No account needed (GET /products is public, limited per address).
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api, describeError, type Schemas } from "../api/client";
import { Loading, Notice, ProductArt, useTitle } from "../components/bits";
import { money } from "../money";

const PAGE = 12;

export function Catalog() {
  const { query, route } = useLocation();
  const q = query["q"] ?? "";
  const offset = Math.max(0, Number(query["offset"] ?? 0) || 0);
  const [page, setPage] = useState<Schemas["ProductPage"] | null>(null);
  const [error, setError] = useState("");
  const [text, setText] = useState(q);
  useTitle(q ? `“${q}”` : "Shop");

  useEffect(() => {
    let live = true;
    setError("");
    api
      .GET("/products", { params: { query: { limit: PAGE, offset, ...(q ? { q } : {}) } } })
      .then(({ data, error: e, response }) => {
        if (!live) return;
        if (data) setPage(data);
        else setError(describeError(e, response));
      })
      .catch((e: unknown) => live && setError(describeError(e)));
    return () => {
      live = false;
    };
  }, [q, offset]);
  useEffect(() => setText(q), [q]);

  const go = (nextQ: string, nextOffset: number) => {
    const params = new URLSearchParams();
    if (nextQ) params.set("q", nextQ);
    if (nextOffset) params.set("offset", String(nextOffset));
    const s = params.toString();
    route(s ? `/?${s}` : "/");
  };

  return (
    <div class="page">
      <section class="hero">
        <div>
          <h1>The market, one saga per order</h1>
          <p>
            Browse and buy: every checkout runs a choreography of order, inventory, payment and shipping
            services over RabbitMQ, and you can watch yours hop by hop.
          </p>
        </div>
        <form
          class="search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            go(text.trim(), 0);
          }}
        >
          <label for="search" class="visually-hidden">
            Search products
          </label>
          <input
            id="search"
            type="search"
            placeholder="Search the catalog…"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button class="button" type="submit">
            Search
          </button>
        </form>
      </section>
      {error && <Notice kind="error">The catalog could not be read: {error}</Notice>}
      {!page && !error && <Loading what="the catalog" />}
      {page && (
        <>
          <div class="catalog-meta" aria-live="polite">
            {page.total === 0
              ? q
                ? `Nothing matches “${q}”.`
                : "The catalog is empty: an admin adds products (POST /products)."
              : `${page.offset + 1}–${page.offset + page.items.length} of ${page.total} products${q ? ` matching “${q}”` : ""}`}
            {q && (
              <button type="button" class="link-button" onClick={() => go("", 0)}>
                Show everything
              </button>
            )}
          </div>
          <ul class="product-grid">
            {page.items.map((p) => (
              <li key={p.id} class={`product-card${p.active ? "" : " inactive"}`}>
                <a href={`/shop/products/${p.id}`} class="product-link">
                  <ProductArt sku={p.sku} name={p.name} />
                  <span class="product-name">{p.name}</span>
                </a>
                <span class="product-desc">{p.description || "\u00a0"}</span>
                <span class="product-foot">
                  <span class="price">{money(p.price_minor, p.currency)}</span>
                  {!p.active && <span class="tag">not for sale</span>}
                </span>
              </li>
            ))}
          </ul>
          {page.total > PAGE && (
            <nav class="pager" aria-label="Pages">
              <button
                type="button"
                class="button ghost"
                disabled={offset === 0}
                onClick={() => go(q, Math.max(0, offset - PAGE))}
              >
                ← Previous
              </button>
              <span>
                Page {Math.floor(offset / PAGE) + 1} of {Math.ceil(page.total / PAGE)}
              </span>
              <button
                type="button"
                class="button ghost"
                disabled={offset + PAGE >= page.total}
                onClick={() => go(q, offset + PAGE)}
              >
                Next →
              </button>
            </nav>
          )}
        </>
      )}
    </div>
  );
}
