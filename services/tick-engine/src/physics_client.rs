//! The tick loop's target in microservice mode: the physics service over gRPC.

use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use tonic::transport::Channel;

use crate::tick_loop::{PhysicsTick, SnapshotTaken, TickError, TickPhases, TickTarget};

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
                Ok(PhysicsTick {
                    game_time: response.game_time,
                    state_hash: response.state_hash,
                    phases: TickPhases {
                        commands_seconds: response.commands_seconds,
                        step_seconds: response.step_seconds,
                        publish_seconds: response.store_seconds,
                    },
                    energy_drift: response.energy_drift,
                    momentum_drift: response.momentum_drift,
                })
            }
            Err(status) => {
                // A refusal because physics is past this number: say where physics stands.
                let physics_last = if status.code() == tonic::Code::FailedPrecondition {
                    match self.client.get_world_status(v1::GetWorldStatusRequest {}).await {
                        Ok(world) => Some((world.get_ref().tick, world.get_ref().game_time)),
                        Err(_) => None,
                    }
                } else {
                    None
                };
                Err(TickError { tick, reason: format!("{}: {}", status.code(), status.message()), physics_last })
            }
        }
    }

    async fn snapshot(&mut self) -> Result<SnapshotTaken, TickError> {
        match self.client.snapshot(v1::SnapshotRequest {}).await {
            Ok(response) => {
                let response = response.into_inner();
                Ok(SnapshotTaken { snapshot_id: response.snapshot_id, tick: response.tick })
            }
            Err(status) => Err(TickError {
                tick: 0,
                reason: format!("snapshot: {}: {}", status.code(), status.message()),
                physics_last: None,
            }),
        }
    }
}
