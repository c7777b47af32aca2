//! [`PlayerAccounts`]: the players service's domain — registration, login, sessions and command
//! validation over a [`Database`], with the in-memory login throttle and command rate limit;
//! validated commands are queued on the [`EventBus`] command stream for physics.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use galaxy_engine::{AttitudeMode, ShipControl};
use galaxy_proto::{convert, v1};
use galaxy_storage::{Database, EventBus, Player, PlayerId, Role, Session, ShipId, StorageError, StreamName};
use prost::Message;

use crate::credentials::{username_key, validate_password, validate_username};
use crate::error::PlayersError;
use crate::limits::{LoginThrottle, RateLimiter};
use crate::password::PasswordHasher;
use crate::token::{SessionToken, hash_presented_token};

/// The ship class every new player starts with.
pub const STARTING_SHIP_CLASS: &str = "fast_frigate";
/// Longest body name or ship id a command may target (names in the catalog are far shorter).
const TARGET_MAX_CHARS: usize = 64;

/// How the players service behaves. [`PlayersConfig::default`] documents each default.
#[derive(Debug, Clone)]
pub struct PlayersConfig {
    /// How long a session token stays valid (24 h).
    pub session_lifetime: Duration,
    /// Failed logins on one account within [`PlayersConfig::login_failure_window`] that lock it (5).
    pub login_failure_limit: u32,
    /// The sliding window failed logins are counted over, and so the longest lock (15 min, per ASVS 2.2.1).
    pub login_failure_window: Duration,
    /// Average commands a player may send per second (20: comfortably above a 60 Hz client
    /// sending only when the controls change, far below a flood).
    pub commands_per_second: f64,
    /// Commands a player may send at once before the average applies (20).
    pub command_burst: f64,
    /// Password hashes computed at once: half the cores, at least one. A hash holds a core and
    /// 7 MiB for about 10 ms, so a login flood leaves the other half to ticks and WebSockets.
    pub hashing_concurrency: usize,
    /// Longest wait for a hashing slot before answering "unavailable" (5 s).
    pub hashing_queue_timeout: Duration,
}

impl Default for PlayersConfig {
    fn default() -> Self {
        PlayersConfig {
            session_lifetime: Duration::from_secs(24 * 60 * 60),
            login_failure_limit: 5,
            login_failure_window: Duration::from_secs(15 * 60),
            commands_per_second: 20.0,
            command_burst: 20.0,
            hashing_concurrency: std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1)),
            hashing_queue_timeout: Duration::from_secs(5),
        }
    }
}

/// Who a valid session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerIdentity {
    /// The account's id.
    pub player_id: PlayerId,
    /// The username as registered.
    pub username: String,
    /// What the account may do.
    pub role: Role,
    /// The player's current ship (their newest record); `None` only if none was recorded yet.
    pub ship_id: Option<ShipId>,
    /// The current ship's class.
    pub ship_class: Option<String>,
}

/// A session just issued: the token is shown to the client once and only its hash is kept.
#[derive(Debug)]
pub struct IssuedSession {
    /// The bearer token.
    pub token: SessionToken,
    /// When it stops being valid.
    pub expires_at: SystemTime,
    /// Whose it is.
    pub player: PlayerIdentity,
}

/// What a ship in [`AttitudeMode::Target`] points at (existence is checked by the physics service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandTarget {
    /// A body of the catalog, by name.
    Body(String),
    /// Another ship, by id.
    Ship(String),
}

/// A command that may be applied: from a valid session, for the player's own ship, in bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedCommand {
    /// Who sent it.
    pub player: PlayerIdentity,
    /// The ship it steers (one the player owns).
    pub ship_id: ShipId,
    /// The pilot's inputs, within the engine's bounds.
    pub control: ShipControl,
    /// The attitude mode to switch to; `None` leaves it as it is.
    pub attitude_mode: Option<AttitudeMode>,
    /// What to point at, when given.
    pub target: Option<CommandTarget>,
}

/// The players service's domain. Share it behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct PlayerAccounts {
    pub(crate) store: Database,
    bus: EventBus,
    config: PlayersConfig,
    pub(crate) hasher: PasswordHasher,
    login_throttle: Mutex<LoginThrottle>,
    command_rate: Mutex<RateLimiter<PlayerId>>,
}

