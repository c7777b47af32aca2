//! [`PostgresStore`]: the PostgreSQL repository — accounts, sessions, ships, snapshots, game
//! configuration, the admin audit log and the tick log — over a deadpool connection pool.

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

use crate::config::PostgresConfig;
use crate::error::{self, StorageError};
use crate::lock::SingletonLock;
use crate::model::{
    AuditEntry, AuditEntryId, GameConfig, LAST_SEEN_RESOLUTION, NewSnapshot, Player, PlayerId, Role, Session, Ship,
    ShipId, Snapshot, SnapshotId, SnapshotSummary, StoredGameConfig, TickRecord,
};

mod embedded {
    // Compiles every `migrations/V{n}__{name}.sql` into the binary, so a deployment can never run
    // against a schema its code was not built for.
    refinery::embed_migrations!("migrations");
}

/// Advisory lock held while migrating, so services starting together do not migrate twice at once
/// ("galaxy" in ASCII, then 1).
const MIGRATION_LOCK_KEY: i64 = 0x6761_6c61_7879_0001;
/// Longest wait for another instance's migration to finish.
const MIGRATION_LOCK_TIMEOUT: &str = "60s";

const PLAYER_COLUMNS: &str = "id, username, password_hash, role, banned, created_at, last_seen_at";
const SESSION_COLUMNS: &str = "token_hash, player_id, created_at, expires_at, revoked";
const SHIP_COLUMNS: &str = "id, owner_id, class_name, name, created_at";
const SNAPSHOT_SUMMARY_COLUMNS: &str =
    "id, tick, game_time, checksum, octet_length(engine_snapshot)::bigint AS size_bytes, created_at";
const CONFIG_COLUMNS: &str = "tick_rate_hz, time_scale, registrations_open, updated_at";
const AUDIT_COLUMNS: &str = "id, admin_id, action, details, created_at";
const TICK_COLUMNS: &str = "tick, game_time, recorded_at";

/// The PostgreSQL repository. Cheap to clone (clones share one pool).
///
/// Every call is bounded by the configured query timeout (pool wait included) and fails with
/// [`StorageError::Unavailable`] when PostgreSQL cannot answer in time, so a service can report
/// "unavailable" quickly instead of hanging.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    query_timeout: Duration,
    /// For connections outside the pool (a singleton lock lives as long as its own connection).
    connection_config: std::sync::Arc<tokio_postgres::Config>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        formatter
            .debug_struct("PostgresStore")
            .field("pool_size", &status.size)
            .field("pool_available", &status.available)
            .field("query_timeout", &self.query_timeout)
            .finish()
    }
}

impl PostgresStore {
    /// Opens the pool and applies any pending migrations. Fails fast with
    /// [`StorageError::Unavailable`] if PostgreSQL cannot be reached within the connect timeout.
    pub async fn connect(config: &PostgresConfig) -> Result<PostgresStore, StorageError> {
        config.validate().map_err(|error| StorageError::Invalid(error.to_string()))?;
        let mut connection_config =
            tokio_postgres::Config::from_str(&config.url).map_err(|error| StorageError::Invalid(error.to_string()))?;
        connection_config.connect_timeout(config.connect_timeout);
        if connection_config.get_application_name().is_none() {
            connection_config.application_name("galaxy");
        }
        // The server stops statements the client has given up on, so they do not pile up.
        let statement_timeout = format!("-c statement_timeout={}", config.query_timeout.as_millis());
        let options = match connection_config.get_options() {
            Some(existing) => format!("{existing} {statement_timeout}"),
            None => statement_timeout,
        };
        connection_config.options(&options);

        // Verified recycling runs a round trip before handing out a pooled connection, so a
        // connection broken by a PostgreSQL restart is replaced instead of failing a request.
        let manager = Manager::from_config(
            connection_config.clone(),
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Verified },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_max_size)
            .wait_timeout(Some(config.pool_wait_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.recycle_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|error| StorageError::Internal(format!("building the postgresql pool: {error}")))?;

        let store = PostgresStore {
            pool,
            query_timeout: config.query_timeout,
            connection_config: std::sync::Arc::new(connection_config),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not yet applied and returns their names (`V1__initial`, ...);
    /// empty when the schema is current. [`PostgresStore::connect`] already calls it.
    pub async fn migrate(&self) -> Result<Vec<String>, StorageError> {
        let pooled = self.pool.get().await.map_err(|error| error::from_pool(&error))?;
        // Detached from the pool: the session settings and the lock below die with this
        // connection, whatever happens, and never leak into a pooled one.
        let mut connection = Object::take(pooled);
        connection
            .batch_execute(&format!(
                "SET statement_timeout = 0; SET lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'; \
                 SELECT pg_advisory_lock({MIGRATION_LOCK_KEY});"
            ))
            .await
            .map_err(db)?;
        let report = embedded::migrations::runner()
            .run_async(&mut *connection)
            .await
            .map_err(|error| from_migration_error(&error))?;
        connection.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY});")).await.map_err(db)?;
        Ok(report.applied_migrations().iter().map(|migration| migration.to_string()).collect())
    }

