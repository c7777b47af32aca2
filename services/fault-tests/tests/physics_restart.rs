//! The physics process killed (SIGKILL) mid-run and started again: it resumes from the world
//! the bus holds with the very state hash the `tick.completed` stream recorded for that tick,
//! the tick-engine's retried tick numbers continue without a duplicate or a gap, and no
//! player's account or ship is lost.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use galaxy_fault_tests::{
    Service, Settings, binaries, duplicates_and_gaps, eventually, fault_test, logged_ticks, streamed_ticks,
};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;

const PASSWORD: &str = "correct horse battery";

async fn status(engine: &Service) -> v1::TickStatus {
    TickEngineClient::new(engine.channel()).get_status(v1::GetStatusRequest {}).await.unwrap().into_inner()
}

async fn world(physics: &Service) -> v1::WorldStatus {
    PhysicsClient::new(physics.channel()).get_world_status(v1::GetWorldStatusRequest {}).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_physics_resumes_the_same_world_and_loses_no_tick_ship_or_account() {
    fault_test(binaries!(), Settings::default(), |deployment| async move {
        let mut physics = deployment.start_physics("physics", 0).await;
        let engine = deployment.start_tick_engine("tick-engine", &physics).await;
        let players = deployment.start_players("players", &physics).await;
        let mut players_client = PlayersClient::new(players.channel());
        let session = players_client
            .register(v1::RegisterRequest { username: "keeper".into(), password: PASSWORD.into() })
            .await
            .unwrap()
            .into_inner();
        let ship_id = session.player.as_ref().unwrap().ship_id.clone();
        let mut physics_client = PhysicsClient::new(physics.channel());
        let ship_before = physics_client
            .get_ship_state(v1::GetShipStateRequest { ship_id: ship_id.clone() })
            .await
            .unwrap()
            .into_inner();
        // The ship is in the world the bus holds once a tick has passed since it was spawned.
        let registered_at = status(&engine).await.tick;
        eventually("ticks after the registration", Duration::from_secs(10), || async {
            (status(&engine).await.tick >= registered_at.max(10) + 2).then_some(())
        })
        .await;

        physics.kill().await;
        let killed = Instant::now();
        // The tick-engine keeps asking for the next tick; physics is gone, so each is refused and
        // retried under the same number.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let while_down = status(&engine).await;
        // Pause, so the world physics comes back with can be compared before anything ticks on.
        TickEngineClient::new(engine.channel()).pause(v1::PauseRequest {}).await.unwrap();
        let stopped_at = status(&engine).await;
        assert!(while_down.failed_ticks > 0, "ticks are refused while physics is down: {while_down:?}");

        let physics = deployment.start_physics("physics-restarted", physics.port).await;
        let restarted = killed.elapsed();
        let recovered = world(&physics).await;
        let streamed = streamed_ticks(&deployment.redis_url, &deployment.key_prefix).await;
        let last_streamed = streamed.last().unwrap();
        println!(
            "FIGURE physics_restart: physics back {:.2} s after SIGKILL (1 s of it waiting on purpose), at tick {} (last streamed {}, tick-engine at {}, {} ticks refused meanwhile)",
            restarted.as_secs_f64(),
            recovered.tick,
            last_streamed.tick,
            stopped_at.tick,
            stopped_at.failed_ticks
        );
        assert!(
            physics.log_text().contains("resumed the world saved after the last tick"),
            "physics resumed from the bus"
        );
        let recorded = streamed.iter().find(|tick| tick.tick == recovered.tick).unwrap_or_else(|| {
            panic!("physics resumed at tick {} which the stream never recorded ({last_streamed:?})", recovered.tick)
        });
        assert_eq!(recovered.state_hash, recorded.state_hash, "the same state as before the kill at that tick");
        assert_eq!(recovered.game_time, recorded.game_time);
        assert_eq!(recovered.tick, stopped_at.tick, "physics resumed where the tick-engine stopped");

        // The player's account and ship survived.
        let ship_after = PhysicsClient::new(physics.channel())
            .get_ship_state(v1::GetShipStateRequest { ship_id: ship_id.clone() })
            .await
            .expect("the ship is still in the world")
            .into_inner();
        assert_eq!(
            (&ship_after.owner_id, &ship_after.name, &ship_after.class_name),
            (&ship_before.owner_id, &ship_before.name, &ship_before.class_name)
        );
        let login = players_client
            .login(v1::LoginRequest { username: "keeper".into(), password: PASSWORD.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(login.player.unwrap().ship_id, ship_id);

        // Ticking continues from the next number.
        TickEngineClient::new(engine.channel()).resume(v1::ResumeRequest {}).await.unwrap();
        let target = stopped_at.tick + 20;
        eventually("ticking resumes", Duration::from_secs(10), || async {
            (status(&engine).await.tick > target).then_some(())
        })
        .await;
        let mut engine = engine;
        engine.terminate(Duration::from_secs(10)).await;
        let logged = logged_ticks(&deployment).await;
        let (duplicates, gaps) = duplicates_and_gaps(&logged);
        assert!(duplicates.is_empty(), "duplicate tick numbers in the tick log: {duplicates:?}");
        assert!(gaps.is_empty(), "tick numbers missing from the tick log: {gaps:?}");
        let streamed: Vec<u64> =
            streamed_ticks(&deployment.redis_url, &deployment.key_prefix).await.iter().map(|tick| tick.tick).collect();
        assert_eq!(streamed, logged, "the stream and the tick log hold the same ticks");
        drop(players);
    })
    .await;
}
