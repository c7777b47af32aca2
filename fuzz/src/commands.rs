//! The `engine_commands` program: a scene selector byte, then ship commands and steps, each one
//! opcode byte and a few argument bytes. [`Op::encode`] writes exactly what [`Op::decode`]
//! reads, so seeds are flight plans written in Rust (see `examples/seeds.rs`).
//!
//! After every operation [`run`] checks the engine's invariants ([`crate::assert_simulation_sane`]),
//! and that a refused command changed nothing (the snapshot bytes are the same).

use galaxy_engine::{
    AttitudeMode, AttitudeTarget, DQuat, DVec3, PredictionParams, ShipClass, ShipControl, ShipInit, Simulation,
};

use crate::{Bytes, EDGE_FLOATS, assert_simulation_sane, control_value, scene};

/// Most operations one input runs (bounds the time of one execution).
pub const MAX_OPS: usize = 96;
/// Most ships one input may have at once.
pub const MAX_SHIPS: usize = 12;
/// Most integration steps one prediction may take here (the engine allows 10⁶, too slow to fuzz).
const MAX_FUZZED_PREDICTION_STEPS: f64 = 2048.0;

/// One operation on the simulation. Every field is one byte, interpreted as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Adds a ship near body `body` (an index byte, see [`index`]).
    Spawn {
        /// 0 fast frigate, 1 cargo hauler, 2 a "hot rod" (huge thrust and turn rates), 3 inert (no thrust, no turning).
        class: u8,
        /// Index byte of the body to start at; an invalid one starts at a position from [`EDGE_FLOATS`].
        body: u8,
        /// Altitude above the surface, from [`ALTITUDES`] (some are inside the body, one is its centre).
        altitude: u8,
        /// Speed as a multiple of the circular speed: [`control_value`] + 1 (so -0.25..=2.25), or an edge float.
        speed: u8,
        /// Direction from the body's centre, three signed bytes (all zero: +X).
        direction: [u8; 3],
        /// Attitude quaternion (w, x, y, z) components, each [`control_value`] (edge floats included).
        attitude: [u8; 4],
        /// Fuel as a fraction of the capacity, [`control_value`].
        fuel: u8,
    },
    /// Throttle and rotation inputs, each [`control_value`].
    Control {
        /// Index byte of the ship.
        ship: u8,
        /// Throttle.
        throttle: u8,
        /// Pitch.
        pitch: u8,
        /// Yaw.
        yaw: u8,
        /// Roll.
        roll: u8,
    },
    /// Attitude mode and target.
    Mode {
        /// Index byte of the ship.
        ship: u8,
        /// `AttitudeMode::ALL[mode % 8]`.
        mode: u8,
        /// 0 no target, 1 a body, 2 a ship (modulo 3).
        target_kind: u8,
        /// Index byte of the target.
        target: u8,
    },
    /// Changes the substep to [`SUBSTEPS`]`[value % 16]`.
    Substep {
        /// Table index.
        value: u8,
    },
    /// Advances `substeps % 65` substeps.
    Step {
        /// Substeps.
        substeps: u8,
    },
    /// Removes a ship.
    Remove {
        /// Index byte of the ship.
        ship: u8,
    },
    /// Sets a ship's fuel to a fraction ([`control_value`]) of its capacity.
    Fuel {
        /// Index byte of the ship.
        ship: u8,
        /// Fraction.
        fraction: u8,
    },
    /// Predicts a ship's path (horizon and step from [`HORIZONS`] and [`PREDICTION_STEPS`]).
    Predict {
        /// Index byte of the ship.
        ship: u8,
        /// Table index.
        horizon: u8,
        /// Table index.
        step: u8,
        /// Samples, `samples % 20` (0 and 1 are refused).
        samples: u8,
    },
    /// Orbit queries: a ship's orbit, a body's orbit, the dominant body at the ship.
    Orbits {
        /// Index byte of the ship.
        ship: u8,
        /// Index byte of the body.
        body: u8,
    },
    /// Snapshots, restores, and checks that original and copy then step identically.
    Restore {
        /// Substeps both take afterwards, `substeps % 9`.
        substeps: u8,
    },
}

/// Altitudes above the surface, m; -1 stands for "minus the radius" (the body's centre).
pub const ALTITUDES: [f64; 16] =
    [400e3, 5.0, 0.5, 0.0, -1.0, 100.0, 10e3, 36e6, 4e8, -0.5e6, 1e12, -1e300, f64::NAN, f64::INFINITY, 1e300, 2e3];
