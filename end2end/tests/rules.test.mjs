// Rules in the browser: a new user overrides a site rule for a service and watches the rule
// engine rewrite both expressions while typing; an invalid expression is shown where it is
// wrong and cannot be saved; the saved rules are in /api/v1/rules and promtool accepts the file.
// A second server, seeded with a rule overridden 1,000 times, reports the engine's time per
// keystroke in the browser.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, open, login, api, apiLogin, ADMIN_PASSWORD } from "./harness.mjs";

const envs = [];
after(async () => {
  for (const env of envs) await env.stop();
});

/// Replaces the editor's expression by typing it, key by key, as a user would.
async function retype(page, text) {
  const expr = page.locator("textarea[name=expr]");
  await expr.fill("");
  await expr.pressSequentially(text);
}

function promtoolAccepts(file) {
  const path = join(mkdtempSync(join(tmpdir(), "promgen-e2e-rules-")), "rules.yml");
  writeFileSync(path, file);
  execFileSync("promtool", ["check", "rules", path], { stdio: "pipe" });
}

test("override a site rule for a service, live, and find both in /api/v1/rules", async () => {
  const env = await start();
  envs.push(env);
  const { page, base } = env;
  await login(page, base);

  // A service of one's own: a new installation's site rules reach it.
  await open(page, base + "/");
  await page.fill("input[name=name]", "web");
  await page.click("button:has-text('Register service')");
  await page.waitForURL(/\/service\/\d+/);
  const serviceId = page.url().match(/\/service\/(\d+)/)[1];
  const instanceDown = page.locator("#rules tr", { hasText: "InstanceDown" });
  await instanceDown.waitFor();
  await instanceDown.locator("a", { hasText: "Override" }).click();

  // The override's editor: this rule and its parent as Prometheus will get them.
  await page.waitForURL(/\/rule\/\d+\/override/);
  await page.waitForSelector("html[data-hydrated=true]");
  const expansion = page.getByTestId("expansion");
  await expansion.filter({ hasText: 'up{service="web",} == 0' }).waitFor();
  const parentExpansion = page.locator("pre[data-testid=rule-1]");
  assert.equal(await parentExpansion.textContent(), 'up{service!~"web"} == 0');

  // A mistake is shown under the character it is about, as it is typed.
  await retype(page, 'up{service="web",<exclude>} ==');
  await page.locator(".expr-error").getByText("1:31: unexpected end of input").waitFor();
  await retype(page, 'up{service="web",<exclude>} == 0');
  await expansion.filter({ hasText: 'up{service="web",} == 0' }).waitFor();
  assert.equal(await page.locator(".expr-error").count(), 0);

  // The team pages on its own terms: the rule file entry follows the label.
  const severity = page.locator("input[value=critical]");
  await severity.fill("page");
  await page.getByTestId("yaml").filter({ hasText: "severity: page" }).waitFor();
  await page.click("button:has-text('Save override')");
  await page.waitForURL(/\/rule\/(\d+)$/);
  const childId = page.url().match(/\/rule\/(\d+)$/)[1];
  await page.getByText("Overrides InstanceDown").waitFor();

  // The admin changes the site rule: the override still carries its expression, so it follows,
  // and the editor shows both expressions change at every keystroke.
  await open(page, base + "/rule/1/edit");
  await page.getByText("Also change the 1 override still using this expression").waitFor();
  await retype(page, "up{<exclude>} < 1");
  await expansion.filter({ hasText: 'up{service!~"web"} < 1' }).waitFor();
  await page.locator(`pre[data-testid=rule-${childId}]`).filter({ hasText: 'up{service="web",} < 1' }).waitFor();
  await page.click("button:has-text('Save rule')");
  await page.waitForURL(/\/rule\/1$/);

  const file = await (await fetch(base + "/api/v1/rules")).text();
  assert.match(file, /alert: InstanceDown\n[\s\S]*?expr: up\{service!~"web"\} < 1\n/);
  assert.match(file, /alert: InstanceDown_web\n[\s\S]*?expr: up\{service="web",\} < 1\n[\s\S]*?severity: page\n/);
  promtoolAccepts(file);

  // An invalid expression cannot be saved: Save is disabled and says why, with the position.
  await open(page, base + "/rule/1/edit");
  await retype(page, "up{<exclude>} <");
  const save = page.locator("button:has-text('Save rule')");
  await page.waitForFunction(() => document.querySelector("button[title^='Expression: 1:16: unexpected end of input']")?.disabled);
  assert.equal(await save.isDisabled(), true);
  // The server refuses it too, with its position, and nothing changes.
  const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);
  const refused = await api(base, cookie, "save_rule", { id: 1, owner_kind: "site", owner_id: 1, kind: "alert", name: "InstanceDown", expr: "up{<exclude>} <" });
  assert.equal(refused.status, 400);
  assert.match(JSON.stringify(refused.json), /1:16: unexpected end of input/);
  assert.equal(await (await fetch(base + "/api/v1/rules")).text(), file);

  // A label added by keyboard: the new row's name has the focus and says which it is; a name
  // given twice is refused (a map kept one of them, silently), here and by the server.
  await retype(page, "up{<exclude>} < 1");
  await page.locator("fieldset.pairs button:has-text('Add label')").click();
  const named = page.locator("fieldset.pairs div.pair:last-of-type input").first();
  await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label")?.endsWith(": name"));
  await page.keyboard.type("severity");
  assert.equal(await named.inputValue(), "severity");
  await page.locator("fieldset.pairs p.error", { hasText: 'The name "severity" is given twice' }).waitFor();
  await page.waitForFunction(() => document.querySelector(`button[title^='Labels: the name "severity" is given twice']`)?.disabled);
  const twice = await api(base, cookie, "save_rule", {
    id: 1, owner_kind: "site", owner_id: 1, kind: "alert", name: "InstanceDown", expr: "up == 0",
    "labels[0][key]": "severity", "labels[0][value]": "critical", "labels[1][key]": "severity", "labels[1][value]": "page",
  });
  assert.equal(twice.status, 400);
  assert.match(JSON.stringify(twice.json), /the name \\"severity\\" is given twice/);

  // The live check's other problems show under the field at fault, which they mark: the
  // "For", and an annotation's template at its own row (they all showed under Description).
  await named.fill("team");
  const duration = page.locator("main input[name=duration]");
  const previousFor = await duration.inputValue();
  await duration.fill("10x");
  await page.locator("label.field:has(input[name=duration]) small.field-error", { hasText: "is not a duration" }).waitFor();
  assert.equal(await duration.getAttribute("aria-invalid"), "true");
  await duration.fill(previousFor || "5m");
  await page.locator("fieldset.pairs button:has-text('Add annotation')").click();
  const note = page.locator("fieldset.pairs div.pair").last();
  await note.locator("input").first().fill("summary");
  await note.locator("input").nth(1).fill("{{ $labels.instance ");
  await note.locator("small.field-error", { hasText: "unclosed action" }).waitFor();
  assert.equal(await note.locator("input").nth(1).getAttribute("aria-invalid"), "true");
  await note.locator("input").nth(1).fill("{{ $labels.instance }} is down");
  await note.locator("small.field-error", { hasText: "unclosed action" }).waitFor({ state: "detached" });

  // The rule page: the family tree, the history, and a restore of the first version.
  await open(page, base + "/rule/1");
  await page.locator("ul.tree a", { hasText: "InstanceDown_web" }).waitFor();
  await page.getByText("Updated rule InstanceDown").waitFor();
  // Deleting it asks, and says what happens to the override: it stays (the backend keeps
  // overrides as rules of their own; the question said they went).
  await page.click("button:has-text('Delete this rule')");
  await page.getByText("Delete the rule InstanceDown? Its override stays, as a rule of its own.").waitFor();
  await page.keyboard.press("Escape");

  // A recording rule: the alert's "For" (filled in for alerts) goes away with the kind.
  await open(page, `${base}/rule/new?owner=service&id=${serviceId}`);
  // Nothing typed yet: no error is shown, and Save says why it waits.
  await page.waitForFunction(() => document.querySelector("button[title]")?.textContent.includes("Save rule"));
  assert.equal(await page.locator("button:has-text('Save rule')").isDisabled(), true);
  assert.equal(await page.locator(".expr-error").count(), 0);
  // Rows are named by their place: after the first of two annotations is removed, the second
  // (now first) keeps what it held, not the removed row's values (a reviewer's).
  const annotations = page.locator("fieldset", { hasText: "Annotations" });
  const before = await annotations.locator("div.pair").count();
  await page.click("button:has-text('Add annotation')");
  const added = annotations.locator("div.pair").nth(before);
  await added.locator("input").first().fill("summary");
  await added.locator("input").nth(1).fill("TEMP NOTE");
  await page.click("button:has-text('Add annotation')");
  await added.getByRole("button", { name: /^Remove annotation/ }).click();
  const left = annotations.locator("div.pair").nth(before);
  assert.equal(await left.locator("input").first().inputValue(), "");
  assert.equal(await left.locator("input").nth(1).inputValue(), "");
  await left.getByRole("button", { name: /^Remove annotation/ }).click();
  assert.equal(await annotations.locator("div.pair").count(), before);
  await page.selectOption("select[name=kind]", "record");
  await page.fill("input[name=name]", "job:up:sum");
  await retype(page, "sum by (job) (up)");
  await page.getByTestId("yaml").filter({ hasText: "record: job:up:sum" }).waitFor();
  await page.click("button:has-text('Save rule')");
  await page.waitForURL(/\/rule\/\d+$/);
  assert.match(await (await fetch(base + "/api/v1/rules")).text(), /record: job:up:sum\n/);

  // A rule file imported on the service page: the list shows the new rule, and the report
  // stays in view (the list drawn again closed the disclosure around it: a reviewer's).
  await open(page, `${base}/service/${serviceId}`);
  await page.click("summary:has-text('Import a Prometheus rule file')");
  await page.fill(
    "details.import textarea[name=rules]",
    "groups:\n- name: disks\n  rules:\n  - alert: DiskFull\n    expr: node_filesystem_avail_bytes == 0\n",
  );
  await page.click("button:has-text('Import rules')");
  await page.locator("#rules tr", { hasText: "DiskFull" }).waitFor();
  await page.locator("details.import pre.report").waitFor({ state: "visible" });

  // Typed on a slow connection before the page became interactive: the editor reads it.
  const slow = await env.context();
  await login(slow, base);
  await slow.route("**/*.wasm", async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await slow.goto(`${base}/rule/new?owner=service&id=${serviceId}`);
  await slow.fill("input[name=name]", "EarlyBird");
  await slow.fill("textarea[name=expr]", "up == 0");
  await slow.waitForSelector("html[data-hydrated=true]");
  await slow.getByTestId("yaml").filter({ hasText: "alert: EarlyBird" }).waitFor();
  assert.equal(await slow.locator("button:has-text('Save rule')").isDisabled(), false);
  assert.deepEqual(env.errors, []);
});

