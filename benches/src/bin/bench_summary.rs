//! `bench-summary`: measures the engine's performance goals in one run and prints them, with
//! REBOUND 5.2.2 timed side by side (via `benches/reference/rebound_reference.py`) so every
//! comparison is a ratio measured on the same machine at the same time.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use galaxy_benches::{KernelScene, solar_system_with_ships, sun_planets_and_test_particles, thread_pool};
use galaxy_engine::{AUTO_TREE_MIN_BODIES, BodyInit, GravityMethod, KernelPath, SimParams, Simulation};
use galaxy_sim::scenes;

#[derive(Debug, Parser)]
#[command(about = "Measure the engine's performance goals and compare with REBOUND in the same run")]
struct Arguments {
    /// Timed repetitions per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Skip the REBOUND reference run (for example when `rebound` is not installed).
    #[arg(long)]
    skip_rebound: bool,
    /// Skip the Barnes–Hut table (N up to 1,000,000; about a minute).
    #[arg(long)]
    skip_tree: bool,
}

const KERNEL_N: usize = 16_384;

fn main() -> Result<()> {
    let arguments = Arguments::parse();
    let repeats = arguments.repeats.max(1);
    let best = KernelPath::best_available();
    println!("Galaxy engine bench summary");
    println!("  CPU paths supported: {}", supported_paths());
    println!("  best path (picked at run time): {best}");
    println!();

    // 1. The direct-sum kernel, N = 16,384 Plummer, ε = 0.01, one force evaluation = N² interactions.
    let scene = KernelScene::plummer(KERNEL_N);
    let interactions = (KERNEL_N * KERNEL_N) as f64;
    let mut reference_output = scene.output();
    thread_pool(2)?.install(|| scene.accelerations(KernelPath::Scalar, &mut reference_output));
    println!("Direct-sum kernel, Plummer N = {KERNEL_N}, one force evaluation ({interactions:.3e} interactions):");
    println!(
        "  {:<10} {:>8} {:>12} {:>16} {:>22}",
        "path", "threads", "seconds", "G interactions/s", "max rel error vs scalar"
    );
    let mut best_rate = [0.0_f64; 3];
    for path in KernelPath::ALL.into_iter().filter(|path| path.is_supported()) {
        for threads in [1, 2] {
            let pool = thread_pool(threads)?;
            let mut output = scene.output();
            let path_repeats = if path == KernelPath::Scalar { 2 } else { repeats };
            let seconds = pool.install(|| median_seconds(path_repeats, || scene.accelerations(path, &mut output)));
            let rate = interactions / seconds / 1e9;
            let error = max_relative_error(&reference_output, &output);
            println!("  {:<10} {:>8} {:>12.4} {:>16.3} {:>22.2e}", path.name(), threads, seconds, rate, error);
            if path == best {
                best_rate[threads] = rate;
            }
        }
    }
    let scaling = best_rate[2] / best_rate[1];
    println!("  {best} scaling 1 -> 2 threads: {scaling:.2}x");
    let mut pairwise_rate = [0.0_f64; 3];
    let mut pairwise_error = 0.0;
    let mut pairwise_output = scene.output();
    for threads in [1, 2] {
        let mut output = scene.output();
        let seconds =
            thread_pool(threads)?.install(|| median_seconds(repeats, || scene.self_accelerations(best, &mut output)));
        pairwise_rate[threads] = interactions / seconds / 1e9;
        pairwise_error = max_relative_error(&reference_output, &output);
        pairwise_output = output;
        println!(
            "  {:<10} {:>8} {:>12.4} {:>16.3} {:>22.2e}",
            "pairwise", threads, seconds, pairwise_rate[threads], pairwise_error
        );
    }
    println!("  (pairwise: {best}, each pair once and applied to both bodies, as the simulation steps its bodies;");
    println!("   rates count N^2 interactions per evaluation, like the rows above)");
    // The scalar kernel's own sums round too: near the centre, where pulls cancel, the order of
    // summation alone moves the result by ~1e-14. A compensated sum shows which is closer.
    let compensated = scene.compensated_accelerations();
    let mut one_sided_output = scene.output();
    thread_pool(2)?.install(|| scene.accelerations(best, &mut one_sided_output));
    let scalar_vs_compensated = max_relative_error(&compensated, &reference_output);
    let one_sided_vs_scalar = max_relative_error(&reference_output, &one_sided_output);
    let one_sided_vs_compensated = max_relative_error(&compensated, &one_sided_output);
    let pairwise_vs_compensated = max_relative_error(&compensated, &pairwise_output);
    println!(
        "  max relative error vs a compensated-sum reference: scalar {scalar_vs_compensated:.2e}, \
         {best} {one_sided_vs_compensated:.2e}, pairwise {pairwise_vs_compensated:.2e}"
    );
    println!();

    // 2. A whole leapfrog step at the same N, as REBOUND's step is timed.
    let bodies = scenes::plummer(KERNEL_N, 42);
    let mut cluster = Simulation::new(SimParams {
        gravitational_constant: 1.0,
        softening: 0.01,
        substep: 1e-3,
        kernel: None,
        ..SimParams::default()
    })?;
    for body in &bodies {
        cluster.add_body(BodyInit {
            mass: body.mass,
            radius: 0.0,
            position: body.position,
            velocity: body.velocity,
        })?;
    }
    let cluster_step = thread_pool(2)?.install(|| median_seconds(repeats, || drop(cluster.step(1))));
    println!("Whole leapfrog step, Plummer N = {KERNEL_N}, 2 threads: {:.4} s", cluster_step);

    // 3. The game tick and the test-particle scene.
    let mut tick_ms = [[0.0_f64; 3]; 2];
    for (row, ships) in [1_000, 10_000].into_iter().enumerate() {
        for threads in [1, 2] {
            let mut simulation = solar_system_with_ships(ships)?;
            let seconds = thread_pool(threads)?.install(|| median_seconds(repeats * 4, || drop(simulation.step(10))));
            tick_ms[row][threads] = seconds * 1e3;
        }
    }
    println!("Game tick, 29 bodies, 10 substeps:");
    println!("  1,000 ships:  {:.3} ms (1 thread), {:.3} ms (2 threads)", tick_ms[0][1], tick_ms[0][2]);
    println!("  10,000 ships: {:.3} ms (1 thread), {:.3} ms (2 threads)", tick_ms[1][1], tick_ms[1][2]);
    let mut particles = sun_planets_and_test_particles(100_000)?;
    let particle_step = thread_pool(2)?.install(|| median_seconds(repeats * 4, || drop(particles.step(1))));
    println!("9 bodies + 100,000 test-particle ships, one step, 2 threads: {:.3} ms", particle_step * 1e3);
    println!();

    // 4. REBOUND side by side.
    let rebound = if arguments.skip_rebound { None } else { rebound_reference() };
    let (rebound_direct, rebound_particles) = match &rebound {
        Some(measurements) => (
            measurements["direct_16384"]["seconds_per_step"].as_f64(),
            measurements["test_particles_9_100000"]["seconds_per_step"].as_f64(),
        ),
        None => (None, None),
    };
    if let (Some(direct), Some(test_particles)) = (rebound_direct, rebound_particles) {
        println!("REBOUND 5.2.2 (same machine, same run, single-threaded wheel):");
        println!(
            "  direct sum N = {KERNEL_N}, one leapfrog step: {direct:.4} s ({:.3} G interactions/s)",
            interactions / direct / 1e9
        );
        println!("  9 bodies + 100,000 test particles, one step: {:.3} ms", test_particles * 1e3);
        println!();
    }

    let tree_16384 = if arguments.skip_tree { None } else { Some(tree_table(repeats)?) };
    let rebound_tree =
        rebound.as_ref().and_then(|measurements| measurements["tree_16384"]["seconds_per_step"].as_f64());
    if let (Some(ours), Some(theirs)) = (tree_16384, rebound_tree) {
        println!(
            "  REBOUND tree (theta 0.5, monopole), N = 16384, one step: {theirs:.4} s; ours {ours:.4} s: {:.1}x",
            theirs / ours
        );
        println!();
    }

    println!("Goals:");
    goal(
        "f64 direct sum >= 3 G interactions/s on 2 threads",
        best_rate[2] >= 3.0,
        format!("{:.3} G/s one-sided, {:.3} G/s pairwise", best_rate[2], pairwise_rate[2]),
    );
    // One-sided: same summation order as the scalar kernel, so compared with it directly.
    // Pairwise: a different order, compared with the compensated reference, and required to be
    // no farther from it than the scalar kernel itself.
    goal(
        "max relative error <= 1e-14",
        one_sided_vs_scalar <= 1e-14
            && pairwise_vs_compensated <= 1e-14
            && pairwise_vs_compensated <= scalar_vs_compensated,
        format!(
            "{best} {one_sided_vs_scalar:.2e} vs scalar; pairwise {pairwise_vs_compensated:.2e} vs compensated sums \
             (scalar itself {scalar_vs_compensated:.2e}; pairwise vs scalar {pairwise_error:.2e})"
        ),
    );
    if let Some(direct) = rebound_direct {
        let ratio = direct / cluster_step;
        goal(">= 12x REBOUND direct sum (whole step vs step)", ratio >= 12.0, format!("{ratio:.1}x"));
    }
    let pairwise_scaling = pairwise_rate[2] / pairwise_rate[1];
    goal(
        ">= 1.9x scaling from 1 to 2 threads",
        scaling.min(pairwise_scaling) >= 1.9,
        format!("{scaling:.2}x one-sided, {pairwise_scaling:.2}x pairwise"),
    );
    goal(
        "29 bodies + 10,000 ships, 10 substeps <= 2 ms on 2 threads",
        tick_ms[1][2] <= 2.0,
        format!("{:.3} ms", tick_ms[1][2]),
    );
    if let Some(test_particles) = rebound_particles {
        let ratio = test_particles / particle_step;
        goal(">= 6x REBOUND leapfrog, 9 bodies + 100,000 test particles", ratio >= 6.0, format!("{ratio:.1}x"));
    }
    Ok(())
}

