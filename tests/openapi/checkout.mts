// What a client developer writes against Souk with a client generated from
// /openapi.json: openapi-typescript's types (./souk.js is generated next to
// this file by tests/openapi/client.sh) and openapi-fetch's typed calls. It
// logs in, stocks a product as the admin, registers a customer who logs in,
// fills the cart, checks out, and reads the order until it is final and its
// timeline. tsc checks it against the generated types (a document without
// response schemas leaves `data` untyped and this does not compile); node
// runs it against a gateway (SOUK_GATEWAY_URL) and it exits non-zero when
// an answer is not what the document promises.
import createClient from "openapi-fetch";
import type { components, paths } from "./souk.js";

type OrderDetail = components["schemas"]["OrderDetail"];

// node's, declared here rather than installing @types/node for it
declare const process: { env: Record<string, string | undefined> };

const base = process.env["SOUK_GATEWAY_URL"];
if (!base) throw new Error("SOUK_GATEWAY_URL is not set");
const souk = createClient<paths>({ baseUrl: base });
const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`typed client: ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function login(email: string, password: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const { data, error, response } = await souk.POST("/auth/login", {
      body: { email, password },
    });
    if (data) {
      check(data.token_type === "Bearer" && data.account.email === email, "login's account");
      return data.access_token;
    }
    // the per-address login limit: wait what Retry-After says
    if (response.status === 429 && attempt < 10) {
      await sleep(1000 * Number(response.headers.get("Retry-After") ?? "1"));
      continue;
    }
    throw new Error(`login: ${response.status} ${error?.error.code}`);
  }
}

const adminToken = await login(
  process.env["SOUK_ADMIN_EMAIL"] ?? "admin@souk.local",
  process.env["SOUK_ADMIN_PASSWORD"] ?? "souk-admin-password",
);
const asAdmin = { Authorization: `Bearer ${adminToken}` };

const created = await souk.POST("/products", {
  headers: asAdmin,
  body: { sku: `TS-${suffix}`, name: "Typed mint tea", price_minor: 450, currency: "EUR" },
});
check(created.data !== undefined, `create product: ${created.response.status}`);
const product = created.data;
check(created.response.headers.get("Location") === `/products/${product.id}`, "Location");

const stocked = await souk.PUT("/inventory/{product_id}", {
  params: { path: { product_id: product.id } },
  headers: asAdmin,
  body: { on_hand: 5 },
});
check(stocked.data?.available === 5, "stock set to 5");

const email = `ts-${suffix}@test.souk`;
const registered = await souk.POST("/auth/register", {
  body: { email, password: "password1", name: "Typed Client" },
});
check(registered.data?.account.role === "customer", "registered a customer");
const asCustomer = { Authorization: `Bearer ${await login(email, "password1")}` };

const cart = await souk.POST("/cart/items", {
  headers: asCustomer,
  body: { product_id: product.id, quantity: 2 },
});
check(cart.data?.total_minor === 900 && cart.data.currency === "EUR", "cart total");

const accepted = await souk.POST("/cart/checkout", {
  params: { header: { "Idempotency-Key": `ts-${suffix}` } },
  headers: asCustomer,
  body: {
    shipping_address: {
      name: "Amina",
      line1: "12 Rue des Souks",
      city: "Marrakesh",
      postal_code: "40000",
      country: "MA",
    },
    payment_token: "tok_approve",
  },
});
check(accepted.data?.status === "PENDING", `checkout: ${accepted.response.status}`);
const orderId = accepted.data.order_id;

// GET /orders/{id} answers the order, or the accepted checkout the order
// service is still creating: the long poll until it is final.
let order: OrderDetail | undefined;
for (let polls = 0; polls < 10 && !order; polls++) {
  const read = await souk.GET("/orders/{id}", {
    params: { path: { id: orderId }, query: { wait: 20 } },
    headers: asCustomer,
  });
  check(read.data !== undefined, `read order: ${read.response.status}`);
  const seen = read.data;
  if ("customer_id" in seen && (seen.status === "COMPLETED" || seen.status === "CANCELLED"))
    order = seen;
}
check(order !== undefined, "the order did not become final");
check(order.status === "COMPLETED" && order.cancel_reason === null, `status ${order.status}`);
check(order.total_minor === 900 && order.lines.length === 1, "the order's lines");
check(order.lines[0]?.quantity === 2 && order.payment !== null, "line and payment");

const timeline = await souk.GET("/orders/{id}/events", {
  params: { path: { id: orderId } },
  headers: asCustomer,
});
const types = (timeline.data?.events ?? []).map((e) => e.type);
check(types.includes("OrderCreated") && types.includes("OrderCompleted"), `timeline ${types}`);

console.log(`typed client: order ${orderId} ${order.status}, ${types.length} events`);
