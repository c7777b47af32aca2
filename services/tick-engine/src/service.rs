//! The tick-engine as a service: [`run_tick_engine`] waits for the singleton lock (when the
//! database is PostgreSQL), resumes after the last tick anyone produced, and runs the loop until
//! shutdown or until the lock is lost; [`TickEngineService`] is the gRPC control surface
//! (status, pause, resume, tick rate, time scale), whose rate and scale changes are also saved
//! in the game configuration so a restarted tick-engine keeps them.

use std::future::Future;
use std::time::Duration;

use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::tick_engine_server::TickEngine;
use galaxy_proto::{convert, v1};
use galaxy_storage::{Database, EventBus, PostgresStore, SingletonLock, StorageError};
use tokio::sync::watch;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::physics_client::GrpcPhysics;
use crate::schedule::TickSettings;
use crate::store_sink::StoreTickSink;
use crate::tick_loop::{TickControl, TickLoop, TickStatus};

/// PostgreSQL advisory lock key of the tick-engine singleton ("galaxy" in ASCII, then 2).
pub const TICK_ENGINE_LOCK_KEY: i64 = 0x6761_6c61_7879_0002;

/// How the tick-engine runs.
#[derive(Debug, Clone)]
pub struct TickEngineOptions {
    /// Substep bound and catch-up bound (rate and scale come from the stored game configuration).
    pub settings: TickSettings,
    /// A snapshot after every this many ticks (`None`: never).
    pub snapshot_every: Option<u64>,
    /// How often a standby tick-engine tries the lock.
    pub lock_poll_interval: Duration,
    /// Start paused.
    pub start_paused: bool,
}

impl Default for TickEngineOptions {
    /// Defaults: a snapshot every 60 ticks (a minute at 1 Hz), the lock tried every second.
    fn default() -> Self {
        Self {
            settings: TickSettings::default(),
            snapshot_every: Some(60),
            lock_poll_interval: Duration::from_secs(1),
            start_paused: false,
        }
    }
}

impl TickEngineOptions {
    /// The defaults, overridden by `SNAPSHOT_EVERY_TICKS`, `MAX_SUBSTEP_SECONDS` and
    /// `MAX_CATCH_UP_TICKS` when set; out-of-range values are refused.
    pub fn from_env() -> Result<Self, TickEngineError> {
        let mut options = Self::default();
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let bad = |name: &str, value: &str| TickEngineError::Environment(format!("{name}={value:?} is not valid"));
        if let Some(value) = read("SNAPSHOT_EVERY_TICKS") {
            let every: u64 = value.parse().map_err(|_| bad("SNAPSHOT_EVERY_TICKS", &value))?;
            options.snapshot_every = Some(every).filter(|&every| every > 0);
        }
        if let Some(value) = read("MAX_SUBSTEP_SECONDS") {
            options.settings.max_substep = value.parse().map_err(|_| bad("MAX_SUBSTEP_SECONDS", &value))?;
        }
        if let Some(value) = read("MAX_CATCH_UP_TICKS") {
            options.settings.max_catch_up_ticks = value.parse().map_err(|_| bad("MAX_CATCH_UP_TICKS", &value))?;
        }
        options.settings.validate()?;
        Ok(options)
    }
}

