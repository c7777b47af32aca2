//! Channels to the services (with the `--timeout` on connecting and on every call) and the
//! admin session a changing command acts under.

use std::time::Duration;

use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_admin_client::PlayersAdminClient;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use tonic::transport::{Channel, Endpoint};

use crate::cli::{Credentials, ServiceUrls};
use crate::error::AdminError;

pub(crate) const TICK_ENGINE: &str = "tick-engine";
pub(crate) const PHYSICS: &str = "physics";
pub(crate) const PLAYERS: &str = "players";
pub(crate) const GALAXY: &str = "galaxy";

/// Where the services are and how long to wait for them.
#[derive(Debug, Clone)]
pub(crate) struct Services {
    pub(crate) urls: ServiceUrls,
    timeout: Duration,
}

impl Services {
    pub(crate) fn new(urls: ServiceUrls, timeout_seconds: f64) -> Result<Services, AdminError> {
        let timeout =
            Duration::try_from_secs_f64(timeout_seconds).ok().filter(|timeout| !timeout.is_zero()).ok_or_else(
                || AdminError::Usage(format!("--timeout must be a positive number of seconds, got {timeout_seconds}")),
            )?;
        Ok(Services { urls, timeout })
    }

    /// Lazy: nothing is dialled until the first call, whose failure then names the service.
    fn channel(&self, service: &'static str, url: &str) -> Result<Channel, AdminError> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|error| AdminError::Usage(format!("the {service} URL {url:?} is not a URL: {error}")))?;
        Ok(endpoint.connect_timeout(self.timeout).timeout(self.timeout).connect_lazy())
    }

    pub(crate) fn tick_engine(&self) -> Result<TickEngineClient<Channel>, AdminError> {
        Ok(TickEngineClient::new(self.channel(TICK_ENGINE, &self.urls.tick_engine_url)?))
    }

    pub(crate) fn physics(&self) -> Result<PhysicsClient<Channel>, AdminError> {
        Ok(PhysicsClient::new(self.channel(PHYSICS, &self.urls.physics_url)?))
    }

    pub(crate) fn players(&self) -> Result<PlayersClient<Channel>, AdminError> {
        Ok(PlayersClient::new(self.channel(PLAYERS, &self.urls.players_url)?))
    }

    pub(crate) fn players_admin(&self) -> Result<PlayersAdminClient<Channel>, AdminError> {
        Ok(PlayersAdminClient::new(self.channel(PLAYERS, &self.urls.players_url)?))
    }

    pub(crate) fn galaxy(&self) -> Result<GalaxyClient<Channel>, AdminError> {
        Ok(GalaxyClient::new(self.channel(GALAXY, &self.urls.galaxy_url)?))
    }

    /// The error for a failed call to `service`.
    pub(crate) fn failure(&self, service: &'static str, status: &tonic::Status) -> AdminError {
        let url = match service {
            TICK_ENGINE => &self.urls.tick_engine_url,
            PHYSICS => &self.urls.physics_url,
            PLAYERS => &self.urls.players_url,
            _ => &self.urls.galaxy_url,
        };
        AdminError::from_status(service, url, status)
    }
}

/// An admin's session: given (`--token`), or opened by logging in (and closed again after the
/// command, so the CLI leaves no live tokens behind).
#[derive(Debug)]
pub(crate) struct AdminSession {
    pub(crate) token: String,
    opened_here: bool,
}

impl AdminSession {
    /// Checks the credentials belong to an admin before anything is changed.
    pub(crate) async fn open(services: &Services, credentials: &Credentials) -> Result<AdminSession, AdminError> {
        let mut players = services.players()?;
        let (token, identity, opened_here) = match (&credentials.token, &credentials.username, &credentials.password) {
            (Some(token), _, _) => {
                let identity = players
                    .validate_session(v1::ValidateSessionRequest { token: token.clone() })
                    .await
                    .map_err(|status| services.failure(PLAYERS, &status))?
                    .into_inner();
                (token.clone(), identity, false)
            }
            (None, Some(username), Some(password)) => {
                let session = players
                    .login(v1::LoginRequest { username: username.clone(), password: password.clone() })
                    .await
                    .map_err(|status| services.failure(PLAYERS, &status))?
                    .into_inner();
                (session.token, session.player.unwrap_or_default(), true)
            }
            _ => {
                return Err(AdminError::Unauthorised(
                    "this command needs an admin: give --token (GALAXY_ADMIN_TOKEN), or --username and --password \
                     (GALAXY_ADMIN_USERNAME, GALAXY_ADMIN_PASSWORD)"
                        .to_owned(),
                ));
            }
        };
        let session = AdminSession { token, opened_here };
        if identity.role != v1::Role::Admin as i32 {
            session.close(services).await;
            return Err(AdminError::Unauthorised(format!("{:?} is not an admin", identity.username)));
        }
        Ok(session)
    }

    /// Writes an action done through another service to the audit log.
    pub(crate) async fn audit(
        &self,
        services: &Services,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), AdminError> {
        let mut details = details;
        if let Some(object) = details.as_object_mut() {
            object.insert("via".into(), "galaxy-admin".into());
        }
        services
            .players_admin()?
            .record_audit(v1::RecordAuditRequest {
                token: self.token.clone(),
                action: action.to_owned(),
                details_json: details.to_string(),
            })
            .await
            .map_err(|status| AdminError::AuditFailed(services.failure(PLAYERS, &status).to_string()))?;
        Ok(())
    }

    /// Logs out if this tool logged in; failures only cost an unused token its natural expiry.
    pub(crate) async fn close(self, services: &Services) {
        if self.opened_here
            && let Ok(mut players) = services.players()
        {
            let _ = players.logout(v1::LogoutRequest { token: self.token }).await;
        }
    }
}
