//! A timed run: initial bodies in, final bodies and a [`RunReport`] out.
//!
//! The engine parallelises over the *current* rayon pool, so a run builds a pool of the
//! requested size and does everything inside it; the engine's summation order does not depend
//! on the thread count, so the final state does not either.

use std::num::NonZeroUsize;
use std::time::Instant;

use galaxy_engine::{Diagnostics, EngineError, GravityMethod, KernelPath, SimParams, Simulation};
use thiserror::Error;

use crate::report::RunReport;
use crate::scenes::{InitialBody, simulation_from};

/// How to integrate: the command line's flags, as numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunParams {
    /// Step length (the leapfrog substep), > 0.
    pub dt: f64,
    /// Number of steps.
    pub steps: u64,
    /// Plummer softening length ε ≥ 0.
    pub softening: f64,
    /// G in the bodies' units (1 for N-body units).
    pub gravitational_constant: f64,
    /// Threads to run on; `None` lets rayon choose (all logical cores, or `RAYON_NUM_THREADS`).
    pub threads: Option<NonZeroUsize>,
    /// Gravity kernel to force; `None` picks the fastest this CPU supports.
    pub kernel: Option<KernelPath>,
    /// Direct summation or a Barnes–Hut tree.
    pub gravity: GravityMethod,
}

/// The result of [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The bodies after the last step, with their ids, in input order.
    pub final_bodies: Vec<InitialBody>,
    /// Timing and conservation.
    pub report: RunReport,
}