/// Barnes–Hut (θ = 0.5, quadrupole) against direct summation: one whole leapfrog step of a
/// Plummer sphere (ε = 0.01) on 2 threads, tree build included. Returns the tree's step time at
/// N = 16,384 for the REBOUND comparison.
fn tree_table(repeats: usize) -> Result<f64> {
    println!("Barnes-Hut (theta 0.5, monopole + quadrupole) vs direct sum, Plummer, one whole step, 2 threads:");
    println!("  {:>9} {:>12} {:>12} {:>18}", "N", "tree s", "direct s", "tree s / (N log2 N)");
    let pool = thread_pool(2)?;
    let mut tree_at_16384 = f64::NAN;
    let mut crossover = None;
    for count in [1_024, 2_048, 3_072, 4_096, 8_192, 16_384, 32_768, 65_536, 131_072, 262_144, 1_000_000] {
        let bodies = scenes::plummer(count, 42);
        let step_seconds = |gravity: GravityMethod, repeats: usize| -> Result<f64> {
            let params = SimParams {
                gravitational_constant: 1.0,
                softening: 0.01,
                substep: 1e-3,
                gravity,
                ..SimParams::default()
            };
            let mut simulation = Simulation::new(params)?;
            for body in &bodies {
                simulation.add_body(BodyInit {
                    mass: body.mass,
                    radius: 0.0,
                    position: body.position,
                    velocity: body.velocity,
                })?;
            }
            Ok(pool.install(|| median_seconds(repeats, || drop(simulation.step(1)))))
        };
        let small = count <= 65_536;
        let tree = step_seconds(GravityMethod::BarnesHut { opening_angle: 0.5 }, if small { repeats } else { 1 })?;
        // Direct summation is timed only while one step takes seconds, not minutes.
        let direct = if count <= 131_072 {
            Some(step_seconds(GravityMethod::Direct, if small { repeats } else { 1 })?)
        } else {
            None
        };
        if count == 16_384 {
            tree_at_16384 = tree;
        }
        if crossover.is_none() && direct.is_some_and(|direct| tree < direct) {
            crossover = Some(count);
        }
        let direct_text = direct.map_or_else(|| "-".to_owned(), |direct| format!("{direct:.4}"));
        let normalised = tree / (count as f64 * (count as f64).log2());
        println!("  {count:>9} {tree:>12.4} {direct_text:>12} {normalised:>18.3e}");
    }
    match crossover {
        Some(count) => println!("  the tree is faster from N = {count} on (of the sizes measured)"),
        None => println!("  direct summation was faster at every size where both were measured"),
    }
    println!(
        "  gravity = auto switches to the tree at N = {AUTO_TREE_MIN_BODIES} (engine constant AUTO_TREE_MIN_BODIES)"
    );
    Ok(tree_at_16384)
}

