//! Galaxy's tick-engine service: the tick loop. [`TickLoop`] drives a [`TickTarget`] (physics)
//! at a configured rate and time scale, splits each tick into engine substeps no longer than a
//! maximum, catches up after overruns within a bound and counts any slip, and pauses at once.
//! [`schedule`] holds the loop's arithmetic, free of clocks so it is tested exactly.
//!
//! [`GrpcPhysics`] is the target in microservice mode. Still to come with the services issue:
//! the gRPC control service, the PostgreSQL snapshot schedule and the singleton lock.
//! [`StoreTickSink`] appends `tick.completed` to Redis and the tick log to PostgreSQL.

#![warn(missing_docs)]

mod physics_client;
mod redis_sink;
pub mod schedule;
mod tick_loop;

pub use physics_client::GrpcPhysics;
pub use redis_sink::StoreTickSink;
pub use schedule::{CatchUp, ScheduleError, TickSettings, plan_catch_up};
pub use tick_loop::{
    ControlState, PhysicsTick, TickControl, TickError, TickLoop, TickRecord, TickSink, TickSinkError, TickStatus,
    TickTarget,
};
