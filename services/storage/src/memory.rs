//! In-process stand-ins for PostgreSQL and Redis, for the one-process `galaxy` binary run without
//! `DATABASE_URL` / `REDIS_URL`: same operations, same rules, same errors — nothing durable.
//!
//! The rules a row must follow are the migration's CHECK constraints, restated here so a value the
//! real database would refuse is refused in memory too (the storage tests run against both).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::error::StorageError;
use crate::model::{
    AuditEntry, AuditEntryId, GameConfig, NewSnapshot, Player, PlayerId, Role, Session, Ship, ShipId, Snapshot,
    SnapshotId, SnapshotSummary, StoredGameConfig, TickRecord,
};
use crate::redis::{StreamEntry, StreamEntryId, StreamName};

/// The in-memory database. Cheap to clone (clones share the data).
#[derive(Debug, Clone, Default)]
pub struct MemoryDatabase {
    tables: Arc<Mutex<Tables>>,
}

#[derive(Debug)]
struct Tables {
    players: Vec<Player>,
    sessions: HashMap<Vec<u8>, Session>,
    ships: Vec<Ship>,
    snapshots: Vec<Snapshot>,
    config: StoredGameConfig,
    audit: Vec<AuditEntry>,
    ticks: Vec<TickRecord>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            players: Vec::new(),
            sessions: HashMap::new(),
            ships: Vec::new(),
            snapshots: Vec::new(),
            config: StoredGameConfig { config: GameConfig::default(), updated_at: SystemTime::now() },
            audit: Vec::new(),
            ticks: Vec::new(),
        }
    }
}

fn invalid(rule: &str) -> StorageError {
    StorageError::Invalid(format!("violates {rule}"))
}

fn next_id(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX).saturating_add(1)
}

pub(crate) fn username_is_valid(username: &str) -> bool {
    (3..=20).contains(&username.len()) && username.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

fn class_name_is_valid(class_name: &str) -> bool {
    (1..=64).contains(&class_name.len())
        && class_name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

fn action_is_valid(action: &str) -> bool {
    let mut bytes = action.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_lowercase())
        && action.len() <= 64
        && bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'.')
}

impl MemoryDatabase {
    /// An empty database holding the default game configuration (1 Hz, 1×, registrations open).
    #[must_use]
    pub fn new() -> MemoryDatabase {
        MemoryDatabase::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain data behind, still consistent row by row.
        self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// See [`crate::PostgresStore::create_player`].
    pub fn create_player(&self, username: &str, password_hash: &str, role: Role) -> Result<Player, StorageError> {
        if !username_is_valid(username) {
            return Err(invalid("players_username_format"));
        }
        if !password_hash.starts_with("$argon2id$") {
            return Err(invalid("players_password_hash_argon2id"));
        }
        let mut tables = self.tables();
        if tables.players.iter().any(|player| player.username.eq_ignore_ascii_case(username)) {
            return Err(StorageError::Conflict("players_username_unique".to_owned()));
        }
        let player = Player {
            id: PlayerId(next_id(tables.players.len())),
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
            role,
            banned: false,
            created_at: SystemTime::now(),
            last_seen: None,
        };
        tables.players.push(player.clone());
        Ok(player)
    }

    /// See [`crate::PostgresStore::find_player_by_username`].
    pub fn find_player_by_username(&self, username: &str) -> Option<Player> {
        self.tables().players.iter().find(|player| player.username.eq_ignore_ascii_case(username)).cloned()
    }

    /// See [`crate::PostgresStore::find_player`].
    pub fn find_player(&self, player_id: PlayerId) -> Option<Player> {
        self.tables().players.iter().find(|player| player.id == player_id).cloned()
    }

    /// See [`crate::PostgresStore::list_players`].
    pub fn list_players(&self, limit: u32) -> Vec<Player> {
        self.tables().players.iter().take(limit as usize).cloned().collect()
    }

    /// See [`crate::PostgresStore::touch_player`].
    pub fn touch_player(&self, player_id: PlayerId, now: SystemTime) {
        let mut tables = self.tables();
        if let Some(player) = tables.players.iter_mut().find(|player| player.id == player_id)
            && player.last_seen.is_none_or(|seen| seen + crate::LAST_SEEN_RESOLUTION < now)
        {
            player.last_seen = Some(now);
        }
    }

    /// See [`crate::PostgresStore::set_banned`].
    pub fn set_banned(&self, player_id: PlayerId, banned: bool) -> Result<(), StorageError> {
        let mut tables = self.tables();
        let player = tables
            .players
            .iter_mut()
            .find(|player| player.id == player_id)
            .ok_or_else(|| StorageError::NotFound(format!("player {}", player_id.0)))?;
        player.banned = banned;
        if banned {
            revoke_all(&mut tables, player_id);
        }
        Ok(())
    }

    /// See [`crate::PostgresStore::set_role`].
    pub fn set_role(&self, player_id: PlayerId, role: Role) -> Result<(), StorageError> {
        let mut tables = self.tables();
        let player = tables
            .players
            .iter_mut()
            .find(|player| player.id == player_id)
            .ok_or_else(|| StorageError::NotFound(format!("player {}", player_id.0)))?;
        player.role = role;
        Ok(())
    }

    /// See [`crate::PostgresStore::create_session`].
    pub fn create_session(
        &self,
        token_hash: &[u8],
        player_id: PlayerId,
        expires_at: SystemTime,
    ) -> Result<Session, StorageError> {
        if !(16..=64).contains(&token_hash.len()) {
            return Err(invalid("sessions_token_hash_length"));
        }
        let mut tables = self.tables();
        if !tables.players.iter().any(|player| player.id == player_id) {
            return Err(StorageError::NotFound(format!("player {}", player_id.0)));
        }
        if tables.sessions.contains_key(token_hash) {
            return Err(StorageError::Conflict("sessions_pkey".to_owned()));
        }
        let session = Session {
            token_hash: token_hash.to_vec(),
            player_id,
            created_at: SystemTime::now(),
            expires_at,
            revoked: false,
        };
        tables.sessions.insert(token_hash.to_vec(), session.clone());
        Ok(session)
    }

    /// See [`crate::PostgresStore::find_active_session`].
    pub fn find_active_session(&self, token_hash: &[u8], now: SystemTime) -> Option<Session> {
        self.tables().sessions.get(token_hash).filter(|session| session.is_active_at(now)).cloned()
    }

    /// See [`crate::PostgresStore::revoke_session`].
    pub fn revoke_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        match self.tables().sessions.get_mut(token_hash) {
            Some(session) => {
                session.revoked = true;
                Ok(())
            }
            None => Err(StorageError::NotFound("session".to_owned())),
        }
    }

