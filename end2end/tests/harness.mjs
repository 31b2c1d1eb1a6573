// Starts the real promgen server on a fresh SQLite file (or DATABASE_URL) and a headless
// Debian Chromium, for one test file.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { createServer as httpServer } from "node:http";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ADMIN_PASSWORD = "end2end-admin-pw";

/// A free TCP port on 127.0.0.1.
export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", fail);
  });
}

/// `seed`: Promgen dumpdata objects loaded with `promgen import-promgen` before the server starts;
/// `args`: more arguments for `promgen serve`; `prepare(base, dir)`: called with the server's
/// address and a scratch directory before it starts, returns more arguments.
export async function start({ seed, args = [], prepare } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "promgen-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  if (prepare) args = [...args, ...(await prepare(base, dir))];
  const bin = process.env.PROMGEN_BIN ?? join(root, "target/debug/promgen");
  const env = {
    ...process.env,
    DATABASE_URL: process.env.E2E_DATABASE_URL ?? `sqlite://${dir}/e2e.db`,
    PROMGEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RUST_LOG: "warn",
  };
  if (seed) {
    const file = join(dir, "seed.json");
    writeFileSync(file, JSON.stringify(seed));
    execFileSync(bin, ["import-promgen", file], { env, stdio: ["ignore", "ignore", "inherit"] });
  }
  const server = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--site-root", join(root, "target/site"), ...args], {
    env,
    stdio: ["ignore", "inherit", "pipe"],
  });
  // The server's own log stays quiet too: a panic or a warning of Leptos' reactive runtime
  // (printed bare, without our log's timestamp) fails the test at stop().
  const serverFaults = [];
  let serverTail = "";
  server.stderr.on("data", (chunk) => {
    process.stderr.write(chunk);
    const lines = (serverTail + chunk).split("\n");
    serverTail = lines.pop();
    for (const line of lines) {
      if (/panicked at|local-resource notification|outside a reactive tracking context|has already been disposed/.test(line)) {
        serverFaults.push(line);
      }
    }
  });
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${base}/login`);
      if (r.ok) break;
    } catch {}
    if (i > 300) throw new Error("promgen did not start within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const errors = [];
  const expected = [];
  // Every page of every context the test opens: uncaught errors and Content-Security-Policy
  // violations fail the test (the server also counts the violations browsers report).
  const watch = (page) => {
    page.setDefaultTimeout(15000);
    page.on("pageerror", (e) => errors.push(String(e)));
    // The console stays quiet on every page: any warning or error fails the test, unless the
    // test expects it (`expectConsole`, e.g. the browser's own line for a refused request).
    page.on("console", (m) => {
      if (/Content.Security.Policy|Refused to (execute|load|apply|connect|frame)/i.test(m.text())) {
        errors.push(`CSP on ${page.url()}: ${m.text()}`);
      } else if (["warning", "error"].includes(m.type()) && !expected.some((re) => re.test(m.text()))) {
        errors.push(`console ${m.type()} on ${page.url()}: ${m.text()}`);
      }
    });
    page.on("dialog", (d) => {
      errors.push(`a dialog opened: ${d.message()}`);
      d.dismiss();
    });
    return page;
  };
  browser.on("disconnected", () => {});
  const page = watch(await browser.newPage());
  return {
    base,
    page,
    errors,
    browser,
    /// Console lines matching `re` are expected from now on (they do not fail the test).
    expectConsole(re) {
      expected.push(re);
    },
    /// A new browser context (its own cookies), e.g. `{ javaScriptEnabled: false }`.
    async context(options = {}) {
      const ctx = await browser.newContext(options);
      return watch(await ctx.newPage());
    },
    /// Fails when browsers reported Content-Security-Policy violations to the server.
    async cspViolations() {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      return Number(metrics.match(/^promgen_csp_violations_total (\d+)$/m)?.[1] ?? "NaN");
    },
    async stop() {
      // A violation report is sent after the fact: give it a moment to arrive.
      await new Promise((r) => setTimeout(r, 300));
      const violations = await this.cspViolations().catch(() => 0);
      await browser.close();
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
      if (violations !== 0) throw new Error(`browsers reported ${violations} Content-Security-Policy violation(s)`);
      if (serverFaults.length) throw new Error(`the server logged:\n${serverFaults.join("\n")}`);
    },
  };
}

/// Navigates and waits until the wasm has taken over the server-rendered page.
export async function open(page, url) {
  await page.goto(url);
  await page.waitForSelector("html[data-hydrated=true]");
}

/// Calls a server function as a script does (`/api/<name>`, a form body, a JSON answer) with
/// a session cookie; returns the answer's status and JSON.
export async function api(base, cookie, name, fields) {
  const res = await fetch(`${base}/api/${name}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", cookie },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

/// `call(name, fields)`: [`api`] with `cookie` that fails the test on a refusal and returns the
/// answer's JSON, for setting up what a test needs.
export function caller(base, cookie) {
  return async (name, fields) => {
    const res = await api(base, cookie, name, fields);
    if (res.status >= 400) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
}

/// Logs in with a script's request; returns the session cookie.
export async function apiLogin(base, username, password) {
  const res = await api(base, "", "login", { username, password });
  if (res.status !== 200) throw new Error(`login as ${username}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.headers.get("set-cookie").split(";")[0];
}

/// Logs in as the first admin from the login page.
export async function login(page, base) {
  await open(page, base + "/login");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", ADMIN_PASSWORD);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(base + "/");
}

/// Logs in as admin in a page without JavaScript (a plain form post, redirected home).
export async function plainLogin(page, base) {
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", ADMIN_PASSWORD);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(`${base}/`);
}

/// Starts the real OpenID provider of the sign-in tests (end2end/support/oidc-provider.mjs)
/// for a client `promgen` with these redirect URIs; resolves to `{ issuer, stop() }`.
export async function startOpenIdProvider(redirectUris, env = {}) {
  const child = spawn(process.execPath, [join(root, "end2end/support/oidc-provider.mjs")], {
    env: { ...process.env, OIDC_REDIRECT_URIS: redirectUris.join(","), ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const issuer = await new Promise((ok, fail) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n")[0];
      if (out.includes("\n")) ok(JSON.parse(line).issuer);
    });
    child.once("exit", (code) => fail(new Error(`the OpenID provider exited (${code})`)));
    setTimeout(() => fail(new Error("the OpenID provider did not start within 30 s")), 30000);
  });
  return {
    issuer,
    stop() {
      child.kill("SIGTERM");
    },
  };
}

/// An HTTP receiver for a webhook notifier: keeps every JSON body posted to it. `close()` stops it.
export async function receiver() {
  const bodies = [];
  const server = httpServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    bodies,
    close: () => new Promise((ok) => server.close(ok)),
  };
}
