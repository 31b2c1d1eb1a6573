// Trunk's client-only bundle (`trunk build --release`, Trunk.toml, frontend feature `csr`)
// served as static files on one origin with /api/ passed to a running `promgen serve`, as a
// reverse proxy in front of both would: the app renders in the browser and works through the
// server functions. .ci/test builds the bundle into target/trunk-dist before the browser tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { start, freePort, ADMIN_PASSWORD } from "./harness.mjs";

const dist = fileURLToPath(new URL("../../target/trunk-dist/", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml" };

/// The static files of `dist`, `index.html` for any other path (the app routes in the browser),
/// and /api/ passed on to `backend`.
function frontDoor(port, backend) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path.startsWith("/api/")) {
      const to = new URL(req.url, backend);
      const upstream = request(to, { method: req.method, headers: { ...req.headers, host: to.host } }, (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    let file = join(dist, normalize(decodeURIComponent(path)).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(dist) || !existsSync(file) || file.endsWith("/")) file = join(dist, "index.html");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

test("the client-only bundle logs in and registers a service through a running server's API", async () => {
  assert.ok(existsSync(join(dist, "index.html")), "no bundle in target/trunk-dist: run `trunk build --release` first");
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // The server takes requests from the bundle's origin (its CSRF check names the origins).
  const env = await start({ args: ["--allowed-origins", origin] });
  const door = await frontDoor(port, env.base);
  try {
    const page = env.page;
    // A deep link: the static server answers index.html and the app routes in the browser.
    await page.goto(origin + "/login");
    await page.fill("input[name=username]", "admin");
    await page.fill("input[name=password]", ADMIN_PASSWORD);
    await page.click("button:has-text('Log in')");
    await page.waitForURL(origin + "/");
    await page.locator("header a.user", { hasText: "admin" }).waitFor();
    await page.getByText("No services to show").waitFor();

    await page.fill("input[name=name]", "csr-web");
    await page.click("button:has-text('Register service')");
    await page.waitForURL(/\/service\/\d+$/);
    await page.locator("h1", { hasText: "csr-web" }).waitFor();
    // What the bundle registered is on the server, for every other client.
    const url = page.url().replace(origin, env.base);
    const html = await (await fetch(url, { headers: { cookie: (await page.context().cookies())
      .map((c) => `${c.name}=${c.value}`).join("; ") } })).text();
    assert.match(html, /csr-web/);
    assert.deepEqual(env.errors, []);
  } finally {
    door.close();
    await env.stop();
  }
});
