//! The tick loop: every period it asks physics to advance one tick's game time, appends a
//! `tick.completed` record, and keeps time honestly — overdue ticks run back to back up to a
//! bound, beyond which their game time slips and is counted; pause stops it at once, also in
//! the middle of a catch-up. Tick numbers are contiguous: a tick that physics refuses is
//! retried under the same number.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::schedule::{ScheduleError, TickSettings, plan_catch_up};
use crate::telemetry;

/// Why physics could not produce a tick.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("physics failed tick {tick}: {reason}")]
pub struct TickError {
    /// The tick number asked for.
    pub tick: u64,
    /// What physics said.
    pub reason: String,
    /// Physics' last tick and game time after it, when physics refused the tick because it has
    /// done that number already (its answer was lost, or another tick-engine asked first): the
    /// loop resumes after it instead of asking again forever.
    pub physics_last: Option<(u64, f64)>,
}

/// What physics reports for a tick.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhysicsTick {
    /// Game time after the tick, s.
    pub game_time: f64,
    /// Hash of the state after the tick.
    pub state_hash: String,
    /// Where physics spent the tick's time.
    pub phases: TickPhases,
    /// Relative energy drift of the bodies since the world began.
    pub energy_drift: f64,
    /// Relative linear momentum drift.
    pub momentum_drift: f64,
}

/// Wall time of each phase of a tick inside physics, s.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TickPhases {
    /// Reading and applying queued player commands.
    pub commands_seconds: f64,
    /// Stepping the engine.
    pub step_seconds: f64,
    /// Writing the new state to the state store.
    pub publish_seconds: f64,
}

/// A snapshot physics saved.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotTaken {
    /// Its id in the snapshot store.
    pub snapshot_id: u64,
    /// The tick it holds.
    pub tick: u64,
}

/// Something that advances the world by a tick: the physics service over gRPC, or the
/// in-process world.
pub trait TickTarget: Send {
    /// Advances tick number `tick` by `game_seconds` in `substeps` substeps.
    fn tick(
        &mut self,
        tick: u64,
        game_seconds: f64,
        substeps: u32,
    ) -> impl Future<Output = Result<PhysicsTick, TickError>> + Send;

    /// Saves a snapshot of the world to the durable store.
    fn snapshot(&mut self) -> impl Future<Output = Result<SnapshotTaken, TickError>> + Send;
}

/// One completed tick, as appended to the `tick.completed` stream.
#[derive(Debug, Clone, PartialEq)]
pub struct TickRecord {
    /// Tick number (contiguous from 1).
    pub tick: u64,
    /// Game time after the tick, s.
    pub game_time: f64,
    /// Wall time physics took, s.
    pub physics_seconds: f64,
    /// How late the tick started, s (0 when on time).
    pub start_lag_seconds: f64,
    /// Whether it ran as catch-up (started a whole period or more late).
    pub catch_up: bool,
    /// Physics' state hash.
    pub state_hash: String,
    /// Where physics spent its time.
    pub phases: TickPhases,
    /// Relative energy drift since the world began.
    pub energy_drift: f64,
    /// Relative momentum drift since the world began.
    pub momentum_drift: f64,
}

/// Why a completed tick could not be recorded (the tick itself happened in physics).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("tick {tick} not recorded: {reason}")]
pub struct TickSinkError {
    /// The tick.
    pub tick: u64,
    /// What the store said.
    pub reason: String,
}

/// Where completed ticks go: the Redis stream (and PostgreSQL tick log), or an in-process bus.
pub trait TickSink: Send {
    /// Records a completed tick.
    fn completed(&mut self, record: TickRecord) -> impl Future<Output = Result<(), TickSinkError>> + Send;
}

/// What the loop is told to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlState {
    /// Whether ticking is paused.
    pub paused: bool,
    /// Rate, scale and bounds.
    pub settings: TickSettings,
}

/// What the loop reports (the admin dashboard's numbers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TickStatus {
    /// Last tick produced.
    pub tick: u64,
    /// Game time after it, s.
    pub game_time: f64,
    /// Whether ticking is paused.
    pub paused: bool,
    /// Configured rate, Hz.
    pub tick_rate_hz: f64,
    /// Ticks per second over the last ten seconds of wall time.
    pub actual_tick_rate_hz: f64,
    /// Configured time scale.
    pub time_scale: f64,
    /// Whole periods the loop was behind at the last tick.
    pub ticks_behind: u64,
    /// Ticks run as catch-up so far.
    pub catch_up_ticks: u64,
    /// Game time skipped because the backlog exceeded the catch-up bound, s.
    pub slipped_game_seconds: f64,
    /// Wall time physics took for the last tick, s.
    pub last_tick_seconds: f64,
    /// Ticks physics refused (retried under the same number).
    pub failed_ticks: u64,
    /// Ticks that happened but could not be recorded (the store was down); never silent.
    pub unrecorded_ticks: u64,
    /// Relative energy drift at the last tick.
    pub energy_drift: f64,
    /// Relative momentum drift at the last tick.
    pub momentum_drift: f64,
    /// Phases of the last tick.
    pub last_phases: TickPhases,
    /// Tick of the last snapshot saved, if any.
    pub last_snapshot_tick: Option<u64>,
    /// Scheduled snapshots that failed (the store was down); the next one is tried on schedule.
    pub failed_snapshots: u64,
}

