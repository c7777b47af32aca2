//! Test fixtures: a fresh PostgreSQL database or Redis key space per test (so tests run in
//! parallel against the machine's shared servers), a time bound for every test, and a TCP proxy
//! that can make a server hang or vanish without touching the shared server itself.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::time::Duration;

use galaxy_storage::{Database, MemoryDatabase, PostgresConfig, PostgresStore, RedisConfig, RedisStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The machine's PostgreSQL (trust auth), through its maintenance database.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The machine's Redis.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// No test may take longer than this, however the servers behave.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(60);

/// A random lowercase hex suffix for database names and key prefixes.
pub fn unique_suffix() -> String {
    // RandomState is seeded from the OS per instance: random enough to keep parallel tests apart.
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

/// Runs `body` on the runtime within [`TEST_TIME_LIMIT`], then runs `cleanup` whatever happened,
/// then re-raises the body's panic, if any.
async fn run_bounded_then_clean_up<Body, Cleanup>(body: Body, cleanup: Cleanup)
where
    Body: Future<Output = ()> + Send + 'static,
    Cleanup: Future<Output = ()>,
{
    let task = tokio::spawn(body);
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(TEST_TIME_LIMIT, task).await;
    abort.abort();
    cleanup.await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join_error)) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
        Ok(Err(join_error)) => panic!("test task failed: {join_error}"),
        Err(_) => panic!("test took longer than {TEST_TIME_LIMIT:?}"),
    }
}

async fn postgres_admin_execute(sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.expect("connect to local postgresql");
    let connection_task = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    drop(client);
    let _ = connection_task.await;
}

/// Runs `body` with the settings of a brand-new, empty database, dropped afterwards.
pub async fn with_empty_database<Body, Done>(body: Body)
where
    Body: FnOnce(PostgresConfig) -> Done,
    Done: Future<Output = ()> + Send + 'static,
{
    let name = format!("galaxy_test_{}", unique_suffix());
    postgres_admin_execute(&format!("CREATE DATABASE {name}")).await;
    let config = PostgresConfig::new(format!("postgres://postgres@127.0.0.1:5432/{name}"));
    // FORCE: a test that failed half-way may still hold connections.
    run_bounded_then_clean_up(
        body(config),
        postgres_admin_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
    )
    .await;
}

/// Runs `body` with a store connected (and migrated) to a brand-new database, dropped afterwards.
pub async fn with_test_database<Body, Done>(body: Body)
where
    Body: FnOnce(PostgresStore) -> Done + Send + 'static,
    Done: Future<Output = ()> + Send + 'static,
{
    with_empty_database(|config| async move {
        let store = PostgresStore::connect(&config).await.expect("connect to the test database");
        body(store.clone()).await;
        store.close();
    })
    .await;
}

/// Runs `body` twice: on a fresh PostgreSQL database, then on a fresh in-memory database — the
/// one-process mode's stand-in must follow the same rules.
pub async fn with_each_database<Body, Done>(body: Body)
where
    Body: Fn(Database) -> Done + Send + Sync + Clone + 'static,
    Done: Future<Output = ()> + Send + 'static,
{
    let on_postgres = body.clone();
    with_test_database(move |store| on_postgres(Database::Postgres(store))).await;
    run_bounded_then_clean_up(body(Database::Memory(MemoryDatabase::new())), async {}).await;
}

/// Settings for the local Redis in a key space of its own.
pub fn test_redis_config() -> RedisConfig {
    RedisConfig::new(REDIS_URL, format!("test_{}", unique_suffix()))
}

/// Runs `body` with a store in a fresh key space of the local Redis, whose keys are deleted afterwards.
pub async fn with_test_redis<Body, Done>(config: RedisConfig, body: Body)
where
    Body: FnOnce(RedisStore) -> Done,
    Done: Future<Output = ()> + Send + 'static,
{
    let store = RedisStore::connect(&config).await.expect("connect to local redis");
    let cleanup_store = store.clone();
    run_bounded_then_clean_up(body(store), async move {
        cleanup_store.delete_all_keys().await.expect("delete the test's keys");
        let _ = cleanup_store.quit().await;
    })
    .await;
}

/// Asserts `future` finishes within `limit` and returns its output.
pub async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

/// What [`FlakyProxy`] does with its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forwards bytes both ways, like a working network.
    Forward,
    /// Holds every connection open and answers nothing, like a hung server or a lost network.
    Hang,
    /// Closes every connection and refuses new ones, like a stopped server.
    Cut,
}

/// A TCP proxy in front of a real server that can hang or cut its connections on demand, so
/// tests can break "the server" without touching the machine's shared one.
#[derive(Debug)]
pub struct FlakyProxy {
    /// Where clients connect.
    pub address: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    /// Starts forwarding from a free local port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let address = listener.local_addr().expect("local address");
        let (mode, mode_receiver) = watch::channel(ProxyMode::Forward);
        let accept_task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve_connection(client, upstream, mode_receiver.clone()));
            }
        });
        FlakyProxy { address, mode, accept_task }
    }

    /// Switches every current and future connection to `mode`.
    pub fn set_mode(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.set_mode(ProxyMode::Cut);
    }
}

async fn serve_connection(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<ProxyMode>) {
    let mut server: Option<TcpStream> = None;
    loop {
        let current = *mode.borrow_and_update();
        match current {
            ProxyMode::Cut => return,
            ProxyMode::Hang => {
                // Keep both sockets open, read nothing, answer nothing.
                if mode.changed().await.is_err() {
                    return;
                }
            }
            ProxyMode::Forward => {
                if server.is_none() {
                    match TcpStream::connect(upstream).await {
                        Ok(stream) => server = Some(stream),
                        Err(_) => return,
                    }
                }
                let Some(server_stream) = server.as_mut() else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, server_stream) => return,
                    changed = mode.changed() => if changed.is_err() { return },
                }
            }
        }
    }
}

/// A local port that accepts TCP connections and never sends a byte: a server that hangs during
/// the handshake.
pub async fn silent_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (address, task)
}
