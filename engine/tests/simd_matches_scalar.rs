//! Every SIMD kernel path computes the same accelerations as the scalar reference kernel, to
//! within 1e-14 relative, for any target count (including partial blocks) and with or without
//! softening; proximity (the surface-contact test) agrees too.
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::KernelPath;
use galaxy_engine::gravity::{
    AccelerationColumns, SYMMETRIC_MIN_BODIES, SourceColumns, TargetColumns, compute_accelerations,
    compute_self_accelerations,
};

struct Result3 {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    proximity: Vec<f64>,
}

fn accelerations(path: KernelPath, cloud: &[(f64, [f64; 3], [f64; 3])], softening: f64) -> Result3 {
    let x: Vec<f64> = cloud.iter().map(|body| body.1[0]).collect();
    let y: Vec<f64> = cloud.iter().map(|body| body.1[1]).collect();
    let z: Vec<f64> = cloud.iter().map(|body| body.1[2]).collect();
    let gm: Vec<f64> = cloud.iter().map(|body| body.0).collect();
    let threshold: Vec<f64> = (0..cloud.len()).map(|index| (index % 7) as f64 * 0.01 + softening * softening).collect();
    let count = cloud.len();
    let mut out =
        Result3 { x: vec![0.0; count], y: vec![0.0; count], z: vec![0.0; count], proximity: vec![0.0; count] };
    compute_accelerations(
        path,
        &SourceColumns { x: &x, y: &y, z: &z, gm: &gm, collision_threshold: &threshold },
        &TargetColumns { x: &x, y: &y, z: &z },
        softening * softening,
        AccelerationColumns { x: &mut out.x, y: &mut out.y, z: &mut out.z, proximity: Some(&mut out.proximity) },
    );
    out
}

fn max_relative_error(reference: &Result3, candidate: &Result3) -> f64 {
    let mut worst: f64 = 0.0;
    for index in 0..reference.x.len() {
        let norm = (reference.x[index].powi(2) + reference.y[index].powi(2) + reference.z[index].powi(2)).sqrt();
        let error = ((candidate.x[index] - reference.x[index]).powi(2)
            + (candidate.y[index] - reference.y[index]).powi(2)
            + (candidate.z[index] - reference.z[index]).powi(2))
        .sqrt();
        assert!(candidate.x[index].is_finite() && candidate.y[index].is_finite() && candidate.z[index].is_finite());
        worst = worst.max(error / norm);
    }
    worst
}

#[test]
fn every_supported_path_matches_the_scalar_kernel_to_1e_14() {
    for count in [1, 2, 15, 16, 17, 255, 256, 257, 1000] {
        for softening in [0.0, 0.01] {
            let cloud = common::random_cloud(count, 7 + count as u64);
            let reference = accelerations(KernelPath::Scalar, &cloud, softening);
            for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
                let candidate = accelerations(path, &cloud, softening);
                let error = max_relative_error(&reference, &candidate);
                if count > 1 {
                    assert!(error <= 1e-14, "{path} with {count} bodies, softening {softening}: error {error:e}");
                }
                for index in 0..count {
                    let difference = (candidate.proximity[index] - reference.proximity[index]).abs();
                    assert!(
                        difference <= 1e-12 * reference.proximity[index].abs().max(1e-3),
                        "{path} proximity differs at {index}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_body_never_attracts_itself_even_without_softening() {
    let cloud = vec![(1.0, [0.5, 0.5, 0.5], [0.0; 3])];
    for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
        let result = accelerations(path, &cloud, 0.0);
        assert_eq!((result.x[0], result.y[0], result.z[0]), (0.0, 0.0, 0.0), "{path}");
    }
}

#[test]
fn this_machine_runs_the_fastest_path_it_supports() {
    let best = KernelPath::best_available();
    assert!(best.is_supported());
    // NOTE: on an AVX-512 machine (CI's, and every developer's here) the fast path must be the one picked.
    if std::is_x86_feature_detected!("avx512f") {
        assert_eq!(best, KernelPath::Avx512);
    }
}

fn self_accelerations(path: KernelPath, cloud: &[(f64, [f64; 3], [f64; 3])], softening: f64) -> Result3 {
    let x: Vec<f64> = cloud.iter().map(|body| body.1[0]).collect();
    let y: Vec<f64> = cloud.iter().map(|body| body.1[1]).collect();
    let z: Vec<f64> = cloud.iter().map(|body| body.1[2]).collect();
    let gm: Vec<f64> = cloud.iter().map(|body| body.0).collect();
    let count = cloud.len();
    let mut out = Result3 { x: vec![0.0; count], y: vec![0.0; count], z: vec![0.0; count], proximity: Vec::new() };
    compute_self_accelerations(
        path,
        &SourceColumns { x: &x, y: &y, z: &z, gm: &gm, collision_threshold: &[] },
        softening * softening,
        AccelerationColumns { x: &mut out.x, y: &mut out.y, z: &mut out.z, proximity: None },
    );
    out
}

#[test]
fn pairwise_self_gravity_matches_the_scalar_kernel_to_1e_14() {
    // Sizes around tile (8) and super-tile (256) edges, odd and even super-tile counts.
    for count in [SYMMETRIC_MIN_BODIES, 257, 263, 512, 777, 1024, 1283] {
        for softening in [0.0, 0.01] {
            let cloud = common::random_cloud(count, 11 + count as u64);
            let reference = accelerations(KernelPath::Scalar, &cloud, softening);
            for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
                let candidate = self_accelerations(path, &cloud, softening);
                let error = max_relative_error(&reference, &candidate);
                assert!(error <= 1e-14, "{path} self-gravity, {count} bodies, softening {softening}: error {error:e}");
            }
        }
    }
}

#[test]
fn pairwise_self_gravity_ignores_coincident_bodies_without_softening() {
    let mut cloud = common::random_cloud(300, 3);
    cloud[17].1 = cloud[42].1;
    for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
        let reference = accelerations(KernelPath::Scalar, &cloud, 0.0);
        let candidate = self_accelerations(path, &cloud, 0.0);
        assert!(max_relative_error(&reference, &candidate) <= 1e-14, "{path}");
    }
}

#[test]
fn pairwise_self_gravity_is_bitwise_independent_of_the_thread_count() {
    let cloud = common::random_cloud(1500, 21);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let result = pool.install(|| self_accelerations(KernelPath::best_available(), &cloud, 0.01));
        [result.x, result.y, result.z].concat().iter().map(|value| value.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(2));
}
