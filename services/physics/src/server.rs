//! The physics service as a process: recover the world, serve it over gRPC with the health
//! service, and write a final snapshot on the way out.

use galaxy_engine::SimParams;
use galaxy_storage::Stores;
use tokio::net::TcpListener;

use crate::grpc::{PhysicsService, Recovery};
use crate::world::{SpawnOrbit, World, WorldError};
use galaxy_proto::v1::physics_server::PhysicsServer;

/// Why the physics service stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The world could not be built or recovered.
    #[error(transparent)]
    World(#[from] WorldError),
    /// The server failed.
    #[error(transparent)]
    Runtime(#[from] galaxy_runtime::RuntimeError),
}

/// Recovers the world (bus, then database, else a fresh solar system) and serves it on
/// `listener` until `shutdown` resolves; then saves a final snapshot.
pub async fn serve(
    listener: TcpListener,
    stores: Stores,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let fresh = World::solar_system(SimParams::default(), SpawnOrbit::default())?;
    let (service, recovery) = PhysicsService::recover(fresh, stores.bus.clone(), stores.database.clone()).await?;
    let (tick, state_hash) = service.summary().await;
    match recovery {
        Recovery::Bus => tracing::info!(tick, %state_hash, "resumed the world saved after the last tick"),
        Recovery::Snapshot { snapshot_id, .. } => {
            tracing::info!(tick, %state_hash, snapshot_id, "resumed from the latest snapshot");
        }
        Recovery::Fresh => tracing::info!(%state_hash, "started a new solar system"),
    }
    let readiness = galaxy_runtime::stores_readiness(stores.clone());
    let routes = tonic::service::Routes::new(PhysicsServer::new(service.clone()));
    let served = galaxy_runtime::serve_grpc(listener, routes, readiness, shutdown).await;
    match service.save_snapshot().await {
        Ok(saved) => tracing::info!(tick = saved.tick, snapshot_id = saved.id.0, "saved the final snapshot"),
        Err(status) => tracing::error!(%status, "could not save the final snapshot"),
    }
    Ok(served?)
}
