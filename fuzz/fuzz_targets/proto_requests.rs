//! Every gRPC request that carries outside input, decoded with prost from arbitrary bytes and
//! converted (`galaxy_proto::convert`), then — for the physics service — handed to the real
//! handler (`PhysicsService`, in-process, over a solar-system world with two ships), so the
//! checks the skin and the world add are covered too.
//!
//! Never panics; a conversion that succeeds yields finite values in their documented ranges; a
//! request the physics service accepts leaves every ship and body finite, fuel within the tank
//! and attitudes of unit length; a request it refuses answers `INVALID_ARGUMENT`, `NOT_FOUND` or
//! `FAILED_PRECONDITION` (and a spawn with a ship id already taken, `ALREADY_EXISTS`), never
//! `INTERNAL`.
//!
//! Input: frames (see `galaxy_fuzz::frames`) run in order against one world, so sequences
//! (spawn, steer, tick, predict, snapshot, restore) are reachable. The kind byte, modulo 12:
//! 0 ProcessTick, 1 SpawnShip, 2 RemoveShip, 3 ApplyControl, 4 GetShipState, 5 PredictTrajectory,
//! 6 Snapshot, 7 Restore (physics); 8 UpdateConfig (galaxy); 9 SetTickRate, 10 SetTimeScale
//! (tick-engine); 11 ValidateCommand (players: the part of it that needs no database).
//!
//! NOTE: the players service validates usernames, passwords and command targets in private
//! functions behind its PostgreSQL-backed handlers, so only `convert` is reachable here.
#![no_main]

use std::sync::OnceLock;

use galaxy_engine::SimParams;
use galaxy_fuzz::{frames, runtime};
use galaxy_physics::{PhysicsService, SpawnOrbit, World};
use galaxy_proto::convert;
use galaxy_proto::v1;
use galaxy_proto::v1::physics_server::Physics;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::{Code, Request, Status};

/// Ticks with more substeps than this, and predictions with more steps, are converted but not
/// run: valid, but too slow for a fuzzer (the conversion's bounds are what is under test).
const MAX_RUN_SUBSTEPS: u32 = 32;
const MAX_RUN_PREDICTION_STEPS: f64 = 512.0;
const MAX_SHIPS: usize = 12;

fn world() -> World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let mut world = World::solar_system(SimParams::default(), SpawnOrbit::default()).expect("the game's world");
            world.spawn_ship("alice", "Kestrel", "fast_frigate").expect("ship-1");
            world.spawn_ship("bob", "Mule", "cargo_hauler").expect("ship-2");
            world
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let service = PhysicsService::new(world());
    for (kind, message) in frames(data) {
        request(&service, kind % 12, message);
        check_world(&service);
    }
});

/// The codes any refused request may answer.
const REFUSED: [Code; 3] = [Code::InvalidArgument, Code::NotFound, Code::FailedPrecondition];

fn call<T>(future: impl Future<Output = Result<tonic::Response<T>, Status>>) -> Result<T, Status> {
    call_refusing_with(future, &REFUSED)
}

fn call_refusing_with<T>(
    future: impl Future<Output = Result<tonic::Response<T>, Status>>,
    expected: &[Code],
) -> Result<T, Status> {
    let result = runtime().block_on(future).map(tonic::Response::into_inner);
    if let Err(status) = &result {
        assert!(expected.contains(&status.code()), "unexpected status {status:?}");
    }
    result
}

