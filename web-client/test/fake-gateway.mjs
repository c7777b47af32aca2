#!/usr/bin/env node
// A small fake of the Galaxy api-gateway for developing and component-testing the web client:
// serves web-client/dist at "/", implements the REST endpoints and the /ws WebSocket of
// docs/protocol.md, and runs a toy world (planets on circular orbits around a fixed Sun, the Moon
// around the Earth, ships as test particles around the Earth with thrust, fuel and attitude) so
// states change from tick to tick. It is not the real server: physics is two-body and simplified.
//
// Env: GALAXY_HTTP_ADDR (host:port, default 127.0.0.1:8000), GALAXY_WEB_ROOT (default ../dist),
//      FAKE_TICK_RATE (Hz, default 1), FAKE_TIME_SCALE (default 1), FAKE_NPC_SHIPS (extra ships, default 0).
// Test hooks (not part of the protocol): POST /__fake/drop?refuse_ms=N closes every WebSocket
// abruptly and refuses new ones for N ms;
// POST /__fake/pause and /__fake/resume stop and restart the ticks.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const [host, portText] = (process.env.GALAXY_HTTP_ADDR ?? "127.0.0.1:8000").split(/:(?=\d+$)/);
const port = Number(portText);
const webRoot = resolve(process.env.GALAXY_WEB_ROOT ?? join(here, "..", "dist"));
const tickRate = Number(process.env.FAKE_TICK_RATE ?? 1);
const timeScale = Number(process.env.FAKE_TIME_SCALE ?? 1);

