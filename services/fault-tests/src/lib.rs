//! The fault tests' harness: the real service binaries started as child processes
//! ([`Service`]), each test in a PostgreSQL database and a Redis key space of its own
//! ([`fault_test`]), a Redis server of its own on a spare port ([`OwnRedis`]) and a TCP proxy that
//! can cut a store off without touching the machine's shared server ([`CutProxy`]).
//!
//! Every test is bounded in time: when the bound passes, or the test panics, its child processes
//! are killed, its database dropped and its Redis keys deleted, and the tail of every service's
//! log is printed.

#![warn(missing_docs)]

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use galaxy_storage::{GameConfig, PostgresConfig, PostgresStore, RedisConfig, RedisStore, StreamEntryId, StreamName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic::transport::{Channel, Endpoint};

/// The machine's PostgreSQL (trust authentication), through its maintenance database.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The machine's PostgreSQL, for the test databases.
pub const POSTGRES_ADDRESS: &str = "127.0.0.1:5432";
/// The machine's shared Redis (tests use key spaces of their own on it, never stop it).
pub const SHARED_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// No fault test may run longer than this, whatever the services do.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(55);
/// Longest wait for a started service to answer.
pub const START_TIME_LIMIT: Duration = Duration::from_secs(15);

/// Where the service binaries are. Build it with [`binaries!`] in a test of this package.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `galaxy-physics` (services/physics/src/main.rs).
    pub physics: PathBuf,
    /// `galaxy-tick-engine` (services/tick-engine/src/main.rs).
    pub tick_engine: PathBuf,
    /// `galaxy-players` (services/players/src/main.rs).
    pub players: PathBuf,
    /// `galaxy-galaxy` (services/galaxy/src/main.rs).
    pub galaxy: PathBuf,
    /// `galaxy-api-gateway` (gateway/src/main.rs).
    pub gateway: PathBuf,
}

/// The service binaries Cargo built for this package's tests (`CARGO_BIN_EXE_*` exists only
/// while a test or bench of this package compiles, hence a macro).
#[macro_export]
macro_rules! binaries {
    () => {
        $crate::Binaries {
            physics: env!("CARGO_BIN_EXE_fault-physics").into(),
            tick_engine: env!("CARGO_BIN_EXE_fault-tick-engine").into(),
            players: env!("CARGO_BIN_EXE_fault-players").into(),
            galaxy: env!("CARGO_BIN_EXE_fault-galaxy").into(),
            gateway: env!("CARGO_BIN_EXE_fault-api-gateway").into(),
        }
    };
}

/// A random lowercase hex suffix for database names, key prefixes and folders.
#[must_use]
pub fn unique_suffix() -> String {
    // RandomState is seeded from the OS per instance: random enough to keep parallel tests apart.
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

/// A loopback port free at the time of the call (the child binds it a moment later).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free local port");
    listener.local_addr().expect("local address").port()
}

/// Polls `probe` every 50 ms until it gives `Some`, for at most `limit`; panics naming `what`.
pub async fn eventually<T, Probe, Done>(what: &str, limit: Duration, mut probe: Probe) -> T
where
    Probe: FnMut() -> Done,
    Done: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A service binary running as a child process, its output in a log file. Killed (SIGKILL)
/// when dropped, so a failed or timed-out test leaves nothing running.
#[derive(Debug)]
pub struct Service {
    name: String,
    child: Child,
    /// Its gRPC or HTTP port on 127.0.0.1.
    pub port: u16,
    /// Its operations port (/livez, /readyz, /metrics) on 127.0.0.1.
    pub ops_port: u16,
    log: PathBuf,
}