    /// See [`crate::PostgresStore::revoke_active_session`].
    pub fn revoke_active_session(&self, token_hash: &[u8], now: SystemTime) -> Option<Session> {
        let mut tables = self.tables();
        let session = tables.sessions.get_mut(token_hash).filter(|session| session.is_active_at(now))?;
        session.revoked = true;
        Some(session.clone())
    }

    /// See [`crate::PostgresStore::revoke_sessions_of_player`].
    pub fn revoke_sessions_of_player(&self, player_id: PlayerId) -> u64 {
        revoke_all(&mut self.tables(), player_id)
    }

    /// See [`crate::PostgresStore::delete_ended_sessions`].
    pub fn delete_ended_sessions(&self, now: SystemTime) -> u64 {
        let mut tables = self.tables();
        let before = tables.sessions.len();
        tables.sessions.retain(|_, session| session.is_active_at(now));
        (before - tables.sessions.len()) as u64
    }

    /// See [`crate::PostgresStore::create_ship`].
    pub fn create_ship(&self, owner_id: PlayerId, class_name: &str, name: &str) -> Result<Ship, StorageError> {
        if !class_name_is_valid(class_name) {
            return Err(invalid("ships_class_name_format"));
        }
        if !(1..=64).contains(&name.chars().count()) {
            return Err(invalid("ships_name_length"));
        }
        let mut tables = self.tables();
        if !tables.players.iter().any(|player| player.id == owner_id) {
            return Err(StorageError::NotFound(format!("player {}", owner_id.0)));
        }
        let ship = Ship {
            id: ShipId(next_id(tables.ships.len())),
            owner_id,
            class_name: class_name.to_owned(),
            name: name.to_owned(),
            created_at: SystemTime::now(),
        };
        tables.ships.push(ship.clone());
        Ok(ship)
    }

    /// See [`crate::PostgresStore::ships_of_player`].
    pub fn ships_of_player(&self, owner_id: PlayerId) -> Vec<Ship> {
        self.tables().ships.iter().filter(|ship| ship.owner_id == owner_id).cloned().collect()
    }

