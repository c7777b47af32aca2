//! Barnes–Hut gravity: forces within the accuracy budget of a quadrupole tree (median 3e-4,
//! p99 3e-3 at θ = 0.5 on a Plummer sphere), more accurate as θ falls, energy as well kept as
//! direct summation's (within 2×), bitwise independent of the thread count, and robust to
//! degenerate geometry (coincident bodies, a far outlier, bodies on a line or a plane, N ≤ 2).
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::gravity::{
    AccelerationColumns, SourceColumns, compute_barnes_hut_accelerations, compute_self_accelerations,
};
use galaxy_engine::{DVec3, GravityMethod, KernelPath, ShipClass, ShipInit, SimParams};
use proptest::prelude::*;

type Cloud = Vec<(f64, [f64; 3], [f64; 3])>;

fn columns(cloud: &Cloud) -> [Vec<f64>; 4] {
    [
        cloud.iter().map(|body| body.1[0]).collect(),
        cloud.iter().map(|body| body.1[1]).collect(),
        cloud.iter().map(|body| body.1[2]).collect(),
        cloud.iter().map(|body| body.0).collect(),
    ]
}

fn forces(cloud: &Cloud, softening: f64, opening_angle: Option<f64>, path: KernelPath) -> Vec<DVec3> {
    let [x, y, z, gm] = columns(cloud);
    let count = cloud.len();
    let (mut ax, mut ay, mut az) = (vec![0.0; count], vec![0.0; count], vec![0.0; count]);
    let sources = SourceColumns { x: &x, y: &y, z: &z, gm: &gm, collision_threshold: &[] };
    let output = AccelerationColumns { x: &mut ax, y: &mut ay, z: &mut az, proximity: None };
    match opening_angle {
        Some(theta) => compute_barnes_hut_accelerations(path, &sources, theta, softening * softening, output),
        None => compute_self_accelerations(KernelPath::Scalar, &sources, softening * softening, output),
    }
    (0..count).map(|body| DVec3::new(ax[body], ay[body], az[body])).collect()
}

fn relative_errors(reference: &[DVec3], candidate: &[DVec3]) -> Vec<f64> {
    let mut errors: Vec<f64> = reference
        .iter()
        .zip(candidate)
        .map(|(exact, approximate)| (*approximate - *exact).length() / exact.length())
        .collect();
    errors.sort_by(f64::total_cmp);
    errors
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

#[test]
fn plummer_16k_forces_are_within_the_quadrupole_budget_and_improve_as_theta_falls() {
    let cloud = common::plummer(16_384, 1);
    let direct = forces(&cloud, 0.01, None, KernelPath::Scalar);
    let mut previous_median = f64::INFINITY;
    for theta in [0.7, 0.5, 0.3] {
        let errors = relative_errors(&direct, &forces(&cloud, 0.01, Some(theta), KernelPath::best_available()));
        let (median, p99) = (percentile(&errors, 0.5), percentile(&errors, 0.99));
        eprintln!("theta {theta}: median {median:.2e}, p99 {p99:.2e}");
        if theta == 0.5 {
            assert!(median <= 3e-4, "median {median:e}");
            assert!(p99 <= 3e-3, "p99 {p99:e}");
        }
        assert!(median < previous_median, "theta {theta}: median {median:e} did not fall");
        previous_median = median;
    }
}

#[test]
fn every_kernel_path_gives_the_same_tree_forces_to_f32_rounding() {
    let cloud = common::plummer(3000, 2);
    let reference = forces(&cloud, 0.01, Some(0.5), KernelPath::Scalar);
    for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
        let errors = relative_errors(&reference, &forces(&cloud, 0.01, Some(0.5), path));
        let (median, max) = (percentile(&errors, 0.5), percentile(&errors, 1.0));
        eprintln!("{path} vs scalar: median {median:.2e}, max {max:.2e}");
        if matches!(path, KernelPath::Avx2Fma | KernelPath::Avx512) {
            // The x86 paths sum the tree's interactions in f32 (positions relative to each
            // group, partial sums added in f64): ~1e-7 per interaction, 1e-5 at worst where
            // pulls cancel, far below the tree's own error (median ~1e-4).
            assert!(median < 1e-6 && max < 2e-5, "{path}: median {median:e}, max {max:e}");
        } else {
            // f64 throughout: the node kernel's 1/r is exact; sums differ only in rounding.
            assert!(max < 1e-9, "{path}: {max:e}");
        }
    }
}

