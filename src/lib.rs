//! The whole game in one process — what `cargo run --release` starts. Every service runs here
//! on its own gRPC port of the loopback interface (tick-engine 8001, physics 8002, players
//! 8003, galaxy 8004; a free port when one is taken), talking to the others over gRPC exactly as
//! in the cluster, and the api-gateway serves players and the built web client on
//! `GALAXY_HTTP_ADDR` (127.0.0.1:8000), the admin dashboard admins on `GALAXY_ADMIN_ADDR`
//! (127.0.0.1:8080, a free port when taken). Without `DATABASE_URL` / `REDIS_URL` the stores are
//! in-process stand-ins and nothing survives the process; with them, the real stores.
//!
//! Nothing imports this crate but its binary and its tests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use galaxy_galaxy::{ConfigStore, GalaxyServer, GalaxyService};
use galaxy_gateway::{Backends, Gateway, GatewayConfig};
use galaxy_storage::{StorageConfig, Stores};
use galaxy_tick_engine::TickEngineOptions;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Where the one-process game listens and what it serves.
#[derive(Debug, Clone)]
pub struct GameOptions {
    /// The gateway's address (players' browsers).
    pub http_addr: SocketAddr,
    /// Host of the services' gRPC ports.
    pub grpc_host: std::net::IpAddr,
    /// First of the four gRPC ports (tick-engine, physics, players, galaxy); 0: any free ports.
    pub grpc_base_port: u16,
    /// The built web client, served at `/`.
    pub web_root: Option<PathBuf>,
    /// Tick-engine settings.
    pub tick_engine: TickEngineOptions,
    /// The admin dashboard's address; `None`: no dashboard.
    pub admin_addr: Option<SocketAddr>,
}

impl GameOptions {
    /// From `GALAXY_HTTP_ADDR` (127.0.0.1:8000), `GALAXY_GRPC_BASE_PORT` (8001; 0 = any free
    /// ports), `GALAXY_WEB_ROOT` (web-client/dist when it exists), `GALAXY_ADMIN_ADDR`
    /// (127.0.0.1:8080; `off`: no dashboard) and the tick-engine's variables.
    pub fn from_env() -> Result<GameOptions> {
        let http_addr = galaxy_runtime::address_from_env("GALAXY_HTTP_ADDR", "127.0.0.1:8000")?;
        let grpc_base_port: u16 = galaxy_runtime::text_from_env("GALAXY_GRPC_BASE_PORT", "8001")
            .parse()
            .context("GALAXY_GRPC_BASE_PORT must be a port number")?;
        let web_root = std::env::var_os("GALAXY_WEB_ROOT")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("web-client/dist")).filter(|path| path.join("index.html").exists()));
        let admin_addr = match galaxy_runtime::text_from_env("GALAXY_ADMIN_ADDR", "127.0.0.1:8080").as_str() {
            "off" => None,
            _ => Some(galaxy_runtime::address_from_env("GALAXY_ADMIN_ADDR", "127.0.0.1:8080")?),
        };
        Ok(GameOptions {
            http_addr,
            admin_addr,
            grpc_host: std::net::Ipv4Addr::LOCALHOST.into(),
            grpc_base_port,
            web_root,
            tick_engine: TickEngineOptions::from_env()?,
        })
    }
}

/// The addresses a running game bound (ports may differ from the options when taken).
#[derive(Debug, Clone, Copy)]
pub struct GameAddresses {
    /// The gateway (HTTP and WebSocket).
    pub http: SocketAddr,
    /// tick-engine gRPC.
    pub tick_engine: SocketAddr,
    /// physics gRPC.
    pub physics: SocketAddr,
    /// players gRPC.
    pub players: SocketAddr,
    /// galaxy gRPC.
    pub galaxy: SocketAddr,
    /// The admin dashboard (`/admin/`), when it runs.
    pub admin: Option<SocketAddr>,
}

async fn bind_grpc(options: &GameOptions, offset: u16) -> Result<TcpListener> {
    let port = if options.grpc_base_port == 0 { 0 } else { options.grpc_base_port + offset };
    Ok(galaxy_runtime::bind(SocketAddr::new(options.grpc_host, port), true).await?)
}

fn url(address: SocketAddr) -> String {
    format!("http://{address}")
}

