//! Kick-drift-kick leapfrog is time-reversible: N steps forward, velocities negated, N steps
//! more bring every body back to where it started (up to rounding).
#![allow(clippy::unwrap_used)]

use galaxy_engine::{BodyInit, DVec3, SimParams, Simulation};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn forward_then_backward_returns_to_the_start(
        bodies in prop::collection::vec(
            (0.1..1.0_f64, [-5.0..5.0_f64, -5.0..5.0_f64, -5.0..5.0_f64], [-0.3..0.3_f64, -0.3..0.3_f64, -0.3..0.3_f64]),
            2..12,
        ),
        steps in 1_u32..300,
    ) {
        let params = SimParams { gravitational_constant: 1.0, softening: 0.1, substep: 1e-2, kernel: None, ..SimParams::default() };
        let mut forward = Simulation::new(params).unwrap();
        for &(mass, position, velocity) in &bodies {
            forward.add_body(BodyInit { mass, radius: 0.0, position: DVec3::from_array(position), velocity: DVec3::from_array(velocity) }).unwrap();
        }
        forward.step(steps);
        let mut backward = Simulation::new(params).unwrap();
        for (body, &(mass, _, _)) in bodies.iter().enumerate() {
            backward.add_body(BodyInit {
                mass,
                radius: 0.0,
                position: forward.bodies().position(body),
                velocity: -forward.bodies().velocity(body),
            }).unwrap();
        }
        backward.step(steps);
        for (body, &(_, start, start_velocity)) in bodies.iter().enumerate() {
            let position_error = backward.bodies().position(body).distance(DVec3::from_array(start));
            let velocity_error = (backward.bodies().velocity(body) + DVec3::from_array(start_velocity)).length();
            prop_assert!(position_error <= 1e-10, "body {body}: position error {position_error:e}");
            prop_assert!(velocity_error <= 1e-10, "body {body}: velocity error {velocity_error:e}");
        }
    }
}
