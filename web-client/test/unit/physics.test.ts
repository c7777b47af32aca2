import { describe, expect, it } from "vitest";
import { burnTime, deltaV, thrustAcceleration } from "../../src/math/rocket";
import { dominantBody, soiHierarchy, strongestPull, type MassiveBody } from "../../src/math/soi";

describe("rocket equation", () => {
  it("Δv = v_e when the wet/dry mass ratio is e", () => {
    expect(deltaV(1000 * (Math.E - 1), 1000, 4500)).toBeCloseTo(4500, 9);
  });
  it("Δv = v_e ln 2 when half the mass is fuel", () => {
    expect(deltaV(5000, 5000, 1000)).toBeCloseTo(693.147, 3);
  });
  it("no fuel, no Δv; bad inputs give 0", () => {
    expect(deltaV(0, 8000, 196133)).toBe(0);
    expect(deltaV(100, 0, 196133)).toBe(0);
    expect(deltaV(NaN, 1, 1)).toBe(0);
  });
  it("burn time and acceleration", () => {
    // 600 kN at 196 133 m/s exhaust: 3.059 kg/s; 15 t last 4903 s.
    expect(burnTime(15000, 600000, 196133, 1)).toBeCloseTo(4903.3, 0);
    expect(burnTime(15000, 600000, 196133, 0)).toBe(Infinity);
    expect(thrustAcceleration(600000, 0.5, 8000, 15000)).toBeCloseTo(300000 / 23000, 9);
  });
});

describe("dominant body (sphere of influence)", () => {
  const AU = 1.495978707e11;
  const bodies: MassiveBody[] = [
    { name: "Earth", gm: 3.986004418e14, position: [AU, 0, 0] },
    { name: "Sun", gm: 1.32712440018e20, position: [0, 0, 0] },
    { name: "Moon", gm: 4.9028e12, position: [AU + 3.844e8, 0, 0] },
    { name: "Mars", gm: 4.282837e13, position: [0, 1.524 * AU, 0] },
  ];
  const h = soiHierarchy(bodies);
  const name = (p: [number, number, number]) => bodies[dominantBody(h, bodies, p)!].name;

  it("builds the hierarchy with Laplace radii", () => {
    expect(h.parent).toEqual([1, null, 0, 1]);
    expect(h.radius[1]).toBe(Infinity);
    // Earth's SOI is about 924 000 km, the Moon's about 66 000 km, Mars' about 577 000 km.
    expect(h.radius[0] / 1e3).toBeGreaterThan(920_000);
    expect(h.radius[0] / 1e3).toBeLessThan(930_000);
    expect(h.radius[2] / 1e3).toBeGreaterThan(65_000);
    expect(h.radius[2] / 1e3).toBeLessThan(67_000);
    expect(h.radius[3] / 1e3).toBeGreaterThan(570_000);
    expect(h.radius[3] / 1e3).toBeLessThan(580_000);
  });

  it("picks the smallest sphere containing the point", () => {
    expect(name([AU + 6.771e6, 0, 0])).toBe("Earth"); // low Earth orbit
    expect(name([AU + 3.844e8 - 2e6, 0, 0])).toBe("Moon"); // low lunar orbit
    expect(name([AU + 2e8, 0, 0])).toBe("Earth"); // between, outside the Moon's sphere
    expect(name([AU + 2e9, 0, 0])).toBe("Sun"); // beyond Earth's sphere
    expect(name([0, 1.524 * AU + 4e6, 0])).toBe("Mars");
    expect(name([2 * AU, 2 * AU, 0])).toBe("Sun");
  });

  it("strongest pull is a poor reference: the Sun wins 30 000 km from the Moon", () => {
    // Inside the Moon's sphere the Sun still pulls harder (5.9 mm/s² vs 5.4 mm/s²), but orbits
    // are Moon-relative there: that is why the HUD uses the sphere of influence.
    const p: [number, number, number] = [AU + 3.844e8 - 3e7, 0, 0];
    expect(bodies[strongestPull(bodies, p)!].name).toBe("Sun");
    expect(name(p)).toBe("Moon");
    expect(bodies[strongestPull(bodies, [AU + 3.844e8 - 1e7, 0, 0])!].name).toBe("Moon");
    // In deep space near Earth, Earth pulls hardest.
    expect(bodies[strongestPull(bodies, [AU + 1e7, 0, 0])!].name).toBe("Earth");
  });

  it("no bodies, no dominant body", () => {
    expect(dominantBody(soiHierarchy([]), [], [0, 0, 0])).toBeNull();
  });
});

import { bindingFor, stepThrottle, BINDINGS } from "../../src/controls";
import { backoffDelay } from "../../src/connection";
import { fmtDistance, fmtDuration, fmtSpeed } from "../../src/format";

