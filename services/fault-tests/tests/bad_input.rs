//! Bad gRPC input to the real physics and players binaries — NaN and infinite numbers,
//! out-of-range throttle, unknown ships, bodies and snapshots, another player's ship, malformed
//! ids and names, and poisoned entries written straight into the command stream — gets a clear
//! status and changes nothing: the ships read back identical, nothing is queued, and the next
//! tick's state hash is exactly that of an untouched world.
#![allow(clippy::unwrap_used)]

use galaxy_engine::SimParams;
use galaxy_fault_tests::{Settings, binaries, fault_test};
use galaxy_physics::{SpawnOrbit, World};
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_storage::{RedisConfig, RedisStore, StreamName};
use prost::Message;
use tonic::Code;

const PASSWORD: &str = "correct horse battery";

#[track_caller]
fn expect_code<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: Code, mentions: &str) {
    match result {
        Err(status) if status.code() == code => {
            assert!(
                status.message().to_lowercase().contains(mentions),
                "{code:?} should mention {mentions:?}: {}",
                status.message()
            );
        }
        other => panic!("expected {code:?} (mentioning {mentions:?}), got {other:?}"),
    }
}

fn control(throttle: f64, pitch: f64) -> v1::ShipControl {
    v1::ShipControl { throttle, pitch, yaw: 0.0, roll: 0.0 }
}

fn apply(
    ship_id: &str,
    control: Option<v1::ShipControl>,
    mode: i32,
    target: Option<v1::AttitudeTarget>,
) -> v1::ApplyControlRequest {
    v1::ApplyControlRequest { ship_id: ship_id.into(), control, attitude_mode: mode, target }
}

fn body_target(name: &str) -> Option<v1::AttitudeTarget> {
    Some(v1::AttitudeTarget { target: Some(v1::attitude_target::Target::BodyName(name.into())) })
}

