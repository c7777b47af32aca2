//! Test fixtures: the whole game behind a gateway, in this process, over real sockets — physics
//! (the J2000 solar system), players over a fresh PostgreSQL database of its own (dropped
//! afterwards), galaxy, a tick loop at 20 Hz appending `tick.completed`, and the gateway on a
//! loopback port — plus HTTP and WebSocket clients.

// Each test binary uses only some of these helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use galaxy_engine::SimParams;
use galaxy_galaxy::{ConfigStore, GalaxyServer, GalaxyService};
use galaxy_gateway::{Backends, Gateway, GatewayConfig};
use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
use galaxy_players::{PlayerAccounts, PlayersConfig, PlayersServer, PlayersService};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::{Database, EventBus, MemoryBus, PostgresConfig, PostgresStore};
use galaxy_tick_engine::{GrpcPhysics, StoreTickSink, TickControl, TickLoop, TickSettings};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tonic::transport::Channel;

/// The machine's PostgreSQL (trust auth), through its maintenance database.
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// No test may take longer than this, however the machine behaves.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);
/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery";
/// Ticks per second in tests.
pub const TICK_RATE_HZ: f64 = 20.0;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Everything a test talks to.
#[derive(Debug, Clone)]
pub struct Game {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The gateway's address.
    pub address: SocketAddr,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Physics, directly (to check what the gateway did).
    pub physics: PhysicsClient<Channel>,
    /// The tick loop's control (pause, resume).
    pub ticks: TickControl,
    /// The gateway (connection counts, latest frame).
    pub gateway: Gateway,
    /// The bus the game runs on.
    pub bus: EventBus,
    /// Stops the gateway and the tick loop (what a SIGTERM does).
    stop: watch::Sender<bool>,
}

/// A random lowercase hex suffix for database names and key prefixes.
pub fn unique_suffix() -> String {
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
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

/// Gateway settings for tests: the protocol's, with a short auth timeout and generous limits
/// unless a test tightens them.
pub fn test_config() -> GatewayConfig {
    GatewayConfig {
        auth_timeout: Duration::from_millis(700),
        logins_per_minute: std::num::NonZeroU32::new(1_000).unwrap(),
        registrations_per_hour: std::num::NonZeroU32::new(10_000).unwrap(),
        drain_timeout: Duration::from_secs(2),
        ..GatewayConfig::default()
    }
}

/// Serves a gRPC service on a free loopback port; evaluates to a connected channel.
macro_rules! serve_grpc {
    ($service:expr) => {{
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = $service;
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
        tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap()
    }};
}

/// Runs `body` against a fresh game on `bus` with `config`, over a fresh database dropped
/// afterwards even if `body` panics or hangs.
pub async fn with_game_on<Body, Done>(bus: EventBus, config: GatewayConfig, body: Body)
where
    Body: FnOnce(Game) -> Done + Send + 'static,
    Done: Future<Output = ()> + Send + 'static,
{
    let database = format!("galaxy_gateway_{}", unique_suffix());
    postgres_admin_execute(&format!("CREATE DATABASE {database}")).await;
    let test = {
        let database = database.clone();
        async move {
            let store =
                PostgresStore::connect(&PostgresConfig::new(format!("postgres://postgres@127.0.0.1:5432/{database}")))
                    .await
                    .expect("connect to the test database");
            let store_db = Database::Postgres(store.clone());

            let world = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
            let physics_channel =
                serve_grpc!(PhysicsServer::new(PhysicsService::with_stores(world, bus.clone(), store_db.clone())));
            let physics = PhysicsClient::new(physics_channel.clone());
            let accounts = Arc::new(PlayerAccounts::new(store_db.clone(), bus.clone(), PlayersConfig::default()));
            let players_channel =
                serve_grpc!(PlayersServer::new(PlayersService::new(accounts).with_physics(physics.clone())));
            let galaxy_channel = serve_grpc!(GalaxyServer::new(GalaxyService::new(ConfigStore::new(store_db.clone()))));

            let settings = TickSettings { tick_rate_hz: TICK_RATE_HZ, time_scale: 20.0, ..TickSettings::default() };
            let sink = StoreTickSink::new(bus.clone(), store_db.clone());
            let (tick_loop, ticks) =
                TickLoop::new(GrpcPhysics::new(physics.clone()), sink, settings, 0, 0.0, false).unwrap();
            let (stop, stopped) = watch::channel(false);
            let tick_task = tokio::spawn(tick_loop.run({
                let mut stopped = stopped.clone();
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                }
            }));

            let backends = Backends::from_channels(players_channel, physics_channel, galaxy_channel);
            let gateway = Gateway::new(config, backends, bus.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let server = {
                let gateway = gateway.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    gateway.serve(listener, gateway.router(), shutdown).await.unwrap();
                })
            };
            let game = Game {
                base: format!("http://{address}"),
                address,
                http: reqwest::Client::new(),
                physics,
                ticks,
                gateway,
                bus,
                stop: stop.clone(),
            };
            body(game).await;
            stop.send_replace(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
            let _ = tick_task.await;
            store.close();
        }
    };
    let task = tokio::spawn(test);
    let abort = task.abort_handle();
    let outcome = tokio::time::timeout(TEST_TIME_LIMIT, task).await;
    abort.abort();
    // FORCE: the services' pools may still hold connections.
    postgres_admin_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join_error)) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
        Ok(Err(join_error)) => panic!("test task failed: {join_error}"),
        Err(_) => panic!("test took longer than {TEST_TIME_LIMIT:?}"),
    }
}

