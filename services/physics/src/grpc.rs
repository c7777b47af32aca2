//! The gRPC skin over [`World`]: each handler unwraps the request, converts and validates it
//! (`galaxy_proto::convert`), calls the world, and maps the result. Stepping runs on a blocking
//! thread so a long tick never stalls the async executor.

use std::sync::Arc;
use std::time::Instant;

use galaxy_proto::convert;
use galaxy_proto::v1;
use galaxy_proto::v1::physics_server::Physics;
use galaxy_storage::{
    Database, EventBus, MemoryBus, MemoryDatabase, NewSnapshot, SnapshotId, SnapshotSummary, StorageError,
    StreamEntryId, StreamName,
};
use prost::Message;
use tokio::sync::Mutex;
use tonic::{Request, Response, Status};

use crate::world::{BodyView, ShipView, TargetRef, World, WorldError};

impl From<WorldError> for Status {
    fn from(error: WorldError) -> Self {
        let message = error.to_string();
        match error {
            WorldError::UnknownShip(_) | WorldError::UnknownBody(_) => Status::not_found(message),
            WorldError::StaleTick { .. } => Status::failed_precondition(message),
            WorldError::UnknownClass(_)
            | WorldError::Engine(_)
            | WorldError::Snapshot(_)
            | WorldError::InvalidShipId(_) => Status::invalid_argument(message),
            WorldError::DuplicateShip(_) => Status::already_exists(message),
        }
    }
}

/// Ships from which a tick's two world serialisations run in parallel.
const PARALLEL_SERIALISATION_SHIPS: usize = 4_096;

/// Most queued commands applied at the start of one tick; the rest wait for the next.
const MAX_COMMANDS_PER_TICK: u64 = 10_000;

/// The physics gRPC service: the world, the bus it reads commands from and publishes state to,
/// and the database it keeps snapshots in.
#[derive(Debug, Clone)]
pub struct PhysicsService {
    world: Arc<Mutex<World>>,
    bus: EventBus,
    database: Database,
}

impl PhysicsService {
    /// Serves `world` over in-process stores (nothing durable, nothing shared).
    #[must_use]
    pub fn new(world: World) -> Self {
        Self::with_stores(world, EventBus::Memory(MemoryBus::new(10_000)), Database::Memory(MemoryDatabase::new()))
    }

    /// Serves `world`, reading commands from and publishing state to `bus`, snapshots in `database`.
    #[must_use]
    pub fn with_stores(world: World, bus: EventBus, database: Database) -> Self {
        Self { world: Arc::new(Mutex::new(world)), bus, database }
    }

    /// Starts from where the last physics process stopped: the newer of the world the bus holds
    /// (written after every tick) and the latest snapshot in the database; `fresh` if neither.
    pub async fn recover(fresh: World, bus: EventBus, database: Database) -> Result<(Self, Recovery), WorldError> {
        let from_bus = match bus.read_world().await {
            Ok(Some(bytes)) => match World::from_snapshot(&bytes) {
                Ok(world) => Some(world),
                Err(error) => {
                    tracing::warn!(%error, "the world on the bus is unreadable; ignoring it");
                    None
                }
            },
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "could not read the world from the bus");
                None
            }
        };
        let from_database = match database.latest_snapshot().await {
            Ok(Some(snapshot)) => Some((World::from_snapshot(&snapshot.engine_snapshot)?, snapshot.summary.id.0)),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "could not read the latest snapshot");
                None
            }
        };
        let bus_tick = from_bus.as_ref().map(World::last_tick);
        let (world, recovery) = match (from_bus, from_database) {
            (Some(world), Some((snapshot, _))) if world.last_tick() >= snapshot.last_tick() => (world, Recovery::Bus),
            (_, Some((snapshot, id))) => (snapshot, Recovery::Snapshot { snapshot_id: id, newer_than_bus: bus_tick }),
            (Some(world), None) => (world, Recovery::Bus),
            (None, None) => (fresh, Recovery::Fresh),
        };
        Ok((Self::with_stores(world, bus, database), recovery))
    }

    /// The world's last tick and state hash (for logs and tests).
    pub async fn summary(&self) -> (u64, String) {
        let world = self.world.lock().await;
        (world.last_tick(), world.state_hash())
    }

    /// Saves a snapshot of the world in the database.
    pub async fn save_snapshot(&self) -> Result<SnapshotSummary, Status> {
        let (bytes, tick, game_time, checksum) = {
            let world = self.world.lock().await;
            (world.to_snapshot()?, world.last_tick(), world.simulation().time(), world.state_hash())
        };
        let snapshot = NewSnapshot { tick, game_time, engine_snapshot: &bytes, checksum: &checksum };
        self.database.save_snapshot(&snapshot).await.map_err(storage_status)
    }
}

