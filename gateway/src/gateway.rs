//! [`Gateway`]: the shared state, the router (`/api/*`, `/ws`, `/livez`, `/readyz`, and the web
//! client at `/`), and serving with graceful shutdown.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use galaxy_proto::v1;
use galaxy_storage::EventBus;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OnceCell, watch};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::auth::SessionCache;
use crate::backends::Backends;
use crate::config::{GatewayConfig, OriginPolicy};
use crate::error::{ApiError, GatewayError};
use crate::fanout::{LatestFrame, StateFrame, TickFollower};
use crate::http_server::serve_http;
use crate::limits::{KeyedLimit, per_hour, per_minute, per_second};
use crate::model::{BodiesJson, ConfigJson};
use crate::rest;
use crate::ws;

/// Longest a readiness check waits for each dependency.
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the game configuration is reused (an admin's change shows within this).
const CONFIG_CACHE_TTL: Duration = Duration::from_secs(2);

/// What every handler and connection shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: GatewayConfig,
    pub(crate) backends: Backends,
    pub(crate) bus: EventBus,
    pub(crate) sessions: SessionCache,
    pub(crate) latest: LatestFrame,
    pub(crate) login_limit: KeyedLimit<(IpAddr, String)>,
    pub(crate) register_limit: KeyedLimit<IpAddr>,
    pub(crate) command_limit: KeyedLimit<String>,
    pub(crate) prediction_limit: KeyedLimit<String>,
    catalog: OnceCell<Arc<Vec<v1::BodyState>>>,
    /// The game configuration, kept briefly: every WebSocket welcome carries it.
    game_config: std::sync::Mutex<Option<(ConfigJson, Instant)>>,
    /// `true` once shutdown starts: WebSockets close with 1001.
    pub(crate) shutdown: watch::Sender<bool>,
    connections: AtomicUsize,
    connection_closed: Notify,
    /// Authenticated WebSockets per player: a player with two tabs open is one player online.
    players_online: std::sync::Mutex<HashMap<String, usize>>,
}

/// Counts a live WebSocket until dropped (graceful shutdown waits for the count to reach 0).
#[derive(Debug)]
pub(crate) struct ConnectionGuard(Arc<AppState>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
        self.0.connection_closed.notify_waiters();
        metrics::gauge!("galaxy_gateway_ws_connections").decrement(1.0);
    }
}

/// Counts a player online until dropped.
#[derive(Debug)]
pub(crate) struct PlayerOnline {
    app: Arc<AppState>,
    player_id: String,
}

impl Drop for PlayerOnline {
    fn drop(&mut self) {
        let mut online = self.app.players_online.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = online.get_mut(&self.player_id) {
            *count -= 1;
            if *count == 0 {
                online.remove(&self.player_id);
            }
        }
        metrics::gauge!("galaxy_gateway_players_online").set(online.len() as f64);
    }
}

impl AppState {
    /// Marks `player_id` online while the returned guard lives.
    pub(crate) fn player_online(self: &Arc<Self>, player_id: &str) -> PlayerOnline {
        let mut online = self.players_online.lock().unwrap_or_else(PoisonError::into_inner);
        *online.entry(player_id.to_owned()).or_insert(0) += 1;
        metrics::gauge!("galaxy_gateway_players_online").set(online.len() as f64);
        PlayerOnline { app: Arc::clone(self), player_id: player_id.to_owned() }
    }