// ---- vectors and quaternions ([w, x, y, z]) -------------------------------------------------
const add = (a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const mul = (a, s) => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const len = (a) => Math.hypot(a[0], a[1], a[2]);
const unit = (a) => (len(a) > 0 ? mul(a, 1 / len(a)) : [0, 0, 0]);
const qmul = (a, b) => [
  a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
  a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
  a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
  a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
];
const qnorm = (q) => {
  const l = Math.hypot(...q);
  return q.map((c) => c / l);
};
const qaxis = (axis, angle) => [Math.cos(angle / 2), ...mul(axis, Math.sin(angle / 2))];
const qrot = (q, v) => {
  const p = qmul(qmul(q, [0, ...v]), [q[0], -q[1], -q[2], -q[3]]);
  return [p[1], p[2], p[3]];
};
/** Rotation turning unit a onto unit b. */
const qbetween = (a, b) => {
  const d = dot(a, b);
  if (d < -0.999999) {
    let ax = cross([1, 0, 0], a);
    if (len(ax) < 1e-6) ax = cross([0, 1, 0], a);
    return qaxis(unit(ax), Math.PI);
  }
  return qnorm([1 + d, ...cross(a, b)]);
};

// ---- the toy solar system -------------------------------------------------------------------
const G0 = 9.80665;
const AU = 1.495978707e11;
const SUN_GM = 1.32712440018e20;
const planets = [
  // name, a (AU), phase (rad), GM, radius (m), colour
  ["Mercury", 0.387, 0.5, 2.2032e13, 2.4397e6, 0x9c9c9c],
  ["Venus", 0.723, 2.1, 3.24859e14, 6.0518e6, 0xe8cda2],
  ["Earth", 1.0, 1.75, 3.986004418e14, 6.371e6, 0x3d7bd9],
  ["Mars", 1.524, 4.0, 4.282837e13, 3.3895e6, 0xc1440e],
  ["Jupiter", 5.203, 0.6, 1.26686534e17, 6.9911e7, 0xd8b58a],
  ["Saturn", 9.537, 3.3, 3.7931187e16, 5.8232e7, 0xe3d1a0],
  ["Uranus", 19.19, 5.2, 5.793939e15, 2.5362e7, 0x9fd8e0],
  ["Neptune", 30.07, 2.7, 6.836529e15, 2.4622e7, 0x4b70dd],
];
const MOON = { name: "Moon", a: 3.844e8, phase: 0.9, gm: 4.9028e12, radius: 1.7374e6, color: 0xbfbfbf, inc: (5.14 * Math.PI) / 180 };
const EARTH_GM = 3.986004418e14;
const EARTH_R = 6.371e6;

function circular(a, gm, phase, t, inc = 0) {
  const w = Math.sqrt(gm / a ** 3);
  const th = phase + w * t;
  const p = [a * Math.cos(th), a * Math.sin(th), 0];
  const v = [-a * w * Math.sin(th), a * w * Math.cos(th), 0];
  const tilt = (u) => [u[0], u[1] * Math.cos(inc), u[1] * Math.sin(inc)];
  return { position: tilt(p), velocity: tilt(v) };
}

function bodyStates(t) {
  const out = [{ name: "Sun", position: [0, 0, 0], velocity: [0, 0, 0] }];
  let earth;
  for (const [name, a, phase] of planets) {
    const s = circular(a * AU, SUN_GM, phase, t);
    if (name === "Earth") earth = s;
    out.push({ name, ...s });
  }
  const m = circular(MOON.a, EARTH_GM, MOON.phase, t, MOON.inc);
  out.push({ name: "Moon", position: add(earth.position, m.position), velocity: add(earth.velocity, m.velocity) });
  return out;
}
const earthAt = (t) => circular(AU, SUN_GM, planets[2][2], t);

const catalog = [
  { name: "Sun", kind: "star", parent: null, gm: SUN_GM, radius: 6.957e8, color: 0xfff4d6 },
  ...planets.map(([name, , , gm, radius, color]) => ({ name, kind: "planet", parent: "Sun", gm, radius, color })),
  { name: "Moon", kind: "moon", parent: "Earth", gm: MOON.gm, radius: MOON.radius, color: MOON.color },
];

const CLASSES = {
  fast_frigate: { dry_mass: 8000, fuel_capacity: 15000, max_thrust: 600000, isp: 20000, acc: 0.5, rate: 0.8 },
  cargo_hauler: { dry_mass: 100000, fuel_capacity: 60000, max_thrust: 400000, isp: 15000, acc: 0.08, rate: 0.3 },
};
const MODES = ["hold", "prograde", "retrograde", "normal", "antinormal", "radial_in", "radial_out", "target"];

let tick = 0;
let gameTime = 0;
let nextPlayer = 1;
let nextShip = 1;
const players = new Map(); // key (lowercase username) -> player
const playersById = new Map();
const sessions = new Map(); // token -> { playerId, expires }
const ships = new Map(); // id -> ship (relative to Earth: rel, relv)

const ORBIT_R = EARTH_R + 400000;
const ORBIT_INC = 0.2;
function orbitState(phase) {
  const s = circular(ORBIT_R, EARTH_GM, phase, 0, ORBIT_INC);
  return { rel: s.position, relv: s.velocity };
}

/** Attitude with the nose along `fwd` and the top toward `upHint` (ship frame: +Z forward, +Y up, +X right). */
function lookAttitude(fwd, upHint) {
  const z = unit(fwd);
  const x = unit(cross(upHint, z));
  const y = cross(z, x);
  // Rotation matrix columns x, y, z -> quaternion [w, x, y, z].
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = [x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]];
  const tr = m00 + m11 + m22;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    return qnorm([s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s]);
  }
  if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    return qnorm([(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s]);
  }
  if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    return qnorm([(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s]);
  }
  const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
  return qnorm([(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4]);
}

function makeShip(owner, name, cls, phase) {
  const c = CLASSES[cls];
  const id = `ship-${nextShip++}`;
  const { rel, relv } = orbitState(phase);
  const ship = {
    id, owner, name, class: cls, rel, relv,
    attitude: lookAttitude(relv, rel),
    angular_velocity: [0, 0, 0],
    fuel: c.fuel_capacity,
    control: { throttle: 0, pitch: 0, yaw: 0, roll: 0 },
    attitude_mode: "hold",
    target: null,
    status: "flying",
  };
  ships.set(id, ship);
  return ship;
}

