//! Two tick-engines at once over the same physics, database and Redis: one ticks, the other
//! waits in standby on the PostgreSQL advisory lock; SIGKILL the first and the second takes over
//! within seconds. The tick log and the `tick.completed` stream hold every tick number once.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use galaxy_fault_tests::{
    Service, Settings, binaries, duplicates_and_gaps, eventually, fault_test, logged_ticks, streamed_ticks,
};
use galaxy_proto::v1;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;

async fn status(engine: &Service) -> v1::TickStatus {
    TickEngineClient::new(engine.channel()).get_status(v1::GetStatusRequest {}).await.unwrap().into_inner()
}

async fn ticked_past(engine: &Service, tick: u64) -> Option<v1::TickStatus> {
    let status = status(engine).await;
    (!status.standby && status.tick > tick).then_some(status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_tick_engine_takes_over_when_the_active_one_is_killed() {
    fault_test(binaries!(), Settings::default(), |deployment| async move {
        let physics = deployment.start_physics("physics", 0).await;
        let mut first = deployment.start_tick_engine("tick-engine-1", &physics).await;
        eventually("the first tick-engine ticks", Duration::from_secs(10), || ticked_past(&first, 5)).await;
        let mut second = deployment.start_tick_engine("tick-engine-2", &physics).await;

        // While the first lives, the second only waits: it produces nothing.
        for _ in 0..10 {
            let waiting = status(&second).await;
            assert!(waiting.standby, "the second tick-engine must be in standby: {waiting:?}");
            assert_eq!(waiting.tick, 0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ticking = status(&first).await;
        assert!(!ticking.standby && ticking.tick > 10, "{ticking:?}");
        let second_control = TickEngineClient::new(second.channel()).pause(v1::PauseRequest {}).await;
        assert_eq!(second_control.unwrap_err().code(), tonic::Code::FailedPrecondition, "standby refuses control");

        let killed = Instant::now();
        first.kill().await;
        let last_logged = *logged_ticks(&deployment).await.last().unwrap();
        let taken_over = eventually("the second tick-engine ticks", Duration::from_secs(10), || {
            ticked_past(&second, last_logged)
        })
        .await;
        let takeover = killed.elapsed();
        println!(
            "FIGURE two_tick_engines: first new tick {:.2} s after the SIGKILL (the killed engine's last logged tick {last_logged}, the second at {})",
            takeover.as_secs_f64(),
            taken_over.tick
        );
        assert!(takeover < Duration::from_secs(5), "takeover took {takeover:?}");
        // Let the second produce a good run of ticks, then stop it between ticks.
        let target = taken_over.tick + 20;
        eventually("the second tick-engine keeps ticking", Duration::from_secs(10), || ticked_past(&second, target))
            .await;
        second.terminate(Duration::from_secs(10)).await;

        let logged = logged_ticks(&deployment).await;
        let (duplicates, gaps) = duplicates_and_gaps(&logged);
        println!(
            "FIGURE two_tick_engines: tick log 1..={} with {} duplicates and gaps at {gaps:?}",
            logged.last().unwrap(),
            duplicates.len()
        );
        assert_eq!(logged.first(), Some(&1));
        assert!(duplicates.is_empty(), "duplicate tick numbers in the tick log: {duplicates:?}");
        assert!(gaps.is_empty(), "tick numbers missing from the tick log: {gaps:?}");
        let streamed: Vec<u64> = streamed_ticks(&deployment.redis_url, &deployment.key_prefix)
            .await
            .iter()
            .map(|tick| tick.tick)
            .collect();
        let (duplicates, gaps) = duplicates_and_gaps(&streamed);
        assert!(duplicates.is_empty(), "duplicate tick numbers in tick.completed: {duplicates:?}");
        assert!(gaps.is_empty(), "tick numbers missing from tick.completed: {gaps:?}");
        assert_eq!(streamed, logged, "the stream and the tick log hold the same ticks");
        drop(physics);
    })
    .await;
}