/// Substeps to switch to, s: the game's range (the physics service allows up to 10⁶ s per
/// substep) and values the engine must refuse.
pub const SUBSTEPS: [f64; 16] = [
    1e-3,
    0.01,
    0.1,
    1.0,
    10.0,
    60.0,
    600.0,
    3600.0,
    86400.0,
    1e6,
    0.0,
    -0.1,
    f64::NAN,
    f64::INFINITY,
    f64::MIN_POSITIVE / 1e5,
    -0.0,
];
/// Prediction horizons, s.
pub const HORIZONS: [f64; 8] = [60.0, 600.0, 5400.0, 86400.0, 1e6, 0.0, f64::NAN, 1e300];
/// Prediction steps, s.
pub const PREDICTION_STEPS: [f64; 8] = [0.1, 1.0, 10.0, 60.0, 600.0, 1e6, -1.0, f64::INFINITY];

impl Op {
    const CODES: u8 = 10;

    /// Reads one operation (zeros past the end of the input).
    pub fn decode(bytes: &mut Bytes<'_>) -> Self {
        match bytes.u8() % Self::CODES {
            0 => Op::Spawn {
                class: bytes.u8(),
                body: bytes.u8(),
                altitude: bytes.u8(),
                speed: bytes.u8(),
                direction: [bytes.u8(), bytes.u8(), bytes.u8()],
                attitude: [bytes.u8(), bytes.u8(), bytes.u8(), bytes.u8()],
                fuel: bytes.u8(),
            },
            1 => Op::Control {
                ship: bytes.u8(),
                throttle: bytes.u8(),
                pitch: bytes.u8(),
                yaw: bytes.u8(),
                roll: bytes.u8(),
            },
            2 => Op::Mode { ship: bytes.u8(), mode: bytes.u8(), target_kind: bytes.u8(), target: bytes.u8() },
            3 => Op::Substep { value: bytes.u8() },
            4 => Op::Step { substeps: bytes.u8() },
            5 => Op::Remove { ship: bytes.u8() },
            6 => Op::Fuel { ship: bytes.u8(), fraction: bytes.u8() },
            7 => Op::Predict { ship: bytes.u8(), horizon: bytes.u8(), step: bytes.u8(), samples: bytes.u8() },
            8 => Op::Orbits { ship: bytes.u8(), body: bytes.u8() },
            _ => Op::Restore { substeps: bytes.u8() },
        }
    }

    /// Appends the bytes [`Op::decode`] reads back as `self`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Op::Spawn { class, body, altitude, speed, direction, attitude, fuel } => {
                out.extend([0, class, body, altitude, speed]);
                out.extend(direction);
                out.extend(attitude);
                out.push(fuel);
            }
            Op::Control { ship, throttle, pitch, yaw, roll } => out.extend([1, ship, throttle, pitch, yaw, roll]),
            Op::Mode { ship, mode, target_kind, target } => out.extend([2, ship, mode, target_kind, target]),
            Op::Substep { value } => out.extend([3, value]),
            Op::Step { substeps } => out.extend([4, substeps]),
            Op::Remove { ship } => out.extend([5, ship]),
            Op::Fuel { ship, fraction } => out.extend([6, ship, fraction]),
            Op::Predict { ship, horizon, step, samples } => out.extend([7, ship, horizon, step, samples]),
            Op::Orbits { ship, body } => out.extend([8, ship, body]),
            Op::Restore { substeps } => out.extend([9, substeps]),
        }
    }
}

/// An index from one byte: below 128 a valid index (`byte % count`, when there is any), else
/// one of the invalid indices a request could carry (one past the end, huge, `u32::MAX`, …).
#[must_use]
pub fn index(byte: u8, count: usize) -> usize {
    if byte < 128 && count > 0 {
        return usize::from(byte) % count;
    }
    match byte % 4 {
        0 => count,
        1 => usize::MAX,
        2 => u32::MAX as usize,
        _ => count + usize::from(byte),
    }
}

/// Encodes a whole program: the scene byte, then the operations.
#[must_use]
pub fn encode_program(scene: u8, ops: &[Op]) -> Vec<u8> {
    let mut out = vec![scene];
    for op in ops {
        op.encode(&mut out);
    }
    out
}

