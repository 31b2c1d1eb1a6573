// Every page, as a site admin and logged out, at 1280 and 390 px wide: no page scrolls sideways,
// axe-core finds no serious or critical accessibility violation, and the console stays quiet
// (the harness fails a test on any warning or error). A full-page screenshot of each is kept in
// end2end/artifacts/ (PROMGEN_E2E_ARTIFACTS elsewhere) for a person to look at.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { start, open, login, apiLogin, api, ADMIN_PASSWORD } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.PROMGEN_E2E_ARTIFACTS ?? resolve(here, "../artifacts");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const envs = [];
after(async () => {
  for (const e of envs) await e.stop();
});

/// Promgen dumpdata: one of every kind of object a page shows.
const seed = [
  { model: "sites.site", pk: 1, fields: { domain: "promgen.example.com", name: "pages" } },
  { model: "promgen.shard", pk: 1, fields: { name: "shard-a", url: "http://127.0.0.1:9", proxy: true, enabled: true } },
  { model: "promgen.service", pk: 1, fields: { name: "web", description: "The web tier, with a long description that must wrap on a phone instead of pushing the page sideways." } },
  { model: "promgen.project", pk: 1, fields: { name: "frontend-servers-with-a-long-name", service: 1, shard: 1 } },
  { model: "promgen.farm", pk: 1, fields: { name: "web-farm", source: "promgen", project: 1 } },
  { model: "promgen.host", pk: 1, fields: { name: "web-001.example.com", farm: 1 } },
  { model: "promgen.host", pk: 2, fields: { name: "web-002.example.com", farm: 1 } },
  { model: "promgen.exporter", pk: 1, fields: { project: 1, job: "node", port: 9100, path: "/metrics" } },
  { model: "promgen.probe", pk: 1, fields: { module: "http_2xx" } },
  { model: "promgen.url", pk: 1, fields: { project: 1, probe: 1, url: "https://web.example.com/a/rather/long/path/to/check?with=query&and=more" } },
  {
    model: "promgen.rule",
    pk: 1,
    fields: { content_type: ["promgen", "site"], object_id: 1, name: "HighLatency", clause: 'histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{<exclude>}[5m])) > 1', duration: "5m", enabled: true, labels: { severity: "warning" }, annotations: { summary: "p99 latency above 1 s on {{ $labels.instance }}" } },
  },
  {
    model: "promgen.rule",
    pk: 2,
    fields: { content_type: ["promgen", "service"], object_id: 1, name: "HighLatency_web", clause: 'histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{service="web",<exclude>}[5m])) > 2', duration: "10m", enabled: true, parent: 1 },
  },
];

function alertPayload() {
  const labels = { alertname: "HighLatency", service: "web", project: "frontend-servers-with-a-long-name", severity: "warning", instance: "web-001.example.com:9100" };
  return {
    version: "4",
    groupKey: '{}:{alertname="HighLatency"}',
    status: "firing",
    receiver: "promgen",
    groupLabels: { alertname: "HighLatency" },
    commonLabels: labels,
    commonAnnotations: { summary: "p99 latency above 1 s" },
    externalURL: "http://alertmanager.example",
    alerts: [
      {
        status: "firing",
        labels,
        annotations: { summary: "p99 latency above 1 s", runbook: "https://wiki.example.com/runbooks/latency", dashboard: "javascript:alert(1)" },
        startsAt: new Date(Date.now() - 7 * 60_000).toISOString(),
        endsAt: "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.example/graph",
        fingerprint: "0123456789abcdef",
      },
    ],
  };
}

/// Runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP
/// does not govern) and returns the serious and critical violations, one line each.
async function accessibility(page) {
  await page.evaluate(`${axeSource};0`);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(", ")}`);
}

/// The page's widest overflow past the viewport, in CSS pixels (0 when nothing scrolls sideways),
/// with the element that sticks out furthest.
async function sideways(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const over = document.documentElement.scrollWidth - width;
    if (over <= 0) return null;
    let worst = null;
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      // Inside a scrolling container it scrolls there, not the page.
      let p = el.parentElement, clipped = false;
      for (; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden") { clipped = true; break; }
      }
      if (!clipped && r.right > width && (!worst || r.right > worst.right)) worst = { right: r.right, tag: el.tagName.toLowerCase(), cls: el.className, text: (el.textContent ?? "").slice(0, 40) };
    }
    return { over, worst };
  });
}

test("every page: usable at 1280 and 390 px, accessible, and quiet in the console", async () => {
  const env = await start({ seed, args: ["--notifier-allow-private"] });
  envs.push(env);
  const { base, page } = env;
  const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);

  // What the pages show: an alert (posted as Alertmanager does), a group, a second user,
  // a notifier and an audit trail.
  const token = await api(base, cookie, "create_token", { name: "alertmanager" });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  const posted = await fetch(base + "/api/v1/alerts", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Token ${token.json[1]}` },
    body: JSON.stringify(alertPayload()),
  });
  assert.equal(posted.status, 202);
  assert.equal((await api(base, cookie, "create_group", { name: "web-team" })).status, 200);

  mkdirSync(artifacts, { recursive: true });
  const pages = [
    ["home", "/"],
    ["service", "/service/1"],
    ["project", "/project/1"],
    ["host", "/host/web-001.example.com"],
    ["search", "/search?q=web"],
    ["shards", "/shard"],
    ["shard", "/shard/1"],
    ["probes", "/probe"],
    ["site", "/site"],
    ["rule", "/rule/1"],
    ["rule-edit", "/rule/2/edit"],
    ["rule-new", "/rule/new?owner=service&id=1"],
    ["rule-override", "/rule/1/override?owner=project&id=1"],
    ["alerts", "/alert"],
    ["alert", "/alert/1"],
    ["alert-history", "/alert/history"],
    ["silences", "/silence"],
    ["audit", "/audit"],
    ["import", "/import"],
    ["groups", "/group"],
    ["group", "/group/1"],
    ["users", "/user"],
    ["profile", "/profile"],
  ];
  const problems = [];
  await login(page, base);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    for (const [name, path] of pages) {
      await open(page, base + path);
      await page.waitForLoadState("networkidle");
      const over = await sideways(page);
      if (over) problems.push(`${path} at ${width} px scrolls sideways by ${over.over} px (${JSON.stringify(over.worst)})`);
      for (const v of await accessibility(page)) problems.push(`${path} at ${width} px: ${v}`);
      await page.screenshot({ path: join(artifacts, `${name}-${width}.png`), fullPage: true });
    }
  }
  // The phone menu: a drop-down that closes when a page is chosen (also the one shown), on a
  // click outside it and on Escape.
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, base + "/audit");
  const menu = page.locator("details.menu");
  const isOpen = () => menu.evaluate((d) => d.open);
  for (const [how, act] of [
    ["a page chosen", () => page.click("nav.links a:has-text('Alerts')")],
    ["the page shown chosen", () => page.click("nav.links a:has-text('Alerts')")],
    ["a click outside", () => page.mouse.click(200, 820)],
    ["Escape", () => page.keyboard.press("Escape")],
  ]) {
    await page.click("summary:has-text('Menu')");
    assert.equal(await isOpen(), true, how);
    await act();
    await page.waitForFunction(() => !document.querySelector("details.menu").open);
  }

  // The alert page leads to the alert's service and project, and to the http(s) URLs among its
  // annotations; nothing else from a payload becomes a link.
  await open(page, base + "/alert/1");
  const links = page.getByTestId("alert-links");
  await links.locator('a[href="/service/1"]', { hasText: "service web" }).waitFor();
  await links.locator('a[href="/project/1"]').waitFor();
  await links.locator('a[href="https://wiki.example.com/runbooks/latency"]', { hasText: "runbook (wiki.example.com)" }).waitFor();
  assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);

  // Without an Alertmanager the silence form cannot succeed: its button says so first.
  await open(page, base + "/silence");
  await page.locator("main form button[type=submit]:disabled", { hasText: "Silence" }).waitFor();
  await page.locator("main form p.muted", { hasText: "No Alertmanager is configured" }).waitFor();

  // The warning that links point elsewhere goes as soon as the site's address is set right
  // (it stayed until a reload: a reviewer's).
  await page.setViewportSize({ width: 1280, height: 900 });
  await open(page, base + "/site");
  const warning = page.getByTestId("address-warning");
  await warning.waitFor();
  await page.click("summary:has-text('Site address')");
  await page.fill("main input[name=domain]", new URL(base).host);
  await page.click("details:has(summary:has-text('Site address')) button:has-text('Save')");
  await warning.waitFor({ state: "detached" });

  // One action serves the filter form of every notifier row: a refusal goes to the field of
  // the row that was sent, not to the first form before the message (a reviewer's).
  for (const value of ["first@example.com", "second@example.com"]) {
    const made = await api(base, cookie, "create_notifier", { owner_kind: "service", owner_id: "1", kind: "email", value });
    assert.equal(made.status, 200, JSON.stringify(made.json));
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  env.expectConsole(/status of 400 /);
  await open(page, base + "/service/1");
  const second = page.locator("#notifiers tr", { hasText: "second@example.com" });
  await second.getByRole("button", { name: "Add filter" }).click();
  const name = second.locator('input[name="name"]');
  await page.waitForFunction((input) => input.getAttribute("aria-invalid") === "true", await name.elementHandle());
  await second.locator(".field-error", { hasText: "is required" }).waitFor();
  assert.equal(await page.locator('#notifiers tr input[aria-invalid="true"]').count(), 1);
  await name.fill("severity");
  await second.locator('input[name="value"]').fill("page");
  await second.getByRole("button", { name: "Add filter" }).click();
  await second.locator(".chip", { hasText: "severity=page" }).waitFor();
  // Two rows' posts overlapping: the first row's (refused, answered slowly) and the second's
  // (added, answered at once, the list drawn again). The refusal goes to the first row's field,
  // not to the row sent last, and what the first row held is kept through the redraw.
  const first = page.locator("#notifiers tr", { hasText: "first@example.com" });
  let slowed = 0;
  await page.route("**/api/add_notifier_filter", async (route) => {
    if (/(^|&)name=(&|$)/.test(route.request().postData() ?? "")) {
      slowed++;
      await new Promise((done) => setTimeout(done, 2000));
    }
    await route.continue();
  });
  await first.locator('input[name="value"]').fill("kept");
  await first.getByRole("button", { name: "Add filter" }).click();
  await second.locator('input[name="name"]').fill("team");
  await second.locator('input[name="value"]').fill("web");
  await second.getByRole("button", { name: "Add filter" }).click();
  await second.locator(".chip", { hasText: "team=web" }).waitFor();
  await first.locator(".field-error", { hasText: "is required" }).waitFor();
  assert.equal(slowed, 1);
  assert.equal(await first.locator('input[name="name"]').getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator('#notifiers tr input[aria-invalid="true"]').count(), 1);
  assert.equal(await first.locator('input[name="value"]').inputValue(), "kept");
  assert.equal(await second.locator('input[name="name"]').inputValue(), "");
  await page.unroute("**/api/add_notifier_filter");
  // The other order: the first row's refusal came first, then the second row's change (its
  // answer replaced the action's, and the list was drawn again). The first row's message
  // stays at its field; it went with the other row's answer.
  await second.locator('input[name="name"]').fill("tier");
  await second.locator('input[name="value"]').fill("front");
  await second.getByRole("button", { name: "Add filter" }).click();
  await second.locator(".chip", { hasText: "tier=front" }).waitFor();
  await first.locator(".field-error", { hasText: "is required" }).waitFor();
  assert.equal(await first.locator('input[name="name"]').getAttribute("aria-invalid"), "true");
  assert.equal(await first.locator('input[name="value"]').inputValue(), "kept");
  // Once its field is typed into, the message is over: another redraw does not bring it back.
  await first.locator('input[name="name"]').fill("env");
  await first.locator(".field-error", { hasText: "is required" }).waitFor({ state: "detached" });
  await second.locator('input[name="name"]').fill("zone");
  await second.locator('input[name="value"]').fill("a");
  await second.getByRole("button", { name: "Add filter" }).click();
  await second.locator(".chip", { hasText: "zone=a" }).waitFor();
  assert.equal(await first.locator('input[name="name"]').inputValue(), "env");
  assert.equal(await first.locator(".field-error", { hasText: "is required" }).count(), 0);
  assert.notEqual(await first.locator('input[name="name"]').getAttribute("aria-invalid"), "true");
  // An open disclosure stays open when another row's change draws the list again, with what
  // was typed in it (it closed, and the address typed inside looked lost: a reviewer's).
  const adding = page.locator("details.add-notifier");
  await adding.locator(":scope > summary").click();
  await adding.locator('input[name="value"]').fill("third@example.com");
  await first.locator('input[name="name"]').fill("env");
  await first.locator('input[name="value"]').fill("prod");
  await first.getByRole("button", { name: "Add filter" }).click();
  await first.locator(".chip", { hasText: "env=prod" }).waitFor();
  assert.equal(await adding.evaluate((d) => d.open), true);
  assert.equal(await adding.locator('input[name="value"]').inputValue(), "third@example.com");
  // Added, the notifier is listed and the focus is on "Add a notifier", for the next one (it
  // went to the first row's filter, a field the user never was in: a reviewer's).
  await adding.getByRole("button", { name: "Add notifier" }).click();
  await page.locator("#notifiers tr", { hasText: "third@example.com" }).waitFor();
  await page.waitForFunction(() => document.activeElement?.matches("details.add-notifier > summary"));
  // A test's answer shows in the row tested, not under the table (email is off here: a refusal).
  await second.getByRole("button", { name: "Test" }).click();
  await second.locator("p.error", { hasText: "Sending a test message with email" }).waitFor();
  assert.equal(await page.locator("#notifiers p.error").count(), 1);

  // A row's refusal outside its list (the probes' messages follow the table) is placed again
  // when the list comes back drawn anew after another row's change (it went with the old one:
  // a reviewer's).
  const probeIds = {};
  for (const module of ["tcp_connect", "icmp"]) {
    const made = await api(base, cookie, "create_probe", { module, description: "" });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    probeIds[module] = made.json.id;
  }
  env.expectConsole(/status of 409 /);
  await open(page, base + "/probe");
  const probeRow = (module) => page.locator("table.probes tr", { has: page.locator(`td > code:text-is("${module}")`) });
  const refused = probeRow("tcp_connect");
  await refused.locator("summary", { hasText: "Edit" }).click();
  await refused.locator("input[name=module]").fill("icmp");
  await refused.getByRole("button", { name: "Save" }).click();
  await refused.locator(".field-error", { hasText: "exists already" }).waitFor();
  const other = probeRow("http_2xx");
  const describe = async (text) => {
    if (!(await other.locator("details.edit-probe").evaluate((d) => d.open))) await other.locator("summary", { hasText: "Edit" }).click();
    await other.locator("input[name=description]").fill(text);
    await other.getByRole("button", { name: "Save" }).click();
    await other.locator("td", { hasText: text }).first().waitFor();
    await page.waitForTimeout(300);
  };
  await describe("HTTP 2xx");
  // The saved row says so in its disclosure, open again in the list drawn anew; the refused
  // row does not.
  await other.locator("details.edit-probe[open] [role=status]", { hasText: "Saved." }).waitFor();
  assert.equal(await refused.getByText("Saved.").count(), 0);
  await refused.locator(".field-error", { hasText: "exists already" }).waitFor();
  assert.equal(await refused.locator("input[name=module]").inputValue(), "icmp");
  assert.equal(await page.getByText("exists already").count(), 1);
  // A refused row deleted: its message goes with it, not left under the table.
  assert.equal((await api(base, cookie, "delete_probe", { id: String(probeIds.tcp_connect) })).status, 200);
  await describe("HTTP 2xx, again");
  await refused.waitFor({ state: "detached" });
  assert.equal(await page.getByText("exists already").count(), 0);

  // A refusal sent back in the address (a form posted without JavaScript) shows on its page,
  // and not again on that page reached later by links (the router kept it for the tab's life).
  const session = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const refusedPost = await fetch(base + "/api/create_service", {
    method: "POST",
    redirect: "manual",
    headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded", referer: base + "/", origin: base, cookie: session },
    body: "name=web&description=",
  });
  assert.equal(refusedPost.status, 302);
  env.expectConsole(/status of 409 /);
  await open(page, new URL(refusedPost.headers.get("location"), base).href);
  await page.locator("main .field-error", { hasText: "exists already" }).waitFor();
  await page.click("header a:text-is('Shards')");
  await page.locator("main h1", { hasText: "Shards" }).waitFor();
  await page.click("header a.brand");
  await page.waitForURL(base + "/");
  await page.locator("main h1").first().waitFor();
  assert.equal(await page.getByText("exists already").count(), 0);

  // Search finds rules and blackbox URLs too, not only services, projects and hosts.
  await open(page, base + "/search?q=rather/long");
  await page.locator("li", { hasText: "URL" }).locator("a", { hasText: "web.example.com/a/rather/long" }).waitFor();
  await open(page, base + "/search?q=highlatency");
  await page.locator("li", { hasText: "of the site" }).locator("a", { hasText: "HighLatency" }).waitFor();
  await page.locator("li", { hasText: "of the service web" }).locator("a", { hasText: "HighLatency_web" }).waitFor();
  // The header's box searches from any page, within the page (no full load), the query encoded.
  await page.evaluate(() => (window.__samePage = true));
  await page.getByRole("searchbox", { name: "Search" }).fill("rather/long & more");
  await page.keyboard.press("Enter");
  await page.waitForURL(base + "/search?q=rather%2Flong+%26+more");
  await page.locator("main h1", { hasText: "Search: rather/long & more" }).waitFor();
  assert.equal(await page.evaluate(() => window.__samePage), true, "the search reloaded the page");
  // A GET form's box follows the URL, also once typed in (after Back it showed what was typed
  // last; a reviewer's).
  await open(page, base + "/user");
  const find = page.getByRole("searchbox", { name: "Find users" });
  await find.fill("adm");
  await find.press("Enter");
  await page.waitForURL(base + "/user?q=adm");
  await find.fill("zzz");
  await find.press("Enter");
  await page.waitForURL(base + "/user?q=zzz");
  await page.goBack();
  await page.waitForURL(base + "/user?q=adm");
  await page.waitForFunction(() => document.querySelector("main input[name=q]").value === "adm");
  // A site admin adds a user there: the list shows them, the form is empty again (the password
  // too), and the page says what to do next.
  await open(page, base + "/user");
  await page.fill("main input[name=username]", "newcomer");
  await page.fill("main input[name=email]", "newcomer@example.com");
  await page.fill("main input[name=password]", "long-enough-pw");
  await page.click("main button:has-text('Add user')");
  await page.getByRole("status").filter({ hasText: "Added newcomer." }).waitFor();
  await page.locator("main td", { hasText: "newcomer@example.com" }).waitFor();
  assert.equal(await page.inputValue("main input[name=password]"), "");
  // Leaving the search page by links (from the silences, a search, a host, its service) left
  // its title asking for a query that was gone: a panic that killed the page (a reviewer's).
  await open(page, base + "/");
  await page.click("header a:text-is('Silences')");
  await page.locator("main h1", { hasText: "Silences" }).waitFor();
  await page.getByRole("searchbox", { name: "Search" }).fill("web-001.example.com");
  await page.keyboard.press("Enter");
  await page.locator("main a[href='/host/web-001.example.com']").click();
  await page.locator("main h1", { hasText: "Host web-001.example.com" }).waitFor();
  // A site admin silences the host everywhere, or in one of its projects (what an Editor
  // there may).
  const matchers = async (link) => new URL(await link.getAttribute("href"), base).searchParams.get("matchers");
  const everywhere = page.locator("main a.button:not(table a)", { hasText: "Silence" });
  // As amtool writes a value: a backslash doubled.
  assert.equal(await matchers(everywhere), String.raw`instance=~"web-001\\.example\\.com:[0-9]*"`);
  const inProject = page.locator("main tbody tr").first().locator("a.button", { hasText: "Silence" });
  assert.match(await matchers(inProject), /^project="[^"]+", instance=~"web-001\\\\\.example\\\\\.com:\[0-9\]\*"$/);
  await page.locator("main a[href='/service/1']").first().click();
  await page.locator("main h1", { hasText: "Service web" }).waitFor();

  // Logged out: the login page.
  const anon = await env.context();
  for (const width of [1280, 390]) {
    await anon.setViewportSize({ width, height: 844 });
    await open(anon, base + "/login");
    const over = await sideways(anon);
    if (over) problems.push(`/login at ${width} px scrolls sideways by ${over.over} px`);
    for (const v of await accessibility(anon)) problems.push(`/login at ${width} px: ${v}`);
    await anon.screenshot({ path: join(artifacts, `login-${width}.png`), fullPage: true });
  }
  // A page that needs a login sends there and comes back after it; the header follows.
  await anon.setViewportSize({ width: 1280, height: 900 });
  await anon.goto(base + "/project/1");
  await anon.waitForURL(/\/login\?next=%2Fproject%2F1$/);
  await anon.waitForSelector("html[data-hydrated=true]");
  await anon.fill("input[name=username]", "admin");
  await anon.fill("input[name=password]", ADMIN_PASSWORD);
  await anon.click("main button:has-text('Log in')");
  await anon.waitForURL(base + "/project/1");
  await anon.locator("header a.user", { hasText: "admin" }).waitFor();
  // Logging out once the page has loaded, as a person would (a logout that races the page's
  // own requests has the browser log their 401s).
  await anon.locator("main h1", { hasText: "Project" }).waitFor();
  await anon.waitForLoadState("networkidle");
  // A session that ends while a form is filled: the refusal offers a login in a new tab, and
  // what was typed stays, to send again.
  env.expectConsole(/status of 401 /);
  const cookies = await anon.context().cookies();
  await anon.context().clearCookies();
  await anon.fill("#exporters input[name=job]", "after-logout");
  await anon.fill("#exporters input[name=port]", "9999");
  await anon.click("#exporters button:has-text('Add exporter')");
  const relogin = anon.locator("#exporters a", { hasText: "log in in a new tab" });
  await relogin.waitFor();
  assert.equal(await relogin.getAttribute("href"), "/login?next=%2Fproject%2F1");
  assert.equal(await relogin.getAttribute("target"), "_blank");
  assert.equal(await anon.inputValue("#exporters input[name=job]"), "after-logout");
  await anon.context().addCookies(cookies);
  // Logging out: the header says so at once.
  await anon.click("header button:has-text('Log out')");
  await anon.waitForURL(/\/login/);
  await anon.locator("header a", { hasText: "Log in" }).waitFor();
  // A visitor is shown the way in, not links to pages that all ask for a login.
  assert.deepEqual(await anon.locator("nav.links a").allTextContents(), ["Log in"]);
  await anon.locator("header a.user").waitFor({ state: "detached" });
  // An admin-only page with a form sends a visitor to log in before anything is typed.
  await anon.goto(base + "/import");
  await anon.waitForURL(/\/login\?next=%2Fimport$/);

  assert.deepEqual(problems, []);
  assert.deepEqual(env.errors, []);
});
