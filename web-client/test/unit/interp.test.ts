import { describe, expect, it } from "vitest";
import { Track, extrapolate, smoothstep } from "../../src/math/interp";
import { angleBetween, fromAxisAngle } from "../../src/math/quat";
import type { Vec3 } from "../../src/types";

const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const opts = { blend: 0.5, timeScale: 1, maxExtrapolation: 5, snapDistance: 1e6 };

/** Exact circular orbit of radius r at game time t (μ = Earth). */
function circular(t: number, r = 6_771_000, mu = 3.986004418e14) {
  const w = Math.sqrt(mu / r ** 3);
  const v = w * r;
  return {
    gameTime: t,
    position: [r * Math.cos(w * t), r * Math.sin(w * t), 0] as Vec3,
    velocity: [-v * Math.sin(w * t), v * Math.cos(w * t), 0] as Vec3,
  };
}

describe("smoothstep and extrapolate", () => {
  it("smoothstep is 0, ½, 1 with flat ends", () => {
    expect(smoothstep(-1)).toBe(0);
    expect(smoothstep(0.5)).toBe(0.5);
    expect(smoothstep(2)).toBe(1);
    expect(smoothstep(0.001)).toBeLessThan(1e-5);
  });
  it("constant acceleration", () => {
    expect(extrapolate([0, 0, 0], [1, 2, 3], [0, 0, -2], 2)).toEqual([2, 4, 2]);
  });
});

describe("Track", () => {
  it("extrapolates straight-line motion exactly", () => {
    const tr = new Track(opts);
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [100, 0, 0] }, 10);
    tr.push({ gameTime: 1, position: [100, 0, 0], velocity: [100, 0, 0] }, 11);
    expect(dist(tr.at(11.25).position, [125, 0, 0])).toBeLessThan(1e-9);
    expect(dist(tr.at(12).position, [200, 0, 0])).toBeLessThan(1e-9);
  });

  it("stays on a circular orbit between 1 Hz ticks (acceleration from the last two states)", () => {
    const tr = new Track(opts);
    tr.push(circular(0), 0);
    tr.push(circular(1), 1);
    tr.push(circular(2), 2);
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const shown = tr.at(2 + f).position;
      // Second-order extrapolation of LEO over ≤ 1 s is good to a few centimetres;
      // linear extrapolation would be off by ½ g t² ≈ 4.3 m at 1 s.
      expect(dist(shown, circular(2 + f).position)).toBeLessThan(0.1);
    }
  });

  it("never jumps when a corrected state arrives, and converges to it after the blend", () => {
    const tr = new Track(opts);
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [10, 0, 0] }, 0);
    tr.push({ gameTime: 1, position: [10, 0, 0], velocity: [10, 0, 0] }, 1);
    const before = tr.at(2).position; // [20, 0, 0]
    // The server says the ship is 30 m off (a burn it did not know about here).
    tr.push({ gameTime: 2, position: [20, 30, 0], velocity: [10, 0, 0] }, 2);
    const after = tr.at(2).position;
    expect(dist(before, after)).toBeLessThan(1e-9);
    // Smooth: each 1/60 s frame moves a bounded amount (≤ speed·dt + blend correction rate).
    let prev = after;
    let maxStep = 0;
    for (let i = 1; i <= 60; i++) {
      const p = tr.at(2 + i / 60).position;
      maxStep = Math.max(maxStep, dist(p, prev));
      prev = p;
    }
    // 10 m/s · 1/60 s ≈ 0.17 m plus at most 1.5 · 30 m / 0.5 s / 60 = 1.5 m of correction per frame.
    expect(maxStep).toBeLessThan(1.8);
    // Once the blend is over, pure server extrapolation.
    expect(dist(tr.at(2.6).position, [26, 30, 0])).toBeLessThan(1e-9);
  });

  it("snaps on a teleport or when game time goes backwards", () => {
    const tr = new Track(opts);
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [0, 0, 0] }, 0);
    tr.push({ gameTime: 1, position: [5e6, 0, 0], velocity: [0, 0, 0] }, 1);
    expect(tr.at(1).position[0]).toBe(5e6);
    tr.push({ gameTime: 0.5, position: [1, 0, 0], velocity: [0, 0, 0] }, 2);
    expect(tr.at(2).position[0]).toBe(1);
  });

  it("caps extrapolation when states stop coming", () => {
    const tr = new Track(opts);
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [1, 0, 0] }, 0);
    expect(tr.at(100).position[0]).toBe(5);
    expect(tr.age(100)).toBe(100);
  });

  it("turns with the angular velocity and slerps attitude corrections without a jump", () => {
    const tr = new Track(opts);
    const omega: Vec3 = [0, 0, 0.2]; // 0.2 rad/s about world Z
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [0, 0, 0], attitude: [1, 0, 0, 0], angularVelocity: omega }, 0);
    expect(angleBetween(tr.at(1).attitude, fromAxisAngle([0, 0, 1], 0.2))).toBeLessThan(1e-9);
    const shownBefore = tr.at(1).attitude;
    // The server's attitude at t=1 differs by 0.1 rad.
    tr.push({ gameTime: 1, position: [0, 0, 0], velocity: [0, 0, 0], attitude: fromAxisAngle([0, 0, 1], 0.3), angularVelocity: omega }, 1);
    expect(angleBetween(tr.at(1).attitude, shownBefore)).toBeLessThan(1e-9);
    expect(angleBetween(tr.at(2).attitude, fromAxisAngle([0, 0, 1], 0.5))).toBeLessThan(1e-9);
  });

  it("uses the time scale (game seconds per wall second)", () => {
    const tr = new Track({ ...opts, timeScale: 10, maxExtrapolation: 50 });
    tr.push({ gameTime: 0, position: [0, 0, 0], velocity: [1, 0, 0] }, 0);
    expect(tr.at(0.5).position[0]).toBeCloseTo(5, 12);
  });
});
