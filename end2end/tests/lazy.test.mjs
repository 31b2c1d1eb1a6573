// The bundle comes in chunks (app/src/app.rs, .ci/build-site): a page fetches the main module
// and its own group's chunks, never the rule editor's (the PromQL engine) unless it edits rules;
// the server names a page's chunks in Link preload headers so they arrive with the main module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { start, open, apiLogin, ADMIN_PASSWORD } from "./harness.mjs";

test("pages load their own chunks: the rule editor's only where rules are edited", async () => {
  const env = await start();
  try {
    const cookie = await apiLogin(env.base, "admin", ADMIN_PASSWORD);
    const [name, value] = cookie.split("=");
    const page = env.page;
    await page.context().addCookies([{ name, value, url: env.base }]);
    const wasm = [];
    page.on("request", (r) => r.url().endsWith(".wasm") && wasm.push(new URL(r.url()).pathname.split("/").pop()));

    await open(page, env.base + "/");
    assert.ok(wasm.includes("promgen_bg.wasm"), wasm.join(" "));
    assert.ok(wasm.some((w) => w.startsWith("split_start")), `the home page's group: ${wasm.join(" ")}`);
    assert.ok(!wasm.some((w) => w.startsWith("split_rules")), `no rule editor on the home page: ${wasm.join(" ")}`);

    // Server-rendered: the response names the page's chunks (Link: rel=preload), so the browser
    // fetches them with the main module.
    const res = await fetch(env.base + "/rule/new", { headers: { cookie } });
    const link = res.headers.get("link") ?? "";
    assert.match(link, /<\/pkg\/[0-9a-f]{16}\/split_rules\.wasm>; rel=preload; as=fetch/);
    assert.match(link, /__wasm_split\._+\.js>; rel=modulepreload/);
    assert.doesNotMatch(link, /split_start/);
    // And the browser takes them: the page asked for no chunk it had not been told of.
    const told = [...link.matchAll(/\/([\w.]+\.wasm)>/g)].map((m) => m[1]);
    const before = wasm.length;

    // Going there fetches the rules chunk.
    await open(page, env.base + "/rule/new");
    await page.locator("textarea").first().waitFor();
    const fetched = wasm.slice(before).filter((w) => w !== "promgen_bg.wasm");
    assert.ok(fetched.some((w) => w.startsWith("split_rules")), fetched.join(" "));
    assert.deepEqual(fetched.filter((w) => !told.includes(w)), [], `told: ${told.join(" ")}`);

    // A chunk that cannot be fetched (the network, or a tab left open across a deploy) does not
    // kill the page: the browser loads the target page in full instead.
    await open(page, env.base + "/");
    let aborted = 0;
    await page.route(/split_alerts[^/]*\.wasm$/, (route) => (aborted++ === 0 ? route.abort() : route.continue()));
    env.expectConsole(/Failed to load resource: net::ERR_FAILED/);
    await page.click("header a:text-is('Alerts')");
    await page.waitForURL(env.base + "/alert");
    await page.waitForSelector("html[data-hydrated=true]");
    assert.equal(aborted >= 2, true, `the chunk was asked for again after the full load (${aborted})`);
    await page.locator("main h1").first().waitFor();
    // The splitter's JS loader lets its failed fetch surface as an uncaught rejection (its Rust
    // side gets the error too, which is what turns into the full load above); nothing else.
    assert.deepEqual(env.errors.filter((e) => !/Failed to fetch/.test(e)), []);
  } finally {
    await env.stop();
  }
});
