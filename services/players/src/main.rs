//! `galaxy-players`: the players service (gRPC, default port 8003), over PostgreSQL and Redis.
//!
//! Environment: `LISTEN_ADDR` (0.0.0.0:8003), `METRICS_ADDR` (0.0.0.0:9090), `PHYSICS_URL`
//! (http://127.0.0.1:8002), `DATABASE_URL`, `REDIS_URL` and the storage variables.

use anyhow::Context;
use galaxy_storage::{StorageConfig, Stores};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    galaxy_runtime::init_tracing();
    let config = StorageConfig::from_env().context("storage configuration")?;
    let stores = Stores::connect_durable(&config).await.context("connecting to PostgreSQL and Redis")?;
    let listener =
        galaxy_runtime::bind(galaxy_runtime::address_from_env("LISTEN_ADDR", "0.0.0.0:8003")?, false).await?;
    let ops = galaxy_runtime::address_from_env("METRICS_ADDR", "0.0.0.0:9090")?;
    tokio::spawn(galaxy_runtime::serve_http(
        ops,
        galaxy_runtime::ops_router(galaxy_runtime::stores_readiness(stores.clone()))?,
        galaxy_runtime::shutdown_signal(),
    ));
    let physics_url = galaxy_runtime::text_from_env("PHYSICS_URL", "http://127.0.0.1:8002");
    let players = galaxy_players::PlayersConfig::default();
    galaxy_players::serve(listener, stores, &physics_url, players, galaxy_runtime::shutdown_signal())
        .await
        .context("players service")
}
