//! The records the PostgreSQL repository reads and writes: plain data, no driver types.

use std::time::{Duration, SystemTime};

/// How finely a player's last sighting is recorded: a validation within this of the last one
/// writes nothing.
pub const LAST_SEEN_RESOLUTION: Duration = Duration::from_secs(10);

/// A player's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayerId(pub i64);

/// A ship's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShipId(pub i64);

/// A stored snapshot's id; ids grow in the order snapshots were saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotId(pub i64);

/// An admin audit entry's id; ids grow in the order entries were appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditEntryId(pub i64);

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Flies ships.
    Player,
    /// Also steers the simulation and manages players.
    Admin,
}

impl Role {
    /// The value stored in the `players.role` column.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Player => "player",
            Role::Admin => "admin",
        }
    }

    pub(crate) fn from_column(text: &str) -> Option<Role> {
        match text {
            "player" => Some(Role::Player),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An account.
#[derive(Clone, PartialEq, Eq)]
pub struct Player {
    /// Database id.
    pub id: PlayerId,
    /// `^[a-zA-Z0-9_]{3,20}$`, unique ignoring case, stored as typed.
    pub username: String,
    /// argon2id PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    /// What the account may do.
    pub role: Role,
    /// Banned accounts cannot log in; banning revokes their sessions.
    pub banned: bool,
    /// When the account was created.
    pub created_at: SystemTime,
    /// When the player last logged in or had a session validated, to [`LAST_SEEN_RESOLUTION`].
    pub last_seen: Option<SystemTime>,
}

// Hand-written so password hashes stay out of logs (they are offline-crackable).
impl std::fmt::Debug for Player {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Player")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("banned", &self.banned)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A login session. Only the hash of the session token is stored, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hash of the opaque token the client holds (16 to 64 bytes).
    pub token_hash: Vec<u8>,
    /// Whose session it is.
    pub player_id: PlayerId,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it stops being valid.
    pub expires_at: SystemTime,
    /// Revoked sessions are never valid again (logout, ban).
    pub revoked: bool,
}

impl Session {
    /// Whether the session is still usable at `now` (not revoked, not expired).
    #[must_use]
    pub fn is_active_at(&self, now: SystemTime) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// A ship a player owns. Its flight state lives in the simulation, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ship {
    /// Database id.
    pub id: ShipId,
    /// The owning player.
    pub owner_id: PlayerId,
    /// Ship class in the catalog, e.g. `fast_frigate` (`^[a-z0-9_]{1,64}$`).
    pub class_name: String,
    /// The player's name for it (1 to 64 characters).
    pub name: String,
    /// When it was created.
    pub created_at: SystemTime,
}

/// A snapshot to store: the engine's serialized state at one tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewSnapshot<'a> {
    /// Tick number the state belongs to (≥ 0).
    pub tick: u64,
    /// Game time at that tick, in seconds (finite).
    pub game_time: f64,
    /// The engine's snapshot bytes, stored exactly as given (non-empty).
    pub engine_snapshot: &'a [u8],
    /// The engine's checksum of the state, to check on restore (1 to 128 characters).
    pub checksum: &'a str,
}

/// A stored snapshot with its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// What identifies it, and when it was taken.
    pub summary: SnapshotSummary,
    /// The engine's snapshot bytes, exactly as saved.
    pub engine_snapshot: Vec<u8>,
}

/// A stored snapshot without its bytes, for listings.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotSummary {
    /// Database id.
    pub id: SnapshotId,
    /// Tick number.
    pub tick: u64,
    /// Game time at that tick, in seconds.
    pub game_time: f64,
    /// The engine's checksum of the state.
    pub checksum: String,
    /// Size of the snapshot bytes.
    pub size_bytes: u64,
    /// When it was saved.
    pub created_at: SystemTime,
}

/// The game's adjustable settings (one row in the database).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GameConfig {
    /// Ticks per second of wall time, 0.1 to 100.
    pub tick_rate_hz: f64,
    /// Game seconds per wall second, 0.1 to 100.
    pub time_scale: f64,
    /// Whether new players may register.
    pub registrations_open: bool,
}

impl Default for GameConfig {
    /// What the first migration stores: 1 Hz, 1×, registrations open.
    fn default() -> Self {
        GameConfig { tick_rate_hz: 1.0, time_scale: 1.0, registrations_open: true }
    }
}

/// The game configuration as stored, with when it last changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredGameConfig {
    /// The settings.
    pub config: GameConfig,
    /// When they were last saved.
    pub updated_at: SystemTime,
}

/// One entry of the admin audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Database id, growing in append order.
    pub id: AuditEntryId,
    /// The admin who acted.
    pub admin_id: PlayerId,
    /// What was done, e.g. `player.ban` (`^[a-z][a-z0-9_.]{0,63}$`).
    pub action: String,
    /// The particulars, as JSON.
    pub details: serde_json::Value,
    /// When it was recorded.
    pub created_at: SystemTime,
}

/// One recorded tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickRecord {
    /// Tick number; each is recorded at most once.
    pub tick: u64,
    /// Game time after the tick, in seconds.
    pub game_time: f64,
    /// When it was recorded.
    pub recorded_at: SystemTime,
}