fn request(service: &PhysicsService, kind: u8, message: &[u8]) {
    match kind {
        0 => {
            let Ok(request) = v1::ProcessTickRequest::decode(message) else { return };
            match convert::tick_request(&request) {
                Ok(tick) => {
                    assert!(tick.game_seconds.is_finite() && tick.game_seconds > 0.0 && tick.game_seconds <= 1e6);
                    assert!((1..=convert::MAX_SUBSTEPS_PER_TICK).contains(&tick.substeps));
                    if tick.substeps > MAX_RUN_SUBSTEPS {
                        return;
                    }
                    if let Ok(response) = call(service.process_tick(Request::new(request))) {
                        assert!(response.game_time.is_finite(), "{response:?}");
                    }
                }
                Err(_) => {
                    let status = call(service.process_tick(Request::new(request))).expect_err("refused");
                    assert_eq!(status.code(), Code::InvalidArgument);
                }
            }
        }
        1 => {
            let Ok(request) = v1::SpawnShipRequest::decode(message) else { return };
            let ships = call(service.get_all_ships(Request::new(v1::GetAllShipsRequest {}))).expect("listing").ships;
            if ships.len() >= MAX_SHIPS {
                return;
            }
            let taken = !request.ship_id.is_empty() && ships.iter().any(|ship| ship.ship_id == request.ship_id);
            // A taken id may also be refused for another reason found first (an unknown class).
            let refusals: &[Code] =
                if taken { &[REFUSED[0], REFUSED[1], REFUSED[2], Code::AlreadyExists] } else { &REFUSED };
            if let Ok(ship) = call_refusing_with(service.spawn_ship(Request::new(request)), refusals) {
                assert!(!taken, "spawned a second ship with a taken id");
                check_ship(&ship);
            }
        }
        2 => {
            let Ok(request) = v1::RemoveShipRequest::decode(message) else { return };
            let _ = call(service.remove_ship(Request::new(request)));
        }
        3 => {
            let Ok(request) = v1::ApplyControlRequest::decode(message) else { return };
            let control = request.control.as_ref().map(|control| convert::ship_control(Some(control)));
            let mode = convert::attitude_mode(request.attitude_mode);
            if let Some(Ok(control)) = &control {
                assert!(control.validate().is_ok(), "{control:?}");
            }
            if let Ok(ship) = call(service.apply_control(Request::new(request))) {
                assert!(control.is_none_or(|control| control.is_ok()) && mode.is_ok(), "accepted a bad control");
                check_ship(&ship);
            }
        }
        4 => {
            let Ok(request) = v1::GetShipStateRequest::decode(message) else { return };
            if let Ok(ship) = call(service.get_ship_state(Request::new(request))) {
                check_ship(&ship);
            }
        }
        5 => {
            let Ok(request) = v1::PredictTrajectoryRequest::decode(message) else { return };
            let Ok(params) = convert::prediction_params(&request) else { return };
            assert!(params.horizon.is_finite() && params.horizon > 0.0 && params.step.is_finite() && params.step > 0.0);
            let steps = (params.horizon / params.step).ceil();
            assert!((1.0..=galaxy_engine::MAX_PREDICTION_STEPS).contains(&steps), "{params:?}");
            assert!((2..=10_000).contains(&params.samples), "{params:?}");
            if steps > MAX_RUN_PREDICTION_STEPS || params.samples > 64 {
                return;
            }
            if let Ok(response) = call(service.predict_trajectory(Request::new(request))) {
                for point in &response.points {
                    let numbers = [point.time]
                        .into_iter()
                        .chain(vector(point.position.as_ref()))
                        .chain(vector(point.relative_position.as_ref()));
                    for value in numbers {
                        assert!(value.is_finite(), "prediction {params:?} answered {point:?}");
                    }
                }
            }
        }
        6 => {
            let _ = call(service.snapshot(Request::new(v1::SnapshotRequest {}))).expect("a snapshot of a live world");
        }
        7 => {
            let Ok(request) = v1::RestoreRequest::decode(message) else { return };
            let _ = call(service.restore(Request::new(request)));
        }
        8 => {
            let Ok(request) = v1::UpdateConfigRequest::decode(message) else { return };
            if let Some(Ok(rate)) = request.tick_rate_hz.map(convert::tick_rate) {
                assert!((convert::TICK_RATE_RANGE.0..=convert::TICK_RATE_RANGE.1).contains(&rate));
            }
            if let Some(Ok(scale)) = request.time_scale.map(convert::time_scale) {
                assert!((convert::TIME_SCALE_RANGE.0..=convert::TIME_SCALE_RANGE.1).contains(&scale));
            }
        }
        9 => {
            let Ok(request) = v1::SetTickRateRequest::decode(message) else { return };
            if let Ok(rate) = convert::tick_rate(request.tick_rate_hz) {
                assert!((convert::TICK_RATE_RANGE.0..=convert::TICK_RATE_RANGE.1).contains(&rate));
            }
        }
        10 => {
            let Ok(request) = v1::SetTimeScaleRequest::decode(message) else { return };
            if let Ok(scale) = convert::time_scale(request.time_scale) {
                assert!((convert::TIME_SCALE_RANGE.0..=convert::TIME_SCALE_RANGE.1).contains(&scale));
            }
        }
        _ => {
            let Ok(request) = v1::ValidateCommandRequest::decode(message) else { return };
            if let Ok(control) = convert::ship_control(request.control.as_ref()) {
                assert!(control.validate().is_ok(), "{control:?}");
                assert!((0.0..=1.0).contains(&control.throttle));
                for rate in [control.pitch, control.yaw, control.roll] {
                    assert!((-1.0..=1.0).contains(&rate));
                }
            }
            let _ = convert::attitude_mode(request.attitude_mode);
        }
    }
}

fn vector(vector: Option<&v1::Vector3>) -> [f64; 3] {
    vector.map_or([0.0; 3], |vector| [vector.x, vector.y, vector.z])
}

fn check_ship(ship: &v1::ShipState) {
    let attitude = ship.attitude.as_ref().expect("attitude is always sent");
    let quaternion = [attitude.w, attitude.x, attitude.y, attitude.z];
    let control = ship.control.as_ref().expect("control is always sent");
    let numbers = vector(ship.position.as_ref())
        .into_iter()
        .chain(vector(ship.velocity.as_ref()))
        .chain(vector(ship.angular_velocity.as_ref()))
        .chain(quaternion)
        .chain([ship.dry_mass, ship.fuel_mass, ship.fuel_capacity]);
    for value in numbers {
        assert!(value.is_finite(), "ship {} has a non-finite value: {ship:?}", ship.ship_id);
    }
    assert!((0.0..=ship.fuel_capacity).contains(&ship.fuel_mass), "{ship:?}");
    let length = quaternion.iter().map(|component| component * component).sum::<f64>().sqrt();
    assert!((length - 1.0).abs() <= 1e-6, "attitude of length {length}: {ship:?}");
    assert!((0.0..=1.0).contains(&control.throttle), "{ship:?}");
    for rate in [control.pitch, control.yaw, control.roll] {
        assert!((-1.0..=1.0).contains(&rate), "{ship:?}");
    }
}

fn check_world(service: &PhysicsService) {
    for ship in call(service.get_all_ships(Request::new(v1::GetAllShipsRequest {}))).expect("listing").ships {
        check_ship(&ship);
    }
    for body in call(service.get_all_bodies(Request::new(v1::GetAllBodiesRequest {}))).expect("listing").bodies {
        for value in vector(body.position.as_ref()).into_iter().chain(vector(body.velocity.as_ref())) {
            assert!(value.is_finite(), "body {} has a non-finite value: {body:?}", body.name);
        }
    }
}
