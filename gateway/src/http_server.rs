//! The gateway's HTTP/1.1 accept loop: `axum::serve` without a header-read timeout, which lets a
//! slowloris client (one that drips its request a byte at a time) hold a socket forever.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long to wait before accepting again after an error that is not one connection's (such
/// as running out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits for
/// the connections still answering requests (upgraded WebSockets are no longer this loop's).
/// Handlers see the client address as [`ConnectInfo<SocketAddr>`].
pub(crate) async fn serve_http(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // Dropped when shutting down: every connection task sees it and shuts down gracefully.
    let (stop_sender, stop_receiver) = watch::channel(());
    // Each connection task holds a clone; `closed()` resolves when the last one has finished.
    let (finished_sender, finished_receiver) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    tracing::error!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        // Small writes (WebSocket states, acknowledgements) go out at once.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        }));
        let mut stop = stop_receiver.clone();
        let finished = finished_receiver.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_connection_end(remote, result),
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_connection_end(remote, connection.await);
                }
            }
            drop(finished);
        });
    }
    drop(listener);
    drop(stop_sender);
    drop(finished_receiver);
    finished_sender.closed().await;
    Ok(())
}

fn log_connection_end(remote: SocketAddr, result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // Header-read timeouts, resets and malformed requests: the client's doing, not ours.
        tracing::debug!(%remote, %error, "HTTP connection ended with an error");
    }
}

/// Errors that concern only the connection being accepted; the listener itself is fine.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}
