//! `galaxy-sim`: the physicists' side of Galaxy — seeded scene generators, initial-condition
//! files, and timed runs of the engine with a report of what was conserved.
//!
//! The central type is [`InitialBody`]: one named body (mass, position, velocity) as scenes
//! produce it and as initial-condition CSV files store it. [`scenes`] builds seeded Kepler,
//! Plummer and uniform scenes and the game's J2000 solar system with orbiting ships;
//! [`initial_conditions`] reads and writes the CSV files with errors that name the line and the
//! column; [`mod@run`] integrates a scene on a chosen number of threads and kernel and returns a
//! [`RunReport`]. [`ephemeris`] holds the JPL DE421 data compiled into the crate, which
//! [`solar_system`] turns into the game's 29-body catalog and [`validate`] integrates to
//! compare the engine's orbits with DE421.
//!
//! The `galaxy-sim` binary is a thin command line over this library; the benches and the game
//! call [`scenes`] directly so that everyone measures and plays the same scenes.

#![warn(missing_docs)]

pub mod ephemeris;
pub mod initial_conditions;
pub mod report;
pub mod run;
pub mod scenes;
pub mod solar_system;
pub mod validate;

pub use initial_conditions::{
    COLUMNS, FieldProblem, InitialConditionsError, read_initial_conditions, read_initial_conditions_file,
    write_initial_conditions,
};
pub use report::RunReport;
pub use run::{RunError, RunOutcome, RunParams, advance, run};
pub use scenes::{
    InitialBody, add_orbiting_ships, disk_galaxy, kepler, plummer, simulation_from, solar_system_simulation, uniform,
};