/// The handle services and tests use to steer the loop and read its status.
#[derive(Debug, Clone)]
pub struct TickControl {
    control: watch::Sender<ControlState>,
    status: watch::Receiver<TickStatus>,
}

impl TickControl {
    /// Current status.
    #[must_use]
    pub fn status(&self) -> TickStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change.
    #[must_use]
    pub fn watch_status(&self) -> watch::Receiver<TickStatus> {
        self.status.clone()
    }

    /// Pauses at once (a catch-up in progress stops after the tick being computed).
    pub fn pause(&self) {
        self.control.send_modify(|state| state.paused = true);
    }

    /// Resumes ticking, one period from now; the pause is not counted as lateness.
    pub fn resume(&self) {
        self.control.send_modify(|state| state.paused = false);
    }

    /// Changes the tick rate (0.1–100 Hz), from the next tick.
    pub fn set_tick_rate(&self, tick_rate_hz: f64) -> Result<(), ScheduleError> {
        self.update(|settings| settings.tick_rate_hz = tick_rate_hz)
    }

    /// Changes the time scale (0.1–100), from the next tick.
    pub fn set_time_scale(&self, time_scale: f64) -> Result<(), ScheduleError> {
        self.update(|settings| settings.time_scale = time_scale)
    }

    fn update(&self, change: impl FnOnce(&mut TickSettings)) -> Result<(), ScheduleError> {
        let mut settings = self.control.borrow().settings;
        change(&mut settings);
        settings.validate()?;
        self.control.send_modify(|state| state.settings = settings);
        Ok(())
    }
}

/// The loop itself; [`TickLoop::run`] drives it until shutdown.
#[derive(Debug)]
pub struct TickLoop<T, S> {
    target: T,
    sink: S,
    control: watch::Receiver<ControlState>,
    status: watch::Sender<TickStatus>,
    next_tick: u64,
    game_time: f64,
    recent: VecDeque<Instant>,
    snapshot_every: Option<u64>,
    /// When this loop last saw a snapshot saved (its start until then): the snapshot age metric.
    last_snapshot_at: Instant,
}

/// Window over which the actual tick rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(10);

impl<T: TickTarget, S: TickSink> TickLoop<T, S> {
    /// A loop that will produce tick `last_tick + 1` next (0 for a fresh game), starting
    /// `paused` or not.
    pub fn new(
        target: T,
        sink: S,
        settings: TickSettings,
        last_tick: u64,
        game_time: f64,
        paused: bool,
    ) -> Result<(Self, TickControl), ScheduleError> {
        settings.validate()?;
        telemetry::describe();
        let (control_sender, control) = watch::channel(ControlState { paused, settings });
        let initial = TickStatus {
            tick: last_tick,
            game_time,
            paused,
            tick_rate_hz: settings.tick_rate_hz,
            time_scale: settings.time_scale,
            ..TickStatus::default()
        };
        let (status, status_receiver) = watch::channel(initial);
        let tick_loop = Self {
            target,
            sink,
            control,
            status,
            next_tick: last_tick + 1,
            game_time,
            recent: VecDeque::new(),
            snapshot_every: None,
            last_snapshot_at: Instant::now(),
        };
        Ok((tick_loop, TickControl { control: control_sender, status: status_receiver }))
    }

    /// Asks physics for a snapshot after every tick whose number is a multiple of `every`
    /// (`None` or 0: never).
    #[must_use]
    pub fn with_snapshots_every(mut self, every: Option<u64>) -> Self {
        self.snapshot_every = every.filter(|&every| every > 0);
        self
    }

