// End-to-end: the built client in Debian's chromium against a server (the real `galaxy` binary,
// or the fake gateway when GALAXY_E2E_SERVER_CMD=fake). Run with `npm run e2e` after a build.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { launchBrowser, pixelStats, screenshotPath, shipPixelStats, sleep, startServer, waitFor } from "./harness.mjs";

const VIEWPORT = { width: 1280, height: 800 };
let server;
let browser;
let context;
let page;
const consoleErrors = [];
const username = `e2e_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(0, 20);
const password = "correct horse battery";

const hud = (key) => page.locator(`[data-hud="${key}"]`).first().textContent();

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

const nextFrames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/**
 * The WebGL scene alone (HUD and labels hidden), twice: as drawn, and with your ship left out —
 * the pixels that differ are the ship's. Also the ship's box on the canvas and the statistics.
 */
async function sceneShots(name) {
  await page.evaluate(() => document.querySelectorAll(".hud, .labels").forEach((e) => (e.style.visibility = "hidden")));
  try {
    await nextFrames();
    const rect = await page.evaluate(() => window.galaxy.ownShipRect());
    const withShip = await page.locator("canvas#space").screenshot();
    await page.evaluate(() => window.galaxy.hideOwnShip(true));
    await nextFrames();
    const withoutShip = await page.locator("canvas#space").screenshot();
    writeFileSync(screenshotPath(`${name}-scene`), withShip);
    writeFileSync(screenshotPath(`${name}-scene-without-ship`), withoutShip);
    const stats = await pixelStats(browser, withShip);
    const ship = rect ? await shipPixelStats(browser, withShip, withoutShip, rect) : null;
    return { rect, stats, ship };
  } finally {
    await page.evaluate(() => window.galaxy.hideOwnShip(false));
    await page.evaluate(() => document.querySelectorAll(".hud, .labels").forEach((e) => (e.style.visibility = "")));
  }
}

async function shot(name) {
  await page.screenshot({ path: screenshotPath(name) });
}

/** Presses C (cockpit → chase → map → cockpit) until the HUD shows `mode`. */
async function cameraTo(mode) {
  const order = ["COCKPIT", "CHASE", "MAP"];
  for (let i = 0; i < 3; i++) {
    const cam = await hud("camera");
    const now = order.find((m) => cam?.startsWith(m));
    if (now === mode) return;
    const next = order[(order.indexOf(now) + 1) % 3];
    await page.keyboard.press("KeyC");
    await waitFor(async () => (await hud("camera"))?.startsWith(next), `${next} camera`);
  }
  assert.ok((await hud("camera"))?.startsWith(mode), `camera ${mode}`);
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
    await page.goto(server.pageBase + "/");
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

  it("registers, logs in and renders a non-blank scene", async (t) => {
    await page.click("#register-btn");
    await page.locator("#game").waitFor({ state: "visible" });
    await waitOnline();
    assert.equal(await hud("player"), username);
    await sleep(1500); // a few interpolated frames
    const { rect, stats, ship } = await sceneShots("03-chase");
    await shot("03-chase");
    const light = await page.evaluate(() => window.galaxy.light());
    t.diagnostic(`scene ${JSON.stringify(stats)}; ship box ${JSON.stringify(rect)}; ship ${JSON.stringify(ship)}; light ${JSON.stringify(light)}`);
    // Whatever the lighting (the ship may start over the night side, in the Earth's shadow):
    // your ship is drawn where the camera says, readable (not a black cut-out) and shaded (not
    // a flat silhouette), in a scene with some spread of colours and lit pixels.
    assert.ok(rect && rect.width * rect.height >= 4000, `your ship's box on the canvas: ${JSON.stringify(rect)}`);
    assert.ok(ship.shipPixels >= Math.max(1500, 0.1 * ship.area), `only ${ship.shipPixels} of ${ship.area} pixels in the ship's box change without the ship`);
    assert.ok(ship.median >= 24, `your ship is too dark to read: median luminance ${ship.median.toFixed(1)} (want >= 24 of 255)`);
    assert.ok(ship.p90 - ship.p10 >= 12, `your ship is a flat silhouette: luminance ${ship.p10.toFixed(1)}..${ship.p90.toFixed(1)}`);
    assert.ok(stats.distinct >= 24, `scene has ${stats.distinct} distinct colours (want >= 24)`);
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

  it("names other ships from the roster and places them where the server has them", async () => {
    // Another player's ship, so there is one on any server.
    const other = `o${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(0, 20);
    const registered = await fetch(`${server.base}/api/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: other, password }),
    });
    assert.equal(registered.status, 201, `register ${other}`);
    const otherShip = (await registered.json()).ship_id;
    await waitFor(async () => (await page.evaluate(() => window.galaxy.ships())).some((s) => s.id === otherShip), `${other}'s ship in the client`, 15_000);
    // The client's newest state and the server's ships of the same tick: same names, positions
    // within the rows' rounding (0.1 m).
    const same = await waitFor(async () => {
      const seen = await page.evaluate(() => ({ tick: window.galaxy.state().tick, ships: window.galaxy.ships() }));
      const listed = await apiGet("/api/ships");
      return listed.tick === seen.tick ? { seen: seen.ships, listed: listed.ships } : null;
    }, "a tick seen by both", 15_000);
    const byId = new Map(same.listed.map((s) => [s.id, s]));
    assert.ok(same.seen.length >= 1 && same.seen.length === same.listed.length - 1, `${same.seen.length} ships in the client, ${same.listed.length} on the server (one is yours)`);
    for (const s of same.seen) {
      const exact = byId.get(s.id);
      assert.ok(exact, `${s.id} is on the server`);
      assert.equal(s.name, exact.name);
      assert.equal(s.status, exact.status);
      const off = Math.hypot(...s.position.map((c, i) => c - exact.position[i]));
      assert.ok(off <= 0.09, `${s.id} drawn ${off} m from where the server has it`);
    }
    assert.equal(same.seen.find((s) => s.id === otherShip)?.name, other);
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

  it("rotation keys turn the view the way their labels say", async () => {
    // The cockpit camera looks along the nose, so the view turns with the ship. In HOLD the ship
    // stops turning when the key is released. Seen from the camera afterwards, the direction it
    // looked along before must lie to the left after yawing right, above after pitching down; and
    // after rolling left, what was to the right must lie below (the world turns clockwise). The
    // turn can be large (a key held across two 1 s ticks turns ~90°), so the old axes are
    // expressed in the new camera frame rather than projected.
    assert.equal(await hud("attitude_mode"), "HOLD");
    await cameraTo("COCKPIT");
    const own = async () => {
      const me = await apiGet("/api/me");
      return apiGet(`/api/ships/${encodeURIComponent(me.ship.id)}`);
    };
    const still = (s) => Math.hypot(...s.angular_velocity) < 1e-9;
    const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    const turn = async (key) => {
      const start = await waitFor(async () => {
        const s = await own();
        return still(s) ? s : null;
      }, "the ship at rest", 15_000);
      await sleep(1500); // the view has caught up with the last state
      const before = await page.evaluate(() => window.galaxy.cameraAxes());
      await page.keyboard.down(key);
      await sleep(1200); // across at least one tick
      await page.keyboard.up(key);
      await waitFor(async () => {
        const s = await own();
        return still(s) && s.attitude.some((c, i) => Math.abs(c - start.attitude[i]) > 1e-3);
      }, `${key}: a turn that ends`, 15_000);
      await sleep(1500);
      const after = await page.evaluate(() => window.galaxy.cameraAxes());
      // The old forward and right directions, in the new camera's right/up/forward coordinates.
      const inNew = (v) => ({ x: dot(v, after.right), y: dot(v, after.up), z: dot(v, after.forward) });
      return { forward: inNew(before.forward), right: inNew(before.right) };
    };
    const fmt = (v) => `(${v.x.toFixed(2)}, ${v.y.toFixed(2)}, ${v.z.toFixed(2)})`;
    const yaw = await turn("KeyD");
    assert.ok(yaw.forward.x < -0.1 && Math.abs(yaw.forward.y) < 0.05, `D (yaw right): the old view direction should now lie to the left, it is at ${fmt(yaw.forward)} (right, up, forward)`);
    const pitch = await turn("KeyW");
    assert.ok(pitch.forward.y > 0.1 && Math.abs(pitch.forward.x) < 0.05, `W (pitch down): the old view direction should now lie above, it is at ${fmt(pitch.forward)}`);
    const roll = await turn("KeyQ");
    assert.ok(roll.right.y < -0.1 && roll.forward.z > 0.99, `Q (roll left): the old right should now lie below, it is at ${fmt(roll.right)} (forward ${fmt(roll.forward)})`);
    await cameraTo("CHASE");
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
    // Every text the status in the top bar and the banner take, recorded in the page: the HUD
    // only changes on animation frames, which a loaded machine's software renderer can space
    // seconds apart, so polling alone could miss the outage.
    await page.evaluate(() => {
      const conn = document.querySelector('[data-hud="conn"]');
      const banner = document.querySelector(".banner");
      const seen = (window.__connSeen = []);
      const note = () => seen.push({ conn: conn.textContent, banner: banner.hidden ? null : banner.textContent });
      window.__connWatch = new MutationObserver(note);
      for (const el of [conn, banner]) window.__connWatch.observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
    });
    const seen = () => page.evaluate(() => window.__connSeen);
    const mark = consoleErrors.length;
    // The network goes away for 8 s: every connection through the proxy is reset, new ones too.
    server.dropNetwork(8000);
    try {
      await waitFor(async () => (await seen()).some((s) => /OFFLINE|RECONNECTING/.test(s.conn)), "offline status", 20_000);
      if (await page.locator(".banner").isVisible()) await shot("08-reconnecting");
      await waitOnline();
      const history = await seen();
      t.diagnostic(`status while offline: ${[...new Set(history.map((s) => s.conn.replace(/[\d.]+ s/, "N s")))].join(" | ")}`);
      assert.ok(
        history.some((s) => /Connection lost|Reconnecting/.test(s.banner ?? "")),
        `the banner said so: ${JSON.stringify([...new Set(history.map((s) => s.banner))])}`,
      );
    } finally {
      await page.evaluate(() => window.__connWatch?.disconnect());
      // The browser logs each refused WebSocket handshake, and any request cut off, during the
      // outage: those were expected.
      const outage = /WebSocket connection to .* failed|Failed to load resource: net::ERR_(CONNECTION_RESET|CONNECTION_REFUSED|CONNECTION_CLOSED|SOCKET_NOT_CONNECTED|EMPTY_RESPONSE)/;
      const others = consoleErrors.slice(mark).filter((e) => !outage.test(e));
      consoleErrors.length = mark;
      consoleErrors.push(...others);
    }
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
