//! Account management for admins: the checks and effects behind the `galaxy.v1.PlayersAdmin`
//! service, used by the admin dashboard and the `galaxy-admin` CLI. Every method takes the
//! caller's session token and refuses anyone but an admin; every change is appended to the
//! admin audit log here, next to the change, so no client can forget to record it.

use std::collections::HashMap;

use galaxy_storage::{AuditEntry, Player, PlayerId, Role, StorageError};

use crate::accounts::PlayerAccounts;
use crate::credentials::{validate_password, validate_username};
use crate::error::PlayersError;

/// Most players or audit entries one listing returns.
pub const ADMIN_LIST_MAX: u32 = 1000;
/// Audit entries a listing returns when no limit is given.
const AUDIT_LIST_DEFAULT: u32 = 100;

/// An audit entry with the name of the admin who acted.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedAuditEntry {
    /// The stored entry.
    pub entry: AuditEntry,
    /// The admin's username (their id as text if the account is gone).
    pub admin_username: String,
}

impl PlayerAccounts {
    /// The admin behind `token`: [`PlayersError::InvalidSession`] for no valid session,
    /// [`PlayersError::NotAdmin`] for a player's.
    pub async fn authenticate_admin(&self, token: &str) -> Result<Player, PlayersError> {
        let (_session, player) = self.authenticate(token).await?;
        if player.role != Role::Admin {
            return Err(PlayersError::NotAdmin);
        }
        Ok(player)
    }

    /// Up to `limit` accounts (0 or more than [`ADMIN_LIST_MAX`]: that many), oldest first.
    pub async fn list_players(&self, token: &str, limit: u32) -> Result<Vec<Player>, PlayersError> {
        self.authenticate_admin(token).await?;
        let limit = if limit == 0 { ADMIN_LIST_MAX } else { limit.min(ADMIN_LIST_MAX) };
        Ok(self.store.list_players(limit).await?)
    }

    /// Revokes every session of `username`; returns the account and how many were revoked.
    pub async fn kick_player(&self, token: &str, username: &str) -> Result<(Player, u64), PlayersError> {
        let admin = self.authenticate_admin(token).await?;
        let player = self.player_named(username).await?;
        let revoked = self.store.revoke_sessions_of_player(player.id).await?;
        self.audit(&admin, "player.kick", &player, revoked).await?;
        Ok((player, revoked))
    }

    /// Bans (`banned`) or unbans `username`; a ban also revokes their sessions. Returns the
    /// account as it is now and how many sessions were revoked.
    pub async fn set_player_banned(
        &self,
        token: &str,
        username: &str,
        banned: bool,
    ) -> Result<(Player, u64), PlayersError> {
        let admin = self.authenticate_admin(token).await?;
        let mut player = self.player_named(username).await?;
        if banned && player.role == Role::Admin {
            return Err(PlayersError::CannotBanAdmin(player.username));
        }
        // Revoked first so the count is known; the ban itself revokes again atomically.
        let revoked = if banned { self.store.revoke_sessions_of_player(player.id).await? } else { 0 };
        self.store.set_banned(player.id, banned).await?;
        player.banned = banned;
        self.audit(&admin, if banned { "player.ban" } else { "player.unban" }, &player, revoked).await?;
        Ok((player, revoked))
    }

    /// Creates a new account with the admin role (no ship: admins steer the game, not ships).
    pub async fn create_admin(&self, token: &str, username: &str, password: &str) -> Result<Player, PlayersError> {
        let admin = self.authenticate_admin(token).await?;
        let player = self.create_admin_account(username, password).await?;
        self.audit(&admin, "admin.create", &player, 0).await?;
        Ok(player)
    }

    /// Makes sure the first admin exists (from `GALAXY_ADMIN_USERNAME`/`GALAXY_ADMIN_PASSWORD`
    /// at start-up). An existing admin of that name is kept as it is (its password may have been
    /// changed since); a *player* of that name is an error, never promoted.
    pub async fn ensure_admin(&self, username: &str, password: &str) -> Result<Player, PlayersError> {
        if let Some(existing) = self.store.find_player_by_username(username).await? {
            return match existing.role {
                Role::Admin => Ok(existing),
                Role::Player => Err(PlayersError::AdminNameTaken(existing.username)),
            };
        }
        match self.create_admin_account(username, password).await {
            // Another replica created it at the same moment.
            Err(PlayersError::UsernameTaken) => {
                self.store.find_player_by_username(username).await?.ok_or(PlayersError::UsernameTaken)
            }
            other => other,
        }
    }

    /// Appends an action done elsewhere (tick-engine, physics, galaxy) to the audit log as the
    /// token's admin. `details` must be a JSON object.
    pub async fn record_audit(
        &self,
        token: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, PlayersError> {
        let admin = self.authenticate_admin(token).await?;
        if !details.is_object() {
            return Err(PlayersError::InvalidAuditDetails);
        }
        Ok(self.store.append_audit(admin.id, action, details).await?)
    }

    /// The newest `limit` audit entries (0: 100), newest first, with the admins' names.
    pub async fn list_audit(&self, token: &str, limit: u32) -> Result<Vec<NamedAuditEntry>, PlayersError> {
        self.authenticate_admin(token).await?;
        let limit = if limit == 0 { AUDIT_LIST_DEFAULT } else { limit.min(ADMIN_LIST_MAX) };
        let entries = self.store.list_audit(limit).await?;
        let mut names: HashMap<PlayerId, String> = HashMap::new();
        let mut named = Vec::with_capacity(entries.len());
        for entry in entries {
            let admin_username = match names.get(&entry.admin_id) {
                Some(name) => name.clone(),
                None => {
                    let name = self
                        .store
                        .find_player(entry.admin_id)
                        .await?
                        .map_or_else(|| entry.admin_id.0.to_string(), |player| player.username);
                    names.insert(entry.admin_id, name.clone());
                    name
                }
            };
            named.push(NamedAuditEntry { entry, admin_username });
        }
        Ok(named)
    }

    async fn create_admin_account(&self, username: &str, password: &str) -> Result<Player, PlayersError> {
        validate_username(username)?;
        validate_password(password)?;
        if self.store.find_player_by_username(username).await?.is_some() {
            return Err(PlayersError::UsernameTaken);
        }
        let password_hash = self.hasher.hash(password).await?;
        self.store.create_player(username, &password_hash, Role::Admin).await.map_err(|error| match error {
            StorageError::Conflict(_) => PlayersError::UsernameTaken,
            other => PlayersError::Storage(other),
        })
    }

    async fn player_named(&self, username: &str) -> Result<Player, PlayersError> {
        validate_username(username).map_err(|_| PlayersError::UnknownPlayer(username.chars().take(20).collect()))?;
        self.store.find_player_by_username(username).await?.ok_or_else(|| PlayersError::UnknownPlayer(username.into()))
    }

    async fn audit(&self, admin: &Player, action: &str, player: &Player, revoked: u64) -> Result<(), PlayersError> {
        let details = serde_json::json!({
            "username": player.username,
            "player_id": player.id.0,
            "sessions_revoked": revoked,
        });
        self.store.append_audit(admin.id, action, &details).await?;
        Ok(())
    }
}