/// Where [`PhysicsService::recover`] found the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The world the bus held after the last tick.
    Bus,
    /// A snapshot from the database (the bus had none, or an older world).
    Snapshot {
        /// Its id.
        snapshot_id: i64,
        /// The tick of the bus's world, when there was one.
        newer_than_bus: Option<u64>,
    },
    /// Nothing stored: a new world.
    Fresh,
}

fn storage_status(error: StorageError) -> Status {
    let message = error.to_string();
    match error {
        StorageError::Unavailable(_) => Status::unavailable(message),
        StorageError::NotFound(_) => Status::not_found(message),
        StorageError::Conflict(_) => Status::already_exists(message),
        StorageError::Invalid(_) => Status::invalid_argument(message),
        StorageError::Internal(_) => Status::internal(message),
    }
}

/// A queued command, decoded from the command stream.
#[derive(Debug)]
struct QueuedCommand {
    entry_id: String,
    request: Option<v1::ApplyControlRequest>,
}

/// Applies one command the players service validated and queued. A command for a ship that is
/// gone, or one the world refuses, is dropped: it changes nothing.
fn apply_queued(world: &mut World, request: &v1::ApplyControlRequest) -> Result<ShipView, Status> {
    let control = request.control.as_ref().map(|control| convert::ship_control(Some(control))).transpose()?;
    let mode = convert::attitude_mode(request.attitude_mode)?;
    let target = target_ref(request.target.as_ref());
    Ok(world.apply_control(&request.ship_id, control, mode, target.as_ref())?)
}

fn ship_message(view: &ShipView) -> v1::ShipState {
    let state = &view.state;
    v1::ShipState {
        ship_id: view.record.id.clone(),
        owner_id: view.record.owner.clone(),
        name: view.record.name.clone(),
        class_name: view.record.class_name.clone(),
        position: Some(state.position.into()),
        velocity: Some(state.velocity.into()),
        attitude: Some(state.attitude.into()),
        angular_velocity: Some(state.angular_velocity.into()),
        dry_mass: state.dry_mass,
        fuel_mass: state.fuel_mass,
        fuel_capacity: state.fuel_capacity,
        control: Some(state.control.into()),
        attitude_mode: v1::AttitudeMode::from(state.attitude_mode) as i32,
        target: view.target.as_ref().map(|target| v1::AttitudeTarget {
            target: Some(match target {
                TargetRef::Body(name) => v1::attitude_target::Target::BodyName(name.clone()),
                TargetRef::Ship(id) => v1::attitude_target::Target::ShipId(id.clone()),
            }),
        }),
        status: v1::ShipStatus::from(state.status) as i32,
        surface_body: view.surface_body.clone().unwrap_or_default(),
    }
}

fn body_message(view: &BodyView) -> v1::BodyState {
    use galaxy_sim::solar_system::BodyKind;
    let catalog = &view.catalog;
    v1::BodyState {
        name: catalog.name.to_owned(),
        kind: match catalog.kind {
            BodyKind::Star => v1::BodyKind::Star,
            BodyKind::Planet => v1::BodyKind::Planet,
            BodyKind::Moon => v1::BodyKind::Moon,
        } as i32,
        parent: catalog.parent.unwrap_or_default().to_owned(),
        mass: catalog.mass,
        gm: catalog.gm,
        radius: catalog.radius,
        color: catalog.color,
        position: Some(view.position.into()),
        velocity: Some(view.velocity.into()),
    }
}

