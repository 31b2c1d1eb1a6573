// Starts the real promgen server on a fresh SQLite file (or DATABASE_URL) and a headless
// Debian Chromium, for one test file.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ADMIN_PASSWORD = "end2end-admin-pw";

async function freePort() {
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
/// `args`: more arguments for `promgen serve`.
export async function start({ seed, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "promgen-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
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
    stdio: ["ignore", "inherit", "inherit"],
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
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return {
    base,
    page,
    errors,
    async stop() {
      await browser.close();
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// Navigates and waits until the wasm has taken over the server-rendered page.
export async function open(page, url) {
  await page.goto(url);
  await page.waitForSelector("html[data-hydrated=true]");
}

/// Logs in as the first admin from the login page.
export async function login(page, base) {
  await open(page, base + "/login");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", ADMIN_PASSWORD);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(base + "/");
}
