// Keyboard bindings. One table drives the key handler, the help overlay and the on-screen buttons.
//
// Rotation signs follow the engine (engine/src/ships.rs update_attitude): the inputs are angular
// accelerations about the ship's +X/+Y/+Z axes, positive by the right-hand rule. The ship frame is
// right-handed with +Z forward and +Y up, so +X points to the pilot's LEFT (up × forward), and:
// pitch +1 swings the nose toward −Y (down), yaw +1 toward +X (left), roll +1 turns +Y toward −X
// (clockwise from the pilot's seat: roll right). The e2e test "rotation keys turn the view the way
// their labels say" checks this against the server. Change ROTATION_SIGN if the server ever flips
// a convention.
export const ROTATION_SIGN = { pitchUp: -1, yawLeft: 1, rollLeft: -1 } as const;

export type Action =
  | "throttle_up"
  | "throttle_down"
  | "throttle_full"
  | "throttle_cut"
  | "pitch_down"
  | "pitch_up"
  | "yaw_left"
  | "yaw_right"
  | "roll_left"
  | "roll_right"
  | "mode_prograde"
  | "mode_retrograde"
  | "mode_normal"
  | "mode_antinormal"
  | "mode_radial_out"
  | "mode_radial_in"
  | "mode_hold"
  | "mode_target"
  | "next_target"
  | "prev_target"
  | "camera_cycle"
  | "map_toggle"
  | "map_focus"
  | "sizes_toggle"
  | "respawn"
  | "help";

export interface Binding {
  action: Action;
  /** KeyboardEvent.code values (layout-independent) or key values for symbols. */
  codes: string[];
  shift?: boolean;
  /** What the help overlay shows. */
  keys: string;
  label: string;
  group: "Throttle" | "Rotation" | "Attitude" | "Targets" | "View" | "Ship";
  /** Held keys (rotation) act while down. */
  hold?: boolean;
}

export const BINDINGS: Binding[] = [
  { action: "throttle_up", codes: ["Equal", "NumpadAdd", "+"], keys: "+  =", label: "Throttle +10%", group: "Throttle" },
  { action: "throttle_down", codes: ["Minus", "NumpadSubtract", "-"], keys: "−", label: "Throttle −10%", group: "Throttle" },
  { action: "throttle_full", codes: ["KeyZ"], keys: "Z", label: "Full throttle", group: "Throttle" },
  { action: "throttle_cut", codes: ["KeyX"], keys: "X", label: "Cut engine", group: "Throttle" },
  { action: "pitch_down", codes: ["KeyW"], keys: "W", label: "Pitch down", group: "Rotation", hold: true },
  { action: "pitch_up", codes: ["KeyS"], keys: "S", label: "Pitch up", group: "Rotation", hold: true },
  { action: "yaw_left", codes: ["KeyA"], keys: "A", label: "Yaw left", group: "Rotation", hold: true },
  { action: "yaw_right", codes: ["KeyD"], keys: "D", label: "Yaw right", group: "Rotation", hold: true },
  { action: "roll_left", codes: ["KeyQ"], keys: "Q", label: "Roll left", group: "Rotation", hold: true },
  { action: "roll_right", codes: ["KeyE"], keys: "E", label: "Roll right", group: "Rotation", hold: true },
  { action: "mode_prograde", codes: ["KeyP"], shift: false, keys: "P", label: "Prograde", group: "Attitude" },
  { action: "mode_retrograde", codes: ["KeyP"], shift: true, keys: "Shift+P", label: "Retrograde", group: "Attitude" },
  { action: "mode_normal", codes: ["KeyJ"], shift: false, keys: "J", label: "Normal", group: "Attitude" },
  { action: "mode_antinormal", codes: ["KeyJ"], shift: true, keys: "Shift+J", label: "Antinormal", group: "Attitude" },
  { action: "mode_radial_out", codes: ["KeyR"], shift: false, keys: "R", label: "Radial out", group: "Attitude" },
  { action: "mode_radial_in", codes: ["KeyR"], shift: true, keys: "Shift+R", label: "Radial in", group: "Attitude" },
  { action: "mode_hold", codes: ["KeyH"], keys: "H", label: "Hold attitude", group: "Attitude" },
  { action: "mode_target", codes: ["KeyT"], keys: "T", label: "Point at target", group: "Attitude" },
  { action: "next_target", codes: ["Tab"], shift: false, keys: "Tab", label: "Next target", group: "Targets" },
  { action: "prev_target", codes: ["Tab"], shift: true, keys: "Shift+Tab", label: "Previous target", group: "Targets" },
  { action: "camera_cycle", codes: ["KeyC"], keys: "C", label: "Camera: cockpit / chase / map", group: "View" },
  { action: "map_toggle", codes: ["KeyM"], keys: "M", label: "Map view on/off", group: "View" },
  { action: "map_focus", codes: ["KeyF"], keys: "F", label: "Map focus: ship / body / Sun / target", group: "View" },
  { action: "sizes_toggle", codes: ["KeyB"], keys: "B", label: "Exaggerated body sizes", group: "View" },
  { action: "help", codes: ["F1", "?", "Slash"], keys: "? / F1", label: "This help", group: "View" },
  { action: "respawn", codes: ["KeyN"], keys: "N", label: "Respawn (choose class)", group: "Ship" },
];

/** The binding for a key event, or null. Ctrl/Alt/Meta combos are left to the browser. */
export function bindingFor(e: { code: string; key: string; shiftKey: boolean; ctrlKey: boolean; altKey: boolean; metaKey: boolean }): Binding | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  if (e.key === "?") return BINDINGS.find((b) => b.action === "help") ?? null;
  for (const b of BINDINGS) {
    const hit = b.codes.includes(e.code) || (e.key.length === 1 && b.codes.includes(e.key));
    if (!hit) continue;
    if (b.shift !== undefined && b.shift !== e.shiftKey) continue;
    return b;
  }
  return null;
}

export const THROTTLE_STEP = 0.1;

/** Next throttle after a step, snapped to the 10% grid and clamped to 0..1. */
export function stepThrottle(current: number, direction: 1 | -1): number {
  const snapped = Math.round(current / THROTTLE_STEP);
  return Math.max(0, Math.min(1, (snapped + direction) * THROTTLE_STEP));
}
