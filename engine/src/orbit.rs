//! Two-body orbital elements and the sphere-of-influence hierarchy that picks the dominant body.

use glam::DVec3;

/// Osculating Keplerian elements of a state relative to a central body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitalElements {
    /// Gravitational parameter used, `G (M + m)`.
    pub gravitational_parameter: f64,
    /// Semi-major axis; negative for hyperbolic orbits, infinite for parabolic ones.
    pub semi_major_axis: f64,
    /// Eccentricity (0 circle, < 1 ellipse, ≥ 1 escape).
    pub eccentricity: f64,
    /// Inclination to the reference plane (world XY), radians.
    pub inclination: f64,
    /// Closest distance to the centre, from the centre.
    pub periapsis: f64,
    /// Farthest distance from the centre; `None` when the orbit is not bound.
    pub apoapsis: Option<f64>,
    /// Orbital period; `None` when the orbit is not bound.
    pub period: Option<f64>,
    /// Specific orbital energy `v²/2 − μ/r`.
    pub specific_energy: f64,
    /// Distance from the centre now.
    pub radius: f64,
    /// Speed relative to the centre now.
    pub speed: f64,
}

impl OrbitalElements {
    /// Elements of the relative state `(position, velocity)` around a centre of gravitational
    /// parameter `gravitational_parameter` (must be positive; returns `None` otherwise, or when
    /// the position is at the centre).
    #[must_use]
    pub fn from_state(position: DVec3, velocity: DVec3, gravitational_parameter: f64) -> Option<Self> {
        let radius = position.length();
        if gravitational_parameter.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || radius <= 0.0 {
            return None;
        }
        let mu = gravitational_parameter;
        let speed_squared = velocity.length_squared();
        let specific_energy = 0.5 * speed_squared - mu / radius;
        let angular_momentum = position.cross(velocity);
        let eccentricity_vector = velocity.cross(angular_momentum) / mu - position / radius;
        let eccentricity = eccentricity_vector.length();
        let angular_momentum_length = angular_momentum.length();
        let inclination = if angular_momentum_length > 0.0 {
            (angular_momentum.z / angular_momentum_length).clamp(-1.0, 1.0).acos()
        } else {
            0.0
        };
        // Periapsis from h²/μ/(1+e): well defined for every conic, unlike a(1−e) near e = 1.
        let periapsis = angular_momentum_length * angular_momentum_length / mu / (1.0 + eccentricity);
        let semi_major_axis = if specific_energy == 0.0 { f64::INFINITY } else { -mu / (2.0 * specific_energy) };
        let bound = specific_energy < 0.0 && eccentricity < 1.0;
        let apoapsis = bound.then_some(semi_major_axis * (1.0 + eccentricity));
        let period = bound.then(|| std::f64::consts::TAU * (semi_major_axis.powi(3) / mu).sqrt());
        Some(Self {
            gravitational_parameter: mu,
            semi_major_axis,
            eccentricity,
            inclination,
            periapsis,
            apoapsis,
            period,
            specific_energy,
            radius,
            speed: speed_squared.sqrt(),
        })
    }
}

/// Each body's parent and sphere-of-influence radius (Laplace: `r_SOI = d (m / M)^{2/5}`),
/// worked out from masses and positions alone: the heaviest body is the root with an infinite
/// sphere, and every other body's parent is the smallest sphere, among heavier bodies, that
/// contains it.
#[derive(Debug, Clone, PartialEq)]
pub struct SphereOfInfluence {
    parent: Vec<Option<usize>>,
    radius: Vec<f64>,
    /// Body indices by decreasing mass.
    by_mass: Vec<usize>,
}

impl SphereOfInfluence {
    /// Builds the hierarchy for bodies given by columns of mass and position.
    #[must_use]
    pub fn new(mass: &[f64], x: &[f64], y: &[f64], z: &[f64]) -> Self {
        let count = mass.len();
        let mut by_mass: Vec<usize> = (0..count).collect();
        // Ties broken by index so the hierarchy is deterministic.
        by_mass.sort_by(|&a, &b| mass[b].total_cmp(&mass[a]).then(a.cmp(&b)));
        let mut parent = vec![None; count];
        let mut radius = vec![0.0; count];
        let position = |index: usize| DVec3::new(x[index], y[index], z[index]);
        for (rank, &body) in by_mass.iter().enumerate() {
            if rank == 0 {
                radius[body] = f64::INFINITY;
                continue;
            }
            let here = position(body);
            let mut best: Option<usize> = None;
            for &candidate in &by_mass[..rank] {
                if mass[candidate] <= 0.0 || radius[candidate] <= 0.0 {
                    continue;
                }
                let inside = here.distance_squared(position(candidate)) < radius[candidate] * radius[candidate];
                if inside && best.is_none_or(|current| radius[candidate] < radius[current]) {
                    best = Some(candidate);
                }
            }
            let chosen = best.unwrap_or(by_mass[0]);
            parent[body] = Some(chosen);
            radius[body] = if mass[chosen] > 0.0 {
                here.distance(position(chosen)) * (mass[body] / mass[chosen]).powf(0.4)
            } else {
                0.0
            };
        }
        Self { parent, radius, by_mass }
    }

    /// The parent of a body, `None` for the root.
    #[must_use]
    pub fn parent(&self, body: usize) -> Option<usize> {
        self.parent.get(body).copied().flatten()
    }

    /// Sphere-of-influence radius of a body (infinite for the root).
    #[must_use]
    pub fn radius(&self, body: usize) -> f64 {
        self.radius.get(body).copied().unwrap_or(0.0)
    }

    /// The body whose sphere of influence is the smallest one containing `point`; `None` only
    /// when there are no bodies.
    #[must_use]
    pub fn dominant_body(&self, point: DVec3, x: &[f64], y: &[f64], z: &[f64]) -> Option<usize> {
        let mut best = *self.by_mass.first()?;
        for &body in &self.by_mass[1..] {
            let radius = self.radius[body];
            if radius < self.radius[best] {
                let offset = point - DVec3::new(x[body], y[body], z[body]);
                if offset.length_squared() < radius * radius {
                    best = body;
                }
            }
        }
        Some(best)
    }
}
