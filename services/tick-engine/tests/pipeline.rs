//! The tick pipeline against the machine's real Redis and PostgreSQL (each run in its own Redis
//! key space and its own database): the tick loop drives physics over gRPC, physics publishes
//! the state to Redis after every tick, and every tick is appended to the `tick.completed`
//! stream and the PostgreSQL tick log — contiguous numbers, none missing, none twice; the
//! published ship is where physics says it is.
#![allow(clippy::unwrap_used)]

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use galaxy_engine::SimParams;
use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
use galaxy_proto::v1;
use galaxy_storage::{
    Database, EventBus, PostgresConfig, PostgresStore, RedisConfig, RedisStore, StreamEntryId, StreamName,
};
use galaxy_tick_engine::{GrpcPhysics, StoreTickSink, TickLoop, TickSettings};

const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn fresh_database(name: &str) -> PostgresStore {
    let (client, connection) = tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    PostgresStore::connect(&PostgresConfig::new(format!("postgres://postgres@127.0.0.1:5432/{name}"))).await.unwrap()
}

async fn drop_database(name: &str) {
    let (client, connection) = tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_flow_from_the_loop_through_physics_into_redis_and_postgres() {
    let suffix = format!("{:016x}", RandomState::new().hash_one(std::process::id()));
    let database = format!("galaxy_pipeline_{suffix}");
    let redis =
        RedisStore::connect(&RedisConfig::new("redis://127.0.0.1:6379", format!("pipeline-{suffix}"))).await.unwrap();
    let postgres = fresh_database(&database).await;

    let world = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service =
        PhysicsService::with_stores(world, EventBus::Redis(redis.clone()), Database::Postgres(postgres.clone()));
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(PhysicsServer::new(service))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    let mut client = v1::physics_client::PhysicsClient::connect(format!("http://{address}")).await.unwrap();
    let ship = client
        .spawn_ship(v1::SpawnShipRequest {
            owner_id: "p1".into(),
            name: "Kestrel".into(),
            class_name: String::new(),
            ship_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();

    let settings = TickSettings { tick_rate_hz: 20.0, time_scale: 20.0, ..TickSettings::default() };
    let sink = StoreTickSink::new(EventBus::Redis(redis.clone()), Database::Postgres(postgres.clone()));
    let (tick_loop, control) = TickLoop::new(GrpcPhysics::new(client.clone()), sink, settings, 0, 0.0, false).unwrap();
    // Run until ten ticks are through (however busy the machine), then stop between ticks.
    let mut watch = control.watch_status();
    let ten_ticks = async move {
        while watch.borrow_and_update().tick < 10 {
            if watch.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), tick_loop.run(ten_ticks)).await.unwrap();
    let status = control.status();
    assert!(status.tick >= 10, "{status:?}");
    assert_eq!((status.failed_ticks, status.unrecorded_ticks), (0, 0), "{status:?}");

    // The stream holds every tick once, in order.
    let entries = redis.read_stream(StreamName::TickCompleted, &StreamEntryId::beginning(), 10_000).await.unwrap();
    let ticks: Vec<u64> = entries
        .iter()
        .map(|entry| {
            let field = entry.fields.iter().find(|(name, _)| name.as_str() == "tick").unwrap();
            std::str::from_utf8(field.1).unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(ticks, (1..=status.tick).collect::<Vec<_>>());
    // So does the tick log.
    assert_eq!(postgres.latest_tick().await.unwrap().unwrap().tick, status.tick);
    assert!(postgres.record_tick(1, 0.0).await.is_err(), "a duplicate tick number must be refused");

    // The published state is physics' state after the last tick.
    let published: serde_json::Value = serde_json::from_slice(&redis.read_state().await.unwrap().unwrap()).unwrap();
    assert_eq!(published["tick"], status.tick);
    assert_eq!(published["bodies"].as_array().unwrap().len(), 29);
    let state =
        client.get_ship_state(v1::GetShipStateRequest { ship_id: ship.ship_id.clone() }).await.unwrap().into_inner();
    let position = state.position.unwrap();
    let published_ship = &published["ships"][0];
    assert_eq!(published_ship["id"], ship.ship_id);
    assert_eq!(published_ship["position"][0].as_f64().unwrap(), position.x);
    assert_eq!(published_ship["position"][2].as_f64().unwrap(), position.z);

    redis.delete_all_keys().await.unwrap();
    postgres.close();
    drop_database(&database).await;
}
