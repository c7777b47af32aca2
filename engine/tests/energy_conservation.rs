//! Leapfrog keeps the energy of Kepler orbits bounded: |ΔE/E| ≤ 2e-3 for e ≤ 0.7 at 1000 steps
//! per orbit over 100 orbits, with no secular drift, and the error falls as the step squared.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;

const STEPS_PER_ORBIT: u32 = 1000;

/// Largest |ΔE/E| seen in each orbit.
fn energy_error_per_orbit(eccentricity: f64, steps_per_orbit: u32, orbits: usize) -> Vec<f64> {
    let (mut simulation, _period) = common::kepler_pair(eccentricity, 1e-3, steps_per_orbit);
    let reference = simulation.diagnostics();
    // Sample every 10 steps: the error peaks at periapsis, which lasts many steps at these rates.
    let samples_per_orbit = steps_per_orbit / 10;
    (0..orbits)
        .map(|_| {
            (0..samples_per_orbit)
                .map(|_| {
                    simulation.step(10);
                    simulation.diagnostics().drift_since(&reference).energy
                })
                .fold(0.0, f64::max)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn kepler_energy_error_stays_bounded_without_secular_drift(eccentricity in 0.0..=0.7_f64) {
        let per_orbit = energy_error_per_orbit(eccentricity, STEPS_PER_ORBIT, 100);
        let worst = per_orbit.iter().copied().fold(0.0, f64::max);
        prop_assert!(worst <= 2e-3, "e = {eccentricity}: max |dE/E| = {worst:e}");
        // No secular drift: the envelope of the last ten orbits is no wider than the first ten's.
        let first = per_orbit[..10].iter().copied().fold(0.0, f64::max);
        let last = per_orbit[90..].iter().copied().fold(0.0, f64::max);
        prop_assert!(last <= first * 1.05 + 1e-13, "e = {eccentricity}: envelope grew from {first:e} to {last:e}");
    }
}

#[test]
fn halving_the_step_cuts_the_energy_error_about_fourfold() {
    for eccentricity in [0.1, 0.5, 0.7] {
        let coarse = energy_error_per_orbit(eccentricity, 500, 3).into_iter().fold(0.0, f64::max);
        let fine = energy_error_per_orbit(eccentricity, 1000, 3).into_iter().fold(0.0, f64::max);
        let ratio = coarse / fine;
        assert!(
            (3.5..=4.5).contains(&ratio),
            "e = {eccentricity}: error ratio {ratio} (coarse {coarse:e}, fine {fine:e})"
        );
    }
}