// NPC traffic: the first one flies just ahead of where players spawn.
// On the day side: the Earth sits at heliocentric phase 1.75 rad, so the Sun is toward 1.75 + π.
const VEGA_PHASE = 1.75 + Math.PI - 0.5;
makeShip("0", "npc_vega", "cargo_hauler", VEGA_PHASE);
makeShip("0", "npc_orion", "fast_frigate", VEGA_PHASE + 0.004);
makeShip("0", "npc_lyra", "fast_frigate", VEGA_PHASE + 1.5);
const spawnPhase = () => VEGA_PHASE - 1200 / ORBIT_R; // 1.2 km behind npc_vega
// Crowd test: FAKE_NPC_SHIPS=1000 adds that many more ships spread round the orbit (like the real game scene).
for (let i = 0; i < Number(process.env.FAKE_NPC_SHIPS ?? 0); i++) makeShip("0", `npc_${i}`, "fast_frigate", (2 * Math.PI * i) / Number(process.env.FAKE_NPC_SHIPS));

function worldState(ship, t = gameTime) {
  const e = earthAt(t);
  return { position: add(e.position, ship.rel), velocity: add(e.velocity, ship.relv) };
}

function summary(ship) {
  const w = worldState(ship);
  return {
    id: ship.id, owner: ship.owner, name: ship.name, class: ship.class,
    position: w.position, velocity: w.velocity, attitude: ship.attitude,
    fuel: ship.fuel, throttle: ship.control.throttle, attitude_mode: ship.attitude_mode, status: ship.status,
  };
}

function full(ship) {
  const c = CLASSES[ship.class];
  const ve = c.isp * G0;
  return {
    ...summary(ship),
    angular_velocity: ship.angular_velocity,
    dry_mass: c.dry_mass, fuel_capacity: c.fuel_capacity, max_thrust: c.max_thrust, exhaust_velocity: ve,
    delta_v: ve * Math.log((c.dry_mass + ship.fuel) / c.dry_mass),
    control: { ...ship.control },
    target: ship.target,
    surface_body: null,
  };
}

function desired(ship) {
  const r = ship.rel;
  const v = ship.relv;
  switch (ship.attitude_mode) {
    case "prograde": return v;
    case "retrograde": return mul(v, -1);
    case "normal": return cross(r, v);
    case "antinormal": return mul(cross(r, v), -1);
    case "radial_in": return mul(r, -1);
    case "radial_out": return r;
    case "target": {
      if (!ship.target) return null;
      const me = worldState(ship).position;
      let p = null;
      if (ship.target.body) p = bodyStates(gameTime).find((b) => b.name === ship.target.body)?.position;
      else if (ship.target.ship && ships.get(ship.target.ship)) p = worldState(ships.get(ship.target.ship)).position;
      return p ? sub(p, me) : null;
    }
    default: return null;
  }
}

function stepShip(ship, dt) {
  const c = CLASSES[ship.class];
  // Attitude: inputs accelerate about the ship axes (right-hand rule, like the engine), otherwise slew or hold.
  const inputs = [ship.control.pitch, ship.control.yaw, ship.control.roll];
  let w = ship.angular_velocity;
  if (inputs.some((x) => x !== 0)) {
    w = add(w, qrot(ship.attitude, mul(inputs, c.acc * dt)));
  } else {
    const d = desired(ship);
    let want = [0, 0, 0];
    if (d && len(d) > 0) {
      const f = qrot(ship.attitude, [0, 0, 1]);
      const dn = unit(d);
      const axis = cross(f, dn);
      const angle = Math.atan2(len(axis), dot(f, dn));
      if (angle > 1e-9) {
        const ax = len(axis) > 1e-12 ? unit(axis) : unit(cross(f, [0, 1, 0]));
        want = mul(ax, Math.min(c.rate, Math.sqrt(2 * c.acc * angle), angle / dt));
      }
    }
    const change = sub(want, w);
    const cl = len(change);
    w = add(w, cl > c.acc * dt ? mul(change, (c.acc * dt) / cl) : change);
  }
  if (len(w) > c.rate) w = mul(unit(w), c.rate);
  ship.angular_velocity = w;
  if (len(w) > 0) ship.attitude = qnorm(qmul(qaxis(unit(w), len(w) * dt), ship.attitude));
  // Thrust and fuel (rocket equation), then two-body gravity around the Earth (leapfrog).
  const accel = (r) => mul(r, -EARTH_GM / len(r) ** 3);
  let thrustAcc = [0, 0, 0];
  if (ship.control.throttle > 0 && ship.fuel > 0) {
    const ve = c.isp * G0;
    const m = c.dry_mass + ship.fuel;
    const burn = Math.min(ship.fuel, ((c.max_thrust * ship.control.throttle) / ve) * dt);
    ship.fuel -= burn;
    const dv = ve * Math.log(m / (m - burn));
    thrustAcc = mul(qrot(ship.attitude, [0, 0, 1]), dv / dt);
  }
  const a0 = add(accel(ship.rel), thrustAcc);
  const vHalf = add(ship.relv, mul(a0, dt / 2));
  ship.rel = add(ship.rel, mul(vHalf, dt));
  ship.relv = add(vHalf, mul(add(accel(ship.rel), thrustAcc), dt / 2));
  if (len(ship.rel) < EARTH_R) {
    ship.status = "crashed";
    ship.rel = mul(unit(ship.rel), EARTH_R);
    ship.relv = [0, 0, 0];
    ship.control = { throttle: 0, pitch: 0, yaw: 0, roll: 0 };
  }
}