/// The accuracy test's softening (0.01) at a step resolving it (dt = 0.01, ~1/200 of a
/// crossing time). NOTE: with a much larger softening the tree's own force errors set a floor
/// near 2e-5 (θ = 0.5) that direct summation does not have; the closing note gives figures.
fn relative_energy_error(gravity: GravityMethod) -> f64 {
    let params =
        SimParams { gravitational_constant: 1.0, softening: 0.01, substep: 0.01, gravity, ..SimParams::default() };
    let mut simulation = common::system(params, &common::plummer(4096, 3));
    let reference = simulation.diagnostics();
    let mut worst: f64 = 0.0;
    for _ in 0..100 {
        simulation.step(10);
        worst = worst.max(simulation.diagnostics().drift_since(&reference).energy);
    }
    worst
}

#[test]
fn energy_over_1000_steps_stays_within_twice_the_direct_sum_bound() {
    let direct = relative_energy_error(GravityMethod::Direct);
    let tree = relative_energy_error(GravityMethod::BarnesHut { opening_angle: 0.5 });
    eprintln!("max |dE/E| over 1000 steps: direct {direct:.2e}, tree {tree:.2e}");
    assert!(tree <= 2.0 * direct, "tree {tree:e} vs direct {direct:e}");
}

#[test]
fn one_and_two_threads_give_identical_bits_for_bodies_and_ships() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let params = SimParams {
                gravitational_constant: 1.0,
                softening: 0.02,
                substep: 1e-3,
                gravity: GravityMethod::BarnesHut { opening_angle: 0.6 },
                ..SimParams::default()
            };
            let mut simulation = common::system(params, &common::plummer(3000, 4));
            for ship in 0..500 {
                let position = DVec3::new((ship as f64 * 0.37).sin(), (ship as f64 * 0.11).cos(), ship as f64 * 1e-3);
                simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, position, DVec3::ZERO)).unwrap();
            }
            simulation.step(3);
            common::state_bits(&simulation)
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn ships_feel_the_tree_as_they_feel_direct_summation() {
    let cloud = common::plummer(2000, 5);
    let run = |gravity: GravityMethod| {
        let params =
            SimParams { gravitational_constant: 1.0, softening: 0.01, substep: 1e-4, gravity, ..SimParams::default() };
        let mut simulation = common::system(params, &cloud);
        for ship in 0..300 {
            let angle = ship as f64 * 0.21;
            let position =
                DVec3::new(angle.cos(), angle.sin(), (ship as f64 * 0.05).sin()) * (0.2 + ship as f64 * 0.01);
            simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, position, DVec3::ZERO)).unwrap();
        }
        simulation.step(1);
        (0..300).map(|ship| simulation.ships().velocity(ship)).collect::<Vec<_>>()
    };
    let errors = relative_errors(&run(GravityMethod::Direct), &run(GravityMethod::BarnesHut { opening_angle: 0.5 }));
    assert!(percentile(&errors, 0.5) < 1e-3 && percentile(&errors, 0.99) < 1e-2, "{:e}", percentile(&errors, 0.99));
}

