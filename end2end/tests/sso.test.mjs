// Sign-in through a real OpenID provider (npm oidc-provider): a user sent to log in from a
// page clicks the provider's button, signs in and consents there, and lands back on that page
// logged in as themselves, made from the provider's claims.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { start, open, startOpenIdProvider } from "./harness.mjs";

let env;
let provider;
before(async () => {
  env = await start({
    prepare: async (base, dir) => {
      provider = await startOpenIdProvider([`${base}/login/sso/corp/callback`]);
      const file = join(dir, "providers.yaml");
      writeFileSync(
        file,
        `providers:\n  - id: corp\n    name: Corp SSO\n    issuer: "${provider.issuer}"\n` +
          `    client_id: promgen\n    client_secret_env: E2E_CORP_SECRET\n`,
      );
      process.env.E2E_CORP_SECRET = "promgen-secret";
      return ["--external-url", base, "--sign-in-providers", file];
    },
  });
});
after(async () => {
  await env?.stop();
  provider?.stop();
});

test("sign in through the OpenID provider and land where one started", async () => {
  const { page, base } = env;
  await open(page, base + "/login?next=/profile");
  await page.click("a:has-text('Sign in with Corp SSO')");
  // The provider's own pages (its development interactions).
  await page.waitForURL((url) => url.href.startsWith(provider.issuer), { waitUntil: "domcontentloaded" });
  await page.fill("input[name=login]", "ada");
  await page.fill("input[name=password]", "any");
  await page.click("button:has-text('Sign-in')");
  await page.click("button:has-text('Continue')");
  await page.waitForURL(base + "/profile", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("html[data-hydrated=true]");
  assert.equal(await page.locator("h1").first().textContent(), "ada");
});
