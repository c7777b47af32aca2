//! `/ws`: the player's live connection.
//!
//! The upgrade is done here over hyper (not with axum's `WebSocketUpgrade`) so the socket is a
//! plain `tokio-tungstenite` stream whose socket the connection can also write itself: every text
//! message goes out as one frame written straight to the socket — a `state` message as a
//! vectored write of the frame's shared bytes (the common prefix, then the player's own ship) —
//! so no client ever gets its own copy of the state and no connection keeps a write buffer the
//! size of one. tungstenite reads, and sends control frames. Buffers are set per connection in
//! [`socket_config`].
//!
//! A connection: Origin check (4003) → `auth` within the timeout (4001) → `welcome`, the ships'
//! `roster` and the newest `state` at once → a `state` per published frame (a `roster` first
//! whenever the ships changed), commands answered in order by a per-connection task, a ping
//! every interval, close 1001 on shutdown.

use std::io::IoSlice;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use galaxy_engine::AttitudeMode;
use galaxy_proto::v1;
use governor::DefaultDirectRateLimiter;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::fanout::StateFrame;
use crate::gateway::AppState;
use crate::limits::connection_messages;
use crate::model::{ControlJson, TargetJson, player_from_proto};

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Largest message a client may send (bigger closes with 1009).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 64 * 1024;
/// Per-connection read buffer: client messages are a few hundred bytes (a larger one grows it);
/// tungstenite's 128 KiB default would cost 1.3 GB at 10 000 connections, 4 KiB cost 40 MB.
const READ_BUFFER_BYTES: usize = 1024;
/// tungstenite's write buffer only carries control frames (pings, pongs, closes): every text
/// message is written straight to the socket (`Connection::write_text`).
const MAX_WRITE_BUFFER_BYTES: usize = 128 * 1024;
/// Longest wait to send a close frame and hear the client's reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Most bytes read and thrown away after closing a connection that sent an oversize message,
/// so the close frame is not lost to a TCP reset.
const DRAIN_AFTER_CLOSE_BYTES: usize = 256 * 1024;
/// Longest command `id` string echoed back, in characters (docs/protocol.md).
const MAX_ID_CHARS: usize = 64;
/// Commands one connection may have waiting for the command task.
const COMMAND_QUEUE: usize = 32;
/// Close codes of the protocol.
const CLOSE_UNAUTHENTICATED: u16 = 4001;
const CLOSE_FORBIDDEN_ORIGIN: u16 = 4003;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// How every connection's socket is configured.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(Some(MAX_CLIENT_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE_BYTES))
}

/// `GET /ws`: checks the upgrade request, answers 101, and runs the connection on its own task.
pub(crate) async fn upgrade(State(app): State<Arc<AppState>>, mut request: Request) -> Response {
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return ApiError::new(StatusCode::UPGRADE_REQUIRED, "upgrade_required", "this is a WebSocket endpoint")
            .into_response();
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).and_then(|value| value.to_str().ok()) != Some("13") {
        let mut response =
            ApiError::new(StatusCode::UPGRADE_REQUIRED, "upgrade_required", "WebSocket version 13 is required")
                .into_response();
        response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return ApiError::malformed("Sec-WebSocket-Key is required").into_response();
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let origin_allowed = origin_allowed(&app, headers);
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return ApiError::malformed("this connection cannot be upgraded").into_response();
    };
    let guard = app.connection_opened();
    tokio::spawn(async move {
        let _guard = guard;
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(socket_config())).await;
                Connection::new(app, socket).run(origin_allowed).await;
            }
            Err(error) => tracing::debug!(%error, "websocket upgrade failed"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    response_headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        response_headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

fn origin_allowed(app: &AppState, headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).map(|value| value.to_str().unwrap_or("invalid"));
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    app.config.allowed_origins.allows(origin, host)
}

