// The admin console (/console/...) in Debian's chromium against the stack
// of `souk test`, no mocks: an admin logs in, finds a dead-lettered saga in
// the saga list as it arrives, opens it, replays its dead letter from the
// dead-letter page and sees the order service handle it; replays a queue
// with a job whose progress the page shows, and purges one after a
// confirmation; watches the system view while a burst of checkouts runs;
// edits the catalog and the stock and sees the storefront show it; reads
// the analytics charts; and uses the pages at a phone's width and from the
// keyboard. Any JavaScript or console error fails the test (harness.ts).
//
// The scenes the console is shown are made as the C tests make theirs
// (tests/e2e/test_deadletters.c, test_sagatrace.c): orders written
// straight into the order service's table (openOrder, psql), and events
// published as a service publishes them (publish, the broker's management
// API); everything else goes through the gateway's API.
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import {
  DESKTOP,
  PHONE,
  admin,
  api,
  asAdmin,
  assertFits,
  customer,
  inBrowser,
  openOrder,
  product,
  publish,
  shot,
  sleep,
  sql,
  suffix,
} from "./harness.js";

type Service = "order" | "inventory" | "payment" | "shipping" | "analytics" | "notification";

async function purge(service: Service): Promise<void> {
  const r = await api.DELETE("/admin/dlq/{service}/messages", { headers: await asAdmin(), params: { path: { service } } });
  assert.ok(r.data, `purge ${service}: ${r.response.status}`);
}

/** Waits until the customer's order is final; returns its status and reason. */
async function finalOrder(token: string, id: string, timeoutMs = 30000): Promise<{ status: string; reason: string | null }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { data } = await api.GET("/orders/{id}", {
      headers: { Authorization: `Bearer ${token}` },
      params: { path: { id }, query: { wait: 5 } },
    });
    if (data && (data.status === "COMPLETED" || data.status === "CANCELLED"))
      return { status: data.status, reason: "cancel_reason" in data ? (data.cancel_reason ?? null) : null };
    await sleep(200);
  }
  throw new Error(`order ${id} did not end in ${timeoutMs} ms`);
}

/** How many pixels of the chart's canvas Chart.js painted. */
function painted(chart: Locator): Promise<number> {
  return chart.locator("canvas").evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}

const stockReservationFailed = (order: string) => ({ order_id: order, reason: "insufficient stock", unavailable: [] });

