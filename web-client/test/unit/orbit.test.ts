import { describe, expect, it } from "vitest";
import { conicPoints, elementsFromState } from "../../src/math/orbit";
import type { Vec3 } from "../../src/types";

const MU_EARTH = 3.986004418e14;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** State at true anomaly nu of an orbit in the XY plane with periapsis on +X (perifocal frame). */
function perifocalState(rp: number, e: number, nu: number, mu: number): { r: Vec3; v: Vec3 } {
  const p = rp * (1 + e); // semi-latus rectum
  const r = p / (1 + e * Math.cos(nu));
  const k = Math.sqrt(mu / p);
  return {
    r: [r * Math.cos(nu), r * Math.sin(nu), 0],
    v: [-k * Math.sin(nu), k * (e + Math.cos(nu)), 0],
  };
}

/** Rotation about the X axis by angle i (tilts the XY plane: inclination i). */
const rotX = (v: Vec3, i: number): Vec3 => [v[0], v[1] * Math.cos(i) - v[2] * Math.sin(i), v[1] * Math.sin(i) + v[2] * Math.cos(i)];

describe("elementsFromState", () => {
  it("circular low Earth orbit", () => {
    const r = 6_771_000;
    const v = Math.sqrt(MU_EARTH / r); // 7672.6 m/s
    const el = elementsFromState([r, 0, 0], [0, v, 0], MU_EARTH)!;
    expect(el.eccentricity).toBeLessThan(1e-12);
    expect(rel(el.semiMajorAxis, r)).toBeLessThan(1e-12);
    expect(rel(el.periapsis, r)).toBeLessThan(1e-12);
    expect(rel(el.apoapsis!, r)).toBeLessThan(1e-12);
    // 2π √(r³/μ) for r = 6771 km is 5544.9 s (about 92.4 minutes).
    expect(el.period!).toBeCloseTo(5544.85, 0);
    expect(el.inclination).toBe(0);
    expect(el.speed).toBeCloseTo(7672.6, 0);
  });

  it("elliptic orbit seen at periapsis and at 90° and 200° true anomaly", () => {
    const rp = 7_000_000;
    const e = 0.5;
    // a = rp / (1 − e) = 14 000 km, ra = a (1 + e) = 21 000 km.
    for (const nu of [0, Math.PI / 2, (200 * Math.PI) / 180]) {
      const { r, v } = perifocalState(rp, e, nu, MU_EARTH);
      const el = elementsFromState(r, v, MU_EARTH)!;
      expect(rel(el.eccentricity, 0.5)).toBeLessThan(1e-10);
      expect(rel(el.semiMajorAxis, 14_000_000)).toBeLessThan(1e-10);
      expect(rel(el.periapsis, 7_000_000)).toBeLessThan(1e-10);
      expect(rel(el.apoapsis!, 21_000_000)).toBeLessThan(1e-10);
      expect(rel(el.period!, 2 * Math.PI * Math.sqrt(14_000_000 ** 3 / MU_EARTH))).toBeLessThan(1e-10);
      expect(el.trueAnomaly).toBeCloseTo(nu, 9);
    }
  });

  it("Moon-like orbit of Earth around the Sun (AU scale)", () => {
    const mu = 1.32712440018e20;
    const au = 1.495978707e11;
    const el = elementsFromState([au, 0, 0], [0, Math.sqrt(mu / au), 0], mu)!;
    // One sidereal year-ish: 2π √(AU³/μ_sun) = 365.256 days.
    expect(el.period! / 86400).toBeCloseTo(365.256, 2);
  });

  it("hyperbolic escape", () => {
    const rp = 7_000_000;
    const e = 1.5;
    const { r, v } = perifocalState(rp, e, 0.3, MU_EARTH);
    const el = elementsFromState(r, v, MU_EARTH)!;
    expect(rel(el.eccentricity, 1.5)).toBeLessThan(1e-10);
    // a = rp / (1 − e) = −14 000 km.
    expect(rel(el.semiMajorAxis, -14_000_000)).toBeLessThan(1e-10);
    expect(rel(el.periapsis, rp)).toBeLessThan(1e-10);
    expect(el.apoapsis).toBeNull();
    expect(el.period).toBeNull();
    expect(el.specificEnergy).toBeGreaterThan(0);
    // v∞² = −μ/a
    expect(rel(2 * el.specificEnergy, MU_EARTH / 14_000_000)).toBeLessThan(1e-10);
  });

  it("parabolic escape is unbound with e = 1", () => {
    const r = 7_000_000;
    const el = elementsFromState([r, 0, 0], [0, Math.sqrt((2 * MU_EARTH) / r), 0], MU_EARTH)!;
    expect(el.eccentricity).toBeCloseTo(1, 12);
    expect(el.apoapsis).toBeNull();
    expect(el.period).toBeNull();
    expect(rel(el.periapsis, r)).toBeLessThan(1e-12);
  });

  it("inclined, polar and retrograde orbits", () => {
    for (const deg of [30, 51.6, 90, 135, 180]) {
      const i = (deg * Math.PI) / 180;
      const { r, v } = perifocalState(6_800_000, 0.01, 1.0, MU_EARTH);
      const el = elementsFromState(rotX(r, i), rotX(v, i), MU_EARTH)!;
      expect(el.inclination).toBeCloseTo(i, 9);
      expect(rel(el.periapsis, 6_800_000)).toBeLessThan(1e-10);
    }
  });

  it("refuses degenerate input", () => {
    expect(elementsFromState([0, 0, 0], [1, 0, 0], MU_EARTH)).toBeNull();
    expect(elementsFromState([1, 0, 0], [1, 0, 0], 0)).toBeNull();
    expect(elementsFromState([NaN, 0, 0], [1, 0, 0], MU_EARTH)).toBeNull();
  });
});

