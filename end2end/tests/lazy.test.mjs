// The bundle comes in chunks (app/src/app.rs, .ci/build-site): a page fetches the main module
// and its own group's chunks, never the rule editor's (the PromQL engine) unless it edits rules.
// A first page's chunks come in one file, its group's pack, which the server names in a Link
// preload header so that it arrives with the main module; a later page's pack holds only the
// chunks the tab lacks (server/src/web/packs.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { start, open, caller, apiLogin, ADMIN_PASSWORD } from "./harness.mjs";

test("pages load their own chunks: the rule editor's only where rules are edited", async () => {
  const env = await start();
  try {
    const cookie = await apiLogin(env.base, "admin", ADMIN_PASSWORD);
    const [name, value] = cookie.split("=");
    const page = env.page;
    await page.context().addCookies([{ name, value, url: env.base }]);
    const wasm = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (/\.(wasm|bin)$/.test(url.pathname)) wasm.push(url.pathname.split("/").pop() + url.search);
    });

    await open(page, env.base + "/");
    // The main module and the home page's pack, nothing else: no chunk fetched twice.
    assert.deepEqual(wasm.toSorted(), ["pack_home.bin", "promgen_bg.wasm"]);

    // Server-rendered: the response names the page's chunks (Link: rel=preload), so the browser
    // fetches them with the main module.
    const res = await fetch(env.base + "/rule/new", { headers: { cookie } });
    const link = res.headers.get("link") ?? "";
    assert.match(link, /<\/pkg\/[0-9a-f]{16}\/pack_rule_new\.bin>; rel=preload; as=fetch; crossorigin/);
    assert.match(link, /__wasm_split\._+\.js>; rel=modulepreload/);
    assert.doesNotMatch(link, /home/);
    // The page names its group, for the loader to fetch the pack as soon as it is imported, and
    // the editor is a section of its own (its code, with the PromQL engine, comes after the page).
    const html = await res.text();
    assert.match(html, /<html[^>]* data-promgen-group="rule_new"/);
    assert.match(html, /data-promgen-section="section_rule_editor"[^>]*>\s*<div class="editor"/);
    const before = wasm.length;

    // Going there fetches the rules pack, which the page was told of, then the editor's pack
    // (what the page's lacks), and no chunk on its own. The editor is live: the preview follows.
    await open(page, env.base + "/rule/new");
    await page.fill("input[name=name]", "Lazy");
    await page.getByTestId("yaml").filter({ hasText: "alert: Lazy" }).waitFor();
    const first = wasm.slice(before).toSorted();
    assert.equal(first.length, 3, first.join(" "));
    assert.deepEqual([first[0], first[2]], ["pack_rule_new.bin", "promgen_bg.wasm"]);
    assert.match(first[1], /^pack_section_rule_editor\.bin\?have=[\w.-]+$/);

    // A page reached by a link fetches one pack, of the chunks the tab lacks: the home page's
    // group less those the rule editor brought.
    const beforeHome = wasm.length;
    await page.click("header a.brand");
    await page.waitForURL(env.base + "/");
    await page.locator("main h1:text-is('Services')").waitFor();
    const fetched = wasm.slice(beforeHome);
    assert.equal(fetched.length, 1, fetched.join(" "));
    assert.match(fetched[0], /^pack_home\.bin\?have=[\w.-]+$/);
    const pkg = link.match(/<(\/pkg\/[0-9a-f]{16})\//)[1];
    const names = async (file) => {
      const bytes = new Uint8Array(await (await fetch(`${env.base}${pkg}/${file}`)).arrayBuffer());
      return JSON.parse(new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(10)))).map(([name]) => name);
    };
    const editor = new Set([...(await names("pack_rule_new.bin")), ...(await names(first[1]))]);
    const home = await names("pack_home.bin");
    assert.deepEqual(await names(fetched[0]), home.filter((n) => !editor.has(n)));
    assert.ok(home.some((n) => editor.has(n)), "the two groups share chunks");

    // A chunk that cannot be fetched (the network, or a tab left open across a deploy) does not
    // kill the page: the browser loads the target page in full instead.
    await open(page, env.base + "/");
    let aborted = 0;
    await page.route(/(pack_alerts\.bin\?have=|split_alerts[^/]*\.wasm$)/, (route) => (aborted++, route.abort()));
    env.expectConsole(/Failed to load resource: net::ERR_FAILED/);
    const beforeAlerts = wasm.length;
    await page.click("header a:text-is('Alerts')");
    await page.waitForURL(env.base + "/alert");
    await page.waitForSelector("html[data-hydrated=true]");
    // The pack, then the chunks on their own, then the page in full, with the group's whole pack.
    const tried = wasm.slice(beforeAlerts);
    assert.match(tried[0], /^pack_alerts\.bin\?have=/);
    assert.ok(aborted >= 2 && tried.includes("split_alerts.wasm"), tried.join(" "));
    assert.ok(tried.indexOf("pack_alerts.bin") > tried.indexOf("split_alerts.wasm"), tried.join(" "));
    await page.locator("main h1").first().waitFor();
    // The splitter's JS loader lets its failed fetch surface as an uncaught rejection (its Rust
    // side gets the error too, which is what turns into the full load above); nothing else.
    assert.deepEqual(env.errors.filter((e) => !/Failed to fetch/.test(e)), []);
  } finally {
    await env.stop();
  }
});

