// Quaternion helpers on [w, x, y, z] (the protocol's order). A ship's attitude rotates the ship
// frame (+Z forward, +Y up, +X right) into the world frame.
import type { Quat, Vec3 } from "../types";

export const IDENTITY: Quat = [1, 0, 0, 0];

export function qmul(a: Quat, b: Quat): Quat {
  const [aw, ax, ay, az] = a;
  const [bw, bx, by, bz] = b;
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}

export function qnormalize(q: Quat): Quat {
  const l = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(l > 0) || !Number.isFinite(l)) return [...IDENTITY];
  return [q[0] / l, q[1] / l, q[2] / l, q[3] / l];
}

export const qconj = (q: Quat): Quat => [q[0], -q[1], -q[2], -q[3]];

/** Rotation of `angle` radians about the unit `axis`. */
export function fromAxisAngle(axis: Vec3, angle: number): Quat {
  const h = angle / 2;
  const s = Math.sin(h);
  return [Math.cos(h), axis[0] * s, axis[1] * s, axis[2] * s];
}

/** Rotates v by q (q v q*). */
export function rotate(q: Quat, v: Vec3): Vec3 {
  const [w, x, y, z] = q;
  // t = 2 * cross(q.xyz, v); v' = v + w t + cross(q.xyz, t)
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz), v[2] + w * tz + (x * ty - y * tx)];
}

/** The ship's forward (thrust) axis in the world frame. */
export const forward = (q: Quat): Vec3 => rotate(q, [0, 0, 1]);
/** The ship's up axis in the world frame. */
export const up = (q: Quat): Vec3 => rotate(q, [0, 1, 0]);

/** Angle of the rotation taking a to b, radians in [0, π]. */
export function angleBetween(a: Quat, b: Quat): number {
  // Relative rotation conj(a)·b; atan2 keeps full precision for tiny angles (acos does not).
  const r = qmul(qconj(a), b);
  return 2 * Math.atan2(Math.hypot(r[1], r[2], r[3]), Math.abs(r[0]));
}

/** Spherical linear interpolation along the shorter arc; t in [0, 1]. */
export function slerp(a: Quat, b: Quat, t: number): Quat {
  let [bw, bx, by, bz] = b;
  let cos = a[0] * bw + a[1] * bx + a[2] * by + a[3] * bz;
  if (cos < 0) {
    cos = -cos;
    bw = -bw;
    bx = -bx;
    by = -by;
    bz = -bz;
  }
  let k0: number;
  let k1: number;
  if (cos > 0.9995) {
    // Nearly parallel: normalised lerp is accurate and avoids dividing by sin(θ) ≈ 0.
    k0 = 1 - t;
    k1 = t;
  } else {
    const theta = Math.acos(cos);
    const sin = Math.sin(theta);
    k0 = Math.sin((1 - t) * theta) / sin;
    k1 = Math.sin(t * theta) / sin;
  }
  return qnormalize([a[0] * k0 + bw * k1, a[1] * k0 + bx * k1, a[2] * k0 + by * k1, a[3] * k0 + bz * k1]);
}

/**
 * Advances attitude q by a constant world-frame angular velocity ω for dt seconds:
 * q(t) = exp(ω t / 2) q.
 */
export function integrateAngularVelocity(q: Quat, omega: Vec3, dt: number): Quat {
  const rate = Math.hypot(omega[0], omega[1], omega[2]);
  if (!(rate > 0) || dt === 0) return q;
  const axis: Vec3 = [omega[0] / rate, omega[1] / rate, omega[2] / rate];
  return qnormalize(qmul(fromAxisAngle(axis, rate * dt), q));
}

/** Degrees to radians and back. */
export const DEG = Math.PI / 180;

/** Wraps an angle to (-π, π]. */
export function wrapAngle(a: number): number {
  const t = a % (2 * Math.PI);
  if (t > Math.PI) return t - 2 * Math.PI;
  if (t <= -Math.PI) return t + 2 * Math.PI;
  return t;
}

/** Quaternion of the rotation that turns unit vector `from` onto unit vector `to`. */
export function fromUnitVectors(from: Vec3, to: Vec3): Quat {
  const d = from[0] * to[0] + from[1] * to[1] + from[2] * to[2];
  if (d < -0.999999) {
    // Opposite: rotate π about any axis perpendicular to `from`.
    let axis: Vec3 = [0, -from[2], from[1]];
    if (Math.hypot(...axis) < 1e-6) axis = [from[2], 0, -from[0]];
    const l = Math.hypot(...axis);
    return fromAxisAngle([axis[0] / l, axis[1] / l, axis[2] / l], Math.PI);
  }
  const c: Vec3 = [from[1] * to[2] - from[2] * to[1], from[2] * to[0] - from[0] * to[2], from[0] * to[1] - from[1] * to[0]];
  return qnormalize([1 + d, c[0], c[1], c[2]]);
}
