//! [`Backends`]: the gRPC clients of the services behind the gateway. Channels connect lazily
//! and reconnect by themselves, so the gateway starts (and answers `/livez`) while a service is
//! still coming up; calls made meanwhile fail as `UNAVAILABLE` (HTTP 503).

use std::time::Duration;

use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_client::PlayersClient;
use tonic::transport::{Channel, Endpoint};

use crate::config::GatewayConfig;
use crate::error::GatewayError;

/// Longest wait to open a connection to a service.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Clients of the players, physics and galaxy services. Cheap to clone (clients share channels).
#[derive(Debug, Clone)]
pub struct Backends {
    /// Accounts, sessions, commands.
    pub players: PlayersClient<Channel>,
    /// Ships, bodies, predictions.
    pub physics: PhysicsClient<Channel>,
    /// Catalog and game configuration.
    pub galaxy: GalaxyClient<Channel>,
}

impl Backends {
    /// Clients for the URLs in `config`, connecting on first use.
    pub fn connect_lazy(config: &GatewayConfig) -> Result<Backends, GatewayError> {
        let channel = |name: &'static str, url: &str| -> Result<Channel, GatewayError> {
            let endpoint = Endpoint::from_shared(url.to_owned())
                .map_err(|error| GatewayError::InvalidUrl { name, reason: error.to_string() })?
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(config.rpc_timeout)
                .tcp_nodelay(true);
            Ok(endpoint.connect_lazy())
        };
        Ok(Backends {
            players: PlayersClient::new(channel("PLAYERS_URL", &config.players_url)?),
            physics: PhysicsClient::new(channel("PHYSICS_URL", &config.physics_url)?),
            galaxy: GalaxyClient::new(channel("GALAXY_URL", &config.galaxy_url)?),
        })
    }

    /// Clients over channels the caller built (in-process tests, the one-process binary).
    #[must_use]
    pub fn from_channels(players: Channel, physics: Channel, galaxy: Channel) -> Backends {
        Backends {
            players: PlayersClient::new(players),
            physics: PhysicsClient::new(physics),
            galaxy: GalaxyClient::new(galaxy),
        }
    }
}
