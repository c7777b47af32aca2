//! The gRPC skin over [`World`]: each handler unwraps the request, converts and validates it
//! (`galaxy_proto::convert`), calls the world, and maps the result. Stepping runs on a blocking
//! thread so a long tick never stalls the async executor.

use std::sync::Arc;
use std::time::Instant;

use galaxy_proto::convert;
use galaxy_proto::v1;
use galaxy_proto::v1::physics_server::Physics;
use galaxy_storage::RedisStore;
use tokio::sync::Mutex;
use tonic::{Request, Response, Status};

use crate::world::{BodyView, ShipView, TargetRef, World, WorldError};

impl From<WorldError> for Status {
    fn from(error: WorldError) -> Self {
        let message = error.to_string();
        match error {
            WorldError::UnknownShip(_) | WorldError::UnknownBody(_) => Status::not_found(message),
            WorldError::StaleTick { .. } => Status::failed_precondition(message),
            WorldError::UnknownClass(_) | WorldError::Engine(_) | WorldError::Snapshot(_) => {
                Status::invalid_argument(message)
            }
        }
    }
}

/// A snapshot kept by this process (non-durable until the PostgreSQL store is wired in).
#[derive(Debug, Clone)]
struct StoredSnapshot {
    id: u64,
    tick: u64,
    game_time: f64,
    bytes: Vec<u8>,
}

/// The physics gRPC service.
#[derive(Debug, Clone)]
pub struct PhysicsService {
    world: Arc<Mutex<World>>,
    snapshots: Arc<Mutex<Vec<StoredSnapshot>>>,
    state_store: Option<RedisStore>,
}

impl PhysicsService {
    /// Serves `world`, keeping its state to itself.
    #[must_use]
    pub fn new(world: World) -> Self {
        Self { world: Arc::new(Mutex::new(world)), snapshots: Arc::new(Mutex::new(Vec::new())), state_store: None }
    }

    /// Also publishes the state (JSON, see `World::published_state`) to Redis after every tick.
    #[must_use]
    pub fn with_state_store(mut self, redis: RedisStore) -> Self {
        self.state_store = Some(redis);
        self
    }
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
        let world = Arc::clone(&self.world);
        let publish = self.state_store.is_some();
        let (outcome, step_seconds, state_hash, published) = tokio::task::spawn_blocking(move || {
            let mut world = world.blocking_lock();
            let started = Instant::now();
            let outcome = world.process_tick(tick.tick, tick.game_seconds, tick.substeps)?;
            let step_seconds = started.elapsed().as_secs_f64();
            let published = if publish { Some(world.published_state()?) } else { None };
            Ok::<_, WorldError>((outcome, step_seconds, world.state_hash(), published))
        })
        .await
        .map_err(|error| Status::internal(format!("tick task failed: {error}")))??;
        let store_started = Instant::now();
        // The tick has happened whatever the store says: a failed write is reported in the
        // response (never an error, which would make the tick-engine retry a done tick).
        let state_published = match (&self.state_store, published) {
            (Some(redis), Some(published)) => redis.write_state(published).await.is_ok(),
            _ => false,
        };
        let store_seconds = store_started.elapsed().as_secs_f64();
        Ok(Response::new(v1::ProcessTickResponse {
            tick: outcome.tick,
            game_time: outcome.game_time,
            step_seconds,
            // NOTE: the command stream is not wired in yet; that phase takes no time.
            commands_seconds: 0.0,
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
        let id = world.spawn_ship(&request.owner_id, &request.name, class)?;
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
        let request = request.into_inner();
        let control = request.control.as_ref().map(|control| convert::ship_control(Some(control))).transpose()?;
        let mode = convert::attitude_mode(request.attitude_mode)?;
        let target = target_ref(request.target.as_ref());
        let view = self.world.lock().await.apply_control(&request.ship_id, control, mode, target.as_ref())?;
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
        let (bytes, tick, game_time, checksum) = {
            let world = self.world.lock().await;
            (world.to_snapshot()?, world.last_tick(), world.simulation().time(), world.state_hash())
        };
        let mut snapshots = self.snapshots.lock().await;
        let id = snapshots.last().map_or(1, |last| last.id + 1);
        snapshots.push(StoredSnapshot { id, tick, game_time, bytes });
        Ok(Response::new(v1::SnapshotResponse { tick, game_time, snapshot_id: id, checksum }))
    }

    async fn restore(&self, request: Request<v1::RestoreRequest>) -> Result<Response<v1::RestoreResponse>, Status> {
        let wanted = request.get_ref().snapshot_id;
        let stored = {
            let snapshots = self.snapshots.lock().await;
            let found =
                if wanted == 0 { snapshots.last() } else { snapshots.iter().find(|snapshot| snapshot.id == wanted) };
            found.cloned().ok_or_else(|| Status::not_found(format!("no snapshot {wanted}")))?
        };
        let restored =
            tokio::task::spawn_blocking(move || World::from_snapshot(&stored.bytes).map(|world| (world, stored)))
                .await
                .map_err(|error| Status::internal(format!("restore task failed: {error}")))??;
        let (world, stored) = restored;
        let state_hash = world.state_hash();
        *self.world.lock().await = world;
        Ok(Response::new(v1::RestoreResponse { tick: stored.tick, game_time: stored.game_time, state_hash }))
    }
}
