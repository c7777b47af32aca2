//! `galaxy-physics`: the physics service (gRPC, default port 8002), over PostgreSQL and Redis.
//!
//! Environment: `LISTEN_ADDR` (0.0.0.0:8002), `METRICS_ADDR` (0.0.0.0:9090: /livez, /readyz,
//! /metrics), `DATABASE_URL`, `REDIS_URL` and the storage variables of `galaxy_storage::config`.

use anyhow::Context;
use galaxy_storage::{StorageConfig, Stores};

/// Each tick serialises a few hundred KiB (the state and the world); glibc's malloc handed those
/// back as fresh zeroed pages every tick (`tick-services`: 48k page faults in 300 ticks; 367
/// with mimalloc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    galaxy_runtime::init_tracing();
    let config = StorageConfig::from_env().context("storage configuration")?;
    let stores = Stores::connect_durable(&config).await.context("connecting to PostgreSQL and Redis")?;
    let listener =
        galaxy_runtime::bind(galaxy_runtime::address_from_env("LISTEN_ADDR", "0.0.0.0:8002")?, false).await?;
    let ops = galaxy_runtime::address_from_env("METRICS_ADDR", "0.0.0.0:9090")?;
    tokio::spawn(galaxy_runtime::serve_http(
        ops,
        galaxy_runtime::ops_router(galaxy_runtime::stores_readiness(stores.clone()))?,
        galaxy_runtime::shutdown_signal(),
    ));
    galaxy_physics::serve(listener, stores, galaxy_runtime::shutdown_signal()).await.context("physics service")
}
