//! Shared set-ups for the engine's contract tests.
#![allow(dead_code, clippy::unwrap_used)]

use galaxy_engine::{BodyInit, DVec3, SimParams, Simulation};

/// A star of mass 1 and a planet of mass `planet_mass` on an orbit of semi-major axis 1 and
/// eccentricity `eccentricity`, started at apoapsis, in the centre-of-mass frame, G = 1.
/// Returns the simulation and the orbital period.
pub fn kepler_pair(eccentricity: f64, planet_mass: f64, steps_per_orbit: u32) -> (Simulation, f64) {
    let total = 1.0 + planet_mass;
    let semi_major_axis: f64 = 1.0;
    let period = std::f64::consts::TAU * (semi_major_axis.powi(3) / total).sqrt();
    let apoapsis = semi_major_axis * (1.0 + eccentricity);
    let apoapsis_speed = (total * (1.0 - eccentricity) / (semi_major_axis * (1.0 + eccentricity))).sqrt();
    let relative_position = DVec3::new(apoapsis, 0.0, 0.0);
    let relative_velocity = DVec3::new(0.0, apoapsis_speed, 0.0);
    let params =
        SimParams { gravitational_constant: 1.0, substep: period / f64::from(steps_per_orbit), ..SimParams::default() };
    let mut simulation = Simulation::new(params).unwrap();
    let star_share = planet_mass / total;
    let planet_share = 1.0 / total;
    simulation
        .add_body(BodyInit {
            mass: 1.0,
            radius: 0.0,
            position: -relative_position * star_share,
            velocity: -relative_velocity * star_share,
        })
        .unwrap();
    simulation
        .add_body(BodyInit {
            mass: planet_mass,
            radius: 0.0,
            position: relative_position * planet_share,
            velocity: relative_velocity * planet_share,
        })
        .unwrap();
    (simulation, period)
}

/// Bodies from flat `(mass, position, velocity)` tuples.
pub fn system(params: SimParams, bodies: &[(f64, [f64; 3], [f64; 3])]) -> Simulation {
    let mut simulation = Simulation::new(params).unwrap();
    for &(mass, position, velocity) in bodies {
        simulation
            .add_body(BodyInit {
                mass,
                radius: 0.0,
                position: DVec3::from_array(position),
                velocity: DVec3::from_array(velocity),
            })
            .unwrap();
    }
    simulation
}

/// A deterministic pseudo-random cloud of `count` bodies in the unit cube (SplitMix64), with
/// small random velocities: enough for kernel comparisons without a dependency.
pub fn random_cloud(count: usize, seed: u64) -> Vec<(f64, [f64; 3], [f64; 3])> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1_u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let mass = 0.5 + next();
            let position = [next() * 2.0 - 1.0, next() * 2.0 - 1.0, next() * 2.0 - 1.0];
            let velocity = [next() * 0.2 - 0.1, next() * 0.2 - 0.1, next() * 0.2 - 0.1];
            (mass / count as f64, position, velocity)
        })
        .collect()
}

/// All state columns of a simulation, for bitwise comparisons.
pub fn state_bits(simulation: &Simulation) -> Vec<u64> {
    let bodies = simulation.bodies();
    let ships = simulation.ships();
    let (bx, by, bz) = bodies.positions();
    let (bvx, bvy, bvz) = bodies.velocities();
    let (sx, sy, sz) = ships.positions();
    let (svx, svy, svz) = ships.velocities();
    [bx, by, bz, bvx, bvy, bvz, sx, sy, sz, svx, svy, svz, ships.fuel_mass()]
        .iter()
        .flat_map(|column| column.iter().map(|value| value.to_bits()))
        .collect()
}

/// A Plummer sphere in N-body units (G = 1, M = 1, scale radius 3π/16 so E ≈ −1/4), sampled as
/// Aarseth, Hénon and Wielen (1974) with a seeded SplitMix64; `(gm, position, velocity)`.
pub fn plummer(count: usize, seed: u64) -> Vec<(f64, [f64; 3], [f64; 3])> {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
    };
    let scale = 3.0 * std::f64::consts::PI / 16.0;
    let isotropic = |length: f64, uniform: &mut dyn FnMut() -> f64| {
        let cos_theta = 2.0 * uniform() - 1.0;
        let sin_theta = (1.0 - cos_theta * cos_theta).sqrt();
        let phi = std::f64::consts::TAU * uniform();
        [length * sin_theta * phi.cos(), length * sin_theta * phi.sin(), length * cos_theta]
    };
    (0..count)
        .map(|_| {
            let mass_fraction = uniform() * 0.999;
            let radius = 1.0 / (mass_fraction.powf(-2.0 / 3.0) - 1.0).sqrt();
            // Von Neumann rejection for q = v / v_escape with density q² (1 − q²)^{7/2}.
            let q = loop {
                let (q, y) = (uniform(), uniform() * 0.1);
                if y < q * q * (1.0 - q * q).powf(3.5) {
                    break q;
                }
            };
            let speed = q * 2.0_f64.sqrt() * (1.0 + radius * radius).powf(-0.25);
            let position = isotropic(radius * scale, &mut uniform);
            let velocity = isotropic(speed / scale.sqrt(), &mut uniform);
            (1.0 / count as f64, position, velocity)
        })
        .collect()
}
