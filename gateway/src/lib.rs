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
//! facade; the binaries install the exporter.

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