impl PlayerAccounts {
    /// Accounts over `store`, queuing commands on `bus`, behaving as `config` says.
    #[must_use]
    pub fn new(store: Database, bus: EventBus, config: PlayersConfig) -> PlayerAccounts {
        PlayerAccounts {
            bus,
            hasher: PasswordHasher::new(config.hashing_concurrency, config.hashing_queue_timeout),
            login_throttle: Mutex::new(LoginThrottle::new(config.login_failure_limit, config.login_failure_window)),
            command_rate: Mutex::new(RateLimiter::new(config.commands_per_second, config.command_burst)),
            store,
            config,
        }
    }

    /// Creates an account with its starting ship and logs it in.
    ///
    /// Refused with [`PlayersError::RegistrationsClosed`] while registrations are closed,
    /// [`PlayersError::InvalidUsername`] / [`PlayersError::InvalidPassword`] before anything is
    /// stored, and [`PlayersError::UsernameTaken`] when the name is taken in any letter case.
    /// Spawning the ship in the simulation is the caller's job; its id is in the returned identity.
    pub async fn register(&self, username: &str, password: &str) -> Result<IssuedSession, PlayersError> {
        // The galaxy service owns the game configuration; reading it here makes an admin's
        // change apply to every players instance at once.
        if !self.store.load_config().await?.config.registrations_open {
            return Err(PlayersError::RegistrationsClosed);
        }
        validate_username(username)?;
        validate_password(password)?;
        // Checked before hashing so a taken name costs no hash; the unique index still decides races.
        if self.store.find_player_by_username(username).await?.is_some() {
            return Err(PlayersError::UsernameTaken);
        }
        let password_hash = self.hasher.hash(password).await?;
        let player =
            self.store.create_player(username, &password_hash, Role::Player).await.map_err(|error| match error {
                StorageError::Conflict(_) => PlayersError::UsernameTaken,
                other => PlayersError::Storage(other),
            })?;
        let ship =
            self.store.create_ship(player.id, STARTING_SHIP_CLASS, &starting_ship_name(&player.username)).await?;
        self.seen(&player).await;
        self.issue_session(identity(&player, Some(&ship))).await
    }

    /// Checks a username and password and opens a session.
    ///
    /// An unknown username and a wrong password are the same [`PlayersError::InvalidCredentials`],
    /// and cost the same time. After [`PlayersConfig::login_failure_limit`] failures within the
    /// window the account answers [`PlayersError::TooManyFailedLogins`] without checking the
    /// password. A player whose ship record is missing gets a new one.
    pub async fn login(&self, username: &str, password: &str) -> Result<IssuedSession, PlayersError> {
        validate_username(username)?;
        validate_password(password)?;
        let throttle_key = username_key(username);
        if let Some(retry_after) = self.throttle().locked_for(&throttle_key, Instant::now()) {
            return Err(PlayersError::TooManyFailedLogins { retry_after });
        }
        let player = self.store.find_player_by_username(username).await?;
        let password_matches = match &player {
            Some(player) => self.hasher.verify(password, &player.password_hash).await?,
            None => self.hasher.verify_decoy(password).await?,
        };
        let Some(player) = player.filter(|_| password_matches) else {
            self.throttle().record_failure(&throttle_key, Instant::now());
            return Err(PlayersError::InvalidCredentials);
        };
        self.throttle().record_success(&throttle_key);
        if player.banned {
            return Err(PlayersError::Banned);
        }
        self.seen(&player).await;
        let ship = match self.current_ship(player.id).await? {
            Some(ship) => ship,
            None => {
                self.store.create_ship(player.id, STARTING_SHIP_CLASS, &starting_ship_name(&player.username)).await?
            }
        };
        self.issue_session(identity(&player, Some(&ship))).await
    }

    /// Records a sighting for "online" in the admin tools; a failure costs only that (logged).
    /// Skips the write when the account just read says the player was seen recently: session
    /// validation is the hot path (every WebSocket ping, every few REST calls).
    async fn seen(&self, player: &galaxy_storage::Player) {
        let now = SystemTime::now();
        if player.last_seen.is_some_and(|seen| seen + galaxy_storage::LAST_SEEN_RESOLUTION >= now) {
            return;
        }
        if let Err(error) = self.store.touch_player(player.id, now).await {
            tracing::debug!(%error, player = player.id.0, "could not record the player as seen");
        }
    }

    /// Ends the session: the token never validates again. Logging out twice is fine.
    pub async fn logout(&self, token: &str) -> Result<(), PlayersError> {
        let token_hash = hash_presented_token(token).ok_or(PlayersError::InvalidSession)?;
        self.store.revoke_session(&token_hash).await.map_err(|error| match error {
            StorageError::NotFound(_) => PlayersError::InvalidSession,
            other => PlayersError::Storage(other),
        })
    }