    pub(crate) fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.connections.fetch_add(1, Ordering::AcqRel);
        metrics::gauge!("galaxy_gateway_ws_connections").increment(1.0);
        metrics::counter!("galaxy_gateway_ws_connections_total").increment(1);
        ConnectionGuard(Arc::clone(self))
    }

    /// The body catalog (static: fetched from the galaxy service once).
    pub(crate) async fn catalog(&self) -> Result<Arc<Vec<v1::BodyState>>, ApiError> {
        self.catalog
            .get_or_try_init(|| async {
                let bodies = self
                    .backends
                    .galaxy
                    .clone()
                    .get_bodies(v1::GetBodiesRequest {})
                    .await
                    .map_err(|status| ApiError::from_status(&status))?;
                Ok(Arc::new(bodies.into_inner().bodies))
            })
            .await
            .cloned()
    }

    /// The game configuration players see (at most [`CONFIG_CACHE_TTL`] old).
    pub(crate) async fn game_config(&self) -> Result<ConfigJson, ApiError> {
        let cached = self.game_config.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some((config, fetched)) = cached
            && fetched.elapsed() < CONFIG_CACHE_TTL
        {
            return Ok(config);
        }
        let config = self
            .backends
            .galaxy
            .clone()
            .get_config(v1::GetConfigRequest {})
            .await
            .map_err(|status| ApiError::from_status(&status))?;
        let config = rest::config_json(&config.into_inner());
        *self.game_config.lock().unwrap_or_else(PoisonError::into_inner) = Some((config.clone(), Instant::now()));
        Ok(config)
    }

    /// The catalog with the bodies' current positions (the latest frame's, else physics').
    pub(crate) async fn bodies_now(&self) -> Result<BodiesJson, ApiError> {
        let catalog = self.catalog().await?;
        let frame = self.latest.borrow().clone();
        if let Some(frame) = frame {
            let positions =
                frame.bodies.iter().map(|body| (body.name.as_str(), (body.position, body.velocity))).collect();
            return Ok(rest::bodies_json(&catalog, &positions, frame.tick, frame.game_time));
        }
        let now = self
            .backends
            .physics
            .clone()
            .get_all_bodies(v1::GetAllBodiesRequest {})
            .await
            .map_err(|status| ApiError::from_status(&status))?
            .into_inner();
        let vector = |value: Option<&v1::Vector3>| value.map_or([0.0; 3], |value| [value.x, value.y, value.z]);
        let positions: HashMap<&str, ([f64; 3], [f64; 3])> = now
            .bodies
            .iter()
            .map(|body| (body.name.as_str(), (vector(body.position.as_ref()), vector(body.velocity.as_ref()))))
            .collect();
        Ok(rest::bodies_json(&catalog, &positions, 0, 0.0))
    }

    /// Replaces the token holder's ship; returns the new ship as physics has it.
    pub(crate) async fn respawn(&self, token: &str, class: &str) -> Result<v1::ShipState, ApiError> {
        let request = v1::RespawnRequest { token: token.to_owned(), class_name: class.to_owned() };
        let identity = self
            .backends
            .players
            .clone()
            .respawn(request)
            .await
            .map_err(|status| ApiError::from_status(&status))?
            .into_inner();
        self.sessions.store(token, identity.clone());
        rest::find_ship(self, &identity.ship_id)
            .await?
            .ok_or_else(|| ApiError::unavailable("the new ship is not flying yet; try again shortly"))
    }

    /// Whether players and physics answer and the bus works.
    async fn readiness(&self) -> Result<(), String> {
        let reachable = |result: Result<(), tonic::Status>| match result {
            Err(status) if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::DeadlineExceeded) => {
                Err(status.message().to_owned())
            }
            _ => Ok(()),
        };
        let players = async {
            let request = v1::ValidateSessionRequest { token: String::new() };
            let mut players = self.backends.players.clone();
            let call = players.validate_session(request);
            match tokio::time::timeout(READINESS_TIMEOUT, call).await {
                Ok(result) => reachable(result.map(|_| ())).map_err(|reason| format!("players: {reason}")),
                Err(_) => Err("players: timed out".to_owned()),
            }
        };
        let physics = async {
            let mut physics = self.backends.physics.clone();
            let call = physics.get_ship_state(v1::GetShipStateRequest { ship_id: String::new() });
            match tokio::time::timeout(READINESS_TIMEOUT, call).await {
                Ok(result) => reachable(result.map(|_| ())).map_err(|reason| format!("physics: {reason}")),
                Err(_) => Err("physics: timed out".to_owned()),
            }
        };
        let bus = async {
            match tokio::time::timeout(READINESS_TIMEOUT, self.bus.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(format!("event bus: {error}")),
                Err(_) => Err("event bus: timed out".to_owned()),
            }
        };
        let (players, physics, bus) = tokio::join!(players, physics, bus);
        let failures: Vec<String> = [players, physics, bus].into_iter().filter_map(Result::err).collect();
        if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
    }
}

