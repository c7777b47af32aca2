import { describe, expect, it } from "vitest";
import { litFraction, planetshine, sunVisibility, type Sphere } from "../../src/math/light";
import type { Vec3 } from "../../src/types";

const AU = 1.496e11;
const sun: Sphere = { position: [0, 0, 0], radius: 6.957e8 };
const earth: Sphere = { position: [AU, 0, 0], radius: 6.371e6 };
const leo = 6.771e6;
const around = (r: number, angle: number): Vec3 => [AU + r * Math.cos(angle), r * Math.sin(angle), 0];

describe("sunVisibility", () => {
  it("is 1 on the day side and 0 in the umbra", () => {
    expect(sunVisibility(around(leo, Math.PI), sun, [earth])).toBe(1); // between the Earth and the Sun
    expect(sunVisibility(around(leo, Math.PI / 2), sun, [earth])).toBe(1); // over the terminator, high enough
    expect(sunVisibility(around(leo, 0), sun, [earth])).toBe(0); // behind the Earth
  });

  it("has a penumbra only a few seconds of orbit wide", () => {
    // Leaving the shadow (the Sun is at angle π, the shadow around angle 0): from 0 to 1.
    const samples = Array.from({ length: 2001 }, (_, i) => {
      const a = Math.PI / 2 - 0.5 + i * 0.0005;
      return { a, v: sunVisibility(around(leo, a), sun, [earth]) };
    });
    const partial = samples.filter((s) => s.v > 0 && s.v < 1);
    expect(partial.length).toBeGreaterThan(0);
    const width = partial[partial.length - 1].a - partial[0].a;
    expect(width).toBeLessThan(0.01); // rad of orbit: ~8 s at 7.7 km/s
    expect(samples[0].v).toBe(0);
    expect(samples[samples.length - 1].v).toBe(1);
    for (let i = 1; i < samples.length; i++) expect(samples[i].v).toBeGreaterThanOrEqual(samples[i - 1].v);
  });

  it("dims by the covered area in an annular transit", () => {
    // A body a tenth of the Sun's apparent size, centred on it.
    const p: Vec3 = [AU, 0, 0];
    const sunAngle = Math.asin(sun.radius / AU);
    const d = 1e9;
    const small: Sphere = { position: [AU - d, 0, 0], radius: d * Math.sin(sunAngle / 10) };
    expect(sunVisibility(p, sun, [small])).toBeCloseTo(0.99, 3);
  });

  it("lets a landed ship see the Sun above its horizon only", () => {
    expect(sunVisibility(around(earth.radius, Math.PI), sun, [earth])).toBe(1); // noon
    expect(sunVisibility(around(earth.radius, 0), sun, [earth])).toBe(0); // midnight
    expect(sunVisibility(around(earth.radius, Math.PI / 2 - 0.05), sun, [earth])).toBe(0); // just after sunset
  });

  it("ignores bodies beyond the Sun or behind the point", () => {
    const far: Sphere = { position: [-2 * AU, 0, 0], radius: 7e7 };
    expect(sunVisibility(around(leo, Math.PI), sun, [far])).toBe(1);
    const behind: Sphere = { position: [AU + 1e9, 0, 0], radius: 7e7 };
    expect(sunVisibility([AU, 0, 0], sun, [behind])).toBe(1);
  });
});

describe("litFraction and planetshine", () => {
  it("follows Lambert's phase law from far away", () => {
    const far = 1e10;
    expect(litFraction(around(far, Math.PI), earth, sun.position)).toBeCloseTo(1, 6); // full
    expect(litFraction(around(far, 0), earth, sun.position)).toBeCloseTo(0, 6); // new
    expect(litFraction(around(far, Math.PI / 2), earth, sun.position)).toBeCloseTo(1 / Math.PI, 2); // quarter
  });

  it("is all day or all night for a low orbit away from the terminator", () => {
    expect(litFraction(around(leo, Math.PI), earth, sun.position)).toBeCloseTo(1, 6);
    expect(litFraction(around(leo, 0), earth, sun.position)).toBe(0);
    expect(litFraction(around(leo, Math.PI / 4), earth, sun.position)).toBe(0); // 45° into the night
    const dusk = litFraction(around(leo, Math.PI / 2), earth, sun.position);
    expect(dusk).toBeGreaterThan(0.2);
    expect(dusk).toBeLessThan(0.5);
  });

  it("is about a fifth of sunlight over the day side in a low orbit", () => {
    const e = planetshine(around(leo, Math.PI), earth, sun.position, 0.3);
    expect(e).toBeCloseTo(0.3 * (2 / 3) * (6.371 / 6.771) ** 2, 6);
    expect(planetshine(around(leo, 0), earth, sun.position, 0.3)).toBe(0);
    expect(planetshine(around(1e10, Math.PI), earth, sun.position, 0.3)).toBeLessThan(1e-6);
  });
});
