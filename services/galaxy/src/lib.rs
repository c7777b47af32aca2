//! Galaxy's galaxy service (port 8004): it serves the body catalog — the 29 bodies at J2000,
//! from DE421 and published moon elements — and owns the game configuration (tick rate, time
//! scale, whether registrations are open), validated on every change and persisted in
//! PostgreSQL (where the tick-engine and players services read it too), or kept in memory
//! (non-durable) when the game runs as one process without it.

#![warn(missing_docs)]

use galaxy_proto::convert;
use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_server::Galaxy;
use galaxy_sim::solar_system::{BodyKind, CatalogBody, solar_system};
use galaxy_storage::{Database, GameConfig, StorageError};
use tokio::sync::Mutex;
use tonic::{Request, Response, Status};

/// The generated server type, for `tonic::transport::Server::add_service`.
pub use galaxy_proto::v1::galaxy_server::GalaxyServer;

/// Where new ships start (the physics service uses the same default).
pub const SPAWN_BODY: &str = "Earth";
/// Altitude of the spawn orbit, m.
pub const SPAWN_ALTITUDE: f64 = 400e3;

/// Where the configuration lives: the shared [`Database`] (PostgreSQL, durable and seen by
/// every service; or the in-memory stand-in of the one-process mode).
#[derive(Debug, Clone)]
pub struct ConfigStore(Database);

impl ConfigStore {
    /// An in-memory store starting from the defaults (1 Hz, real time, registrations open).
    #[must_use]
    pub fn in_memory() -> Self {
        Self(Database::Memory(galaxy_storage::MemoryDatabase::new()))
    }

    /// The configuration row of `database`.
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self(database)
    }

    async fn load(&self) -> Result<GameConfig, StorageError> {
        Ok(self.0.load_config().await?.config)
    }

    async fn save(&self, config: GameConfig) -> Result<GameConfig, StorageError> {
        Ok(self.0.save_config(&config).await?.config)
    }
}

fn storage_status(error: StorageError) -> Status {
    match error {
        StorageError::Unavailable(message) => Status::unavailable(message),
        StorageError::Invalid(message) => Status::invalid_argument(message),
        StorageError::NotFound(message) => Status::not_found(message),
        StorageError::Conflict(message) => Status::already_exists(message),
        StorageError::Internal(message) => Status::internal(message),
    }
}

/// The galaxy gRPC service.
#[derive(Debug)]
pub struct GalaxyService {
    catalog: Vec<CatalogBody>,
    config: ConfigStore,
    /// Serialises read-modify-write updates so two admins never lose each other's change.
    update: Mutex<()>,
}

impl GalaxyService {
    /// Serves the built-in catalog and the configuration in `config`.
    #[must_use]
    pub fn new(config: ConfigStore) -> Self {
        Self { catalog: solar_system(), config, update: Mutex::new(()) }
    }
}

fn config_message(config: &GameConfig) -> v1::GameConfig {
    v1::GameConfig {
        tick_rate_hz: config.tick_rate_hz,
        time_scale: config.time_scale,
        registrations_open: config.registrations_open,
        spawn_altitude: SPAWN_ALTITUDE,
        spawn_body: SPAWN_BODY.to_owned(),
    }
}

fn body_message(body: &CatalogBody) -> v1::BodyState {
    v1::BodyState {
        name: body.name.to_owned(),
        kind: match body.kind {
            BodyKind::Star => v1::BodyKind::Star,
            BodyKind::Planet => v1::BodyKind::Planet,
            BodyKind::Moon => v1::BodyKind::Moon,
        } as i32,
        parent: body.parent.unwrap_or_default().to_owned(),
        mass: body.mass,
        gm: body.gm,
        radius: body.radius,
        color: body.color,
        position: Some(body.position.into()),
        velocity: Some(body.velocity.into()),
    }
}

#[tonic::async_trait]
impl Galaxy for GalaxyService {
    async fn get_bodies(
        &self,
        _request: Request<v1::GetBodiesRequest>,
    ) -> Result<Response<v1::GetBodiesResponse>, Status> {
        Ok(Response::new(v1::GetBodiesResponse { bodies: self.catalog.iter().map(body_message).collect() }))
    }

    async fn get_config(&self, _request: Request<v1::GetConfigRequest>) -> Result<Response<v1::GameConfig>, Status> {
        let config = self.config.load().await.map_err(storage_status)?;
        Ok(Response::new(config_message(&config)))
    }

    async fn update_config(
        &self,
        request: Request<v1::UpdateConfigRequest>,
    ) -> Result<Response<v1::GameConfig>, Status> {
        let request = request.into_inner();
        // Validate every field before touching the store, so a bad request changes nothing.
        let tick_rate = request.tick_rate_hz.map(convert::tick_rate).transpose()?;
        let time_scale = request.time_scale.map(convert::time_scale).transpose()?;
        let _serialised = self.update.lock().await;
        let mut config = self.config.load().await.map_err(storage_status)?;
        if let Some(tick_rate) = tick_rate {
            config.tick_rate_hz = tick_rate;
        }
        if let Some(time_scale) = time_scale {
            config.time_scale = time_scale;
        }
        if let Some(open) = request.registrations_open {
            config.registrations_open = open;
        }
        let saved = self.config.save(config).await.map_err(storage_status)?;
        metrics::counter!("galaxy_config_updates_total").increment(1);
        metrics::gauge!("galaxy_config_tick_rate_hz").set(saved.tick_rate_hz);
        metrics::gauge!("galaxy_config_time_scale").set(saved.time_scale);
        metrics::gauge!("galaxy_config_registrations_open").set(if saved.registrations_open { 1.0 } else { 0.0 });
        Ok(Response::new(config_message(&saved)))
    }
}
