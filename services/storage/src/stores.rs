//! [`Database`] and [`EventBus`]: what services hold. Each is the real store (PostgreSQL, Redis)
//! or its in-process stand-in ([`MemoryDatabase`], [`MemoryBus`]) for the one-process `galaxy`
//! binary run without `DATABASE_URL` / `REDIS_URL`; the operations and their errors are the same.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::error::StorageError;
use crate::memory::{MemoryBus, MemoryDatabase};
use crate::model::{
    AuditEntry, GameConfig, NewSnapshot, Player, PlayerId, Role, Session, Ship, Snapshot, SnapshotId, SnapshotSummary,
    StoredGameConfig, TickRecord,
};
use crate::postgres::PostgresStore;
use crate::redis::{RedisStore, StreamEntry, StreamEntryId, StreamName};

/// The durable store: PostgreSQL, or memory (nothing survives the process).
#[derive(Debug, Clone)]
pub enum Database {
    /// PostgreSQL through a pool.
    Postgres(PostgresStore),
    /// In-process tables.
    Memory(MemoryDatabase),
}

/// Runs `$postgres` on the PostgreSQL store or `$memory` on the in-memory one.
macro_rules! on_database {
    ($self:expr, $store:ident => $postgres:expr, $memory:expr) => {
        match $self {
            Database::Postgres($store) => $postgres.await,
            Database::Memory($store) => $memory,
        }
    };
}

impl Database {
    /// Whether this store keeps anything past the process.
    #[must_use]
    pub fn is_durable(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }

    /// Checks the store answers (readiness).
    pub async fn ping(&self) -> Result<(), StorageError> {
        match self {
            Database::Postgres(store) => store.ping().await,
            Database::Memory(_) => Ok(()),
        }
    }

    /// See [`PostgresStore::create_player`].
    pub async fn create_player(&self, username: &str, password_hash: &str, role: Role) -> Result<Player, StorageError> {
        on_database!(self, store => store.create_player(username, password_hash, role), store.create_player(username, password_hash, role))
    }

    /// See [`PostgresStore::find_player_by_username`].
    pub async fn find_player_by_username(&self, username: &str) -> Result<Option<Player>, StorageError> {
        on_database!(self, store => store.find_player_by_username(username), Ok(store.find_player_by_username(username)))
    }

    /// See [`PostgresStore::find_player`].
    pub async fn find_player(&self, player_id: PlayerId) -> Result<Option<Player>, StorageError> {
        on_database!(self, store => store.find_player(player_id), Ok(store.find_player(player_id)))
    }

    /// See [`PostgresStore::list_players`].
    pub async fn list_players(&self, limit: u32) -> Result<Vec<Player>, StorageError> {
        on_database!(self, store => store.list_players(limit), Ok(store.list_players(limit)))
    }

    /// See [`PostgresStore::touch_player`].
    pub async fn touch_player(&self, player_id: PlayerId, now: SystemTime) -> Result<(), StorageError> {
        on_database!(self, store => store.touch_player(player_id, now), {
            store.touch_player(player_id, now);
            Ok(())
        })
    }

    /// See [`PostgresStore::set_banned`].
    pub async fn set_banned(&self, player_id: PlayerId, banned: bool) -> Result<(), StorageError> {
        on_database!(self, store => store.set_banned(player_id, banned), store.set_banned(player_id, banned))
    }

    /// See [`PostgresStore::set_role`].
    pub async fn set_role(&self, player_id: PlayerId, role: Role) -> Result<(), StorageError> {
        on_database!(self, store => store.set_role(player_id, role), store.set_role(player_id, role))
    }

