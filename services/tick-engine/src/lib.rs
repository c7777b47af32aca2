//! Galaxy's tick-engine service: the tick loop. [`TickLoop`] drives a [`TickTarget`] (physics)
//! at a configured rate and time scale, splits each tick into engine substeps no longer than a
//! maximum, catches up after overruns within a bound and counts any slip, and pauses at once.
//! [`schedule`] holds the loop's arithmetic, free of clocks so it is tested exactly.
//!
//! [`GrpcPhysics`] is the target in microservice mode. Still to come with the services issue:
//! the gRPC control service, the Redis `tick.completed`
//! stream sink, the PostgreSQL snapshot schedule and the singleton lock.

#![warn(missing_docs)]

mod physics_client;
pub mod schedule;
mod tick_loop;

pub use physics_client::GrpcPhysics;
pub use schedule::{CatchUp, ScheduleError, TickSettings, plan_catch_up};
pub use tick_loop::{
    ControlState, PhysicsTick, TickControl, TickError, TickLoop, TickRecord, TickSink, TickStatus, TickTarget,
};
