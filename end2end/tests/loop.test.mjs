// The whole loop with the real programs: a Prometheus (Debian's 2.42) that discovers its
// targets from Promgen-rs over http_sd and loads the rules the push agent writes, an
// Alertmanager (Debian's 0.25) whose webhook points at Promgen-rs, a webhook receiver standing
// for the person told, and Chromium. A target goes down, the project's rule fires, the
// notifier is told, the alert shows on the live page, and a user silences it from there.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { start, open, login, api, apiLogin, ADMIN_PASSWORD } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freePort() {
  return new Promise((ok) => {
    const s = netServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

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

test("Prometheus and Alertmanager in the loop: a target goes down, a person is told, and silences it", async (t) => {
  const bodies = [];
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise((ok) => hook.listen(0, "127.0.0.1", ok));
  cleanups.push(() => new Promise((ok) => hook.close(ok)));

  const [promPort, amPort, deadPort] = [await freePort(), await freePort(), await freePort()];
  const prom = `http://127.0.0.1:${promPort}`;
  const am = `http://127.0.0.1:${amPort}`;
  const env = await start({ args: ["--notifier-allow-private", "--alertmanager-url", am] });
  cleanups.push(() => env.stop());
  const { page, base } = env;
  const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);
  const call = async (name, fields) => {
    const res = await api(base, cookie, name, fields);
    assert.ok(res.status < 400, `${name}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };

  // What Prometheus scrapes: a node exporter on a host where nothing listens, and who is told.
  await call("create_shard", { name: "main", url: prom, proxy: "on", samples: "1000", targets: "100" });
  const service = await call("create_service", { name: "web", description: "" });
  const shards = await call("list_shards", {});
  const project = await call("create_project", { service_id: service.id, name: "shop", description: "", shard_id: shards[0].shard.id });
  await call("create_farm", { project_id: project.id, name: "shop", hosts: "localhost" });
  await call("create_exporter", { project_id: project.id, job: "node", port: String(deadPort), path: "", scheme: "http" });
  await call("create_notifier", {
    owner_kind: "project", owner_id: project.id, kind: "webhook",
    value: `http://127.0.0.1:${hook.address().port}/hook`, alias: "", subject_template: "", body_template: "",
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

  // The project's rule, saved as the editor saves it, reaches Prometheus through the agent.
  const saved = Date.now();
  await call("save_rule", {
    owner_kind: "project", owner_id: project.id, kind: "alert", name: "ShopNodeDown",
    expr: 'up{job="node"} == 0', duration: "", description: "", enabled: "on",
  });
  await until("Prometheus loads the rule", async () =>
    JSON.stringify(await json(`${prom}/api/v1/rules`)).includes("ShopNodeDown"));
  t.diagnostic(`rule saved -> loaded by Prometheus (agent, reload): ${Date.now() - saved} ms`);
  await until("the shard page's agent state", async () => {
    const agents = await call("shard_agents", { id: shards[0].shard.id });
    return agents.length === 1 && agents[0].state === "in sync";
  });

  // It fires; Alertmanager posts it to Promgen-rs, which tells the project's notifier.
  await until("Prometheus fires the alert", async () =>
    (await json(`${prom}/api/v1/alerts`)).data.alerts.some((a) => a.labels.alertname === "ShopNodeDown" && a.state === "firing"));
  await until("Alertmanager holds it", async () =>
    (await json(`${am}/api/v2/alerts`)).some((a) => a.labels.alertname === "ShopNodeDown"));
  await login(page, base);
  await open(page, base + "/alert");
  const row = page.locator("tr[data-alert=ShopNodeDown]");
  await row.locator("td.state", { hasText: "firing" }).waitFor({ timeout: 60000 });
  t.diagnostic(`rule saved -> alert on the live page: ${Date.now() - saved} ms`);
  await until("the webhook receiver", () => bodies.some((b) => b.alerts?.[0]?.labels?.alertname === "ShopNodeDown"));
  const told = bodies.find((b) => b.alerts?.[0]?.labels?.alertname === "ShopNodeDown");
  assert.equal(told.alerts[0].labels.project, "shop");
  assert.equal(told.alerts[0].labels.service, "web");

  // The project page counts its exporter's targets up through the query proxy.
  await open(page, base + `/project/${project.id}`);
  await page.locator("#exporters td.up", { hasText: "0/1 up" }).waitFor();

  // Silence it from the alert's row: the form comes prefilled, Alertmanager takes it.
  await open(page, base + "/alert");
  await row.locator("a", { hasText: "Silence" }).click();
  await page.waitForURL(/\/silence\?matchers=/);
  await page.waitForSelector("html[data-hydrated=true]");
  assert.match(await page.locator("input[name=matchers]").inputValue(), /alertname="ShopNodeDown", service="web"/);
  await page.fill("input[name=duration]", "1h30m");
  await page.fill("input[name=comment]", "replacing the disk");
  await page.click("button:has-text('Silence')");
  await page.getByText("Silenced (").waitFor();
  await page.locator("td", { hasText: "replacing the disk" }).waitFor();
  await until("Alertmanager suppresses the alert", async () => {
    const alerts = await json(`${am}/api/v2/alerts`);
    return alerts.some((a) => a.labels.alertname === "ShopNodeDown" && a.status.state === "suppressed");
  });
  const silences = await json(`${am}/api/v2/silences`);
  const made = silences.find((s) => s.comment === "replacing the disk");
  assert.equal(made.createdBy, "admin");
  // Alertmanager moves a start in the past to now: within a second of 1h30m.
  assert.ok(Math.abs((Date.parse(made.endsAt) - Date.parse(made.startsAt)) / 1000 - 5400) < 1);

  // The alerts page shows what Alertmanager holds, silenced.
  await open(page, base + "/alert");
  await page.locator("section", { hasText: "Held by Alertmanager now" }).locator("td.state", { hasText: "silenced" }).waitFor();
  assert.deepEqual(env.errors, []);
});