    /// See [`PostgresStore::create_session`].
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        player_id: PlayerId,
        expires_at: SystemTime,
    ) -> Result<Session, StorageError> {
        on_database!(self, store => store.create_session(token_hash, player_id, expires_at), store.create_session(token_hash, player_id, expires_at))
    }

    /// See [`PostgresStore::find_active_session`].
    pub async fn find_active_session(
        &self,
        token_hash: &[u8],
        now: SystemTime,
    ) -> Result<Option<Session>, StorageError> {
        on_database!(self, store => store.find_active_session(token_hash, now), Ok(store.find_active_session(token_hash, now)))
    }

    /// See [`PostgresStore::revoke_session`].
    pub async fn revoke_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        on_database!(self, store => store.revoke_session(token_hash), store.revoke_session(token_hash))
    }

    /// See [`PostgresStore::revoke_active_session`].
    pub async fn revoke_active_session(
        &self,
        token_hash: &[u8],
        now: SystemTime,
    ) -> Result<Option<Session>, StorageError> {
        on_database!(self, store => store.revoke_active_session(token_hash, now), Ok(store.revoke_active_session(token_hash, now)))
    }

    /// See [`PostgresStore::revoke_sessions_of_player`].
    pub async fn revoke_sessions_of_player(&self, player_id: PlayerId) -> Result<u64, StorageError> {
        on_database!(self, store => store.revoke_sessions_of_player(player_id), Ok(store.revoke_sessions_of_player(player_id)))
    }

    /// See [`PostgresStore::delete_ended_sessions`].
    pub async fn delete_ended_sessions(&self, now: SystemTime) -> Result<u64, StorageError> {
        on_database!(self, store => store.delete_ended_sessions(now), Ok(store.delete_ended_sessions(now)))
    }

    /// See [`PostgresStore::create_ship`].
    pub async fn create_ship(&self, owner_id: PlayerId, class_name: &str, name: &str) -> Result<Ship, StorageError> {
        on_database!(self, store => store.create_ship(owner_id, class_name, name), store.create_ship(owner_id, class_name, name))
    }

    /// See [`PostgresStore::ships_of_player`].
    pub async fn ships_of_player(&self, owner_id: PlayerId) -> Result<Vec<Ship>, StorageError> {
        on_database!(self, store => store.ships_of_player(owner_id), Ok(store.ships_of_player(owner_id)))
    }

    /// See [`PostgresStore::save_snapshot`].
    pub async fn save_snapshot(&self, snapshot: &NewSnapshot<'_>) -> Result<SnapshotSummary, StorageError> {
        on_database!(self, store => store.save_snapshot(snapshot), store.save_snapshot(snapshot))
    }

    /// See [`PostgresStore::latest_snapshot`].
    pub async fn latest_snapshot(&self) -> Result<Option<Snapshot>, StorageError> {
        on_database!(self, store => store.latest_snapshot(), Ok(store.latest_snapshot()))
    }

    /// See [`PostgresStore::snapshot_by_id`].
    pub async fn snapshot_by_id(&self, snapshot_id: SnapshotId) -> Result<Snapshot, StorageError> {
        on_database!(self, store => store.snapshot_by_id(snapshot_id), store.snapshot_by_id(snapshot_id))
    }

    /// See [`PostgresStore::list_snapshots`].
    pub async fn list_snapshots(&self, limit: u32) -> Result<Vec<SnapshotSummary>, StorageError> {
        on_database!(self, store => store.list_snapshots(limit), Ok(store.list_snapshots(limit)))
    }

    /// See [`PostgresStore::load_config`].
    pub async fn load_config(&self) -> Result<StoredGameConfig, StorageError> {
        on_database!(self, store => store.load_config(), Ok(store.load_config()))
    }

    /// See [`PostgresStore::save_config`].
    pub async fn save_config(&self, config: &GameConfig) -> Result<StoredGameConfig, StorageError> {
        on_database!(self, store => store.save_config(config), store.save_config(config))
    }

    /// See [`PostgresStore::append_audit`].
    pub async fn append_audit(
        &self,
        admin_id: PlayerId,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StorageError> {
        on_database!(self, store => store.append_audit(admin_id, action, details), store.append_audit(admin_id, action, details))
    }

    /// See [`PostgresStore::list_audit`].
    pub async fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        on_database!(self, store => store.list_audit(limit), Ok(store.list_audit(limit)))
    }

    /// See [`PostgresStore::record_tick`].
    pub async fn record_tick(&self, tick: u64, game_time: f64) -> Result<TickRecord, StorageError> {
        on_database!(self, store => store.record_tick(tick, game_time), store.record_tick(tick, game_time))
    }

    /// See [`PostgresStore::latest_tick`].
    pub async fn latest_tick(&self) -> Result<Option<TickRecord>, StorageError> {
        on_database!(self, store => store.latest_tick(), Ok(store.latest_tick()))
    }
}

/// The real-time state and event streams: Redis, or memory (one process only).
#[derive(Debug, Clone)]
pub enum EventBus {
    /// Redis through fred.
    Redis(RedisStore),
    /// In-process state and streams.
    Memory(MemoryBus),
}

/// Runs `$redis` on the Redis store or `$memory` on the in-memory one.
macro_rules! on_bus {
    ($self:expr, $store:ident => $redis:expr, $memory:expr) => {
        match $self {
            EventBus::Redis($store) => $redis.await,
            EventBus::Memory($store) => $memory,
        }
    };
}

