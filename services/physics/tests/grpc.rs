//! The physics service over real gRPC (a server on a loopback port): ships spawn in low Earth
//! orbit, controls and ticks move them exactly as the engine does locally, bad requests get a
//! clear status and change nothing, and snapshot/restore brings back the identical state.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{AttitudeMode, ShipControl, SimParams};
use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use tonic::Code;
use tonic::transport::Channel;

async fn start() -> PhysicsClient<Channel> {
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
    PhysicsClient::connect(format!("http://{address}")).await.unwrap()
}

fn tick(number: u64) -> v1::ProcessTickRequest {
    v1::ProcessTickRequest { tick: number, game_seconds: 1.0, substeps: 10 }
}

#[tokio::test]
async fn a_spawned_ship_circles_the_earth_400_km_up() {
    let mut client = start().await;
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
    assert_eq!(ship.class_name, "fast_frigate");
    assert_eq!(ship.status, v1::ShipStatus::Flying as i32);
    let prediction = client
        .predict_trajectory(v1::PredictTrajectoryRequest {
            ship_id: ship.ship_id.clone(),
            horizon: 5600.0,
            step: 5.0,
            samples: 50,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(prediction.reference_body, "Earth");
    let elements = prediction.elements.unwrap();
    let altitude = elements.periapsis - 6.371e6;
    assert!((altitude - 400e3).abs() < 10e3, "periapsis altitude {altitude}");
    assert!(elements.eccentricity < 1e-3);
    let bodies = client.get_all_bodies(v1::GetAllBodiesRequest {}).await.unwrap().into_inner().bodies;
    assert_eq!(bodies.len(), 29);
}

#[tokio::test]
async fn ticks_over_grpc_match_the_engine_run_locally() {
    let mut client = start().await;
    let mut local = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
    let ship = client
        .spawn_ship(v1::SpawnShipRequest {
            owner_id: "p1".into(),
            name: "A".into(),
            class_name: "cargo_hauler".into(),
            ship_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let local_id = local.spawn_ship("p1", "A", "cargo_hauler").unwrap();
    assert_eq!(ship.ship_id, local_id);

    let control = v1::ShipControl { throttle: 1.0, pitch: 0.0, yaw: 0.0, roll: 0.0 };
    client
        .apply_control(v1::ApplyControlRequest {
            ship_id: ship.ship_id.clone(),
            control: Some(control),
            attitude_mode: v1::AttitudeMode::Prograde as i32,
            target: None,
        })
        .await
        .unwrap();
    local
        .apply_control(
            &local_id,
            Some(ShipControl { throttle: 1.0, ..ShipControl::default() }),
            Some(AttitudeMode::Prograde),
            None,
        )
        .unwrap();

    let mut hash = String::new();
    for number in 1..=5 {
        let response = client.process_tick(tick(number)).await.unwrap().into_inner();
        local.process_tick(number, 1.0, 10).unwrap();
        assert_eq!(response.tick, number);
        assert!((response.game_time - number as f64).abs() < 1e-9);
        assert_eq!(response.state_hash, local.state_hash(), "tick {number}");
        hash = response.state_hash;
    }
    let state =
        client.get_ship_state(v1::GetShipStateRequest { ship_id: ship.ship_id.clone() }).await.unwrap().into_inner();
    assert!(state.fuel_mass < state.fuel_capacity, "the burn used fuel");
    assert!(!hash.is_empty());
}

#[tokio::test]
async fn bad_requests_get_clear_statuses_and_change_nothing() {
    let mut client = start().await;
    let ship = client
        .spawn_ship(v1::SpawnShipRequest {
            owner_id: "p1".into(),
            name: "A".into(),
            class_name: String::new(),
            ship_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let before = client.process_tick(tick(1)).await.unwrap().into_inner().state_hash;

    let nan = v1::ShipControl { throttle: f64::NAN, pitch: 0.0, yaw: 0.0, roll: 0.0 };
    let too_much = v1::ShipControl { throttle: 1.5, pitch: 0.0, yaw: 0.0, roll: 0.0 };
    for control in [nan, too_much] {
        let status = client
            .apply_control(v1::ApplyControlRequest {
                ship_id: ship.ship_id.clone(),
                control: Some(control),
                attitude_mode: 0,
                target: None,
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
        assert!(status.message().contains("throttle"));
    }
    let unknown = client
        .apply_control(v1::ApplyControlRequest {
            ship_id: "ship-999".into(),
            control: None,
            attitude_mode: 2,
            target: None,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let bad_mode = client
        .apply_control(v1::ApplyControlRequest {
            ship_id: ship.ship_id.clone(),
            control: None,
            attitude_mode: 42,
            target: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_mode.code(), Code::InvalidArgument);
    let no_target = client
        .apply_control(v1::ApplyControlRequest {
            ship_id: ship.ship_id.clone(),
            control: None,
            attitude_mode: v1::AttitudeMode::Target as i32,
            target: None,
        })
        .await
        .unwrap_err();
    assert_eq!(no_target.code(), Code::InvalidArgument);
    let bad_class = client
        .spawn_ship(v1::SpawnShipRequest {
            owner_id: "p1".into(),
            name: "B".into(),
            class_name: "x-wing".into(),
            ship_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_class.code(), Code::InvalidArgument);
    for bad_tick in [
        v1::ProcessTickRequest { game_seconds: f64::NAN, ..tick(2) },
        v1::ProcessTickRequest { substeps: 0, ..tick(2) },
    ] {
        assert_eq!(client.process_tick(bad_tick).await.unwrap_err().code(), Code::InvalidArgument);
    }
    assert_eq!(
        client.process_tick(tick(1)).await.unwrap_err().code(),
        Code::FailedPrecondition,
        "a repeated tick number"
    );

    // Nothing above changed the state: the next tick is the same as an untouched world's.
    let mut reference = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
    reference.spawn_ship("p1", "A", "fast_frigate").unwrap();
    reference.process_tick(1, 1.0, 10).unwrap();
    assert_eq!(before, reference.state_hash());
    reference.process_tick(2, 1.0, 10).unwrap();
    let after = client.process_tick(tick(2)).await.unwrap().into_inner().state_hash;
    assert_eq!(after, reference.state_hash());
}

#[tokio::test]
async fn restoring_a_snapshot_brings_back_the_identical_state() {
    let mut client = start().await;
    client
        .spawn_ship(v1::SpawnShipRequest {
            owner_id: "p1".into(),
            name: "A".into(),
            class_name: String::new(),
            ship_id: String::new(),
        })
        .await
        .unwrap();
    client.process_tick(tick(1)).await.unwrap();
    let snapshot = client.snapshot(v1::SnapshotRequest {}).await.unwrap().into_inner();
    let after_two = client.process_tick(tick(2)).await.unwrap().into_inner().state_hash;
    client.process_tick(tick(3)).await.unwrap();

    let restored = client.restore(v1::RestoreRequest { snapshot_id: snapshot.snapshot_id }).await.unwrap().into_inner();
    assert_eq!(restored.tick, 1);
    assert_eq!(restored.state_hash, snapshot.checksum);
    // The restored world continues exactly as before: tick 2 again gives the same state.
    assert_eq!(client.process_tick(tick(2)).await.unwrap().into_inner().state_hash, after_two);
    assert_eq!(client.restore(v1::RestoreRequest { snapshot_id: 77 }).await.unwrap_err().code(), Code::NotFound);
}
