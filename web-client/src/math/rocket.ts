// Tsiolkovsky: Δv = v_e · ln(m_wet / m_dry).

/** Δv left with `fuel` kg on a ship of `dryMass` kg whose exhaust leaves at `exhaustVelocity` m/s. */
export function deltaV(fuel: number, dryMass: number, exhaustVelocity: number): number {
  if (!(dryMass > 0) || !(fuel > 0) || !(exhaustVelocity > 0)) return 0;
  return exhaustVelocity * Math.log((dryMass + fuel) / dryMass);
}

/** Time to burn all fuel at `throttle` (0..1) with full thrust `maxThrust` N; Infinity at zero throttle. */
export function burnTime(fuel: number, maxThrust: number, exhaustVelocity: number, throttle: number): number {
  const massFlow = (maxThrust * throttle) / exhaustVelocity;
  return massFlow > 0 ? fuel / massFlow : Infinity;
}

/** Acceleration at `throttle`, m/s². */
export function thrustAcceleration(maxThrust: number, throttle: number, dryMass: number, fuel: number): number {
  const m = dryMass + Math.max(0, fuel);
  return m > 0 ? (maxThrust * throttle) / m : 0;
}