    /// See [`crate::PostgresStore::save_snapshot`].
    pub fn save_snapshot(&self, snapshot: &NewSnapshot<'_>) -> Result<SnapshotSummary, StorageError> {
        if i64::try_from(snapshot.tick).is_err() {
            return Err(StorageError::Invalid(format!("tick {} does not fit a bigint", snapshot.tick)));
        }
        if !snapshot.game_time.is_finite() {
            return Err(invalid("snapshots_game_time_finite"));
        }
        if snapshot.engine_snapshot.is_empty() {
            return Err(invalid("snapshots_engine_snapshot_not_empty"));
        }
        if !(1..=128).contains(&snapshot.checksum.chars().count()) {
            return Err(invalid("snapshots_checksum_length"));
        }
        let mut tables = self.tables();
        let summary = SnapshotSummary {
            id: SnapshotId(next_id(tables.snapshots.len())),
            tick: snapshot.tick,
            game_time: snapshot.game_time,
            checksum: snapshot.checksum.to_owned(),
            size_bytes: snapshot.engine_snapshot.len() as u64,
            created_at: SystemTime::now(),
        };
        tables
            .snapshots
            .push(Snapshot { summary: summary.clone(), engine_snapshot: snapshot.engine_snapshot.to_vec() });
        Ok(summary)
    }

    /// See [`crate::PostgresStore::latest_snapshot`].
    pub fn latest_snapshot(&self) -> Option<Snapshot> {
        self.tables().snapshots.last().cloned()
    }

    /// See [`crate::PostgresStore::snapshot_by_id`].
    pub fn snapshot_by_id(&self, snapshot_id: SnapshotId) -> Result<Snapshot, StorageError> {
        self.tables()
            .snapshots
            .iter()
            .find(|snapshot| snapshot.summary.id == snapshot_id)
            .cloned()
            .ok_or_else(|| StorageError::NotFound(format!("snapshot {}", snapshot_id.0)))
    }

    /// See [`crate::PostgresStore::list_snapshots`].
    pub fn list_snapshots(&self, limit: u32) -> Vec<SnapshotSummary> {
        self.tables().snapshots.iter().rev().take(limit as usize).map(|snapshot| snapshot.summary.clone()).collect()
    }

    /// See [`crate::PostgresStore::load_config`].
    pub fn load_config(&self) -> StoredGameConfig {
        self.tables().config
    }

    /// See [`crate::PostgresStore::save_config`].
    pub fn save_config(&self, config: &GameConfig) -> Result<StoredGameConfig, StorageError> {
        if !(0.1..=100.0).contains(&config.tick_rate_hz) {
            return Err(invalid("game_config_tick_rate_range"));
        }
        if !(0.1..=100.0).contains(&config.time_scale) {
            return Err(invalid("game_config_time_scale_range"));
        }
        let mut tables = self.tables();
        tables.config = StoredGameConfig { config: *config, updated_at: SystemTime::now() };
        Ok(tables.config)
    }

    /// See [`crate::PostgresStore::append_audit`].
    pub fn append_audit(
        &self,
        admin_id: PlayerId,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StorageError> {
        if !action_is_valid(action) {
            return Err(invalid("admin_audit_action_format"));
        }
        let mut tables = self.tables();
        if !tables.players.iter().any(|player| player.id == admin_id) {
            return Err(StorageError::NotFound(format!("player {}", admin_id.0)));
        }
        let entry = AuditEntry {
            id: AuditEntryId(next_id(tables.audit.len())),
            admin_id,
            action: action.to_owned(),
            details: details.clone(),
            created_at: SystemTime::now(),
        };
        tables.audit.push(entry.clone());
        Ok(entry)
    }

    /// See [`crate::PostgresStore::list_audit`].
    pub fn list_audit(&self, limit: u32) -> Vec<AuditEntry> {
        self.tables().audit.iter().rev().take(limit as usize).cloned().collect()
    }

    /// See [`crate::PostgresStore::record_tick`].
    pub fn record_tick(&self, tick: u64, game_time: f64) -> Result<TickRecord, StorageError> {
        if i64::try_from(tick).is_err() {
            return Err(StorageError::Invalid(format!("tick {tick} does not fit a bigint")));
        }
        if !game_time.is_finite() {
            return Err(invalid("tick_log_game_time_finite"));
        }
        let mut tables = self.tables();
        if tables.ticks.iter().any(|record| record.tick == tick) {
            return Err(StorageError::Conflict("tick_log_pkey".to_owned()));
        }
        let record = TickRecord { tick, game_time, recorded_at: SystemTime::now() };
        tables.ticks.push(record);
        // Only the newest matters to anyone; keep memory bounded on a long local game.
        if tables.ticks.len() > 10_000 {
            tables.ticks.drain(..5_000);
        }
        Ok(record)
    }

    /// See [`crate::PostgresStore::latest_tick`].
    pub fn latest_tick(&self) -> Option<TickRecord> {
        self.tables().ticks.iter().max_by_key(|record| record.tick).copied()
    }
}

fn revoke_all(tables: &mut Tables, player_id: PlayerId) -> u64 {
    let mut revoked = 0;
    for session in tables.sessions.values_mut().filter(|session| session.player_id == player_id && !session.revoked) {
        session.revoked = true;
        revoked += 1;
    }
    revoked
}

/// The in-memory event bus: the real-time state and the streams. Cheap to clone (clones share).
#[derive(Debug, Clone)]
pub struct MemoryBus {
    inner: Arc<BusInner>,
}

#[derive(Debug)]
struct BusInner {
    data: Mutex<BusData>,
    appended: Notify,
    stream_max_len: usize,
}

#[derive(Debug, Default)]
struct BusData {
    state: Option<Bytes>,
    world: Option<Bytes>,
    streams: HashMap<StreamName, VecDeque<StreamEntry>>,
    last_id: Option<StreamEntryId>,
}

impl MemoryBus {
    /// An empty bus whose streams keep about `stream_max_len` entries each.
    #[must_use]
    pub fn new(stream_max_len: u64) -> MemoryBus {
        MemoryBus {
            inner: Arc::new(BusInner {
                data: Mutex::new(BusData::default()),
                appended: Notify::new(),
                stream_max_len: usize::try_from(stream_max_len).unwrap_or(usize::MAX).max(1),
            }),
        }
    }

