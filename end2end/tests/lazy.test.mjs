// The bundle comes in chunks (app/src/app.rs, .ci/build-site): a page fetches the main module
// and its own group's chunks, never the rule editor's (the PromQL engine) unless it edits rules.
// A first page's chunks come in one file, its group's pack, which the server names in a Link
// preload header so that it arrives with the main module; later pages fetch the chunks they
// still lack one by one.
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
    page.on("request", (r) => /\.(wasm|bin)$/.test(r.url()) && wasm.push(new URL(r.url()).pathname.split("/").pop()));

    await open(page, env.base + "/");
    // The main module and the home page's pack, nothing else: no chunk fetched twice.
    assert.deepEqual(wasm.toSorted(), ["pack_home.bin", "promgen_bg.wasm"]);

    // Server-rendered: the response names the page's chunks (Link: rel=preload), so the browser
    // fetches them with the main module.
    const res = await fetch(env.base + "/rule/new", { headers: { cookie } });
    const link = res.headers.get("link") ?? "";
    assert.match(link, /<\/pkg\/[0-9a-f]{16}\/pack_rules\.bin>; rel=preload; as=fetch; crossorigin/);
    assert.match(link, /__wasm_split\._+\.js>; rel=modulepreload/);
    assert.doesNotMatch(link, /home/);
    // The page names its group, for the loader to fetch the pack as soon as it is imported.
    assert.match(await res.text(), /<html[^>]* data-promgen-group="rules"/);
    const before = wasm.length;

    // Going there fetches the rules pack, which the page was told of, and no chunk on its own.
    await open(page, env.base + "/rule/new");
    await page.locator("textarea").first().waitFor();
    assert.deepEqual(wasm.slice(before).toSorted(), ["pack_rules.bin", "promgen_bg.wasm"]);

    // A page reached by a link fetches the chunks it lacks one by one (the home page's group
    // shares some with the rule editor's).
    const beforeHome = wasm.length;
    await page.click("header a.brand");
    await page.waitForURL(env.base + "/");
    await page.locator("main h1:text-is('Services')").waitFor();
    const fetched = wasm.slice(beforeHome);
    assert.ok(fetched.some((w) => w.startsWith("split_home")), fetched.join(" "));
    assert.ok(fetched.every((w) => w.endsWith(".wasm") && w !== "promgen_bg.wasm"), fetched.join(" "));

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
