//! Galaxy's admin dashboard (`/admin/*`, port 8080): the page admins watch the tick timing on
//! and steer the simulation from, and the JSON API behind it.
//!
//! - Admins are players with the admin role. They log in here with their username and password
//!   (checked by the players service); the session token travels in an `HttpOnly`,
//!   `SameSite=Strict` cookie (or an `Authorization: Bearer` header for scripts). Every
//!   `/admin/api/*` endpoint but login answers 401 without a valid session and 403 for a
//!   player's; changes must be JSON requests, which a cross-site form cannot send.
//! - The first admin comes from `GALAXY_ADMIN_USERNAME`/`GALAXY_ADMIN_PASSWORD` and is created
//!   at start-up if missing; in production (`GALAXY_ENV=production`) the dashboard refuses to
//!   start with an empty or default password ([`DashboardConfig::validate`]).
//! - It owns no game state: status and controls go to the tick-engine, snapshots to physics,
//!   registrations to galaxy, accounts and the audit log to the players service, all over gRPC.
//!   Every change is written to the audit log (account changes by the players service itself).
//! - A sampler polls the tick-engine every second and keeps the last ten minutes of tick
//!   durations by phase for the live chart (uPlot, vendored under `assets/vendor/uplot`).
#![warn(missing_docs)]

mod api;
mod assets;
mod auth;
mod backends;
mod config;
mod error;
mod sampler;

use std::future::Future;

use galaxy_storage::Stores;

pub use api::drift_level;
pub use backends::Backends;
pub use config::{ConfigError, DEFAULT_ADMIN_PASSWORD, DashboardConfig};
pub use error::ApiError;
pub use sampler::{TimingSample, Timings};

/// Why the dashboard could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A service URL is not a URL.
    #[error("{service} URL {url:?}: {reason}")]
    BadUrl {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The first admin could not be created.
    #[error("creating the first admin {username:?}: {source}")]
    FirstAdmin {
        /// The configured name.
        username: String,
        /// Why.
        source: galaxy_players::PlayersError,
    },
    /// Serving failed.
    #[error(transparent)]
    Runtime(#[from] galaxy_runtime::RuntimeError),
    /// The listener failed.
    #[error("serving http: {0}")]
    Io(#[from] std::io::Error),
}

/// Makes sure the configured first admin exists in `stores` (never promoting a player account).
pub async fn ensure_first_admin(config: &DashboardConfig, stores: &Stores) -> Result<(), DashboardError> {
    let accounts = galaxy_players::PlayerAccounts::new(
        stores.database.clone(),
        stores.bus.clone(),
        galaxy_players::PlayersConfig::default(),
    );
    accounts
        .ensure_admin(&config.admin_username, &config.admin_password)
        .await
        .map_err(|source| DashboardError::FirstAdmin { username: config.admin_username.clone(), source })?;
    if config.admin_password == DEFAULT_ADMIN_PASSWORD {
        tracing::warn!(username = %config.admin_username, "the first admin has the default password (development only)");
    }
    Ok(())
}

/// The dashboard's routes (`/admin/*` plus `/livez`, `/readyz`, `/metrics`), with the sampler
/// running until `shutdown` resolves.
pub fn router(
    config: &DashboardConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<axum::Router, DashboardError> {
    let backends = Backends::connect_lazy(config)?;
    let timings = Timings::default();
    tokio::spawn(sampler::run(backends.clone(), timings.clone(), shutdown));
    let state = api::AppState { backends, timings, secure_cookie: config.production };
    let readiness = galaxy_runtime::always_ready();
    Ok(api::routes(state).merge(galaxy_runtime::ops_router(readiness)?))
}

/// Checks the configuration, creates the first admin, and serves on `listener` until
/// `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: DashboardConfig,
    stores: Stores,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DashboardError> {
    config.validate()?;
    ensure_first_admin(&config, &stores).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
        let _ = receiver.wait_for(|stop| *stop).await;
    };
    let router = router(&config, until_stopped(stopped.clone()))?;
    tracing::info!(address = ?listener.local_addr().ok(), "admin dashboard serving /admin/");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await?;
    Ok(())
}