/// Why a connection is ending, and how to tell the client.
#[derive(Debug)]
enum Ending {
    /// Send a close frame with this code and reason.
    Close(u16, &'static str),
    /// Send a close frame, then read and discard what the client is still sending.
    CloseAndDrain(u16, &'static str),
    /// The client left or the socket failed: nothing to send.
    Gone,
}

/// A message from the client, checked for shape (values are checked by the players service).
#[derive(Debug, PartialEq)]
pub enum ClientMessage {
    /// `auth`, with its token (empty when missing or not a string).
    Auth {
        /// The bearer token.
        token: String,
    },
    /// A command, with the client's `id` for it when that is a number or a short string.
    Command {
        /// Echoed back in the reply.
        id: Option<Value>,
        /// What it asks.
        command: Command,
    },
}

/// A command a player sends over the WebSocket.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `control`: the pilot's inputs, as sent (the players service checks their ranges).
    Control(ControlJson),
    /// `attitude_mode`: a mode name (checked by `order`) and an optional target.
    AttitudeMode {
        /// The mode's name as sent.
        mode: String,
        /// What `target` mode points at.
        target: Option<TargetJson>,
    },
    /// `respawn` as a ship class (the players service checks the name).
    Respawn {
        /// The class's name as sent.
        class: String,
    },
}

impl Command {
    /// The command's `type`, as replies name it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Control(_) => "control",
            Command::AttitudeMode { .. } => "attitude_mode",
            Command::Respawn { .. } => "respawn",
        }
    }
}

/// Why a text message was not understood: the reply to send.
#[derive(Debug, PartialEq)]
pub enum ParseFailure {
    /// Not a JSON object with a string `type`.
    Malformed,
    /// A `type` this protocol does not have (its first 32 characters).
    UnknownType(String),
    /// A known command with missing or mistyped fields.
    BadCommand {
        /// The client's `id`, as for a command.
        id: Option<Value>,
        /// The command's `type`.
        command: &'static str,
        /// serde's account of what is wrong.
        reason: String,
    },
}

/// A parsed command as the services get it, once the gateway's own check passed (the attitude
/// mode must be one the protocol names; values, targets and classes are the players service's).
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    /// A `ValidateCommand` (see `command_request`).
    Submit {
        /// The pilot's inputs; `None` (an attitude change) re-sends their current ones.
        control: Option<ControlJson>,
        /// The mode to set; `Unspecified` leaves it as it is.
        attitude_mode: v1::AttitudeMode,
        /// The attitude target.
        target: Option<TargetJson>,
    },
    /// A `Respawn` as this class.
    Respawn {
        /// The class's name as sent.
        class: String,
    },
}

#[derive(Deserialize)]
struct ControlFields {
    throttle: f64,
    #[serde(default)]
    pitch: f64,
    #[serde(default)]
    yaw: f64,
    #[serde(default)]
    roll: f64,
}

#[derive(Deserialize)]
struct AttitudeFields {
    mode: String,
    #[serde(default)]
    target: Option<TargetJson>,
}

#[derive(Deserialize)]
struct RespawnFields {
    class: String,
}

/// Reads one text message: its shape only (JSON object, known `type`, fields of the right types).
pub(crate) fn parse_client_message(text: &str) -> Result<ClientMessage, ParseFailure> {
    let value: Value = serde_json::from_str(text).map_err(|_| ParseFailure::Malformed)?;
    let kind = value.get("type").and_then(Value::as_str).ok_or(ParseFailure::Malformed)?;
    // The client's own number for the command, echoed back: a number or a string of at most
    // MAX_ID_CHARS characters (not bytes: the protocol counts characters).
    let id = value
        .get("id")
        .filter(|id| id.is_number() || id.as_str().is_some_and(|text| text.chars().count() <= MAX_ID_CHARS))
        .cloned();
    let bad = |command: &'static str, error: serde_json::Error| ParseFailure::BadCommand {
        id: id.clone(),
        command,
        reason: error.to_string(),
    };
    let command = match kind {
        "auth" => {
            let token = value.get("token").and_then(Value::as_str).unwrap_or("").to_owned();
            return Ok(ClientMessage::Auth { token });
        }
        "control" => {
            let fields: ControlFields = serde_json::from_value(value.clone()).map_err(|error| bad("control", error))?;
            Command::Control(ControlJson {
                throttle: fields.throttle,
                pitch: fields.pitch,
                yaw: fields.yaw,
                roll: fields.roll,
            })
        }
        "attitude_mode" => {
            let fields: AttitudeFields =
                serde_json::from_value(value.clone()).map_err(|error| bad("attitude_mode", error))?;
            Command::AttitudeMode { mode: fields.mode, target: fields.target }
        }
        "respawn" => {
            let fields: RespawnFields = serde_json::from_value(value.clone()).map_err(|error| bad("respawn", error))?;
            Command::Respawn { class: fields.class }
        }
        other => return Err(ParseFailure::UnknownType(other.chars().take(32).collect())),
    };
    Ok(ClientMessage::Command { id, command })
}

