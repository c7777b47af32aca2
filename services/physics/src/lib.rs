//! Galaxy's physics service: it owns the simulation. [`World`] is the domain — the engine's
//! simulation plus ship ids, owners, names and body names, tick numbering and snapshots — and
//! [`PhysicsService`] is its thin gRPC skin (port 8002), called by the tick-engine (ticks), the
//! players service (spawning ships) and the gateway (state, predictions).

#![warn(missing_docs)]

mod grpc;
mod server;
mod world;

pub use grpc::{PhysicsService, Recovery};
pub use server::{ServeError, serve};
pub use world::{BodyView, ShipRecord, ShipView, SpawnOrbit, TargetRef, TickOutcome, World, WorldError};

/// The generated server type, for `tonic::transport::Server::add_service`.
pub use galaxy_proto::v1::physics_server::PhysicsServer;
