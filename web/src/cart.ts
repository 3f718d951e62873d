// The signed-in customer's cart, as the gateway last answered it (every
// cart call answers the whole cart).
import { computed, signal } from "@preact/signals";
import { api, describeError, type Schemas } from "./api/client";

export type Cart = Schemas["Cart"];
export const cart = signal<Cart | null>(null);
export const cartCount = computed(() => cart.value?.item_count ?? 0);

type Result = { ok: true; cart: Cart } | { ok: false; message: string; code: string };

function settle(r: { data?: Cart; error?: unknown; response: Response }): Result {
  if (r.data) {
    cart.value = r.data;
    return { ok: true, cart: r.data };
  }
  const code = (r.error as { error?: { code?: string } } | undefined)?.error?.code ?? "";
  return { ok: false, message: describeError(r.error, r.response), code };
}

export async function loadCart(): Promise<Result> {
  return settle(await api.GET("/cart"));
}

export async function addToCart(productId: string, quantity: number): Promise<Result> {
  return settle(await api.POST("/cart/items", { body: { product_id: productId, quantity } }));
}

export async function setQuantity(productId: string, quantity: number): Promise<Result> {
  return settle(
    await api.PUT("/cart/items/{product_id}", { params: { path: { product_id: productId } }, body: { quantity } }),
  );
}

export async function removeFromCart(productId: string): Promise<Result> {
  return settle(await api.DELETE("/cart/items/{product_id}", { params: { path: { product_id: productId } } }));
}
