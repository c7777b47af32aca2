// End-to-end: the admin dashboard (served by the real `galaxy` binary on GALAXY_ADMIN_ADDR) in
// Debian's chromium. An admin logs in, sees the tick advance, pauses (the tick stops), resumes,
// changes the tick rate and sees it applied, and finds each action in the audit log. A player's
// session opens nothing there. Skipped against the fake gateway, which has no dashboard.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { freePort, launchBrowser, screenshotPath, serverKind, sleep, startServer, waitFor } from "./harness.mjs";

const ADMIN = "admin";
const ADMIN_PASSWORD = `e2e-${Math.random().toString(36).slice(2)}-dashboard`;

describe("admin dashboard", { skip: serverKind().fake && "the fake gateway has no admin dashboard" }, () => {
  let server;
  let browser;
  let page;
  let adminBase;
  const consoleErrors = [];
  const failedRequests = [];

  before(async () => {
    const adminPort = await freePort();
    adminBase = `http://127.0.0.1:${adminPort}`;
    server = await startServer({
      GALAXY_ADMIN_ADDR: `127.0.0.1:${adminPort}`,
      GALAXY_ADMIN_USERNAME: ADMIN,
      GALAXY_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    await waitFor(async () => (await fetch(`${adminBase}/admin/`)).ok, "the dashboard to answer", 30_000);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("response", (r) => r.status() >= 400 && failedRequests.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  const tick = async () => Number(await page.locator("#s-tick").textContent());
  const state = () => page.locator("#s-state").textContent();

  it("refuses a wrong password, then logs the admin in", async () => {
    await page.goto(`${adminBase}/admin/`);
    await page.locator("#login-view").waitFor({ state: "visible" });
    await page.fill("#login-username", ADMIN);
    await page.fill("#login-password", "not the password");
    await page.click("#login-submit");
    await waitFor(async () => /login failed/.test(await page.locator("#message").textContent()), "the refusal");
    assert.ok(await page.locator("#admin-view").isHidden());
    await page.fill("#login-password", ADMIN_PASSWORD);
    await page.click("#login-submit");
    await page.locator("#admin-view").waitFor({ state: "visible" });
    assert.match(await page.locator("#who").textContent(), /admin/);
  });

  it("shows the tick advancing", async () => {
    const first = await waitFor(async () => (await tick()) > 0 && (await tick()), "a first tick");
    await waitFor(async () => (await tick()) > first, "the tick to advance");
    assert.equal(await state(), "running");
  });

  it("pauses: the tick stops; resumes: it advances again", async () => {
    await page.click("#pause");
    await waitFor(async () => (await state()) === "paused", "the paused state");
    const stopped = await tick();
    await sleep(2_500); // 2.5 periods at the default 1 Hz
    assert.equal(await tick(), stopped, "no tick while paused");
    await page.click("#resume");
    await waitFor(async () => (await state()) === "running", "the running state");
    await waitFor(async () => (await tick()) > stopped, "a tick after resuming");
  });

  it("changes the tick rate and the loop runs at it", async () => {
    await page.fill("#rate-input", "5");
    await page.locator("#rate-form button[type=submit]").click();
    await waitFor(async () => (await page.locator("#s-rate").textContent()).startsWith("5 Hz"), "the configured rate");
    const from = await tick();
    const started = Date.now();
    await sleep(3_000);
    const rate = ((await tick()) - from) / ((Date.now() - started) / 1000);
    assert.ok(rate > 3, `about 5 ticks a second after the change, saw ${rate.toFixed(2)}/s`);
    // The measured rate on the page follows (a ten-second window, so it is still climbing).
    await waitFor(async () => {
      const actual = Number((await page.locator("#s-rate").textContent()).split("/")[1].replace("Hz", ""));
      return actual > 1.5;
    }, "the actual rate to climb", 10_000);
    writeFileSync(screenshotPath("admin-dashboard"), await page.screenshot({ fullPage: true }));
  });

  it("lists every action in the audit log", async () => {
    await page.click("button[data-tab=audit-tab]");
    const text = await waitFor(async () => {
      const t = await page.locator("#audit").textContent();
      return /pause/.test(t) && /resume/.test(t) && /tick/.test(t) && t;
    }, "the audit entries");
    assert.match(text, new RegExp(ADMIN));
  });

  it("gives a player's session nothing", async () => {
    const username = `pl_${Date.now().toString(36)}`.slice(0, 20);
    const registered = await fetch(`${server.base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: "correct horse battery" }),
    });
    assert.equal(registered.status, 201, await registered.clone().text());
    const refused = await fetch(`${adminBase}/admin/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: "correct horse battery" }),
    });
    assert.equal(refused.status, 403, "a player is not an admin");
    const { token } = await registered.json();
    const withToken = await fetch(`${adminBase}/admin/api/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok([401, 403].includes(withToken.status), `player token on an admin endpoint: ${withToken.status}`);
  });

  it("logged no console errors and made no failing request but the wrong password's", () => {
    // Expected: the page asking whether it has a session before the login, and the wrong password.
    const expected = (r) => /^401 (GET .*\/admin\/api\/me|POST .*\/admin\/api\/login)$/.test(r);
    assert.deepEqual(failedRequests.filter((r) => !expected(r)), []);
    assert.equal(failedRequests.filter((r) => r.includes("POST")).length, 1, "the wrong password was refused once");
    const unexpected = consoleErrors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(unexpected, [], `console errors (failed requests: ${failedRequests.join("; ")})`);
  });
});
