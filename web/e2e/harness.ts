// What the browser tests share: Debian's chromium driven by playwright-core
// (never a downloaded browser), a fresh profile per test, a page that
// fails its test on any JavaScript error or console error, screenshots,
// and the gateway's API (the typed client) for setting a scene up.
// Run by tests/e2e/browser.sh inside `souk test` (SOUK_TEST_GATEWAY_URL is
// the test stack's front).
import { strict as assert } from "node:assert";
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
export async function customer(name = "Test Customer"): Promise<{ email: string; password: string; token: string }> {
  const email = `web-${suffix()}@test.souk`;
  const password = "password1";
  const { data, response } = await api.POST("/auth/register", { body: { email, password, name } });
  assert.ok(data, `register: ${response.status}`);
  return { email, password, token: data.access_token };
}
