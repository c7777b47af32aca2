//! Process plumbing every Galaxy binary shares, so each `main.rs` stays a few lines:
//! structured logs ([`init_tracing`]), the shutdown signal ([`shutdown_signal`]), and the
//! operations endpoints — `/livez`, `/readyz` and Prometheus `/metrics` ([`ops_router`]).
//!
//! Histograms are exported with fixed buckets ([`DURATION_BUCKETS`]) rather than summaries, so
//! the series of several pods add up in Prometheus.

#![warn(missing_docs)]

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Why process set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// An environment variable holds something unusable.
    #[error("{variable}: {reason}")]
    BadVariable {
        /// The variable.
        variable: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The metrics recorder could not be installed.
    #[error("installing the metrics recorder: {0}")]
    Metrics(String),
    /// A listener could not be bound.
    #[error("binding {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Bucket bounds, in seconds, of every duration histogram: 100 µs to 10 s, about ×2.5 apart.
pub const DURATION_BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Safe to call more than once.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests, the one-process binary) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends before killing a pod).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

/// The process's Prometheus recorder, installed on first use (one per process: the one-process
/// binary's services all report into it).
pub fn metrics_handle() -> Result<PrometheusHandle, RuntimeError> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&DURATION_BUCKETS)
        .map_err(|error| RuntimeError::Metrics(error.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            let _ = HANDLE.set(handle.clone());
            Ok(handle)
        }
        // Another thread won the race: use its recorder.
        Err(_) => {
            HANDLE.get().cloned().ok_or_else(|| RuntimeError::Metrics("a different recorder is installed".into()))
        }
    }
}

/// A readiness check: `Ok` when the service can do its job (its stores and peers answer).
pub type Readiness = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync + 'static>;

/// A readiness check that always passes.
#[must_use]
pub fn always_ready() -> Readiness {
    Arc::new(|| Box::pin(async { Ok(()) }))
}

/// Ready while both stores answer.
#[must_use]
pub fn stores_readiness(stores: galaxy_storage::Stores) -> Readiness {
    Arc::new(move || {
        let stores = stores.clone();
        Box::pin(async move { stores.ping().await.map_err(|error| error.to_string()) })
    })
}

/// `/livez` (200 while the process runs), `/readyz` (200 when `readiness` passes, else 503 with
/// the reason) and `/metrics` (Prometheus text format).
pub fn ops_router(readiness: Readiness) -> Result<Router, RuntimeError> {
    let handle = metrics_handle()?;
    Ok(Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let readiness = Arc::clone(&readiness);
                async move {
                    match readiness().await {
                        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
                        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")),
                    }
                }
            }),
        )
        .route("/metrics", get(move || std::future::ready(handle.render()))))
}

/// Serves `router` on `address` until `shutdown` resolves.
pub async fn serve_http(
    address: SocketAddr,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    let listener =
        tokio::net::TcpListener::bind(address).await.map_err(|source| RuntimeError::Bind { address, source })?;
    tracing::info!(%address, "serving http");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| RuntimeError::Bind { address, source })
}

/// How often a gRPC server re-checks its readiness for the standard health service.
const HEALTH_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves `routes` plus the standard gRPC health service (`grpc.health.v1.Health`, overall
/// service `""`: SERVING while `readiness` passes) on `listener` until `shutdown` resolves.
pub async fn serve_grpc(
    listener: tokio::net::TcpListener,
    routes: tonic::service::Routes,
    readiness: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    let address =
        listener.local_addr().map_err(|source| RuntimeError::Bind { address: ([0, 0, 0, 0], 0).into(), source })?;
    let (reporter, health) = tonic_health::server::health_reporter();
    let checker = tokio::spawn(async move {
        let mut last = None;
        loop {
            let ready = readiness().await;
            let status = if ready.is_ok() {
                tonic_health::ServingStatus::Serving
            } else {
                tonic_health::ServingStatus::NotServing
            };
            if last != Some(status) {
                if let Err(reason) = &ready {
                    tracing::warn!(%reason, "not ready");
                }
                reporter.set_service_status("", status).await;
                last = Some(status);
            }
            tokio::time::sleep(HEALTH_CHECK_INTERVAL).await;
        }
    });
    tracing::info!(%address, "serving grpc");
    let served = tonic::transport::Server::builder()
        .add_routes(routes.add_service(health))
        .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), shutdown)
        .await;
    checker.abort();
    served.map_err(|error| RuntimeError::Bind { address, source: std::io::Error::other(error) })
}

/// Binds `address`; if it is taken and `fall_back_to_any_port`, binds a free port on the same
/// host instead (the one-process binary, when a second copy runs).
pub async fn bind(address: SocketAddr, fall_back_to_any_port: bool) -> Result<tokio::net::TcpListener, RuntimeError> {
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if fall_back_to_any_port && error.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(address.ip(), 0);
            let listener = tokio::net::TcpListener::bind(any)
                .await
                .map_err(|source| RuntimeError::Bind { address: any, source })?;
            tracing::warn!(wanted = %address, got = ?listener.local_addr().ok(), "port taken; using another");
            Ok(listener)
        }
        Err(source) => Err(RuntimeError::Bind { address, source }),
    }
}

/// The socket address in `variable`, or `default` when it is unset.
pub fn address_from_env(variable: &str, default: &str) -> Result<SocketAddr, RuntimeError> {
    let text = std::env::var(variable).unwrap_or_else(|_| default.to_owned());
    text.parse().map_err(|error: std::net::AddrParseError| RuntimeError::BadVariable {
        variable: variable.to_owned(),
        reason: format!("{text:?} is not a socket address ({error})"),
    })
}

/// The text in `variable`, or `default` when it is unset or empty.
#[must_use]
pub fn text_from_env(variable: &str, default: &str) -> String {
    std::env::var(variable).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| default.to_owned())
}