describe("controls", () => {
  const ev = (code: string, key: string, shiftKey = false) => ({ code, key, shiftKey, ctrlKey: false, altKey: false, metaKey: false });
  it("maps keys to actions, with Shift variants", () => {
    expect(bindingFor(ev("KeyP", "p"))!.action).toBe("mode_prograde");
    expect(bindingFor(ev("KeyP", "P", true))!.action).toBe("mode_retrograde");
    expect(bindingFor(ev("KeyJ", "J", true))!.action).toBe("mode_antinormal");
    expect(bindingFor(ev("KeyR", "R", true))!.action).toBe("mode_radial_in");
    expect(bindingFor(ev("Equal", "+", true))!.action).toBe("throttle_up");
    expect(bindingFor(ev("Minus", "-"))!.action).toBe("throttle_down");
    expect(bindingFor(ev("Tab", "Tab"))!.action).toBe("next_target");
    expect(bindingFor(ev("Slash", "?", true))!.action).toBe("help");
    expect(bindingFor({ ...ev("KeyW", "w"), ctrlKey: true })).toBeNull();
  });
  it("every action has a unique key combination", () => {
    const seen = new Set<string>();
    for (const b of BINDINGS) for (const c of b.codes) {
      const k = `${c}/${b.shift ?? "any"}`;
      expect(seen.has(k)).toBe(false);
      seen.add(k);
    }
  });
  it("throttle steps snap to 10% and clamp", () => {
    expect(stepThrottle(0, 1)).toBeCloseTo(0.1, 12);
    expect(stepThrottle(0.95, 1)).toBe(1);
    expect(stepThrottle(1, 1)).toBe(1);
    expect(stepThrottle(0.1, -1)).toBe(0);
    expect(stepThrottle(0, -1)).toBe(0);
    expect(stepThrottle(0.33, 1)).toBeCloseTo(0.4, 12);
  });
  it("reconnect backoff doubles to a 15 s cap, with jitter", () => {
    expect(backoffDelay(1, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, () => 0.5)).toBe(15000);
    expect(backoffDelay(2, () => 0)).toBe(750);
  });
});

describe("format", () => {
  it("distances, speeds and durations", () => {
    expect(fmtDistance(512)).toBe("512 m");
    expect(fmtDistance(400_000)).toBe("400 km");
    expect(fmtDistance(1.495978707e11)).toBe("1.000 AU");
    expect(fmtSpeed(7672.59)).toBe("7672.6 m/s");
    expect(fmtSpeed(29_780)).toBe("29.78 km/s");
    expect(fmtDuration(5545)).toBe("1:32:25");
    expect(fmtDuration(59)).toBe("0:59");
    expect(fmtDuration(90061)).toBe("1d 01:01:01");
    expect(fmtDuration(null)).toBe("—");
  });
});

import { findStar } from "../../src/math/soi";
import { ApiError, describeError } from "../../src/api";
import { wsUrl } from "../../src/connection";

describe("catalog, errors and URLs", () => {
  it("the light source is the star, or else the heaviest body", () => {
    expect(findStar([{ name: "Earth", kind: "planet", gm: 4e14 }, { name: "Sun", kind: "star", gm: 1.3e20 }])).toBe("Sun");
    expect(findStar([{ name: "A", kind: "planet", gm: 1 }, { name: "B", kind: "body", gm: 5 }])).toBe("B");
    expect(findStar([])).toBeNull();
  });
  it("turns API error codes into sentences", () => {
    expect(describeError(new ApiError(401, "invalid_credentials", "x"), "login")).toBe("Wrong username or password.");
    expect(describeError(new ApiError(409, "username_taken", "x"), "register")).toMatch(/already taken/);
    expect(describeError(new ApiError(429, "locked_out", "x", 30))).toMatch(/Try again in 30 s/);
    expect(describeError(new ApiError(422, "invalid_argument", "password too short"), "register")).toMatch(/password too short.*8–128/);
    expect(describeError(new ApiError(0, "network", "x"))).toMatch(/Cannot reach/);
    expect(describeError(new ApiError(503, "unavailable", "x", 5))).toMatch(/unavailable.*5 s/);
    expect(describeError(new ApiError(418, "teapot", "short and stout"))).toBe("short and stout (teapot).");
  });
  it("derives the WebSocket URL from the page's location", () => {
    expect(wsUrl({ protocol: "http:", host: "127.0.0.1:8000" } as Location)).toBe("ws://127.0.0.1:8000/ws");
    expect(wsUrl({ protocol: "https:", host: "galaxy.example.com" } as Location)).toBe("wss://galaxy.example.com/ws");
  });
});
