//! `galaxy-api-gateway`: the api-gateway as its own process. Configuration from the environment
//! (`LISTEN_ADDR`, `PLAYERS_URL`, `PHYSICS_URL`, `GALAXY_URL`, `GALAXY_ALLOWED_ORIGINS`,
//! `GALAXY_WEB_ROOT`, …, and `REDIS_URL` / `REDIS_KEY_PREFIX` for the tick stream); serves until
//! Ctrl-C or SIGTERM, then closes WebSockets with 1001 and drains.

use anyhow::{Context, Result, bail};
use galaxy_gateway::{Backends, Gateway, GatewayConfig};
use galaxy_storage::{EventBus, RedisStore, StorageConfig};

#[tokio::main]
async fn main() -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

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
    tracing::info!(address = %config.listen_addr, players = %config.players_url, physics = %config.physics_url,
        galaxy = %config.galaxy_url, "api-gateway listening");
    let gateway = Gateway::new(config, backends, bus);
    gateway.serve(listener, gateway.router(), shutdown_signal()).await.context("serving")?;
    tracing::info!("api-gateway stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM (what Kubernetes sends before killing a pod).
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