/// The reply to a message that was not understood (`error`, or `rejected` for a bad command).
pub(crate) fn failure_reply(failure: ParseFailure) -> String {
    match failure {
        ParseFailure::Malformed => json!({"type": "error", "code": "malformed_message",
            "message": "expected a JSON object with a type field"}),
        ParseFailure::UnknownType(kind) => json!({"type": "error", "code": "unknown_type",
            "message": format!("unknown message type {kind:?}")}),
        ParseFailure::BadCommand { id, command, reason } => json!({"type": "rejected", "id": id, "command": command,
            "code": "malformed_message", "reason": reason}),
    }
    .to_string()
}

/// A `rejected` reply.
pub(crate) fn rejected(id: Option<&Value>, command: &str, code: &str, reason: &str) -> String {
    json!({"type": "rejected", "id": id, "command": command, "code": code, "reason": reason}).to_string()
}

/// What the command task hands back to the connection.
#[derive(Debug)]
enum Reply {
    /// A message to send.
    Text(String),
    /// The player's identity changed (a respawn, a re-check): their ship id may be new.
    Identity(v1::PlayerIdentity),
    /// End the connection.
    Close(u16, &'static str),
}

/// A request to the command task.
#[derive(Debug)]
enum Job {
    Command {
        id: Option<Value>,
        command: Command,
    },
    /// Check the session is still valid (periodically, or after a revocation broadcast lagged).
    Revalidate,
}

struct Connection {
    app: Arc<AppState>,
    socket: Socket,
    last_heard: Instant,
    messages: DefaultDirectRateLimiter,
}

impl Connection {
    fn new(app: Arc<AppState>, socket: Socket) -> Connection {
        Connection { app, socket, last_heard: Instant::now(), messages: connection_messages() }
    }

    async fn run(mut self, origin_allowed: bool) {
        let ending = if origin_allowed {
            self.serve().await
        } else {
            metrics::counter!("galaxy_gateway_ws_refused_total", "reason" => "origin").increment(1);
            Ending::Close(CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
        };
        self.end(ending).await;
    }

    async fn serve(&mut self) -> Ending {
        let mut shutdown = self.app.shutdown.subscribe();
        let auth_timeout = self.app.config.auth_timeout;
        let caller = tokio::select! {
            outcome = tokio::time::timeout(auth_timeout, self.authenticate()) => match outcome {
                Ok(Ok(caller)) => caller,
                Ok(Err(ending)) => return ending,
                Err(_) => {
                    metrics::counter!("galaxy_gateway_ws_refused_total", "reason" => "auth_timeout").increment(1);
                    return Ending::Close(CLOSE_UNAUTHENTICATED, "no auth message in time");
                }
            },
            () = stopping(&mut shutdown) => return Ending::Close(CLOSE_GOING_AWAY, "server shutting down"),
        };
        self.serve_player(caller, shutdown).await
    }

    /// Waits for the `auth` message and checks its token.
    async fn authenticate(&mut self) -> Result<Caller, Ending> {
        loop {
            let text = match self.next_text().await? {
                Some(text) => text,
                None => continue,
            };
            match parse_client_message(&text) {
                Ok(ClientMessage::Auth { token }) => {
                    return match self.app.sessions.validate(&self.app.backends.players, &token).await {
                        Ok(caller) => Ok(caller),
                        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
                            metrics::counter!("galaxy_gateway_ws_refused_total", "reason" => "bad_token").increment(1);
                            Err(Ending::Close(CLOSE_UNAUTHENTICATED, "invalid or expired token"))
                        }
                        Err(_) => Err(Ending::Close(CLOSE_TRY_AGAIN_LATER, "players service unavailable")),
                    };
                }
                Ok(ClientMessage::Command { .. }) | Err(ParseFailure::UnknownType(_)) => {
                    return Err(Ending::Close(CLOSE_UNAUTHENTICATED, "authenticate first"));
                }
                Err(failure) => self.send_text(failure_reply(failure)).await?,
            }
        }
    }

