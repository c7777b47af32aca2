//! The tick-engine as a process: the control service on gRPC (answering even in standby) and
//! the tick loop, which waits for the singleton lock, ticks until shutdown, and exits with an
//! error if the lock is lost (so an orchestrator restarts it into standby).

use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::Stores;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::service::{TickEngineError, TickEngineOptions, TickEngineService, run_tick_engine};

/// Why the tick-engine stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The physics address is not a URL.
    #[error("physics address {0:?}: {1}")]
    PhysicsAddress(String, String),
    /// The loop stopped.
    #[error(transparent)]
    TickEngine(#[from] TickEngineError),
    /// The server failed.
    #[error(transparent)]
    Runtime(#[from] galaxy_runtime::RuntimeError),
}

/// Serves the control service on `listener` and runs the tick loop against the physics service
/// at `physics_url`, until `shutdown` resolves or the lock is lost.
pub async fn serve(
    listener: TcpListener,
    stores: Stores,
    physics_url: &str,
    options: TickEngineOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let endpoint = tonic::transport::Endpoint::from_shared(physics_url.to_owned())
        .map_err(|error| ServeError::PhysicsAddress(physics_url.to_owned(), error.to_string()))?;
    let physics = PhysicsClient::new(endpoint.connect_lazy());
    let (slot_sender, slot) = watch::channel(None);
    let service = TickEngineService::new(slot, stores.database.clone());
    let routes = tonic::service::Routes::new(crate::TickEngineServer::new(service));
    let (stop_sender, stop) = watch::channel(false);
    let stopped = move || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    };
    let server = tokio::spawn(galaxy_runtime::serve_grpc(
        listener,
        routes,
        galaxy_runtime::stores_readiness(stores.clone()),
        stopped(),
    ));
    let ticking = run_tick_engine(physics, stores.bus, stores.database, options, slot_sender, shutdown).await;
    let _ = stop_sender.send(true);
    let served = server.await.map_err(|error| galaxy_runtime::RuntimeError::Metrics(error.to_string()))?;
    ticking?;
    Ok(served?)
}
