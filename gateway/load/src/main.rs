//! `gateway-load`: load for Galaxy's api-gateway, on one machine.
//!
//! - `gateway-load stack` runs a stand-in game behind a gateway — physics (the solar system plus
//!   `--npc-ships` ships), players and galaxy over gRPC on their usual ports, in-memory accounts,
//!   and the tick loop — on a Redis key space, so a separately started `galaxy-api-gateway`
//!   (its own process, whose memory is then measurable) can follow it.
//! - `gateway-load clients` registers accounts through the gateway, holds `--clients` WebSockets,
//!   and reports the broadcast latency of `state` messages (from the tick's `tick.completed`
//!   entry, whose id is the Redis clock in ms, to the client's receipt), states per client, and
//!   the gateway's resident memory (`--gateway-pid`). With `--logins-per-second` it also logs in
//!   at that rate meanwhile and reports the latency before and during.
//!
//! ```sh
//! ulimit -n 65536
//! gateway-load stack --npc-ships 1000 &
//! REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=load galaxy-api-gateway &
//! gateway-load clients --clients 1000 --accounts 1000 --seconds 60 --gateway-pid $!
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use galaxy_engine::SimParams;
use galaxy_galaxy::{ConfigStore, GalaxyServer, GalaxyService};
use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
use galaxy_players::{PlayerAccounts, PlayersConfig, PlayersServer, PlayersService};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::{Database, EventBus, MemoryDatabase, RedisConfig, RedisStore, StreamEntryId, StreamName};
use galaxy_tick_engine::{GrpcPhysics, StoreTickSink, TickLoop, TickSettings};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, Parser)]
#[command(about = "Load for the Galaxy api-gateway: a stand-in game stack, and many WebSocket clients")]
struct Arguments {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Run physics, players, galaxy and the tick loop on a Redis key space (until Ctrl-C).
    Stack(StackArguments),
    /// Hold WebSocket clients against a running gateway and report latency and memory.
    Clients(ClientArguments),
}

#[derive(Debug, clap::Args)]
struct StackArguments {
    /// Redis to publish states and ticks on.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Redis key prefix (the gateway's REDIS_KEY_PREFIX).
    #[arg(long, default_value = "load")]
    prefix: String,
    /// Ships flying besides the players' (owned by nobody).
    #[arg(long, default_value_t = 1_000)]
    npc_ships: usize,
    /// Ticks per second.
    #[arg(long, default_value_t = 1.0)]
    tick_rate: f64,
    /// Game seconds per wall second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Physics gRPC address.
    #[arg(long, default_value = "127.0.0.1:8002")]
    physics: SocketAddr,
    /// Players gRPC address.
    #[arg(long, default_value = "127.0.0.1:8003")]
    players: SocketAddr,
    /// Galaxy gRPC address.
    #[arg(long, default_value = "127.0.0.1:8004")]
    galaxy: SocketAddr,
}

#[derive(Debug, clap::Args)]
struct ClientArguments {
    /// The gateway.
    #[arg(long, default_value = "127.0.0.1:8000")]
    gateway: SocketAddr,
    /// Redis the stack publishes on (to read when each tick completed).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Redis key prefix.
    #[arg(long, default_value = "load")]
    prefix: String,
    /// WebSocket clients to hold.
    #[arg(long, default_value_t = 1_000)]
    clients: usize,
    /// Accounts to register (clients share them round-robin).
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// How long to measure once every client is connected, s.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The gateway's process id, to report its memory.
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Also log in this many times per second during the second half of the run.
    #[arg(long, default_value_t = 0.0)]
    logins_per_second: f64,
    /// Clients connecting at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Each client's WebSocket read size, KiB: how much one read takes from the socket (a
    /// browser reads in large chunks; small reads cost this machine's shared cores syscalls).
    #[arg(long, default_value_t = 16)]
    read_buffer_kib: usize,
}

const PASSWORD: &str = "load test password";

#[tokio::main]
async fn main() -> Result<()> {
    match Arguments::parse().command {
        Mode::Stack(arguments) => stack(arguments).await,
        Mode::Clients(arguments) => clients(arguments).await,
    }
}