/// Why a run could not start.
#[derive(Debug, Error)]
pub enum RunError {
    /// There is nothing to integrate.
    #[error("the initial conditions contain no bodies")]
    NoBodies,
    /// The engine refused the parameters or a body.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The thread pool could not be started.
    #[error("cannot start the thread pool")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

/// Integrates `initial` for `params.steps` steps on a pool of `params.threads` threads, timing
/// only the integration.
pub fn run(initial: &[InitialBody], params: &RunParams) -> Result<RunOutcome, RunError> {
    if initial.is_empty() {
        return Err(RunError::NoBodies);
    }
    let sim_params = SimParams {
        gravitational_constant: params.gravitational_constant,
        softening: params.softening,
        substep: params.dt,
        kernel: params.kernel,
        gravity: params.gravity,
        ..SimParams::default()
    };
    let mut simulation = simulation_from(initial, sim_params)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(params.threads.map_or(0, NonZeroUsize::get)).build()?;

    let (initial_diagnostics, final_diagnostics, wall_seconds) = pool.install(|| {
        let initial_diagnostics = simulation.diagnostics();
        let start = Instant::now();
        advance(&mut simulation, params.steps);
        let wall_seconds = start.elapsed().as_secs_f64();
        (initial_diagnostics, simulation.diagnostics(), wall_seconds)
    });

    let n = initial.len();
    let interactions = (n as f64) * (n as f64) * (params.steps as f64);
    let report = RunReport {
        n,
        steps: params.steps,
        dt: params.dt,
        softening: params.softening,
        gravitational_constant: params.gravitational_constant,
        threads: pool.current_num_threads(),
        kernel: simulation.kernel_path().name().to_owned(),
        gravity: match params.gravity {
            GravityMethod::Direct => "direct".to_owned(),
            GravityMethod::BarnesHut { opening_angle } => format!("barnes-hut (theta = {opening_angle})"),
            GravityMethod::Auto { opening_angle } => match params.gravity.for_bodies(initial.len()) {
                GravityMethod::BarnesHut { .. } => format!("auto: barnes-hut (theta = {opening_angle})"),
                _ => "auto: direct".to_owned(),
            },
        },
        simulated_time: simulation.time(),
        wall_seconds,
        interactions_per_second: interactions / wall_seconds,
        energy_initial: initial_diagnostics.energy(),
        energy_final: final_diagnostics.energy(),
        relative_energy_error: (final_diagnostics.energy() - initial_diagnostics.energy())
            / initial_diagnostics.energy().abs(),
        momentum_drift: momentum_drift(&initial_diagnostics, &final_diagnostics),
        angular_momentum_drift: angular_momentum_drift(&initial_diagnostics, &final_diagnostics),
    };
    Ok(RunOutcome { final_bodies: final_bodies(initial, &simulation), report })
}

/// Takes `steps` leapfrog steps. The engine counts substeps in `u32`, so long runs go in chunks.
pub fn advance(simulation: &mut Simulation, steps: u64) {
    let mut remaining = steps;
    while remaining > 0 {
        let chunk = u32::try_from(remaining).unwrap_or(u32::MAX);
        // Point masses of radius 0 and no ships: the report's landing events are always empty.
        simulation.step(chunk);
        remaining -= u64::from(chunk);
    }
}

fn final_bodies(initial: &[InitialBody], simulation: &Simulation) -> Vec<InitialBody> {
    let bodies = simulation.bodies();
    initial
        .iter()
        .enumerate()
        .map(|(index, body)| InitialBody {
            id: body.id.clone(),
            mass: bodies.mass()[index],
            position: bodies.position(index),
            velocity: bodies.velocity(index),
        })
        .collect()
}

// NOTE: the engine's `Drift` divides by the *initial* scale, which is zero for a cold start
// (every velocity zero) and would make the drift infinite; the larger of the two scales keeps
// the number meaningful and equals the engine's whenever the system was already moving.
fn momentum_drift(initial: &Diagnostics, last: &Diagnostics) -> f64 {
    relative_change(
        (last.linear_momentum - initial.linear_momentum).length(),
        initial.momentum_scale.max(last.momentum_scale),
    )
}

fn angular_momentum_drift(initial: &Diagnostics, last: &Diagnostics) -> f64 {
    relative_change(
        (last.angular_momentum - initial.angular_momentum).length(),
        initial.angular_momentum_scale.max(last.angular_momentum_scale),
    )
}

fn relative_change(change: f64, scale: f64) -> f64 {
    if change == 0.0 { 0.0 } else { change / scale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenes::{kepler, uniform};

    fn params(threads: usize) -> RunParams {
        RunParams {
            dt: 1e-3,
            steps: 20,
            softening: 0.05,
            gravitational_constant: 1.0,
            threads: NonZeroUsize::new(threads),
            kernel: None,
            gravity: GravityMethod::Direct,
        }
    }

    #[test]
    fn run_keeps_ids_and_reports_what_it_did() {
        let initial = kepler(40, 1);
        let outcome = run(&initial, &RunParams { softening: 0.0, ..params(1) }).expect("valid run");
        let report = &outcome.report;
        assert_eq!(report.n, 40);
        assert_eq!(report.steps, 20);
        assert_eq!(report.threads, 1);
        assert!((report.simulated_time - 0.02).abs() < 1e-12);
        assert!(report.relative_energy_error.abs() < 1e-8, "{}", report.relative_energy_error);
        assert!(report.momentum_drift < 1e-10, "{}", report.momentum_drift);
        assert!(report.angular_momentum_drift < 1e-10, "{}", report.angular_momentum_drift);
        let ids: Vec<_> = outcome.final_bodies.iter().map(|body| &body.id).collect();
        assert_eq!(ids, initial.iter().map(|body| &body.id).collect::<Vec<_>>());
        assert_ne!(outcome.final_bodies, initial);
    }

    #[test]
    fn cold_start_momentum_drift_is_finite() {
        let outcome = run(&uniform(100, 2), &params(1)).expect("valid run");
        assert!(outcome.report.momentum_drift.is_finite());
        assert!(outcome.report.momentum_drift < 1e-10, "{}", outcome.report.momentum_drift);
    }

    #[test]
    fn one_and_two_threads_give_bitwise_identical_states() {
        // 1000 bodies: several engine chunks, so two threads really split the work.
        let initial = uniform(1000, 3);
        let serial = run(&initial, &params(1)).expect("valid run");
        let parallel = run(&initial, &params(2)).expect("valid run");
        assert_eq!(parallel.report.threads, 2);
        assert_eq!(serial.final_bodies, parallel.final_bodies);
        assert_eq!(serial.report.energy_final.to_bits(), parallel.report.energy_final.to_bits());
    }

    #[test]
    fn empty_input_and_bad_parameters_are_refused() {
        assert!(matches!(run(&[], &params(1)), Err(RunError::NoBodies)));
        let bodies = kepler(3, 1);
        let error = run(&bodies, &RunParams { dt: 0.0, ..params(1) }).expect_err("dt = 0");
        assert!(matches!(error, RunError::Engine(EngineError::NotPositive { .. })), "{error}");
    }

    #[test]
    fn advance_takes_exactly_the_requested_steps() {
        let mut simulation =
            simulation_from(&kepler(3, 1), SimParams { gravitational_constant: 1.0, ..SimParams::default() })
                .expect("valid scene");
        advance(&mut simulation, 7);
        assert_eq!(simulation.step_count(), 7);
    }
}