async function logInAsAdmin(page: Page): Promise<void> {
  await page.goto("/shop/login");
  await page.getByLabel("E-mail").fill(process.env["SOUK_ADMIN_EMAIL"] ?? "admin@souk.local");
  await page.getByLabel("Password").fill(process.env["SOUK_ADMIN_PASSWORD"] ?? "souk-admin-password");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

describe("admin console", () => {
  test("an admin finds a dead-lettered saga in the list, replays its dead letter and sees it handled", async () => {
    const buyer = await customer("Hassan Alaoui");
    let order = "";
    await inBrowser(DESKTOP, async ({ page }) => {
      await logInAsAdmin(page);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Console" }).click();
      await page.waitForURL(/\/console$/);
      await page.getByRole("navigation", { name: "Console" }).waitFor();
      // sagas quiet for 3 s are stuck; the list is open before the saga exists
      await page.getByLabel("Stuck after (s)").fill("3");
      await page.getByLabel("Stuck after (s)").press("Enter");
      await page.waitForURL(/stuck_after=3/);
      await page.locator(".list-meta .live-state").waitFor();

      // The scene (test_sagatrace.c's poison message): an open order whose
      // customer e-mail breaks the schema of the OrderCancelled the order
      // service must emit when it hears StockReservationFailed, so the
      // order service dead-letters that delivery (a real dead letter, with
      // its journal hop). An operator then fixes the e-mail and replays it.
      order = openOrder(buyer.id, 120, "not-an-email");
      const message = await publish("StockReservationFailed", "", {
        type: "StockReservationFailed",
        orderId: order,
        payload: stockReservationFailed(order),
      });
      const row = page.locator(`tr.saga-row[data-order="${order}"]`);
      await row.waitFor({ timeout: 15000 }); // the feed brought it in, no reload
      await page.locator(`tr.saga-row[data-order="${order}"][data-state="stuck"]`).waitFor({ timeout: 20000 });
      await shot(page, "console-sagas", false);
      await page.getByLabel("State").selectOption("stuck");
      await page.waitForURL(/state=stuck/);
      await row.locator(".state-chip.state-stuck").waitFor();
      await shot(page, "console-sagas-stuck", false);

      await row.getByRole("link").click();
      await page.waitForURL(new RegExp(`/console/sagas/${order}$`));
      await page.locator('svg.lanes [data-event="StockReservationFailed"] .arrow.o-dead_lettered').waitFor({ timeout: 15000 });
      const note = page.locator(`[data-dead-letter="${message}"]`);
      assert.equal(await note.getAttribute("data-replayed"), "no");
      await note.getByText("was dead-lettered at").waitFor();
      await shot(page, "console-saga-dead-letter", false);

      // the operator's fix: an e-mail OrderCancelled's schema takes
      sql("UPDATE orders.orders SET customer_email = :'email' WHERE id = :'id'", { email: buyer.email, id: order });
      await note.getByRole("link", { name: /Inspect and replay it/ }).click();
      await page.waitForURL(new RegExp(`/console/dead-letters/order\\?order=${order}$`));
      const letter = page.locator(`tr[data-message="${message}"]`);
      await letter.waitFor();
      assert.match((await letter.getAttribute("class")) ?? "", /highlight/, "the order's letter is highlighted");
      await page.getByText(`One of these letters is order ${order.slice(0, 8)}'s (highlighted).`).waitFor();
      await letter.getByRole("button", { name: /^Inspect/ }).click();
      const drawer = page.locator(".drawer");
      await drawer.getByRole("heading", { name: "StockReservationFailed at order" }).waitFor();
      await drawer.locator("dt", { hasText: "x-souk-error" }).waitFor();
      assert.match((await drawer.locator(".payload").textContent()) ?? "", /"reason": "insufficient stock"/);
      assert.equal(await drawer.locator("[data-copy-value]").first().textContent(), message);
      await drawer.locator(".payload").scrollIntoViewIfNeeded(); // the headers and the payload in view
      await shot(page, "console-dead-letter-inspect", false);

      await drawer.getByRole("button", { name: "Replay this message" }).click();
      await page.locator(`[data-replayed="${message}"]`).waitFor({ timeout: 15000 });
      await letter.waitFor({ state: "detached" });
      await page.getByRole("link", { name: "Follow its saga →" }).click();
      await page.waitForURL(new RegExp(`/console/sagas/${order}$`));
      // handled this time: the order service cancelled the order
      await page.locator('.saga-head [data-status="CANCELLED"]').waitFor({ timeout: 20000 });
      await page.locator(`[data-dead-letter="${message}"][data-replayed="yes"]`).waitFor();
      await page.locator('svg.lanes [data-event="StockReservationFailed"] .arrow.o-replayed').first().waitFor();
      await page.locator('svg.lanes .event[data-event="OrderCancelled"]').waitFor();
      await shot(page, "console-saga-replayed");
    }).finally(async () => {
      // whatever happened, the order can end and its letter goes
      if (order) sql("UPDATE orders.orders SET customer_email = :'email' WHERE id = :'id'", { email: buyer.email, id: order });
      await purge("order");
    });
    assert.deepEqual(await finalOrder(buyer.token, order), { status: "CANCELLED", reason: "out_of_stock" });
  });

  test("replay all shows its progress and hands every letter back; a purge asks first", async () => {
    const buyer = await customer("Leila Berrada");
    // three dead letters as a worker writes them (test_deadletters.c's): the
    // StockReservationFailed of open orders, which the order service
    // "failed to handle"; replayed, it cancels each order (out_of_stock)
    const orders = [0, 1, 2].map(() => openOrder(buyer.id, 120, buyer.email));
    const failure = new Date(Date.now() - 90_000).toISOString();
    for (const order of orders)
      await publish("", "order-service.dlq", {
        type: "StockReservationFailed",
        orderId: order,
        payload: stockReservationFailed(order),
        headers: {
          "x-souk-error": "retries exhausted: the orders database did not answer",
          "x-souk-attempts": 4,
          "x-souk-original-exchange": "StockReservationFailed",
          "x-souk-first-failure": failure,
        },
      });
    // one whose event has no exchange (no service publishes OrderShipped):
    // a replay cannot route it, so it stays in the queue
    const unroutable = await publish("", "order-service.dlq", {
      type: "OrderShipped",
      orderId: randomUUID(),
      payload: { order_id: randomUUID() },
      headers: { "x-souk-error": "no handler for event type OrderShipped", "x-souk-attempts": 1, "x-souk-first-failure": failure },
    });
    // and one that nothing should hear again: purged
    await publish("", "shipping-service.dlq", {
      type: "PaymentSucceeded",
      orderId: randomUUID(),
      payload: { order_id: randomUUID() },
      headers: { "x-souk-error": "retries exhausted: the carrier refused the parcel", "x-souk-attempts": 4, "x-souk-first-failure": failure },
    });
    try {
      await inBrowser(
        DESKTOP,
        async ({ page }) => {
          await page.goto("/console/dead-letters");
          await page.locator('.dlq-card[data-service="order"][data-depth="4"]').waitFor();
          await page.locator('.dlq-card[data-service="shipping"][data-depth="1"]').waitFor();
          await shot(page, "console-dead-letters", false);

          await page.locator('.dlq-card[data-service="order"] h2 a').click();
          await page.waitForURL(/\/console\/dead-letters\/order$/);
          const group = page.locator('.dlq-group[data-reason="retries exhausted: the orders database did not answer"]');
          await group.locator(".dlq-count", { hasText: "3" }).waitFor();
          await group.getByText("StockReservationFailed × 3").waitFor();
          await shot(page, "console-dead-letters-order", false);
          await page.getByRole("button", { name: "Replay all" }).click();
          await page.locator(".replay-state progress").waitFor();
          await page.locator('[data-replay-state="done"]').waitFor({ timeout: 20000 });
          await page.getByText("3 of 4 replayed · 1 unroutable, left in place").waitFor();
          await page.getByText("Replayed 3 of 4; 1 could not be routed and stays in the queue.").waitFor();
          // nothing lost: the one it could not route is still there
          await page.locator(`tr[data-message="${unroutable}"]`).waitFor();
          assert.equal(await page.locator(".letters tbody tr").count(), 1);
          await shot(page, "console-replay-done", false);

          await page.goto("/console/dead-letters/shipping");
          await page.locator(".dlq-group", { hasText: "the carrier refused the parcel" }).waitFor();
          // Escape cancels the confirmation, and nothing is purged
          await page.getByRole("button", { name: "Purge…" }).click();
          const dialog = page.getByRole("dialog", { name: "Purge shipping-service.dlq?" });
          await dialog.waitFor();
          await page.keyboard.press("Escape");
          await dialog.waitFor({ state: "hidden" });
          await page.getByRole("button", { name: "Purge…" }).click();
          await dialog.getByText("deleted for good").waitFor();
          await shot(page, "console-purge-confirm", false);
          await dialog.getByRole("button", { name: "Purge 1 message" }).click();
          await page.getByText("Purged 1 message from shipping-service.dlq.").waitFor();
          await page.getByText("No dead letters: the shipping service handled everything it was sent.").waitFor();
        },
        { token: await admin() },
      );
      for (const order of orders) assert.deepEqual(await finalOrder(buyer.token, order), { status: "CANCELLED", reason: "out_of_stock" });
    } finally {
      await purge("order");
      await purge("shipping");
    }
  });

  test("the system view shows non-zero rates and checkouts per second while a burst of checkouts runs", async () => {
    const tea = await product("Atlas mountain tea", 350, 2000, "Green tea with wild thyme and sage, 100 g.");
    const buyers = await Promise.all([1, 2, 3, 4].map((i) => customer(`Load buyer ${i}`)));
    // the load's mix: most approved, every fifth declined, every seventh to
    // a country shipping does not serve (refunded), so the compensations
    // run under load too
    const placed: { token: string; id: string; expect: string }[] = [];
    let n = 0;
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        // the last minute, so that the burst fills the charts
        await page.goto("/console/system?window=60");
        await page.locator("svg.graph").waitFor();
        await page.locator('table.queues tr[data-queue="order-service"]').first().waitFor();
        // the load: four buyers checking out one after another, through the API
        let running = true;
        const load = Promise.all(
          buyers.map(async (b) => {
            const headers = { Authorization: `Bearer ${b.token}` };
            while (running) {
              const added = await api.POST("/cart/items", { headers, body: { product_id: tea.id, quantity: 1 } });
              assert.ok(added.data, `add to cart: ${added.response.status}`);
              const i = ++n;
              const decline = i % 5 === 0, unserved = !decline && i % 7 === 0;
              const out = await api.POST("/cart/checkout", {
                headers: { ...headers, "Idempotency-Key": randomUUID() },
                body: {
                  shipping_address: {
                    name: "Load Buyer",
                    line1: "1 Rue Talaa Kebira",
                    city: "Fès",
                    postal_code: "30110",
                    country: unserved ? "AQ" : "MA",
                  },
                  payment_token: decline ? "tok_decline" : "tok_approve",
                },
              });
              assert.ok(out.data, `checkout: ${out.response.status}`);
              const expect = decline ? "CANCELLED payment_declined" : unserved ? "CANCELLED shipping_failed" : "COMPLETED null";
              placed.push({ token: b.token, id: out.data.order_id, expect });
              await sleep(100);
            }
          }),
        );
        try {
          // the checkouts' edges carry messages (the broker's rates of its
          // last sample), and checkouts complete
          await page.waitForFunction(
            () =>
              Number(document.querySelector('svg.graph path.edge[data-from="gateway"][data-to="CartCheckedOut"]')?.getAttribute("data-per-s")) > 0 &&
              Number(document.querySelector('svg.graph path.edge[data-from="CartCheckedOut"][data-to="order-service"]')?.getAttribute("data-per-s")) > 0,
            null,
            { timeout: 30000, polling: 250 },
          );
          await page.waitForFunction(() => document.querySelector('[data-testid="checkouts-now"]')?.textContent !== "0/s", null, {
            timeout: 30000,
            polling: 250,
          });
          await page.locator("svg.graph .edge-label").first().waitFor();
          await page.waitForFunction(
            () => document.querySelector('table.queues tr[data-queue="order-service"] td[data-label="Delivered/s"]')?.textContent !== "0/s",
            null,
            { timeout: 15000, polling: 250 },
          );
          await sleep(8000); // a few buckets of the charts
          assert.ok((await painted(page.locator('[data-chart="checkouts"]'))) > 500, "the checkouts chart is drawn");
          assert.ok((await painted(page.locator('[data-chart="saga-latency"]'))) > 500, "the saga time chart is drawn");
          await shot(page, "console-system");
        } finally {
          running = false;
          await load;
        }
        // each queue links to its page in the RabbitMQ UI
        const view = await api.GET("/admin/system", { headers: await asAdmin() });
        const q = view.data!.queues.find((x) => x.name === "payment-service")!;
        assert.equal(await page.locator('table.queues tr[data-queue="payment-service"] th a').first().getAttribute("href"), q.ui_url);
        const dlq = view.data!.queues.find((x) => x.name === "payment-service.dlq")!;
        assert.equal(await page.locator('table.queues.all tr[data-queue="payment-service.dlq"] th a').getAttribute("href"), dlq.ui_url);
        assert.match(q.ui_url, /#\/queues\/souk\/payment-service$/);
        assert.equal(await page.locator('svg.graph a[data-queue="payment-service"]').getAttribute("href"), q.ui_url);
      },
      { token: await admin() },
    );
    assert.ok(placed.length >= 8, `only ${placed.length} checkouts`);
    for (const o of placed) {
      const end = await finalOrder(o.token, o.id);
      assert.equal(`${end.status} ${end.reason}`, o.expect, `order ${o.id}`);
    }
  });

  test("an admin creates and edits a product and its stock, and the storefront shows it; then deletes it", async () => {
    await inBrowser(
      DESKTOP,
      async (s) => {
        const { page } = s;
        await page.goto("/console/catalog");
        await page.getByRole("link", { name: "+ New product" }).click();
        await page.waitForURL(/\/console\/catalog\/new$/);
        await page.getByLabel("Name", { exact: true }).fill("Tagine pot");
        await page.getByLabel("SKU").fill(`CON-${suffix()}`.toUpperCase());
        await page.getByLabel("Price").fill("32");
        await page.getByLabel("Description").fill("Glazed Safi clay with a conical lid; for slow stews over embers.");
        await page.getByRole("button", { name: "Create the product" }).click();
        await page.waitForURL(/\/console\/catalog\/[0-9a-f-]{36}$/);
        const id = page.url().split("/").pop()!;

        await page.getByTestId("on-hand").waitFor();
        await page.getByLabel("Set on hand to").fill("12");
        await page.getByRole("button", { name: "Set", exact: true }).click();
        await page.getByText("Set: 12 on hand, 12 available.").waitFor();
        await page.getByLabel(/^Adjust by/).fill("-4");
        await page.getByRole("button", { name: "Adjust" }).click();
        await page.getByText("Removed 4: 8 on hand, 8 available.").waitFor();
        assert.equal(await page.getByTestId("available").textContent(), "8");

        await page.getByLabel("Name", { exact: true }).fill("Tagine pot, large");
        await page.getByLabel("Price").fill("38.50");
        await page.getByRole("button", { name: "Save the product" }).click();
        await page.locator(".product-form .notice-success").waitFor();
        await shot(page, "console-product", false);

        // what the storefront shows now
        await page.getByRole("link", { name: "See it in the shop →" }).click();
        await page.getByRole("heading", { name: "Tagine pot, large" }).waitFor();
        assert.equal(await page.locator(".price.big").textContent(), "€38.50");
        await page.getByText("In stock · 8 available").waitFor();

        await page.goto("/console/catalog");
        await page.locator(`tr[data-product="${id}"]`).waitFor();
        await page.locator(`tr[data-product="${id}"] td[data-label="Available"]`, { hasText: "8" }).waitFor();
        await shot(page, "console-catalog", false);

        await page.goto(`/console/catalog/${id}`);
        await page.getByRole("button", { name: "Delete…" }).click();
        await page.getByRole("dialog").getByRole("button", { name: "Delete the product" }).click();
        await page.waitForURL(/\/console\/catalog\?deleted=/);
        await page.getByText("Deleted “Tagine pot, large”.").waitFor();
        s.expect({ url: new RegExp(`/products/${id}$`), status: 404 });
        s.expect({ url: new RegExp(`/inventory/${id}$`), status: 404 });
        await page.goto(`/shop/products/${id}`);
        await page.getByText("There is no such product.").waitFor();
      },
      { token: await admin() },
    );
  });

  test("the analytics summary is drawn as charts", async () => {
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await page.goto("/console/analytics?window=1h");
        for (const chart of ["orders-by-status", "cancellations", "top-products", "step-times"]) {
          const box = page.locator(`[data-chart="${chart}"]`);
          await box.waitFor();
          assert.ok((await painted(box)) > 500, `the ${chart} chart is drawn`);
        }
        assert.ok(Number(await page.getByTestId("orders").textContent()) > 0);
        await shot(page, "console-analytics");
      },
      { token: await admin() },
    );
  });

  test("at a phone's width the console fits; the keyboard finds a saga; a customer is shown the way out", async () => {
    const { token } = await customer("Not An Admin");
    await inBrowser(
      PHONE,
      async ({ page }) => {
        for (const path of ["/console/sagas", "/console/dead-letters", "/console/catalog", "/console/analytics", "/console/system"]) {
          await page.goto(path);
          await page.locator(".console-tabs").waitFor();
          await page.locator(".loading").first().waitFor({ state: "detached", timeout: 15000 });
          await assertFits(page, path);
        }
        await page.goto("/console/system");
        await page.locator("svg.graph").waitFor();
        await shot(page, "phone-console-system", false);
        await page.goto("/console/sagas");
        await page.locator("tr.saga-row").first().waitFor();
        await shot(page, "phone-console-sagas", false);
      },
      { token: await admin() },
    );
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await page.goto("/console/sagas");
        const first = page.locator("tr.saga-row").first();
        await first.waitFor();
        const id = (await first.getAttribute("data-order"))!;
        await page.getByLabel("Search").focus();
        await page.keyboard.type(id);
        await page.keyboard.press("Enter");
        await page.waitForURL(new RegExp(`q=${id}`));
        await page.locator("tr.saga-row").nth(1).waitFor({ state: "detached" });
        for (let i = 0; i < 30; i++) {
          await page.keyboard.press("Tab");
          if (await page.evaluate(() => document.activeElement?.classList.contains("saga-link"))) break;
        }
        assert.ok(await page.evaluate(() => document.activeElement?.classList.contains("saga-link")), "Tab never reached the saga");
        await page.keyboard.press("Enter");
        await page.waitForURL(new RegExp(`/console/sagas/${id}$`));
        await page.locator(".saga-head").waitFor();
      },
      { token: await admin() },
    );
    await inBrowser(
      DESKTOP,
      async ({ page }) => {
        await page.goto("/console/system");
        await page.getByText("These pages are the admins'").waitFor();
        assert.equal(await page.locator("svg.graph").count(), 0);
        assert.equal(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Console" }).count(), 0);
      },
      { token },
    );
  });
});
