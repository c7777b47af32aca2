//! The gRPC skin: each handler unwraps the request, calls [`PlayerAccounts`] and converts the
//! result; nothing here decides anything.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use galaxy_proto::v1;
use galaxy_proto::v1::players_server::Players;
use galaxy_storage::Role;
use tonic::{Request, Response, Status};

use crate::accounts::{IssuedSession, PlayerAccounts, PlayerIdentity};

/// [`PlayerAccounts`] served as `galaxy.v1.Players`. Wrap it in
/// [`PlayersServer`](crate::PlayersServer) to add it to a tonic server.
#[derive(Debug, Clone)]
pub struct PlayersService {
    accounts: Arc<PlayerAccounts>,
}

impl PlayersService {
    /// Serves `accounts` (shared, so the same domain can also be called in-process).
    #[must_use]
    pub fn new(accounts: Arc<PlayerAccounts>) -> PlayersService {
        PlayersService { accounts }
    }
}

#[tonic::async_trait]
impl Players for PlayersService {
    async fn register(&self, request: Request<v1::RegisterRequest>) -> Result<Response<v1::Session>, Status> {
        let request = request.into_inner();
        let session = self.accounts.register(&request.username, &request.password).await?;
        Ok(Response::new(session_message(session)))
    }

    async fn login(&self, request: Request<v1::LoginRequest>) -> Result<Response<v1::Session>, Status> {
        let request = request.into_inner();
        let session = self.accounts.login(&request.username, &request.password).await?;
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
}

fn session_message(session: IssuedSession) -> v1::Session {
    let expires_at_unix = session
        .expires_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since_epoch| i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX));
    v1::Session { token: session.token.into_string(), expires_at_unix, player: Some(identity_message(session.player)) }
}

fn identity_message(player: PlayerIdentity) -> v1::PlayerIdentity {
    let role = match player.role {
        Role::Player => v1::Role::Player,
        Role::Admin => v1::Role::Admin,
    };
    v1::PlayerIdentity {
        player_id: player.player_id.0.to_string(),
        username: player.username,
        role: role as i32,
        ship_id: player.ship_id.map(|ship_id| ship_id.0.to_string()).unwrap_or_default(),
    }
}
