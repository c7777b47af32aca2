//! The tick loop keeps time honestly (on tokio's paused clock, so every figure is exact): ticks
//! come at the configured rate with contiguous numbers, overruns are caught up within the bound
//! and the rest slips and is counted, pause takes effect at once — also during catch-up — and
//! resume continues the numbering; a refused tick is retried under the same number. The last
//! test drives the real physics service over gRPC.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use galaxy_tick_engine::{
    PhysicsTick, SnapshotTaken, TickError, TickLoop, TickRecord, TickSettings, TickSink, TickSinkError, TickTarget,
};

#[derive(Clone, Default)]
struct FakePhysics {
    calls: Arc<Mutex<Vec<(u64, f64, u32)>>>,
    delay: Arc<Mutex<Duration>>,
    fail_once_at: Arc<Mutex<Option<u64>>>,
    stall_once: Arc<Mutex<Option<Duration>>>,
    game_time: Arc<Mutex<f64>>,
    snapshots: Arc<Mutex<Vec<u64>>>,
    last_tick: Arc<Mutex<u64>>,
    answer_lost_at: Arc<Mutex<Option<u64>>>,
}

impl TickTarget for FakePhysics {
    async fn tick(&mut self, tick: u64, game_seconds: f64, substeps: u32) -> Result<PhysicsTick, TickError> {
        let delay = self.stall_once.lock().unwrap().take().unwrap_or(*self.delay.lock().unwrap());
        tokio::time::sleep(delay).await;
        self.calls.lock().unwrap().push((tick, game_seconds, substeps));
        if self.fail_once_at.lock().unwrap().take_if(|failing| *failing == tick).is_some() {
            return Err(TickError { tick, reason: "unavailable".into(), physics_last: None });
        }
        let mut game_time = self.game_time.lock().unwrap();
        let mut last_tick = self.last_tick.lock().unwrap();
        if tick <= *last_tick {
            // As the physics service: a number it has done is refused, saying where it stands.
            return Err(TickError { tick, reason: "stale".into(), physics_last: Some((*last_tick, *game_time)) });
        }
        *game_time += game_seconds;
        *last_tick = tick;
        if self.answer_lost_at.lock().unwrap().take_if(|lost| *lost == tick).is_some() {
            return Err(TickError { tick, reason: "the answer was lost".into(), physics_last: None });
        }
        Ok(PhysicsTick { game_time: *game_time, state_hash: format!("h{tick}"), ..PhysicsTick::default() })
    }

    async fn snapshot(&mut self) -> Result<SnapshotTaken, TickError> {
        let tick = *self.last_tick.lock().unwrap();
        let mut snapshots = self.snapshots.lock().unwrap();
        snapshots.push(tick);
        Ok(SnapshotTaken { snapshot_id: snapshots.len() as u64, tick })
    }
}

#[derive(Clone, Default)]
struct MemorySink(Arc<Mutex<Vec<TickRecord>>>);

impl TickSink for MemorySink {
    async fn completed(&mut self, record: TickRecord) -> Result<(), TickSinkError> {
        self.0.lock().unwrap().push(record);
        Ok(())
    }
}

impl MemorySink {
    fn ticks(&self) -> Vec<u64> {
        self.0.lock().unwrap().iter().map(|record| record.tick).collect()
    }
}

fn settings(tick_rate_hz: f64) -> TickSettings {
    TickSettings { tick_rate_hz, ..TickSettings::default() }
}

fn assert_contiguous(ticks: &[u64]) {
    for (index, tick) in ticks.iter().enumerate() {
        assert_eq!(*tick, index as u64 + 1, "tick numbers {ticks:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn ticks_come_at_the_rate_with_contiguous_numbers() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(10.0), 0, 0.0, false).unwrap();
    let run = tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_millis(1050))));
    run.await.unwrap();
    assert_eq!(sink.ticks(), (1..=10).collect::<Vec<_>>());
    for &(_, game_seconds, substeps) in physics.calls.lock().unwrap().iter() {
        assert!((game_seconds - 0.1).abs() < 1e-12);
        assert_eq!(substeps, 1);
    }
    let status = control.status();
    assert_eq!(status.tick, 10);
    assert!((status.game_time - 1.0).abs() < 1e-9);
    assert!((status.actual_tick_rate_hz - 10.0).abs() < 0.01, "{}", status.actual_tick_rate_hz);
    assert_eq!((status.catch_up_ticks, status.slipped_game_seconds), (0, 0.0));
}

#[tokio::test(start_paused = true)]
async fn overruns_catch_up_within_the_bound_and_the_rest_slips_and_is_counted() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    let bounded = TickSettings { max_catch_up_ticks: 2, ..settings(10.0) };
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), bounded, 0, 0.0, false).unwrap();
    // Physics stalls for 1 s on one tick: 10 periods pass, 2 may be caught up, the rest slip.
    let stall = physics.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(350)).await;
        *stall.stall_once.lock().unwrap() = Some(Duration::from_millis(1000));
    });
    tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_millis(3000)))).await.unwrap();
    let ticks = sink.ticks();
    assert_contiguous(&ticks);
    let status = control.status();
    assert!(status.catch_up_ticks >= 2, "{status:?}");
    assert!(status.slipped_game_seconds > 0.5 && status.slipped_game_seconds < 1.0, "{status:?}");
    // Game time kept is the ticks produced; slipped time is exactly what is missing.
    let produced = ticks.len() as f64 * 0.1;
    assert!((status.game_time - produced).abs() < 1e-9);
    assert!(
        (produced + status.slipped_game_seconds - 3.0).abs() <= 0.1 + 1e-9,
        "{produced} + {}",
        status.slipped_game_seconds
    );
}

