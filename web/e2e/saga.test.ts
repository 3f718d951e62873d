// The saga view drawn from traces of known shape (src/saga/fixtures.ts),
// served to the page in place of GET /orders/{id}/trace: every kind of hop
// the view must mark (compensations, retries, duplicates, dead letters,
// replays, expected steps), its details, its keyboard use and its phone
// layout. The storefront test follows a real order's saga once the
// gateway serves the trace API.
import { strict as assert } from "node:assert";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { completedTrace, deadLetteredTrace, declinedTrace } from "../src/saga/fixtures.js";
import type { Trace } from "../src/saga/types.js";
import { DESKTOP, PHONE, assertFits, customer, inBrowser, shot } from "./harness.js";

/** Serves trace as the order's trace, and the order's status beside it. */
async function serve(page: Page, trace: Trace, cancelReason: string | null = null): Promise<void> {
  await page.route(`**/orders/${trace.order_id}/trace*`, (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(trace) }),
  );
  await page.route(`**/orders/${trace.order_id}`, (route) =>
    route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        id: trace.order_id,
        customer_id: "00000000-0000-4000-8000-000000000000",
        status: trace.status,
        cancel_reason: cancelReason,
        cancel_detail: null,
        currency: "EUR",
        total_minor: 900,
        payment: null,
        shipment: null,
        created_at: trace.hops[0]?.at,
        updated_at: trace.hops[0]?.at,
        lines: [],
      }),
    }),
  );
}

const svg = (page: Page, selector: string) => page.locator(`svg.lanes ${selector}`);

describe("saga view", () => {
  test("a completed saga: six events, fifteen handled deliveries, details with a copyable trace id", async () => {
    const { token } = await customer();
    const trace = completedTrace();
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await serve(page, trace);
        await page.goto(`/shop/orders/${trace.order_id}/saga`);
        await page.locator(".live-state.settled").waitFor();
        assert.equal(await svg(page, ".event").count(), 6);
        assert.equal(await svg(page, ".arrow.o-handled").count(), 15);
        assert.equal(await svg(page, ".expected").count(), 0);
        // lanes in the brief's order
        assert.deepEqual(await svg(page, ".lane-name").allTextContents(), [
          "gateway", "order", "inventory", "payment", "shipping", "notification", "analytics",
        ]);
        await shot(page, "saga-completed-fixture");
        await svg(page, '[data-event="PaymentSucceeded"] [data-consumer="shipping"]').click();
        const details = page.locator(".hop-details");
        await details.getByRole("heading", { name: "PaymentSucceeded → shipping" }).waitFor();
        await details.getByText("shipping-service").waitFor();
        await details.getByRole("button", { name: "Copy the trace id" }).click();
        await details.getByRole("button", { name: "Copy the trace id" }).getByText("Copied").waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), trace.trace_id);
        await shot(page, "saga-details");
      },
      { token, clipboard: true },
    );
  });

  test("a declined saga: its compensations dashed, its duplicate marked, nothing left expected", async () => {
    const { token } = await customer();
    const trace = declinedTrace();
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await serve(page, trace, "payment_declined");
        await page.goto(`/shop/orders/${trace.order_id}/saga`);
        await page.locator(".live-state.settled").waitFor();
        await page.getByText("payment declined").first().waitFor();
        assert.ok((await svg(page, ".event.compensation").count()) >= 1, "StockReleased is a compensation");
        assert.equal(await svg(page, '[data-event="PaymentFailed"] [data-consumer="inventory"].compensation').count(), 1);
        assert.equal(await svg(page, '[data-event="OrderCancelled"] .arrow.compensation').count(), 2);
        assert.equal(await svg(page, '.arrow.o-duplicate').count(), 1);
        assert.equal(await svg(page, ".event.failure").count(), 2);
        await page.getByText("1 duplicate").waitFor();
        await shot(page, "saga-declined");
      },
      { token },
    );
  });

  test("a running saga: retries, a dead letter, a replay, and the steps still expected greyed", async () => {
    const { token } = await customer();
    const trace = deadLetteredTrace(true);
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await serve(page, trace);
        await page.goto(`/shop/orders/${trace.order_id}/saga`);
        await page.locator(".live-state.live").waitFor();
        const payment = svg(page, '[data-event="StockReserved"] [data-consumer="payment"]');
        assert.deepEqual(
          await payment.evaluateAll((els) => els.map((e) => e.getAttribute("data-outcome"))),
          ["retry_scheduled", "retry_scheduled", "dead_lettered", "replayed"],
        );
        await svg(page, ".badge", ).filter({ hasText: "dead letter · attempt 3" }).waitFor();
        assert.deepEqual(
          await svg(page, ".event.expected").evaluateAll((els) => els.map((e) => e.getAttribute("data-event"))),
          ["PaymentSucceeded", "ShippingCreated", "OrderCompleted"],
        );
        await page.getByText("2 retries · 1 dead letter · 1 replay").waitFor();
        // the keyboard: Tab reaches the rows, Enter opens one
        await page.locator("svg.lanes .row").first().focus();
        for (let i = 0; i < 9; i++) await page.keyboard.press("Tab");
        await page.keyboard.press("Enter");
        await page.locator(".hop-details").waitFor();
        await page.getByRole("button", { name: "Close the details" }).press("Enter");
        await page.locator(".hop-details").waitFor({ state: "detached" });
        await payment.nth(2).click();
        await page.locator(".hop-details").getByText("provider answered 500; retries spent").waitFor();
        await shot(page, "saga-dead-letter");
      },
      { token },
    );
  });

  test("at a phone's width the saga is a list that fits", async () => {
    const { token } = await customer();
    const trace = declinedTrace();
    await inBrowser(
      PHONE,
      async ({ page }) => {
        await serve(page, trace, "payment_declined");
        await page.goto(`/shop/orders/${trace.order_id}/saga`);
        await page.locator(".live-state.settled").waitFor();
        assert.equal(await page.locator("svg.lanes").isVisible(), false);
        assert.equal(await page.locator(".saga-list > li").count(), 6);
        await assertFits(page, "saga");
        await page.locator('.saga-list [data-event="StockReleased"] .saga-card-head').click();
        await page.locator(".hop-details").getByRole("heading", { name: /StockReleased, published by inventory/ }).waitFor();
        await assertFits(page, "saga with details");
        await shot(page, "phone-saga", false);
      },
      { token },
    );
  });
});
