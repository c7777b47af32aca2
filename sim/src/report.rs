//! What a run did and how well it conserved what it should: written as JSON by
//! `galaxy-sim run --report`, printed as a short summary otherwise.

use std::fmt;

use serde::Serialize;

/// The record of one timed run. Quantities that are undefined for a run (a relative error
/// against a zero reference, a rate over zero seconds) are NaN or infinite here and `null` in
/// JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Number of bodies.
    pub n: usize,
    /// Leapfrog steps taken.
    pub steps: u64,
    /// Step length.
    pub dt: f64,
    /// Plummer softening length ε.
    pub softening: f64,
    /// G in the run's units.
    pub gravitational_constant: f64,
    /// Threads in the pool that ran the integration.
    pub threads: usize,
    /// Gravity kernel path that ran (`scalar`, `portable`, `avx2-fma`, `avx512`).
    pub kernel: String,
    /// How gravity was summed: `direct` or `barnes-hut (theta = θ)`. With the tree,
    /// `interactions_per_second` still counts N² per step: the direct-sum equivalent rate.
    pub gravity: String,
    /// Simulated time covered, `steps × dt`.
    pub simulated_time: f64,
    /// Wall-clock time of the integration alone (not file I/O or diagnostics), seconds.
    pub wall_seconds: f64,
    /// Pairwise interactions per second, `n² × steps / wall_seconds`: one force evaluation of
    /// every body on every body per leapfrog step.
    pub interactions_per_second: f64,
    /// Total energy before the first step.
    pub energy_initial: f64,
    /// Total energy after the last step.
    pub energy_final: f64,
    /// `(E_final − E_initial) / |E_initial|`, signed.
    pub relative_energy_error: f64,
    /// `|P_final − P_initial|` over the larger of `Σ m|v|` before and after (so that a cold
    /// start, where `Σ m|v|` is zero at first, still gives a finite number).
    pub momentum_drift: f64,
    /// `|L_final − L_initial|` over the larger of `Σ m|r × v|` before and after.
    pub angular_momentum_drift: f64,
}

impl fmt::Display for RunReport {
    /// A few lines for a terminal.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            formatter,
            "n = {}, steps = {} (dt = {}), {} gravity, kernel {}, {} thread{}",
            self.n,
            self.steps,
            self.dt,
            self.gravity,
            self.kernel,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )?;
        writeln!(
            formatter,
            "wall time {:.6} s, {:.3e} interactions/s",
            self.wall_seconds, self.interactions_per_second
        )?;
        write!(
            formatter,
            "relative energy error {:.3e}, momentum drift {:.3e}, angular momentum drift {:.3e}",
            self.relative_energy_error, self.momentum_drift, self.angular_momentum_drift
        )
    }
}