fn supported_paths() -> String {
    KernelPath::ALL.into_iter().filter(|path| path.is_supported()).map(KernelPath::name).collect::<Vec<_>>().join(", ")
}

fn goal(name: &str, met: bool, measured: String) {
    println!("  [{}] {name}: {measured}", if met { "met" } else { "MISSED" });
}

/// Median wall time of `repeats` calls after one warm-up call.
fn median_seconds(repeats: usize, mut work: impl FnMut()) -> f64 {
    work();
    let mut samples: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn max_relative_error(reference: &[Vec<f64>; 3], candidate: &[Vec<f64>; 3]) -> f64 {
    (0..reference[0].len())
        .map(|index| {
            let norm = (0..3).map(|axis| reference[axis][index].powi(2)).sum::<f64>().sqrt();
            let error =
                (0..3).map(|axis| (candidate[axis][index] - reference[axis][index]).powi(2)).sum::<f64>().sqrt();
            error / norm
        })
        .fold(0.0, f64::max)
}

/// Runs the REBOUND reference script; `None` (with a note) when Python or REBOUND is missing.
fn rebound_reference() -> Option<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/reference/rebound_reference.py");
    println!("Running REBOUND reference ({script}) ...");
    let output = match Command::new("python3")
        .args([script, "--json", "--only", "direct_16384,test_particles_9_100000,tree_16384"])
        .output()
        .context("running python3")
    {
        Ok(output) => output,
        Err(error) => {
            println!("  REBOUND reference skipped: {error:#}");
            return None;
        }
    };
    if !output.status.success() {
        let reason = String::from_utf8_lossy(&output.stderr);
        println!("  REBOUND reference skipped ({}): {}", output.status, reason.trim());
        println!("  install it with: pip install rebound==5.2.2 numpy");
        return None;
    }
    match serde_json::from_slice::<serde_json::Value>(&output.stdout) {
        Ok(value) => Some(value["measurements"].clone()),
        Err(error) => {
            println!("  REBOUND reference output unreadable: {error}");
            None
        }
    }
}