function elements(rel, relv, gm) {
  const r = len(rel);
  const v2 = dot(relv, relv);
  const energy = v2 / 2 - gm / r;
  const h = cross(rel, relv);
  const e = len(sub(mul(cross(relv, h), 1 / gm), mul(rel, 1 / r)));
  const a = -gm / (2 * energy);
  const bound = energy < 0 && e < 1;
  return {
    reference_body: "Earth", semi_major_axis: a, eccentricity: e,
    inclination: Math.acos(Math.max(-1, Math.min(1, h[2] / len(h)))),
    periapsis: (len(h) ** 2 / gm) / (1 + e),
    apoapsis: bound ? a * (1 + e) : null,
    period: bound ? 2 * Math.PI * Math.sqrt(a ** 3 / gm) : null,
  };
}

function prediction(ship, horizon, samples) {
  const probe = { ...ship, control: { throttle: 0, pitch: 0, yaw: 0, roll: 0 }, attitude_mode: "hold", angular_velocity: [0, 0, 0] };
  const points = [];
  const sampleDt = horizon / samples;
  const substeps = Math.max(1, Math.ceil(sampleDt / 10));
  for (let i = 1; i <= samples; i++) {
    for (let k = 0; k < substeps; k++) stepShip(probe, sampleDt / substeps);
    const t = gameTime + i * sampleDt;
    points.push({ time: t, position: add(earthAt(t).position, probe.rel), relative_position: probe.rel });
  }
  return { reference_body: "Earth", points, elements: elements(ship.rel, ship.relv, EARTH_GM) };
}

// ---- the tick ---------------------------------------------------------------------------
const clients = new Set();
let paused = false;
let refuseUntil = 0; // test hook: refuse WebSocket upgrades until then
function runTick() {
  if (paused) return;
  const dt = timeScale / tickRate;
  const substeps = Math.max(1, Math.ceil(dt / 0.1));
  for (const ship of ships.values()) {
    if (ship.status === "crashed") continue;
    for (let i = 0; i < substeps; i++) stepShip(ship, dt / substeps);
  }
  tick += 1;
  gameTime += dt;
  for (const c of clients) sendState(c);
}
setInterval(runTick, 1000 / tickRate);

// Ships in states as the gateway sends them (docs/protocol.md): names in a roster, sent when the
// ships change and before a client's first state; each state a row of rounded numbers per ship.
const STATUSES = ["flying", "landed", "crashed"];
let roster = { type: "roster", version: 0, ships: [] };
let rosterKey = "";
function currentRoster() {
  const list = [...ships.values()].map((s) => ({ id: s.id, owner: s.owner, name: s.name, class: s.class }));
  const key = JSON.stringify(list);
  if (key !== rosterKey) {
    rosterKey = key;
    roster = { type: "roster", version: roster.version + 1, ships: list };
  }
  return roster;
}
const rounded = (perUnit) => (x) => Math.round(x * perUnit) / perUnit;
function shipRow(ship) {
  const s = summary(ship);
  return [
    ...s.position.map(rounded(10)), ...s.velocity.map(rounded(100)), ...s.attitude.map(rounded(1e4)),
    Math.round(s.fuel), rounded(1000)(s.throttle), MODES.indexOf(s.attitude_mode), STATUSES.indexOf(s.status),
  ];
}

