// A new user's first session: log in, register a shard, a service, a project, a farm with
// hosts and an exporter in the browser, and find them in /api/v1/targets.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, open, ADMIN_PASSWORD } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("register what Prometheus scrapes and see it in /api/v1/targets", async () => {
  const { page, base } = env;

  // The forms below are refused on purpose (a wrong password, a name taken): Chromium logs
  // each refused request's status, which is expected here and nowhere else.
  env.expectConsole(/status of (401|409) /);

  // Anonymous visitors are sent to the login page.
  await page.goto(base + "/");
  await page.waitForURL(/\/login/);
  await page.waitForSelector("html[data-hydrated=true]");
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "wrong password");
  await page.click("button:has-text('Log in')");
  await page.getByText("wrong username or password").waitFor();
  await page.fill("input[name=password]", ADMIN_PASSWORD);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(base + "/");
  await page.getByText("No services to show").waitFor();
  // The header follows at once: who is logged in, and a way out.
  await page.locator("header a.user", { hasText: "admin" }).waitFor();
  await page.locator("header button", { hasText: "Log out" }).waitFor();

  // A shard.
  await open(page, base + "/shard");
  await page.fill("input[name=name]", "main");
  await page.fill("input[name=url]", "http://prometheus.example.com:9090");
  await page.click("button:has-text('Add shard')");
  // Created, the user lands on it.
  await page.waitForURL(/\/shard\/\d+$/);
  await page.locator("h1", { hasText: "Shard main" }).waitFor();

  // A service: the name is checked as it is typed, duplicates by the server.
  await open(page, base + "/");
  const name = page.locator("input[name=name]");
  await name.pressSequentially("w");
  await page.getByText("must be at least 2 characters").waitFor();
  await name.pressSequentially("eb");
  await page.waitForFunction(() => !document.querySelector(".field-error")?.textContent);
  await page.click("button:has-text('Register service')");
  await page.waitForURL(/\/service\/\d+/);
  // A refused form keeps what was typed.
  await open(page, base + "/");
  await page.fill("input[name=name]", "web");
  await page.fill("input[name=description]", "typed once");
  await page.click("button:has-text('Register service')");
  const atField = page.locator("label.field:has(input[name=name]) small.field-error", { hasText: "exists already" });
  await atField.waitFor();
  // Under its field, the message alone (the field's label is right above it).
  assert.equal(await atField.textContent(), 'A service named "web" exists already');
  assert.equal(await page.inputValue("input[name=description]"), "typed once");
  // The error is at its field: under it, marked, described by the message, and focused; the
  // emptied message under the form is hidden.
  const nameField = page.locator("form input[name=name]");
  assert.equal(await nameField.getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "name");
  assert.equal(await nameField.getAttribute("aria-describedby"), await atField.getAttribute("id"));
  assert.equal(await page.locator("form + p.error").isHidden(), true);
  // The mark and the message go with the first change (pasted or typed): the field's own
  // check says then.
  await nameField.fill("web-two");
  assert.equal(await nameField.getAttribute("aria-invalid"), "false");
  assert.equal(await nameField.getAttribute("aria-describedby"), null);
  assert.equal(await atField.count(), 0);
  // Refused again without a change: the new answer replaces the old one at the field.
  await nameField.fill("web");
  await page.click("button:has-text('Register service')");
  await atField.waitFor();
  await page.click("button:has-text('Register service')");
  await atField.waitFor();
  assert.equal(await page.locator("small.field-error", { hasText: "exists already" }).count(), 1);
  await page.click("a:text-is('web')");

  // A project on the shard.
  await page.waitForURL(/\/service\/\d+/);
  await page.fill("input[name=name]", "frontend");
  await page.selectOption("select[name=shard_id]", { label: "main" });
  await page.click("button:has-text('Register project')");

  // A farm with pasted hosts, then more hosts and one bad one.
  await page.waitForURL(/\/project\/\d+/);
  await page.fill("#farm input[name=name]", "web-farm");
  await page.fill("#farm textarea[name=hosts]", "a.example.com\nb.example.com, c.example.com");
  await page.click("button:has-text('Create farm')");
  await page.locator("#farm a", { hasText: "c.example.com" }).waitFor();
  const more = page.locator("#farm textarea[name=hosts]");
  await more.pressSequentially("d.example.com bad_host");
  await page.getByText("bad_host").first().waitFor();
  // The list cannot succeed: the button is disabled and says why.
  const addHosts = page.locator("button:has-text('Add hosts')");
  assert.equal(await addHosts.isDisabled(), true);
  assert.match(await addHosts.getAttribute("title"), /bad_host/);
  await more.fill("d.example.com");
  assert.equal(await addHosts.isDisabled(), false);
  assert.equal(await addHosts.getAttribute("title"), null);
  await addHosts.click();
  await page.getByText("Added 1 host.", { exact: true }).waitFor();
  // The farm, drawn anew with its new host, before the next entry (typed while the list was
  // being fetched again, it could be drawn over).
  await page.locator("#farm a", { hasText: "d.example.com" }).waitFor();
  // Hosts already there are skipped, and the page says so.
  await more.fill("d.example.com");
  await addHosts.click();
  await page.getByText("No host added: every one is in this farm already.").waitFor();
  // A list with new and known hosts counts both; the page, drawn anew with the new host,
  // keeps the focus in the form (it fell to <body> with the old one), and the scroll.
  await page.evaluate(() => window.scrollTo(0, 200));
  const scrolled = await page.evaluate(() => window.scrollY);
  // Nothing on the page is drawn as "Loading…" again meanwhile (the members, notifiers and
  // rules sections were, and the page jumped).
  await page.evaluate(() => {
    window.loadingSeen = 0;
    const main = document.querySelector("main");
    new MutationObserver(() => { if (main.innerText.includes("Loading…")) window.loadingSeen++; })
      .observe(main, { subtree: true, childList: true, characterData: true });
  });
  await more.fill("d.example.com e.example.com");
  await addHosts.focus();
  await page.keyboard.press("Enter");
  await page.getByText("Added 1 host; 1 other was in this farm already.").waitFor();
  await page.locator("ul.hosts a", { hasText: "e.example.com" }).waitFor();
  // The list went in: the focus is in the new, empty list box, for the next one.
  await page.waitForFunction(() => document.activeElement?.getAttribute("name") === "hosts");
  // ... which is empty: the page drawn again keeps its elements, and what was typed went in
  // already (a second submit sent it again).
  assert.equal(await more.inputValue(), "");
  assert.equal(await page.evaluate(() => window.scrollY), scrolled);
  assert.equal(await page.evaluate(() => window.loadingSeen), 0);

  // An exporter: a bad port is caught while typing.
  const port = page.locator("#exporters input[name=port]:not([type=hidden])");
  await page.fill("#exporters input[name=job]:not([type=hidden])", "node");
  await port.pressSequentially("99999");
  await page.getByText("A port is 1 to 65535, not 99999").waitFor();
  await port.fill("9100");
  await page.click("button:has-text('Add exporter')");
  await page.locator("#exporters td", { hasText: "enabled" }).waitFor();
  // Its quick-add button cannot succeed now: disabled, saying why.
  const quickNode = page.locator(".quick-add button", { hasText: "node:9100" });
  await page.waitForFunction((b) => b.disabled, await quickNode.elementHandle());
  assert.equal(await quickNode.getAttribute("title"), "node:9100 is in this project already");
  assert.equal(await quickNode.textContent(), "node:9100 (added)");
  // Sent anyway (a page drawn before another tab added it): refused, said beside the buttons,
  // and the exporter form's fields are left alone. (Chromium logs the refused request's status.)
  env.expectConsole(/status of 409 /);
  await quickNode.evaluate((b) => (b.disabled = false));
  await quickNode.click();
  await page.locator("#exporters .quick-add + p.error", { hasText: "the exporter node:9100" }).waitFor();
  assert.notEqual(await port.getAttribute("aria-invalid"), "true");

  const targets = await (await fetch(base + "/api/v1/targets")).json();
  assert.deepEqual(targets, [
    {
      labels: {
        __farm_source: "promgen",
        __scheme__: "http",
        __shard: "main",
        farm: "web-farm",
        job: "node",
        project: "frontend",
        service: "web",
      },
      targets: ["a.example.com:9100", "b.example.com:9100", "c.example.com:9100", "d.example.com:9100", "e.example.com:9100"],
    },
  ]);

  // A host removed meanwhile (another tab, another user): removing it here says it is gone,
  // and the farm is drawn again without it (its row stayed until the next change).
  const gone = page.locator("#farm li", { hasText: "e.example.com" });
  const hostId = await gone.locator("input[name=id]").first().getAttribute("value");
  const removed = await page.request.post(base + "/api/delete_host", { form: { id: hostId } });
  assert.equal(removed.status(), 200, await removed.text());
  env.expectConsole(/status of 404 /);
  await gone.getByRole("button", { name: "Remove" }).click();
  await gone.getByRole("button", { name: "Yes, remove" }).click();
  await page.locator("#farm p.error", { hasText: "not found" }).waitFor();
  await gone.waitFor({ state: "detached" });

  // Edit the project: the page shows the change. The page draws its whole view again for it,
  // and what was typed in the other forms stays (they came back empty: a reviewer's).
  const job = page.locator("#exporters input[name=job]:not([type=hidden])");
  await job.fill("mysql");
  await port.fill("99999");
  await more.fill("f.example.com");
  const drawn = await job.elementHandle();
  await page.click("summary:has-text('Edit project')");
  await page.fill("details input[name=description]", "The public web frontend");
  await page.click("details button:has-text('Save')");
  await page.locator("p.muted", { hasText: "The public web frontend" }).waitFor();
  assert.equal(await drawn.evaluate((e) => e.isConnected), false, "the view was not drawn again");
  assert.equal(await job.inputValue(), "mysql");
  assert.equal(await more.inputValue(), "f.example.com");
  // Put back as typed: its own check says so again.
  assert.equal(await port.inputValue(), "99999");
  await page.getByText("A port is 1 to 65535, not 99999").waitFor();
  await job.fill("");
  await port.fill("");
  await more.fill("");
  // It says so: the disclosure, drawn anew, is open with "Saved." (closed, it hid it).
  await page.locator("details[open]:has(summary:has-text('Edit project')) [role=status]", { hasText: "Saved." }).waitFor();

  // Members. Adding one who is a member already is refused at the name, and the refusal
  // goes when a row's role changes; a choice made in the add form survives that row's change
  // (the panel is drawn again, and its selects went back to their first option).
  await page.request.post(base + "/api/create_group", { form: { name: "ops" } });
  const members = page.locator("#members");
  const addForm = members.locator("form:has(button:has-text('Add member'))");
  await addForm.locator("select[name=principal_kind]").selectOption("group");
  await addForm.locator("input[name=who]").fill("ops");
  await addForm.locator("button").click();
  await members.locator("td", { hasText: "ops (group)" }).waitFor();
  await addForm.locator("select[name=principal_kind]").selectOption("group");
  await addForm.locator("input[name=who]").fill("ops");
  await addForm.locator("select[name=role]").selectOption("ADMIN");
  await addForm.locator("button").click();
  const already = members.locator(".field-error", { hasText: "Already holds the Viewer role here" });
  await already.waitFor();
  await members.locator("select[aria-label='Role of ops']").selectOption("EDITOR");
  await members.locator("tr:has-text('ops (group)') button:has-text('Change')").click();
  await already.waitFor({ state: "detached" });
  assert.equal(await addForm.locator("select[name=role]").inputValue(), "ADMIN");
  assert.equal(await addForm.locator("select[name=principal_kind]").inputValue(), "group");
  assert.equal(await members.locator("select[aria-label='Role of ops']").inputValue(), "EDITOR");
  await addForm.locator("input[name=who]").fill("");

  // Every page hydrates when loaded directly, not only when reached by client-side navigation.
  const projectUrl = page.url();
  for (const url of [projectUrl, base + "/", base + "/shard", base + "/host/a.example.com", base + "/search?q=front"]) {
    await open(page, url);
  }
  // The shard's delete button could only be refused: it is disabled and says why, naming the
  // project on it.
  await open(page, base + "/shard");
  await page.click("a:text-is('main')");
  await page.waitForURL(/\/shard\/\d+$/);
  const deleteShard = page.locator("button:has-text('Delete this shard')");
  assert.equal(await deleteShard.isDisabled(), true);
  assert.match(await page.locator("#shard-delete-why").textContent(), /Move its 1 project to another shard first, in each project's settings: web\/frontend\./);
  await open(page, projectUrl);
  // No Prometheus of the shard answers (its name does not resolve): the Up column says so, and
  // why, under the table.
  await page.locator("#exporters td.up", { hasText: "no answer" }).waitFor();
  await page.locator("#exporters [role=status]", { hasText: "no Prometheus answered" }).waitFor();

  // Disabling the exporter asks first, naming it; Escape takes the question back (focus returns
  // to the button), "Yes, disable" takes it out of the file.
  await page.click("#exporters button:has-text('Disable')");
  await page.locator("#exporters .confirm", { hasText: "Disable node:9100? Prometheus stops scraping it." }).waitFor();
  await page.keyboard.press("Escape");
  await page.locator("#exporters .confirm").waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Disable");
  assert.equal((await (await fetch(base + "/api/v1/targets")).json()).length, 1);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.locator("#exporters td", { hasText: "disabled" }).waitFor();
  assert.deepEqual(await (await fetch(base + "/api/v1/targets")).json(), []);
  // The row was redrawn under the focused "Yes": focus stays in the exporters' section.
  await page.waitForFunction(() => document.activeElement?.closest("#exporters") !== null);

  // One question open at a time: asking another closes the first, whose "Yes" was left
  // waiting for a click meant for something else.
  await page.locator("#farm li", { hasText: "a.example.com" }).getByRole("button", { name: "Remove" }).click();
  await page.locator("#farm .confirm").waitFor();
  await page.click("button:has-text('Delete this project')");
  await page.locator("#farm .confirm").waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Yes, delete this project");
  await page.keyboard.press("Escape");

  // Deleting the project, or its service, asks first, naming what goes with it.
  await page.click("button:has-text('Delete this project')");
  await page.getByText(/^Delete the project frontend with its farm web-farm \(\d+ hosts\), 1 exporter, rules and notifiers\?$/).waitFor();
  await page.keyboard.press("Escape");
  await page.click("a:text-is('web')");
  await page.waitForURL(/\/service\/\d+/);
  await page.click("button:has-text('Delete this service')");
  await page.getByText(/^Delete the service web with its project frontend, their \d+ hosts and 1 exporter, and their rules and notifiers\?$/).waitFor();
  await page.keyboard.press("Escape");

  // The audit log saw it all.
  await open(page, base + "/audit");
  await page.getByText("Disabled exporter node:9100").waitFor();
  await page.getByText("Created farm web-farm with 3 hosts").waitFor();
  // Loaded whole (not reached inside the app), its times turn into words once it is live,
  // with the exact time on hover in the browser's locale and zone, named (UTC here), not the
  // server's text.
  const when = page.locator("main time").first();
  await when.filter({ hasText: /^(just now|\d+ (s|min) ago)$/ }).waitFor();
  const title = await when.getAttribute("title");
  assert.doesNotMatch(title, /^\d{4}-\d{2}-\d{2} /);
  assert.match(title, /\d{1,2}:\d{2}:\d{2}.*\b(UTC|GMT)\b/);

  // An answer belongs to the object it came on: through history to another service (the same
  // page component, so the same actions), the form is clean.
  await open(page, base + "/");
  await page.fill("input[name=name]", "api");
  await page.click("button:has-text('Register service')");
  await page.waitForURL(/\/service\/\d+/);
  const apiPath = new URL(page.url()).pathname;
  await open(page, base + "/");
  await page.click("a:text-is('web')");
  await page.waitForURL(/\/service\/\d+/);
  await page.fill("input[name=name]", "frontend");
  await page.selectOption("select[name=shard_id]", { label: "main" });
  await page.click("button:has-text('Register project')");
  await page.locator("small.field-error", { hasText: "exists already" }).waitFor();
  await page.evaluate((path) => {
    history.pushState(null, "", path);
    dispatchEvent(new PopStateEvent("popstate"));
  }, apiPath);
  await page.locator("main h1", { hasText: "Service api" }).waitFor();
  await page.waitForFunction(() => !document.querySelector("main [aria-invalid=true]"));
  assert.equal(await page.getByText("exists already").count(), 0);

  // A delete lands on the list that held it, which says what went; once: not after a reload,
  // and not from the URL.
  await page.click("button:has-text('Delete this service')");
  await page.click("button:has-text('Yes, delete this service')");
  await page.waitForURL(base + "/");
  await page.getByRole("status").filter({ hasText: "Deleted the service api." }).waitFor();
  await page.reload();
  await page.locator("main h1", { hasText: "Services" }).waitFor();
  assert.equal(await page.getByText("Deleted the service").count(), 0);
  assert.deepEqual(env.errors, []);
});
