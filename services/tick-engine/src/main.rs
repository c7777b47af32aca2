//! `galaxy-tick-engine`: the tick loop and its control service (gRPC, default port 8001), over
//! PostgreSQL (tick log, configuration, singleton lock) and Redis (`tick.completed`).
//!
//! Environment: `LISTEN_ADDR` (0.0.0.0:8001), `METRICS_ADDR` (0.0.0.0:9090), `PHYSICS_URL`
//! (http://127.0.0.1:8002), `SNAPSHOT_EVERY_TICKS` (60; 0 = never), `MAX_SUBSTEP_SECONDS` (0.1),
//! `MAX_CATCH_UP_TICKS` (10), `DATABASE_URL`, `REDIS_URL` and the storage variables.

use anyhow::Context;
use galaxy_storage::{StorageConfig, Stores};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    galaxy_runtime::init_tracing();
    let config = StorageConfig::from_env().context("storage configuration")?;
    let stores = Stores::connect_durable(&config).await.context("connecting to PostgreSQL and Redis")?;
    let listener =
        galaxy_runtime::bind(galaxy_runtime::address_from_env("LISTEN_ADDR", "0.0.0.0:8001")?, false).await?;
    let ops = galaxy_runtime::address_from_env("METRICS_ADDR", "0.0.0.0:9090")?;
    tokio::spawn(galaxy_runtime::serve_http(
        ops,
        galaxy_runtime::ops_router(galaxy_runtime::stores_readiness(stores.clone()))?,
        galaxy_runtime::shutdown_signal(),
    ));
    let physics_url = galaxy_runtime::text_from_env("PHYSICS_URL", "http://127.0.0.1:8002");
    let options = galaxy_tick_engine::TickEngineOptions::from_env()?;
    galaxy_tick_engine::serve(listener, stores, &physics_url, options, galaxy_runtime::shutdown_signal())
        .await
        .context("tick-engine")
}