/// The client's address, for rate limits: the TCP peer, or the last `X-Forwarded-For` entry
/// when the configuration trusts the ingress in front.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if app.config.trust_forwarded_for
            && let Some(forwarded) = parts
                .headers
                .get_all(HeaderName::from_static("x-forwarded-for"))
                .iter()
                .rev()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.rsplit(','))
                .find_map(|entry| entry.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientAddress(forwarded));
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        Ok(ClientAddress(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The api-gateway: build it with [`Gateway::new`], take its [`Gateway::router`] (merge other
/// routes into it, such as the binary's `/metrics`), and [`Gateway::serve`] it.
#[derive(Debug, Clone)]
pub struct Gateway {
    state: Arc<AppState>,
}

impl Gateway {
    /// A gateway calling `backends` and following ticks on `bus`.
    #[must_use]
    pub fn new(config: GatewayConfig, backends: Backends, bus: EventBus) -> Gateway {
        describe_metrics();
        let (latest, _) = watch::channel(None);
        let (shutdown, _) = watch::channel(false);
        let state = AppState {
            sessions: SessionCache::new(config.session_cache_ttl),
            login_limit: KeyedLimit::new(per_minute(config.logins_per_minute)),
            register_limit: KeyedLimit::new(per_hour(config.registrations_per_hour)),
            command_limit: KeyedLimit::new(per_second(config.commands_per_second)),
            // Two predictions a second per player: the web client asks every few seconds.
            prediction_limit: KeyedLimit::new(per_second(std::num::NonZeroU32::MIN.saturating_add(1))),
            catalog: OnceCell::new(),
            game_config: std::sync::Mutex::new(None),
            latest,
            shutdown,
            connections: AtomicUsize::new(0),
            connection_closed: Notify::new(),
            players_online: std::sync::Mutex::new(HashMap::new()),
            config,
            backends,
            bus,
        };
        Gateway { state: Arc::new(state) }
    }

    /// Every route: `/api/*` (JSON errors, 16 KiB bodies, CORS per the origin policy), `/ws`,
    /// `/livez`, `/readyz`, and the web client at `/` when a web root is configured.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/auth/register", post(rest::register))
            .route("/auth/login", post(rest::login))
            .route("/auth/logout", post(rest::logout))
            .route("/auth/refresh", post(rest::refresh))
            .route("/me", get(rest::me))
            .route("/config", get(rest::config))
            .route("/bodies", get(rest::bodies))
            .route("/ships", get(rest::ships))
            .route("/ships/{id}", get(rest::ship))
            .route("/ships/{id}/prediction", get(rest::prediction))
            .route("/ships/{id}/respawn", post(rest::respawn))
            .route("/openapi.json", get(rest::openapi))
            .fallback(rest::not_found)
            .method_not_allowed_fallback(rest::method_not_allowed)
            .layer(DefaultBodyLimit::max(rest::MAX_BODY_BYTES));
        let api = match cors_layer(&self.state.config.allowed_origins) {
            Some(cors) => api.layer(cors),
            None => api,
        };
        let router = Router::new()
            .nest("/api", api)
            .route("/ws", get(ws::upgrade))
            .route("/livez", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz));
        let router = match &self.state.config.web_root {
            Some(root) => {
                let index = ServeFile::new(root.join("index.html"));
                router.fallback_service(ServeDir::new(root).append_index_html_on_directories(true).fallback(index))
            }
            None => router.fallback(|| async { ApiError::not_found("no such route") }),
        };
        router.with_state(Arc::clone(&self.state))
    }

    /// The newest state frame, if one was published.
    #[must_use]
    pub fn latest_frame(&self) -> Option<Arc<StateFrame>> {
        self.state.latest.borrow().clone()
    }

    /// Live WebSocket connections.
    #[must_use]
    pub fn connection_count(&self) -> usize {
        self.state.connections.load(Ordering::Acquire)
    }

    /// Serves `router` (normally [`Gateway::router`], possibly with more routes merged in) on
    /// `listener`, following ticks meanwhile, until `shutdown` resolves. Then it stops accepting,
    /// closes every WebSocket with 1001, and waits up to the drain timeout for them to finish.
    pub async fn serve(
        &self,
        listener: TcpListener,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let state = Arc::clone(&self.state);
        let (follower_stop, follower_stopped) = watch::channel(false);
        let follower = TickFollower::new(
            state.bus.clone(),
            state.backends.physics.clone(),
            state.latest.clone(),
            state.config.min_state_interval,
        );
        let follower = tokio::spawn(follower.run(async move {
            let mut stopped = follower_stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        let signal_state = Arc::clone(&state);
        let served = serve_http(listener, router, state.config.header_read_timeout, async move {
            shutdown.await;
            tracing::info!("shutting down: closing WebSockets with 1001");
            signal_state.shutdown.send_replace(true);
        })
        .await;
        // The server may also have stopped on its own (an accept error): close sockets either way.
        state.shutdown.send_replace(true);
        let drained = tokio::time::timeout(state.config.drain_timeout, async {
            loop {
                let closed = state.connection_closed.notified();
                if state.connections.load(Ordering::Acquire) == 0 {
                    break;
                }
                closed.await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(left = state.connections.load(Ordering::Acquire), "some WebSockets did not close in time");
        }
        follower_stop.send_replace(true);
        let _ = follower.await;
        served.map_err(GatewayError::Serve)
    }
}

async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    match app.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")).into_response(),
    }
}

fn cors_layer(policy: &OriginPolicy) -> Option<CorsLayer> {
    let allow_origin = match policy {
        OriginPolicy::SameOrigin => return None,
        OriginPolicy::Any => AllowOrigin::any(),
        OriginPolicy::List(origins) => {
            AllowOrigin::list(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()))
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// Describes the gateway's series and exports its counters and gauges at zero, so a scrape shows
/// every series from the start ("none yet" rather than "no data").
fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("galaxy_gateway_players_online", "Players with at least one authenticated WebSocket.");
    describe_gauge!("galaxy_gateway_ws_connections", "Open WebSocket connections.");
    describe_counter!("galaxy_gateway_ws_connections_total", "WebSocket connections accepted.");
    describe_counter!("galaxy_gateway_ws_refused_total", "WebSockets closed before authentication, by reason.");
    describe_counter!("galaxy_gateway_ws_states_sent_total", "State messages sent to clients.");
    describe_counter!("galaxy_gateway_ws_states_dropped_total", "States a slow client skipped (it got a newer one).");
    describe_counter!(
        "galaxy_gateway_ws_rosters_sent_total",
        "Roster messages sent (on connect, and when the ships changed)."
    );
    describe_counter!("galaxy_gateway_ws_stalled_total", "Clients disconnected for not reading.");
    describe_counter!("galaxy_gateway_commands_total", "Commands received over WebSockets.");
    describe_counter!("galaxy_gateway_logins_total", "Successful logins.");
    describe_counter!("galaxy_gateway_login_failures_total", "Refused logins.");
    describe_counter!("galaxy_gateway_registrations_total", "Accounts registered.");
    describe_counter!("galaxy_gateway_rate_limited_total", "Requests refused by a rate limit.");
    describe_counter!("galaxy_gateway_state_frames_total", "Tick states turned into frames.");
    describe_counter!("galaxy_gateway_ticks_coalesced_total", "Ticks skipped because a newer one was already there.");
    describe_histogram!("galaxy_gateway_state_frame_seconds", Unit::Seconds, "Time to build a tick's frame.");
    for name in [
        "galaxy_gateway_ws_connections_total",
        "galaxy_gateway_ws_states_sent_total",
        "galaxy_gateway_ws_states_dropped_total",
        "galaxy_gateway_ws_rosters_sent_total",
        "galaxy_gateway_ws_stalled_total",
        "galaxy_gateway_logins_total",
        "galaxy_gateway_login_failures_total",
        "galaxy_gateway_registrations_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    for name in ["galaxy_gateway_players_online", "galaxy_gateway_ws_connections"] {
        metrics::gauge!(name).increment(0.0);
    }
}
