//! The gRPC skin (`galaxy.v1.Players` and `galaxy.v1.PlayersAdmin`): each handler unwraps the request, calls [`PlayerAccounts`] and converts the
//! result; nothing here decides anything. When connected to physics, it also keeps each
//! player's current ship flying there: spawned at registration, re-spawned at login if the
//! simulation lost it, replaced on respawn.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_server::Players;
use galaxy_proto::{convert, v1};
use galaxy_storage::{Role, ShipId};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use crate::accounts::{IssuedSession, PlayerAccounts, PlayerIdentity};
use crate::admin::NamedAuditEntry;
use crate::error::PlayersError;

/// [`PlayerAccounts`] served as `galaxy.v1.Players`. Wrap it in
/// [`PlayersServer`](crate::PlayersServer) to add it to a tonic server.
#[derive(Debug, Clone)]
pub struct PlayersService {
    accounts: Arc<PlayerAccounts>,
    physics: Option<PhysicsClient<Channel>>,
}

impl PlayersService {
    /// Serves `accounts` (shared, so the same domain can also be called in-process).
    #[must_use]
    pub fn new(accounts: Arc<PlayerAccounts>) -> PlayersService {
        PlayersService { accounts, physics: None }
    }

    /// Also keeps players' ships flying in this physics service.
    #[must_use]
    pub fn with_physics(mut self, physics: PhysicsClient<Channel>) -> PlayersService {
        self.physics = Some(physics);
        self
    }

    /// Spawns the player's current ship in physics unless it is flying already. Physics being
    /// down does not fail the login: the ship is spawned at the next one.
    async fn ensure_ship_flying(&self, player: &PlayerIdentity) {
        let (Some(physics), Some(ship_id)) = (&self.physics, player.ship_id) else { return };
        let mut physics = physics.clone();
        let ship_id = convert::ship_id_of_record(ship_id.0);
        match physics.get_ship_state(v1::GetShipStateRequest { ship_id: ship_id.clone() }).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::NotFound => {
                let request = v1::SpawnShipRequest {
                    owner_id: player.player_id.0.to_string(),
                    name: player.username.clone(),
                    class_name: player.ship_class.clone().unwrap_or_default(),
                    ship_id,
                };
                match physics.spawn_ship(request).await {
                    Ok(_) => {}
                    // Two logins at once: the other one spawned it.
                    Err(status) if status.code() == Code::AlreadyExists => {}
                    Err(status) => tracing::warn!(%status, "could not spawn a player's ship"),
                }
            }
            Err(status) => tracing::warn!(%status, "could not check a player's ship"),
        }
    }

    async fn remove_ship(&self, ship_id: ShipId) {
        let Some(physics) = &self.physics else { return };
        let request = v1::RemoveShipRequest { ship_id: convert::ship_id_of_record(ship_id.0) };
        match physics.clone().remove_ship(request).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::NotFound => {}
            Err(status) => tracing::warn!(%status, "could not remove a replaced ship"),
        }
    }
}

#[tonic::async_trait]
impl Players for PlayersService {
    async fn register(&self, request: Request<v1::RegisterRequest>) -> Result<Response<v1::Session>, Status> {
        let request = request.into_inner();
        let registered = self.accounts.register(&request.username, &request.password).await;
        metrics::counter!("galaxy_players_registrations_total", "outcome" => outcome(&registered)).increment(1);
        let session = registered?;
        self.ensure_ship_flying(&session.player).await;
        Ok(Response::new(session_message(session)))
    }

    async fn login(&self, request: Request<v1::LoginRequest>) -> Result<Response<v1::Session>, Status> {
        let request = request.into_inner();
        let logged_in = self.accounts.login(&request.username, &request.password).await;
        metrics::counter!("galaxy_players_logins_total", "outcome" => outcome(&logged_in)).increment(1);
        let session = logged_in?;
        self.ensure_ship_flying(&session.player).await;
        Ok(Response::new(session_message(session)))
    }

