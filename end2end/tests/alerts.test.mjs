// Alerts in the browser: a service owner adds a webhook notifier and makes a token for
// Alertmanager on the profile page; an alert posted with that token appears on the alerts page
// without a reload, is delivered to the receiver, and turns resolved when Alertmanager says so.
// Label values are shown as text, never as markup.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { start, open, login, receiver as harnessReceiver } from "./harness.mjs";

const cleanups = [];
after(async () => {
  for (const c of cleanups) await c();
});

/// The webhook receiver, stopped when the tests end.
async function receiver() {
  const r = await harnessReceiver();
  cleanups.push(r.close);
  return r;
}

/// Alertmanager's webhook body (version 4) for one alert of one group.
function payload(status, instance) {
  const labels = { alertname: "DiskFull", service: "web", severity: "critical", instance };
  return {
    version: "4",
    groupKey: '{}:{alertname="DiskFull", service="web"}',
    status,
    receiver: "promgen",
    groupLabels: { alertname: "DiskFull", service: "web" },
    commonLabels: labels,
    commonAnnotations: { summary: "disk full" },
    externalURL: "http://alertmanager.example",
    alerts: [
      {
        status,
        labels,
        annotations: { summary: "disk full" },
        startsAt: "2026-11-22T10:00:00Z",
        endsAt: status === "resolved" ? "2026-11-22T10:05:00Z" : "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.example/graph",
        fingerprint: "0123456789abcdef",
      },
    ],
  };
}

async function until(what, check) {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("an alert appears and resolves on the alerts page without a reload", async () => {
  const hook = await receiver();
  // The receiver is on loopback: the operator allows private addresses for this installation.
  const env = await start({ args: ["--notifier-allow-private"] });
  cleanups.push(() => env.stop());
  const { page, base } = env;
  await login(page, base);

  // A service with a webhook notifier.
  await open(page, base + "/");
  await page.fill("input[name=name]", "web");
  await page.click("button:has-text('Register service')");
  await page.waitForURL(/\/service\/\d+/);
  await page.waitForSelector("html[data-hydrated=true]");
  const notifiers = page.locator("#notifiers");
  await notifiers.locator("summary", { hasText: "Add a notifier" }).click();
  await notifiers.locator("select[name=kind]").selectOption("webhook");
  await notifiers.locator("input[name=value]").fill(hook.url);
  // A refused template is said at its field, in a part of the form folded again before
  // sending: the part opens. (Chromium logs the refused requests' status.)
  env.expectConsole(/status of 400 /);
  const templates = notifiers.locator("summary", { hasText: "Message templates" });
  const body = notifiers.locator("textarea[name=body_template]");
  await templates.click();
  await body.fill("{{ broken");
  await templates.click();
  await notifiers.locator("button:has-text('Add notifier')").click();
  await notifiers.locator("small.field-error", { hasText: "template fails" }).waitFor();
  assert.equal(await body.isVisible(), true);
  assert.equal(await body.getAttribute("aria-invalid"), "true");
  // The next answer, about another field, takes the first one's mark away (the template is
  // emptied without an input event, so only the new answer can).
  await body.evaluate((el) => (el.value = ""));
  await notifiers.locator("input[name=value]").fill("not a url");
  await notifiers.locator("button:has-text('Add notifier')").click();
  await notifiers.locator("label.field:has(input[name=value]) small.field-error").waitFor();
  assert.equal(await body.getAttribute("aria-invalid"), "false");
  assert.equal(await notifiers.locator("small.field-error", { hasText: "template fails" }).count(), 0);
  await notifiers.locator("input[name=value]").fill(hook.url);
  await notifiers.locator("button:has-text('Add notifier')").click();
  await notifiers.locator("table.notifiers td", { hasText: hook.url }).waitFor();

  // A token for Alertmanager, shown once.
  await open(page, base + "/profile");
  await page.locator("#tokens input[name=name]").fill("alertmanager");
  await page.click("button:has-text('Make a token')");
  const key = (await page.getByTestId("token-key").textContent()).trim();
  assert.match(key, /^\S{20,}$/);

  // The alerts page, live. A marker on the window tells whether the page was ever reloaded.
  // The console stays quiet (no reactive-read warning from the label filter).
  const console = [];
  page.on("console", (m) => ["warning", "error"].includes(m.type()) && console.push(`${m.type()}: ${m.text()}`));
  await open(page, base + "/alert");
  await page.getByTestId("feed-status").filter({ hasText: "live" }).waitFor();
  await page.getByText("No alert has reached Promgen's webhook yet.").waitFor();
  assert.deepEqual(console, []);
  await page.evaluate(() => (window.__notReloaded = true));

  const post = (body, auth = `Token ${key}`) =>
    fetch(base + "/api/v1/alerts", {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify(body),
    });

  // Refused posts store nothing and show nothing.
  assert.equal((await post(payload("firing", "db1"), null)).status, 401);
  const bad = await post({ version: "4", alerts: "nope" });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /alerts/);

  // Alertmanager fires: the row appears, then the delivery is counted.
  const evil = '<img src=x onerror="window.__xss=1">db1';
  assert.equal((await post(payload("firing", evil))).status, 202);
  const row = page.locator("tr[data-alert=DiskFull]");
  await row.locator("td.state", { hasText: "firing (1 alert)" }).waitFor();
  await until("the webhook receiver", () => hook.bodies.length === 1);
  assert.equal(hook.bodies[0].alerts[0].labels.instance, evil);
  await row.locator("td", { hasText: "1 / 0" }).waitFor();

  // Alertmanager resolves it.
  assert.equal((await post(payload("resolved", evil))).status, 202);
  await row.locator("td.state", { hasText: "resolved" }).waitFor();
  assert.equal(await page.evaluate(() => window.__notReloaded), true);

  // The detail page: routing, the delivery, and the raw payload, as text.
  await row.locator("a", { hasText: "DiskFull" }).click();
  await page.waitForURL(/\/alert\/\d+$/);
  await page.locator("section", { hasText: "Routing" }).getByText("service web").first().waitFor();
  await page.locator("section", { hasText: "Deliveries" }).locator("td", { hasText: "sent" }).first().waitFor();
  await page.locator("pre", { hasText: '"status": "resolved"' }).waitFor();
  await page.locator(".chip", { hasText: evil }).first().waitFor();
  assert.equal(await page.locator("img[src=x]").count(), 0);
  // The resolving message links the firing one before it, and that one links back.
  const resolving = page.url();
  await page.locator("[data-testid=earlier] a", { hasText: "firing" }).click();
  await page.locator("[data-testid=later] a", { hasText: "resolved" }).waitFor();
  assert.notEqual(page.url(), resolving);
  assert.equal(await page.locator("[data-testid=earlier]").count(), 0);

  // History, searchable by label.
  await open(page, base + "/alert/history?labels=service%3Dweb");
  assert.equal(await page.locator("table.alerts tbody tr").count(), 2);
  await open(page, base + "/alert/history?labels=service%3Dother");
  await page.getByText("No deliveries with these labels.").waitFor();
  // The filter form writes the query it shows, and nothing else.
  await page.fill("main input[name=labels]", "service=web");
  await page.click("button:has-text('Filter')");
  await page.waitForURL(base + "/alert/history?labels=service%3Dweb");
  await page.locator("table.alerts tbody tr").nth(1).waitFor();

  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(env.errors, []);
});