    /// The next text message; `None` for frames that are not one (pings, pongs, binary — the
    /// last answered with an error). Errors end the connection with the right close code.
    async fn next_text(&mut self) -> Result<Option<String>, Ending> {
        let message = match self.socket.next().await {
            None => return Err(Ending::Gone),
            Some(Ok(message)) => message,
            Some(Err(WsError::Capacity(_))) => return Err(Ending::CloseAndDrain(CLOSE_TOO_BIG, "message too big")),
            Some(Err(WsError::Utf8(_))) => return Err(Ending::CloseAndDrain(1007, "invalid UTF-8")),
            Some(Err(WsError::Protocol(_))) => return Err(Ending::CloseAndDrain(1002, "protocol error")),
            Some(Err(_)) => return Err(Ending::Gone),
        };
        self.last_heard = Instant::now();
        if self.messages.check().is_err() {
            return Err(Ending::Close(CLOSE_POLICY, "too many messages"));
        }
        match message {
            Message::Text(text) => Ok(Some(text.as_str().to_owned())),
            Message::Binary(_) => {
                self.send_text(failure_reply(ParseFailure::Malformed)).await?;
                Ok(None)
            }
            Message::Close(_) => Err(Ending::Gone),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(None),
        }
    }

    async fn serve_player(&mut self, mut caller: Caller, mut shutdown: watch::Receiver<bool>) -> Ending {
        let _online = self.app.player_online(&caller.identity.player_id);
        if let Err(ending) = self.send_welcome(&caller.identity).await {
            return ending;
        }
        let mut states = self.app.latest.subscribe();
        let mut sent = SentSoFar::default();
        let first = states.borrow_and_update().clone();
        if let Some(frame) = first
            && let Err(ending) = self.send_state(&frame, &caller.identity, &mut sent).await
        {
            return ending;
        }
        let mut revocations = self.app.sessions.revoked();
        // The command task, its queues and a session re-check cost memory per connection, so
        // they exist only once needed: a connection that only watches holds neither.
        let mut commands: Option<Commands> = None;
        let mut recheck: Option<Recheck> = None;
        let ping_interval = self.app.config.ping_interval;
        let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
        loop {
            tokio::select! {
                () = stopping(&mut shutdown) => {
                    return Ending::Close(CLOSE_GOING_AWAY, "server shutting down");
                }
                incoming = self.next_text() => {
                    let text = match incoming {
                        Ok(Some(text)) => text,
                        Ok(None) => continue,
                        Err(ending) => return ending,
                    };
                    let reply = match parse_client_message(&text) {
                        Ok(ClientMessage::Auth { .. }) => Some(json!({"type": "error", "code": "already_authenticated",
                            "message": "this connection is authenticated already"}).to_string()),
                        Ok(ClientMessage::Command { id, command }) => {
                            let name = command.name();
                            let commands = commands.get_or_insert_with(|| Commands::start(&self.app, &caller));
                            match commands.jobs.try_send(Job::Command { id, command }) {
                                Ok(()) => None,
                                Err(mpsc::error::TrySendError::Full(Job::Command { id, .. })) => Some(rejected(
                                    id.as_ref(), name, "rate_limited", "too many commands waiting; slow down")),
                                Err(_) => return Ending::Gone,
                            }
                        }
                        Err(failure) => Some(failure_reply(failure)),
                    };
                    if let Some(reply) = reply && let Err(ending) = self.send_text(reply).await {
                        return ending;
                    }
                }
                changed = states.changed() => {
                    if changed.is_err() {
                        return Ending::Close(CLOSE_GOING_AWAY, "server shutting down");
                    }
                    let frame = states.borrow_and_update().clone();
                    if let Some(frame) = frame && let Err(ending) = self.send_state(&frame, &caller.identity, &mut sent).await {
                        return ending;
                    }
                }
                reply = next_reply(&mut commands) => match reply {
                    Some(Reply::Text(text)) => {
                        if let Err(ending) = self.send_text(text).await {
                            return ending;
                        }
                    }
                    Some(Reply::Identity(new)) => caller.identity = new,
                    Some(Reply::Close(code, reason)) => return Ending::Close(code, reason),
                    None => return Ending::Gone,
                },
                rechecked = recheck_done(&mut recheck) => {
                    recheck = None;
                    for reply in rechecked.unwrap_or_default() {
                        match reply {
                            Reply::Identity(new) => caller.identity = new,
                            Reply::Close(code, reason) => return Ending::Close(code, reason),
                            Reply::Text(_) => {}
                        }
                    }
                },
                revoked = revocations.recv() => match revoked {
                    Ok(token) if token == caller.token => {
                        return Ending::Close(CLOSE_UNAUTHENTICATED, "logged out");
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => revalidate_later(&self.app, &caller, commands.as_ref(), &mut recheck),
                    Err(broadcast::error::RecvError::Closed) => return Ending::Gone,
                },
                _ = pings.tick() => {
                    // A client that answered nothing for two intervals is gone.
                    if self.last_heard.elapsed() > ping_interval * 2 + Duration::from_secs(5) {
                        return Ending::Gone;
                    }
                    revalidate_later(&self.app, &caller, commands.as_ref(), &mut recheck);
                    if let Err(ending) = self.send(Message::Ping(Bytes::new())).await {
                        return ending;
                    }
                }
            }
        }
    }

    async fn send_welcome(&mut self, identity: &v1::PlayerIdentity) -> Result<(), Ending> {
        let unavailable = |error: ApiError| {
            tracing::warn!(%error, "cannot welcome a player");
            Ending::Close(CLOSE_TRY_AGAIN_LATER, "game services unavailable")
        };
        let (config, bodies) = tokio::join!(self.app.game_config(), self.app.bodies_now());
        let welcome = json!({
            "type": "welcome",
            "player": player_from_proto(identity),
            "ship_id": Some(&identity.ship_id).filter(|id| !id.is_empty()),
            "config": config.map_err(unavailable)?,
            "bodies": bodies.map_err(unavailable)?.bodies,
        });
        self.send_text(welcome.to_string()).await
    }

    /// Sends one `state` message: the frame's shared prefix and the player's own suffix, uncopied
    /// — preceded by the frame's `roster` when the client does not have that one yet (its first
    /// state, or the ships changed since its last one, however many frames it skipped).
    async fn send_state(
        &mut self,
        frame: &StateFrame,
        identity: &v1::PlayerIdentity,
        sent: &mut SentSoFar,
    ) -> Result<(), Ending> {
        if let Some(last) = sent.sequence
            && frame.sequence > last + 1
        {
            metrics::counter!("galaxy_gateway_ws_states_dropped_total").increment(frame.sequence - last - 1);
        }
        sent.sequence = Some(frame.sequence);
        let roster = (sent.roster != Some(frame.roster.version)).then_some(&frame.roster.message);
        let ship_id = Some(identity.ship_id.as_str()).filter(|id| !id.is_empty());
        let suffix = frame.own_suffix(ship_id);
        let timeout = self.app.config.stalled_send_timeout;
        let written = tokio::time::timeout(timeout, async {
            if let Some(roster) = roster {
                self.write_text(&[roster]).await?;
                metrics::counter!("galaxy_gateway_ws_rosters_sent_total").increment(1);
            }
            self.write_text(&[&frame.prefix, &suffix]).await
        })
        .await;
        match written {
            Ok(Ok(())) => {
                sent.roster = Some(frame.roster.version);
                metrics::counter!("galaxy_gateway_ws_states_sent_total").increment(1);
                Ok(())
            }
            Ok(Err(_)) => Err(Ending::Gone),
            Err(_) => {
                metrics::counter!("galaxy_gateway_ws_stalled_total").increment(1);
                Err(Ending::Gone)
            }
        }
    }

    /// Writes one text message made of `parts` as a single unmasked frame straight to the
    /// socket, with one vectored write where the socket allows: the parts (a state's shared
    /// bytes) are never copied, and tungstenite's write buffer never holds more than a control
    /// frame. Whatever tungstenite has queued (a pong, say) is flushed first, so frames never
    /// interleave.
    async fn write_text(&mut self, parts: &[&[u8]]) -> Result<(), WsError> {
        self.socket.flush().await?;
        let length = parts.iter().map(|part| part.len()).sum();
        let (header, header_length) = text_frame_header(length);
        let mut slices: Vec<IoSlice<'_>> = std::iter::once(&header[..header_length])
            .chain(parts.iter().copied())
            .filter(|part| !part.is_empty())
            .map(IoSlice::new)
            .collect();
        let mut remaining = &mut slices[..];
        let io = self.socket.get_mut();
        while !remaining.is_empty() {
            let written = io.write_vectored(remaining).await?;
            if written == 0 {
                return Err(WsError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            IoSlice::advance_slices(&mut remaining, written);
        }
        io.flush().await?;
        Ok(())
    }

    async fn send_text(&mut self, text: String) -> Result<(), Ending> {
        match tokio::time::timeout(self.app.config.stalled_send_timeout, self.write_text(&[text.as_bytes()])).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Ending::Gone),
        }
    }

    async fn send(&mut self, message: Message) -> Result<(), Ending> {
        match tokio::time::timeout(self.app.config.stalled_send_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Ending::Gone),
        }
    }