    /// Swaps a valid token for a new one with a fresh lifetime; the old token stops validating.
    /// Of concurrent refreshes of one token exactly one succeeds: the token is revoked with a
    /// compare-and-set before the new one is issued.
    pub async fn refresh(&self, token: &str) -> Result<IssuedSession, PlayersError> {
        let token_hash = hash_presented_token(token).ok_or(PlayersError::InvalidSession)?;
        let session = self
            .store
            .revoke_active_session(&token_hash, SystemTime::now())
            .await?
            .ok_or(PlayersError::InvalidSession)?;
        let player = self.store.find_player(session.player_id).await?.ok_or(PlayersError::InvalidSession)?;
        if player.banned {
            return Err(PlayersError::InvalidSession);
        }
        let ship = self.current_ship(player.id).await?;
        self.issue_session(identity(&player, ship.as_ref())).await
    }

    /// Who holds this token, if it is valid (issued, not revoked, not expired, account not banned).
    pub async fn validate_session(&self, token: &str) -> Result<PlayerIdentity, PlayersError> {
        let (_session, player) = self.authenticate(token).await?;
        self.seen(&player).await;
        let ship = self.current_ship(player.id).await?;
        Ok(identity(&player, ship.as_ref()))
    }

    /// Records a new ship of `class_name` for the token's player, which becomes their current
    /// ship (spawning it in the simulation, and removing the old one, is the caller's job).
    /// Returns the identity with the new ship and the previous ship's id.
    pub async fn respawn(
        &self,
        token: &str,
        class_name: &str,
    ) -> Result<(PlayerIdentity, Option<ShipId>), PlayersError> {
        let (_session, player) = self.authenticate(token).await?;
        let class_name = if class_name.is_empty() { STARTING_SHIP_CLASS } else { class_name };
        let class = galaxy_engine::ShipClass::by_name(class_name)
            .ok_or_else(|| PlayersError::UnknownShipClass(class_name.chars().take(TARGET_MAX_CHARS).collect()))?;
        let previous = self.current_ship(player.id).await?.map(|ship| ship.id);
        let name = format!("{}'s {}", player.username, class.name.replace('_', " "));
        let ship = self.store.create_ship(player.id, class.name, &name).await?;
        Ok((identity(&player, Some(&ship)), previous))
    }

    /// Validates a command like [`PlayerAccounts::validate_command`] and queues it on the
    /// command stream for physics; returns the command and its stream entry id.
    pub async fn submit_command(
        &self,
        token: &str,
        ship_id: &str,
        control: Option<&v1::ShipControl>,
        attitude_mode: i32,
        target: Option<&v1::AttitudeTarget>,
    ) -> Result<(ValidatedCommand, String), PlayersError> {
        let command = self.validate_command(token, ship_id, control, attitude_mode, target).await?;
        // Re-encoded from the validated values: physics never sees fields that were not checked.
        let request = v1::ApplyControlRequest {
            ship_id: convert::ship_id_of_record(command.ship_id.0),
            control: control.map(|_| command.control.into()),
            attitude_mode: command.attitude_mode.map_or(0, |mode| v1::AttitudeMode::from(mode) as i32),
            target: command.target.as_ref().map(|target| v1::AttitudeTarget {
                target: Some(match target {
                    CommandTarget::Body(name) => v1::attitude_target::Target::BodyName(name.clone()),
                    CommandTarget::Ship(id) => v1::attitude_target::Target::ShipId(id.clone()),
                }),
            }),
        };
        let encoded = request.encode_to_vec();
        let entry = self.bus.append(StreamName::Commands, &[("command", &encoded)]).await?;
        Ok((command, entry.to_string()))
    }

