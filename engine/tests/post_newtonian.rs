//! The 1PN correction makes Mercury's perihelion advance by general relativity's
//! 6πGM / (c² a (1 − e²)) per orbit (43″ per century), and keeps total momentum.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{BodyInit, DVec3, PostNewtonian, SimParams, Simulation};

const SUN_GM: f64 = 1.327_124_400_18e20;
const MERCURY_A: f64 = 5.790_9e10;
const MERCURY_E: f64 = 0.205_63;

fn sun_and_mercury(post_newtonian: Option<PostNewtonian>, steps_per_orbit: u32) -> (Simulation, f64) {
    let g = SimParams::default().gravitational_constant;
    let period = std::f64::consts::TAU * (MERCURY_A.powi(3) / SUN_GM).sqrt();
    let params = SimParams { substep: period / f64::from(steps_per_orbit), post_newtonian, ..SimParams::default() };
    let mut simulation = Simulation::new(params).unwrap();
    let perihelion = MERCURY_A * (1.0 - MERCURY_E);
    let speed = (SUN_GM * (1.0 + MERCURY_E) / perihelion).sqrt();
    simulation
        .add_body(BodyInit { mass: SUN_GM / g, radius: 0.0, position: DVec3::ZERO, velocity: DVec3::ZERO })
        .unwrap();
    // A test-mass Mercury keeps the two-body problem exactly Keplerian without the correction.
    simulation
        .add_body(BodyInit {
            mass: 1.0,
            radius: 0.0,
            position: DVec3::new(perihelion, 0.0, 0.0),
            velocity: DVec3::new(0.0, speed, 0.0),
        })
        .unwrap();
    (simulation, period)
}

fn perihelion_angle_after(post_newtonian: Option<PostNewtonian>, orbits: u32) -> f64 {
    let steps_per_orbit = 20_000;
    let (mut simulation, _) = sun_and_mercury(post_newtonian, steps_per_orbit);
    simulation.step(steps_per_orbit * orbits);
    let bodies = simulation.bodies();
    let position = bodies.position(1) - bodies.position(0);
    let velocity = bodies.velocity(1) - bodies.velocity(0);
    let eccentricity_vector = velocity.cross(position.cross(velocity)) / SUN_GM - position / position.length();
    eccentricity_vector.y.atan2(eccentricity_vector.x)
}

#[test]
fn mercury_perihelion_advances_by_the_relativistic_rate() {
    let orbits = 10;
    // Subtracting the Newtonian run removes the integrator's own (tiny) precession.
    let advance = perihelion_angle_after(Some(PostNewtonian::SI), orbits) - perihelion_angle_after(None, orbits);
    let c = PostNewtonian::SI.speed_of_light;
    let expected =
        f64::from(orbits) * 6.0 * std::f64::consts::PI * SUN_GM / (c * c * MERCURY_A * (1.0 - MERCURY_E * MERCURY_E));
    assert!((advance / expected - 1.0).abs() < 0.01, "advance {advance:e} rad, expected {expected:e}");
}

#[test]
fn the_correction_keeps_total_momentum() {
    let (mut simulation, _) = sun_and_mercury(Some(PostNewtonian::SI), 2000);
    // A heavier planet so the reaction on the Sun matters.
    simulation
        .add_body(BodyInit {
            mass: 1e27,
            radius: 0.0,
            position: DVec3::new(0.0, 1e11, 0.0),
            velocity: DVec3::new(-3.5e4, 0.0, 1e3),
        })
        .unwrap();
    let reference = simulation.diagnostics();
    simulation.step(5000);
    let drift = simulation.diagnostics().drift_since(&reference);
    assert!(drift.linear_momentum < 1e-13, "momentum drift {:e}", drift.linear_momentum);
}