/// [`with_game_on`] over the in-process bus with [`test_config`].
pub async fn with_game<Body, Done>(body: Body)
where
    Body: FnOnce(Game) -> Done + Send + 'static,
    Done: Future<Output = ()> + Send + 'static,
{
    with_game_on(EventBus::Memory(MemoryBus::new(10_000)), test_config(), body).await;
}

impl Game {
    /// Starts the gateway's graceful shutdown (and stops the ticks).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Spawns `count` ships owned by nobody, to make states as big as a busy game's.
    pub async fn spawn_crowd(&self, count: usize) {
        let mut physics = self.physics.clone();
        for index in 0..count {
            let request = v1::SpawnShipRequest {
                owner_id: "npc".into(),
                name: format!("npc_{index}"),
                class_name: String::new(),
                ship_id: format!("npc-{index}"),
            };
            physics.spawn_ship(request).await.unwrap();
        }
    }

    /// Opens `/ws` over a socket whose receive buffer is tiny: a client that will not read
    /// stalls as soon as a few kilobytes are in flight.
    pub async fn connect_with_tiny_receive_buffer(&self) -> Ws {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(self.address).await.unwrap();
        let request = format!("ws://{}/ws", self.address).into_client_request().unwrap();
        let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.unwrap();
        socket
    }

    /// `POST` JSON to `path`, with a bearer token if given.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// `GET` `path`, with a bearer token if given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Registers `username` and returns the session JSON.
    pub async fn register(&self, username: &str) -> Value {
        let response = self
            .post("/api/auth/register", None, Some(serde_json::json!({"username": username, "password": PASSWORD})))
            .await;
        assert_eq!(response.status(), 201, "register {username}");
        response.json().await.unwrap()
    }

    /// Opens `/ws` with this `Origin` header (if any).
    pub async fn connect(&self, origin: Option<&str>) -> Ws {
        let mut request = format!("ws://{}/ws", self.address).into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", origin.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
    }

    /// Opens `/ws`, authenticates with `token`, and returns the socket and the welcome.
    pub async fn connect_authenticated(&self, token: &str) -> (Ws, Value) {
        let mut socket = self.connect(None).await;
        send_json(&mut socket, serde_json::json!({"type": "auth", "token": token})).await;
        let welcome = next_json(&mut socket).await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (socket, welcome)
    }

    /// The ship as physics has it now.
    pub async fn ship(&self, ship_id: &str) -> v1::ShipState {
        self.physics
            .clone()
            .get_ship_state(v1::GetShipStateRequest { ship_id: ship_id.into() })
            .await
            .unwrap()
            .into_inner()
    }
}

/// Sends a JSON text message.
pub async fn send_json(socket: &mut Ws, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next text message as JSON (pings are skipped); panics after 10 s or on a close.
pub async fn next_json(socket: &mut Ws) -> Value {
    let message = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => return serde_json::from_str::<Value>(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    })
    .await;
    message.expect("a message within 10 s")
}

/// The next message of `kind` (others, such as states, are skipped).
pub async fn next_of_type(socket: &mut Ws, kind: &str) -> Value {
    loop {
        let message = next_json(socket).await;
        if message["type"] == kind {
            return message;
        }
    }
}

/// Attitude modes and ship statuses by their codes in `state` rows (docs/protocol.md).
pub const ATTITUDE_MODES: [&str; 8] =
    ["hold", "prograde", "retrograde", "normal", "antinormal", "radial_in", "radial_out", "target"];
pub const SHIP_STATUSES: [&str; 3] = ["flying", "landed", "crashed"];

/// The next `state`, with its ships read as a client reads them: each row against the latest
/// `roster` (kept in `roster` across calls). Panics if a state's rows follow a roster this
/// connection was not sent first, or do not match it one to one.
pub async fn next_state(socket: &mut Ws, roster: &mut Option<Value>) -> (Value, Vec<Value>) {
    loop {
        let message = next_json(socket).await;
        if message["type"] == "roster" {
            *roster = Some(message);
            continue;
        }
        if message["type"] != "state" {
            continue;
        }
        let roster = roster.as_ref().expect("a roster before the first state");
        assert_eq!(message["roster"], roster["version"], "the state's rows follow the roster sent");
        let (rows, identities) = (message["ships"].as_array().unwrap(), roster["ships"].as_array().unwrap());
        assert_eq!(rows.len(), identities.len(), "a row per roster ship");
        let ships = rows.iter().zip(identities).map(|(row, identity)| decode_ship_row(row, identity)).collect();
        return (message, ships);
    }
}

/// A `state` row and its roster entry as one ship summary.
pub fn decode_ship_row(row: &Value, identity: &Value) -> Value {
    let numbers: Vec<f64> = row.as_array().unwrap().iter().map(|value| value.as_f64().unwrap()).collect();
    assert_eq!(numbers.len(), 14, "{row}");
    let code = |index: usize| numbers[index] as usize;
    serde_json::json!({
        "id": identity["id"], "owner": identity["owner"], "name": identity["name"], "class": identity["class"],
        "position": &numbers[0..3], "velocity": &numbers[3..6], "attitude": &numbers[6..10],
        "fuel": numbers[10], "throttle": numbers[11],
        "attitude_mode": ATTITUDE_MODES[code(12)], "status": SHIP_STATUSES[code(13)],
    })
}

/// The close code the server ends the connection with (within `within`).
pub async fn close_code(socket: &mut Ws, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server closed in time")
}