macro_rules! serve_grpc {
    ($address:expr, $service:expr) => {{
        let listener =
            tokio::net::TcpListener::bind($address).await.with_context(|| format!("binding {}", $address))?;
        let service = $service;
        tokio::spawn(async move {
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            if let Err(error) =
                tonic::transport::Server::builder().add_service(service).serve_with_incoming(incoming).await
            {
                eprintln!("a gRPC server stopped: {error}");
            }
        });
    }};
}

async fn stack(arguments: StackArguments) -> Result<()> {
    let redis = RedisStore::connect(&RedisConfig::new(arguments.redis_url.clone(), arguments.prefix.clone()))
        .await
        .context("connecting to Redis")?;
    redis.delete_all_keys().await.context("clearing the key space")?;
    let bus = EventBus::Redis(redis.clone());
    let database = Database::Memory(MemoryDatabase::new());
    let world = World::solar_system(SimParams::default(), SpawnOrbit::default()).context("building the world")?;
    serve_grpc!(
        arguments.physics,
        PhysicsServer::new(PhysicsService::with_stores(world, bus.clone(), database.clone()))
    );
    let physics = PhysicsClient::connect(format!("http://{}", arguments.physics)).await?;
    let config = PlayersConfig { commands_per_second: 1_000.0, command_burst: 1_000.0, ..PlayersConfig::default() };
    let accounts = Arc::new(PlayerAccounts::new(database.clone(), bus.clone(), config));
    serve_grpc!(arguments.players, PlayersServer::new(PlayersService::new(accounts).with_physics(physics.clone())));
    serve_grpc!(arguments.galaxy, GalaxyServer::new(GalaxyService::new(ConfigStore::new(database.clone()))));
    for index in 0..arguments.npc_ships {
        let request = v1::SpawnShipRequest {
            owner_id: "npc".into(),
            name: format!("npc_{index}"),
            class_name: if index % 3 == 0 { "cargo_hauler" } else { "fast_frigate" }.into(),
            ship_id: format!("npc-{index}"),
        };
        physics.clone().spawn_ship(request).await.context("spawning a ship")?;
    }
    let settings =
        TickSettings { tick_rate_hz: arguments.tick_rate, time_scale: arguments.time_scale, ..TickSettings::default() };
    let (tick_loop, _control) =
        TickLoop::new(GrpcPhysics::new(physics), StoreTickSink::new(bus, database), settings, 0, 0.0, false)?;
    println!(
        "stack: physics {} players {} galaxy {}, {} npc ships, {} Hz, Redis prefix {:?}; Ctrl-C stops",
        arguments.physics,
        arguments.players,
        arguments.galaxy,
        arguments.npc_ships,
        arguments.tick_rate,
        arguments.prefix
    );
    tick_loop
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    redis.delete_all_keys().await.context("clearing the key space")?;
    Ok(())
}

/// Latency samples and counters shared by the client tasks.
#[derive(Debug, Default)]
struct Samples {
    /// (tick, received at, µs since the epoch).
    received: Mutex<Vec<(u64, u64)>>,
    states: AtomicU64,
    /// Bytes of every `state` message received.
    state_bytes: AtomicU64,
    skipped: AtomicU64,
    disconnected: AtomicU64,
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_micros() as u64)
}