    async fn logout(&self, request: Request<v1::LogoutRequest>) -> Result<Response<v1::LogoutResponse>, Status> {
        self.accounts.logout(&request.into_inner().token).await?;
        Ok(Response::new(v1::LogoutResponse {}))
    }

    async fn refresh(&self, request: Request<v1::RefreshRequest>) -> Result<Response<v1::Session>, Status> {
        let session = self.accounts.refresh(&request.into_inner().token).await?;
        Ok(Response::new(session_message(session)))
    }

    async fn validate_session(
        &self,
        request: Request<v1::ValidateSessionRequest>,
    ) -> Result<Response<v1::PlayerIdentity>, Status> {
        let player = self.accounts.validate_session(&request.into_inner().token).await?;
        Ok(Response::new(identity_message(player)))
    }

    async fn validate_command(
        &self,
        request: Request<v1::ValidateCommandRequest>,
    ) -> Result<Response<v1::ValidateCommandResponse>, Status> {
        let request = request.into_inner();
        let command = self
            .accounts
            .validate_command(
                &request.token,
                &request.ship_id,
                request.control.as_ref(),
                request.attitude_mode,
                request.target.as_ref(),
            )
            .await?;
        Ok(Response::new(v1::ValidateCommandResponse { player: Some(identity_message(command.player)) }))
    }

    async fn submit_command(
        &self,
        request: Request<v1::ValidateCommandRequest>,
    ) -> Result<Response<v1::SubmitCommandResponse>, Status> {
        let request = request.into_inner();
        let (command, entry_id) = self
            .accounts
            .submit_command(
                &request.token,
                &request.ship_id,
                request.control.as_ref(),
                request.attitude_mode,
                request.target.as_ref(),
            )
            .await?;
        Ok(Response::new(v1::SubmitCommandResponse { player: Some(identity_message(command.player)), entry_id }))
    }

    async fn respawn(&self, request: Request<v1::RespawnRequest>) -> Result<Response<v1::PlayerIdentity>, Status> {
        let request = request.into_inner();
        let (player, previous) = self.accounts.respawn(&request.token, &request.class_name).await?;
        if let Some(previous) = previous {
            self.remove_ship(previous).await;
        }
        self.ensure_ship_flying(&player).await;
        Ok(Response::new(identity_message(player)))
    }
}

fn session_message(session: IssuedSession) -> v1::Session {
    let expires_at_unix = session
        .expires_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since_epoch| i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX));
    v1::Session { token: session.token.into_string(), expires_at_unix, player: Some(identity_message(session.player)) }
}