    /// Runs until `shutdown` resolves (checked between ticks, never in the middle of one).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut state = *self.control.borrow_and_update();
        let mut due = Instant::now() + state.settings.period();
        loop {
            if state.paused {
                self.publish(|status| status.paused = true);
                telemetry::settings_changed(&self.status.borrow());
                tokio::select! {
                    () = &mut shutdown => return,
                    changed = self.control.changed() => {
                        if changed.is_err() { return; }
                        state = *self.control.borrow_and_update();
                        due = Instant::now() + state.settings.period();
                        continue;
                    }
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                changed = self.control.changed() => {
                    if changed.is_err() { return; }
                    let previous = state;
                    state = *self.control.borrow_and_update();
                    if state.settings.tick_rate_hz != previous.settings.tick_rate_hz {
                        due = Instant::now() + state.settings.period();
                    }
                    self.publish(|status| {
                        status.paused = state.paused;
                        status.tick_rate_hz = state.settings.tick_rate_hz;
                        status.time_scale = state.settings.time_scale;
                    });
                    telemetry::settings_changed(&self.status.borrow());
                    continue;
                }
                () = tokio::time::sleep_until(due) => {}
            }
            let period = state.settings.period();
            let lateness = Instant::now().saturating_duration_since(due);
            let plan = plan_catch_up(lateness, period, state.settings.max_catch_up_ticks);
            if plan.skip > 0 {
                // Beyond the catch-up bound: those ticks' game time is given up, and counted.
                let slipped = plan.skip as f64 * state.settings.game_seconds_per_tick();
                due += period * u32::try_from(plan.skip).unwrap_or(u32::MAX);
                self.publish(|status| status.slipped_game_seconds += slipped);
                telemetry::slipped(self.status.borrow().slipped_game_seconds);
            }
            let lag = Instant::now().saturating_duration_since(due);
            if self.run_one(&state.settings, lag, plan.ticks_behind).await {
                due += period;
            } else {
                // Physics refused: retry the same tick number one period later.
                due = Instant::now() + period;
            }
        }
    }

    async fn run_one(&mut self, settings: &TickSettings, lag: Duration, ticks_behind: u64) -> bool {
        let tick = self.next_tick;
        let started = Instant::now();
        let result = self.target.tick(tick, settings.game_seconds_per_tick(), settings.substeps_per_tick()).await;
        let physics_seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(outcome) => {
                self.next_tick += 1;
                self.game_time = outcome.game_time;
                let catch_up = lag >= settings.period();
                let now = Instant::now();
                self.recent.push_back(now);
                while self.recent.front().is_some_and(|&time| now.duration_since(time) > RATE_WINDOW) {
                    self.recent.pop_front();
                }
                let window = self.recent.front().map_or(0.0, |&first| now.duration_since(first).as_secs_f64());
                let actual_rate = if window > 0.0 { (self.recent.len() - 1) as f64 / window } else { 0.0 };
                let record = TickRecord {
                    tick,
                    game_time: outcome.game_time,
                    physics_seconds,
                    start_lag_seconds: lag.as_secs_f64(),
                    catch_up,
                    state_hash: outcome.state_hash,
                    phases: outcome.phases,
                    energy_drift: outcome.energy_drift,
                    momentum_drift: outcome.momentum_drift,
                };
                let recorded = self.sink.completed(record.clone()).await.is_ok();
                if !recorded {
                    telemetry::tick_unrecorded();
                }
                self.publish(|status| {
                    status.tick = tick;
                    status.game_time = outcome.game_time;
                    status.paused = false;
                    status.tick_rate_hz = settings.tick_rate_hz;
                    status.time_scale = settings.time_scale;
                    status.actual_tick_rate_hz = actual_rate;
                    status.ticks_behind = ticks_behind;
                    status.catch_up_ticks += u64::from(catch_up);
                    status.last_tick_seconds = physics_seconds;
                    status.unrecorded_ticks += u64::from(!recorded);
                    status.energy_drift = outcome.energy_drift;
                    status.momentum_drift = outcome.momentum_drift;
                    status.last_phases = outcome.phases;
                });
                let snapshot_age = self.last_snapshot_at.elapsed().as_secs_f64();
                telemetry::tick_completed(&record, &self.status.borrow(), snapshot_age);
                if self.snapshot_every.is_some_and(|every| tick.is_multiple_of(every)) {
                    match self.target.snapshot().await {
                        Ok(taken) => {
                            self.last_snapshot_at = Instant::now();
                            telemetry::snapshot(true);
                            self.publish(|status| status.last_snapshot_tick = Some(taken.tick));
                        }
                        Err(_) => {
                            telemetry::snapshot(false);
                            self.publish(|status| status.failed_snapshots += 1);
                        }
                    }
                }
                true
            }
            Err(error) => {
                // NOTE (fault tests): physics refuses a number it has done; retrying it would
                // never succeed (a physics killed after saving tick n but before answering came
                // back at n, and the loop asked for n forever). Resume after physics' tick: the
                // skipped numbers were done once, by physics, and are never done twice.
                if let Some((last, game_time)) = error.physics_last.filter(|&(last, _)| last >= tick) {
                    tracing::warn!(
                        tick,
                        physics_tick = last,
                        "physics has done this tick already; resuming after its last"
                    );
                    self.next_tick = last + 1;
                    self.game_time = game_time;
                    self.publish(|status| {
                        status.tick = last;
                        status.game_time = game_time;
                        status.failed_ticks += 1;
                    });
                    return true;
                }
                self.publish(|status| status.failed_ticks += 1);
                telemetry::tick_failed();
                false
            }
        }
    }

    fn publish(&self, change: impl FnOnce(&mut TickStatus)) {
        self.status.send_modify(change);
    }
}
