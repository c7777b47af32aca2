//! Shared pieces of Galaxy's fuzz targets: a byte reader with an invertible encoding (so the
//! committed seeds are real scenarios written by `examples/seeds.rs`, not opaque bytes), the
//! engine invariants every target checks, the scenes the command target flies in, and the
//! checksum fix-up that lets mutated snapshots get past the CRC to the decoder proper.
//!
//! Targets live in `fuzz_targets/`, one file per boundary; this crate is their library.

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use galaxy_engine::{GravityMethod, KernelPath, PostNewtonian, SimParams, Simulation};

pub mod commands;

/// A cursor over fuzz input. Every read past the end yields zeros, so a short input is still a
/// whole (if boring) program rather than an early return that hides the rest from the fuzzer.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Reads from the start of `data`.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether everything has been read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&first, rest)) => {
                self.data = rest;
                first
            }
            None => 0,
        }
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        let mut bytes = [0_u8; 8];
        for byte in &mut bytes {
            *byte = self.u8();
        }
        u64::from_le_bytes(bytes)
    }

    /// An `f64` from its exact bits (NaN, infinities and subnormals included).
    pub fn f64_bits(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }

    /// A length-prefixed (u16) slice, cut short at the end of the input.
    pub fn slice(&mut self) -> &'a [u8] {
        let length = usize::from(self.u16()).min(self.data.len());
        let (taken, rest) = self.data.split_at(length);
        self.data = rest;
        taken
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Floats a mutation of raw bits rarely produces but validation must get right.
pub const EDGE_FLOATS: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    f64::MIN_POSITIVE,
    5e-324,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    1.0 + f64::EPSILON,
    -f64::EPSILON,
    1e-160,
    1e160,
    1e300,
    -1e300,
    -f64::MIN_POSITIVE,
];

/// A control-sized value from one byte: 0..=200 step evenly (by 1/80) over [-1.25, 1.25],
/// hitting -1, 0 and 1 exactly, so every input range is covered to both ends and a little
/// beyond; 201..=255 pick one of [`EDGE_FLOATS`].
#[must_use]
pub fn control_value(byte: u8) -> f64 {
    if byte <= 200 {
        (f64::from(byte) - 100.0) / 80.0
    } else {
        EDGE_FLOATS[usize::from(byte - 201) % EDGE_FLOATS.len()]
    }
}

/// The byte [`control_value`] maps to `value` (the nearest one), for writing seeds.
#[must_use]
pub fn control_byte(value: f64) -> u8 {
    (value * 80.0 + 100.0).round().clamp(0.0, 200.0) as u8
}

/// Panics unless every number in the simulation's state is finite and every ship's fuel and
/// attitude are sane: the invariants the engine promises whatever its (validated) inputs.
pub fn assert_simulation_sane(simulation: &Simulation) {
    assert!(simulation.time().is_finite(), "time {}", simulation.time());
    let bodies = simulation.bodies();
    let (x, y, z) = bodies.positions();
    let (vx, vy, vz) = bodies.velocities();
    for column in [bodies.mass(), bodies.radius(), x, y, z, vx, vy, vz] {
        for (body, value) in column.iter().enumerate() {
            assert!(value.is_finite(), "body {body} has a non-finite value {value}");
        }
    }
    let ships = simulation.ships();
    for ship in 0..ships.len() {
        let state = ships.state(ship);
        for value in [state.position.to_array(), state.velocity.to_array(), state.angular_velocity.to_array()]
            .into_iter()
            .flatten()
            .chain(state.attitude.to_array())
        {
            assert!(value.is_finite(), "ship {ship} has a non-finite value {value}: {state:?}");
        }
        assert!(
            (0.0..=state.fuel_capacity).contains(&state.fuel_mass),
            "ship {ship} fuel {} outside [0, {}]",
            state.fuel_mass,
            state.fuel_capacity
        );
        let length = state.attitude.length();
        assert!((length - 1.0).abs() <= 1e-6, "ship {ship} attitude quaternion has length {length}");
        if let Some(body) = state.surface_body {
            assert!(body < bodies.len(), "ship {ship} rests on missing body {body}");
        }
    }
}

/// Replaces the last four bytes of an engine snapshot with the CRC-32 of the rest, as
/// `Simulation::to_snapshot` writes it. Random mutations almost never keep a checksum right,
/// so without this the fuzzer would only ever test the checksum comparison.
#[must_use]
pub fn with_engine_checksum(bytes: &[u8]) -> Option<Vec<u8>> {
    let body_end = bytes.len().checked_sub(4)?;
    let mut fixed = bytes.to_vec();
    let checksum = crc32fast::hash(&bytes[..body_end]);
    fixed[body_end..].copy_from_slice(&checksum.to_le_bytes());
    Some(fixed)
}

/// The scenes the command target can fly in; the input's first byte picks one.
pub const SCENE_COUNT: u8 = 5;

/// The simulation scene `selector` names (taken modulo [`SCENE_COUNT`]); built once, cloned per run.
#[must_use]
pub fn scene(selector: u8) -> Simulation {
    static SCENES: OnceLock<Vec<Simulation>> = OnceLock::new();
    let scenes = SCENES.get_or_init(|| {
        let defaults = SimParams::default();
        vec![
            // The game's own world: 29 bodies at J2000, direct summation, best kernel.
            solar_system(defaults),
            // Sun, Earth and Moon (fast; the landings happen here).
            few_body(defaults),
            // The same through the Barnes–Hut tree (ships take the tree path and the direct
            // surface test against solid bodies).
            few_body(SimParams { gravity: GravityMethod::BarnesHut { opening_angle: 0.5 }, ..defaults }),
            // The solar system with the first post-Newtonian correction.
            solar_system(SimParams { post_newtonian: Some(PostNewtonian::SI), ..defaults }),
            // Sun, Earth and Moon on the scalar reference kernel.
            few_body(SimParams { kernel: Some(KernelPath::Scalar), ..defaults }),
        ]
    });
    scenes[usize::from(selector % SCENE_COUNT)].clone()
}

fn solar_system(params: SimParams) -> Simulation {
    galaxy_sim::scenes::solar_system_simulation(params).expect("the built-in solar system is valid").0
}

fn few_body(params: SimParams) -> Simulation {
    let catalog = galaxy_sim::solar_system::solar_system();
    let bodies: Vec<_> = ["Sun", "Earth", "Moon"]
        .iter()
        .map(|name| catalog.iter().find(|body| body.name == *name).expect("catalog body"))
        .collect();
    let mut simulation = Simulation::new(params).expect("valid parameters");
    for body in bodies {
        simulation
            .add_body(galaxy_engine::BodyInit {
                mass: body.mass,
                radius: body.radius,
                position: body.position,
                velocity: body.velocity,
            })
            .expect("catalog body is valid");
    }
    simulation
}

/// Most frames one input of a request-sequence target runs.
pub const MAX_FRAMES: usize = 32;

/// Splits a request-sequence input into frames: a kind byte, then a message of at most 65,535
/// bytes behind a little-endian `u16` length (cut short at the end of the input).
pub fn frames(data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut bytes = Bytes::new(data);
    std::iter::from_fn(move || (!bytes.is_empty()).then(|| (bytes.u8(), bytes.slice()))).take(MAX_FRAMES)
}

/// Appends one frame that [`frames`] reads back as `(kind, message)`.
pub fn encode_frame(out: &mut Vec<u8>, kind: u8, message: &[u8]) {
    let length = u16::try_from(message.len()).expect("seed messages are small");
    out.push(kind);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(message);
}

/// One single-threaded tokio runtime for the targets that call async handlers in-process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a tokio runtime"))
}