/// Runs a program, panicking on any broken invariant; returns the final state.
pub fn run(data: &[u8]) -> Simulation {
    let mut bytes = Bytes::new(data);
    let mut simulation = scene(bytes.u8());
    assert_simulation_sane(&simulation);
    for _ in 0..MAX_OPS {
        if bytes.is_empty() || beyond_engine_range(&simulation) {
            break;
        }
        let op = Op::decode(&mut bytes);
        let before = simulation.to_snapshot();
        let may_change = apply(&mut simulation, op);
        if !may_change {
            assert!(simulation.to_snapshot() == before, "{op:?} was refused (or is read-only) but changed the state");
        }
        assert_simulation_sane(&simulation);
    }
    simulation
}

/// Largest position (m) or velocity (m/s) component the checks hold the engine to.
///
/// NOTE: the engine accepts any finite position and velocity, but squared distances overflow
/// past about 1e154, and then the Barnes–Hut path turns a far ship's prediction into NaN (found
/// by this target with a ship spawned at 1e160 m; reported, not fixed: bounding coordinates is a
/// design decision for the engine). No game state comes near: the solar system spans 1e13 m. A
/// program that reaches such a state (by spawning there, or by a huge speed) stops there.
pub const ENGINE_RANGE: f64 = 1e100;

fn beyond_engine_range(simulation: &Simulation) -> bool {
    let ships = simulation.ships();
    let bodies = simulation.bodies();
    let (x, y, z) = ships.positions();
    let (vx, vy, vz) = ships.velocities();
    let (bx, by, bz) = bodies.positions();
    let (bvx, bvy, bvz) = bodies.velocities();
    [x, y, z, vx, vy, vz, bx, by, bz, bvx, bvy, bvz]
        .iter()
        .any(|column| column.iter().any(|value| value.abs() > ENGINE_RANGE))
}

