// One product: price, availability (GET /inventory/{id}, public) and the
// add-to-cart form (an account is needed from here on).
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api, describeError, type Schemas } from "../api/client";
import { addToCart } from "../cart";
import { Loading, Notice, ProductArt, useTitle } from "../components/bits";
import { money } from "../money";
import { signedIn } from "../session";

export function Availability({ stock }: { stock: Schemas["StockLevel"] | null | undefined }) {
  if (stock === undefined) return <span class="availability">checking stock…</span>;
  if (stock === null) return <span class="availability muted">stock unknown</span>;
  const n = stock.available;
  if (n <= 0) return <span class="availability out" data-available={n}>Out of stock</span>;
  if (n <= 5) return <span class="availability low" data-available={n}>Only {n} left</span>;
  return (
    <span class="availability in" data-available={n}>
      In stock · {n} available
    </span>
  );
}

export function ProductPage({ id }: { id: string }) {
  const { route, path } = useLocation();
  const [product, setProduct] = useState<Schemas["ProductRecord"] | null>(null);
  const [stock, setStock] = useState<Schemas["StockLevel"] | null | undefined>(undefined);
  const [error, setError] = useState("");
  const [quantity, setQuantityText] = useState("1");
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState("");
  const [addError, setAddError] = useState("");
  useTitle(product?.name ?? "Product");

  useEffect(() => {
    let live = true;
    api.GET("/products/{id}", { params: { path: { id } } }).then(({ data, error: e, response }) => {
      if (!live) return;
      if (data) setProduct(data);
      else setError(response.status === 404 ? "There is no such product." : describeError(e, response));
    });
    api.GET("/inventory/{product_id}", { params: { path: { product_id: id } } }).then(({ data }) => {
      if (live) setStock(data ?? null);
    });
    return () => {
      live = false;
    };
  }, [id]);

  if (error)
    return (
      <div class="page narrow">
        <Notice kind="error">{error}</Notice>
        <a href="/">← Back to the shop</a>
      </div>
    );
  if (!product) return <div class="page"><Loading what="the product" /></div>;

  const available = stock?.available ?? 0;
  const max = Math.max(1, Math.min(1000, available));
  const n = Number(quantity);
  const valid = Number.isInteger(n) && n >= 1 && n <= max;
  const canBuy = product.active && available > 0;

  const add = async (e: Event) => {
    e.preventDefault();
    if (!signedIn.value) {
      route(`/shop/login?next=${encodeURIComponent(path)}`);
      return;
    }
    setBusy(true);
    setAdded("");
    setAddError("");
    const r = await addToCart(product.id, n);
    setBusy(false);
    if (r.ok) setAdded(`${n} × ${product.name} added to your cart.`);
    else setAddError(r.message);
  };

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Shop</a> <span aria-hidden="true">/</span> <span>{product.name}</span>
      </nav>
      <article class="product-detail">
        <ProductArt sku={product.sku} name={product.name} size="large" />
        <div class="product-info">
          <h1>{product.name}</h1>
          <p class="sku">SKU {product.sku}</p>
          <p class="price big">{money(product.price_minor, product.currency)}</p>
          <p>
            <Availability stock={stock} />
          </p>
          {product.description && <p class="description">{product.description}</p>}
          {!product.active && <Notice kind="warning">This product is listed, but not for sale.</Notice>}
          <form class="buy" onSubmit={add}>
            <label for="quantity">Quantity</label>
            <input
              id="quantity"
              type="number"
              inputMode="numeric"
              min={1}
              max={max}
              value={quantity}
              disabled={!canBuy}
              onInput={(e) => setQuantityText(e.currentTarget.value)}
            />
            <button class="button primary" type="submit" disabled={!canBuy || !valid || busy}>
              {signedIn.value ? "Add to cart" : "Log in to buy"}
            </button>
          </form>
          {added && (
            <Notice kind="success">
              {added} <a href="/shop/cart">View the cart →</a>
            </Notice>
          )}
          {addError && <Notice kind="error">{addError}</Notice>}
        </div>
      </article>
    </div>
  );
}
