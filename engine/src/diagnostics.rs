//! Conserved quantities of the bodies and their drift since a reference.

use glam::DVec3;

use crate::bodies::Bodies;

/// Energy and momenta of the massive bodies (ships are test particles and carry none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostics {
    /// Kinetic energy `Σ ½ m v²`.
    pub kinetic_energy: f64,
    /// Potential energy `−Σ_{i<j} G m_i m_j / √(r² + ε²)`, the potential the softened forces derive from.
    pub potential_energy: f64,
    /// Linear momentum `Σ m v`.
    pub linear_momentum: DVec3,
    /// Angular momentum about the origin, `Σ m r × v`.
    pub angular_momentum: DVec3,
    /// `Σ m |v|`: the scale against which linear momentum drift is measured (total momentum is
    /// often zero by construction, so it cannot be its own scale).
    pub momentum_scale: f64,
    /// `Σ m |r × v|`: the scale for angular momentum drift.
    pub angular_momentum_scale: f64,
}

/// Relative drift of the conserved quantities between two diagnostics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// `|E − E₀| / |E₀|`.
    pub energy: f64,
    /// `|P − P₀| / Σ m|v|₀`.
    pub linear_momentum: f64,
    /// `|L − L₀| / Σ m|r × v|₀`.
    pub angular_momentum: f64,
}

impl Diagnostics {
    /// Total energy.
    #[must_use]
    pub fn energy(&self) -> f64 {
        self.kinetic_energy + self.potential_energy
    }

    /// Drift of `self` relative to `reference`. Zero scales give zero drift when nothing
    /// changed and infinity otherwise.
    #[must_use]
    pub fn drift_since(&self, reference: &Diagnostics) -> Drift {
        Drift {
            energy: relative(self.energy() - reference.energy(), reference.energy().abs()),
            linear_momentum: relative(
                (self.linear_momentum - reference.linear_momentum).length(),
                reference.momentum_scale,
            ),
            angular_momentum: relative(
                (self.angular_momentum - reference.angular_momentum).length(),
                reference.angular_momentum_scale,
            ),
        }
    }

    pub(crate) fn of_bodies(bodies: &Bodies, gravitational_constant: f64, softening: f64) -> Self {
        let mut kinetic_energy = 0.0;
        let mut linear_momentum = DVec3::ZERO;
        let mut angular_momentum = DVec3::ZERO;
        let mut momentum_scale = 0.0;
        let mut angular_momentum_scale = 0.0;
        for body in 0..bodies.len() {
            let mass = bodies.mass[body];
            let velocity = bodies.velocity(body);
            let moment = bodies.position(body).cross(velocity) * mass;
            kinetic_energy += 0.5 * mass * velocity.length_squared();
            linear_momentum += velocity * mass;
            angular_momentum += moment;
            momentum_scale += mass * velocity.length();
            angular_momentum_scale += moment.length();
        }
        let potential_energy = -gravitational_constant * pair_potential_sum(bodies, softening * softening);
        Self {
            kinetic_energy,
            potential_energy,
            linear_momentum,
            angular_momentum,
            momentum_scale,
            angular_momentum_scale,
        }
    }
}

fn relative(difference: f64, scale: f64) -> f64 {
    let difference = difference.abs();
    if difference == 0.0 { 0.0 } else { difference / scale }
}

/// `Σ_{i<j} m_i m_j / √(r² + ε²)`, per-body partial sums added in body order so the result does
/// not depend on the thread count.
fn pair_potential_sum(bodies: &Bodies, softening_squared: f64) -> f64 {
    let (x, y, z) = bodies.positions();
    let mass = bodies.mass();
    let partial = |i: usize| {
        let mut sum = 0.0;
        for j in i + 1..mass.len() {
            let (dx, dy, dz) = (x[j] - x[i], y[j] - y[i], z[j] - z[i]);
            let distance_squared = dx * dx + dy * dy + dz * dz + softening_squared;
            if distance_squared > 0.0 {
                sum += mass[j] / distance_squared.sqrt();
            }
        }
        mass[i] * sum
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        if mass.len() > 512 {
            let partials: Vec<f64> = (0..mass.len()).into_par_iter().map(partial).collect();
            return partials.iter().sum();
        }
    }
    (0..mass.len()).map(partial).sum()
}
