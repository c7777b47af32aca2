//! Galaxy's api-gateway: the only thing a player's browser talks to. REST under `/api`
//! (accounts, sessions, ships, predictions, respawn), the live WebSocket `/ws` (a `state` every
//! tick, commands answered with `ack`/`rejected`), and in the one-process mode the built web
//! client at `/`. The contract is `docs/protocol.md`; the OpenAPI document is served at
//! `/api/openapi.json`.
//!
//! The central type is [`Gateway`]: built from a [`GatewayConfig`], the gRPC [`Backends`]
//! (players for auth and commands, physics for ships and predictions, galaxy for the catalog and
//! configuration) and the [`EventBus`](galaxy_storage::EventBus) whose `tick.completed` stream it
//! follows. One follower per gateway reads each tick's state once and shares it with every
//! connection through a latest-wins slot ([`fanout`]), so a slow client never delays the others.
//! The `galaxy-api-gateway` binary and the one-process `galaxy` binary both serve it; either may
//! merge more routes (`/metrics`) into [`Gateway::router`]. Metrics go through the `metrics`
//! facade; the binaries install the exporter:
//!
//! | metric | what |
//! |---|---|
//! | `galaxy_gateway_ws_connections` (gauge), `galaxy_gateway_ws_connections_total` | WebSockets open now, ever opened |
//! | `galaxy_gateway_ws_refused_total{reason}` | closed before serving: `origin`, `auth_timeout`, `bad_token` |
//! | `galaxy_gateway_ws_states_sent_total`, `galaxy_gateway_ws_states_dropped_total` | states sent; states a slow client skipped (latest wins) |
//! | `galaxy_gateway_ws_rosters_sent_total` | rosters sent: one per connection, and one to each client whenever the ships changed |
//! | `galaxy_gateway_ws_stalled_total` | connections dropped because a state could not be sent in time |
//! | `galaxy_gateway_state_frames_total`, `galaxy_gateway_state_frame_seconds` | frames built, time to read and build one |
//! | `galaxy_gateway_ticks_coalesced_total` | ticks never published on their own (catch-up) |
//! | `galaxy_gateway_logins_total`, `galaxy_gateway_login_failures_total`, `galaxy_gateway_registrations_total` | accounts |
//! | `galaxy_gateway_commands_total{result}`, `galaxy_gateway_rate_limited_total{limit}` | commands acked/rejected; requests refused by a limit |
//!
//! Load: `gateway/load` (`gateway-load stack` + `gateway-load clients`) measures fan-out latency
//! and the gateway's memory with thousands of clients.

#![warn(missing_docs)]

mod auth;
mod backends;
pub mod config;
mod error;
pub mod fanout;
mod gateway;
mod http_server;
mod limits;
pub mod model;
mod openapi;
mod rest;
mod ws;

pub use auth::{Caller, SessionCache};
pub use backends::Backends;
pub use config::{ConfigError, GatewayConfig, OriginPolicy};
pub use error::{ApiError, ErrorBody, ErrorDetail, GatewayError};
pub use fanout::StateFrame;
pub use gateway::Gateway;
pub use openapi::ApiDoc;
pub use ws::MAX_CLIENT_MESSAGE_BYTES;

/// For `fuzz/` only; not an API. Thin doors to the private parsing and validation the REST
/// handlers and the WebSocket connections run, so the fuzz targets exercise the very same code
/// without a server, a socket or the services behind them.
#[doc(hidden)]
pub mod fuzzing {
    use std::collections::HashMap;

    use axum::extract::Query;
    use axum::http::Uri;
    use galaxy_proto::v1;
    use serde_json::Value;

    pub use crate::model::{ControlJson, CredentialsJson, RespawnJson, TargetJson};
    pub use crate::ws::{ClientMessage, Command, Order, ParseFailure};
    use crate::{ApiError, rest, ws};

    /// Largest REST request body (bigger ones are refused with 413 before any handler runs).
    pub const MAX_BODY_BYTES: usize = rest::MAX_BODY_BYTES;

    /// A WebSocket text message as a connection reads it.
    pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseFailure> {
        ws::parse_client_message(text)
    }

    /// The reply a connection sends for a message it did not understand.
    #[must_use]
    pub fn failure_reply(failure: ParseFailure) -> String {
        ws::failure_reply(failure)
    }

    /// The gateway's check of a parsed command, before it goes to the players service.
    pub fn order(command: Command) -> Result<Order, ApiError> {
        ws::order(command)
    }

    /// The `ValidateCommand` request a control or attitude command becomes.
    #[must_use]
    pub fn command_request(
        token: &str,
        ship_id: &str,
        control: ControlJson,
        attitude_mode: v1::AttitudeMode,
        target: Option<TargetJson>,
    ) -> v1::ValidateCommandRequest {
        ws::command_request(token, ship_id, control, attitude_mode, target)
    }

    /// The `rejected` reply to a command refused with `error`.
    #[must_use]
    pub fn rejected_reply(id: Option<&Value>, command: &str, error: &ApiError) -> String {
        ws::rejected(id, command, error.code, &error.message)
    }

    /// A JSON request body as the register and login handlers read it.
    pub fn credentials(body: &[u8]) -> Result<CredentialsJson, ApiError> {
        rest::parse_json(body)
    }

    /// The username part of the login and registration limits' key.
    #[must_use]
    pub fn login_limit_key(username: &str) -> String {
        rest::username_key(username)
    }

    /// A JSON request body as the respawn handler reads it.
    pub fn respawn(body: &[u8]) -> Result<RespawnJson, ApiError> {
        rest::parse_json(body)
    }

    /// The query of `GET /api/ships/{id}/prediction?{query}` as the handler's `Query` extractor
    /// reads it: `None` when that is not a URI (the HTTP server refuses it first), `Err` with
    /// axum's own rejection (a plain-text 400).
    #[must_use]
    pub fn prediction_query(query: &str) -> Option<Result<HashMap<String, String>, String>> {
        let uri: Uri = format!("/api/ships/ship-1/prediction?{query}").parse().ok()?;
        Some(
            Query::<HashMap<String, String>>::try_from_uri(&uri)
                .map(|query| query.0)
                .map_err(|error| error.body_text()),
        )
    }

    /// The prediction handler's validation of its query, and the request it sends physics.
    pub fn prediction_request(
        ship_id: &str,
        query: &HashMap<String, String>,
    ) -> Result<v1::PredictTrajectoryRequest, ApiError> {
        rest::prediction_request(ship_id.to_owned(), query)
    }
}
