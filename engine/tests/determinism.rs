//! One thread and two threads give bitwise-identical states, bodies and ships alike, on every
//! kernel path: sums run in source order per target whatever the chunking.
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::{DVec3, KernelPath, SimParams};

fn run(kernel: KernelPath, threads: usize) -> Vec<u64> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let params = SimParams {
            gravitational_constant: 1.0,
            softening: 0.05,
            substep: 1e-3,
            kernel: Some(kernel),
            ..SimParams::default()
        };
        let mut simulation = common::system(params, &common::random_cloud(1500, 99));
        for ship in 0..700 {
            let angle = ship as f64 * 0.01;
            let position = DVec3::new(2.0 * angle.cos(), 2.0 * angle.sin(), 0.1);
            let ship_init = galaxy_engine::ShipInit::new(galaxy_engine::ShipClass::FAST_FRIGATE, position, DVec3::ZERO);
            simulation.add_ship(ship_init).unwrap();
        }
        simulation.step(5);
        common::state_bits(&simulation)
    })
}

#[test]
fn one_and_two_threads_give_identical_bits_on_every_path() {
    for kernel in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
        assert_eq!(run(kernel, 1), run(kernel, 2), "{kernel}");
    }
}

#[test]
fn repeated_runs_give_identical_bits() {
    let kernel = KernelPath::best_available();
    assert_eq!(run(kernel, 2), run(kernel, 2));
}

#[test]
fn simd_path_stays_within_1e_12_of_scalar_after_many_steps() {
    // Non-chaotic check of a whole simulation: a bound cluster over a short time.
    let scalar = run(KernelPath::Scalar, 2);
    let fast = run(KernelPath::best_available(), 2);
    let worst = scalar
        .iter()
        .zip(&fast)
        .map(|(a, b)| {
            let (a, b) = (f64::from_bits(*a), f64::from_bits(*b));
            (a - b).abs() / a.abs().max(1e-3)
        })
        .fold(0.0, f64::max);
    assert!(worst <= 1e-12, "worst relative difference {worst:e}");
}
