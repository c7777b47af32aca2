//! Simulation parameters: one plain struct, passed into every step.

use crate::error::EngineError;
use crate::gravity::KernelPath;

/// How the simulation integrates. Defaults suit the game (SI units); `galaxy-sim` overrides them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimParams {
    /// Newton's constant in the caller's units. Default: CODATA 2018 in SI (m³ kg⁻¹ s⁻²),
    /// because the game works in metres, seconds and kilograms.
    pub gravitational_constant: f64,
    /// Plummer softening length ε: forces use `r² + ε²`. Default 0: planets and ships are far
    /// apart compared with their sizes, and softening would bias orbits. Clusters need ε > 0.
    pub softening: f64,
    /// Length of one leapfrog substep. Default 0.1 s: ten substeps per 1 s game tick keeps a low
    /// orbit around the Moon (period ≈ 2 h) within 1e-6 relative energy.
    pub substep: f64,
    /// Force a SIMD kernel path; `None` picks the fastest one this CPU supports at run time.
    pub kernel: Option<KernelPath>,
    /// How gravity is summed. Default direct summation: exact, and fastest below a few
    /// thousand bodies (the game's solar system has 29).
    pub gravity: GravityMethod,
    /// Add the first post-Newtonian correction of the heaviest body's field. Default off: the
    /// game does not need it, physicists validating Mercury's orbit do.
    pub post_newtonian: Option<PostNewtonian>,
}

/// How the pull of the bodies is summed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum GravityMethod {
    /// Every body on every body and ship: O(N²), exact.
    #[default]
    Direct,
    /// A Barnes–Hut octree with monopole and quadrupole moments, rebuilt every substep:
    /// O(N log N). Nodes are opened when they look larger than `opening_angle` (θ) radians.
    BarnesHut {
        /// θ: smaller is more accurate and slower; 0.5 is the usual compromise.
        opening_angle: f64,
    },
    /// Direct summation below [`AUTO_TREE_MIN_BODIES`] bodies, Barnes–Hut from there on:
    /// whichever `bench-summary`'s table measured faster at that size. Decided at every force
    /// evaluation by the number of bodies, so it follows bodies being added.
    Auto {
        /// θ of the tree, when the tree is used.
        opening_angle: f64,
    },
}

/// Bodies from which [`GravityMethod::Auto`] uses the tree: the crossover of `bench-summary`'s
/// table (a whole step of a Plummer sphere on 2 threads, θ = 0.5, the f32 tree kernels on
/// AVX-512), where the tree was first faster of the sizes measured (in two runs direct was
/// 25–33% faster at 1,024 and the tree 10–30% faster at 2,048).
pub const AUTO_TREE_MIN_BODIES: usize = 2_048;

impl GravityMethod {
    /// The method a force evaluation over `bodies` bodies uses: `Auto` resolved by size, the
    /// others as they are.
    #[must_use]
    pub fn for_bodies(self, bodies: usize) -> Self {
        match self {
            Self::Auto { opening_angle } if bodies >= AUTO_TREE_MIN_BODIES => Self::BarnesHut { opening_angle },
            Self::Auto { .. } => Self::Direct,
            other => other,
        }
    }
}

/// The first post-Newtonian (1PN) correction of the gravity of the heaviest body (the Sun),
/// felt by every other body — the dominant general-relativistic term, as REBOUNDx's `gr`
/// models it (Anderson et al. 1975): for a body at `r`, `v` relative to the heaviest one,
/// `a = μ / (c² r³) [(4μ/r − v²) r + 4 (r·v) v]`, with the reaction applied to the heavy body
/// so total momentum is kept. Ships (test particles) are not corrected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostNewtonian {
    /// The speed of light in the simulation's units.
    pub speed_of_light: f64,
}

impl PostNewtonian {
    /// The correction in SI units (c = 299,792,458 m/s).
    pub const SI: Self = Self { speed_of_light: 299_792_458.0 };
}

impl Default for SimParams {
    fn default() -> Self {
        Self {
            gravitational_constant: GRAVITATIONAL_CONSTANT_SI,
            softening: 0.0,
            substep: 0.1,
            kernel: None,
            gravity: GravityMethod::Direct,
            post_newtonian: None,
        }
    }
}

/// Newton's constant in SI units (CODATA 2018).
pub const GRAVITATIONAL_CONSTANT_SI: f64 = 6.674_30e-11;

/// Standard gravity, used to turn specific impulse (s) into exhaust velocity (m/s).
pub const STANDARD_GRAVITY: f64 = 9.806_65;

impl SimParams {
    /// Checks every field; a simulation only ever holds validated parameters.
    pub fn validate(&self) -> Result<(), EngineError> {
        finite("gravitational constant", self.gravitational_constant)?;
        non_negative("gravitational constant", self.gravitational_constant)?;
        finite("softening", self.softening)?;
        non_negative("softening", self.softening)?;
        positive("substep", self.substep)?;
        if let GravityMethod::BarnesHut { opening_angle } | GravityMethod::Auto { opening_angle } = self.gravity {
            // NOTE: θ ≥ 2 would accept nodes the group sits next to; such trees are not gravity.
            positive("opening angle", opening_angle)?;
            in_range("opening angle", opening_angle, 0.0, 1.5)?;
        }
        if let Some(correction) = self.post_newtonian {
            positive("speed of light", correction.speed_of_light)?;
        }
        if let Some(path) = self.kernel
            && !path.is_supported()
        {
            return Err(EngineError::KernelUnavailable(path.name()));
        }
        Ok(())
    }

    /// The kernel path this simulation runs: the forced one, or the best the CPU supports.
    #[must_use]
    pub fn kernel_path(&self) -> KernelPath {
        self.kernel.unwrap_or_else(KernelPath::best_available)
    }
}

pub(crate) fn finite(quantity: &'static str, value: f64) -> Result<f64, EngineError> {
    if value.is_finite() { Ok(value) } else { Err(EngineError::NonFinite { quantity, value }) }
}

pub(crate) fn non_negative(quantity: &'static str, value: f64) -> Result<f64, EngineError> {
    finite(quantity, value)?;
    if value >= 0.0 { Ok(value) } else { Err(EngineError::Negative { quantity, value }) }
}

pub(crate) fn positive(quantity: &'static str, value: f64) -> Result<f64, EngineError> {
    finite(quantity, value)?;
    if value > 0.0 { Ok(value) } else { Err(EngineError::NotPositive { quantity, value }) }
}

pub(crate) fn in_range(quantity: &'static str, value: f64, min: f64, max: f64) -> Result<f64, EngineError> {
    finite(quantity, value)?;
    if (min..=max).contains(&value) { Ok(value) } else { Err(EngineError::OutOfRange { quantity, min, max, value }) }
}
