//! Times one Barnes–Hut force evaluation (build + walk + kernels) on a Plummer sphere, and
//! optionally its error against direct summation: a quick engine-only check while tuning the
//! tree (the figures for the record come from `bench-summary`).
//!
//! `cargo run --release -p galaxy-engine --example tree_timing -- N [repeats] [threads] [path] [accuracy]`
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use galaxy_engine::KernelPath;
use galaxy_engine::gravity::{
    AccelerationColumns, SourceColumns, compute_barnes_hut_accelerations, compute_self_accelerations,
};

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let count: usize = arguments.get(1).map_or(16_384, |value| value.parse().unwrap());
    let repeats: usize = arguments.get(2).map_or(5, |value| value.parse().unwrap());
    let threads: usize = arguments.get(3).map_or(2, |value| value.parse().unwrap());
    let path = arguments.get(4).map_or_else(KernelPath::best_available, |name| KernelPath::from_name(name).unwrap());
    let accuracy = arguments.get(5).is_some_and(|value| value == "accuracy");
    let cloud = common::plummer(count, 1);
    let x: Vec<f64> = cloud.iter().map(|body| body.1[0]).collect();
    let y: Vec<f64> = cloud.iter().map(|body| body.1[1]).collect();
    let z: Vec<f64> = cloud.iter().map(|body| body.1[2]).collect();
    let gm: Vec<f64> = cloud.iter().map(|body| body.0).collect();
    let sources = SourceColumns { x: &x, y: &y, z: &z, gm: &gm, collision_threshold: &[] };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut output = [vec![0.0; count], vec![0.0; count], vec![0.0; count]];
    let mut times = Vec::new();
    pool.install(|| {});
    let cpu_start = cpu_seconds();
    for _ in 0..repeats {
        let [ax, ay, az] = &mut output;
        let start = Instant::now();
        pool.install(|| {
            compute_barnes_hut_accelerations(
                path,
                &sources,
                0.5,
                1e-4,
                AccelerationColumns { x: ax, y: ay, z: az, proximity: None },
            );
        });
        times.push(start.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu_start) / repeats.max(1) as f64;
    times.sort_by(f64::total_cmp);
    println!(
        "N {count} path {path} threads {threads}: median {:.4} s, min {:.4} s, CPU {cpu:.4} s per evaluation",
        times[times.len() / 2],
        times[0]
    );
    if accuracy {
        let mut exact = [vec![0.0; count], vec![0.0; count], vec![0.0; count]];
        let [ex, ey, ez] = &mut exact;
        pool.install(|| {
            compute_self_accelerations(
                KernelPath::best_available(),
                &sources,
                1e-4,
                AccelerationColumns { x: ex, y: ey, z: ez, proximity: None },
            );
        });
        let mut errors: Vec<f64> = (0..count)
            .map(|body| {
                let error = [0, 1, 2].map(|axis| output[axis][body] - exact[axis][body]);
                let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                norm(error) / norm([exact[0][body], exact[1][body], exact[2][body]])
            })
            .collect();
        errors.sort_by(f64::total_cmp);
        let at = |fraction: f64| errors[((count - 1) as f64 * fraction).round() as usize];
        println!("  error vs direct: median {:.3e}, p99 {:.3e}, max {:.3e}", at(0.5), at(0.99), at(1.0));
    }
}

/// CPU time of all this process's threads (from /proc; 0 elsewhere): unlike wall time, it does
/// not grow when other processes share the cores.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        * 1e-9
}
