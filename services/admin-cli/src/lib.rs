//! `galaxy-admin`: the command line for the people who run the galaxy — inside a pod with
//! `kubectl exec`, or locally against the one-process game. It talks to the services over
//! their gRPC ports (tick-engine 8001, physics 8002, players 8003, galaxy 8004), never to a
//! database, so it works the same against in-memory and durable stores.
//!
//! Every change is made by an admin (checked by the players service before anything is changed)
//! and recorded in the admin audit log: account changes by the players service itself, the
//! simulation controls by this tool through `PlayersAdmin.RecordAudit` right after they succeed.
//!
//! Output is a table (or a line) for people, one JSON document with `--json` for scripts.
//! Failures print one line on stderr and exit with a code per kind ([`AdminError::exit_code`]).
#![warn(missing_docs)]

mod cli;
mod commands;
mod connect;
mod error;
mod table;

pub use cli::{
    AdminsCommand, AuditCommand, Cli, Command, Credentials, GetSet, PlayersCommand, Registrations, ServiceUrls,
    SnapshotCommand,
};
pub use commands::{Report, run};
pub use error::AdminError;
