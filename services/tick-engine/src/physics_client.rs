//! The tick loop's target in microservice mode: the physics service over gRPC.

use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use tonic::transport::Channel;

use crate::tick_loop::{PhysicsTick, TickError, TickTarget};

/// Physics reached over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcPhysics {
    client: PhysicsClient<Channel>,
}

impl GrpcPhysics {
    /// Wraps a connected client.
    #[must_use]
    pub fn new(client: PhysicsClient<Channel>) -> Self {
        Self { client }
    }
}

impl TickTarget for GrpcPhysics {
    async fn tick(&mut self, tick: u64, game_seconds: f64, substeps: u32) -> Result<PhysicsTick, TickError> {
        let request = v1::ProcessTickRequest { tick, game_seconds, substeps };
        match self.client.process_tick(request).await {
            Ok(response) => {
                let response = response.into_inner();
                Ok(PhysicsTick { game_time: response.game_time, state_hash: response.state_hash })
            }
            Err(status) => Err(TickError { tick, reason: format!("{}: {}", status.code(), status.message()) }),
        }
    }
}
