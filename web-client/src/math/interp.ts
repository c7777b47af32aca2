// Smooth motion between server ticks (1 Hz by default) at the display's frame rate.
//
// Each moving thing has a Track. When a state arrives we remember what was on screen at that
// instant (position, velocity, acceleration, attitude: the "blend-from" state) and then, for the
// next `blend` seconds, show a mix of two extrapolations:
//   old(t) = shown state at arrival, carried forward by its own velocity/acceleration,
//   new(t) = the new server state, carried forward by its velocity and estimated acceleration,
//   shown(t) = old(t) + (new(t) − old(t)) · smoothstep(t / blend).
// At t = 0 that is exactly what was on screen (no jump), and after `blend` it is pure server
// extrapolation; the velocity stays continuous because smoothstep has zero slope at both ends.
// Attitude does the same with a slerp between the two attitudes, each carried forward by its
// angular velocity. Acceleration is estimated from the last two states' velocities (gravity and
// thrust), so curved orbits stay on their arc between ticks.
import type { Quat, Vec3 } from "../types";
import { integrateAngularVelocity, slerp } from "./quat";
import { addScaled, distance, lerp, sub, scale } from "./vec";

export interface TrackSample {
  /** Game time of the state, s. */
  gameTime: number;
  position: Vec3;
  velocity: Vec3;
  attitude?: Quat;
  /** World-frame angular velocity, rad/s. */
  angularVelocity?: Vec3;
}

export interface Shown {
  position: Vec3;
  velocity: Vec3;
  acceleration: Vec3;
  attitude: Quat;
  angularVelocity: Vec3;
}

export const smoothstep = (x: number): number => {
  const t = Math.max(0, Math.min(1, x));
  return t * t * (3 - 2 * t);
};

/** Position after dt with constant acceleration. */
export function extrapolate(p: Vec3, v: Vec3, a: Vec3, dt: number): Vec3 {
  return addScaled(addScaled(p, v, dt), a, 0.5 * dt * dt);
}

export interface TrackOptions {
  /** Blend duration in wall-clock seconds. */
  blend: number;
  /** Game seconds per wall second. */
  timeScale: number;
  /** Never extrapolate more than this many game seconds past the newest state. */
  maxExtrapolation: number;
  /** A correction bigger than this (m) snaps instead of blending (teleport, snapshot restore). */
  snapDistance: number;
}

const ZERO: Vec3 = [0, 0, 0];

export class Track {
  private latest: (TrackSample & { acceleration: Vec3; wall: number }) | null = null;
  private from: (Shown & { wall: number }) | null = null;
  constructor(public options: TrackOptions) {}

  /** Feeds a new server state received at wall-clock time `wall` (s). */
  push(sample: TrackSample, wall: number): void {
    const prev = this.latest;
    let acceleration: Vec3 = ZERO;
    if (prev) {
      const dg = sample.gameTime - prev.gameTime;
      // Only trust a finite difference over a short, forward step.
      if (dg > 0 && dg <= this.options.maxExtrapolation) acceleration = scale(sub(sample.velocity, prev.velocity), 1 / dg);
    }
    const shownNow = prev ? this.at(wall) : null;
    const next = { ...sample, acceleration, wall };
    if (!shownNow || sample.gameTime < prev!.gameTime) {
      this.from = null; // first state, or time went backwards (restore): snap
    } else {
      const predicted = extrapolate(sample.position, sample.velocity, acceleration, 0);
      this.from = distance(predicted, shownNow.position) > this.options.snapDistance ? null : { ...shownNow, wall };
    }
    this.latest = next;
  }

  get hasState(): boolean {
    return this.latest !== null;
  }

  get newest(): TrackSample | null {
    return this.latest;
  }

  /** Wall-clock age of the newest state at `wall`. */
  age(wall: number): number {
    return this.latest ? wall - this.latest.wall : Infinity;
  }

  /** What to show at wall-clock time `wall` (s). */
  at(wall: number): Shown {
    const s = this.latest;
    if (!s) return { position: ZERO, velocity: ZERO, acceleration: ZERO, attitude: [1, 0, 0, 0], angularVelocity: ZERO };
    const { timeScale, maxExtrapolation, blend } = this.options;
    const dt = Math.min(Math.max(0, wall - s.wall) * timeScale, maxExtrapolation);
    const omega = s.angularVelocity ?? ZERO;
    const newPos = extrapolate(s.position, s.velocity, s.acceleration, dt);
    const newVel = addScaled(s.velocity, s.acceleration, dt);
    const newAtt = integrateAngularVelocity(s.attitude ?? [1, 0, 0, 0], omega, dt);
    const f = this.from;
    if (!f || blend <= 0) {
      return { position: newPos, velocity: newVel, acceleration: s.acceleration, attitude: newAtt, angularVelocity: omega };
    }
    const k = smoothstep((wall - f.wall) / blend);
    if (k >= 1) {
      this.from = null;
      return { position: newPos, velocity: newVel, acceleration: s.acceleration, attitude: newAtt, angularVelocity: omega };
    }
    const oldPos = extrapolate(f.position, f.velocity, f.acceleration, dt);
    const oldVel = addScaled(f.velocity, f.acceleration, dt);
    const oldAtt = integrateAngularVelocity(f.attitude, f.angularVelocity, dt);
    return {
      position: lerp(oldPos, newPos, k),
      velocity: lerp(oldVel, newVel, k),
      acceleration: lerp(f.acceleration, s.acceleration, k),
      attitude: slerp(oldAtt, newAtt, k),
      angularVelocity: lerp(f.angularVelocity, omega, k),
    };
  }
}
