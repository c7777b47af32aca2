// Two-body orbital elements from a relative state, the same formulas as the engine
// (engine/src/orbit.rs), and sample points of the conic for drawing orbit lines.
import type { Vec3 } from "../types";
import { cross, dot, length, lengthSq, normalize, scale, sub } from "./vec";

export interface OrbitElements {
  /** Gravitational parameter μ = GM of the centre, m³/s². */
  mu: number;
  /** Semi-major axis, m; negative when hyperbolic, infinite when parabolic. */
  semiMajorAxis: number;
  eccentricity: number;
  /** Inclination to the world XY plane (J2000 ecliptic), radians. */
  inclination: number;
  /** Closest distance from the centre, m. */
  periapsis: number;
  /** Farthest distance from the centre, m; null when not bound. */
  apoapsis: number | null;
  /** Period, s; null when not bound. */
  period: number | null;
  /** v²/2 − μ/r, J/kg. */
  specificEnergy: number;
  radius: number;
  speed: number;
  /** Eccentricity vector (points at periapsis; magnitude e). */
  eccentricityVector: Vec3;
  /** Specific angular momentum r × v. */
  angularMomentum: Vec3;
  /** True anomaly now, radians in [0, 2π). */
  trueAnomaly: number;
}

/** Elements of `position`/`velocity` relative to a centre of parameter `mu`; null if undefined. */
export function elementsFromState(position: Vec3, velocity: Vec3, mu: number): OrbitElements | null {
  const radius = length(position);
  if (!(mu > 0) || !(radius > 0) || !Number.isFinite(radius)) return null;
  const speedSq = lengthSq(velocity);
  const specificEnergy = 0.5 * speedSq - mu / radius;
  const h = cross(position, velocity);
  const hLen = length(h);
  const eVec = sub(scale(cross(velocity, h), 1 / mu), scale(position, 1 / radius));
  const e = length(eVec);
  const inclination = hLen > 0 ? Math.acos(Math.max(-1, Math.min(1, h[2] / hLen))) : 0;
  const periapsis = (hLen * hLen) / mu / (1 + e);
  const a = specificEnergy === 0 ? Infinity : -mu / (2 * specificEnergy);
  const bound = specificEnergy < 0 && e < 1;
  const apoapsis = bound ? a * (1 + e) : null;
  const period = bound ? 2 * Math.PI * Math.sqrt((a * a * a) / mu) : null;
  let trueAnomaly = 0;
  if (e > 1e-9) {
    const c = Math.max(-1, Math.min(1, dot(eVec, position) / (e * radius)));
    trueAnomaly = Math.acos(c);
    if (dot(position, velocity) < 0) trueAnomaly = 2 * Math.PI - trueAnomaly;
  }
  return {
    mu,
    semiMajorAxis: a,
    eccentricity: e,
    inclination,
    periapsis,
    apoapsis,
    period,
    specificEnergy,
    radius,
    speed: Math.sqrt(speedSq),
    eccentricityVector: eVec,
    angularMomentum: h,
    trueAnomaly,
  };
}

/**
 * Points of the conic relative to the centre: the whole ellipse for a bound orbit, or the arc of a
 * hyperbola out to `maxRadius`. Null when the orbit is degenerate (radial, no angular momentum).
 */
export function conicPoints(el: OrbitElements, segments: number, maxRadius = Infinity): Vec3[] | null {
  const hLen = length(el.angularMomentum);
  if (!(hLen > 0)) return null;
  const hHat = scale(el.angularMomentum, 1 / hLen);
  const e = el.eccentricity;
  // Periapsis direction: the eccentricity vector, or any in-plane direction for a circle.
  let pHat: Vec3;
  if (e > 1e-9) {
    pHat = scale(el.eccentricityVector, 1 / e);
  } else {
    const any: Vec3 = Math.abs(hHat[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
    pHat = normalize(cross(any, hHat));
  }
  const qHat = cross(hHat, pHat);
  const p = (hLen * hLen) / el.mu; // semi-latus rectum
  let nuMax = Math.PI;
  if (e >= 1) {
    // Asymptote at acos(−1/e); stop where r reaches maxRadius (or just short of the asymptote).
    const asymptote = Math.acos(-1 / e);
    nuMax = asymptote * 0.999;
    if (Number.isFinite(maxRadius)) {
      const c = (p / maxRadius - 1) / e;
      if (c > -1 && c < 1) nuMax = Math.min(nuMax, Math.acos(c));
    }
  }
  const points: Vec3[] = [];
  for (let i = 0; i <= segments; i++) {
    const nu = -nuMax + (2 * nuMax * i) / segments;
    const r = p / (1 + e * Math.cos(nu));
    const c = Math.cos(nu) * r;
    const s = Math.sin(nu) * r;
    points.push([pHat[0] * c + qHat[0] * s, pHat[1] * c + qHat[1] * s, pHat[2] * c + qHat[2] * s]);
  }
  return points;
}
