//! Massive bodies as columns: one `Vec<f64>` per quantity, indexed by body.

use glam::DVec3;

use crate::error::EngineError;
use crate::params::{finite, non_negative};

/// A massive body to add: the only way bodies enter a simulation, validated on the way in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodyInit {
    /// Mass (kg in the game). Zero is allowed: a massless marker that feels gravity.
    pub mass: f64,
    /// Radius of the solid surface, for landing and crash events; zero for a point mass.
    pub radius: f64,
    /// Position.
    pub position: DVec3,
    /// Velocity.
    pub velocity: DVec3,
}

impl BodyInit {
    /// Rejects NaN/Inf anywhere and negative mass or radius.
    pub fn validate(&self) -> Result<(), EngineError> {
        non_negative("body mass", self.mass)?;
        non_negative("body radius", self.radius)?;
        for component in self.position.to_array() {
            finite("body position", component)?;
        }
        for component in self.velocity.to_array() {
            finite("body velocity", component)?;
        }
        Ok(())
    }
}

/// The massive bodies: every body attracts every body and every ship.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bodies {
    pub(crate) mass: Vec<f64>,
    pub(crate) radius: Vec<f64>,
    pub(crate) position_x: Vec<f64>,
    pub(crate) position_y: Vec<f64>,
    pub(crate) position_z: Vec<f64>,
    pub(crate) velocity_x: Vec<f64>,
    pub(crate) velocity_y: Vec<f64>,
    pub(crate) velocity_z: Vec<f64>,
    pub(crate) acceleration_x: Vec<f64>,
    pub(crate) acceleration_y: Vec<f64>,
    pub(crate) acceleration_z: Vec<f64>,
}

impl Bodies {
    /// Number of bodies.
    #[must_use]
    pub fn len(&self) -> usize {
        self.mass.len()
    }

    /// Whether there are no bodies.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mass.is_empty()
    }

    /// Masses.
    #[must_use]
    pub fn mass(&self) -> &[f64] {
        &self.mass
    }

    /// Radii.
    #[must_use]
    pub fn radius(&self) -> &[f64] {
        &self.radius
    }

    /// Position columns `(x, y, z)`.
    #[must_use]
    pub fn positions(&self) -> (&[f64], &[f64], &[f64]) {
        (&self.position_x, &self.position_y, &self.position_z)
    }

    /// Velocity columns `(x, y, z)`.
    #[must_use]
    pub fn velocities(&self) -> (&[f64], &[f64], &[f64]) {
        (&self.velocity_x, &self.velocity_y, &self.velocity_z)
    }

    /// Position of one body.
    #[must_use]
    pub fn position(&self, index: usize) -> DVec3 {
        DVec3::new(self.position_x[index], self.position_y[index], self.position_z[index])
    }

    /// Velocity of one body.
    #[must_use]
    pub fn velocity(&self, index: usize) -> DVec3 {
        DVec3::new(self.velocity_x[index], self.velocity_y[index], self.velocity_z[index])
    }

    pub(crate) fn push(&mut self, body: &BodyInit) {
        self.mass.push(body.mass);
        self.radius.push(body.radius);
        self.position_x.push(body.position.x);
        self.position_y.push(body.position.y);
        self.position_z.push(body.position.z);
        self.velocity_x.push(body.velocity.x);
        self.velocity_y.push(body.velocity.y);
        self.velocity_z.push(body.velocity.z);
        self.acceleration_x.push(0.0);
        self.acceleration_y.push(0.0);
        self.acceleration_z.push(0.0);
    }

    /// Half kick (or full) of every body by its cached acceleration.
    pub(crate) fn kick(&mut self, duration: f64) {
        kick_columns(&mut self.velocity_x, &self.acceleration_x, duration);
        kick_columns(&mut self.velocity_y, &self.acceleration_y, duration);
        kick_columns(&mut self.velocity_z, &self.acceleration_z, duration);
    }

    pub(crate) fn drift(&mut self, duration: f64) {
        kick_columns(&mut self.position_x, &self.velocity_x, duration);
        kick_columns(&mut self.position_y, &self.velocity_y, duration);
        kick_columns(&mut self.position_z, &self.velocity_z, duration);
    }
}

/// `values += rates · duration`, element by element (vectorised by the compiler).
pub(crate) fn kick_columns(values: &mut [f64], rates: &[f64], duration: f64) {
    for (value, rate) in values.iter_mut().zip(rates) {
        *value += rate * duration;
    }
}
