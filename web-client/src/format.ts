// Human-readable numbers for the HUD.

/** Distance: m below 10 km, km below 10 million km, then AU. */
export function fmtDistance(m: number | null | undefined): string {
  if (m === null || m === undefined || !Number.isFinite(m)) return "—";
  const a = Math.abs(m);
  if (a < 10_000) return `${m.toFixed(0)} m`;
  if (a < 1e10) return `${(m / 1000).toLocaleString("en-US", { maximumFractionDigits: a < 1e6 ? 1 : 0 })} km`;
  return `${(m / 1.495978707e11).toFixed(3)} AU`;
}

/** Speed: m/s below 10 km/s, then km/s. */
export function fmtSpeed(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (Math.abs(v) < 10_000) return `${v.toFixed(1)} m/s`;
  return `${(v / 1000).toFixed(2)} km/s`;
}

/** Duration as 1d 02:03:04 / 02:03:04 / 03:04. */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  const neg = s < 0;
  let t = Math.floor(Math.abs(s));
  const d = Math.floor(t / 86400);
  t -= d * 86400;
  const h = Math.floor(t / 3600);
  t -= h * 3600;
  const m = Math.floor(t / 60);
  const sec = t - m * 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  const core = d > 0 ? `${d}d ${pad(h)}:${pad(m)}:${pad(sec)}` : h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  return (neg ? "-" : "") + core;
}

export function fmtAngleDeg(rad: number | null | undefined): string {
  if (rad === null || rad === undefined || !Number.isFinite(rad)) return "—";
  return `${((rad * 180) / Math.PI).toFixed(2)}°`;
}

export function fmtMass(kg: number | null | undefined): string {
  if (kg === null || kg === undefined || !Number.isFinite(kg)) return "—";
  return kg >= 10_000 ? `${(kg / 1000).toFixed(1)} t` : `${kg.toFixed(0)} kg`;
}

export const fmtPercent = (x: number): string => `${Math.round(x * 100)}%`;

export const modeLabel = (mode: string): string => mode.replace("_", " ").toUpperCase();
