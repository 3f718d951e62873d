// /docs: Swagger UI from the swagger-ui-dist package, served by the gateway
// (nothing from another origin), over /openapi.json; a signed-in console
// visitor's token is already in "Authorize", so "Try it out" works.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { BASE, DESKTOP, customer, inBrowser, shot } from "./harness.js";

test("Swagger UI renders the document and tries GET /auth/me with the console's token", async () => {
  const who = await customer("Docs Reader");
  await inBrowser(
    DESKTOP,
    async ({ page }) => {
      const elsewhere: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(BASE) && !r.url().startsWith("data:")) elsewhere.push(r.url());
      });
      await page.goto("/docs");
      await page.getByRole("heading", { name: /Souk gateway/ }).waitFor();
      await page.locator("#operations-auth-getMe").waitFor();
      await shot(page, "docs", false);
      const op = page.locator("#operations-auth-getMe");
      await op.locator(".opblock-summary").click();
      await op.getByRole("button", { name: "Try it out" }).click();
      await op.getByRole("button", { name: "Execute" }).click();
      const body = page.locator("#operations-auth-getMe .responses-wrapper .live-responses-table .response-col_description pre").first();
      await body.waitFor();
      assert.match((await body.textContent()) ?? "", new RegExp(who.email.replace(/[.@]/g, "\\$&")));
      assert.deepEqual(elsewhere, [], "the page asked another origin");
    },
    { token: who.token },
  );
});