function stateMessage(player, version) {
  const own = [...ships.values()].find((s) => s.owner === player.id) ?? null;
  return {
    type: "state", tick, game_time: gameTime, roster: version,
    bodies: bodyStates(gameTime),
    ships: [...ships.values()].map(shipRow),
    own_ship: own ? full(own) : null,
  };
}
function sendState(c) {
  if (c.ws.readyState !== 1 || !c.player) return;
  const r = currentRoster();
  if (c.rosterVersion !== r.version) {
    c.ws.send(JSON.stringify(r));
    c.rosterVersion = r.version;
  }
  c.ws.send(JSON.stringify(stateMessage(c.player, r.version)));
}

// ---- REST ---------------------------------------------------------------------------------
const config = () => ({
  tick_rate_hz: tickRate, time_scale: timeScale, registrations_open: true, spawn_body: "Earth",
  spawn_altitude: 400000.0, ship_classes: Object.keys(CLASSES),
});

class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    Object.assign(this, { status, code, headers });
  }
}

function newSession(player) {
  const token = randomBytes(32).toString("base64url");
  const expires = Math.floor(Date.now() / 1000) + 86400;
  sessions.set(token, { playerId: player.id, expires });
  const ship = [...ships.values()].find((s) => s.owner === player.id);
  return { token, expires_at: expires, player: publicPlayer(player), ship_id: ship?.id ?? null };
}
const publicPlayer = (p) => ({ id: p.id, username: p.username, role: p.role });

function auth(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  const s = m && sessions.get(m[1]);
  if (!s || s.expires < Date.now() / 1000) throw new HttpError(401, "unauthenticated", "missing or invalid token");
  return { player: playersById.get(s.playerId), token: m[1] };
}

function credentials(body) {
  if (!body || typeof body.username !== "string" || typeof body.password !== "string")
    throw new HttpError(400, "malformed_request", "expected {username, password} strings");
  return body;
}

function ownShip(player, id) {
  const ship = ships.get(id);
  if (!ship) throw new HttpError(404, "not_found", `no ship ${id}`);
  if (ship.owner !== player.id) throw new HttpError(403, "forbidden", "not your ship");
  return ship;
}

/** A new player ship 1.2 km behind npc_vega, wherever it is now. */
function spawnShip(player, cls) {
  const ship = makeShip(player.id, player.username, cls, spawnPhase());
  const vega = [...ships.values()].find((x) => x.name === "npc_vega");
  if (vega) {
    const back = qaxis(unit(cross(vega.rel, vega.relv)), -1200 / len(vega.rel));
    ship.rel = qrot(back, vega.rel);
    ship.relv = qrot(back, vega.relv);
    ship.attitude = lookAttitude(ship.relv, ship.rel);
  }
  return ship;
}

function respawn(player, cls) {
  if (!CLASSES[cls]) throw new HttpError(422, "invalid_argument", `unknown ship class ${cls}`);
  for (const [id, s] of ships) if (s.owner === player.id) ships.delete(id);
  return spawnShip(player, cls);
}

