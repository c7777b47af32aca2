//! Galaxy's storage, wrapped once: services talk to two repository types and never see a driver.
//!
//! - [`PostgresStore`] keeps what must survive restarts — accounts, sessions, ships, engine
//!   snapshots, the game configuration, the admin audit log and the tick log — in PostgreSQL
//!   through a `deadpool-postgres` pool, applying the numbered SQL migrations in `migrations/` at
//!   start-up (`refinery`).
//! - [`RedisStore`] keeps the real-time state and the event streams (`tick.completed`,
//!   `commands`) in Redis through `fred`, in a key space of its own per deployment
//!   (`galaxy:{prefix}:...`).
//!
//! Services hold a [`Database`] and an [`EventBus`]: each is one of those stores, or an in-process
//! stand-in ([`MemoryDatabase`], [`MemoryBus`]) with the same rules, for the one-process `galaxy`
//! binary run without them (nothing durable).
//!
//! Both are configured by [`StorageConfig`], read once from the environment variables named in
//! [`config`]. Every operation fails with one [`StorageError`], whose variants tell a service what
//! to answer: [`StorageError::Unavailable`] becomes gRPC `UNAVAILABLE` / HTTP 503, and arrives
//! within the configured timeouts rather than hanging. Values stay bytes and strings here; the
//! services own their encoding (no engine types in this crate).
//!
//! Called by the players, galaxy, physics and tick-engine services and by the api-gateway.
#![warn(missing_docs)]

pub mod config;
mod error;
mod lock;
mod memory;
mod model;
mod postgres;
mod redis;
mod stores;

pub use config::{ConfigError, PostgresConfig, RedisConfig, StorageConfig};
pub use error::StorageError;
pub use lock::SingletonLock;
pub use memory::{MemoryBus, MemoryDatabase};
pub use model::{
    AuditEntry, AuditEntryId, GameConfig, LAST_SEEN_RESOLUTION, NewSnapshot, Player, PlayerId, Role, Session, Ship,
    ShipId, Snapshot, SnapshotId, SnapshotSummary, StoredGameConfig, TickRecord,
};
pub use postgres::PostgresStore;
pub use redis::{RedisKeys, RedisStore, StreamEntry, StreamEntryId, StreamName};
pub use stores::{Database, EventBus, Stores};