    /// Checks a pilot's command: a valid session, within the player's command rate, inputs in
    /// bounds, and a ship the player owns.
    pub async fn validate_command(
        &self,
        token: &str,
        ship_id: &str,
        control: Option<&v1::ShipControl>,
        attitude_mode: i32,
        target: Option<&v1::AttitudeTarget>,
    ) -> Result<ValidatedCommand, PlayersError> {
        let (_session, player) = self.authenticate(token).await?;
        // Before the ownership query: a flood costs the database as little as possible.
        let within_rate =
            self.command_rate.lock().unwrap_or_else(PoisonError::into_inner).try_acquire(&player.id, Instant::now());
        if !within_rate {
            return Err(PlayersError::CommandRateExceeded { per_second: self.config.commands_per_second });
        }
        let control = convert::ship_control(control)?;
        let attitude_mode = convert::attitude_mode(attitude_mode)?;
        let target = command_target(attitude_mode, target)?;
        let wanted_ship = convert::record_of_ship_id(ship_id)
            .map(ShipId)
            .ok_or_else(|| PlayersError::MalformedShipId(ship_id.chars().take(TARGET_MAX_CHARS).collect()))?;
        let ships = self.store.ships_of_player(player.id).await?;
        // Only the current ship flies; older records are ships the player replaced.
        let current = ships.last();
        if current.is_none_or(|ship| ship.id != wanted_ship) {
            return Err(PlayersError::NotYourShip(ship_id.chars().take(TARGET_MAX_CHARS).collect()));
        }
        Ok(ValidatedCommand {
            player: identity(&player, current),
            ship_id: wanted_ship,
            control,
            attitude_mode,
            target,
        })
    }

    pub(crate) async fn authenticate(&self, token: &str) -> Result<(Session, Player), PlayersError> {
        let token_hash = hash_presented_token(token).ok_or(PlayersError::InvalidSession)?;
        let session = self
            .store
            .find_active_session(&token_hash, SystemTime::now())
            .await?
            .ok_or(PlayersError::InvalidSession)?;
        let player = self.store.find_player(session.player_id).await?.ok_or(PlayersError::InvalidSession)?;
        // Banning revokes sessions in the same transaction; this also covers a login that raced the ban.
        if player.banned {
            return Err(PlayersError::InvalidSession);
        }
        Ok((session, player))
    }

    async fn issue_session(&self, player: PlayerIdentity) -> Result<IssuedSession, PlayersError> {
        let token = SessionToken::generate();
        let expires_at = SystemTime::now() + self.config.session_lifetime;
        self.store.create_session(&token.hash(), player.player_id, expires_at).await?;
        Ok(IssuedSession { token, expires_at, player })
    }

    async fn current_ship(&self, player_id: PlayerId) -> Result<Option<galaxy_storage::Ship>, PlayersError> {
        Ok(self.store.ships_of_player(player_id).await?.pop())
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, LoginThrottle> {
        // A panic while holding the lock leaves at worst a stale counter; keep serving.
        self.login_throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn identity(player: &Player, ship: Option<&galaxy_storage::Ship>) -> PlayerIdentity {
    PlayerIdentity {
        player_id: player.id,
        username: player.username.clone(),
        role: player.role,
        ship_id: ship.map(|ship| ship.id),
        ship_class: ship.map(|ship| ship.class_name.clone()),
    }
}

fn starting_ship_name(username: &str) -> String {
    format!("{username}'s frigate")
}

fn command_target(
    attitude_mode: Option<AttitudeMode>,
    target: Option<&v1::AttitudeTarget>,
) -> Result<Option<CommandTarget>, PlayersError> {
    use v1::attitude_target::Target;
    let target = match target.and_then(|target| target.target.as_ref()) {
        None => None,
        Some(Target::BodyName(name)) => Some(CommandTarget::Body(bounded_target_name(name)?)),
        Some(Target::ShipId(id)) => Some(CommandTarget::Ship(bounded_target_name(id)?)),
    };
    if attitude_mode == Some(AttitudeMode::Target) && target.is_none() {
        return Err(PlayersError::InvalidCommand(galaxy_proto::ConversionError::Missing("target")));
    }
    Ok(target)
}

fn bounded_target_name(name: &str) -> Result<String, PlayersError> {
    if name.is_empty() || name.chars().count() > TARGET_MAX_CHARS {
        return Err(PlayersError::InvalidTarget);
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_mode_needs_a_target_and_targets_are_bounded() {
        let body = v1::AttitudeTarget { target: Some(v1::attitude_target::Target::BodyName("Moon".into())) };
        assert_eq!(
            command_target(Some(AttitudeMode::Target), Some(&body)),
            Ok(Some(CommandTarget::Body("Moon".into())))
        );
        assert!(command_target(Some(AttitudeMode::Target), None).is_err());
        assert_eq!(command_target(Some(AttitudeMode::Prograde), None), Ok(None));
        let huge = v1::AttitudeTarget { target: Some(v1::attitude_target::Target::ShipId("x".repeat(65))) };
        assert_eq!(command_target(None, Some(&huge)), Err(PlayersError::InvalidTarget));
    }

    #[test]
    fn the_starting_ship_name_fits_the_schema_for_the_longest_username() {
        assert!(starting_ship_name(&"u".repeat(20)).chars().count() <= 64);
    }
}