    /// Waits until this process holds the PostgreSQL advisory lock `key`, polling every
    /// `poll_interval`, and returns it. The lock belongs to a connection of its own, so it ends
    /// when the holder drops it, exits or loses PostgreSQL — never two holders at once.
    pub async fn acquire_singleton_lock(
        &self,
        key: i64,
        poll_interval: Duration,
    ) -> Result<SingletonLock, StorageError> {
        SingletonLock::acquire(&self.connection_config, key, poll_interval, self.query_timeout).await
    }

    /// One attempt at the advisory lock `key`: `Ok(None)` when another session holds it, an
    /// error when PostgreSQL cannot be asked (a holder that lost its connection tells the two apart:
    /// someone else took over, or nobody can).
    pub async fn try_singleton_lock(&self, key: i64) -> Result<Option<SingletonLock>, StorageError> {
        SingletonLock::try_acquire(&self.connection_config, key, self.query_timeout).await
    }

    /// Checks PostgreSQL answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.run("ping", async |client| client.simple_query("SELECT 1").await.map(|_| ()).map_err(db)).await
    }

    /// Closes the pool: later calls fail with [`StorageError::Unavailable`].
    pub fn close(&self) {
        self.pool.close();
    }

    // ---- players ----

    /// Creates an account. A username already taken (ignoring case) is
    /// [`StorageError::Conflict`]; one not matching `^[a-zA-Z0-9_]{3,20}$`, or a hash that is not
    /// an argon2id PHC string, is [`StorageError::Invalid`].
    pub async fn create_player(&self, username: &str, password_hash: &str, role: Role) -> Result<Player, StorageError> {
        let sql = format!(
            "INSERT INTO players (username, password_hash, role) VALUES ($1, $2, $3) RETURNING {PLAYER_COLUMNS}"
        );
        self.run("create_player", async |client| {
            let row = client.query_one(&sql, &[&username, &password_hash, &role.as_str()]).await.map_err(db)?;
            player_from_row(&row)
        })
        .await
    }

    /// The account with this username (ignoring case), if any.
    pub async fn find_player_by_username(&self, username: &str) -> Result<Option<Player>, StorageError> {
        let sql = format!("SELECT {PLAYER_COLUMNS} FROM players WHERE lower(username) = lower($1)");
        self.run("find_player_by_username", async |client| {
            client.query_opt(&sql, &[&username]).await.map_err(db)?.as_ref().map(player_from_row).transpose()
        })
        .await
    }

    /// The account with this id, if any.
    pub async fn find_player(&self, player_id: PlayerId) -> Result<Option<Player>, StorageError> {
        let sql = format!("SELECT {PLAYER_COLUMNS} FROM players WHERE id = $1");
        self.run("find_player", async |client| {
            client.query_opt(&sql, &[&player_id.0]).await.map_err(db)?.as_ref().map(player_from_row).transpose()
        })
        .await
    }

    /// Up to `limit` accounts, oldest first (admin listings).
    pub async fn list_players(&self, limit: u32) -> Result<Vec<Player>, StorageError> {
        let sql = format!("SELECT {PLAYER_COLUMNS} FROM players ORDER BY id LIMIT $1");
        self.run("list_players", async |client| {
            client.query(&sql, &[&i64::from(limit)]).await.map_err(db)?.iter().map(player_from_row).collect()
        })
        .await
    }

    /// Records that the player was seen at `now` (written at most every [`LAST_SEEN_RESOLUTION`],
    /// so validating a session stays a read most of the time). An unknown id changes nothing.
    pub async fn touch_player(&self, player_id: PlayerId, now: SystemTime) -> Result<(), StorageError> {
        let stale = now.checked_sub(LAST_SEEN_RESOLUTION).unwrap_or(now);
        self.run("touch_player", async |client| {
            client
                .execute(
                    "UPDATE players SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
                    &[&player_id.0, &now, &stale],
                )
                .await
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    /// Makes an account an admin or a player. [`StorageError::NotFound`] if no such account.
    pub async fn set_role(&self, player_id: PlayerId, role: Role) -> Result<(), StorageError> {
        self.run("set_role", async |client| {
            let updated = client
                .execute("UPDATE players SET role = $2 WHERE id = $1", &[&player_id.0, &role.as_str()])
                .await
                .map_err(db)?;
            if updated == 0 { Err(StorageError::NotFound(format!("player {}", player_id.0))) } else { Ok(()) }
        })
        .await
    }

    /// Bans or unbans an account. Banning also revokes all its sessions, in the same transaction,
    /// so a banned player is logged out everywhere at once. [`StorageError::NotFound`] if no such account.
    pub async fn set_banned(&self, player_id: PlayerId, banned: bool) -> Result<(), StorageError> {
        self.run("set_banned", async |mut client| {
            let transaction = client.transaction().await.map_err(db)?;
            let updated = transaction
                .execute("UPDATE players SET banned = $2 WHERE id = $1", &[&player_id.0, &banned])
                .await
                .map_err(db)?;
            if updated == 0 {
                return Err(StorageError::NotFound(format!("player {}", player_id.0)));
            }
            if banned {
                transaction
                    .execute("UPDATE sessions SET revoked = true WHERE player_id = $1 AND NOT revoked", &[&player_id.0])
                    .await
                    .map_err(db)?;
            }
            transaction.commit().await.map_err(db)
        })
        .await
    }

    // ---- sessions ----

    /// Stores a new session under the hash of its token. A hash already stored is
    /// [`StorageError::Conflict`]; one shorter than 16 or longer than 64 bytes is
    /// [`StorageError::Invalid`]; an unknown player is [`StorageError::NotFound`].
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        player_id: PlayerId,
        expires_at: SystemTime,
    ) -> Result<Session, StorageError> {
        let sql = format!(
            "INSERT INTO sessions (token_hash, player_id, expires_at) VALUES ($1, $2, $3) RETURNING {SESSION_COLUMNS}"
        );
        self.run("create_session", async |client| {
            let row = client.query_one(&sql, &[&token_hash, &player_id.0, &expires_at]).await.map_err(db)?;
            session_from_row(&row)
        })
        .await
    }

    /// The session stored under this token hash if it is still usable at `now`: `None` when it
    /// does not exist, was revoked or has expired.
    pub async fn find_active_session(
        &self,
        token_hash: &[u8],
        now: SystemTime,
    ) -> Result<Option<Session>, StorageError> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1 AND NOT revoked AND expires_at > $2");
        self.run("find_active_session", async |client| {
            client.query_opt(&sql, &[&token_hash, &now]).await.map_err(db)?.as_ref().map(session_from_row).transpose()
        })
        .await
    }

    /// Revokes a session (logout). Revoking twice is fine; an unknown hash is [`StorageError::NotFound`].
    pub async fn revoke_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        self.run("revoke_session", async |client| {
            let updated = client
                .execute("UPDATE sessions SET revoked = true WHERE token_hash = $1", &[&token_hash])
                .await
                .map_err(db)?;
            if updated == 0 { Err(StorageError::NotFound("session".to_owned())) } else { Ok(()) }
        })
        .await
    }

    /// Revokes the session if it is still usable at `now`, atomically, and returns it; `None` if it
    /// was not (unknown, expired or already revoked). Of two concurrent refreshes of one token,
    /// exactly one gets the session.
    pub async fn revoke_active_session(
        &self,
        token_hash: &[u8],
        now: SystemTime,
    ) -> Result<Option<Session>, StorageError> {
        let sql = format!(
            "UPDATE sessions SET revoked = true WHERE token_hash = $1 AND NOT revoked AND expires_at > $2 \
             RETURNING {SESSION_COLUMNS}"
        );
        self.run("revoke_active_session", async |client| {
            client.query_opt(&sql, &[&token_hash, &now]).await.map_err(db)?.as_ref().map(session_from_row).transpose()
        })
        .await
    }

    /// Revokes every session of a player (kick); returns how many were active.
    pub async fn revoke_sessions_of_player(&self, player_id: PlayerId) -> Result<u64, StorageError> {
        self.run("revoke_sessions_of_player", async |client| {
            client
                .execute("UPDATE sessions SET revoked = true WHERE player_id = $1 AND NOT revoked", &[&player_id.0])
                .await
                .map_err(db)
        })
        .await
    }

    /// Deletes sessions that expired or were revoked before `now`; returns how many (housekeeping).
    pub async fn delete_ended_sessions(&self, now: SystemTime) -> Result<u64, StorageError> {
        self.run("delete_ended_sessions", async |client| {
            client.execute("DELETE FROM sessions WHERE expires_at <= $1 OR revoked", &[&now]).await.map_err(db)
        })
        .await
    }

    // ---- ships ----

    /// Records a ship a player owns. An unknown owner is [`StorageError::NotFound`]; a class name
    /// not matching `^[a-z0-9_]{1,64}$` or a name not 1 to 64 characters is [`StorageError::Invalid`].
    pub async fn create_ship(&self, owner_id: PlayerId, class_name: &str, name: &str) -> Result<Ship, StorageError> {
        let sql =
            format!("INSERT INTO ships (owner_id, class_name, name) VALUES ($1, $2, $3) RETURNING {SHIP_COLUMNS}");
        self.run("create_ship", async |client| {
            let row = client.query_one(&sql, &[&owner_id.0, &class_name, &name]).await.map_err(db)?;
            ship_from_row(&row)
        })
        .await
    }

    /// The ships a player owns, oldest first.
    pub async fn ships_of_player(&self, owner_id: PlayerId) -> Result<Vec<Ship>, StorageError> {
        let sql = format!("SELECT {SHIP_COLUMNS} FROM ships WHERE owner_id = $1 ORDER BY id");
        self.run("ships_of_player", async |client| {
            client.query(&sql, &[&owner_id.0]).await.map_err(db)?.iter().map(ship_from_row).collect()
        })
        .await
    }

    // ---- snapshots ----

    /// Stores an engine snapshot byte for byte. A non-finite game time, empty bytes or an empty
    /// checksum is [`StorageError::Invalid`].
    pub async fn save_snapshot(&self, snapshot: &NewSnapshot<'_>) -> Result<SnapshotSummary, StorageError> {
        let tick = to_bigint("tick", snapshot.tick)?;
        let sql = format!(
            "INSERT INTO snapshots (tick, game_time, engine_snapshot, checksum) VALUES ($1, $2, $3, $4) \
             RETURNING {SNAPSHOT_SUMMARY_COLUMNS}"
        );
        self.run("save_snapshot", async |client| {
            let row = client
                .query_one(&sql, &[&tick, &snapshot.game_time, &snapshot.engine_snapshot, &snapshot.checksum])
                .await
                .map_err(db)?;
            snapshot_summary_from_row(&row)
        })
        .await
    }

    /// The most recently saved snapshot, if any.
    pub async fn latest_snapshot(&self) -> Result<Option<Snapshot>, StorageError> {
        let sql = format!("SELECT {SNAPSHOT_SUMMARY_COLUMNS}, engine_snapshot FROM snapshots ORDER BY id DESC LIMIT 1");
        self.run("latest_snapshot", async |client| {
            client.query_opt(&sql, &[]).await.map_err(db)?.as_ref().map(snapshot_from_row).transpose()
        })
        .await
    }

    /// The snapshot with this id; [`StorageError::NotFound`] if there is none.
    pub async fn snapshot_by_id(&self, snapshot_id: SnapshotId) -> Result<Snapshot, StorageError> {
        let sql = format!("SELECT {SNAPSHOT_SUMMARY_COLUMNS}, engine_snapshot FROM snapshots WHERE id = $1");
        self.run("snapshot_by_id", async |client| {
            match client.query_opt(&sql, &[&snapshot_id.0]).await.map_err(db)? {
                Some(row) => snapshot_from_row(&row),
                None => Err(StorageError::NotFound(format!("snapshot {}", snapshot_id.0))),
            }
        })
        .await
    }

    /// Up to `limit` snapshots without their bytes, newest first.
    pub async fn list_snapshots(&self, limit: u32) -> Result<Vec<SnapshotSummary>, StorageError> {
        let sql = format!("SELECT {SNAPSHOT_SUMMARY_COLUMNS} FROM snapshots ORDER BY id DESC LIMIT $1");
        self.run("list_snapshots", async |client| {
            client.query(&sql, &[&i64::from(limit)]).await.map_err(db)?.iter().map(snapshot_summary_from_row).collect()
        })
        .await
    }

    // ---- game configuration ----

    /// The game configuration (the first migration stores the defaults: 1 Hz, 1×, registrations open).
    pub async fn load_config(&self) -> Result<StoredGameConfig, StorageError> {
        let sql = format!("SELECT {CONFIG_COLUMNS} FROM game_config WHERE id");
        self.run("load_config", async |client| match client.query_opt(&sql, &[]).await.map_err(db)? {
            Some(row) => config_from_row(&row),
            None => Err(StorageError::Internal("the game_config row is missing".to_owned())),
        })
        .await
    }

    /// Replaces the game configuration. A tick rate or time scale outside 0.1–100 (or NaN) is
    /// [`StorageError::Invalid`] and changes nothing.
    pub async fn save_config(&self, config: &GameConfig) -> Result<StoredGameConfig, StorageError> {
        let sql = format!(
            "UPDATE game_config SET tick_rate_hz = $1, time_scale = $2, registrations_open = $3, updated_at = now() \
             WHERE id RETURNING {CONFIG_COLUMNS}"
        );
        self.run("save_config", async |client| {
            let params: [&(dyn ToSql + Sync); 3] =
                [&config.tick_rate_hz, &config.time_scale, &config.registrations_open];
            match client.query_opt(&sql, &params).await.map_err(db)? {
                Some(row) => config_from_row(&row),
                None => Err(StorageError::Internal("the game_config row is missing".to_owned())),
            }
        })
        .await
    }

    // ---- admin audit ----

    /// Appends an entry to the admin audit log. An unknown admin is [`StorageError::NotFound`];
    /// an action not matching `^[a-z][a-z0-9_.]{0,63}$` is [`StorageError::Invalid`].
    pub async fn append_audit(
        &self,
        admin_id: PlayerId,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StorageError> {
        let sql = format!(
            "INSERT INTO admin_audit (admin_id, action, details) VALUES ($1, $2, $3) RETURNING {AUDIT_COLUMNS}"
        );
        self.run("append_audit", async |client| {
            let row = client.query_one(&sql, &[&admin_id.0, &action, details]).await.map_err(db)?;
            audit_from_row(&row)
        })
        .await
    }

    /// Up to `limit` audit entries, newest first.
    pub async fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>, StorageError> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM admin_audit ORDER BY id DESC LIMIT $1");
        self.run("list_audit", async |client| {
            client.query(&sql, &[&i64::from(limit)]).await.map_err(db)?.iter().map(audit_from_row).collect()
        })
        .await
    }

    // ---- tick log ----

    /// Records that a tick happened. A tick number already recorded is [`StorageError::Conflict`]:
    /// the database, not the caller, guarantees no tick number is produced twice.
    ///
    /// PERF: this is on every tick's path, and waiting for the WAL flush made its p99 several
    /// milliseconds. The insert commits with `synchronous_commit = off`: the primary key is still
    /// checked before the commit returns, so a duplicate is refused as before; only a crash of
    /// the database server itself can lose the last fraction of a second of rows, and a restarted
    /// tick-engine resumes after physics' own last tick when that is ahead of the log (physics
    /// refuses a tick number that is not after its last), so no number is produced twice.
    /// BEGIN, the insert and COMMIT are pipelined: one round trip.
    pub async fn record_tick(&self, tick: u64, game_time: f64) -> Result<TickRecord, StorageError> {
        let tick = to_bigint("tick", tick)?;
        let sql = format!("INSERT INTO tick_log (tick, game_time) VALUES ($1, $2) RETURNING {TICK_COLUMNS}");
        self.run("record_tick", async |client| {
            let insert = client.prepare_cached(&sql).await.map_err(db)?;
            let parameters: [&(dyn ToSql + Sync); 2] = [&tick, &game_time];
            // Polling the three together queues all three requests at once, so COMMIT (a
            // rollback after a failed insert) is sent even if this future is dropped midway.
            let (begun, inserted, committed) = tokio::join!(
                client.batch_execute("BEGIN; SET LOCAL synchronous_commit = off"),
                client.query_one(&insert, &parameters),
                client.batch_execute("COMMIT"),
            );
            begun.map_err(db)?;
            let row = inserted.map_err(db)?;
            committed.map_err(db)?;
            tick_from_row(&row)
        })
        .await
    }

    /// The highest recorded tick, if any (where a restarted tick-engine resumes).
    pub async fn latest_tick(&self) -> Result<Option<TickRecord>, StorageError> {
        let sql = format!("SELECT {TICK_COLUMNS} FROM tick_log ORDER BY tick DESC LIMIT 1");
        self.run("latest_tick", async |client| {
            client.query_opt(&sql, &[]).await.map_err(db)?.as_ref().map(tick_from_row).transpose()
        })
        .await
    }

    /// Runs `work` on a pooled connection, the pool wait included in the query timeout.
    async fn run<T, Work, Done>(&self, operation: &str, work: Work) -> Result<T, StorageError>
    where
        Work: FnOnce(Object) -> Done,
        Done: Future<Output = Result<T, StorageError>>,
    {
        let attempt = async {
            let client = self.pool.get().await.map_err(|error| error::from_pool(&error))?;
            work(client).await
        };
        match tokio::time::timeout(self.query_timeout, attempt).await {
            Ok(result) => result,
            Err(_elapsed) => Err(StorageError::timed_out(operation, self.query_timeout)),
        }
    }
}