    /// Ends the connection as `ending` says.
    async fn end(mut self, ending: Ending) {
        let (code, reason, drain) = match ending {
            Ending::Gone => return,
            Ending::Close(code, reason) => (code, reason, false),
            Ending::CloseAndDrain(code, reason) => (code, reason, true),
        };
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.socket.close(Some(frame))).await;
        if drain {
            // The rest of an oversize message is still arriving: reading it through the
            // WebSocket would buffer it, so read raw bytes and throw them away.
            let raw = self.socket.get_mut();
            let mut buffer = [0_u8; 4096];
            let mut drained = 0;
            while drained < DRAIN_AFTER_CLOSE_BYTES {
                match tokio::time::timeout(Duration::from_millis(200), raw.read(&mut buffer)).await {
                    Ok(Ok(read)) if read > 0 => drained += read,
                    _ => break,
                }
            }
        } else {
            // Wait briefly for the client's close reply, so it sees a clean close.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = self.socket.next().await {} })
                .await;
        }
    }
}

/// The header of an unmasked, unfragmented text frame (RFC 6455 §5.2) with a payload of
/// `length` bytes, and how many of its bytes are used.
fn text_frame_header(length: usize) -> ([u8; 10], usize) {
    const FIN_TEXT: u8 = 0x81;
    let mut header = [0_u8; 10];
    header[0] = FIN_TEXT;
    if length < 126 {
        header[1] = length as u8;
        (header, 2)
    } else if let Ok(short) = u16::try_from(length) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        (header, 4)
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(length as u64).to_be_bytes());
        (header, 10)
    }
}

