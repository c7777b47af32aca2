//! Snapshot → stop physics → start physics → restore, over the real binaries: the state hash is
//! identical at every step, whether physics comes back from the world the bus holds or (with
//! Redis emptied) from the snapshot in PostgreSQL, and the tick numbers go on without a gap.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use galaxy_fault_tests::{Service, Settings, binaries, duplicates_and_gaps, eventually, fault_test, logged_ticks};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use galaxy_storage::{RedisConfig, RedisStore};

async fn status(engine: &Service) -> v1::TickStatus {
    TickEngineClient::new(engine.channel()).get_status(v1::GetStatusRequest {}).await.unwrap().into_inner()
}

async fn world(physics: &Service) -> v1::WorldStatus {
    PhysicsClient::new(physics.channel()).get_world_status(v1::GetWorldStatusRequest {}).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_stop_start_restore_keeps_the_state_hash_and_every_tick() {
    fault_test(binaries!(), Settings::default(), |deployment| async move {
        let mut physics = deployment.start_physics("physics", 0).await;
        let port = physics.port;
        let engine = deployment.start_tick_engine("tick-engine", &physics).await;
        PhysicsClient::new(physics.channel())
            .spawn_ship(v1::SpawnShipRequest {
                owner_id: "1".into(),
                name: "Ark".into(),
                class_name: String::new(),
                ship_id: String::new(),
            })
            .await
            .unwrap();
        eventually("ticks", Duration::from_secs(10), || async { (status(&engine).await.tick >= 10).then_some(()) })
            .await;
        let mut control = TickEngineClient::new(engine.channel());
        control.pause(v1::PauseRequest {}).await.unwrap();
        // The tick in flight at the pause still finishes: wait until the loop and physics agree.
        let before = eventually("the pause settles", Duration::from_secs(5), || async {
            let paused = status(&engine).await;
            let world = world(&physics).await;
            (world.tick == paused.tick).then_some(world)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(world(&physics).await.tick, before.tick, "no tick after the pause settled");
        let snapshot =
            PhysicsClient::new(physics.channel()).snapshot(v1::SnapshotRequest {}).await.unwrap().into_inner();
        assert_eq!((snapshot.tick, &snapshot.checksum), (before.tick, &before.state_hash));

        // A graceful stop (SIGTERM: physics saves a final snapshot), then a start: the world
        // comes back from the bus.
        let stopped = physics.terminate(Duration::from_secs(10)).await;
        assert!(stopped.success(), "physics stopped cleanly: {stopped}");
        let mut physics = deployment.start_physics("physics-2", port).await;
        assert!(physics.log_text().contains("resumed the world saved after the last tick"));
        let from_bus = world(&physics).await;
        assert_eq!((from_bus.tick, &from_bus.state_hash), (before.tick, &before.state_hash));
        let restored = PhysicsClient::new(physics.channel())
            .restore(v1::RestoreRequest { snapshot_id: snapshot.snapshot_id })
            .await
            .unwrap()
            .into_inner();
        assert_eq!((restored.tick, &restored.state_hash), (before.tick, &before.state_hash));

        // Again, with Redis' keys gone as well: the world comes back from PostgreSQL (the final
        // snapshot written at the stop), then the restore of the first snapshot.
        physics.terminate(Duration::from_secs(10)).await;
        let redis =
            RedisStore::connect(&RedisConfig::new(&deployment.redis_url, &deployment.key_prefix)).await.unwrap();
        redis.delete_all_keys().await.unwrap();
        let physics = deployment.start_physics("physics-3", port).await;
        assert!(physics.log_text().contains("resumed from the latest snapshot"), "{}", physics.log_tail(20));
        let from_database = world(&physics).await;
        assert_eq!((from_database.tick, &from_database.state_hash), (before.tick, &before.state_hash));
        let restored = PhysicsClient::new(physics.channel())
            .restore(v1::RestoreRequest { snapshot_id: snapshot.snapshot_id })
            .await
            .unwrap()
            .into_inner();
        assert_eq!((restored.tick, &restored.state_hash), (before.tick, &before.state_hash));
        assert_eq!(world(&physics).await.ships, 1, "the ship came back with the world");

        // Resume: the next tick is the one after the snapshot's, and none is missing.
        control.resume(v1::ResumeRequest {}).await.unwrap();
        let target = before.tick + 10;
        eventually("ticking resumes", Duration::from_secs(10), || async {
            (status(&engine).await.tick > target).then_some(())
        })
        .await;
        let mut engine = engine;
        engine.terminate(Duration::from_secs(10)).await;
        let logged = logged_ticks(&deployment).await;
        let (duplicates, gaps) = duplicates_and_gaps(&logged);
        assert_eq!(logged.first(), Some(&1));
        assert!(duplicates.is_empty() && gaps.is_empty(), "duplicates {duplicates:?}, gaps {gaps:?}");
        assert!(*logged.last().unwrap() > target);
        let _ = redis.quit().await;
    })
    .await;
}
