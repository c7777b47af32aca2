//! The gRPC clients of the services the dashboard steers, on lazy channels (a service that
//! starts later, or restarts, is picked up without restarting the dashboard).

use std::time::Duration;

use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_admin_client::PlayersAdminClient;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use tonic::transport::{Channel, Endpoint};

use crate::{DashboardConfig, DashboardError};

/// Longest wait for a service, so a dead one answers the browser with 503 rather than a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Clients of the tick-engine, physics, players and galaxy services (cheap to clone).
#[derive(Debug, Clone)]
pub struct Backends {
    /// Status and the tick controls.
    pub tick_engine: TickEngineClient<Channel>,
    /// Snapshots.
    pub physics: PhysicsClient<Channel>,
    /// Logins and sessions.
    pub players: PlayersClient<Channel>,
    /// Accounts and the audit log.
    pub players_admin: PlayersAdminClient<Channel>,
    /// Registrations.
    pub galaxy: GalaxyClient<Channel>,
}

impl Backends {
    /// Channels to the URLs in `config`; nothing is dialled yet.
    pub fn connect_lazy(config: &DashboardConfig) -> Result<Backends, DashboardError> {
        let channel = |service: &'static str, url: &str| {
            Endpoint::from_shared(url.to_owned())
                .map(|endpoint| endpoint.connect_timeout(CALL_TIMEOUT).timeout(CALL_TIMEOUT).connect_lazy())
                .map_err(|error| DashboardError::BadUrl { service, url: url.to_owned(), reason: error.to_string() })
        };
        let players = channel("players", &config.players_url)?;
        Ok(Backends {
            tick_engine: TickEngineClient::new(channel("tick-engine", &config.tick_engine_url)?),
            physics: PhysicsClient::new(channel("physics", &config.physics_url)?),
            players: PlayersClient::new(players.clone()),
            players_admin: PlayersAdminClient::new(players),
            galaxy: GalaxyClient::new(channel("galaxy", &config.galaxy_url)?),
        })
    }
}
