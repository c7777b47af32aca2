// End-to-end: the built client in Debian's chromium against a server (the real `galaxy` binary,
// or the fake gateway when GALAXY_E2E_SERVER_CMD=fake). Run with `npm run e2e` after a build.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { launchBrowser, pixelStats, screenshotPath, startServer } from "./harness.mjs";

const VIEWPORT = { width: 1280, height: 800 };
let server;
let browser;
let context;
let page;
const consoleErrors = [];
const username = `e2e_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(0, 20);
const password = "correct horse battery";

const hud = (key) => page.locator(`[data-hud="${key}"]`).first().textContent();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, what, timeout = 15_000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(150);
  }
}

async function token() {
  return page.evaluate(() => JSON.parse(localStorage.getItem("galaxy.session") ?? "null")?.token ?? null);
}

async function apiGet(path) {
  const t = await token();
  const r = await fetch(`${server.base}${path}`, { headers: { Authorization: `Bearer ${t}` } });
  assert.equal(r.status, 200, `GET ${path} -> ${r.status} ${await r.clone().text()}`);
  return r.json();
}

/** The ship's speed relative to the Earth (or its reference body), from the server. */
async function serverSpeed() {
  const me = await apiGet("/api/me");
  assert.ok(me.ship, "the player has a ship");
  const ship = await apiGet(`/api/ships/${encodeURIComponent(me.ship.id)}`);
  const config = await (await fetch(`${server.base}/api/config`)).json();
  const bodies = await (await fetch(`${server.base}/api/bodies`)).json();
  const ref = bodies.bodies.find((b) => b.name === (config.spawn_body ?? "Earth")) ?? bodies.bodies[0];
  const v = ship.velocity.map((c, i) => c - ref.velocity[i]);
  return { speed: Math.hypot(...v), ship };
}

async function sceneStats(name) {
  // Hide the HTML overlays so only the WebGL scene is judged.
  await page.evaluate(() => document.querySelectorAll(".hud, .labels").forEach((e) => (e.style.visibility = "hidden")));
  const png = await page.locator("canvas#space").screenshot();
  await page.evaluate(() => document.querySelectorAll(".hud, .labels").forEach((e) => (e.style.visibility = "")));
  writeFileSync(screenshotPath(`${name}-scene`), png);
  return pixelStats(browser, png);
}

async function shot(name) {
  await page.screenshot({ path: screenshotPath(name) });
}

async function waitOnline() {
  await waitFor(async () => (await hud("conn"))?.includes("ONLINE"), "connection ONLINE", 30_000);
  await waitFor(async () => /^\d+$/.test((await hud("tick")) ?? ""), "first state");
}

describe("web client end to end", { timeout: 300_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: VIEWPORT });
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    server?.stop();
  });

  it("shows the login screen with clear errors", async () => {
    await page.goto(server.base + "/");
    await page.locator("#login").waitFor({ state: "visible" });
    await shot("01-login");
    // Client-side check first: a too-short password.
    await page.fill("#username", username);
    await page.fill("#password", "short");
    await page.click("#register-btn");
    assert.match(await page.locator("#login-error").textContent(), /at least 8 characters/);
    // Server-side: unknown account.
    await page.fill("#password", password);
    await page.click("#login-btn");
    await waitFor(async () => /Wrong username or password/.test(await page.locator("#login-error").textContent()), "invalid_credentials message");
    await shot("02-login-error");
    // The browser logs the refused login (HTTP 401) as a console error: that one was expected.
    const expected = consoleErrors.filter((e) => /status of 401/.test(e));
    assert.equal(expected.length, consoleErrors.length, `unexpected console errors: ${consoleErrors}`);
    consoleErrors.length = 0;
  });

  it("registers, logs in and renders a non-blank scene", async () => {
    await page.click("#register-btn");
    await page.locator("#game").waitFor({ state: "visible" });
    await waitOnline();
    assert.equal(await hud("player"), username);
    await sleep(1500); // a few interpolated frames
    const stats = await sceneStats("03-chase");
    await shot("03-chase");
    assert.ok(stats.distinct >= 64, `scene has ${stats.distinct} distinct colours (want >= 64)`);
    assert.ok(stats.litFraction >= 0.005, `scene lit fraction ${stats.litFraction} (want >= 0.5%)`);
  });

  it("updates the HUD from tick to tick", async () => {
    const t0 = Number(await hud("tick"));
    const g0 = await hud("game_time");
    const body = await hud("body");
    assert.notEqual(body, "—", "dominant body shown");
    for (const k of ["altitude", "speed", "apoapsis", "periapsis", "period", "inclination", "fuel", "delta_v", "throttle", "attitude_mode"]) {
      const v = await hud(k);
      assert.ok(v && v !== "—", `HUD ${k} has a value (got ${v})`);
    }
    await waitFor(async () => Number(await hud("tick")) >= t0 + 2, "two more ticks", 10_000);
    assert.notEqual(await hud("game_time"), g0, "game time advances");
    await waitFor(async () => /pts/.test((await hud("prediction")) ?? ""), "predicted orbit loaded", 15_000);
  });

  it("moves smoothly between ticks (interpolated every frame, no jumps)", async () => {
    // Sample what each animation frame showed for 3 s (several ticks).
    const samples = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const out = [];
          const end = performance.now() + 3000;
          const step = () => {
            const s = window.galaxy.shown();
            if (s && (!out.length || out[out.length - 1].wall !== s.wall)) out.push(s);
            if (performance.now() < end) requestAnimationFrame(step);
            else resolve(out);
          };
          requestAnimationFrame(step);
        }),
    );
    assert.ok(samples.length >= 3, `only ${samples.length} frames in 3 s`);
    const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1];
      const b = samples[i];
      const dt = b.wall - a.wall;
      const expected = Math.hypot(...b.velocity) * dt;
      const moved = dist(a.position, b.position);
      // Every frame moves (not only on ticks), by about speed × frame time: no frozen frames, no jumps.
      assert.ok(moved > 0, `frame ${i} did not move`);
      assert.ok(Math.abs(moved - expected) <= 0.25 * expected + 50, `frame ${i}: moved ${moved.toFixed(1)} m in ${dt.toFixed(3)} s, expected ${expected.toFixed(1)} m`);
    }
  });

  it("throttle keys change the ship's speed on the server", async () => {
    const before = await serverSpeed();
    await page.keyboard.press("Equal"); // +10%
    await waitFor(async () => (await hud("throttle"))?.startsWith("10%"), "HUD throttle 10%");
    await page.keyboard.press("KeyZ"); // full
    await waitFor(async () => (await hud("throttle"))?.startsWith("100%"), "HUD throttle 100%");
    await waitFor(async () => (await serverSpeed()).ship.throttle === 1, "server throttle 1", 10_000);
    // Burn until the speed relative to the spawn body has changed by more than 5 m/s.
    const during = await waitFor(async () => {
      const now = await serverSpeed();
      return Math.abs(now.speed - before.speed) > 5 ? now : null;
    }, "the speed to change under thrust", 20_000);
    await page.keyboard.press("KeyX"); // cut
    await waitFor(async () => (await serverSpeed()).ship.throttle === 0, "server throttle back to 0", 10_000);
    assert.ok(Math.abs(during.speed - before.speed) > 5, `speed changed by ${during.speed - before.speed} m/s`);
    assert.ok(during.ship.fuel < before.ship.fuel, "fuel burned");
    await waitFor(async () => (await hud("throttle"))?.startsWith("0%"), "HUD throttle 0%");
  });

  it("switches attitude modes, targets and cameras; help lists the keys", async () => {
    await page.keyboard.press("KeyP");
    await waitFor(async () => (await hud("attitude_mode")) === "PROGRADE", "prograde mode", 10_000);
    await page.keyboard.press("Tab");
    await waitFor(async () => !(await hud("target_name"))?.startsWith("none"), "a target");
    assert.notEqual(await hud("target_distance"), "—");
    await page.keyboard.press("Shift+/"); // "?"
    await page.locator(".modal.help").waitFor({ state: "visible" });
    const help = await page.locator(".modal.help").textContent();
    for (const k of ["Shift+P", "Retrograde", "Shift+J", "Antinormal", "Radial in", "Tab", "Full throttle", "Cut engine"]) assert.ok(help.includes(k), `help lists ${k}`);
    await shot("04-help");
    await page.keyboard.press("Escape");
    await page.locator(".modal.help").waitFor({ state: "hidden" });
    await page.keyboard.press("KeyC"); // chase -> map... order: cockpit, chase, map
    await waitFor(async () => (await hud("camera"))?.startsWith("MAP"), "map camera");
    await page.keyboard.press("KeyB");
    await sleep(800);
    await shot("05-map-near");
    await page.mouse.move(640, 400);
    for (let i = 0; i < 3; i++) await page.mouse.wheel(0, 2500);
    await sleep(800);
    await shot("06-map-system");
    await page.keyboard.press("KeyB");
    await page.keyboard.press("KeyC");
    await waitFor(async () => (await hud("camera"))?.startsWith("COCKPIT"), "cockpit camera");
    await sleep(800);
    await shot("07-cockpit");
    await page.keyboard.press("KeyC");
    await waitFor(async () => (await hud("camera"))?.startsWith("CHASE"), "chase camera");
    await page.keyboard.press("KeyH");
    await waitFor(async () => (await hud("attitude_mode")) === "HOLD", "hold mode", 10_000);
  });

  it("on-screen buttons send commands too", async () => {
    await page.click('button[data-action="mode_retrograde"]');
    await waitFor(async () => (await hud("attitude_mode")) === "RETROGRADE", "retrograde via button", 10_000);
    await page.click('button[data-action="mode_hold"]');
    await waitFor(async () => (await hud("attitude_mode")) === "HOLD", "hold via button", 10_000);
  });

  it("keeps the session across a reload", async () => {
    const t = await token();
    await page.reload();
    await page.locator("#game").waitFor({ state: "visible" });
    await waitOnline();
    assert.equal(await hud("player"), username);
    // The same session (a token close to expiry may have been refreshed, so ask the server).
    assert.ok(t && (await token()), "a token is stored");
    const me = await apiGet("/api/me");
    assert.equal(me.player.username, username);
    assert.ok(await page.locator("#login").isHidden());
  });

  it("reconnects by itself after a dropped connection", async (t) => {
    if (!server.fake) return t.skip("needs the fake gateway's /__fake/drop hook");
    await fetch(`${server.base}/__fake/drop?refuse_ms=5000`, { method: "POST" });
    await waitFor(async () => /OFFLINE|RECONNECTING/.test((await hud("conn")) ?? ""), "offline status", 5000);
    await page.locator(".banner").waitFor({ state: "visible" });
    assert.match(await page.locator(".banner").textContent(), /Connection lost|Reconnecting/);
    await shot("08-reconnecting");
    await waitOnline();
    // The browser logs each refused WebSocket handshake during the outage: those were expected.
    const others = consoleErrors.filter((e) => !/WebSocket connection to .* failed/.test(e));
    consoleErrors.length = 0;
    consoleErrors.push(...others);
    const t0 = Number(await hud("tick"));
    await waitFor(async () => Number(await hud("tick")) > t0, "ticks after the reconnect", 10_000);
  });

  it("respawns with a chosen class", async () => {
    const before = (await apiGet("/api/me")).ship;
    await page.keyboard.press("KeyN");
    await page.locator(".modal.respawn").waitFor({ state: "visible" });
    await page.click('button[data-class="cargo_hauler"]');
    await waitFor(async () => (await apiGet("/api/me")).ship?.class === "cargo_hauler", "a cargo hauler", 10_000);
    await waitFor(async () => (await hud("ship_name"))?.includes("cargo hauler"), "HUD shows the new class", 10_000);
    assert.ok(before);
  });

  it("logs out", async () => {
    await page.click("#logout");
    await page.locator("#login").waitFor({ state: "visible" });
    assert.equal(await token(), null);
    await page.reload();
    await page.locator("#login").waitFor({ state: "visible" });
  });

  it("logged no console errors", () => {
    assert.deepEqual(consoleErrors, []);
  });
});
