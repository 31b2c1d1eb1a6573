// Stored text that would close a <textarea> and start markup, in every field of the rule editor
// and the notifier forms: after the server renders the page, after the wasm takes it over, and
// in a browser without JavaScript, no script runs, no element appears, and each field shows
// exactly what was stored; saving it again (with or without JavaScript) stores it unchanged.
// No page violates the Content-Security-Policy (the harness fails on any report).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { start, open, login, api, apiLogin, plainLogin, ADMIN_PASSWORD } from "./harness.mjs";

const envs = [];
after(async () => {
  for (const env of envs) await env.stop();
});

const HOSTILE = `</textarea><img src=x onerror="window.__xss=1;alert(1)"></script><script>window.__xss=2</script>"'&amp;`;
// A valid expression that carries the hostile text in a label value.
const EXPR = `up{job="${HOSTILE.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"} == 0`;

/// Nothing the hostile text carries became an element or ran.
async function assertInert(page, where) {
  assert.equal(await page.locator("img[src=x]").count(), 0, `${where}: an <img> was injected`);
  assert.equal(await page.evaluate(() => window.__xss), undefined, `${where}: injected script ran`);
}

test("hostile stored text stays text in every form, with and without JavaScript", async () => {
  const env = await start();
  envs.push(env);
  const { page, base } = env;
  const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);
  const service = await api(base, cookie, "create_service", { name: "web", description: HOSTILE });
  assert.equal(service.status, 200, JSON.stringify(service.json));
  const sid = service.json.id;
  const rule = await api(base, cookie, "save_rule", {
    owner_kind: "service", owner_id: sid, kind: "alert", name: "Hostile", expr: EXPR,
    duration: "5m", description: HOSTILE, enabled: "on",
    "labels[0][key]": "team", "labels[0][value]": HOSTILE,
    "annotations[0][key]": "summary", "annotations[0][value]": HOSTILE,
  });
  assert.equal(rule.status, 200, JSON.stringify(rule.json));
  const rid = rule.json.id;
  const notifier = await api(base, cookie, "create_notifier", {
    owner_kind: "service", owner_id: sid, kind: "webhook", value: "https://hooks.example.com/x",
    alias: "hooks", subject_template: HOSTILE, body_template: HOSTILE,
  });
  assert.equal(notifier.status, 200, JSON.stringify(notifier.json));

  // With JavaScript: the server's page, then the wasm's.
  await login(page, base);
  await open(page, `${base}/rule/${rid}/edit`);
  await assertInert(page, "rule editor");
  assert.equal(await page.locator("textarea[name=description]").inputValue(), HOSTILE);
  assert.equal(await page.locator("textarea[name=expr]").inputValue(), EXPR);
  assert.equal(await page.locator("input[value=team] + input").inputValue(), HOSTILE);
  // The engine reads the same text: the expression is valid as stored.
  assert.equal(await page.locator(".expr-error").count(), 0);
  await page.click("button:has-text('Save rule')");
  await page.waitForURL(new RegExp(`/rule/${rid}$`));
  await assertInert(page, "rule page");

  await open(page, `${base}/service/${sid}`);
  await assertInert(page, "service page");
  await page.locator("details.edit-notifier summary").click();
  assert.equal(await page.locator("details.edit-notifier textarea[name=subject_template]").inputValue(), HOSTILE);
  assert.equal(await page.locator("details.edit-notifier textarea[name=body_template]").inputValue(), HOSTILE);
  await page.locator("details.edit-notifier button:has-text('Save')").click();
  await page.locator("details.edit-notifier[open] [role=status]", { hasText: "Saved." }).waitFor();

  // Without JavaScript: the plain forms post, the server function redirects back.
  const plain = await env.context({ javaScriptEnabled: false });
  await plainLogin(plain, base);
  await plain.goto(`${base}/rule/${rid}/edit`);
  assert.equal(await plain.locator("img[src=x]").count(), 0);
  assert.equal(await plain.locator("textarea[name=description]").inputValue(), HOSTILE);
  assert.equal(await plain.locator("textarea[name=expr]").inputValue(), EXPR);
  await plain.click("button:has-text('Save rule')");
  await plain.waitForURL(new RegExp(`/rule/${rid}$`));

  // Saved three times, the rule is still exactly what was stored.
  const saved = await api(base, cookie, "get_rule", { id: rid });
  assert.equal(saved.status, 200);
  assert.equal(saved.json.rule.description, HOSTILE);
  assert.equal(saved.json.rule.expr, EXPR);
  assert.equal(saved.json.rule.labels.team, HOSTILE);
  const listing = await api(base, cookie, "owner_notifiers", { owner_kind: "service", owner_id: sid });
  assert.equal(listing.json.notifiers[0].subject_template, HOSTILE);
  assert.equal(listing.json.notifiers[0].body_template, HOSTILE);

  // Without JavaScript a confirm button is a disclosure that asks (the scripted button would
  // do nothing); its question, which names hostile text, stays text.
  const nid = listing.json.notifiers[0].id;
  const filter = await api(base, cookie, "add_notifier_filter", { id: nid, name: "team", value: HOSTILE });
  assert.equal(filter.status, 200, JSON.stringify(filter.json));
  await plain.goto(`${base}/service/${sid}`);
  await assertInert(plain, "service page without JavaScript");
  const remove = plain.locator("#notifiers details.confirm-no-script", { hasText: "Remove" });
  assert.equal(await plain.locator("#notifiers button.needs-script:visible").count(), 0);
  await remove.locator("summary").click();
  await remove.locator(".question", { hasText: `Remove the filter team=${HOSTILE}?` }).waitFor();
  await remove.locator("button", { hasText: "Yes, remove" }).click();
  await plain.waitForURL(new RegExp(`/service/${sid}`));
  const after = await api(base, cookie, "owner_notifiers", { owner_kind: "service", owner_id: sid });
  assert.deepEqual(after.json.notifiers[0].filters, []);
  assert.deepEqual(env.errors, []);
});
