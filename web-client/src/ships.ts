// Other ships in `state` messages (docs/protocol.md): a row of rounded numbers per ship, in the
// order of the latest `roster`, which names them.
import type { AttitudeMode, RosterMsg, ShipRow, ShipSummary, StateMsg } from "./types";

/** Attitude modes by their code in rows. */
export const ATTITUDE_MODES: readonly AttitudeMode[] = ["hold", "prograde", "retrograde", "normal", "antinormal", "radial_in", "radial_out", "target"];
/** Ship statuses by their code in rows. */
export const SHIP_STATUSES = ["flying", "landed", "crashed"] as const;
const ROW_LENGTH = 14;

/** A row's number at `i`; NaN for null or anything else (the caller drops non-finite ships). */
const num = (row: ShipRow, i: number): number => {
  const x = row[i];
  return typeof x === "number" ? x : NaN;
};

/** One row and its roster entry as a ship summary, or null if the row is not a row. */
export function decodeShipRow(row: unknown, identity: RosterMsg["ships"][number]): ShipSummary | null {
  if (!Array.isArray(row) || row.length !== ROW_LENGTH || !identity || typeof identity.id !== "string") return null;
  const r = row as ShipRow;
  return {
    id: identity.id,
    owner: identity.owner,
    name: identity.name,
    class: identity.class,
    position: [num(r, 0), num(r, 1), num(r, 2)],
    velocity: [num(r, 3), num(r, 4), num(r, 5)],
    attitude: [num(r, 6), num(r, 7), num(r, 8), num(r, 9)],
    fuel: num(r, 10),
    throttle: num(r, 11),
    attitude_mode: ATTITUDE_MODES[num(r, 12)] ?? "hold",
    status: SHIP_STATUSES[num(r, 13)] ?? "flying",
  };
}

/**
 * The state's ships, named by the roster — or null when the rows do not follow this roster (another
 * version, or not one row per roster ship): then nobody can tell which row is which ship.
 */
export function decodeShips(roster: RosterMsg | null, state: StateMsg): ShipSummary[] | null {
  if (!roster || !Array.isArray(roster.ships) || roster.version !== state.roster || !Array.isArray(state.ships)) return null;
  if (state.ships.length !== roster.ships.length) return null;
  const ships: ShipSummary[] = [];
  state.ships.forEach((row, i) => {
    const ship = decodeShipRow(row, roster.ships[i]);
    if (ship) ships.push(ship);
  });
  return ships;
}
