// What the browser tests share: Debian's chromium driven by playwright-core
// (never a downloaded browser), a fresh profile per test, a page that
// fails its test on any JavaScript error or console error, screenshots,
// and the gateway's API (the typed client) for setting a scene up.
// Run by tests/e2e/browser.sh inside `souk test` (SOUK_TEST_GATEWAY_URL is
// the test stack's front).
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import createClient from "openapi-fetch";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import type { paths } from "../src/api/schema.js";

export const BASE = process.env["SOUK_TEST_GATEWAY_URL"] ?? "";
if (!BASE) throw new Error("SOUK_TEST_GATEWAY_URL is not set (run through ./souk test)");
const SHOTS = process.env["SOUK_SCREENSHOTS"] ?? join(tmpdir(), "souk-screenshots");
mkdirSync(SHOTS, { recursive: true });

export const CHROMIUM = process.env["SOUK_CHROMIUM"] ?? "/usr/bin/chromium";
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export const api = createClient<paths>({ baseUrl: BASE });
export const suffix = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An answer the page is expected to get: the browser logs a failed
 * request (4xx, 5xx) as a console error, and this one is not a fault. */
export interface ExpectedFailure {
  url: RegExp;
  status: number;
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** every JavaScript or console error the pages logged */
  errors: string[];
  expect(failure: ExpectedFailure): void;
  close(): Promise<void>;
}

/** A fresh browser (its own --user-data-dir) with one page at viewport. */
export async function open(viewport = DESKTOP, options: { token?: string; clipboard?: boolean } = {}): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), "souk-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport,
    baseURL: BASE,
    locale: "en-GB",
    timezoneId: "UTC",
    ...(options.clipboard ? { permissions: ["clipboard-read", "clipboard-write"] } : {}),
  });
  const errors: string[] = [];
  const expected: ExpectedFailure[] = [];
  const watch = (page: Page) => {
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m: ConsoleMessage) => {
      if (m.type() !== "error") return;
      const where = m.location().url;
      const known = expected.some((f) => f.url.test(where) && m.text().includes(`status of ${f.status}`));
      if (!known) errors.push(`console error: ${m.text()} (${where})`);
    });
  };
  context.on("page", watch);
  for (const p of context.pages()) watch(p);
  if (options.token) {
    const token = options.token;
    await context.addInitScript((t: string) => {
      if (!localStorage.getItem("souk.session"))
        localStorage.setItem("souk.session", JSON.stringify({ token: t, expiresAt: Date.now() + 3600_000 }));
    }, token);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    errors,
    expect: (f) => expected.push(f),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs body in a fresh browser and fails when any page logged an error. */
export async function inBrowser(
  viewport: { width: number; height: number },
  body: (s: Session) => Promise<void>,
  options: { token?: string; clipboard?: boolean } = {},
): Promise<void> {
  const s = await open(viewport, options);
  try {
    await body(s);
    assert.deepEqual(s.errors, [], "the pages logged errors");
  } catch (e) {
    await shot(s.page, `failure-${Date.now()}`).catch(() => {});
    throw e;
  } finally {
    await s.close();
  }
}

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  // a full page is drawn from its top, where the sticky header belongs
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0); // no row left highlighted by the pointer
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: "disabled" });
}

/** No element is wider than the viewport (no sideways scrolling). */
export async function assertFits(page: Page, what: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width + 1, `${what}: the page is ${scroll} px wide in a ${width} px viewport`);
}

// ------------------------------------------------------------------ the API

async function login(email: string, password: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const { data, response } = await api.POST("/auth/login", { body: { email, password } });
    if (data) return data.access_token;
    if (response.status === 429 && attempt < 30) {
      await sleep(1000 * (Number(response.headers.get("Retry-After")) || 1));
      continue;
    }
    throw new Error(`login ${email}: ${response.status}`);
  }
}

let adminToken: Promise<string> | null = null;
export function admin(): Promise<string> {
  adminToken ??= login(
    process.env["SOUK_ADMIN_EMAIL"] ?? "admin@souk.local",
    process.env["SOUK_ADMIN_PASSWORD"] ?? "souk-admin-password",
  );
  return adminToken;
}

export interface Product {
  id: string;
  sku: string;
  name: string;
}