impl Service {
    /// Starts `binary` with exactly the environment `env` (plus `LISTEN_ADDR`, `METRICS_ADDR`
    /// and `RUST_LOG`), its output appended to `<logs>/<name>.log`.
    pub async fn start(name: &str, binary: &Path, port: u16, env: &[(String, String)], logs: &Path) -> Service {
        let ops_port = free_port().await;
        let log = logs.join(format!("{name}.log"));
        let file =
            std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the service's log file");
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{ops_port}"))
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the log file handle"))
            .stderr(file);
        let child = command.spawn().unwrap_or_else(|error| panic!("start {}: {error}", binary.display()));
        Service { name: name.to_owned(), child, port, ops_port, log }
    }

    /// The service's name in this test.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A lazily connected gRPC channel to the service (reconnects on its own).
    #[must_use]
    pub fn channel(&self) -> Channel {
        Endpoint::from_shared(self.url())
            .expect("a loopback URL")
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(10))
            .connect_lazy()
    }

    /// Panics with the log's tail if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail(40));
        }
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills the process at once (SIGKILL: no shutdown code runs) and reaps it.
    pub async fn kill(&mut self) {
        kill_and_reap(&mut self.child).await;
    }

    /// Asks the process to stop (SIGTERM: graceful shutdown) and waits up to `limit` for it.
    pub async fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        match wait_for_exit(&mut self.child, limit).await {
            Some(status) => status,
            None => panic!("{} did not stop within {limit:?} of SIGTERM:\n{}", self.name, self.log_tail(40)),
        }
    }

    /// The process's resident memory (VmRSS), bytes; `None` once it has exited.
    #[must_use]
    pub fn resident_memory_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kilobytes * 1024)
    }

    /// The last `lines` lines of the service's log.
    #[must_use]
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// The whole log so far.
    #[must_use]
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls for the child's exit (without blocking the runtime) for at most `limit`.
async fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = wait_for_exit(child, Duration::from_secs(10)).await;
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What a fault test runs against: a fresh PostgreSQL database (reached at `database_url`,
/// which a test may point through a [`CutProxy`]), a Redis key space, and a folder for logs.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The service binaries.
    pub binaries: Binaries,
    /// The test database's name.
    pub database: String,
    /// What the services get as `DATABASE_URL`.
    pub database_url: String,
    /// What the services get as `REDIS_URL`.
    pub redis_url: String,
    /// What the services get as `REDIS_KEY_PREFIX`.
    pub key_prefix: String,
    /// Extra environment for every service (timeouts, snapshot interval).
    pub extra_env: Vec<(String, String)>,
    /// Where the services' logs go.
    pub logs: PathBuf,
}

impl Deployment {
    /// The test database on the machine's server, directly (not through any proxy).
    #[must_use]
    pub fn direct_database_url(&self) -> String {
        format!("postgres://postgres@{POSTGRES_ADDRESS}/{}", self.database)
    }

