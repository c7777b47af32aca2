//! `galaxy-api-gateway`: the api-gateway as its own process. Configuration from the environment
//! (`LISTEN_ADDR`, `PLAYERS_URL`, `PHYSICS_URL`, `GALAXY_URL`, `GALAXY_ALLOWED_ORIGINS`,
//! `GALAXY_WEB_ROOT`, …, and `REDIS_URL` / `REDIS_KEY_PREFIX` for the tick stream), with
//! `/livez`, `/readyz` and Prometheus `/metrics` also on `METRICS_ADDR` (0.0.0.0:9090) like every
//! service; serves until Ctrl-C or SIGTERM, then closes WebSockets with 1001 and drains.

use anyhow::{Context, Result, bail};
use galaxy_gateway::{Backends, Gateway, GatewayConfig};
use galaxy_storage::{EventBus, RedisStore, StorageConfig};

/// Per-connection buffers come and go by the ten thousand; glibc's malloc kept far more of that
/// memory resident (`gateway-load clients --clients 10000`: 377 MiB before this and the
/// WebSocket write changes, 255 MiB with both).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    galaxy_runtime::init_tracing();
    let config = GatewayConfig::from_env().context("gateway configuration")?;
    let storage = StorageConfig::from_env().context("storage configuration")?;
    let Some(redis) = storage.redis else {
        bail!("REDIS_URL is required: the gateway follows the tick stream in Redis");
    };
    let bus = EventBus::Redis(RedisStore::connect(&redis).await.context("connecting to Redis")?);
    let backends = Backends::connect_lazy(&config).context("service URLs")?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding {}", config.listen_addr))?;
    let ops = galaxy_runtime::address_from_env("METRICS_ADDR", "0.0.0.0:9090")?;
    tokio::spawn(galaxy_runtime::serve_http(
        ops,
        galaxy_runtime::ops_router(galaxy_runtime::always_ready())?,
        galaxy_runtime::shutdown_signal(),
    ));
    tracing::info!(address = %config.listen_addr, players = %config.players_url, physics = %config.physics_url,
        galaxy = %config.galaxy_url, "api-gateway listening");
    let gateway = Gateway::new(config, backends, bus);
    gateway.serve(listener, gateway.router(), galaxy_runtime::shutdown_signal()).await.context("serving")?;
    tracing::info!("api-gateway stopped");
    Ok(())
}
