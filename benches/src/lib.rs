//! Shared scenes and timing helpers for Galaxy's criterion benches and the `bench-summary`
//! command. Scenes are seeded, so every run measures the same work.

#![warn(missing_docs)]

use galaxy_engine::gravity::{
    AccelerationColumns, SourceColumns, TargetColumns, compute_accelerations, compute_self_accelerations,
};
use galaxy_engine::{BodyInit, DVec3, EngineError, KernelPath, ShipClass, ShipInit, SimParams, Simulation};
use galaxy_sim::scenes;

/// A Plummer sphere's columns, ready for the kernels: positions and G·m with G = 1.
#[derive(Debug, Clone)]
pub struct KernelScene {
    /// Positions.
    pub x: Vec<f64>,
    /// Positions.
    pub y: Vec<f64>,
    /// Positions.
    pub z: Vec<f64>,
    /// G·m.
    pub gm: Vec<f64>,
    /// Unused by the force-only benches (no proximity), but the columns need one.
    pub collision_threshold: Vec<f64>,
    /// Softening used by the benches, as REBOUND's reference run: ε = 0.01.
    pub softening: f64,
}

impl KernelScene {
    /// A seeded Plummer sphere of `count` bodies (seed 42).
    #[must_use]
    pub fn plummer(count: usize) -> Self {
        let bodies = scenes::plummer(count, 42);
        let softening: f64 = 0.01;
        Self {
            x: bodies.iter().map(|body| body.position.x).collect(),
            y: bodies.iter().map(|body| body.position.y).collect(),
            z: bodies.iter().map(|body| body.position.z).collect(),
            gm: bodies.iter().map(|body| body.mass).collect(),
            collision_threshold: vec![softening * softening; count],
            softening,
        }
    }

    /// Number of bodies.
    #[must_use]
    pub fn len(&self) -> usize {
        self.gm.len()
    }

    /// Whether the scene is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.gm.is_empty()
    }

    /// One force evaluation: every body's acceleration from every body (N² interactions),
    /// written into `output` (three columns).
    pub fn accelerations(&self, path: KernelPath, output: &mut [Vec<f64>; 3]) {
        let [x, y, z] = output;
        compute_accelerations(
            path,
            &SourceColumns {
                x: &self.x,
                y: &self.y,
                z: &self.z,
                gm: &self.gm,
                collision_threshold: &self.collision_threshold,
            },
            &TargetColumns { x: &self.x, y: &self.y, z: &self.z },
            self.softening * self.softening,
            AccelerationColumns { x, y, z, proximity: None },
        );
    }

    /// The same force evaluation as the simulation does it for its bodies: on the AVX-512 path
    /// each pair is computed once (Newton's third law).
    pub fn self_accelerations(&self, path: KernelPath, output: &mut [Vec<f64>; 3]) {
        let [x, y, z] = output;
        compute_self_accelerations(
            path,
            &SourceColumns {
                x: &self.x,
                y: &self.y,
                z: &self.z,
                gm: &self.gm,
                collision_threshold: &self.collision_threshold,
            },
            self.softening * self.softening,
            AccelerationColumns { x, y, z, proximity: None },
        );
    }

    /// A reference more accurate than the scalar kernel: the same interactions, each summed
    /// with Neumaier's compensated summation, so the sum's own rounding (which dominates for
    /// bodies whose pulls nearly cancel, near a cluster's centre) drops out. Slow: for checks.
    #[must_use]
    pub fn compensated_accelerations(&self) -> [Vec<f64>; 3] {
        use rayon::prelude::*;
        let softening_squared = self.softening * self.softening;
        let per_target: Vec<[f64; 3]> = (0..self.len())
            .into_par_iter()
            .map(|target| {
                let mut sums = [CompensatedSum::default(); 3];
                for source in 0..self.len() {
                    let delta = [
                        self.x[source] - self.x[target],
                        self.y[source] - self.y[target],
                        self.z[source] - self.z[target],
                    ];
                    let distance_squared =
                        delta[0] * delta[0] + delta[1] * delta[1] + delta[2] * delta[2] + softening_squared;
                    if distance_squared > 0.0 {
                        let weight = self.gm[source] / (distance_squared * distance_squared.sqrt());
                        for axis in 0..3 {
                            sums[axis].add(weight * delta[axis]);
                        }
                    }
                }
                sums.map(|sum| sum.value())
            })
            .collect();
        [0, 1, 2].map(|axis| per_target.iter().map(|value| value[axis]).collect())
    }

    /// Zeroed output columns for [`KernelScene::accelerations`].
    #[must_use]
    pub fn output(&self) -> [Vec<f64>; 3] {
        [vec![0.0; self.len()], vec![0.0; self.len()], vec![0.0; self.len()]]
    }
}

