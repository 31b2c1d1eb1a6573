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
    assert.ok(wasm.some((w) => w.startsWith("split_start_")), `the home page's group: ${wasm.join(" ")}`);
    assert.ok(!wasm.some((w) => w.startsWith("split_rules_")), `no rule editor on the home page: ${wasm.join(" ")}`);

    // Server-rendered: the response names the page's chunks (Link: rel=preload), so the browser
    // fetches them with the main module.
    const res = await fetch(env.base + "/rule/new", { headers: { cookie } });
    const link = res.headers.get("link") ?? "";
    assert.match(link, /<\/pkg\/[0-9a-f]{16}\/split_rules_\d+\.wasm>; rel=preload; as=fetch/);
    assert.match(link, /__wasm_split\._+\.js>; rel=modulepreload/);
    assert.doesNotMatch(link, /split_start_/);
    // And the browser takes them: the page asked for no chunk it had not been told of.
    const told = [...link.matchAll(/\/([\w.]+\.wasm)>/g)].map((m) => m[1]);
    const before = wasm.length;

    // Going there fetches the rules chunk.
    await open(page, env.base + "/rule/new");
    await page.locator("textarea").first().waitFor();
    const fetched = wasm.slice(before).filter((w) => w !== "promgen_bg.wasm");
    assert.ok(fetched.some((w) => w.startsWith("split_rules_")), fetched.join(" "));
    assert.deepEqual(fetched.filter((w) => !told.includes(w)), [], `told: ${told.join(" ")}`);
    assert.deepEqual(env.errors, []);
  } finally {
    await env.stop();
  }
});
