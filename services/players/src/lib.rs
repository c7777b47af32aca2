//! Galaxy's players service: accounts, sessions, ship ownership and command validation.
//!
//! The central type is [`PlayerAccounts`], the domain over a
//! [`PostgresStore`](galaxy_storage::PostgresStore): it registers players (only while the
//! injectable "registrations open" flag in [`PlayersConfig`] is set, each with a `fast_frigate`
//! ship record), logs them in, issues, refreshes and revokes sessions, and checks pilots'
//! commands. [`PlayersService`] is its thin gRPC skin (`galaxy.v1.Players`, port 8003), served
//! with [`PlayersServer`]. The gateway calls it to log players in and to vet every command; the
//! `galaxy` binary composes it with the other services. Admins manage accounts and read the
//! audit log through `galaxy.v1.PlayersAdmin` ([`PlayersAdminServer`], same port), which only
//! admins' sessions may call and which records every change in the audit log itself.
//!
//! Security choices, each for a reason:
//! - passwords are argon2id PHC strings, hashed on tokio's blocking pool, a few at a time;
//! - session tokens are 256 random bits; the database holds only their SHA-256 hash, so a leaked
//!   table grants nothing; they last 24 h and die on logout, refresh and ban;
//! - an unknown username and a wrong password give the same error in the same time, and repeated
//!   failures lock the account (counted in memory, so it works while PostgreSQL is down);
//! - commands are rate-limited per player before they reach the database.
#![warn(missing_docs)]

mod accounts;
mod admin;
mod credentials;
mod error;
mod grpc;
mod limits;
mod password;
mod server;
mod token;

pub use accounts::{
    CommandTarget, IssuedSession, PlayerAccounts, PlayerIdentity, PlayersConfig, STARTING_SHIP_CLASS, ValidatedCommand,
};
pub use admin::{ADMIN_LIST_MAX, NamedAuditEntry};
pub use credentials::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, USERNAME_MAX_CHARS, USERNAME_MIN_CHARS};
pub use error::PlayersError;
pub use galaxy_proto::v1::players_admin_server::PlayersAdminServer;
pub use galaxy_proto::v1::players_server::PlayersServer;
pub use grpc::PlayersService;
pub use server::{ServeError, serve};
pub use token::SessionToken;