#[tokio::test(start_paused = true)]
async fn pause_stops_at_once_even_during_catch_up_and_resume_continues_the_numbering() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    *physics.delay.lock().unwrap() = Duration::from_millis(250);
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(10.0), 0, 0.0, false).unwrap();
    let run = tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_secs(10))));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    control.pause();
    // The tick in flight may finish; nothing after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_pause = sink.ticks().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.ticks().len(), at_pause, "ticked while paused");
    assert!(control.status().paused);
    *physics.delay.lock().unwrap() = Duration::ZERO;
    control.resume();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let ticks = sink.ticks();
    assert_contiguous(&ticks);
    // A 10 Hz second after resuming: ten more, and the pause itself was not "caught up".
    assert_eq!(ticks.len() - at_pause, 10, "{ticks:?}");
    run.abort();
}

#[tokio::test(start_paused = true)]
async fn rate_and_time_scale_changes_take_effect_and_bad_values_are_refused() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(1.0), 0, 0.0, false).unwrap();
    let run = tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_secs(60))));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(sink.ticks().len(), 2);
    control.set_tick_rate(10.0).unwrap();
    control.set_time_scale(50.0).unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(sink.ticks().len(), 12);
    let last = *physics.calls.lock().unwrap().last().unwrap();
    assert!((last.1 - 5.0).abs() < 1e-12, "50x at 10 Hz is 5 game seconds per tick");
    assert_eq!(last.2, 50, "5 s in substeps of at most 0.1 s");
    assert!(control.set_tick_rate(0.0).is_err());
    assert!(control.set_tick_rate(f64::NAN).is_err());
    assert!(control.set_time_scale(1000.0).is_err());
    assert_eq!(control.status().tick_rate_hz, 10.0);
    run.abort();
}

#[tokio::test(start_paused = true)]
async fn a_refused_tick_is_retried_under_the_same_number() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    *physics.fail_once_at.lock().unwrap() = Some(3);
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(10.0), 0, 0.0, false).unwrap();
    tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_millis(1050)))).await.unwrap();
    let ticks = sink.ticks();
    assert_contiguous(&ticks);
    assert_eq!(control.status().failed_ticks, 1);
    let asked: Vec<u64> = physics.calls.lock().unwrap().iter().map(|call| call.0).collect();
    assert_eq!(&asked[..4], &[1, 2, 3, 3]);
}

#[tokio::test(start_paused = true)]
async fn a_tick_physics_has_done_already_is_not_asked_for_again() {
    // Physics does tick 3 but its answer is lost: asked again, it refuses the number as done.
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    *physics.answer_lost_at.lock().unwrap() = Some(3);
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(10.0), 0, 0.0, false).unwrap();
    tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_millis(1050)))).await.unwrap();
    let asked: Vec<u64> = physics.calls.lock().unwrap().iter().map(|call| call.0).collect();
    assert_eq!(&asked[..5], &[1, 2, 3, 3, 4], "resumed after physics' tick instead of asking for 3 forever");
    // Tick 3 happened once (in physics) and is not recorded: a gap, never a duplicate.
    let ticks = sink.ticks();
    assert_eq!(&ticks[..3], &[1, 2, 4]);
    assert!(ticks.windows(2).all(|pair| pair[1] == pair[0] + 1 || pair == [2, 4]), "{ticks:?}");
    let status = control.status();
    assert_eq!(status.failed_ticks, 2);
    assert!((status.game_time - 0.1 * *physics.last_tick.lock().unwrap() as f64).abs() < 1e-9, "{status:?}");
}

#[tokio::test]
async fn the_loop_drives_the_real_physics_service_over_grpc() {
    use galaxy_engine::SimParams;
    use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
    let world = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(PhysicsServer::new(PhysicsService::new(world)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    let client = galaxy_proto::v1::physics_client::PhysicsClient::connect(format!("http://{address}")).await.unwrap();
    let sink = MemorySink::default();
    let fast = TickSettings { tick_rate_hz: 20.0, time_scale: 20.0, ..TickSettings::default() };
    let (tick_loop, control) =
        TickLoop::new(galaxy_tick_engine::GrpcPhysics::new(client), sink.clone(), fast, 0, 0.0, false).unwrap();
    // Run until five ticks are through (however busy the machine), then stop between ticks.
    let mut watch = control.watch_status();
    let five_ticks = async move {
        while watch.borrow_and_update().tick < 5 {
            if watch.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), tick_loop.run(five_ticks)).await.unwrap();
    let ticks = sink.ticks();
    assert!(ticks.len() >= 5, "{ticks:?}");
    assert_contiguous(&ticks);
    // 20x at 20 Hz: one game second per tick.
    let status = control.status();
    assert!((status.game_time - ticks.len() as f64).abs() < 1e-6, "{status:?}");
    let records = sink.0.lock().unwrap();
    assert!(records.iter().all(|record| record.state_hash.len() == 8));
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_is_taken_after_every_kth_tick() {
    let (physics, sink) = (FakePhysics::default(), MemorySink::default());
    let (tick_loop, control) = TickLoop::new(physics.clone(), sink.clone(), settings(10.0), 0, 0.0, false).unwrap();
    let tick_loop = tick_loop.with_snapshots_every(Some(4));
    tokio::spawn(tick_loop.run(tokio::time::sleep(Duration::from_millis(1050)))).await.unwrap();
    assert_eq!(sink.ticks().len(), 10);
    assert_eq!(*physics.snapshots.lock().unwrap(), [4, 8]);
    assert_eq!(control.status().last_snapshot_tick, Some(8));
}