// A project page's URLs, members, notifiers, rules and edit form come after the page
// (app/src/components/deferred.rs): the page's pack leaves their code out, and the loader asks
// for it in one pack of what the tab lacks as soon as the page's pack is in; until it arrives
// the sections are the server's HTML, and what is typed into them stays when they become live.
test("a page's sections come after it, and nothing typed into them meanwhile is lost", async () => {
  const env = await start();
  try {
    const { page, base } = env;
    const cookie = await apiLogin(base, "admin", ADMIN_PASSWORD);
    const call = caller(base, cookie);
    const service = await call("create_service", { name: "web", description: "" });
    // No shard yet: "Register project" cannot succeed, and is disabled with the reason.
    const empty = await (await fetch(`${base}/service/${service.id}`, { headers: { cookie } })).text();
    assert.match(empty, /<button type="submit" disabled aria-describedby="no-shard"[^>]*>Register project</);
    assert.match(empty, /<p [^>]*id="no-shard"[^>]*>A project needs a shard/);
    await call("create_shard", { name: "main", url: "http://127.0.0.1:9", proxy: "", samples: "1000", targets: "100" });
    const shards = await call("list_shards", {});
    const project = await call("create_project", { service_id: service.id, name: "shop", description: "", shard_id: shards[0].shard.id });
    await call("create_exporter", { project_id: project.id, job: "node", port: "9100", path: "", scheme: "http" });
    const [name, value] = cookie.split("=");
    await page.context().addCookies([{ name, value, url: base }]);
    const wasm = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (/\.(wasm|bin)$/.test(url.pathname)) wasm.push(url.pathname.split("/").pop() + url.search);
    });

    // The sections' code held back until the test lets it through.
    let release;
    const held = new Promise((done) => (release = done));
    await page.route(/pack_section_/, async (route) => (await held, route.continue()));
    await page.goto(`${base}/project/${project.id}`);
    const form = page.locator("#notifiers form:has(input[name=value])");
    await page.locator("#notifiers summary:text-is('Add a notifier')").click();
    await form.locator("input[name=value]").fill("oncall@example.com");
    // The page is live without them, but not said to be until they are. (An exporter's
    // Disable asks first: the wasm's work.)
    await page.waitForFunction(() => performance.getEntriesByName("promgen-page-hydrated").length > 0);
    await page.click("#exporters button:text-is('Disable')");
    await page.locator("#exporters [role=group][aria-label^='Disable node:9100?']").waitFor();
    await page.click("#exporters button:text-is('Cancel')");
    await page.waitForTimeout(300);
    assert.equal(await page.getAttribute("html", "data-hydrated"), null);
    release();
    await page.waitForSelector("html[data-hydrated=true]");
    assert.equal(await form.locator("input[name=value]").inputValue(), "oncall@example.com");

    // The main module and the page's pack, then one pack of the sections, less the page's.
    assert.deepEqual(wasm.slice(0, 2).toSorted(), ["pack_project.bin", "promgen_bg.wasm"]);
    assert.equal(wasm.length, 3, wasm.join(" "));
    assert.match(
      wasm[2],
      new RegExp(
        "^pack_section_project_farm\\.bin\\?have=[\\w.-]+&with=section_project_scrape_results\\.section_project_add_exporter\\." +
          "section_project_urls\\.section_members\\.section_notifiers\\.section_rules\\.section_project_edit$",
      ),
    );

    // Live for good: a section's own signals outlive its hydration (a field directly in the
    // edit form says what is wrong as it is typed; they were disposed with the task that
    // hydrated it, and only the submit button went grey).
    await page.click("summary:text-is('Edit project')");
    await page.fill("form[action='/api/update_project'] input[name=name]", "bad name!");
    await page.locator("form[action='/api/update_project'] small.field-error", { hasText: "not '!'" }).waitFor();

    // Live: the form posts through the wasm, the page is not loaded again.
    await page.evaluate(() => (window.__stayed = true));
    await form.locator("button:text-is('Add notifier')").click();
    await page.locator("#notifiers td:text-is('oncall@example.com')").waitFor();
    assert.equal(await page.evaluate(() => window.__stayed), true);

    // Left before the sections' code arrived: it comes to a page that is gone, and nothing is
    // made of it (the sections read the page's actions: a panic of the whole wasm).
    let releaseLate;
    const late = new Promise((done) => (releaseLate = done));
    await page.route(/pack_section_/, async (route) => (await late, route.continue()));
    await page.goto(`${base}/project/${project.id}`);
    await page.waitForFunction(() => performance.getEntriesByName("promgen-page-hydrated").length > 0);
    await page.click("header a.brand");
    await page.locator("main h1:text-is('Services')").waitFor();
    releaseLate();
    await page.waitForSelector("html[data-hydrated=true]");
    await page.click(`main a[href="/service/${service.id}"]`);
    await page.locator("main h1", { hasText: "Service web" }).waitFor();
    assert.deepEqual(env.errors, []);

    // A section whose code cannot be fetched stays the server's HTML, whose forms still post;
    // the page still becomes live.
    await page.unroute(/pack_section_/);
    await page.route(/(pack_section_|split_section_rules[^/]*\.wasm$)/, (route) => route.abort());
    env.expectConsole(/Failed to load resource: net::ERR_FAILED/);
    await open(page, `${base}/project/${project.id}`);
    await page.locator("#rules h2:text-is('Rules')").waitFor();
    assert.deepEqual(env.errors.filter((e) => !/Failed to fetch/.test(e)), []);
  } finally {
    await env.stop();
  }
});