    fn store_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("DATABASE_URL".to_owned(), self.database_url.clone()),
            ("REDIS_URL".to_owned(), self.redis_url.clone()),
            ("REDIS_KEY_PREFIX".to_owned(), self.key_prefix.clone()),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// Sets an extra environment variable for services started from now on.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.extra_env.retain(|(existing, _)| existing != name);
        self.extra_env.push((name.to_owned(), value.to_owned()));
    }

    /// Starts `galaxy-physics` on `port` (0: a free one) and waits until it answers.
    pub async fn start_physics(&self, name: &str, port: u16) -> Service {
        let port = if port == 0 { free_port().await } else { port };
        let mut service = Service::start(name, &self.binaries.physics, port, &self.store_env(), &self.logs).await;
        let channel = service.channel();
        wait_until_answering(&mut service, async move || {
            PhysicsClient::new(channel.clone()).get_world_status(v1::GetWorldStatusRequest {}).await.is_ok()
        })
        .await;
        service
    }

    /// Starts `galaxy-tick-engine` driving `physics` and waits until its control service answers
    /// (it may be ticking or in standby).
    pub async fn start_tick_engine(&self, name: &str, physics: &Service) -> Service {
        let mut env = self.store_env();
        env.push(("PHYSICS_URL".to_owned(), physics.url()));
        let port = free_port().await;
        let mut service = Service::start(name, &self.binaries.tick_engine, port, &env, &self.logs).await;
        let channel = service.channel();
        wait_until_answering(&mut service, async move || {
            TickEngineClient::new(channel.clone()).get_status(v1::GetStatusRequest {}).await.is_ok()
        })
        .await;
        service
    }

    /// Starts `galaxy-players` keeping ships flying in `physics`, and waits until it answers.
    pub async fn start_players(&self, name: &str, physics: &Service) -> Service {
        let mut env = self.store_env();
        env.push(("PHYSICS_URL".to_owned(), physics.url()));
        let port = free_port().await;
        let mut service = Service::start(name, &self.binaries.players, port, &env, &self.logs).await;
        let channel = service.channel();
        wait_until_answering(&mut service, async move || {
            let answer = PlayersClient::new(channel.clone())
                .validate_session(v1::ValidateSessionRequest { token: String::new() })
                .await;
            // Any answer but "unreachable" means it serves.
            !matches!(answer, Err(status) if status.code() == tonic::Code::Unavailable)
        })
        .await;
        service
    }

    /// Starts `galaxy-galaxy` and waits until it answers.
    pub async fn start_galaxy(&self, name: &str) -> Service {
        let port = free_port().await;
        let mut service = Service::start(name, &self.binaries.galaxy, port, &self.store_env(), &self.logs).await;
        let channel = service.channel();
        wait_until_answering(&mut service, async move || {
            GalaxyClient::new(channel.clone()).get_config(v1::GetConfigRequest {}).await.is_ok()
        })
        .await;
        service
    }

    /// Starts `galaxy-api-gateway` in front of `players`, `physics` and `galaxy`, and waits
    /// until it accepts connections.
    pub async fn start_gateway(&self, name: &str, players: &Service, physics: &Service, galaxy: &Service) -> Service {
        let mut env = self.store_env();
        env.push(("PLAYERS_URL".to_owned(), players.url()));
        env.push(("PHYSICS_URL".to_owned(), physics.url()));
        env.push(("GALAXY_URL".to_owned(), galaxy.url()));
        env.push(("GALAXY_LOGINS_PER_MINUTE".to_owned(), "1000".to_owned()));
        let port = free_port().await;
        let mut service = Service::start(name, &self.binaries.gateway, port, &env, &self.logs).await;
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        wait_until_answering(&mut service, async move || TcpStream::connect(address).await.is_ok()).await;
        service
    }
}

/// The whole game as separate processes.
#[derive(Debug)]
pub struct Game {
    /// `galaxy-physics`.
    pub physics: Service,
    /// `galaxy-tick-engine`, driving `physics`.
    pub tick_engine: Service,
    /// `galaxy-players`.
    pub players: Service,
    /// `galaxy-galaxy`.
    pub galaxy: Service,
    /// `galaxy-api-gateway`, in front of the others.
    pub gateway: Service,
}

impl Deployment {
    /// Starts physics, the tick-engine, players, galaxy and the gateway, each once the services
    /// it needs answer.
    pub async fn start_game(&self) -> Game {
        let physics = self.start_physics("physics", 0).await;
        let tick_engine = self.start_tick_engine("tick-engine", &physics).await;
        let players = self.start_players("players", &physics).await;
        let galaxy = self.start_galaxy("galaxy").await;
        let gateway = self.start_gateway("gateway", &players, &physics, &galaxy).await;
        Game { physics, tick_engine, players, galaxy, gateway }
    }
}

