// The whole loop with the real programs: a Prometheus (Debian's 2.42) that discovers its
// targets from Promgen-rs over http_sd and loads the rules the push agent writes, an
// Alertmanager (Debian's 0.25) whose webhook points at Promgen-rs, a webhook receiver standing
// for the person told, and Chromium. A project scrapes Promgen-rs' own /metrics and a node
// exporter that is down; the default InstanceDown rule fires, the notifier is told, the alert
// shows on the live page; a silence made there mutes the next notification; expired, the
// group is told again; the exporter comes up and the alert resolves.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { start, open, login, caller, apiLogin, freePort, receiver, plainLogin, ADMIN_PASSWORD } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/// Starts `cmd` and stops it (SIGTERM) when the test ends.
function run(cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  cleanups.push(() => new Promise((ok) => (child.exitCode !== null ? ok() : (child.once("exit", ok), child.kill("SIGTERM")))));
  return child;
}

async function until(what, check, seconds = 60) {
  let last = "";
  for (let i = 0; i < seconds * 5; i++) {
    try {
      if (await check()) return;
    } catch (e) {
      last = `: ${e}`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last}`);
}

const json = async (url) => (await fetch(url)).json();

test("Prometheus and Alertmanager in the loop: a target goes down, a person is told and silences it, it comes back up", async (t) => {
  const hook = await receiver();
  cleanups.push(hook.close);
  const bodies = hook.bodies;

  const [promPort, amPort, deadPort] = [await freePort(), await freePort(), await freePort()];
  const prom = `http://127.0.0.1:${promPort}`;
  const am = `http://127.0.0.1:${amPort}`;
  const env = await start({ args: ["--notifier-allow-private", "--alertmanager-url", am] });
  cleanups.push(() => env.stop());
  const { page, base } = env;
  const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);
  const call = caller(base, cookie);

  // What Prometheus scrapes: Promgen-rs' own /metrics, a node exporter where nothing listens
  // yet, and who is told.
  await call("create_shard", { name: "main", url: prom, proxy: "on", samples: "1000", targets: "100" });
  const service = await call("create_service", { name: "web", description: "" });
  const shards = await call("list_shards", {});
  const project = await call("create_project", { service_id: service.id, name: "shop", description: "", shard_id: shards[0].shard.id });
  await call("create_farm", { project_id: project.id, name: "shop", hosts: "localhost" });
  await call("create_exporter", { project_id: project.id, job: "node", port: String(deadPort), path: "", scheme: "http" });
  await call("create_exporter", { project_id: project.id, job: "promgen", port: new URL(base).port, path: "/metrics", scheme: "http" });
  await call("create_notifier", {
    owner_kind: "project", owner_id: project.id, kind: "webhook",
    value: hook.url, alias: "", subject_template: "", body_template: "",
  });
  const [, key] = await call("create_token", { name: "alertmanager and agent" });

  // The real programs.
  const dir = mkdtempSync(join(tmpdir(), "promgen-loop-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "promgen.rules.yml"), "groups: []\n");
  writeFileSync(join(dir, "prometheus.yml"), [
    "global: {scrape_interval: 1s, evaluation_interval: 1s}",
    `rule_files: ['${join(dir, "promgen.rules.yml")}']`,
    "alerting:",
    "  alertmanagers:",
    `  - static_configs: [{targets: ['127.0.0.1:${amPort}']}]`,
    "scrape_configs:",
    "- job_name: promgen",
    "  http_sd_configs:",
    `  - url: ${base}/api/v1/targets?shard=main`,
    "    refresh_interval: 1s",
  ].join("\n") + "\n");
  writeFileSync(join(dir, "alertmanager.yml"), [
    "route: {receiver: promgen, group_by: [alertname, service, project], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}",
    "receivers:",
    "- name: promgen",
    "  webhook_configs:",
    `  - url: ${base}/api/v1/alerts`,
    "    send_resolved: true",
    `    http_config: {authorization: {type: Token, credentials: ${key}}}`,
  ].join("\n") + "\n");
  run("prometheus-alertmanager", [`--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "am")}`,
    `--web.listen-address=127.0.0.1:${amPort}`, "--cluster.listen-address=", "--log.level=error"]);
  // A reload rediscovers the Alertmanagers, and an alert that fires meanwhile is dropped until
  // the next resend (1 minute by default): resend every 2 s here.
  run("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${promPort}`, "--web.enable-lifecycle", "--rules.alert.resend-delay=2s",
    "--log.level=error"]);
  run(process.env.PROMGEN_BIN ?? join(root, "target/debug/promgen"), ["agent", "--server-url", base, "--shard", "main",
    "--rules", join(dir, "promgen.rules.yml"), "--prometheus-url", prom, "--name", `127.0.0.1:${promPort}`],
    { PROMGEN_AGENT_TOKEN: key, RUST_LOG: "error" });
  await until("Prometheus discovers the target over http_sd", async () =>
    (await json(`${prom}/api/v1/targets`)).data.activeTargets.some((x) => x.labels.project === "shop" && x.health === "down"));

  // The default InstanceDown rule, its `for:` shortened as the editor saves it, reaches
  // Prometheus through the agent.
  const site = await call("owner_rules", { owner_kind: "site", owner_id: 1 });
  const rule = site.own.find((r) => r.name === "InstanceDown");
  const saved = Date.now();
  await call("save_rule", {
    id: rule.id, owner_kind: "site", owner_id: 1, kind: "alert", name: "InstanceDown", expr: rule.expr,
    duration: "1s", description: "", enabled: "on", "labels[0][key]": "severity", "labels[0][value]": "critical",
  });
  await until("Prometheus loads the rule with its new for:", async () =>
    (await json(`${prom}/api/v1/rules`)).data.groups.some((g) => g.rules.some((r) => r.name === "InstanceDown" && r.duration === 1)));
  t.diagnostic(`rule saved -> loaded by Prometheus (agent, reload): ${Date.now() - saved} ms`);
  await until("the shard page's agent state", async () => {
    const agents = await call("shard_agents", { id: shards[0].shard.id });
    return agents.length === 1 && agents[0].state === "in sync";
  });

  // It fires; Alertmanager posts it to Promgen-rs, which tells the project's notifier.
  await until("Prometheus fires the alert", async () =>
    (await json(`${prom}/api/v1/alerts`)).data.alerts.some((a) => a.labels.alertname === "InstanceDown" && a.state === "firing"));
  await until("Alertmanager holds it", async () =>
    (await json(`${am}/api/v2/alerts`)).some((a) => a.labels.alertname === "InstanceDown"));
  await until("Promgen-rs' own /metrics is up", async () =>
    (await json(`${prom}/api/v1/query?query=up{job="promgen"}`)).data.result[0].value[1] === "1");
  await login(page, base);
  await open(page, base + "/alert");
  const row = page.locator("tr[data-alert=InstanceDown]");
  await row.locator("td.state", { hasText: "firing" }).waitFor({ timeout: 60000 });
  t.diagnostic(`rule saved -> alert on the live page: ${Date.now() - saved} ms`);
  await until("the webhook receiver", () => bodies.some((b) => b.alerts?.[0]?.labels?.alertname === "InstanceDown"));
  const told = bodies.find((b) => b.alerts?.[0]?.labels?.alertname === "InstanceDown");
  assert.equal(told.alerts[0].labels.project, "shop");
  assert.equal(told.alerts[0].labels.service, "web");
  assert.equal(told.alerts[0].labels.job, "node");

  // The project page counts its exporter's targets up through the query proxy.
  await open(page, base + `/project/${project.id}`);
  await page.locator("#exporters tr", { hasText: "node" }).locator("td.up", { hasText: "0/1 up" }).waitFor();
  await page.locator("#exporters tr", { hasText: "promgen" }).locator("td.up", { hasText: "1/1 up" }).waitFor();

  // Silence it from the alert's row: the form comes prefilled, Alertmanager takes it.
  await open(page, base + "/alert");
  await row.locator("a", { hasText: "Silence" }).click();
  await page.waitForURL(/\/silence\?matchers=/);
  await page.waitForSelector("html[data-hydrated=true]");
  assert.match(await page.locator("input[name=matchers]").inputValue(), /alertname="InstanceDown", service="web"/);
  await page.fill("input[name=duration]", "1h30m");
  await page.fill("input[name=comment]", "replacing the disk");
  await page.click("button:has-text('Silence')");
  await page.getByText('Silenced the alerts matching alertname="InstanceDown"').waitFor();
  await page.locator("td", { hasText: "replacing the disk" }).waitFor();
  // Made, the mute button's matchers are not offered again (a second click made a twin).
  await page.waitForFunction(() => document.querySelector("input[name=matchers]").value === "");
  assert.equal(new URL(page.url()).search, "");
  // A silence made and expired on the same page: "Silenced …" goes with it.
  await page.fill("input[name=matchers]", 'alertname="NothingFires"');
  await page.fill("input[name=comment]", "made by mistake");
  await page.click("button:has-text('Silence')");
  await page.locator("tr", { hasText: "made by mistake" }).locator("button:has-text('Expire')").click();
  await page.locator("button:has-text('Yes, expire')").click();
  await page.locator("td", { hasText: "made by mistake" }).waitFor({ state: "detached" });
  assert.equal(await page.getByText("Silenced the alerts").count(), 0);

  // From and Until are the reader's time: in New York, July's 09:00 is 13:00 UTC (EDT, -4),
  // although December's offset (EST, -5) is the one the browser has now.
  const ny = await env.context({ timezoneId: "America/New_York" });
  await login(ny, base);
  await open(ny, base + "/silence");
  await ny.getByText("From (America/New_York; empty: now)").waitFor();
  await ny.fill("input[name=matchers]", 'alertname="Summer"');
  await ny.fill("input[name=starts_at]", "2030-07-01T09:00");
  await ny.fill("input[name=ends_at]", "2030-07-01T17:30");
  await ny.fill("input[name=comment]", "summer maintenance");
  await ny.click("button:has-text('Silence')");
  const summerMade = ny.getByText('Silenced the alerts matching alertname="Summer"');
  await summerMade.waitFor();
  // Confirmed in the reader's time as it was typed, with the zone's name (it said UTC).
  const said = await summerMade.textContent();
  assert.match(said, /9:00:00.*EDT until .*5:30:00.*EDT\./, said);
  const summer = (await json(`${am}/api/v2/silences`)).find((s) => s.comment === "summer maintenance");
  assert.equal(new Date(summer.startsAt).toISOString(), "2030-07-01T13:00:00.000Z");
  assert.equal(new Date(summer.endsAt).toISOString(), "2030-07-01T21:30:00.000Z");
  await ny.locator("tr", { hasText: "summer maintenance" }).locator("button:has-text('Expire')").click();
  await ny.locator("button:has-text('Yes, expire')").click();
  await ny.locator("td", { hasText: "summer maintenance" }).waitFor({ state: "detached" });
  await ny.context().close();
  // Without JavaScript the form posts itself and the browser comes to /silence, not back to
  // the mute button's address: its matchers are not offered again, and the table lists it.
  const plain = await env.context({ javaScriptEnabled: false });
  await plainLogin(plain, base);
  await plain.goto(`${base}/silence?matchers=${encodeURIComponent('alertname="Plain", service="web"')}`);
  assert.equal(await plain.locator("input[name=matchers]").inputValue(), 'alertname="Plain", service="web"');
  await plain.fill("input[name=comment]", "made without JavaScript");
  await plain.click("button:has-text('Silence')");
  await plain.waitForURL(`${base}/silence`);
  assert.equal(await plain.locator("input[name=matchers]").inputValue(), "");
  // Expired there too, through the question a confirm button is without JavaScript.
  const plainRow = plain.locator("tr", { hasText: "made without JavaScript" });
  await plainRow.locator("summary:has-text('Expire')").click();
  await plainRow.locator("button:has-text('Yes, expire')").click();
  await plain.locator("td", { hasText: "made without JavaScript" }).waitFor({ state: "detached" });
  await plain.context().close();
  await until("Alertmanager suppresses the alert", async () => {
    const alerts = await json(`${am}/api/v2/alerts`);
    return alerts.some((a) => a.labels.alertname === "InstanceDown" && a.status.state === "suppressed");
  });
  const silences = await json(`${am}/api/v2/silences`);
  const made = silences.find((s) => s.comment === "replacing the disk");
  assert.equal(made.createdBy, "admin");
  // Alertmanager moves a start in the past to now: within a second of 1h30m.
  assert.ok(Math.abs((Date.parse(made.endsAt) - Date.parse(made.startsAt)) / 1000 - 5400) < 1);

  // The alerts page shows what Alertmanager holds, silenced.
  await open(page, base + "/alert");
  await page.locator("section", { hasText: "Held by Alertmanager now" }).locator("td.state", { hasText: "silenced" }).waitFor();

  // The silence mutes the next notification: a second host of the farm is down too, which
  // would tell the group again.
  const toldBefore = bodies.length;
  await call("add_hosts", { farm_id: (await call("get_project", { id: project.id })).farm.id, hosts: "127.0.0.1" });
  await until("Alertmanager holds both, silenced", async () =>
    (await json(`${am}/api/v2/alerts`)).filter((a) => a.labels.alertname === "InstanceDown" && a.status.state === "suppressed").length === 2);
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(bodies.length, toldBefore, "nobody told while silenced");

  // Expired from the silences page, the group is told again, both alerts in it.
  await open(page, base + "/silence");
  await page.locator("tr", { hasText: "replacing the disk" }).locator("button:has-text('Expire')").click();
  await page.locator("button:has-text('Yes, expire')").click();
  await page.getByText("No silence is active or pending.").waitFor();
  await until("the group told again", () => bodies.slice(toldBefore).some((b) => b.status === "firing" && b.alerts.length === 2));

  // The exporter comes up: the alert resolves, live.
  const exporter = createServer((req, res) => res.end("node_up 1\n"));
  // Both loopback addresses, as `localhost` may be either.
  await new Promise((ok) => exporter.listen(deadPort, ok));
  cleanups.push(() => new Promise((ok) => exporter.close(ok)));
  await open(page, base + "/alert");
  await row.locator("td.state", { hasText: "resolved" }).waitFor({ timeout: 60000 });
  await until("the receiver told it resolved", () => bodies.some((b) => b.status === "resolved"));
  assert.deepEqual(env.errors, []);
});