/// Starts every service and the gateway; `ready` gets the bound addresses once all listen.
/// Runs until `shutdown` resolves, then stops the gateway (closing WebSockets with 1001), the
/// tick loop, and physics (which saves a final snapshot).
pub async fn run(
    options: GameOptions,
    stores: Stores,
    ready: tokio::sync::oneshot::Sender<GameAddresses>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let tick_engine = bind_grpc(&options, 0).await?;
    let physics = bind_grpc(&options, 1).await?;
    let players = bind_grpc(&options, 2).await?;
    let galaxy = bind_grpc(&options, 3).await?;
    let http = galaxy_runtime::bind(options.http_addr, false).await?;
    // A taken admin port must not keep players out: the dashboard moves to a free one (logged).
    let admin = match options.admin_addr {
        Some(address) => Some(galaxy_runtime::bind(address, true).await?),
        None => None,
    };
    let addresses = GameAddresses {
        http: http.local_addr()?,
        tick_engine: tick_engine.local_addr()?,
        physics: physics.local_addr()?,
        players: players.local_addr()?,
        galaxy: galaxy.local_addr()?,
        admin: admin.as_ref().map(TcpListener::local_addr).transpose()?,
    };

    // Stop order: the gateway and the tick loop first, physics last (its final snapshot must
    // follow the last tick).
    let (front_stop, front_stopped) = watch::channel(false);
    let (back_stop, back_stopped) = watch::channel(false);
    let until = |receiver: &watch::Receiver<bool>| {
        let mut receiver = receiver.clone();
        async move {
            let _ = receiver.wait_for(|stop| *stop).await;
        }
    };

    let mut services = JoinSet::new();
    services.spawn({
        let (stores, stop) = (stores.clone(), until(&back_stopped));
        async move { galaxy_physics::serve(physics, stores, stop).await.context("physics") }
    });
    services.spawn({
        let (stores, stop, physics_url) = (stores.clone(), until(&back_stopped), url(addresses.physics));
        async move {
            let config = galaxy_players::PlayersConfig::default();
            galaxy_players::serve(players, stores, &physics_url, config, stop).await.context("players")
        }
    });
    services.spawn({
        let (stores, stop) = (stores.clone(), until(&back_stopped));
        async move {
            let service = GalaxyService::new(ConfigStore::new(stores.database.clone()));
            let routes = tonic::service::Routes::new(GalaxyServer::new(service));
            let readiness = galaxy_runtime::stores_readiness(stores);
            galaxy_runtime::serve_grpc(galaxy, routes, readiness, stop).await.context("galaxy")
        }
    });
    services.spawn({
        let (stores, stop, physics_url) = (stores.clone(), until(&front_stopped), url(addresses.physics));
        let options = options.tick_engine.clone();
        async move {
            galaxy_tick_engine::serve(tick_engine, stores, &physics_url, options, stop).await.context("tick-engine")
        }
    });
    let gateway_config = GatewayConfig {
        listen_addr: addresses.http,
        players_url: url(addresses.players),
        physics_url: url(addresses.physics),
        galaxy_url: url(addresses.galaxy),
        web_root: options.web_root.clone(),
        ..GatewayConfig::from_env().context("gateway configuration")?
    };
    let backends = Backends::connect_lazy(&gateway_config).context("gateway backends")?;
    let gateway = Gateway::new(gateway_config, backends, stores.bus.clone());
    let router = gateway.router().merge(metrics_router()?);
    services.spawn({
        let stop = until(&front_stopped);
        async move { gateway.serve(http, router, stop).await.context("api-gateway") }
    });

    if let Some(listener) = admin {
        let config = galaxy_admin_dashboard::DashboardConfig {
            listen_addr: listener.local_addr()?,
            tick_engine_url: url(addresses.tick_engine),
            physics_url: url(addresses.physics),
            players_url: url(addresses.players),
            galaxy_url: url(addresses.galaxy),
            ..galaxy_admin_dashboard::DashboardConfig::from_env().context("admin-dashboard configuration")?
        };
        let (stores, stop) = (stores.clone(), until(&front_stopped));
        services.spawn(async move {
            galaxy_admin_dashboard::serve(listener, config, stores, stop).await.context("admin-dashboard")
        });
    }

    let _ = ready.send(addresses);
    tokio::pin!(shutdown);
    let failure = tokio::select! {
        () = &mut shutdown => None,
        finished = services.join_next() => Some(finished),
    };
    let _ = front_stop.send(true);
    // Let the gateway drain and the tick loop finish its tick before physics stops.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = back_stop.send(true);
    let mut outcome = match failure {
        Some(Some(Ok(Err(error)))) => Err(error),
        Some(Some(Err(join_error))) => Err(anyhow::anyhow!("a service task failed: {join_error}")),
        Some(_) => Err(anyhow::anyhow!("a service stopped unexpectedly")),
        None => Ok(()),
    };
    while let Some(finished) = services.join_next().await {
        if let Ok(Err(error)) = finished
            && outcome.is_ok()
        {
            outcome = Err(error);
        }
    }
    outcome
}

fn metrics_router() -> Result<axum::Router> {
    let handle = galaxy_runtime::metrics_handle()?;
    Ok(axum::Router::new().route("/metrics", axum::routing::get(move || std::future::ready(handle.render()))))
}

/// Connects the stores the environment names, or stands them in memory, saying which.
pub async fn connect_stores() -> Result<Stores> {
    let config = StorageConfig::from_env().context("storage configuration")?;
    let stores = Stores::connect(&config).await.context("connecting to the configured stores")?;
    if !stores.database.is_durable() {
        tracing::warn!(
            "no DATABASE_URL: accounts, ships, snapshots and settings live in this process only and are LOST when it stops"
        );
    }
    if !stores.bus.is_shared() {
        tracing::warn!("no REDIS_URL: state and event streams are in-process only (nothing durable, one process only)");
    }
    Ok(stores)
}