fn identity_message(player: PlayerIdentity) -> v1::PlayerIdentity {
    let role = role_message(player.role);
    v1::PlayerIdentity {
        player_id: player.player_id.0.to_string(),
        username: player.username,
        role: role as i32,
        ship_id: player.ship_id.map(|ship_id| convert::ship_id_of_record(ship_id.0)).unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl galaxy_proto::v1::players_admin_server::PlayersAdmin for PlayersService {
    async fn list_players(
        &self,
        request: Request<v1::ListPlayersRequest>,
    ) -> Result<Response<v1::ListPlayersResponse>, Status> {
        let request = request.into_inner();
        let players = self.accounts.list_players(&request.token, request.limit).await?;
        Ok(Response::new(v1::ListPlayersResponse { players: players.iter().map(player_summary).collect() }))
    }

    async fn kick_player(
        &self,
        request: Request<v1::PlayerActionRequest>,
    ) -> Result<Response<v1::PlayerActionResponse>, Status> {
        let request = request.into_inner();
        let (player, revoked) = self.accounts.kick_player(&request.token, &request.username).await?;
        Ok(Response::new(v1::PlayerActionResponse { player: Some(player_summary(&player)), sessions_revoked: revoked }))
    }

    async fn ban_player(
        &self,
        request: Request<v1::PlayerActionRequest>,
    ) -> Result<Response<v1::PlayerActionResponse>, Status> {
        let request = request.into_inner();
        let (player, revoked) = self.accounts.set_player_banned(&request.token, &request.username, true).await?;
        Ok(Response::new(v1::PlayerActionResponse { player: Some(player_summary(&player)), sessions_revoked: revoked }))
    }

    async fn unban_player(
        &self,
        request: Request<v1::PlayerActionRequest>,
    ) -> Result<Response<v1::PlayerActionResponse>, Status> {
        let request = request.into_inner();
        let (player, revoked) = self.accounts.set_player_banned(&request.token, &request.username, false).await?;
        Ok(Response::new(v1::PlayerActionResponse { player: Some(player_summary(&player)), sessions_revoked: revoked }))
    }

    async fn create_admin(
        &self,
        request: Request<v1::CreateAdminRequest>,
    ) -> Result<Response<v1::PlayerSummary>, Status> {
        let request = request.into_inner();
        let admin = self.accounts.create_admin(&request.token, &request.username, &request.password).await?;
        Ok(Response::new(player_summary(&admin)))
    }

    async fn record_audit(&self, request: Request<v1::RecordAuditRequest>) -> Result<Response<v1::AuditEntry>, Status> {
        let request = request.into_inner();
        let details = if request.details_json.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::from_str(&request.details_json).map_err(|_| PlayersError::InvalidAuditDetails)?
        };
        let entry = self.accounts.record_audit(&request.token, &request.action, &details).await?;
        let admin = self.accounts.validate_session(&request.token).await?;
        Ok(Response::new(audit_message(NamedAuditEntry { entry, admin_username: admin.username })))
    }

    async fn list_audit(
        &self,
        request: Request<v1::ListAuditRequest>,
    ) -> Result<Response<v1::ListAuditResponse>, Status> {
        let request = request.into_inner();
        let entries = self.accounts.list_audit(&request.token, request.limit).await?;
        Ok(Response::new(v1::ListAuditResponse { entries: entries.into_iter().map(audit_message).collect() }))
    }
}

fn role_message(role: Role) -> v1::Role {
    match role {
        Role::Player => v1::Role::Player,
        Role::Admin => v1::Role::Admin,
    }
}

fn unix_time(time: SystemTime) -> (i64, u32) {
    time.duration_since(UNIX_EPOCH).map_or((0, 0), |since_epoch| {
        (i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX), since_epoch.subsec_millis())
    })
}

/// How recently a player must have been seen to count as online: three of the gateway's 30 s
/// WebSocket pings, each of which revalidates the session.
const ONLINE_WINDOW: std::time::Duration = std::time::Duration::from_secs(90);

fn player_summary(player: &galaxy_storage::Player) -> v1::PlayerSummary {
    // A sighting in the future (clock skew between pods) counts as now.
    let online = player.last_seen.is_some_and(|seen| !matches!(seen.elapsed(), Ok(age) if age > ONLINE_WINDOW));
    v1::PlayerSummary {
        last_seen_unix: player.last_seen.map_or(0, |seen| unix_time(seen).0),
        online,
        player_id: player.id.0.to_string(),
        username: player.username.clone(),
        role: role_message(player.role) as i32,
        banned: player.banned,
        created_at_unix: unix_time(player.created_at).0,
    }
}

fn audit_message(named: NamedAuditEntry) -> v1::AuditEntry {
    let (created_at_unix, created_at_millis) = unix_time(named.entry.created_at);
    v1::AuditEntry {
        id: named.entry.id.0.to_string(),
        admin_id: named.entry.admin_id.0.to_string(),
        action: named.entry.action,
        details_json: named.entry.details.to_string(),
        created_at_unix,
        created_at_millis,
        admin_username: named.admin_username,
    }
}

/// The `outcome` label of a counted request: "ok" or "refused" (refusals are few and their
/// reasons are in the logs; a label per reason would multiply the series).
fn outcome<T, E>(result: &Result<T, E>) -> &'static str {
    if result.is_ok() { "ok" } else { "refused" }
}
