//! Galaxy's physics engine: a structure-of-arrays N-body simulation of massive bodies and
//! ships, advanced by a fixed-step kick-drift-kick leapfrog.
//!
//! The central type is [`Simulation`]: columns of bodies (mass, radius, position, velocity)
//! and ships (test particles with thrust, fuel, attitude and controls), a [`SimParams`], and
//! [`Simulation::step`]. Gravity is direct summation ([`gravity`]): a scalar reference kernel, a
//! portable `wide` kernel, and AVX2/AVX-512 kernels picked at run time, parallel over chunks of
//! targets with `rayon` (feature `parallel`) and bitwise-independent of the thread count. For
//! hundreds of bodies or more, the AVX-512 path computes each pair once and applies it to both
//! bodies (Newton's third law), in a fixed round-robin order that keeps that determinism.
//!
//! The engine is pure computation: no I/O, no async, no environment. The physics service steps
//! it, `galaxy-sim` runs it on files, the benches time it.

#![warn(missing_docs)]

mod bodies;
mod diagnostics;
mod error;
pub mod gravity;
mod orbit;
mod params;
mod relativity;
mod ships;
mod simulation;
mod snapshot;

pub use bodies::{Bodies, BodyInit};
pub use diagnostics::{Diagnostics, Drift};
pub use error::{EngineError, SnapshotError};
pub use gravity::KernelPath;
pub use orbit::{OrbitalElements, SphereOfInfluence};
pub use params::{
    AUTO_TREE_MIN_BODIES, GRAVITATIONAL_CONSTANT_SI, GravityMethod, PostNewtonian, STANDARD_GRAVITY, SimParams,
};
pub use ships::{
    AttitudeMode, AttitudeTarget, MAX_LANDING_TILT_DEGREES, MAX_LANDING_VERTICAL_SPEED, SHIP_FORWARD, ShipClass,
    ShipControl, ShipInit, ShipState, ShipStatus, Ships,
};
pub use simulation::{
    MAX_PREDICTION_STEPS, PredictionParams, ShipEvent, Simulation, StepReport, SurfaceContact, Trajectory,
    TrajectoryPoint,
};
pub use snapshot::SNAPSHOT_VERSION;

/// Re-exported so callers name the same vector and quaternion types as the API.
pub use glam::{DQuat, DVec3};