/// Degenerate layouts: every force finite, the typical error as small as on a Plummer sphere,
/// and no body far off (3% of its force, or 0.1% of the typical force where pulls cancel).
fn check_degenerate(cloud: &Cloud, softening: f64) -> Result<(), TestCaseError> {
    let direct = forces(cloud, softening, None, KernelPath::Scalar);
    let tree = forces(cloud, softening, Some(0.5), KernelPath::best_available());
    let mut magnitudes: Vec<f64> = direct.iter().map(|force| force.length()).collect();
    magnitudes.sort_by(f64::total_cmp);
    let typical = magnitudes.get(magnitudes.len() / 2).copied().unwrap_or(0.0);
    let mut errors = Vec::with_capacity(direct.len());
    for (exact, approximate) in direct.iter().zip(&tree) {
        prop_assert!(approximate.is_finite(), "non-finite tree force");
        let error = (*approximate - *exact).length();
        prop_assert!(error <= 3e-2 * exact.length() + 1e-3 * typical + 1e-300, "tree {approximate} vs direct {exact}");
        errors.push(if exact.length() > 0.0 { error / exact.length() } else { error });
    }
    errors.sort_by(f64::total_cmp);
    let median = errors.get(errors.len() / 2).copied().unwrap_or(0.0);
    prop_assert!(median <= 1e-3, "median relative error {median:e}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn tiny_systems_are_exact(count in 0_usize..=2, seed in any::<u64>()) {
        let cloud = common::random_cloud(count, seed);
        let direct = forces(&cloud, 0.0, None, KernelPath::Scalar);
        let tree = forces(&cloud, 0.0, Some(0.5), KernelPath::best_available());
        for (exact, approximate) in direct.iter().zip(&tree) {
            prop_assert!((*approximate - *exact).length() <= 1e-14 * exact.length());
        }
    }

    #[test]
    fn coincident_bodies_do_not_break_the_tree(count in 17_usize..200, clusters in 1_usize..4, softening in prop_oneof![Just(0.0), Just(0.01)]) {
        let cloud: Cloud = (0..count).map(|body| (1.0, [(body % clusters) as f64, 0.5, -0.25], [0.0; 3])).collect();
        check_degenerate(&cloud, softening)?;
    }

    #[test]
    fn a_far_outlier_does_not_break_the_tree(count in 17_usize..300, distance in 1e3..1e12_f64, seed in any::<u64>()) {
        let mut cloud = common::random_cloud(count, seed);
        cloud[0].1 = [distance, -distance, distance * 0.5];
        check_degenerate(&cloud, 0.0)?;
    }

    #[test]
    fn bodies_on_a_line_or_a_plane_do_not_break_the_tree(count in 17_usize..300, plane in any::<bool>(), seed in any::<u64>()) {
        let mut cloud = common::random_cloud(count, seed);
        for body in &mut cloud {
            body.1[2] = 0.0;
            if !plane {
                body.1[1] = 0.0;
            }
        }
        check_degenerate(&cloud, 0.0)?;
    }
}

#[test]
fn ships_far_outside_the_bodies_feel_the_tree_as_direct_summation() {
    // Far from the cluster its pull is ~1e-24 of the pull inside: beyond f32's range in the
    // tree's units, so these ships must take the f64 kernels and still be accurate.
    let cloud = common::plummer(2000, 6);
    let distances = [1e2, 1e4, 1e6, 1e9, 1e12];
    let run = |gravity: GravityMethod| {
        let params =
            SimParams { gravitational_constant: 1.0, softening: 0.01, substep: 1e-3, gravity, ..SimParams::default() };
        let mut simulation = common::system(params, &cloud);
        for (ship, &distance) in distances.iter().enumerate() {
            let position = DVec3::new(distance, -0.5 * distance, 0.25 * distance) + DVec3::splat(ship as f64 * 1e-3);
            simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, position, DVec3::ZERO)).unwrap();
        }
        simulation.step(1);
        (0..distances.len()).map(|ship| simulation.ships().velocity(ship)).collect::<Vec<_>>()
    };
    let errors = relative_errors(&run(GravityMethod::Direct), &run(GravityMethod::BarnesHut { opening_angle: 0.5 }));
    assert!(percentile(&errors, 1.0) < 1e-4, "{errors:?}");
}