/// The game's tick scene: the 29-body solar system with `ship_count` ships in low Earth
/// orbits, SI units, substeps of 0.1 s (a 1 s tick is 10 substeps).
pub fn solar_system_with_ships(ship_count: usize) -> Result<Simulation, EngineError> {
    let (mut simulation, catalog) = scenes::solar_system_simulation(SimParams::default())?;
    let earth = catalog.iter().position(|body| body.name == "Earth").unwrap_or(3);
    scenes::add_orbiting_ships(&mut simulation, earth, ship_count, 7)?;
    Ok(simulation)
}

/// REBOUND's test-particle reference scene, rebuilt for our engine: a Sun (m = 1) and 8 planets
/// (m = 1e-6 … 1e-3 at radii 0.4 … 30, log-spaced) plus `ship_count` ships on circular orbits at
/// radii 0.5 … 40, G = 1, dt = 1e-3, no softening.
pub fn sun_planets_and_test_particles(ship_count: usize) -> Result<Simulation, EngineError> {
    let mut simulation = Simulation::new(SimParams {
        gravitational_constant: 1.0,
        softening: 0.0,
        substep: 1e-3,
        kernel: None,
        ..SimParams::default()
    })?;
    simulation.add_body(BodyInit { mass: 1.0, radius: 0.0, position: DVec3::ZERO, velocity: DVec3::ZERO })?;
    for planet in 0..8 {
        let fraction = f64::from(planet) / 7.0;
        let mass = 1e-6 * 1e3_f64.powf(fraction);
        let radius = 0.4 * (30.0_f64 / 0.4).powf(fraction);
        let phase = f64::from(planet) * 2.4;
        let speed = (1.0 / radius).sqrt();
        simulation.add_body(BodyInit {
            mass,
            radius: 0.0,
            position: DVec3::new(radius * phase.cos(), radius * phase.sin(), 0.0),
            velocity: DVec3::new(-speed * phase.sin(), speed * phase.cos(), 0.0),
        })?;
    }
    // A tiny ship class so the test particles are as plain as REBOUND's: no fuel, no thrust.
    let particle = ShipClass {
        name: "test_particle",
        dry_mass: 1.0,
        fuel_capacity: 0.0,
        max_thrust: 0.0,
        specific_impulse: 1.0,
        max_angular_acceleration: 0.0,
        max_angular_rate: 0.0,
    };
    for ship in 0..ship_count {
        let radius = 0.5 + 39.5 * ((ship as f64 * 0.618_033_988_749_894_9) % 1.0);
        let phase = ship as f64 * 2.399_963;
        let speed = (1.0 / radius).sqrt();
        let inclination = 0.05 * ((ship as f64 * 0.414_213_562) % 1.0);
        let position = DVec3::new(radius * phase.cos(), radius * phase.sin(), 0.0);
        let velocity =
            DVec3::new(-speed * phase.sin(), speed * phase.cos() * inclination.cos(), speed * inclination.sin());
        simulation.add_ship(ShipInit { fuel_mass: 0.0, ..ShipInit::new(particle, position, velocity) })?;
    }
    Ok(simulation)
}

/// A rayon pool of exactly `threads` threads.
pub fn thread_pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new().num_threads(threads).build()?)
}

/// Neumaier's compensated sum.
#[derive(Debug, Clone, Copy, Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, value: f64) {
        let total = self.sum + value;
        self.compensation +=
            if self.sum.abs() >= value.abs() { (self.sum - total) + value } else { (value - total) + self.sum };
        self.sum = total;
    }

    fn value(self) -> f64 {
        self.sum + self.compensation
    }
}