/// Applies one operation; `false` when it must not have changed the state (the engine refused
/// it, or it only reads).
fn apply(simulation: &mut Simulation, op: Op) -> bool {
    let ship_count = simulation.ships().len();
    let body_count = simulation.bodies().len();
    match op {
        Op::Spawn { class, body, altitude, speed, direction, attitude, fuel } => {
            if ship_count >= MAX_SHIPS {
                return false;
            }
            let ship = spawn(simulation, class, index(body, body_count), altitude, speed, direction, attitude, fuel);
            simulation.add_ship(ship).is_ok()
        }
        Op::Control { ship, throttle, pitch, yaw, roll } => {
            let control = ShipControl {
                throttle: control_value(throttle),
                pitch: control_value(pitch),
                yaw: control_value(yaw),
                roll: control_value(roll),
            };
            let result = simulation.set_control(index(ship, ship_count), control);
            assert_eq!(result.is_ok(), ship < 128 && ship_count > 0 && control.validate().is_ok(), "{control:?}");
            result.is_ok()
        }
        Op::Mode { ship, mode, target_kind, target } => {
            let target = match target_kind % 3 {
                0 => None,
                1 => Some(AttitudeTarget::Body(index(target, body_count))),
                _ => Some(AttitudeTarget::Ship(index(target, ship_count))),
            };
            let mode = AttitudeMode::ALL[usize::from(mode % 8)];
            simulation.set_attitude_mode(index(ship, ship_count), mode, target).is_ok()
        }
        Op::Substep { value } => {
            let substep = SUBSTEPS[usize::from(value % 16)];
            let result = simulation.set_substep(substep);
            assert_eq!(result.is_ok(), substep.is_finite() && substep > 0.0, "substep {substep}");
            result.is_ok()
        }
        Op::Step { substeps } => {
            let report = simulation.step(u32::from(substeps % 65));
            for event in &report.events {
                assert!(event.ship < simulation.ships().len() && event.body < body_count, "{event:?}");
                assert!(event.vertical_speed.is_finite() && event.tilt_degrees.is_finite(), "{event:?}");
            }
            true
        }
        Op::Remove { ship } => simulation.remove_ship(index(ship, ship_count)).is_ok(),
        Op::Fuel { ship, fraction } => {
            let ship = index(ship, ship_count);
            let capacity = if ship < ship_count { simulation.ships().state(ship).fuel_capacity } else { 1.0 };
            simulation.set_fuel(ship, capacity * control_value(fraction)).is_ok()
        }
        Op::Predict { ship, horizon, step, samples } => {
            let params = PredictionParams {
                horizon: HORIZONS[usize::from(horizon % 8)],
                step: PREDICTION_STEPS[usize::from(step % 8)],
                samples: usize::from(samples % 20),
            };
            let steps = (params.horizon / params.step).ceil();
            if steps > MAX_FUZZED_PREDICTION_STEPS && steps <= galaxy_engine::MAX_PREDICTION_STEPS {
                // Valid but too slow to fuzz; the refusals above the limit are still exercised.
                return false;
            }
            if let Ok(trajectory) = simulation.predict_ship_trajectory(index(ship, ship_count), params) {
                assert!(!trajectory.points.is_empty() && trajectory.points.len() <= params.samples);
                for point in &trajectory.points {
                    let values = point.position.to_array().into_iter().chain(point.relative_position.to_array());
                    for value in values.chain([point.time]) {
                        assert!(value.is_finite(), "prediction {params:?} gave {point:?}");
                    }
                }
            }
            // A prediction never changes the simulation, accepted or not.
            false
        }
        Op::Orbits { ship, body } => {
            let ship = index(ship, ship_count);
            let _ = simulation.ship_orbit(ship);
            let _ = simulation.body_orbit(index(body, body_count));
            if ship < ship_count {
                let _ = simulation.dominant_body(simulation.ships().state(ship).position);
            }
            let _ = simulation.diagnostics();
            false
        }
        Op::Restore { substeps } => {
            let snapshot = simulation.to_snapshot();
            let mut restored = Simulation::from_snapshot(&snapshot)
                .unwrap_or_else(|error| panic!("a state the engine reached cannot be restored: {error}"));
            assert!(restored.to_snapshot() == snapshot, "restoring changed the state");
            let substeps = u32::from(substeps % 9);
            simulation.step(substeps);
            restored.step(substeps);
            // NOTE: with the post-Newtonian correction the forces depend on velocities, and the
            // engine carries forces computed from half-kicked velocities from one step to the
            // next; a snapshot does not store them, so a restored simulation recomputes them
            // from the full-step velocities and drifts apart in the last bits (found by this
            // target; reported, not fixed: it needs a snapshot format change, and the game does
            // not use the correction). Without it, restores must be bit-exact.
            if simulation.params().post_newtonian.is_none() {
                assert!(
                    restored.to_snapshot() == simulation.to_snapshot(),
                    "a restored simulation stepped differently from the original"
                );
            }
            true
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    simulation: &Simulation,
    class: u8,
    body: usize,
    altitude: u8,
    speed: u8,
    direction: [u8; 3],
    attitude: [u8; 4],
    fuel: u8,
) -> ShipInit {
    let class = match class % 4 {
        0 => ShipClass::FAST_FRIGATE,
        1 => ShipClass::CARGO_HAULER,
        2 => ShipClass {
            name: "hot_rod",
            max_thrust: 1e9,
            max_angular_acceleration: 50.0,
            max_angular_rate: 20.0,
            ..ShipClass::FAST_FRIGATE
        },
        _ => ShipClass {
            name: "inert",
            fuel_capacity: 0.0,
            max_thrust: 0.0,
            max_angular_acceleration: 0.0,
            max_angular_rate: 0.0,
            ..ShipClass::CARGO_HAULER
        },
    };
    let direction =
        DVec3::new(f64::from(direction[0] as i8), f64::from(direction[1] as i8), f64::from(direction[2] as i8))
            .try_normalize()
            .unwrap_or(DVec3::X);
    let altitude_byte = altitude;
    let altitude = ALTITUDES[usize::from(altitude % 16)];
    let speed_factor = control_value(speed) + 1.0;
    let bodies = simulation.bodies();
    let (position, velocity) = if body < bodies.len() {
        let radius = bodies.radius()[body];
        let altitude = if altitude == -1.0 { -radius } else { altitude };
        let distance = radius + altitude;
        let gm = simulation.params().gravitational_constant * bodies.mass()[body];
        let circular = (gm / distance.abs()).sqrt();
        let along = direction.any_orthonormal_vector();
        (bodies.position(body) + direction * distance, bodies.velocity(body) + along * circular * speed_factor)
    } else {
        // No such body: the raw numbers go straight to the engine, which must refuse the bad ones.
        let value = EDGE_FLOATS[usize::from(altitude_byte % 16)];
        (DVec3::splat(value), DVec3::new(speed_factor, 0.0, 0.0))
    };
    let [w, x, y, z] = attitude.map(control_value);
    ShipInit {
        class,
        fuel_mass: class.fuel_capacity * control_value(fuel),
        position,
        velocity,
        attitude: DQuat::from_xyzw(x, y, z, w),
    }
}