async fn wait_until_answering(service: &mut Service, mut answers: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    loop {
        service.assert_running();
        if answers().await {
            return;
        }
        assert!(
            started.elapsed() < START_TIME_LIMIT,
            "{} did not answer within {START_TIME_LIMIT:?}:\n{}",
            service.name,
            service.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
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

/// The game settings a fault test starts with: fast ticks so a test sees many of them.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Ticks per second.
    pub tick_rate_hz: f64,
    /// Game seconds per wall second.
    pub time_scale: f64,
}

impl Default for Settings {
    /// 20 Hz at 20× (one game second per tick).
    fn default() -> Self {
        Settings { tick_rate_hz: 20.0, time_scale: 20.0 }
    }
}

/// Runs a fault test: creates a database (migrated, with `settings` stored as the game
/// configuration) and a Redis key space on the shared Redis, runs `body` within
/// [`TEST_TIME_LIMIT`], then — whatever happened — drops the database, deletes the keys and, on
/// failure, prints the tail of every service's log.
pub async fn fault_test<Body, Done>(binaries: Binaries, settings: Settings, body: Body)
where
    Body: FnOnce(Deployment) -> Done,
    Done: Future<Output = ()> + Send + 'static,
{
    let suffix = unique_suffix();
    let database = format!("galaxy_fault_{suffix}");
    let logs = std::env::temp_dir().join(format!("galaxy-fault-{suffix}"));
    std::fs::create_dir_all(&logs).expect("create the log folder");
    postgres_admin_execute(&format!("CREATE DATABASE {database}")).await;
    let deployment = Deployment {
        binaries,
        database: database.clone(),
        database_url: format!("postgres://postgres@{POSTGRES_ADDRESS}/{database}"),
        redis_url: SHARED_REDIS_URL.to_owned(),
        key_prefix: format!("fault-{suffix}"),
        extra_env: Vec::new(),
        logs: logs.clone(),
    };
    {
        // Migrate and store the settings before any service reads them.
        let store = PostgresStore::connect(&PostgresConfig::new(deployment.direct_database_url()))
            .await
            .expect("connect to the test database");
        let config = GameConfig {
            tick_rate_hz: settings.tick_rate_hz,
            time_scale: settings.time_scale,
            ..GameConfig::default()
        };
        store.save_config(&config).await.expect("store the game settings");
        store.close();
    }
    let key_space = RedisConfig::new(SHARED_REDIS_URL, deployment.key_prefix.clone());
    let task = tokio::spawn(body(deployment));
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(TEST_TIME_LIMIT, task).await;
    // Aborting drops the test's futures, and with them its child processes (killed on drop).
    abort.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;
    postgres_admin_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
    if let Ok(store) = RedisStore::connect(&key_space).await {
        let _ = store.delete_all_keys().await;
        let _ = store.quit().await;
    }
    let failed = !matches!(outcome, Ok(Ok(())));
    if failed {
        print_logs(&logs);
    } else {
        let _ = std::fs::remove_dir_all(&logs);
    }
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join_error)) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
        Ok(Err(join_error)) => panic!("test task failed: {join_error}"),
        Err(_) => panic!("test took longer than {TEST_TIME_LIMIT:?}"),
    }
}

fn print_logs(logs: &Path) {
    let Ok(entries) = std::fs::read_dir(logs) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    paths.sort();
    for path in paths {
        eprintln!("----- {} (last 60 lines) -----\n{}", path.display(), tail(&path, 60));
    }
    eprintln!("(logs kept in {})", logs.display());
}

/// A completed tick as the `tick.completed` stream holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedTick {
    /// Tick number.
    pub tick: u64,
    /// Game time after it, s.
    pub game_time: f64,
    /// Physics' state hash after it.
    pub state_hash: String,
}

/// Reads the `tick.completed` stream of `key_prefix` on the Redis at `redis_url`.
pub async fn streamed_ticks(redis_url: &str, key_prefix: &str) -> Vec<StreamedTick> {
    let store = RedisStore::connect(&RedisConfig::new(redis_url, key_prefix)).await.expect("connect to redis");
    let entries = store
        .read_stream(StreamName::TickCompleted, &StreamEntryId::beginning(), 1_000_000)
        .await
        .expect("read stream");
    let _ = store.quit().await;
    let text = |entry: &galaxy_storage::StreamEntry, name: &str| -> String {
        let bytes = entry.fields.get(name).unwrap_or_else(|| panic!("tick.completed entry without {name}"));
        String::from_utf8(bytes.to_vec()).expect("text field")
    };
    entries
        .iter()
        .map(|entry| StreamedTick {
            tick: text(entry, "tick").parse().expect("a tick number"),
            game_time: text(entry, "game_time").parse().expect("a game time"),
            state_hash: text(entry, "state_hash"),
        })
        .collect()
}

