import { describe, expect, it } from "vitest";
import { decodeShips } from "../../src/ships";
import type { RosterMsg, StateMsg } from "../../src/types";

const roster: RosterMsg = {
  type: "roster",
  version: 3,
  ships: [
    { id: "ship-7", owner: "7", name: "ada_1", class: "fast_frigate" },
    { id: "ship-9", owner: "12", name: "grace", class: "cargo_hauler" },
  ],
};

// The rows of docs/protocol.md's example.
const state = (version: number, ships: StateMsg["ships"]): StateMsg => ({
  type: "state",
  tick: 42,
  game_time: 42,
  roster: version,
  bodies: [],
  ships,
  own_ship: null,
});
const rows: StateMsg["ships"] = [
  [-26351234567.8, 144717654321.2, -5123456.7, -29563.41, -5329.07, 3120.55, 0.7071, 0, 0, 0.7071, 15000, 0, 0, 0],
  [-26351242001.3, 144717660012.9, -5124001.1, -29566.02, -5320.4, 3119.87, 0.5, -0.5, 0.5, 0.5, 59873, 1, 1, 2],
];

describe("ships in states", () => {
  it("reads each row as the roster's ship at the same place", () => {
    const ships = decodeShips(roster, state(3, rows));
    expect(ships).toEqual([
      {
        id: "ship-7", owner: "7", name: "ada_1", class: "fast_frigate",
        position: [-26351234567.8, 144717654321.2, -5123456.7], velocity: [-29563.41, -5329.07, 3120.55],
        attitude: [0.7071, 0, 0, 0.7071], fuel: 15000, throttle: 0, attitude_mode: "hold", status: "flying",
      },
      {
        id: "ship-9", owner: "12", name: "grace", class: "cargo_hauler",
        position: [-26351242001.3, 144717660012.9, -5124001.1], velocity: [-29566.02, -5320.4, 3119.87],
        attitude: [0.5, -0.5, 0.5, 0.5], fuel: 59873, throttle: 1, attitude_mode: "prograde", status: "crashed",
      },
    ]);
  });

  it("reads every attitude mode code", () => {
    const modes = ["hold", "prograde", "retrograde", "normal", "antinormal", "radial_in", "radial_out", "target"];
    modes.forEach((mode, code) => {
      const row = [...rows[0]];
      row[12] = code;
      expect(decodeShips(roster, state(3, [row, rows[1]]))?.[0].attitude_mode).toBe(mode);
    });
  });

  it("names nobody when the rows follow another roster, or none", () => {
    expect(decodeShips(roster, state(4, rows))).toBeNull();
    expect(decodeShips(null, state(3, rows))).toBeNull();
    expect(decodeShips(roster, state(3, [rows[0]]))).toBeNull();
  });

  it("turns a null (a non-finite number) into NaN and drops a row that is not one", () => {
    const broken = [null, ...rows[0].slice(1)];
    const ships = decodeShips(roster, state(3, [broken, [1, 2, 3] as StateMsg["ships"][number]]));
    expect(ships).toHaveLength(1);
    expect(Number.isNaN(ships?.[0].position[0])).toBe(true);
    expect(ships?.[0].position[1]).toBe(144717654321.2);
  });
});
