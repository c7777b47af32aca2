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