/// The tick numbers in the test database's tick log, in order.
pub async fn logged_ticks(deployment: &Deployment) -> Vec<u64> {
    let (client, connection) = tokio_postgres::connect(&deployment.direct_database_url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    let connection_task = tokio::spawn(connection);
    let rows = client.query("SELECT tick FROM tick_log ORDER BY tick", &[]).await.expect("read the tick log");
    drop(client);
    let _ = connection_task.await;
    rows.iter().map(|row| u64::try_from(row.get::<_, i64>(0)).expect("a non-negative tick")).collect()
}

/// Numbers in `ticks` (ascending expected) that repeat, and the numbers missing between the
/// first and the last.
#[must_use]
pub fn duplicates_and_gaps(ticks: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut duplicates = Vec::new();
    let mut gaps = Vec::new();
    for pair in ticks.windows(2) {
        let (previous, next) = (pair[0], pair[1]);
        if next <= previous {
            duplicates.push(next);
        } else {
            gaps.extend(previous + 1..next);
        }
    }
    (duplicates, gaps)
}

/// A `redis-server` of the test's own on a spare port (no persistence), to kill and restart
/// without touching the machine's shared Redis. Killed when dropped.
#[derive(Debug)]
pub struct OwnRedis {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
    folder: PathBuf,
}

impl OwnRedis {
    /// Starts one on a free port, its working folder under `logs`.
    pub async fn start(logs: &Path) -> OwnRedis {
        let port = free_port().await;
        let folder = logs.join(format!("redis-{port}"));
        std::fs::create_dir_all(&folder).expect("create redis' folder");
        let mut redis = OwnRedis { port, child: None, folder };
        redis.restart().await;
        redis
    }

    /// `redis://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: everything it held is gone, as nothing is persisted).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child).await;
        }
    }

    /// Starts it again on the same port (empty) and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill().await;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.folder.join("redis.log"))
            .expect("open redis' log");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.folder)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start redis-server (is it installed?)");
        self.child = Some(child);
        let address: SocketAddr = ([127, 0, 0, 1], self.port).into();
        eventually("own redis-server answers", START_TIME_LIMIT, || async {
            let mut stream = TcpStream::connect(address).await.ok()?;
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream.write_all(b"PING\r\n").await.ok()?;
            let mut answer = [0_u8; 7];
            stream.read_exact(&mut answer).await.ok()?;
            (&answer == b"+PONG\r\n").then_some(())
        })
        .await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What [`CutProxy`] does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forwards bytes both ways.
    Forward,
    /// Closes every open connection and every new one at once, like a stopped server.
    Cut,
}

/// A TCP proxy in front of a real server that can cut every connection on demand, so a test
/// can take "PostgreSQL" away from the services without touching the machine's server.
#[derive(Debug)]
pub struct CutProxy {
    /// Where clients connect.
    pub address: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// Starts forwarding from a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let address = listener.local_addr().expect("local address");
        let (mode, mode_receiver) = watch::channel(ProxyMode::Forward);
        let accept_task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, upstream, mode_receiver.clone()));
            }
        });
        CutProxy { address, mode, accept_task }
    }

    /// Switches every current and future connection to `mode`.
    pub fn set_mode(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.set_mode(ProxyMode::Cut);
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<ProxyMode>) {
    if *mode.borrow_and_update() == ProxyMode::Cut {
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = mode.wait_for(|mode| *mode == ProxyMode::Cut) => {}
    }
}
