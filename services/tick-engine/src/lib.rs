//! Galaxy's tick-engine service: the tick loop. [`TickLoop`] drives a [`TickTarget`] (physics)
//! at a configured rate and time scale, splits each tick into engine substeps no longer than a
//! maximum, catches up after overruns within a bound and counts any slip, and pauses at once.
//! [`schedule`] holds the loop's arithmetic, free of clocks so it is tested exactly.
//!
//! [`GrpcPhysics`] is the target (physics over gRPC); [`StoreTickSink`] appends the tick log and
//! `tick.completed`. [`run_tick_engine`] runs the loop as a service — singleton lock, resume
//! after the last tick, scheduled snapshots — and [`TickEngineService`] is its gRPC control.

#![warn(missing_docs)]

mod physics_client;
pub mod schedule;
mod server;
mod service;
mod store_sink;
mod telemetry;
mod tick_loop;

/// The generated server type, for `tonic::transport::Server::add_service`.
pub use galaxy_proto::v1::tick_engine_server::TickEngineServer;
pub use physics_client::GrpcPhysics;
pub use schedule::{CatchUp, ScheduleError, TickSettings, plan_catch_up};
pub use server::{ServeError, serve};
pub use service::{
    ControlSlot, TICK_ENGINE_LOCK_KEY, TickEngineError, TickEngineOptions, TickEngineService, run_tick_engine,
    status_message,
};
pub use store_sink::{StoreTickSink, tick_completed_fields};
pub use tick_loop::{
    ControlState, PhysicsTick, SnapshotTaken, TickControl, TickError, TickLoop, TickPhases, TickRecord, TickSink,
    TickSinkError, TickStatus, TickTarget,
};