fn target_ref(target: Option<&v1::AttitudeTarget>) -> Option<TargetRef> {
    match target?.target.as_ref()? {
        v1::attitude_target::Target::BodyName(name) => Some(TargetRef::Body(name.clone())),
        v1::attitude_target::Target::ShipId(id) => Some(TargetRef::Ship(id.clone())),
    }
}

#[tonic::async_trait]
impl Physics for PhysicsService {
    async fn process_tick(
        &self,
        request: Request<v1::ProcessTickRequest>,
    ) -> Result<Response<v1::ProcessTickResponse>, Status> {
        let tick = convert::tick_request(request.get_ref())?;
        let commands_started = Instant::now();
        let cursor = self.world.lock().await.command_cursor().map(str::to_owned);
        let after = match cursor.as_deref().map(StreamEntryId::parse) {
            Some(Ok(id)) => id,
            _ => StreamEntryId::beginning(),
        };
        // A bus outage delays commands to a later tick; it never stops the tick.
        let queued: Vec<QueuedCommand> =
            match self.bus.read_stream(StreamName::Commands, &after, MAX_COMMANDS_PER_TICK).await {
                Ok(entries) => entries
                    .into_iter()
                    .map(|entry| QueuedCommand {
                        entry_id: entry.id.to_string(),
                        request: entry
                            .fields
                            .get("command")
                            .and_then(|bytes| v1::ApplyControlRequest::decode(bytes.as_ref()).ok()),
                    })
                    .collect(),
                Err(error) => {
                    tracing::warn!(%error, "could not read queued commands; they wait for the next tick");
                    Vec::new()
                }
            };
        let reading_seconds = commands_started.elapsed().as_secs_f64();
        let queued_count = queued.len();
        let world = Arc::clone(&self.world);
        let stepped = tokio::task::spawn_blocking(move || {
            let mut world = world.blocking_lock();
            let applying = Instant::now();
            if let Some(last) = queued.last() {
                for command in &queued {
                    if let Some(request) = &command.request
                        && let Err(status) = apply_queued(&mut world, request)
                    {
                        tracing::debug!(entry = %command.entry_id, %status, "dropped a queued command");
                    }
                }
                world.set_command_cursor(Some(last.entry_id.clone()));
            }
            let applying_seconds = applying.elapsed().as_secs_f64();
            let started = Instant::now();
            let outcome = world.process_tick(tick.tick, tick.game_seconds, tick.substeps)?;
            let step_seconds = started.elapsed().as_secs_f64();
            // PERF: the two serialisations of the whole world are the largest part of a tick
            // with many ships; they only read it, so with many ships they run side by side.
            // With fewer, waking a pool thread costs more than it saves (1,000 ships at 1 Hz:
            // p99 2.9 ms in turn against 5.0 ms side by side).
            let (published, whole) = if world.simulation().ships().len() >= PARALLEL_SERIALISATION_SHIPS {
                rayon::join(|| world.published_state(), || world.to_snapshot())
            } else {
                (world.published_state(), world.to_snapshot())
            };
            let (published, whole) = (published?, whole?);
            let state_hash = World::state_hash_of_snapshot(&whole);
            Ok::<_, WorldError>((outcome, applying_seconds, step_seconds, state_hash, published, whole))
        })
        .await
        .map_err(|error| Status::internal(format!("tick task failed: {error}")))??;
        let (outcome, applying_seconds, step_seconds, state_hash, published, whole) = stepped;
        let store_started = Instant::now();
        // The tick has happened whatever the store says: a failed write is reported in the
        // response (never an error, which would make the tick-engine retry a done tick).
        let (state, world) = tokio::join!(self.bus.write_state(published), self.bus.write_world(whole));
        let state_published = state.is_ok() && world.is_ok();
        if let Err(error) = state.and(world) {
            tracing::warn!(%error, tick = outcome.tick, "could not publish the state");
        }
        let store_seconds = store_started.elapsed().as_secs_f64();
        metrics::counter!("galaxy_physics_ticks_total").increment(1);
        metrics::counter!("galaxy_physics_commands_total").increment(queued_count as u64);
        metrics::histogram!("galaxy_physics_phase_seconds", "phase" => "commands")
            .record(reading_seconds + applying_seconds);
        metrics::histogram!("galaxy_physics_phase_seconds", "phase" => "step").record(step_seconds);
        metrics::histogram!("galaxy_physics_phase_seconds", "phase" => "store").record(store_seconds);
        if !state_published {
            metrics::counter!("galaxy_physics_publish_failures_total").increment(1);
        }
        Ok(Response::new(v1::ProcessTickResponse {
            tick: outcome.tick,
            game_time: outcome.game_time,
            step_seconds,
            commands_seconds: reading_seconds + applying_seconds,
            store_seconds,
            energy_drift: outcome.energy_drift,
            momentum_drift: outcome.momentum_drift,
            angular_momentum_drift: outcome.angular_momentum_drift,
            state_hash,
            state_published,
        }))
    }