fn ship_target(id: &str) -> Option<v1::AttitudeTarget> {
    Some(v1::AttitudeTarget { target: Some(v1::attitude_target::Target::ShipId(id.into())) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_grpc_input_gets_a_clear_status_and_changes_nothing() {
    fault_test(binaries!(), Settings::default(), |deployment| async move {
        // No tick-engine: the test makes the ticks, so "before" and "after" are exact.
        let physics = deployment.start_physics("physics", 0).await;
        let players = deployment.start_players("players", &physics).await;
        let mut accounts = PlayersClient::new(players.channel());
        let mut register = async |username: &str| {
            accounts
                .register(v1::RegisterRequest { username: username.into(), password: PASSWORD.into() })
                .await
                .unwrap()
                .into_inner()
        };
        let alice = register("alice").await;
        let bob = register("bob").await;
        let mut accounts = PlayersClient::new(players.channel());
        let alice_ship = alice.player.as_ref().unwrap().ship_id.clone();
        let bob_ship = bob.player.as_ref().unwrap().ship_id.clone();
        let mut world = PhysicsClient::new(physics.channel());
        let ships_before = world.get_all_ships(v1::GetAllShipsRequest {}).await.unwrap().into_inner();
        let status_before = world.get_world_status(v1::GetWorldStatusRequest {}).await.unwrap().into_inner();
        assert_eq!(ships_before.ships.len(), 2);

        // Physics, called directly (as the players service and the tick-engine do).
        let hold = v1::AttitudeMode::Hold as i32;
        let target_mode = v1::AttitudeMode::Target as i32;
        for (request, code, mentions) in [
            (apply(&alice_ship, Some(control(f64::NAN, 0.0)), hold, None), Code::InvalidArgument, "throttle"),
            (apply(&alice_ship, Some(control(1.5, 0.0)), hold, None), Code::InvalidArgument, "throttle"),
            (apply(&alice_ship, Some(control(-0.1, 0.0)), hold, None), Code::InvalidArgument, "throttle"),
            (apply(&alice_ship, Some(control(0.5, f64::INFINITY)), hold, None), Code::InvalidArgument, "pitch"),
            (apply(&alice_ship, None, 42, None), Code::InvalidArgument, "mode"),
            (apply(&alice_ship, None, target_mode, None), Code::InvalidArgument, "target"),
            (apply(&alice_ship, None, target_mode, body_target("Vulcan")), Code::NotFound, "vulcan"),
            (apply(&alice_ship, None, target_mode, ship_target("ship-999999")), Code::NotFound, "ship-999999"),
            (apply("ship-999999", Some(control(0.5, 0.0)), hold, None), Code::NotFound, "ship-999999"),
            (apply("", Some(control(0.5, 0.0)), hold, None), Code::NotFound, "ship"),
        ] {
            expect_code(world.apply_control(request).await, code, mentions);
        }
        let spawn = |ship_id: &str, class_name: &str| v1::SpawnShipRequest {
            owner_id: "9".into(),
            name: "Intruder".into(),
            class_name: class_name.into(),
            ship_id: ship_id.into(),
        };
        expect_code(world.spawn_ship(spawn("", "x_wing")).await, Code::InvalidArgument, "x_wing");
        expect_code(world.spawn_ship(spawn("../../etc/passwd", "")).await, Code::InvalidArgument, "ship id");
        expect_code(world.spawn_ship(spawn(&"s".repeat(65), "")).await, Code::InvalidArgument, "ship id");
        expect_code(world.spawn_ship(spawn(&bob_ship, "")).await, Code::AlreadyExists, &bob_ship);
        let remove = world.remove_ship(v1::RemoveShipRequest { ship_id: "ship-999999".into() }).await;
        expect_code(remove, Code::NotFound, "ship-999999");
        let unknown = world.get_ship_state(v1::GetShipStateRequest { ship_id: "ship-999999".into() }).await;
        expect_code(unknown, Code::NotFound, "ship-999999");
        let tick =
            |tick: u64, game_seconds: f64, substeps: u32| v1::ProcessTickRequest { tick, game_seconds, substeps };
        for (request, mentions) in [
            (tick(1, f64::NAN, 10), "game_seconds"),
            (tick(1, f64::INFINITY, 10), "game_seconds"),
            (tick(1, -1.0, 10), "game_seconds"),
            (tick(1, 0.0, 10), "game_seconds"),
            (tick(1, 1.0, 0), "substeps"),
            (tick(1, 1.0, u32::MAX), "substeps"),
        ] {
            expect_code(world.process_tick(request).await, Code::InvalidArgument, mentions);
        }
        expect_code(world.process_tick(tick(0, 1.0, 10)).await, Code::FailedPrecondition, "tick");
        let predict = |ship_id: &str, horizon: f64, step: f64| v1::PredictTrajectoryRequest {
            ship_id: ship_id.into(),
            horizon,
            step,
            samples: 10,
        };
        for (request, code, mentions) in [
            (predict(&alice_ship, f64::NAN, 1.0), Code::InvalidArgument, "horizon"),
            (predict(&alice_ship, 1.0, -1.0), Code::InvalidArgument, "step"),
            (predict(&alice_ship, 1e300, 1e-300), Code::InvalidArgument, "horizon / step"),
            (predict("ship-999999", 60.0, 1.0), Code::NotFound, "ship-999999"),
        ] {
            expect_code(world.predict_trajectory(request).await, code, mentions);
        }
        let restore = world.restore(v1::RestoreRequest { snapshot_id: 4242 }).await;
        expect_code(restore, Code::NotFound, "4242");

        // The players service: the path every player command takes into the command stream.
        let submit =
            |token: &str, ship_id: &str, control: Option<v1::ShipControl>, mode: i32| v1::ValidateCommandRequest {
                token: token.into(),
                ship_id: ship_id.into(),
                control,
                attitude_mode: mode,
                target: None,
            };
        let prograde = v1::AttitudeMode::Prograde as i32;
        for (request, code, mentions) in [
            (
                submit(&alice.token, &alice_ship, Some(control(f64::NAN, 0.0)), prograde),
                Code::InvalidArgument,
                "throttle",
            ),
            (submit(&alice.token, &alice_ship, Some(control(2.0, 0.0)), prograde), Code::InvalidArgument, "throttle"),
            (
                submit(&alice.token, &alice_ship, Some(control(0.5, f64::NEG_INFINITY)), prograde),
                Code::InvalidArgument,
                "pitch",
            ),
            (submit(&alice.token, &alice_ship, Some(control(0.5, 0.0)), 99), Code::InvalidArgument, "mode"),
            (submit(&alice.token, &alice_ship, None, prograde), Code::InvalidArgument, "control"),
            (submit(&alice.token, &bob_ship, Some(control(1.0, 0.0)), prograde), Code::PermissionDenied, "not yours"),
            (
                submit(&alice.token, "ship-999999", Some(control(1.0, 0.0)), prograde),
                Code::PermissionDenied,
                "not yours",
            ),
            (
                submit(&alice.token, "'; DROP TABLE ships; --", Some(control(1.0, 0.0)), prograde),
                Code::InvalidArgument,
                "ship",
            ),
            (submit("forged-token", &alice_ship, Some(control(1.0, 0.0)), prograde), Code::Unauthenticated, ""),
        ] {
            expect_code(accounts.submit_command(request).await, code, mentions);
        }
        for (username, password, mentions) in [
            ("x", PASSWORD, "username"),
            ("robert'); DROP TABLE players;--", PASSWORD, "username"),
            ("mallory", "short", "password"),
            ("mallory", &"p".repeat(10_000), "password"),
        ] {
            let request = v1::RegisterRequest { username: username.into(), password: password.into() };
            expect_code(accounts.register(request).await, Code::InvalidArgument, mentions);
        }
        let respawn =
            accounts.respawn(v1::RespawnRequest { token: alice.token.clone(), class_name: "death_star".into() });
        expect_code(respawn.await, Code::InvalidArgument, "death_star");

        // Nothing changed, and nothing was queued.
        let ships_after = world.get_all_ships(v1::GetAllShipsRequest {}).await.unwrap().into_inner();
        assert_eq!(ships_after, ships_before, "bad requests changed a ship");
        let status_after = world.get_world_status(v1::GetWorldStatusRequest {}).await.unwrap().into_inner();
        assert_eq!(status_after, status_before, "bad requests changed the world");
        let bus = RedisStore::connect(&RedisConfig::new(&deployment.redis_url, &deployment.key_prefix)).await.unwrap();
        assert_eq!(bus.stream_len(StreamName::Commands).await.unwrap(), 0, "a refused command was queued");

        // Poison written straight into the command stream, bypassing the players service:
        // undecodable bytes, a NaN throttle, an unknown ship, a missing field. Physics drops each.
        let nan_command = apply(&alice_ship, Some(control(f64::NAN, 0.0)), hold, None).encode_to_vec();
        let too_much = apply(&bob_ship, Some(control(7.0, 0.0)), hold, None).encode_to_vec();
        let unknown_ship = apply("ship-999999", Some(control(1.0, 0.0)), hold, None).encode_to_vec();
        for fields in [
            vec![("command", &b"\xff\xfe not protobuf"[..])],
            vec![("command", &nan_command[..])],
            vec![("command", &too_much[..])],
            vec![("command", &unknown_ship[..])],
            vec![("something_else", &b"1"[..])],
        ] {
            bus.append(StreamName::Commands, &fields).await.unwrap();
        }
        let ticked = world.process_tick(tick(1, 1.0, 10)).await.unwrap().into_inner();

        // The tick is exactly an untouched world's first tick with the same two ships.
        let mut reference = World::solar_system(SimParams::default(), SpawnOrbit::default()).unwrap();
        for ship in &ships_before.ships {
            reference.spawn_ship_as(Some(&ship.ship_id), &ship.owner_id, &ship.name, &ship.class_name).unwrap();
        }
        assert_eq!(reference.state_hash(), status_before.state_hash, "the reference starts where physics started");
        reference.process_tick(1, 1.0, 10).unwrap();
        assert_eq!(ticked.state_hash, reference.state_hash(), "poisoned commands changed the simulation");
        for ship in world.get_all_ships(v1::GetAllShipsRequest {}).await.unwrap().into_inner().ships {
            assert_eq!(ship.control, Some(control(0.0, 0.0)), "{ship:?}");
        }
        let _ = bus.quit().await;
        drop(players);
    })
    .await;
}
