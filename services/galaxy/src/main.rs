//! `galaxy-galaxy`: the galaxy service (gRPC, default port 8004): body catalog and game
//! configuration, over PostgreSQL.
//!
//! Environment: `LISTEN_ADDR` (0.0.0.0:8004), `METRICS_ADDR` (0.0.0.0:9090), `DATABASE_URL`,
//! `REDIS_URL` and the storage variables.

use anyhow::Context;
use galaxy_galaxy::{ConfigStore, GalaxyServer, GalaxyService};
use galaxy_storage::{StorageConfig, Stores};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    galaxy_runtime::init_tracing();
    let config = StorageConfig::from_env().context("storage configuration")?;
    let stores = Stores::connect_durable(&config).await.context("connecting to PostgreSQL and Redis")?;
    let listener =
        galaxy_runtime::bind(galaxy_runtime::address_from_env("LISTEN_ADDR", "0.0.0.0:8004")?, false).await?;
    let ops = galaxy_runtime::address_from_env("METRICS_ADDR", "0.0.0.0:9090")?;
    let readiness = galaxy_runtime::stores_readiness(stores.clone());
    tokio::spawn(galaxy_runtime::serve_http(
        ops,
        galaxy_runtime::ops_router(readiness.clone())?,
        galaxy_runtime::shutdown_signal(),
    ));
    let service = GalaxyService::new(ConfigStore::new(stores.database));
    let routes = tonic::service::Routes::new(GalaxyServer::new(service));
    galaxy_runtime::serve_grpc(listener, routes, readiness, galaxy_runtime::shutdown_signal())
        .await
        .context("galaxy service")
}