fn db(error: tokio_postgres::Error) -> StorageError {
    error::from_postgres(&error)
}

fn from_migration_error(error: &refinery::Error) -> StorageError {
    let postgres_cause = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<tokio_postgres::Error>())
        .map(error::from_postgres);
    match postgres_cause {
        Some(StorageError::Unavailable(message)) => StorageError::Unavailable(format!("migrating: {message}")),
        _ => StorageError::Internal(format!("migrating: {error}")),
    }
}

fn to_bigint(name: &str, value: u64) -> Result<i64, StorageError> {
    i64::try_from(value).map_err(|_| StorageError::Invalid(format!("{name} {value} does not fit a bigint")))
}

fn column<'row, T: FromSql<'row>>(row: &'row Row, name: &str) -> Result<T, StorageError> {
    row.try_get(name).map_err(db)
}

fn unsigned_column(row: &Row, name: &str) -> Result<u64, StorageError> {
    let value: i64 = column(row, name)?;
    u64::try_from(value).map_err(|_| StorageError::Internal(format!("{name} is negative in the database: {value}")))
}

fn player_from_row(row: &Row) -> Result<Player, StorageError> {
    let role_text: String = column(row, "role")?;
    let role = Role::from_column(&role_text)
        .ok_or_else(|| StorageError::Internal(format!("unknown role in the database: {role_text:?}")))?;
    Ok(Player {
        id: PlayerId(column(row, "id")?),
        username: column(row, "username")?,
        password_hash: column(row, "password_hash")?,
        role,
        banned: column(row, "banned")?,
        created_at: column(row, "created_at")?,
        last_seen: column(row, "last_seen_at")?,
    })
}

