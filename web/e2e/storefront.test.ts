// The storefront as a person uses it, in Debian's chromium against the
// stack of `souk test`: browsing without an account, registering, buying
// through each scenario of the demo panel and watching the order reach its
// end, at 1280 px and at a phone's width, and from the keyboard alone.
import { strict as assert } from "node:assert";
import { before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import {
  DESKTOP,
  PHONE,
  api,
  asAdmin,
  assertFits,
  customer,
  inBrowser,
  mgmt,
  product,
  shot,
  sleep,
  suffix,
  type Product,
} from "./harness.js";

const MARKET: [string, number, string][] = [
  ["Argan oil", 1890, "Cold-pressed in the Souss valley; for bread, salads and skin."],
  ["Brass lantern", 4500, "Hand-pierced brass that throws stars across a room."],
  ["Cedar box", 2650, "Atlas cedar, inlaid with lemonwood; it smells of the mountains."],
  ["Dates, Medjool", 990, "Soft, caramel-sweet dates from the Draa valley, 500 g."],
  ["Mint tea", 450, "Gunpowder green tea with dried nana mint, 250 g."],
  ["Olive soap", 650, "Black soap of olives for the hammam, 200 g."],
  ["Ras el hanout", 780, "The shop's own blend of twenty-one spices."],
  ["Saffron threads", 2400, "Taliouine saffron, one gram of deep red threads."],
];

let shop: Product[] = [];
const byName = (name: string) => shop.find((p) => p.name === name)!;

before(async () => {
  shop = [];
  for (const [name, price, description] of MARKET) shop.push(await product(name, price, 25, description));
});

async function register(page: Page, name: string): Promise<string> {
  const email = `web-${suffix()}@test.souk`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("password1");
  await page.getByRole("button", { name: "Create the account" }).click();
  return email;
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/shop/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

async function addToCart(page: Page, p: Product, quantity: number): Promise<void> {
  await page.goto(`/shop/products/${p.id}`);
  await page.getByRole("heading", { name: p.name }).waitFor();
  await page.getByLabel("Quantity").fill(String(quantity));
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText(`${quantity} × ${p.name} added to your cart.`).waitFor();
}

/** Checks out the cart with a scenario of the demo panel; returns the order id. */
async function checkOut(page: Page, scenario: RegExp, screenshot?: string): Promise<string> {
  await page.goto("/shop/checkout");
  await page.getByRole("radio", { name: scenario }).check();
  await page.locator(".scenario-summary").waitFor();
  if (screenshot) await shot(page, screenshot);
  await page.getByRole("button", { name: "Place the order" }).click();
  await page.waitForURL(/\/shop\/orders\/[0-9a-f-]{36}$/, { timeout: 15000 });
  return page.url().split("/").pop()!;
}

/** The x-souk-error of order id's dead letter in payment-service.dlq, read
 * through the test stack's management API (left in the queue). */
async function deadLetterOf(id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const messages = (await mgmt("/queues/souk/payment-service.dlq/get", {
      count: 100,
      ackmode: "ack_requeue_true",
      encoding: "auto",
    })) as { properties?: { correlation_id?: string; headers?: Record<string, unknown> } }[];
    const ours = Array.isArray(messages) ? messages.find((m) => m.properties?.correlation_id === id) : undefined;
    if (ours) return String(ours.properties?.headers?.["x-souk-error"] ?? "");
    await sleep(500);
  }
  throw new Error(`order ${id} was not dead-lettered in payment-service.dlq`);
}

/** Opens order id's saga and waits until it is final and complete: its
 * events in order, every delivery drawn, nothing left expected. */
async function sagaOf(page: Page, id: string, status: string, events: string[]): Promise<void> {
  await page.goto(`/shop/orders/${id}/saga`);
  await page.locator(`.saga-head [data-status="${status}"]`).waitFor();
  await page.locator(".live-state.settled").waitFor({ timeout: 40000 });
  assert.deepEqual(
    await page.locator("svg.lanes .event").evaluateAll((els) => els.map((e) => e.getAttribute("data-event"))).then((t) => [...t].sort()),
    [...events].sort(),
  );
  assert.equal(await page.locator("svg.lanes .expected").count(), 0);
}

/** event's delivery to consumer is drawn as a compensation. */
async function compensates(page: Page, event: string, consumer: string): Promise<void> {
  const arrow = page.locator(`svg.lanes [data-event="${event}"] .arrow.compensation[data-consumer="${consumer}"]`);
  assert.equal(await arrow.count(), 1, `${event} → ${consumer} is not drawn as a compensation`);
}

async function finalStatus(page: Page, status: string, timeout = 30000): Promise<void> {
  await page.locator(`.order-head [data-status="${status}"]`).waitFor({ timeout });
}

describe("storefront", () => {
  test("a visitor browses, registers, buys with the approve scenario and sees COMPLETED", async () => {
    const saffron = byName("Saffron threads");
    await inBrowser(DESKTOP, async ({ page }) => {
      // browsing needs no account
      await page.goto("/");
      await page.getByRole("heading", { name: "The market, one saga per order" }).waitFor();
      await page.getByRole("link", { name: "Argan oil" }).first().waitFor();
      await shot(page, "catalog", false);
      await page.getByLabel("Search products").fill("saffron");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/\?q=saffron/);
      await page.getByRole("link", { name: "Saffron threads" }).first().waitFor();
      await page.locator(`a[href="/shop/products/${saffron.id}"]`).click();
      await page.getByRole("heading", { name: "Saffron threads" }).waitFor();
      assert.equal(await page.locator(".price.big").textContent(), "€24.00");
      await page.getByText("In stock · 25 available").waitFor();
      await shot(page, "product", false);

      // buying does: log in, or register, and come back
      await page.getByRole("button", { name: "Log in to buy" }).click();
      await page.waitForURL(/\/shop\/login\?next=/);
      await page.getByRole("link", { name: "Create an account" }).click();
      await register(page, "Amina Idrissi");
      await page.waitForURL(new RegExp(`/shop/products/${saffron.id}$`));
      await page.getByLabel("Quantity").fill("2");
      await page.getByRole("button", { name: "Add to cart" }).click();
      await page.getByText("2 × Saffron threads added to your cart.").waitFor();
      await page.locator(".site-nav .badge", { hasText: "2" }).waitFor();
      await page.getByRole("link", { name: "View the cart →" }).click();
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      await page.getByText("€48.00").first().waitFor();
      await shot(page, "cart", false);
      await page.getByRole("link", { name: "Check out" }).click();
      const id = await checkOut(page, /^Approve/, "checkout");

      await finalStatus(page, "COMPLETED");
      await page.locator(".tracker li.done").nth(3).waitFor();
      await shot(page, "order-completed");

      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My orders" }).click();
      await page.locator(`[data-order="${id}"] [data-status="COMPLETED"]`).waitFor();
      await shot(page, "orders", false);

      // the saga, from the order's own trace: every hop drawn, nothing left expected
      await page.getByRole("link", { name: /^Saga/ }).first().click();
      await page.waitForURL(new RegExp(`/shop/orders/${id}/saga$`));
      await page.locator('.saga-head [data-status="COMPLETED"]').waitFor();
      await page.locator(".live-state.settled").waitFor({ timeout: 40000 });
      assert.deepEqual(
        await page.locator("svg.lanes .event").evaluateAll((els) => els.map((e) => e.getAttribute("data-event"))),
        ["CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "ShippingCreated", "OrderCompleted"],
      );
      assert.equal(await page.locator("svg.lanes .arrow.o-handled").count(), 15);
      assert.equal(await page.locator("svg.lanes .expected").count(), 0);
      await page.getByText("6 events · 21 hops").waitFor();
      await shot(page, "saga-completed");
      await page.locator('svg.lanes [data-event="OrderCompleted"] [data-consumer="notification"]').click();
      const details = page.locator(".hop-details");
      await details.getByRole("heading", { name: "OrderCompleted → notification" }).waitFor();
      await details.getByText("notification-service").waitFor();
      assert.match((await details.locator("[data-copy-value]").first().textContent()) ?? "", /^[0-9a-f]{32}$/);
      await shot(page, "saga-completed-details");
    });
  });

  test("decline, unserved country and more than the stock end CANCELLED, their sagas showing the compensations", async () => {
    const buyer = await customer("Youssef Amrani");
    await inBrowser(DESKTOP, async ({ page }) => {
      await logIn(page, buyer.email, buyer.password);
      await addToCart(page, byName("Mint tea"), 1);
      const declined = await checkOut(page, /^Decline/);
      await finalStatus(page, "CANCELLED");
      await page.getByText("payment declined").first().waitFor();
      await page.getByText("The payment was declined: the reserved stock went back on the shelf.").waitFor();
      await shot(page, "order-declined");
      // PaymentFailed: inventory releases (StockReleased); the order's cancel
      // reaches inventory and payment too
      await sagaOf(page, declined, "CANCELLED", [
        "CartCheckedOut", "OrderCreated", "StockReserved", "PaymentFailed", "StockReleased", "OrderCancelled",
      ]);
      await compensates(page, "PaymentFailed", "inventory");
      await compensates(page, "OrderCancelled", "inventory");
      await compensates(page, "OrderCancelled", "payment");
      assert.equal(await page.locator('svg.lanes .event.compensation[data-event="StockReleased"]').count(), 1);
      await shot(page, "saga-declined-real");

      await addToCart(page, byName("Olive soap"), 1);
      const unserved = await checkOut(page, /^Unserved country/);
      await finalStatus(page, "CANCELLED");
      await page.getByText("Shipping does not deliver to that address: the payment was refunded").waitFor();
      // ShippingFailed: payment refunds (PaymentRefunded), inventory releases
      await sagaOf(page, unserved, "CANCELLED", [
        "CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "ShippingFailed", "PaymentRefunded",
        "StockReleased", "OrderCancelled",
      ]);
      await compensates(page, "ShippingFailed", "payment");
      await compensates(page, "PaymentRefunded", "inventory");
      assert.equal(await page.locator("svg.lanes .event.compensation").count(), 2, "PaymentRefunded and StockReleased");
      await shot(page, "saga-unserved");

      await addToCart(page, byName("Dates, Medjool"), 1);
      await page.goto("/shop/checkout");
      await page.getByRole("radio", { name: /^More than the stock/ }).check();
      await page.getByText("Sets Dates, Medjool to 26 (25 available).").waitFor();
      await page.getByRole("button", { name: "Place the order" }).click();
      await page.waitForURL(/\/shop\/orders\/[0-9a-f-]{36}$/);
      await finalStatus(page, "CANCELLED");
      await page.getByText("There was not enough stock for it").waitFor();
    });
  });

  test("a provider timeout is retried and the order completes", async () => {
    const buyer = await customer("Salma Bennani");
    await inBrowser(DESKTOP, async ({ page }) => {
      await logIn(page, buyer.email, buyer.password);
      await addToCart(page, byName("Cedar box"), 1);
      await checkOut(page, /^Provider timeout/);
      await finalStatus(page, "COMPLETED", 45000);
    });
  });

  test("a provider error is retried and dead-lettered while the order waits for its deadline", async () => {
    // The order service cancels the order at the fixture's deadline
    // (timed_out); its dead letter is purged at the end through the admin
    // API, so that the suite leaves the dead-letter queues empty.
    const buyer = await customer("Omar Tazi");
    await inBrowser(DESKTOP, async ({ page }) => {
      await logIn(page, buyer.email, buyer.password);
      await addToCart(page, byName("Ras el hanout"), 1);
      const id = await checkOut(page, /^Provider error/);
      await page.locator('.order-head [data-status="STOCK_RESERVED"]').waitFor({ timeout: 15000 });
      await page.getByText("Following the saga live…").waitFor();
      const letter = await deadLetterOf(id, 20000);
      assert.match(letter, /retries exhausted.*tok_error/);
      assert.ok(!(await page.locator('.order-head [data-status="CANCELLED"]').count()), "cancelled before its deadline");
    });
    const purged = await api.DELETE("/admin/dlq/{service}/messages", { headers: await asAdmin(), params: { path: { service: "payment" } } });
    assert.ok(purged.data && purged.data.purged >= 1, `purge payment-service.dlq: ${purged.response.status}`);
  });

  test("at a phone's width every page fits and the order still completes", async () => {
    const buyer = await customer("Karim Haddad");
    await inBrowser(PHONE, async ({ page }) => {
      await page.goto("/");
      await page.getByRole("link", { name: "Brass lantern" }).first().waitFor();
      await assertFits(page, "catalog");
      await shot(page, "phone-catalog", false);
      await logIn(page, buyer.email, buyer.password);
      await addToCart(page, byName("Brass lantern"), 1);
      await assertFits(page, "product");
      await page.goto("/shop/cart");
      await page.getByRole("link", { name: "Check out" }).waitFor();
      await assertFits(page, "cart");
      await page.goto("/shop/checkout");
      await page.getByRole("radio", { name: /^Approve/ }).waitFor();
      await assertFits(page, "checkout");
      await shot(page, "phone-checkout");
      await page.getByRole("button", { name: "Place the order" }).click();
      await page.waitForURL(/\/shop\/orders\/[0-9a-f-]{36}$/);
      await finalStatus(page, "COMPLETED");
      await assertFits(page, "order");
      await shot(page, "phone-order");
      await page.goto("/shop/orders");
      await page.locator('[data-status="COMPLETED"]').first().waitFor();
      await assertFits(page, "orders");
    });
  });

  test("the keyboard alone browses, logs in, buys and follows the order", async () => {
    const buyer = await customer("Nadia Ouazzani");
    const argan = byName("Argan oil");
    await inBrowser(DESKTOP, async ({ page }) => {
      const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
      const tabTo = async (text: string | RegExp, max = 40) => {
        for (let i = 0; i < max; i++) {
          await page.keyboard.press("Tab");
          const now = await focused();
          if (typeof text === "string" ? now === text : text.test(now)) return;
        }
        assert.fail(`Tab never reached ${text}`);
      };
      await page.goto("/");
      // the first Tab offers the skip link
      await page.keyboard.press("Tab");
      assert.equal(await focused(), "Skip to the page");
      await tabTo("Log in");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Log in" }).waitFor();
      // the page has the focus after a navigation: the next Tab is its first field
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "email");
      await page.keyboard.type(buyer.email);
      await page.keyboard.press("Tab");
      await page.keyboard.type(buyer.password);
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: "Log out" }).waitFor();

      await page.getByLabel("Search products").focus();
      await page.keyboard.type("argan");
      await page.keyboard.press("Enter");
      await page.waitForURL(/\?q=argan/);
      await tabTo(/Argan oil$/); // the link holds the product's tile and its name
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: argan.name }).waitFor();
      await tabTo("Add to cart");
      await page.keyboard.press("Enter");
      await page.getByText(`1 × ${argan.name} added to your cart.`).waitFor();
      await tabTo("View the cart →");
      await page.keyboard.press("Enter");
      await tabTo("Check out");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Checkout" }).waitFor();
      // the scenario radios: arrows move within the group
      await page.getByRole("radio", { name: /^Approve/ }).focus();
      await page.keyboard.press("ArrowDown");
      assert.ok(await page.getByRole("radio", { name: /^Decline/ }).isChecked());
      await page.keyboard.press("ArrowUp");
      assert.ok(await page.getByRole("radio", { name: /^Approve/ }).isChecked());
      await tabTo("Place the order");
      await page.keyboard.press("Enter");
      await page.waitForURL(/\/shop\/orders\/[0-9a-f-]{36}$/);
      await finalStatus(page, "COMPLETED");
      await tabTo("Watch the saga →");
      await page.keyboard.press("Enter");
      await page.waitForURL(/\/saga$/);
    });
  });
});
