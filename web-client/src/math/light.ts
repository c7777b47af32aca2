// Lighting maths for the view, in f64 world coordinates: how much of the Sun a point sees past the
// bodies in between (eclipses), and the light a nearby planet reflects onto it (planetshine).
import type { Vec3 } from "../types";

export interface Sphere {
  position: Vec3;
  radius: number;
}

const smoothstep = (a: number, b: number, x: number): number => {
  if (b <= a) return x < a ? 0 : 1;
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};

/**
 * The fraction of the Sun's disc visible from `p` (1 in full sunlight, 0 in a body's umbra), from
 * the apparent radii of the Sun and of each body and their angular separation: a smooth penumbra
 * when the discs overlap partly, an annulus when the body looks smaller than the Sun. A point on
 * a body's surface sees the Sun while it is above the horizon.
 */
export function sunVisibility(p: Vec3, sun: Sphere, bodies: readonly Sphere[]): number {
  const sx = sun.position[0] - p[0];
  const sy = sun.position[1] - p[1];
  const sz = sun.position[2] - p[2];
  const ds = Math.hypot(sx, sy, sz);
  if (!(ds > sun.radius)) return 1; // inside the Sun (or no distance): nothing to shadow
  const sunAngle = Math.asin(sun.radius / ds);
  let visible = 1;
  for (const b of bodies) {
    const bx = b.position[0] - p[0];
    const by = b.position[1] - p[1];
    const bz = b.position[2] - p[2];
    const db = Math.hypot(bx, by, bz);
    if (db >= ds || db === 0) continue; // beyond the Sun, or no direction
    const along = (bx * sx + by * sy + bz * sz) / ds;
    if (along <= -b.radius) continue; // behind the point, away from the Sun
    // Cheap rejection (most bodies, most ships): the body's centre is far off the cone from the
    // point to the Sun's disc (radius along × tan(sun angle), with a margin).
    const perpSq = db * db - along * along;
    const reach = b.radius * 1.05 + Math.max(0, along) * 1.5 * (sun.radius / ds);
    if (along > 0 && perpSq > reach * reach) continue;
    const bodyAngle = Math.asin(Math.min(1, b.radius / db));
    const cos = Math.min(1, Math.max(-1, along / db));
    const separation = Math.acos(cos);
    if (separation >= bodyAngle + sunAngle) continue;
    if (bodyAngle >= sunAngle) {
      visible *= smoothstep(bodyAngle - sunAngle, bodyAngle + sunAngle, separation);
    } else {
      const covered = (bodyAngle / sunAngle) ** 2;
      visible *= 1 - covered * (1 - smoothstep(sunAngle - bodyAngle, sunAngle + bodyAngle, separation));
    }
    if (visible <= 0) return 0;
  }
  return visible;
}

/**
 * The lit fraction of a body's disc as seen from `p`, 0..1: Lambert's phase function
 * `(sin α + (π − α) cos α) / π` of the phase angle α (Sun–body–viewer), with α stretched for a
 * viewer close to the surface, who sees only a cap of half-angle `acos(R/d)` around the point
 * below: that cap is all day or all night within that angle of the terminator.
 */
export function litFraction(p: Vec3, body: Sphere, sunPosition: Vec3): number {
  const vx = p[0] - body.position[0];
  const vy = p[1] - body.position[1];
  const vz = p[2] - body.position[2];
  const sx = sunPosition[0] - body.position[0];
  const sy = sunPosition[1] - body.position[1];
  const sz = sunPosition[2] - body.position[2];
  const dv = Math.hypot(vx, vy, vz);
  const dsun = Math.hypot(sx, sy, sz);
  if (dv === 0 || dsun === 0) return 0;
  const phase = Math.acos(Math.min(1, Math.max(-1, (vx * sx + vy * sy + vz * sz) / (dv * dsun))));
  const cap = Math.acos(Math.min(1, body.radius / dv)); // π/2 from far away
  const half = Math.PI / 2;
  const alpha = cap > 1e-6 ? Math.min(Math.PI, Math.max(0, half + ((phase - half) * half) / cap)) : phase < half ? 0 : Math.PI;
  if (alpha >= Math.PI) return 0;
  return Math.max(0, (Math.sin(alpha) + (Math.PI - alpha) * Math.cos(alpha)) / Math.PI);
}

/**
 * Planetshine at `p` relative to direct sunlight: albedo × (2/3) × (R/d)² × lit fraction — the
 * flux a Lambertian sphere reflects toward a viewer, as a fraction of the sunlight it receives.
 * About 0.18 in a low orbit over the day side of an Earth-like planet (albedo 0.3), 0 over the
 * night side.
 */
export function planetshine(p: Vec3, body: Sphere, sunPosition: Vec3, albedo: number): number {
  const d = Math.hypot(p[0] - body.position[0], p[1] - body.position[1], p[2] - body.position[2]);
  if (d === 0) return 0;
  const solid = Math.min(1, (body.radius / d) ** 2);
  return albedo * (2 / 3) * solid * litFraction(p, body, sunPosition);
}