fn session_from_row(row: &Row) -> Result<Session, StorageError> {
    Ok(Session {
        token_hash: column(row, "token_hash")?,
        player_id: PlayerId(column(row, "player_id")?),
        created_at: column(row, "created_at")?,
        expires_at: column(row, "expires_at")?,
        revoked: column(row, "revoked")?,
    })
}

fn ship_from_row(row: &Row) -> Result<Ship, StorageError> {
    Ok(Ship {
        id: ShipId(column(row, "id")?),
        owner_id: PlayerId(column(row, "owner_id")?),
        class_name: column(row, "class_name")?,
        name: column(row, "name")?,
        created_at: column(row, "created_at")?,
    })
}

fn snapshot_summary_from_row(row: &Row) -> Result<SnapshotSummary, StorageError> {
    Ok(SnapshotSummary {
        id: SnapshotId(column(row, "id")?),
        tick: unsigned_column(row, "tick")?,
        game_time: column(row, "game_time")?,
        checksum: column(row, "checksum")?,
        size_bytes: unsigned_column(row, "size_bytes")?,
        created_at: column(row, "created_at")?,
    })
}

fn snapshot_from_row(row: &Row) -> Result<Snapshot, StorageError> {
    Ok(Snapshot { summary: snapshot_summary_from_row(row)?, engine_snapshot: column(row, "engine_snapshot")? })
}

fn config_from_row(row: &Row) -> Result<StoredGameConfig, StorageError> {
    Ok(StoredGameConfig {
        config: GameConfig {
            tick_rate_hz: column(row, "tick_rate_hz")?,
            time_scale: column(row, "time_scale")?,
            registrations_open: column(row, "registrations_open")?,
        },
        updated_at: column(row, "updated_at")?,
    })
}

fn audit_from_row(row: &Row) -> Result<AuditEntry, StorageError> {
    Ok(AuditEntry {
        id: AuditEntryId(column(row, "id")?),
        admin_id: PlayerId(column(row, "admin_id")?),
        action: column(row, "action")?,
        details: column(row, "details")?,
        created_at: column(row, "created_at")?,
    })
}

fn tick_from_row(row: &Row) -> Result<TickRecord, StorageError> {
    Ok(TickRecord {
        tick: unsigned_column(row, "tick")?,
        game_time: column(row, "game_time")?,
        recorded_at: column(row, "recorded_at")?,
    })
}