/// What a connection has sent of the frames: the last frame's sequence, and the version of the
/// roster the client holds.
#[derive(Debug, Default)]
struct SentSoFar {
    sequence: Option<u64>,
    roster: Option<u64>,
}

/// Resolves once shutdown has started (the guard `wait_for` returns is dropped here, so the
/// connection's future stays `Send`).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Aborts the task when dropped (the command task ends with its connection).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connection's command task and its queues, started at the connection's first command.
struct Commands {
    jobs: mpsc::Sender<Job>,
    replies: mpsc::Receiver<Reply>,
    _task: AbortOnDrop<()>,
}

impl Commands {
    fn start(app: &Arc<AppState>, caller: &Caller) -> Commands {
        let (jobs, job_queue) = mpsc::channel(COMMAND_QUEUE);
        let (reply_sender, replies) = mpsc::channel(COMMAND_QUEUE * 2);
        let task = tokio::spawn(run_commands(Arc::clone(app), caller.clone(), job_queue, reply_sender));
        Commands { jobs, replies, _task: AbortOnDrop(task) }
    }
}

/// A session re-check running on its own task, for a connection without a command task.
type Recheck = AbortOnDrop<Vec<Reply>>;

/// The command task's next reply; never resolves while there is no command task.
async fn next_reply(commands: &mut Option<Commands>) -> Option<Reply> {
    match commands {
        Some(commands) => commands.replies.recv().await,
        None => std::future::pending().await,
    }
}

/// The running re-check's replies (none if it failed); never resolves while none runs.
async fn recheck_done(recheck: &mut Option<Recheck>) -> Option<Vec<Reply>> {
    match recheck {
        Some(AbortOnDrop(task)) => task.await.ok(),
        None => std::future::pending().await,
    }
}

/// Re-checks the session off the connection's task: through the command task when there is
/// one (so its view of the player stays in step), else on a task of its own (one at a time).
fn revalidate_later(app: &Arc<AppState>, caller: &Caller, commands: Option<&Commands>, recheck: &mut Option<Recheck>) {
    match commands {
        Some(commands) => {
            let _ = commands.jobs.try_send(Job::Revalidate);
        }
        None if recheck.is_none() => {
            let (app, mut caller) = (Arc::clone(app), caller.clone());
            *recheck = Some(AbortOnDrop(tokio::spawn(async move { revalidate(&app, &mut caller).await })));
        }
        None => {}
    }
}