impl EventBus {
    /// Whether the bus is shared beyond this process.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self, EventBus::Redis(_))
    }

    /// Checks the bus answers (readiness).
    pub async fn ping(&self) -> Result<(), StorageError> {
        match self {
            EventBus::Redis(store) => store.ping().await,
            EventBus::Memory(_) => Ok(()),
        }
    }

    /// See [`RedisStore::write_state`].
    pub async fn write_state(&self, state: impl Into<Bytes>) -> Result<(), StorageError> {
        on_bus!(self, store => store.write_state(state), {
            store.write_state(state);
            Ok(())
        })
    }

    /// See [`RedisStore::read_state`].
    pub async fn read_state(&self) -> Result<Option<Bytes>, StorageError> {
        on_bus!(self, store => store.read_state(), Ok(store.read_state()))
    }

    /// See [`RedisStore::write_world`].
    pub async fn write_world(&self, snapshot: impl Into<Bytes>) -> Result<(), StorageError> {
        on_bus!(self, store => store.write_world(snapshot), {
            store.write_world(snapshot);
            Ok(())
        })
    }

    /// See [`RedisStore::read_world`].
    pub async fn read_world(&self) -> Result<Option<Bytes>, StorageError> {
        on_bus!(self, store => store.read_world(), Ok(store.read_world()))
    }

    /// See [`RedisStore::append`].
    pub async fn append(&self, stream: StreamName, fields: &[(&str, &[u8])]) -> Result<StreamEntryId, StorageError> {
        on_bus!(self, store => store.append(stream, fields), store.append(stream, fields))
    }

    /// See [`RedisStore::read_stream`].
    pub async fn read_stream(
        &self,
        stream: StreamName,
        after: &StreamEntryId,
        max_count: u64,
    ) -> Result<Vec<StreamEntry>, StorageError> {
        on_bus!(self, store => store.read_stream(stream, after, max_count), Ok(store.read_stream(stream, after, max_count)))
    }

    /// See [`RedisStore::read_stream_blocking`].
    pub async fn read_stream_blocking(
        &self,
        stream: StreamName,
        after: &StreamEntryId,
        max_count: u64,
        block: Duration,
    ) -> Result<Vec<StreamEntry>, StorageError> {
        match self {
            EventBus::Redis(store) => store.read_stream_blocking(stream, after, max_count, block).await,
            EventBus::Memory(store) => Ok(store.read_stream_blocking(stream, after, max_count, block).await),
        }
    }

    /// See [`RedisStore::stream_len`].
    pub async fn stream_len(&self, stream: StreamName) -> Result<u64, StorageError> {
        on_bus!(self, store => store.stream_len(stream), Ok(store.stream_len(stream)))
    }

    /// See [`RedisStore::last_entry_id`].
    pub async fn last_entry_id(&self, stream: StreamName) -> Result<Option<StreamEntryId>, StorageError> {
        on_bus!(self, store => store.last_entry_id(stream), Ok(store.last_entry_id(stream)))
    }
}

/// The stores a process runs on, from its [`crate::StorageConfig`]: the real ones where
/// configured, the in-process stand-ins otherwise (see [`Stores::is_durable`]).
#[derive(Debug, Clone)]
pub struct Stores {
    /// Accounts, snapshots, configuration, audit, tick log.
    pub database: Database,
    /// Real-time state and streams.
    pub bus: EventBus,
}

impl Stores {
    /// Connects to what `config` names (migrating PostgreSQL) and stands in memory for the rest.
    pub async fn connect(config: &crate::StorageConfig) -> Result<Stores, StorageError> {
        let database = match &config.postgres {
            Some(postgres) => Database::Postgres(PostgresStore::connect(postgres).await?),
            None => Database::Memory(MemoryDatabase::new()),
        };
        let bus = match &config.redis {
            Some(redis) => EventBus::Redis(RedisStore::connect(redis).await?),
            None => EventBus::Memory(MemoryBus::new(10_000)),
        };
        Ok(Stores { database, bus })
    }

    /// Connects to PostgreSQL and Redis, both required (a microservice: memory stores would be
    /// private to this process). [`StorageError::Invalid`] names what is missing.
    pub async fn connect_durable(config: &crate::StorageConfig) -> Result<Stores, StorageError> {
        if config.postgres.is_none() || config.redis.is_none() {
            return Err(StorageError::Invalid(
                "DATABASE_URL and REDIS_URL must both be set (the one-process `galaxy` binary runs without them)"
                    .to_owned(),
            ));
        }
        Stores::connect(config).await
    }

    /// In-process stores only (nothing durable, nothing shared with other processes).
    #[must_use]
    pub fn in_memory() -> Stores {
        Stores { database: Database::Memory(MemoryDatabase::new()), bus: EventBus::Memory(MemoryBus::new(10_000)) }
    }

    /// Whether both stores outlive the process (PostgreSQL and Redis).
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.database.is_durable() && self.bus.is_shared()
    }

    /// Checks both stores answer (readiness).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.database.ping().await?;
        self.bus.ping().await
    }
}