async function api(req, url, body) {
  const p = url.pathname;
  const m = req.method;
  if (m === "POST" && p === "/api/auth/register") {
    const { username, password } = credentials(body);
    if (!/^[A-Za-z0-9_]{3,20}$/.test(username)) throw new HttpError(422, "invalid_argument", "username must be 3-20 letters, digits or _");
    if ([...password].length < 8 || [...password].length > 128) throw new HttpError(422, "invalid_argument", "password must be 8-128 characters");
    if (players.has(username.toLowerCase())) throw new HttpError(409, "username_taken", "username taken");
    const player = { id: String(nextPlayer++), username, password, role: "player" };
    players.set(username.toLowerCase(), player);
    playersById.set(player.id, player);
    spawnShip(player, "fast_frigate");
    return [201, newSession(player)];
  }
  if (m === "POST" && p === "/api/auth/login") {
    const { username, password } = credentials(body);
    const player = players.get(username.toLowerCase());
    if (!player || player.password !== password) throw new HttpError(401, "invalid_credentials", "wrong username or password");
    return [200, newSession(player)];
  }
  if (m === "POST" && p === "/api/auth/logout") {
    const { token } = auth(req);
    sessions.delete(token);
    return [204, null];
  }
  if (m === "POST" && p === "/api/auth/refresh") {
    const { player, token } = auth(req);
    sessions.delete(token);
    return [200, newSession(player)];
  }
  if (m === "GET" && p === "/api/me") {
    const { player } = auth(req);
    const ship = [...ships.values()].find((s) => s.owner === player.id);
    return [200, { player: publicPlayer(player), ship: ship ? full(ship) : null }];
  }
  if (m === "GET" && p === "/api/config") return [200, config()];
  if (m === "GET" && p === "/api/bodies") {
    const states = bodyStates(gameTime);
    return [200, { tick, game_time: gameTime, bodies: catalog.map((b, i) => ({ ...b, ...states.find((s) => s.name === b.name) })) }];
  }
  if (m === "GET" && p === "/api/ships") {
    auth(req);
    return [200, { tick, game_time: gameTime, ships: [...ships.values()].map(summary) }];
  }
  let mm = /^\/api\/ships\/([^/]+)$/.exec(p);
  if (m === "GET" && mm) {
    const { player } = auth(req);
    const ship = ships.get(decodeURIComponent(mm[1]));
    if (!ship) throw new HttpError(404, "not_found", "no such ship");
    return [200, ship.owner === player.id ? full(ship) : summary(ship)];
  }
  mm = /^\/api\/ships\/([^/]+)\/prediction$/.exec(p);
  if (m === "GET" && mm) {
    const { player } = auth(req);
    const ship = ownShip(player, decodeURIComponent(mm[1]));
    const horizon = Number(url.searchParams.get("horizon") ?? 5400);
    const samples = Number(url.searchParams.get("samples") ?? 180);
    if (!(horizon > 0 && horizon <= 1e7) || !(samples >= 2 && samples <= 2000)) throw new HttpError(422, "invalid_argument", "horizon or samples out of range");
    return [200, prediction(ship, horizon, Math.floor(samples))];
  }
  mm = /^\/api\/ships\/([^/]+)\/respawn$/.exec(p);
  if (m === "POST" && mm) {
    const { player } = auth(req);
    ownShip(player, decodeURIComponent(mm[1]));
    if (!body || typeof body.class !== "string") throw new HttpError(400, "malformed_request", "expected {class}");
    return [200, full(respawn(player, body.class))];
  }
  if (m === "GET" && p === "/api/openapi.json") {
    return [200, { openapi: "3.1.0", info: { title: "Galaxy fake gateway", version: "0.1.0" }, paths: {} }];
  }
  throw new HttpError(404, "not_found", `no route ${m} ${p}`);
}

const MIME = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json" };

async function serveStatic(res, pathname) {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, "");
  let file = join(webRoot, rel);
  if (!file.startsWith(webRoot)) file = join(webRoot, "index.html");
  try {
    if ((await stat(file)).isDirectory()) file = join(file, "index.html");
    const data = await readFile(file);
    res.writeHead(200, { "Content-Type": MIME[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-cache" });
    res.end(data);
  } catch {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/livez") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    return res.end("ok");
  }
  if (url.pathname.startsWith("/__fake/") && req.method === "POST") {
    if (url.pathname === "/__fake/drop") {
      refuseUntil = Date.now() + Number(url.searchParams.get("refuse_ms") ?? 0);
      for (const c of clients) c.ws.terminate();
    }
    if (url.pathname === "/__fake/pause") paused = true;
    if (url.pathname === "/__fake/resume") paused = false;
    res.writeHead(204);
    return res.end();
  }
  if (!url.pathname.startsWith("/api/")) return serveStatic(res, url.pathname);
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) {
      res.writeHead(413, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: { code: "payload_too_large", message: "body larger than 16 KiB" } }));
    }
    chunks.push(chunk);
  }
  try {
    let body;
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        throw new HttpError(400, "malformed_request", "body is not JSON");
      }
    }
    const [status, out] = await api(req, url, body);
    res.writeHead(status, out === null ? {} : { "Content-Type": "application/json" });
    res.end(out === null ? undefined : JSON.stringify(out));
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 500;
    res.writeHead(status, { "Content-Type": "application/json", ...(e.headers ?? {}) });
    res.end(JSON.stringify({ error: { code: e.code ?? "internal", message: e.message } }));
  }
});