    async fn spawn_ship(&self, request: Request<v1::SpawnShipRequest>) -> Result<Response<v1::ShipState>, Status> {
        let request = request.into_inner();
        let class = if request.class_name.is_empty() { "fast_frigate" } else { request.class_name.as_str() };
        let mut world = self.world.lock().await;
        let chosen_id = Some(request.ship_id.as_str()).filter(|id| !id.is_empty());
        let id = world.spawn_ship_as(chosen_id, &request.owner_id, &request.name, class)?;
        Ok(Response::new(ship_message(&world.ship(&id)?)))
    }

    async fn remove_ship(
        &self,
        request: Request<v1::RemoveShipRequest>,
    ) -> Result<Response<v1::RemoveShipResponse>, Status> {
        self.world.lock().await.remove_ship(&request.get_ref().ship_id)?;
        Ok(Response::new(v1::RemoveShipResponse {}))
    }

    async fn apply_control(
        &self,
        request: Request<v1::ApplyControlRequest>,
    ) -> Result<Response<v1::ShipState>, Status> {
        let view = apply_queued(&mut *self.world.lock().await, request.get_ref())?;
        Ok(Response::new(ship_message(&view)))
    }

    async fn get_ship_state(
        &self,
        request: Request<v1::GetShipStateRequest>,
    ) -> Result<Response<v1::ShipState>, Status> {
        let view = self.world.lock().await.ship(&request.get_ref().ship_id)?;
        Ok(Response::new(ship_message(&view)))
    }

    async fn get_all_ships(
        &self,
        _request: Request<v1::GetAllShipsRequest>,
    ) -> Result<Response<v1::GetAllShipsResponse>, Status> {
        let ships = self.world.lock().await.ships();
        Ok(Response::new(v1::GetAllShipsResponse { ships: ships.iter().map(ship_message).collect() }))
    }

    async fn get_all_bodies(
        &self,
        _request: Request<v1::GetAllBodiesRequest>,
    ) -> Result<Response<v1::GetAllBodiesResponse>, Status> {
        let bodies = self.world.lock().await.bodies();
        Ok(Response::new(v1::GetAllBodiesResponse { bodies: bodies.iter().map(body_message).collect() }))
    }

    async fn predict_trajectory(
        &self,
        request: Request<v1::PredictTrajectoryRequest>,
    ) -> Result<Response<v1::PredictTrajectoryResponse>, Status> {
        let params = convert::prediction_params(request.get_ref())?;
        let id = request.into_inner().ship_id;
        let world = Arc::clone(&self.world);
        let (trajectory, reference, elements) =
            tokio::task::spawn_blocking(move || world.blocking_lock().predict(&id, params))
                .await
                .map_err(|error| Status::internal(format!("prediction task failed: {error}")))??;
        Ok(Response::new(v1::PredictTrajectoryResponse {
            reference_body: reference.clone().unwrap_or_default(),
            points: trajectory
                .points
                .iter()
                .map(|point| v1::TrajectoryPoint {
                    time: point.time,
                    position: Some(point.position.into()),
                    relative_position: Some(point.relative_position.into()),
                })
                .collect(),
            elements: elements.map(|elements| v1::OrbitalElements {
                reference_body: reference.unwrap_or_default(),
                semi_major_axis: elements.semi_major_axis,
                eccentricity: elements.eccentricity,
                inclination: elements.inclination,
                periapsis: elements.periapsis,
                apoapsis: elements.apoapsis,
                period: elements.period,
            }),
        }))
    }