/// The tick of a `state` message, read from its first bytes (the gateway writes `type` and
/// `tick` first), so a client never parses the whole state.
fn state_tick(text: &str) -> Option<u64> {
    let head = text.get(..text.len().min(64))?;
    let rest = head.strip_prefix(r#"{"type":"state","tick":"#)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

async fn clients(arguments: ClientArguments) -> Result<()> {
    if arguments.accounts == 0 || arguments.clients == 0 {
        bail!("--accounts and --clients must be at least 1");
    }
    let http = reqwest::Client::new();
    let base = format!("http://{}", arguments.gateway);
    let run = format!("{:x}", now_micros() % 0xff_ffff);
    println!("registering {} accounts…", arguments.accounts);
    let started = Instant::now();
    let mut tokens = Vec::with_capacity(arguments.accounts);
    let mut registrations = futures_util::stream::iter(0..arguments.accounts)
        .map(|index| {
            let (http, base) = (http.clone(), base.clone());
            let username = format!("l{run}_{index}");
            async move {
                let response = http
                    .post(format!("{base}/api/auth/register"))
                    .json(&json!({"username": username, "password": PASSWORD}))
                    .send()
                    .await?;
                let status = response.status();
                let body: serde_json::Value = response.json().await?;
                if status != 201 {
                    bail!("register {username}: {status} {body}");
                }
                Ok::<_, anyhow::Error>((username, body["token"].as_str().unwrap_or_default().to_owned()))
            }
        })
        .buffer_unordered(8);
    let mut usernames = Vec::new();
    while let Some(result) = registrations.next().await {
        let (username, token) = result?;
        usernames.push(username);
        tokens.push(token);
    }
    println!("registered in {:.1} s", started.elapsed().as_secs_f64());

    let samples = Arc::new(Samples::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    println!("connecting {} clients…", arguments.clients);
    let started = Instant::now();
    let connected = Arc::new(AtomicU64::new(0));
    let mut connecting = futures_util::stream::iter(0..arguments.clients)
        .map(|index| {
            let token = tokens[index % tokens.len()].clone();
            let (samples, stopped, connected) = (Arc::clone(&samples), stopped.clone(), Arc::clone(&connected));
            let (gateway, read_buffer) = (arguments.gateway, arguments.read_buffer_kib.max(1) * 1024);
            async move {
                let socket = connect_client(gateway, &token, read_buffer).await?;
                connected.fetch_add(1, Ordering::Relaxed);
                Ok::<_, anyhow::Error>(tokio::spawn(hold_client(socket, samples, stopped)))
            }
        })
        .buffer_unordered(arguments.connect_concurrency);
    let mut tasks = Vec::new();
    while let Some(result) = connecting.next().await {
        tasks.push(result?);
    }
    println!("connected in {:.1} s", started.elapsed().as_secs_f64());

    let completed = Arc::new(Mutex::new(HashMap::new()));
    let follower =
        tokio::spawn(follow_ticks(arguments.redis_url.clone(), arguments.prefix.clone(), Arc::clone(&completed)));
    // Warm-up: the first states after connecting are the immediate ones, not broadcasts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    samples.received.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clear();
    let measure_started_micros = now_micros();
    let mut peak_rss = 0;
    let half = Duration::from_secs(arguments.seconds) / 2;
    let mut login_task = None;
    let measuring = Instant::now();
    while measuring.elapsed() < Duration::from_secs(arguments.seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(pid) = arguments.gateway_pid {
            peak_rss = peak_rss.max(rss_kib(pid).unwrap_or(0));
        }
        if arguments.logins_per_second > 0.0 && login_task.is_none() && measuring.elapsed() >= half {
            let (http, base, users) = (http.clone(), base.clone(), usernames.clone());
            let rate = arguments.logins_per_second;
            login_task = Some((now_micros(), tokio::spawn(login_flood(http, base, users, rate, half))));
        }
    }
    let _ = stop.send(true);
    let end_micros = now_micros();
    follower.abort();
    let received = std::mem::take(&mut *samples.received.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    let completed = completed.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let latency = |from: u64, to: u64| -> Vec<f64> {
        let mut values: Vec<f64> = received
            .iter()
            .filter(|(_, at)| (from..to).contains(at))
            .filter_map(|(tick, at)| completed.get(tick).map(|done_ms: &u64| (*at as f64 / 1000.0) - *done_ms as f64))
            .collect();
        values.sort_by(f64::total_cmp);
        values
    };
    let report = |label: &str, values: &[f64]| {
        let pick = |q: f64| values.get(((values.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
        println!(
            "{label}: {} samples; latency tick completed → client received: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            values.len(),
            pick(0.5),
            pick(0.99),
            values.last().copied().unwrap_or(f64::NAN)
        );
    };
    let seconds = (end_micros - measure_started_micros) as f64 / 1e6;
    let states = samples.states.load(Ordering::Relaxed);
    println!(
        "clients {} (connected {}), accounts {}, measured {:.0} s: {} states ({:.2} per client per s, {:.1} KB each on average), {} skipped, {} disconnected",
        arguments.clients,
        connected.load(Ordering::Relaxed),
        arguments.accounts,
        seconds,
        states,
        received.len() as f64 / arguments.clients as f64 / seconds,
        samples.state_bytes.load(Ordering::Relaxed) as f64 / states.max(1) as f64 / 1e3,
        samples.skipped.load(Ordering::Relaxed),
        samples.disconnected.load(Ordering::Relaxed),
    );
    match login_task {
        Some((login_started, task)) => {
            report("before the logins", &latency(measure_started_micros, login_started));
            report("during the logins", &latency(login_started, end_micros));
            let (ok, failed, login_latencies) = task.await?;
            let mut login_latencies = login_latencies;
            login_latencies.sort_by(f64::total_cmp);
            let p99 = login_latencies.get(((login_latencies.len() as f64 - 1.0) * 0.99) as usize).copied();
            println!("logins: {ok} ok, {failed} failed; login p99 {:.0} ms", p99.unwrap_or(f64::NAN));
        }
        None => report("all", &latency(measure_started_micros, end_micros)),
    }
    if let Some(pid) = arguments.gateway_pid {
        println!(
            "gateway RSS now {} MiB, peak while measured {} MiB (VmHWM {} MiB)",
            rss_kib(pid).unwrap_or(0) / 1024,
            peak_rss / 1024,
            status_kib(pid, "VmHWM:").unwrap_or(0) / 1024
        );
    }
    for task in tasks {
        task.abort();
    }
    Ok(())
}

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_client(gateway: SocketAddr, token: &str, read_buffer: usize) -> Result<Client> {
    let config = WebSocketConfig::default().read_buffer_size(read_buffer).max_message_size(Some(64 << 20));
    let url = format!("ws://{gateway}/ws");
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    socket.send(Message::text(json!({"type": "auth", "token": token}).to_string())).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.as_str().contains(r#""type":"welcome""#) => return Ok(socket),
            Some(Ok(_)) => {}
            other => bail!("no welcome: {other:?}"),
        }
    }
}

async fn hold_client(mut socket: Client, samples: Arc<Samples>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut last_tick = None;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let at = now_micros();
                    if let Some(tick) = state_tick(text.as_str()) {
                        samples.states.fetch_add(1, Ordering::Relaxed);
                        samples.state_bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                        if let Some(last) = last_tick && tick > last + 1 {
                            samples.skipped.fetch_add(tick - last - 1, Ordering::Relaxed);
                        }
                        last_tick = Some(tick);
                        if let Ok(mut received) = samples.received.lock() {
                            received.push((tick, at));
                        }
                    }
                }
                Some(Ok(_)) => {}
                _ => {
                    samples.disconnected.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

/// Records when each tick completed: the Redis clock in its `tick.completed` entry id.
async fn follow_ticks(redis_url: String, prefix: String, completed: Arc<Mutex<HashMap<u64, u64>>>) {
    let Ok(redis) = RedisStore::connect(&RedisConfig::new(redis_url, prefix)).await else {
        eprintln!("cannot follow the tick stream");
        return;
    };
    let mut cursor =
        redis.last_entry_id(StreamName::TickCompleted).await.ok().flatten().unwrap_or_else(StreamEntryId::beginning);
    loop {
        let Ok(entries) =
            redis.read_stream_blocking(StreamName::TickCompleted, &cursor, 1_000, Duration::from_secs(1)).await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        for entry in entries {
            cursor = entry.id;
            let tick = entry.fields.get("tick").and_then(|value| std::str::from_utf8(value).ok()?.parse().ok());
            if let (Some(tick), Ok(mut completed)) = (tick, completed.lock()) {
                completed.insert(tick, entry.id.milliseconds());
            }
        }
    }
}

/// Logs in `rate` times per second for `span`, cycling through the accounts.
async fn login_flood(
    http: reqwest::Client,
    base: String,
    usernames: Vec<String>,
    rate: f64,
    span: Duration,
) -> (u64, u64, Vec<f64>) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let started = Instant::now();
    let mut handles = Vec::new();
    let mut index = 0;
    while started.elapsed() < span {
        interval.tick().await;
        let username = usernames[index % usernames.len()].clone();
        index += 1;
        let (http, base, ok, failed, latencies) =
            (http.clone(), base.clone(), Arc::clone(&ok), Arc::clone(&failed), Arc::clone(&latencies));
        handles.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = http
                .post(format!("{base}/api/auth/login"))
                .json(&json!({"username": username, "password": PASSWORD}))
                .send()
                .await;
            match response {
                Ok(response) if response.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                _ => failed.fetch_add(1, Ordering::Relaxed),
            };
            if let Ok(mut latencies) = latencies.lock() {
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    let latencies = latencies.lock().map(|latencies| latencies.clone()).unwrap_or_default();
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed), latencies)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}
