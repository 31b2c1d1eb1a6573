// The API's page: /docs shows every endpoint of the OpenAPI document (served by this server,
// no asset from elsewhere), and "Try it out" works against the running server with the
// browser's session.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, login } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("/docs lists the API and its try-it calls the server", async () => {
  const { page, base } = env;
  await login(page, base);
  const elsewhere = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) elsewhere.push(r.url());
  });
  // Swagger UI draws operations as they scroll into view: a tall window shows them all.
  await page.setViewportSize({ width: 1280, height: 40000 });
  await page.goto(base + "/docs");
  await page.locator(".opblock-summary-path", { hasText: "/rest/v2/services" }).first().waitFor();
  for (const path of ["/api/v1/targets", "/api/v1/alerts", "/api/create_service", "/rest/v2/logs"]) {
    assert.ok(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count() > 0, `${path} is listed`);
  }
  // Try GET /rest/v2/shards with the session.
  const op = page.locator("#operations-shards-shards");
  await op.locator(".opblock-summary").click();
  await op.locator("button.try-out__btn").click();
  await op.locator("button.execute").click();
  await op.locator(".live-responses-table tbody .response-col_status").first().waitFor();
  const status = (await op.locator(".live-responses-table tbody .response-col_status").first().textContent()).trim();
  assert.equal(status, "200");
  assert.deepEqual(elsewhere, [], "every request goes to this server");
});