/** A product of the catalog with onHand units, as the admin makes it. */
export async function product(name: string, priceMinor: number, onHand: number, description = ""): Promise<Product> {
  const headers = { Authorization: `Bearer ${await admin()}` };
  const sku = `WEB-${suffix()}`.toUpperCase();
  const made = await api.POST("/products", {
    headers,
    body: { sku, name, price_minor: priceMinor, currency: "EUR", description },
  });
  assert.ok(made.data, `create ${name}: ${made.response.status}`);
  const stocked = await api.PUT("/inventory/{product_id}", {
    headers,
    params: { path: { product_id: made.data.id } },
    body: { on_hand: onHand },
  });
  assert.equal(stocked.data?.available, onHand);
  return { id: made.data.id, sku, name };
}

/** A new customer's token (registered through the API). */
export async function customer(name = "Test Customer"): Promise<{ id: string; email: string; password: string; token: string }> {
  const email = `web-${suffix()}@test.souk`;
  const password = "password1";
  const { data, response } = await api.POST("/auth/register", { body: { email, password, name } });
  assert.ok(data, `register: ${response.status}`);
  return { id: data.account.id, email, password, token: data.access_token };
}

/** The admin's Authorization header, for the API calls a test makes. */
export async function asAdmin(): Promise<{ Authorization: string }> {
  return { Authorization: `Bearer ${await admin()}` };
}

// ---------------------------------------------------- the stack's servers

/** A call to the test stack's RabbitMQ management API as its
 * administrator (SOUK_TEST_MGMT_URL), for what no Souk API does: reading
 * a queue's messages as they are, publishing a message as a service would. */
export async function mgmt(path: string, body?: unknown): Promise<unknown> {
  const user = process.env["SOUK_TEST_ADMIN_USER"], password = process.env["SOUK_TEST_ADMIN_PASSWORD"];
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  const r = await fetch(`${process.env["SOUK_TEST_MGMT_URL"]}/api${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Basic ${auth}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(r.ok, `management API ${path}: ${r.status}`);
  return r.json();
}

export interface Message {
  /** the event type (the message's type property) */
  type: string;
  orderId: string;
  payload: unknown;
  messageId?: string;
  /** more AMQP headers (the x-souk-* ones of a dead letter) */
  headers?: Record<string, string | number>;
}

/** Publishes a message as a Souk service does (events/envelope.c's
 * properties) to exchange, or with exchange "" to the queue routingKey;
 * returns its message id. The broker must route it. */
export async function publish(exchange: string, routingKey: string, m: Message): Promise<string> {
  const messageId = m.messageId ?? randomUUID();
  const answer = (await mgmt(`/exchanges/souk/${exchange || "amq.default"}/publish`, {
    routing_key: routingKey,
    payload: JSON.stringify(m.payload),
    payload_encoding: "string",
    properties: {
      message_id: messageId,
      type: m.type,
      correlation_id: m.orderId,
      app_id: "inventory",
      content_type: "application/json",
      delivery_mode: 2,
      timestamp: Math.floor(Date.now() / 1000),
      headers: { schema_version: 1, occurred_at: new Date().toISOString(), ...m.headers },
    },
  })) as { routed?: boolean };
  assert.equal(answer.routed, true, `${m.type} to ${exchange || routingKey} was not routed`);
  return messageId;
}

/** Runs sql as PostgreSQL's superuser on the test stack's database
 * (psql over its socket, SOUK_TEST_PG_SOCKET), each :'name' replaced by
 * vars[name] as a quoted literal (psql's own quoting); returns the rows'
 * first column. For what the API does not do: writing an order without a
 * saga behind it, changing what a service stored. */
export function sql(statement: string, vars: Record<string, string> = {}): string[] {
  const args = ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", process.env["SOUK_TEST_PG_SOCKET"] ?? "",
    "-p", process.env["SOUK_PG_PORT"] ?? "", "-U", "postgres", "-d", "souk"];
  for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
  const r = spawnSync("psql", args, { input: statement, encoding: "utf8" });
  assert.equal(r.status, 0, `psql: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** An order the order service holds PENDING with no saga behind it (as
 * tests/support/shop.c's ts_open_order makes one): nothing happens to it
 * until a message about it arrives, or its deadline. */
export function openOrder(customerId: string, deadlineS: number, email: string): string {
  const id = randomUUID();
  sql(
    `INSERT INTO orders.orders (id, customer_id, status, currency, total_minor, shipping_address, deadline_at, customer_email)
     VALUES (:'id', :'customer', 'PENDING', 'EUR', 900, '{}', now() + make_interval(secs => :'deadline'::int), :'email')`,
    { id, customer: customerId, deadline: String(deadlineS), email },
  );
  return id;
}
