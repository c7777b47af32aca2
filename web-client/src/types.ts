// The player protocol (docs/protocol.md) as TypeScript types. Units are SI; vectors are [x, y, z].

export type Vec3 = [number, number, number];
/** Quaternion [w, x, y, z], ship frame -> world frame. */
export type Quat = [number, number, number, number];

export interface Player {
  id: string;
  username: string;
  role: string;
}

export interface Session {
  token: string;
  expires_at: number;
  player: Player;
  ship_id: string | null;
}

export interface Config {
  tick_rate_hz: number;
  time_scale: number;
  registrations_open: boolean;
  spawn_body: string;
  spawn_altitude: number;
  ship_classes: string[];
}

export interface BodyCatalog {
  name: string;
  kind: string;
  parent: string | null;
  gm: number;
  radius: number;
  color: number;
  position: Vec3;
  velocity: Vec3;
}

export interface BodyState {
  name: string;
  position: Vec3;
  velocity: Vec3;
}

export type AttitudeMode =
  | "hold"
  | "prograde"
  | "retrograde"
  | "normal"
  | "antinormal"
  | "radial_in"
  | "radial_out"
  | "target";

export type TargetRef = { body: string } | { ship: string };

/** What never changes while a ship exists: sent in `roster` messages, not in every state. */
export interface ShipIdentity {
  id: string;
  owner: string;
  name: string;
  class: string;
}

export interface ShipSummary extends ShipIdentity {
  position: Vec3;
  velocity: Vec3;
  attitude: Quat;
  fuel: number;
  throttle: number;
  attitude_mode: AttitudeMode | string;
  status: "flying" | "landed" | "crashed" | string;
}

export interface Ship extends ShipSummary {
  angular_velocity: Vec3;
  dry_mass: number;
  fuel_capacity: number;
  max_thrust: number;
  exhaust_velocity: number;
  delta_v: number;
  control: { throttle: number; pitch: number; yaw: number; roll: number };
  target: TargetRef | null;
  surface_body: string | null;
}

export interface Elements {
  reference_body: string;
  semi_major_axis: number;
  eccentricity: number;
  inclination: number;
  periapsis: number;
  apoapsis: number | null;
  period: number | null;
}

export interface Prediction {
  reference_body: string;
  points: { time: number; position: Vec3; relative_position: Vec3 }[];
  elements: Elements | null;
}

export interface Me {
  player: Player;
  ship: Ship | null;
}

// WebSocket messages, server -> client.
export interface WelcomeMsg {
  type: "welcome";
  player: Player;
  ship_id: string | null;
  config: Config;
  bodies: BodyCatalog[];
}
/** The ships a state's rows describe, in row order; sent before the first state and on every change. */
export interface RosterMsg {
  type: "roster";
  version: number;
  ships: ShipIdentity[];
}
/**
 * One ship of a state, rounded (docs/protocol.md): [x, y, z, vx, vy, vz, qw, qx, qy, qz, fuel,
 * throttle, attitude_mode code, status code]; a non-finite number comes as null.
 */
export type ShipRow = (number | null)[];
export interface StateMsg {
  type: "state";
  tick: number;
  game_time: number;
  /** The version of the roster whose ships the rows are, in order. */
  roster: number;
  bodies: BodyState[];
  ships: ShipRow[];
  own_ship: Ship | null;
}
export interface AckMsg {
  type: "ack";
  id?: number;
  command: string;
}
export interface RejectedMsg {
  type: "rejected";
  id?: number;
  command: string;
  code: string;
  reason: string;
}
export interface ErrorMsg {
  type: "error";
  code: string;
  message: string;
}
export interface RespawnedMsg {
  type: "respawned";
  id?: number;
  ship_id: string;
}
export type ServerMsg = WelcomeMsg | RosterMsg | StateMsg | AckMsg | RejectedMsg | ErrorMsg | RespawnedMsg;

// Client -> server commands (the id is added by the connection).
export type Command =
  | { type: "control"; throttle: number; pitch: number; yaw: number; roll: number }
  | { type: "attitude_mode"; mode: AttitudeMode; target?: TargetRef }
  | { type: "respawn"; class: string };