test("the editor's engine time per keystroke, with 1,000 overrides", async () => {
  const services = 1000;
  const seed = [{ model: "sites.site", pk: 1, fields: { domain: "promgen.example.com", name: "bench" } }];
  seed.push({
    model: "promgen.rule",
    pk: 1,
    fields: { content_type: ["promgen", "site"], object_id: 1, name: "Common", clause: "up{<exclude>} == 0", duration: "5m", enabled: true },
  });
  for (let i = 1; i <= services; i++) {
    seed.push({ model: "promgen.service", pk: i, fields: { name: `service-number-${i}` } });
    seed.push({
      model: "promgen.rule",
      pk: i + 1,
      fields: {
        content_type: ["promgen", "service"],
        object_id: i,
        name: `Common_service_number_${i}`,
        clause: `up{service="service-number-${i}",<exclude>} == 0 unless on() vector(1)`,
        duration: "5m",
        enabled: true,
        parent: 1,
      },
    });
  }
  const env = await start({ seed });
  envs.push(env);
  const { page, base } = env;
  await login(page, base);
  await open(page, base + "/rule/1/edit");
  const expansion = page.getByTestId("expansion");
  await expansion.filter({ hasText: "service-number-1000" }).waitFor();

  const typed = " and on() vector(1)";
  const expr = page.locator("textarea[name=expr]");
  await expr.click();
  await page.keyboard.press("End");
  const times = [];
  for (const key of typed) {
    await page.keyboard.type(key);
    times.push(Number(await page.locator("aside.preview").getAttribute("data-compute-ms")));
  }
  await expansion.filter({ hasText: '"} == 0 and on() vector(1)' }).waitFor();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(
    `rule editor, 1,000 overrides: engine ${at(0.5).toFixed(3)} ms median, ${at(0.95).toFixed(3)} ms p95, ` +
      `${times[times.length - 1].toFixed(3)} ms max over ${times.length} keystrokes ` +
      `(expansion ${(await expansion.textContent()).length} characters)`,
  );
  assert.equal(times.length, typed.length);
  assert.deepEqual(env.errors, []);
});
