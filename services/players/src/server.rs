//! The players service as a process: accounts over the stores, gRPC with the health service.

use std::sync::Arc;

use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::Stores;
use tokio::net::TcpListener;

use crate::accounts::{PlayerAccounts, PlayersConfig};
use crate::grpc::PlayersService;

/// Why the players service stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The physics address is not a URL.
    #[error("physics address {0:?}: {1}")]
    PhysicsAddress(String, String),
    /// The server failed.
    #[error(transparent)]
    Runtime(#[from] galaxy_runtime::RuntimeError),
}

/// Serves the players service on `listener` until `shutdown` resolves, keeping players' ships
/// flying in the physics service at `physics_url` (connected lazily: physics may start later).
pub async fn serve(
    listener: TcpListener,
    stores: Stores,
    physics_url: &str,
    config: PlayersConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let endpoint = tonic::transport::Endpoint::from_shared(physics_url.to_owned())
        .map_err(|error| ServeError::PhysicsAddress(physics_url.to_owned(), error.to_string()))?;
    let physics = PhysicsClient::new(endpoint.connect_lazy());
    let accounts = Arc::new(PlayerAccounts::new(stores.database.clone(), stores.bus.clone(), config));
    let service = PlayersService::new(accounts).with_physics(physics);
    let routes = tonic::service::Routes::new(crate::PlayersServer::new(service.clone()))
        .add_service(crate::PlayersAdminServer::new(service));
    Ok(galaxy_runtime::serve_grpc(listener, routes, galaxy_runtime::stores_readiness(stores), shutdown).await?)
}
