import { describe, expect, it } from "vitest";
import {
  angleBetween,
  forward,
  fromAxisAngle,
  fromUnitVectors,
  integrateAngularVelocity,
  qconj,
  qmul,
  qnormalize,
  rotate,
  slerp,
  up,
  wrapAngle,
} from "../../src/math/quat";
import type { Vec3 } from "../../src/types";

const close = (a: Vec3, b: Vec3, eps = 1e-12) => expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(eps);

describe("quaternions [w, x, y, z]", () => {
  it("identity ship faces +Z with +Y up", () => {
    close(forward([1, 0, 0, 0]), [0, 0, 1]);
    close(up([1, 0, 0, 0]), [0, 1, 0]);
  });
  it("yaw 90° about +Y turns the nose from +Z to +X", () => {
    close(forward(fromAxisAngle([0, 1, 0], Math.PI / 2)), [1, 0, 0]);
  });
  it("pitch 90° about +X turns the nose up from +Z to −Y... i.e. right-handed: Z→−Y", () => {
    close(rotate(fromAxisAngle([1, 0, 0], Math.PI / 2), [0, 0, 1]), [0, -1, 0]);
  });
  it("multiplication composes rotations (a·b applies b first)", () => {
    const a = fromAxisAngle([0, 0, 1], Math.PI / 2);
    const b = fromAxisAngle([1, 0, 0], Math.PI / 2);
    close(rotate(qmul(a, b), [0, 1, 0]), rotate(a, rotate(b, [0, 1, 0])));
    close(rotate(qmul(a, qconj(a)), [1, 2, 3]), [1, 2, 3]);
  });
  it("slerp halves the angle and takes the short way", () => {
    const a = fromAxisAngle([0, 0, 1], 0);
    const b = fromAxisAngle([0, 0, 1], 1.0);
    expect(angleBetween(slerp(a, b, 0.5), fromAxisAngle([0, 0, 1], 0.5))).toBeLessThan(1e-9);
    // −b is the same rotation: slerp must not go the long way round.
    const nb = b.map((c) => -c) as [number, number, number, number];
    expect(angleBetween(slerp(a, nb, 0.5), fromAxisAngle([0, 0, 1], 0.5))).toBeLessThan(1e-9);
    expect(angleBetween(slerp(a, b, 0), a)).toBeLessThan(1e-9);
    expect(angleBetween(slerp(a, b, 1), b)).toBeLessThan(1e-9);
    // Nearly equal inputs (the lerp branch)
    const c = fromAxisAngle([0, 1, 0], 1e-5);
    expect(angleBetween(slerp(a, c, 0.5), fromAxisAngle([0, 1, 0], 5e-6))).toBeLessThan(1e-9);
  });
  it("integrating a constant angular velocity equals an axis-angle turn", () => {
    const q = integrateAngularVelocity([1, 0, 0, 0], [0, 0.5, 0], 2);
    expect(angleBetween(q, fromAxisAngle([0, 1, 0], 1))).toBeLessThan(1e-12);
    expect(integrateAngularVelocity([1, 0, 0, 0], [0, 0, 0], 5)).toEqual([1, 0, 0, 0]);
  });
  it("fromUnitVectors, including opposite vectors", () => {
    close(rotate(fromUnitVectors([0, 0, 1], [1, 0, 0]), [0, 0, 1]), [1, 0, 0]);
    close(rotate(fromUnitVectors([0, 0, 1], [0, 0, -1]), [0, 0, 1]), [0, 0, -1]);
    close(rotate(fromUnitVectors([1, 0, 0], [-1, 0, 0]), [1, 0, 0]), [-1, 0, 0]);
  });
  it("normalize falls back to identity on garbage", () => {
    expect(qnormalize([0, 0, 0, 0])).toEqual([1, 0, 0, 0]);
    expect(qnormalize([2, 0, 0, 0])).toEqual([1, 0, 0, 0]);
  });
  it("wrapAngle", () => {
    expect(wrapAngle(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapAngle(-Math.PI / 2)).toBeCloseTo(-Math.PI / 2, 12);
    expect(wrapAngle(2 * Math.PI + 0.1)).toBeCloseTo(0.1, 12);
  });
});