    async fn snapshot(&self, _request: Request<v1::SnapshotRequest>) -> Result<Response<v1::SnapshotResponse>, Status> {
        let saved = self.save_snapshot().await?;
        Ok(Response::new(v1::SnapshotResponse {
            tick: saved.tick,
            game_time: saved.game_time,
            snapshot_id: u64::try_from(saved.id.0).unwrap_or_default(),
            checksum: saved.checksum,
        }))
    }

    async fn get_world_status(
        &self,
        _request: Request<v1::GetWorldStatusRequest>,
    ) -> Result<Response<v1::WorldStatus>, Status> {
        let world = self.world.lock().await;
        Ok(Response::new(v1::WorldStatus {
            tick: world.last_tick(),
            game_time: world.simulation().time(),
            state_hash: world.state_hash(),
            ships: u32::try_from(world.simulation().ships().len()).unwrap_or(u32::MAX),
            bodies: u32::try_from(world.simulation().bodies().len()).unwrap_or(u32::MAX),
        }))
    }

    async fn list_snapshots(
        &self,
        request: Request<v1::ListSnapshotsRequest>,
    ) -> Result<Response<v1::ListSnapshotsResponse>, Status> {
        let limit = match request.get_ref().limit {
            0 => 20,
            limit => limit.min(1000),
        };
        let listed = self.database.list_snapshots(limit).await.map_err(storage_status)?;
        let snapshots = listed
            .into_iter()
            .map(|summary| v1::SnapshotSummary {
                snapshot_id: u64::try_from(summary.id.0).unwrap_or_default(),
                tick: summary.tick,
                game_time: summary.game_time,
                checksum: summary.checksum,
                size_bytes: summary.size_bytes,
                created_at_unix: summary
                    .created_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX)),
            })
            .collect();
        Ok(Response::new(v1::ListSnapshotsResponse { snapshots }))
    }

    async fn restore(&self, request: Request<v1::RestoreRequest>) -> Result<Response<v1::RestoreResponse>, Status> {
        let wanted = request.get_ref().snapshot_id;
        let stored = if wanted == 0 {
            self.database
                .latest_snapshot()
                .await
                .map_err(storage_status)?
                .ok_or_else(|| Status::not_found("no snapshot has been saved"))?
        } else {
            let id = i64::try_from(wanted).map_err(|_| Status::not_found(format!("no snapshot {wanted}")))?;
            self.database.snapshot_by_id(SnapshotId(id)).await.map_err(storage_status)?
        };
        let bytes = stored.engine_snapshot;
        let mut world = tokio::task::spawn_blocking(move || World::from_snapshot(&bytes))
            .await
            .map_err(|error| Status::internal(format!("restore task failed: {error}")))??;
        let state_hash = world.state_hash();
        if state_hash != stored.summary.checksum {
            return Err(Status::data_loss(format!(
                "snapshot {} has checksum {} but its state hashes to {state_hash}",
                stored.summary.id.0, stored.summary.checksum
            )));
        }
        // Commands queued before the restore belong to the timeline it discards.
        let newest_command = self.bus.last_entry_id(StreamName::Commands).await.map_err(storage_status)?;
        world.set_command_cursor(newest_command.map(|id| id.to_string()));
        let whole = world.to_snapshot()?;
        *self.world.lock().await = world;
        if let Err(error) = self.bus.write_world(whole).await {
            tracing::warn!(%error, "restored, but could not write the world to the bus");
        }
        Ok(Response::new(v1::RestoreResponse {
            tick: stored.summary.tick,
            game_time: stored.summary.game_time,
            state_hash,
        }))
    }
}