    fn data(&self) -> MutexGuard<'_, BusData> {
        self.inner.data.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// See [`crate::RedisStore::write_state`].
    pub fn write_state(&self, state: impl Into<Bytes>) {
        self.data().state = Some(state.into());
    }

    /// See [`crate::RedisStore::read_state`].
    pub fn read_state(&self) -> Option<Bytes> {
        self.data().state.clone()
    }

    /// See [`crate::RedisStore::write_world`].
    pub fn write_world(&self, snapshot: impl Into<Bytes>) {
        self.data().world = Some(snapshot.into());
    }

    /// See [`crate::RedisStore::read_world`].
    pub fn read_world(&self) -> Option<Bytes> {
        self.data().world.clone()
    }

    /// See [`crate::RedisStore::append`]. Ids follow Redis's rules: milliseconds since the epoch
    /// and a sequence, always growing.
    pub fn append(&self, stream: StreamName, fields: &[(&str, &[u8])]) -> Result<StreamEntryId, StorageError> {
        if fields.is_empty() {
            return Err(StorageError::Invalid("a stream entry needs at least one field".to_owned()));
        }
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        let id = {
            let mut data = self.data();
            let id = match data.last_id {
                Some(last) if last.milliseconds() >= now_ms => {
                    StreamEntryId::new(last.milliseconds(), last.sequence() + 1)
                }
                _ => StreamEntryId::new(now_ms, 0),
            };
            data.last_id = Some(id);
            let entries = data.streams.entry(stream).or_default();
            entries.push_back(StreamEntry {
                id,
                fields: fields
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), Bytes::copy_from_slice(value)))
                    .collect(),
            });
            while entries.len() > self.inner.stream_max_len {
                entries.pop_front();
            }
            id
        };
        self.inner.appended.notify_waiters();
        Ok(id)
    }

    /// See [`crate::RedisStore::read_stream`].
    pub fn read_stream(&self, stream: StreamName, after: &StreamEntryId, max_count: u64) -> Vec<StreamEntry> {
        let data = self.data();
        let Some(entries) = data.streams.get(&stream) else { return Vec::new() };
        let start = entries.partition_point(|entry| entry.id <= *after);
        entries.iter().skip(start).take(usize::try_from(max_count.max(1)).unwrap_or(usize::MAX)).cloned().collect()
    }

    /// See [`crate::RedisStore::read_stream_blocking`].
    pub async fn read_stream_blocking(
        &self,
        stream: StreamName,
        after: &StreamEntryId,
        max_count: u64,
        block: Duration,
    ) -> Vec<StreamEntry> {
        let deadline = tokio::time::Instant::now() + block;
        loop {
            // Registered before looking, so an append between the look and the wait still wakes us.
            let appended = self.inner.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let entries = self.read_stream(stream, after, max_count);
            if !entries.is_empty() {
                return entries;
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Vec::new();
            }
        }
    }

    /// See [`crate::RedisStore::stream_len`].
    pub fn stream_len(&self, stream: StreamName) -> u64 {
        self.data().streams.get(&stream).map_or(0, |entries| entries.len() as u64)
    }

    /// See [`crate::RedisStore::last_entry_id`].
    pub fn last_entry_id(&self, stream: StreamName) -> Option<StreamEntryId> {
        self.data().streams.get(&stream).and_then(|entries| entries.back()).map(|entry| entry.id)
    }
}