// ---- WebSocket ------------------------------------------------------------------------------
const wss = new WebSocketServer({ noServer: true, maxPayload: 65536 });
server.on("upgrade", (req, socket, head) => {
  if (new URL(req.url, "http://x").pathname !== "/ws" || Date.now() < refuseUntil) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
});

function onSocket(ws) {
  const c = { ws, player: null, rosterVersion: null };
  const timer = setTimeout(() => ws.close(4001, "no auth within 5 s"), 5000);
  ws.on("message", (data) => {
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      msg = null;
    }
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") {
      return ws.send(JSON.stringify({ type: "error", code: "malformed_message", message: "expected a JSON object with a type field" }));
    }
    if (!c.player) {
      const s = msg.type === "auth" && sessions.get(msg.token);
      if (!s) return ws.close(4001, "bad token");
      clearTimeout(timer);
      c.player = playersById.get(s.playerId);
      clients.add(c);
      const own = [...ships.values()].find((x) => x.owner === c.player.id);
      const states = bodyStates(gameTime);
      ws.send(JSON.stringify({
        type: "welcome", player: publicPlayer(c.player), ship_id: own?.id ?? null, config: config(),
        bodies: catalog.map((b) => ({ ...b, ...states.find((s) => s.name === b.name) })),
      }));
      return sendState(c);
    }
    const own = [...ships.values()].find((x) => x.owner === c.player.id);
    const reject = (code, reason) => ws.send(JSON.stringify({ type: "rejected", id: msg.id, command: msg.type, code, reason }));
    const ack = () => ws.send(JSON.stringify({ type: "ack", id: msg.id, command: msg.type }));
    if (msg.type === "control") {
      if (!own) return reject("not_found", "no ship");
      const { throttle, pitch = 0, yaw = 0, roll = 0 } = msg;
      const okNum = (x, lo, hi) => typeof x === "number" && Number.isFinite(x) && x >= lo && x <= hi;
      if (!okNum(throttle, 0, 1)) return reject("invalid_argument", "throttle must be within 0..1");
      if (![pitch, yaw, roll].every((x) => okNum(x, -1, 1))) return reject("invalid_argument", "rotation must be within -1..1");
      own.control = { throttle, pitch, yaw, roll };
      return ack();
    }
    if (msg.type === "attitude_mode") {
      if (!own) return reject("not_found", "no ship");
      if (!MODES.includes(msg.mode)) return reject("invalid_argument", `unknown mode ${msg.mode}`);
      if (msg.mode === "target") {
        const t = msg.target;
        const okTarget = t && ((typeof t.body === "string" && catalog.some((b) => b.name === t.body)) || (typeof t.ship === "string" && ships.has(t.ship) && t.ship !== own.id));
        if (!okTarget) return reject("invalid_argument", "target must name a body or another ship");
        own.target = t.body ? { body: t.body } : { ship: t.ship };
      }
      own.attitude_mode = msg.mode;
      return ack();
    }
    if (msg.type === "respawn") {
      if (!CLASSES[msg.class]) return reject("invalid_argument", `unknown ship class ${msg.class}`);
      const ship = respawn(c.player, msg.class);
      return ws.send(JSON.stringify({ type: "respawned", id: msg.id, ship_id: ship.id }));
    }
    if (msg.type === "auth") return reject("invalid_argument", "already authenticated");
    ws.send(JSON.stringify({ type: "error", code: "unknown_type", message: `unknown message type ${msg.type}` }));
  });
  ws.on("close", () => {
    clearTimeout(timer);
    clients.delete(c);
  });
}

server.listen(port, host, () => {
  console.log(`fake galaxy gateway on http://${host}:${port} serving ${webRoot} (tick ${tickRate} Hz, time scale ${timeScale})`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => {
  for (const c of clients) c.ws.close(1001, "server shutting down");
  server.close();
  process.exit(0);
});
