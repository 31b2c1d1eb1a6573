// Page-load benchmark: `/`, a project page, `/alert` and the rule editor in headless Chromium
// with the network throttled to 10 Mbit/s and 40 ms latency (DevTools protocol), cold (empty
// cache) and warm (the same browser loading the page again). Prints, per page, the bytes that
// crossed the network and the time until the page is interactive (the wasm has hydrated it:
// `html[data-hydrated=true]`; and the page itself, before its deferred sections), medians of
// RUNS loads. Then, by links within the page (no full
// load), from `/` to the service page and on to the project page: the bytes and the time until
// the page's heading shows (a later page's chunks come in a pack of those the tab lacks).
//
//   .ci/build-site --release && cargo build -p server && (cd end2end && npm run bench)
//
// UNCOMPRESSED_UNCACHED=1 loads as browsers did before the site compressed and cached its
// files (Accept-Encoding: identity, the cache off), for comparison.
//
// It measures whatever site is in target/site (build it with --release: a development wasm is
// tens of MB) and the server at PROMGEN_BIN (default target/debug/promgen).
import { start, apiLogin, ADMIN_PASSWORD } from "../tests/harness.mjs";

const RUNS = Number(process.env.RUNS ?? 5);
const THROTTLE = { offline: false, latency: 40, downloadThroughput: (10e6 / 8), uploadThroughput: (10e6 / 8) };

const seed = [
  { model: "sites.site", pk: 1, fields: { domain: "promgen.example.com", name: "bench" } },
  { model: "promgen.shard", pk: 1, fields: { name: "shard-a", url: "http://127.0.0.1:9", proxy: true, enabled: true } },
  { model: "promgen.service", pk: 1, fields: { name: "web" } },
  { model: "promgen.project", pk: 1, fields: { name: "frontend", service: 1, shard: 1 } },
  { model: "promgen.farm", pk: 1, fields: { name: "web-farm", source: "promgen", project: 1 } },
  ...Array.from({ length: 50 }, (_, i) => ({ model: "promgen.host", pk: i + 1, fields: { name: `web-${String(i).padStart(3, "0")}.example.com`, farm: 1 } })),
  { model: "promgen.exporter", pk: 1, fields: { project: 1, job: "node", port: 9100, path: "/metrics" } },
  {
    model: "promgen.rule",
    pk: 1,
    fields: { content_type: ["promgen", "site"], object_id: 1, name: "InstanceDown", clause: "up{<exclude>} == 0", duration: "5m", enabled: true },
  },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/// Loads `url` in `page` and returns { bytes, ms, pageMs, allMs }: `ms` until hydrated with its
/// sections (`html[data-hydrated]`, as this script sees it); on the page's clock, from the
/// navigation's start, `pageMs` until the page itself was (the sections whose code comes after
/// it, app/src/components/deferred.rs, are the server's HTML meanwhile) and `allMs` until its
/// sections were too (the `promgen-page-hydrated` and `promgen-hydrated` marks).
async function load(page, cdp, url) {
  let bytes = 0;
  const onFinished = (e) => (bytes += e.encodedDataLength);
  cdp.on("Network.loadingFinished", onFinished);
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForSelector("html[data-hydrated=true]", { timeout: 120000 });
  const ms = Date.now() - t0;
  // The same two moments on the page's own clock (from the navigation's start).
  const [pageMs, allMs] = await page.evaluate(() =>
    ["promgen-page-hydrated", "promgen-hydrated"].map((m) => Math.round(performance.getEntriesByName(m)[0]?.startTime ?? NaN)),
  );
  // Late responses (a server function the page asks once hydrated) count too.
  await page.waitForLoadState("networkidle");
  cdp.off("Network.loadingFinished", onFinished);
  return { bytes, ms, pageMs, allMs };
}

/// Follows the link `href` within the page and returns { bytes, ms } until `main h1` reads
/// `heading`.
async function follow(page, cdp, href, heading) {
  let bytes = 0;
  const onFinished = (e) => (bytes += e.encodedDataLength);
  cdp.on("Network.loadingFinished", onFinished);
  const t0 = Date.now();
  await page.click(`main a[href="${href}"]`);
  await page.locator(`main h1:has-text("${heading}")`).first().waitFor({ timeout: 120000 });
  const ms = Date.now() - t0;
  await page.waitForLoadState("networkidle");
  cdp.off("Network.loadingFinished", onFinished);
  return { bytes, ms };
}

const env = await start({ seed });
try {
  const cookie = await apiLogin(env.base, "admin", ADMIN_PASSWORD);
  const [name, value] = cookie.split("=");
  const pages = [
    ["/", "/"],
    ["project", "/project/1"],
    ["/alert", "/alert"],
    ["rule editor", "/rule/1/edit"],
  ];
  // A fresh context (an empty cache, as a first visit), logged in, on the throttled network.
  const visitor = async () => {
    const ctx = await env.browser.newContext();
    await ctx.addCookies([{ name, value, url: env.base }]);
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", THROTTLE);
    if (process.env.UNCOMPRESSED_UNCACHED) {
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      await cdp.send("Network.setExtraHTTPHeaders", { headers: { "Accept-Encoding": "identity" } });
    }
    return { ctx, page, cdp };
  };
  const rows = [];
  for (const [label, path] of pages) {
    const cold = [], warm = [];
    for (let i = 0; i < RUNS; i++) {
      const { ctx, page, cdp } = await visitor();
      cold.push(await load(page, cdp, env.base + path));
      warm.push(await load(page, cdp, env.base + path));
      await ctx.close();
    }
    rows.push({
      page: label,
      "cold KB": Math.round(median(cold.map((c) => c.bytes)) / 1024),
      "cold ms": median(cold.map((c) => c.ms)),
      "cold page ms": median(cold.map((c) => c.pageMs)),
      "cold all ms": median(cold.map((c) => c.allMs)),
      "warm KB": Math.round(median(warm.map((c) => c.bytes)) / 1024),
      "warm ms": median(warm.map((c) => c.ms)),
    });
  }
  const steps = [[], []];
  for (let i = 0; i < RUNS; i++) {
    const { ctx, page, cdp } = await visitor();
    await load(page, cdp, env.base + "/");
    steps[0].push(await follow(page, cdp, "/service/1", "web"));
    steps[1].push(await follow(page, cdp, "/project/1", "frontend"));
    await ctx.close();
  }
  for (const [label, runs] of [["/ → service by link", steps[0]], ["→ project by link", steps[1]]]) {
    rows.push({
      page: label,
      "cold KB": Math.round(median(runs.map((c) => c.bytes)) / 1024),
      "cold ms": median(runs.map((c) => c.ms)),
    });
  }
  const mode = process.env.UNCOMPRESSED_UNCACHED ? "uncompressed and uncached" : "as served";
  console.log(
    `page load ${mode}, 10 Mbit/s and 40 ms latency, median of ${RUNS} (time until hydrated with its sections; on the page's clock, "page ms": the page itself, "all ms": with its sections)`,
  );
  console.table(rows);
} finally {
  await env.stop();
}