/// Why the tick-engine stopped before shutdown was asked for.
#[derive(Debug, thiserror::Error)]
pub enum TickEngineError {
    /// A store failed at start-up.
    #[error("tick-engine storage: {0}")]
    Storage(#[from] StorageError),
    /// Physics could not be asked where the world stands.
    #[error("asking physics for the world's status: {0}")]
    Physics(String),
    /// The stored configuration is out of range.
    #[error("stored tick settings are invalid: {0}")]
    Settings(#[from] crate::schedule::ScheduleError),
    /// An environment variable is unusable.
    #[error("{0}")]
    Environment(String),
    /// Another process took over (it holds the lock this one lost): this one must stop ticking.
    #[error("lost the tick-engine lock to another tick-engine")]
    LockLost,
}

/// Where the control service finds the running loop: `None` while in standby.
pub type ControlSlot = watch::Receiver<Option<TickControl>>;

/// Runs the tick-engine until `shutdown` resolves. With PostgreSQL it first waits (in standby,
/// also through PostgreSQL outages) for the singleton lock, so a second tick-engine never
/// produces a tick. If the lock's connection dies the loop goes on while the lock is taken
/// again; it stops ([`TickEngineError::LockLost`]) once another tick-engine is found holding it.
/// `slot` receives the loop's control handle.
pub async fn run_tick_engine(
    physics: PhysicsClient<Channel>,
    bus: EventBus,
    database: Database,
    options: TickEngineOptions,
    slot: watch::Sender<Option<TickControl>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TickEngineError> {
    tokio::pin!(shutdown);
    let lock = match &database {
        Database::Postgres(store) => {
            tracing::info!("waiting for the tick-engine lock (another tick-engine may be running)");
            // NOTE (fault tests): a standby used to exit at the first PostgreSQL error; it now
            // waits through an outage, like through another holder.
            let waiting = async {
                loop {
                    match store.acquire_singleton_lock(TICK_ENGINE_LOCK_KEY, options.lock_poll_interval).await {
                        Err(StorageError::Unavailable(reason)) => {
                            tracing::warn!(%reason, "PostgreSQL unavailable; still waiting for the tick-engine lock");
                            tokio::time::sleep(options.lock_poll_interval).await;
                        }
                        other => return other,
                    }
                }
            };
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                lock = waiting => Some(lock?),
            }
        }
        Database::Memory(_) => None,
    };
    tracing::info!("holding the tick-engine lock; ticking");
    let stored = database.load_config().await?.config;
    let settings =
        TickSettings { tick_rate_hz: stored.tick_rate_hz, time_scale: stored.time_scale, ..options.settings };
    // Resume after the last tick anyone produced: the tick log's, or physics' own if it is ahead
    // (it resumed from a world saved after ticks whose log entries were lost).
    let logged = database.latest_tick().await?;
    let world = physics
        .clone()
        .get_world_status(v1::GetWorldStatusRequest {})
        .await
        .map_err(|status| TickEngineError::Physics(status.to_string()))?
        .into_inner();
    let (last_tick, game_time) = match logged {
        Some(record) if record.tick >= world.tick => (record.tick, record.game_time),
        _ => (world.tick, world.game_time),
    };
    tracing::info!(last_tick, game_time, "resuming");
    let sink = StoreTickSink::new(bus, database.clone());
    let (tick_loop, control) =
        TickLoop::new(GrpcPhysics::new(physics), sink, settings, last_tick, game_time, options.start_paused)?;
    let tick_loop = tick_loop.with_snapshots_every(options.snapshot_every);
    let _ = slot.send(Some(control));
    // Owns the lock (re-taking it after a connection loss); kept until the loop has stopped.
    let lost = async {
        match (lock, &database) {
            (Some(lock), Database::Postgres(store)) => taken_over(lock, store, options.lock_poll_interval).await,
            _ => std::future::pending().await,
        }
    };
    tokio::pin!(lost);
    let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel::<()>();
    let running = tick_loop.run(async move {
        let _ = stop_receiver.await;
    });
    tokio::pin!(running);
    let outcome = tokio::select! {
        () = &mut running => Ok(()),
        () = &mut shutdown => Ok(()),
        () = &mut lost => Err(TickEngineError::LockLost),
    };
    // Between ticks: the loop finishes the tick in flight, then stops; the lock goes on return.
    let _ = stop_sender.send(());
    running.await;
    let _ = slot.send(None);
    outcome
}

/// Resolves when another tick-engine holds the lock. The lock's connection dying alone does not
/// stop the loop: PostgreSQL may simply be unreachable — then nobody else can take the lock
/// either, and the game must go on. The lock is re-taken once PostgreSQL answers again;
/// meanwhile physics, which refuses a tick number it has already done, keeps the numbers
/// unique even if another tick-engine got the lock first (until this one notices, within a
/// poll interval).
// NOTE (fault tests): before, losing the lock's connection stopped the tick-engine at once, so
// a PostgreSQL outage stopped the game (issue 5: "PostgreSQL unavailable: the game keeps ticking").
async fn taken_over(mut lock: SingletonLock, store: &PostgresStore, poll_interval: Duration) {
    loop {
        lock.lost().await;
        tracing::warn!("lost the connection holding the tick-engine lock; ticking on while taking it again");
        loop {
            tokio::time::sleep(poll_interval).await;
            match store.try_singleton_lock(TICK_ENGINE_LOCK_KEY).await {
                Ok(Some(again)) => {
                    tracing::info!("holding the tick-engine lock again");
                    lock = again;
                    break;
                }
                Ok(None) => return,
                Err(error) => tracing::debug!(%error, "PostgreSQL still unavailable; ticking on without the lock"),
            }
        }
    }
}

/// The gRPC control surface of the tick-engine.
#[derive(Debug, Clone)]
pub struct TickEngineService {
    slot: ControlSlot,
    database: Database,
}

impl TickEngineService {
    /// Controls the loop published in `slot`; saves rate and scale changes in `database`.
    #[must_use]
    pub fn new(slot: ControlSlot, database: Database) -> Self {
        Self { slot, database }
    }

    fn control(&self) -> Result<TickControl, Status> {
        self.slot
            .borrow()
            .clone()
            .ok_or_else(|| Status::failed_precondition("this tick-engine is on standby: another one holds the lock"))
    }

    async fn save_config(&self, change: impl FnOnce(&mut galaxy_storage::GameConfig)) -> Result<(), Status> {
        let mut config = self.database.load_config().await.map_err(storage_status)?.config;
        change(&mut config);
        self.database.save_config(&config).await.map_err(storage_status)?;
        Ok(())
    }
}

fn storage_status(error: StorageError) -> Status {
    match error {
        StorageError::Unavailable(message) => Status::unavailable(message),
        StorageError::Invalid(message) => Status::invalid_argument(message),
        other => Status::internal(other.to_string()),
    }
}

/// The wire form of a status (`standby` when no loop runs here).
#[must_use]
pub fn status_message(status: Option<&TickStatus>) -> v1::TickStatus {
    let Some(status) = status else {
        return v1::TickStatus { standby: true, ..v1::TickStatus::default() };
    };
    v1::TickStatus {
        tick: status.tick,
        game_time: status.game_time,
        paused: status.paused,
        tick_rate_hz: status.tick_rate_hz,
        actual_tick_rate_hz: status.actual_tick_rate_hz,
        time_scale: status.time_scale,
        ticks_behind: status.ticks_behind,
        catch_up_ticks: status.catch_up_ticks,
        slipped_game_seconds: status.slipped_game_seconds,
        last_tick_seconds: status.last_tick_seconds,
        failed_ticks: status.failed_ticks,
        unrecorded_ticks: status.unrecorded_ticks,
        energy_drift: status.energy_drift,
        momentum_drift: status.momentum_drift,
        commands_seconds: status.last_phases.commands_seconds,
        step_seconds: status.last_phases.step_seconds,
        publish_seconds: status.last_phases.publish_seconds,
        last_snapshot_tick: status.last_snapshot_tick.unwrap_or_default(),
        failed_snapshots: status.failed_snapshots,
        standby: false,
    }
}

#[tonic::async_trait]
impl TickEngine for TickEngineService {
    async fn get_status(&self, _request: Request<v1::GetStatusRequest>) -> Result<Response<v1::TickStatus>, Status> {
        let status = self.slot.borrow().as_ref().map(TickControl::status);
        Ok(Response::new(status_message(status.as_ref())))
    }

    async fn pause(&self, _request: Request<v1::PauseRequest>) -> Result<Response<v1::TickStatus>, Status> {
        let control = self.control()?;
        control.pause();
        let mut status = control.status();
        status.paused = true;
        Ok(Response::new(status_message(Some(&status))))
    }

    async fn resume(&self, _request: Request<v1::ResumeRequest>) -> Result<Response<v1::TickStatus>, Status> {
        let control = self.control()?;
        control.resume();
        let mut status = control.status();
        status.paused = false;
        Ok(Response::new(status_message(Some(&status))))
    }

    async fn set_tick_rate(
        &self,
        request: Request<v1::SetTickRateRequest>,
    ) -> Result<Response<v1::TickStatus>, Status> {
        let rate = convert::tick_rate(request.get_ref().tick_rate_hz)?;
        let control = self.control()?;
        control.set_tick_rate(rate).map_err(|error| Status::invalid_argument(error.to_string()))?;
        self.save_config(|config| config.tick_rate_hz = rate).await?;
        let mut status = control.status();
        status.tick_rate_hz = rate;
        Ok(Response::new(status_message(Some(&status))))
    }

    async fn set_time_scale(
        &self,
        request: Request<v1::SetTimeScaleRequest>,
    ) -> Result<Response<v1::TickStatus>, Status> {
        let scale = convert::time_scale(request.get_ref().time_scale)?;
        let control = self.control()?;
        control.set_time_scale(scale).map_err(|error| Status::invalid_argument(error.to_string()))?;
        self.save_config(|config| config.time_scale = scale).await?;
        let mut status = control.status();
        status.time_scale = scale;
        Ok(Response::new(status_message(Some(&status))))
    }
}
