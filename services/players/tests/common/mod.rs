//! Test fixtures: a players service over real gRPC on a loopback port, backed by a fresh
//! PostgreSQL database of its own on the machine's server (dropped afterwards), so tests run in
//! parallel and leave nothing behind.

// Each test binary uses only some of these helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use galaxy_players::{PlayerAccounts, PlayersConfig, PlayersServer, PlayersService};
use galaxy_proto::v1;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_storage::{Database, EventBus, MemoryBus, PostgresConfig, PostgresStore};
use tonic::transport::Channel;

/// The machine's PostgreSQL (trust auth), through its maintenance database.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// No test may take longer than this, however the server behaves.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(60);
/// A password every test account uses unless it tests passwords.
pub const PASSWORD: &str = "correct horse battery";

/// What a test gets: a gRPC client, the store behind the service (to ban, or to check rows),
/// and the registrations flag the galaxy service would own.
#[derive(Debug, Clone)]
pub struct Harness {
    /// A client connected to the service over loopback TCP.
    pub client: PlayersClient<Channel>,
    /// The store the service uses.
    pub store: PostgresStore,
    /// The test database's name (to drop it mid-test).
    pub database: String,
    /// Where submitted commands are queued (in memory here; Redis in the pipeline tests).
    pub bus: EventBus,
}

impl Harness {
    /// Opens or closes registrations the way the galaxy service does: in the stored game configuration.
    pub async fn set_registrations_open(&self, open: bool) {
        let mut config = self.store.load_config().await.unwrap().config;
        config.registrations_open = open;
        self.store.save_config(&config).await.unwrap();
    }

    /// Registers `username` with [`PASSWORD`].
    pub async fn register(&mut self, username: &str) -> v1::Session {
        self.client
            .register(v1::RegisterRequest { username: username.into(), password: PASSWORD.into() })
            .await
            .unwrap_or_else(|status| panic!("register {username}: {status:?}"))
            .into_inner()
    }

    /// Logs in; the raw result, to check error statuses.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<v1::Session, tonic::Status> {
        self.client
            .login(v1::LoginRequest { username: username.into(), password: password.into() })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Validates a token; the raw result.
    pub async fn validate(&mut self, token: &str) -> Result<v1::PlayerIdentity, tonic::Status> {
        self.client
            .validate_session(v1::ValidateSessionRequest { token: token.into() })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// A random lowercase hex suffix for database names.
pub fn unique_suffix() -> String {
    // RandomState is seeded from the OS per instance: random enough to keep parallel tests apart.
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

/// Store settings with short timeouts, so outage tests finish quickly.
pub fn store_config(database: &str) -> PostgresConfig {
    PostgresConfig {
        connect_timeout: Duration::from_millis(1_000),
        pool_wait_timeout: Duration::from_millis(1_000),
        recycle_timeout: Duration::from_millis(1_000),
        query_timeout: Duration::from_millis(2_000),
        ..PostgresConfig::new(format!("postgres://postgres@127.0.0.1:5432/{database}"))
    }
}

/// Runs an SQL batch on the maintenance database.
pub async fn postgres_admin_execute(sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.expect("connect to local postgresql");
    let connection_task = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap_or_else(|error| panic!("{sql}: {error}"));
    drop(client);
    let _ = connection_task.await;
}

/// Runs `body` against a players service configured by `config` (its registrations flag is
/// replaced by a fresh one in the harness), over a fresh database dropped afterwards even if
/// `body` panics or hangs.
pub async fn with_players<Body, Done>(config: PlayersConfig, body: Body)
where
    Body: FnOnce(Harness) -> Done + Send + 'static,
    Done: Future<Output = ()> + Send + 'static,
{
    let database = format!("galaxy_players_{}", unique_suffix());
    postgres_admin_execute(&format!("CREATE DATABASE {database}")).await;
    let test = {
        let database = database.clone();
        async move {
            let store = PostgresStore::connect(&store_config(&database)).await.expect("connect to the test database");
            let bus = EventBus::Memory(MemoryBus::new(1000));
            let accounts = Arc::new(PlayerAccounts::new(Database::Postgres(store.clone()), bus.clone(), config));
            let client = serve(accounts).await;
            body(Harness { client, store: store.clone(), database, bus }).await;
            store.close();
        }
    };
    let task = tokio::spawn(test);
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(TEST_TIME_LIMIT, task).await;
    abort.abort();
    // FORCE: the service's pool may still hold connections.
    postgres_admin_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join_error)) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
        Ok(Err(join_error)) => panic!("test task failed: {join_error}"),
        Err(_) => panic!("test took longer than {TEST_TIME_LIMIT:?}"),
    }
}

/// Serves `accounts` on a free loopback port and returns a connected client.
pub async fn serve(accounts: Arc<PlayerAccounts>) -> PlayersClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(PlayersServer::new(PlayersService::new(accounts)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    PlayersClient::connect(format!("http://{address}")).await.unwrap()
}

/// Asserts `result` failed with `code`, and returns the status for further checks.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: tonic::Code) -> tonic::Status {
    match result {
        Err(status) if status.code() == code => status,
        other => panic!("expected {code:?}, got {other:?}"),
    }
}
