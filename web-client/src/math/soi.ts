// The dominant body: the body whose sphere of influence is the smallest one containing the point.
// Same rule as the engine (engine/src/orbit.rs, SphereOfInfluence), so the HUD's reference body
// is the one the attitude modes (prograde, radial…) steer against:
//  - the heaviest body (the Sun) is the root with an infinite sphere;
//  - every other body's parent is the smallest sphere among heavier bodies that contains it, and
//    its sphere radius is Laplace's r_SOI = d · (m / M)^(2/5), d the distance to the parent.
// GM stands in for mass (the ratio m/M is the same).
import type { Vec3 } from "../types";
import { distance, lengthSq, sub } from "./vec";

export interface MassiveBody {
  name: string;
  gm: number;
  position: Vec3;
}

export interface SoiHierarchy {
  /** Parent index per body (null for the root). */
  parent: (number | null)[];
  /** Sphere-of-influence radius per body (Infinity for the root). */
  radius: number[];
  /** Body indices by decreasing GM. */
  byMass: number[];
}

export function soiHierarchy(bodies: MassiveBody[]): SoiHierarchy {
  const n = bodies.length;
  const byMass = [...Array(n).keys()].sort((a, b) => bodies[b].gm - bodies[a].gm || a - b);
  const parent: (number | null)[] = new Array(n).fill(null);
  const radius: number[] = new Array(n).fill(0);
  byMass.forEach((body, rank) => {
    if (rank === 0) {
      radius[body] = Infinity;
      return;
    }
    const here = bodies[body].position;
    let best: number | null = null;
    for (const candidate of byMass.slice(0, rank)) {
      if (!(bodies[candidate].gm > 0) || !(radius[candidate] > 0)) continue;
      const inside = lengthSq(sub(here, bodies[candidate].position)) < radius[candidate] ** 2;
      if (inside && (best === null || radius[candidate] < radius[best])) best = candidate;
    }
    const chosen = best ?? byMass[0];
    parent[body] = chosen;
    radius[body] =
      bodies[chosen].gm > 0 ? distance(here, bodies[chosen].position) * Math.pow(bodies[body].gm / bodies[chosen].gm, 0.4) : 0;
  });
  return { parent, radius, byMass };
}

/** Index of the dominant body at `point`, or null when there are no bodies. */
export function dominantBody(h: SoiHierarchy, bodies: MassiveBody[], point: Vec3): number | null {
  if (h.byMass.length === 0) return null;
  let best = h.byMass[0];
  for (const body of h.byMass.slice(1)) {
    const r = h.radius[body];
    if (r < h.radius[best] && lengthSq(sub(point, bodies[body].position)) < r * r) best = body;
  }
  return best;
}

/** The body pulling hardest at `point` (GM / d²) — shown for comparison, not used for the HUD. */
export function strongestPull(bodies: MassiveBody[], point: Vec3): number | null {
  let best: number | null = null;
  let bestAccel = -1;
  bodies.forEach((b, i) => {
    const a = b.gm / Math.max(lengthSq(sub(point, b.position)), 1e-9);
    if (a > bestAccel) {
      bestAccel = a;
      best = i;
    }
  });
  return best;
}

/** The light source: the body of kind "star", or else the heaviest body. */
export function findStar(bodies: { name: string; kind: string; gm: number }[]): string | null {
  const star = bodies.find((b) => b.kind === "star");
  if (star) return star.name;
  let best: { name: string; gm: number } | null = null;
  for (const b of bodies) if (!best || b.gm > best.gm) best = b;
  return best?.name ?? null;
}

