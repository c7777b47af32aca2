//! Linear and angular momentum of random N-body systems are conserved to rounding: pairwise
//! forces cancel exactly in the kicks, drifts leave r × v unchanged.
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::{BodyInit, DVec3, KernelPath, SimParams, Simulation};
use proptest::prelude::*;

fn arbitrary_system() -> impl Strategy<Value = Vec<(f64, [f64; 3], [f64; 3])>> {
    let coordinate = -10.0..10.0_f64;
    let speed = -1.0..1.0_f64;
    prop::collection::vec(
        (0.01..10.0_f64, [coordinate.clone(), coordinate.clone(), coordinate], [speed.clone(), speed.clone(), speed]),
        2..40,
    )
}

fn build(bodies: &[(f64, [f64; 3], [f64; 3])], kernel: KernelPath, softening: f64) -> Simulation {
    let params = SimParams {
        gravitational_constant: 1.0,
        softening,
        substep: 1e-3,
        kernel: Some(kernel),
        ..SimParams::default()
    };
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn momenta_are_conserved_to_rounding(bodies in arbitrary_system(), softening in prop_oneof![Just(0.0), 0.01..0.5_f64]) {
        for kernel in [KernelPath::Scalar, KernelPath::best_available()] {
            let mut simulation = build(&bodies, kernel, softening);
            let reference = simulation.diagnostics();
            simulation.step(200);
            let drift = simulation.diagnostics().drift_since(&reference);
            prop_assert!(drift.linear_momentum <= 1e-12, "{kernel}: linear momentum drift {:e}", drift.linear_momentum);
            prop_assert!(drift.angular_momentum <= 1e-12, "{kernel}: angular momentum drift {:e}", drift.angular_momentum);
        }
    }
}