/// Runs one connection's commands in order, so slow service calls never hold up its states.
async fn run_commands(
    app: Arc<AppState>,
    mut caller: Caller,
    mut jobs: mpsc::Receiver<Job>,
    replies: mpsc::Sender<Reply>,
) {
    let mut last_control: Option<ControlJson> = None;
    while let Some(job) = jobs.recv().await {
        let outcome = match job {
            Job::Revalidate => revalidate(&app, &mut caller).await,
            Job::Command { id, command } => {
                let name = command.name();
                match execute(&app, &mut caller, &mut last_control, id.as_ref(), command).await {
                    Ok(replies) => replies,
                    Err(error) if error.status == StatusCode::UNAUTHORIZED => {
                        vec![Reply::Close(CLOSE_UNAUTHENTICATED, "session expired or revoked")]
                    }
                    Err(error) => {
                        metrics::counter!("galaxy_gateway_commands_total", "result" => "rejected").increment(1);
                        vec![Reply::Text(rejected(id.as_ref(), name, error.code, &error.message))]
                    }
                }
            }
        };
        for reply in outcome {
            if replies.send(reply).await.is_err() {
                return;
            }
        }
    }
}

async fn revalidate(app: &AppState, caller: &mut Caller) -> Vec<Reply> {
    match app.sessions.validate(&app.backends.players, &caller.token).await {
        Ok(fresh) if fresh.identity != caller.identity => {
            caller.identity = fresh.identity.clone();
            vec![Reply::Identity(fresh.identity)]
        }
        Ok(_) => Vec::new(),
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            vec![Reply::Close(CLOSE_UNAUTHENTICATED, "session expired or revoked")]
        }
        // The players service being down does not end anyone's game.
        Err(_) => Vec::new(),
    }
}

async fn execute(
    app: &AppState,
    caller: &mut Caller,
    last_control: &mut Option<ControlJson>,
    id: Option<&Value>,
    command: Command,
) -> Result<Vec<Reply>, ApiError> {
    let name = command.name();
    if let Err(wait) = app.command_limit.check(&caller.identity.player_id) {
        metrics::counter!("galaxy_gateway_rate_limited_total", "limit" => "command").increment(1);
        return Err(ApiError::rate_limited(wait));
    }
    let mut replies = Vec::new();
    match order(command)? {
        Order::Submit { control, attitude_mode, target } => {
            // NOTE: the players service requires a control with every command; with a mode
            // change the pilot's current inputs are re-sent unchanged.
            let sent = match control.or(*last_control) {
                Some(control) => control,
                None => current_control(app, caller.ship_id()),
            };
            submit(app, caller, &mut replies, sent, attitude_mode, target).await?;
            if control.is_some() {
                *last_control = Some(sent);
            }
        }
        Order::Respawn { class } => {
            let ship = app.respawn(&caller.token, &class).await?;
            caller.identity.ship_id.clone_from(&ship.ship_id);
            *last_control = None;
            replies.push(Reply::Identity(caller.identity.clone()));
            replies.push(Reply::Text(json!({"type": "respawned", "id": id, "ship_id": ship.ship_id}).to_string()));
            metrics::counter!("galaxy_gateway_commands_total", "result" => "ack").increment(1);
            return Ok(replies);
        }
    }
    metrics::counter!("galaxy_gateway_commands_total", "result" => "ack").increment(1);
    replies.push(Reply::Text(json!({"type": "ack", "id": id, "command": name}).to_string()));
    Ok(replies)
}

/// The gateway's own check of a command: the attitude mode must be one the protocol names.
pub(crate) fn order(command: Command) -> Result<Order, ApiError> {
    Ok(match command {
        Command::Control(control) => {
            Order::Submit { control: Some(control), attitude_mode: v1::AttitudeMode::Unspecified, target: None }
        }
        Command::AttitudeMode { mode, target } => {
            let mode = AttitudeMode::from_name(&mode).ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "unknown attitude mode {:?}",
                    mode.chars().take(32).collect::<String>()
                ))
            })?;
            Order::Submit { control: None, attitude_mode: mode.into(), target }
        }
        Command::Respawn { class } => Order::Respawn { class },
    })
}

/// The `ValidateCommand` request [`submit`] sends.
pub(crate) fn command_request(
    token: &str,
    ship_id: &str,
    control: ControlJson,
    attitude_mode: v1::AttitudeMode,
    target: Option<TargetJson>,
) -> v1::ValidateCommandRequest {
    v1::ValidateCommandRequest {
        token: token.to_owned(),
        ship_id: ship_id.to_owned(),
        control: Some(control.into()),
        attitude_mode: attitude_mode as i32,
        target: target.map(Into::into),
    }
}

