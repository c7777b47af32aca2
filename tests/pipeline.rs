//! The whole game in one process on the machine's real PostgreSQL and Redis (a fresh database
//! and key space): register → ship spawned in physics → a control command queued through the
//! players service → ticks → the ship's state in Redis is exactly what the engine predicts (a
//! replica world stepped the same way gives the same bits and the same state hash), and the
//! `tick.completed` stream holds every tick once, in order.
#![allow(clippy::unwrap_used)]

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use galaxy::{GameAddresses, GameOptions};
use galaxy_engine::{AttitudeMode, ShipControl, SimParams};
use galaxy_physics::{SpawnOrbit, World};
use galaxy_proto::v1;
use galaxy_storage::{GameConfig, PostgresConfig, RedisConfig, StorageConfig, Stores, StreamEntryId, StreamName};
use galaxy_tick_engine::{TickEngineOptions, TickSettings};

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn admin(sql: &str) {
    let (client, connection) = tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
}

async fn wait_for_tick(
    client: &mut v1::tick_engine_client::TickEngineClient<tonic::transport::Channel>,
    at_least: u64,
) -> u64 {
    loop {
        let status = client.get_status(v1::GetStatusRequest {}).await.unwrap().into_inner();
        if status.tick >= at_least {
            return status.tick;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Pauses and returns the tick the loop stopped at (the tick in flight finishes first).
async fn pause(client: &mut v1::tick_engine_client::TickEngineClient<tonic::transport::Channel>) -> u64 {
    client.pause(v1::PauseRequest {}).await.unwrap();
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let tick = client.get_status(v1::GetStatusRequest {}).await.unwrap().into_inner().tick;
        if tick == last {
            return tick;
        }
        last = tick;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_moves_the_ship_exactly_as_the_engine_predicts() {
    let suffix = format!("{:016x}", RandomState::new().hash_one(std::process::id()));
    let database = format!("galaxy_game_{suffix}");
    admin(&format!("CREATE DATABASE {database}")).await;
    let config = StorageConfig {
        postgres: Some(PostgresConfig::new(format!("postgres://postgres@127.0.0.1:5432/{database}"))),
        redis: Some(RedisConfig::new("redis://127.0.0.1:6379", format!("game-{suffix}"))),
    };
    let stores = Stores::connect(&config).await.unwrap();
    let galaxy_storage::EventBus::Redis(redis) = stores.bus.clone() else { panic!("expected Redis") };
    // 10 Hz, 10× real time: one game second per tick, in ten 0.1 s substeps.
    let settings = TickSettings { tick_rate_hz: 10.0, time_scale: 10.0, ..TickSettings::default() };
    stores
        .database
        .save_config(&GameConfig { tick_rate_hz: 10.0, time_scale: 10.0, registrations_open: true })
        .await
        .unwrap();
    let options = GameOptions {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        grpc_host: std::net::Ipv4Addr::LOCALHOST.into(),
        grpc_base_port: 0,
        web_root: None,
        admin_addr: None,
        tick_engine: TickEngineOptions { start_paused: true, snapshot_every: None, ..TickEngineOptions::default() },
    };
    let (ready, addresses) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let game = tokio::spawn(galaxy::run(options, stores, ready, async move {
        let _ = stopped.await;
    }));
    let addresses: GameAddresses = addresses.await.unwrap();

    let test = async {
        let url = |address| format!("http://{address}");
        let mut players = v1::players_client::PlayersClient::connect(url(addresses.players)).await.unwrap();
        let mut physics = v1::physics_client::PhysicsClient::connect(url(addresses.physics)).await.unwrap();
        let mut ticks = loop {
            // The loop starts after physics answers; retry until the control service is up.
            match v1::tick_engine_client::TickEngineClient::connect(url(addresses.tick_engine)).await {
                Ok(client) => break client,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        while ticks.get_status(v1::GetStatusRequest {}).await.unwrap().into_inner().standby {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Registered while paused at tick 0: the ship is spawned before any tick.
        let session = players
            .register(v1::RegisterRequest { username: "pilot_1".into(), password: "correct horse battery".into() })
            .await
            .unwrap()
            .into_inner();
        let identity = session.player.unwrap();
        assert_eq!(identity.ship_id, "ship-1");
        let ship = physics.get_ship_state(v1::GetShipStateRequest { ship_id: "ship-1".into() }).await.unwrap();
        assert_eq!(ship.into_inner().owner_id, identity.player_id);

        ticks.resume(v1::ResumeRequest {}).await.unwrap();
        wait_for_tick(&mut ticks, 3).await;
        let commanded_after = pause(&mut ticks).await;
        let control = ShipControl { throttle: 1.0, pitch: 0.0, yaw: 0.0, roll: 0.0 };
        players
            .submit_command(v1::ValidateCommandRequest {
                token: session.token.clone(),
                ship_id: "ship-1".into(),
                control: Some(control.into()),
                attitude_mode: v1::AttitudeMode::Prograde as i32,
                target: None,
            })
            .await
            .unwrap();
        ticks.resume(v1::ResumeRequest {}).await.unwrap();
        wait_for_tick(&mut ticks, commanded_after + 5).await;
        let last = pause(&mut ticks).await;

        // The replica: the same world, the same spawn, the command at the start of the tick
        // after the pause.
        let mut replica = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
        replica.spawn_ship_as(Some("ship-1"), &identity.player_id, "pilot_1", "fast_frigate").unwrap();
        let (game_seconds, substeps) = (settings.game_seconds_per_tick(), settings.substeps_per_tick());
        for tick in 1..=last {
            if tick == commanded_after + 1 {
                replica.apply_control("ship-1", Some(control), Some(AttitudeMode::Prograde), None).unwrap();
            }
            replica.process_tick(tick, game_seconds, substeps).unwrap();
        }

        // tick.completed: every tick once, in order, the last with the replica's state hash.
        let entries = redis.read_stream(StreamName::TickCompleted, &StreamEntryId::beginning(), 10_000).await.unwrap();
        let field =
            |entry: &galaxy_storage::StreamEntry, name: &str| String::from_utf8(entry.fields[name].to_vec()).unwrap();
        let numbers: Vec<u64> = entries.iter().map(|entry| field(entry, "tick").parse().unwrap()).collect();
        assert_eq!(numbers, (1..=last).collect::<Vec<_>>());
        assert_eq!(field(entries.last().unwrap(), "state_hash"), replica.state_hash());

        // The state in Redis: the ship where the engine puts it, bit for bit, and it burned.
        let state: serde_json::Value = serde_json::from_slice(&redis.read_state().await.unwrap().unwrap()).unwrap();
        assert_eq!(state["tick"], last);
        let published = &state["ships"][0];
        let expected = replica.ship("ship-1").unwrap().state;
        for axis in 0..3 {
            assert_eq!(published["position"][axis].as_f64().unwrap(), expected.position.to_array()[axis]);
            assert_eq!(published["velocity"][axis].as_f64().unwrap(), expected.velocity.to_array()[axis]);
        }
        assert_eq!(published["throttle"], 1.0);
        assert!(published["fuel"].as_f64().unwrap() < expected.fuel_capacity, "the burn used fuel");
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("the game test took over 2 minutes");
    let _ = stop.send(());
    game.await.unwrap().unwrap();
    redis.delete_all_keys().await.unwrap();
    admin(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
}