describe("conicPoints", () => {
  it("samples the ellipse between periapsis and apoapsis, closed", () => {
    const { r, v } = perifocalState(7_000_000, 0.5, 1.2, MU_EARTH);
    const el = elementsFromState(rotX(r, 0.4), rotX(v, 0.4), MU_EARTH)!;
    const pts = conicPoints(el, 128)!;
    expect(pts.length).toBe(129);
    const radii = pts.map((p) => Math.hypot(...p));
    expect(Math.min(...radii)).toBeCloseTo(7_000_000, -1);
    expect(rel(Math.max(...radii), 21_000_000)).toBeLessThan(1e-9);
    // First and last points coincide (ν = ±π): a closed loop.
    expect(Math.hypot(pts[0][0] - pts[128][0], pts[0][1] - pts[128][1], pts[0][2] - pts[128][2])).toBeLessThan(1);
    // The middle point (ν = 0) is the periapsis, along the eccentricity vector.
    const mid = pts[64];
    expect(rel(Math.hypot(...mid), 7_000_000)).toBeLessThan(1e-9);
    // All points lie in the orbital plane: perpendicular to h.
    const h = el.angularMomentum;
    const hl = Math.hypot(...h);
    for (const p of pts) expect(Math.abs((p[0] * h[0] + p[1] * h[1] + p[2] * h[2]) / hl)).toBeLessThan(1e-3);
  });

  it("stops a hyperbola at the requested radius", () => {
    const { r, v } = perifocalState(7_000_000, 2, 0, MU_EARTH);
    const el = elementsFromState(r, v, MU_EARTH)!;
    const pts = conicPoints(el, 64, 1e9)!;
    const radii = pts.map((p) => Math.hypot(...p));
    expect(Math.max(...radii)).toBeLessThanOrEqual(1e9 * (1 + 1e-9));
    expect(rel(Math.min(...radii), 7_000_000)).toBeLessThan(1e-9);
  });
});