/// The ship's inputs as of the latest frame (zero if unknown).
fn current_control(app: &AppState, ship_id: Option<&str>) -> ControlJson {
    let frame = app.latest.borrow().clone();
    frame
        .zip(ship_id)
        .and_then(|(frame, ship_id)| frame.details.get(ship_id).map(|details| details.control))
        .unwrap_or_default()
}

/// Submits a command to the players service (which validates and queues it). A refusal for a
/// ship that is no longer the player's current one re-reads the identity and tries once more.
async fn submit(
    app: &AppState,
    caller: &mut Caller,
    replies: &mut Vec<Reply>,
    control: ControlJson,
    attitude_mode: v1::AttitudeMode,
    target: Option<TargetJson>,
) -> Result<(), ApiError> {
    for attempt in 0..2 {
        let ship_id = caller.ship_id().ok_or_else(|| ApiError::not_found("you have no ship; respawn first"))?;
        let request = command_request(&caller.token, ship_id, control, attitude_mode, target.clone());
        match app.backends.players.clone().submit_command(request).await {
            Ok(_) => return Ok(()),
            Err(status) if status.code() == tonic::Code::PermissionDenied && attempt == 0 => {
                let fresh = app.sessions.validate_fresh(&app.backends.players, &caller.token).await?;
                if fresh.identity.ship_id == caller.identity.ship_id {
                    return Err(ApiError::from_status(&status));
                }
                caller.identity = fresh.identity.clone();
                replies.push(Reply::Identity(fresh.identity));
            }
            Err(status) => {
                return Err(match status.code() {
                    tonic::Code::Unauthenticated => ApiError::unauthenticated(status.message()),
                    _ => ApiError::from_status(&status),
                });
            }
        }
    }
    Err(ApiError::forbidden("that ship is not yours"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_and_malformed_ones_say_why() {
        assert!(
            matches!(parse_client_message(r#"{"type":"auth","token":"t"}"#), Ok(ClientMessage::Auth { token }) if token == "t")
        );
        let control = parse_client_message(r#"{"type":"control","id":1,"throttle":0.5}"#);
        assert!(
            matches!(control, Ok(ClientMessage::Command { command: Command::Control(ControlJson { throttle, .. }), .. }) if throttle == 0.5)
        );
        let target =
            parse_client_message(r#"{"type":"attitude_mode","id":3,"mode":"target","target":{"body":"Moon"}}"#);
        assert!(matches!(
            target,
            Ok(ClientMessage::Command { command: Command::AttitudeMode { target: Some(TargetJson::Body(_)), .. }, .. })
        ));
        for malformed in ["", "nope", "[]", "{}", r#"{"type":1}"#, "null"] {
            assert_eq!(parse_client_message(malformed).err(), Some(ParseFailure::Malformed), "{malformed:?}");
        }
        assert_eq!(parse_client_message(r#"{"type":"dance"}"#).err(), Some(ParseFailure::UnknownType("dance".into())));
        let bad = parse_client_message(r#"{"type":"control","id":9,"throttle":"full"}"#).err();
        assert!(matches!(bad, Some(ParseFailure::BadCommand { id: Some(Value::Number(_)), command: "control", .. })));
    }

    /// Found by fuzz/ (`ws_client_message`): the length of a string `id` was counted in bytes, so
    /// an id of 33 to 64 non-ASCII characters, which the protocol allows, was silently not echoed.
    #[test]
    fn string_ids_of_up_to_64_characters_are_echoed_whatever_their_bytes() {
        let id_of = |id: &str| {
            let message = json!({"type": "respawn", "id": id, "class": "fast_frigate"}).to_string();
            match parse_client_message(&message) {
                Ok(ClientMessage::Command { id, .. }) => id,
                other => panic!("{message} read as {other:?}"),
            }
        };
        let accented = "é".repeat(64);
        assert_eq!(id_of(&accented), Some(Value::String(accented.clone())), "64 characters, 128 bytes");
        assert_eq!(id_of(&"🚀".repeat(40)), Some(Value::String("🚀".repeat(40))));
        assert_eq!(id_of(&"x".repeat(64)), Some(Value::String("x".repeat(64))));
        assert_eq!(id_of(&"x".repeat(65)), None);
        assert_eq!(id_of(&format!("{accented}é")), None, "65 characters");
    }
}
