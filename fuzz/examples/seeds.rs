//! Writes the committed seed corpora, `fuzz/seeds/<target>/`, from real, valid inputs: snapshots
//! of simulations and worlds that flew, initial-condition files the CSV writer produced, real
//! storage environments, protobuf requests as the services' clients encode them, and the
//! gateway's WebSocket messages and REST bodies as docs/protocol.md writes them.
//!
//! Run from anywhere (it replaces each target's seed folder; the output is deterministic):
//!     cargo +nightly run --manifest-path fuzz/Cargo.toml --example seeds

use std::fs;
use std::path::{Path, PathBuf};

use galaxy_engine::{SimParams, Simulation};
use galaxy_fuzz::commands::{ALTITUDES, HORIZONS, Op, PREDICTION_STEPS, SUBSTEPS, encode_program, run};
use galaxy_fuzz::{control_byte, encode_frame};
use galaxy_gateway::fuzzing;
use galaxy_physics::{SpawnOrbit, World};
use galaxy_proto::v1;
use prost::Message;
use serde_json::json;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let programs = engine_programs();
    check_flights(&programs);
    write_target(&root, "engine_commands", programs.iter().map(|(name, program)| (*name, program.clone())));
    let mut snapshots: Vec<(&str, Vec<u8>)> =
        programs.iter().map(|(name, program)| (*name, run(program).to_snapshot())).collect();
    snapshots.push(("empty", Simulation::new(SimParams::default()).expect("defaults").to_snapshot()));
    write_target(&root, "engine_snapshot", snapshots);
    write_target(&root, "world_snapshot", world_snapshots());
    write_target(&root, "initial_conditions_csv", csv_files());
    write_target(&root, "storage_config", storage_environments());
    write_target(&root, "game_config", game_config_requests());
    write_target(&root, "proto_requests", physics_requests());
    write_target(&root, "ws_client_message", ws_messages());
    write_target(&root, "rest_bodies", rest_bodies());
}

fn write_target<'a>(root: &Path, target: &str, seeds: impl IntoIterator<Item = (&'a str, Vec<u8>)>) {
    let folder = root.join(target);
    if folder.exists() {
        fs::remove_dir_all(&folder).expect("remove the old seeds");
    }
    fs::create_dir_all(&folder).expect("create the seed folder");
    for (name, bytes) in seeds {
        fs::write(folder.join(name), &bytes).expect("write a seed");
        println!("{target}/{name}: {} bytes", bytes.len());
    }
}

/// The byte that picks `value` out of `table` (which must hold it).
fn pick(table: &[f64], value: f64) -> u8 {
    let position = table.iter().position(|entry| entry.to_bits() == value.to_bits()).expect("value in table");
    u8::try_from(position).expect("small table")
}

/// Spawns a ship of class `class` at `altitude` above body `body`, moving at `speed` times the
/// circular speed, facing `attitude` (w, x, y, z), with full tanks.
fn spawn(class: u8, body: u8, altitude: f64, speed: f64, direction: [i8; 3], attitude: [f64; 4]) -> Op {
    Op::Spawn {
        class,
        body,
        altitude: pick(&ALTITUDES, altitude),
        speed: control_byte(speed - 1.0),
        direction: direction.map(|component| component as u8),
        attitude: attitude.map(control_byte),
        fuel: control_byte(1.0),
    }
}

fn control(ship: u8, throttle: f64, pitch: f64, yaw: f64, roll: f64) -> Op {
    Op::Control {
        ship,
        throttle: control_byte(throttle),
        pitch: control_byte(pitch),
        yaw: control_byte(yaw),
        roll: control_byte(roll),
    }
}

fn mode(ship: u8, mode: galaxy_engine::AttitudeMode, target_kind: u8, target: u8) -> Op {
    let mode = galaxy_engine::AttitudeMode::ALL.iter().position(|candidate| *candidate == mode).expect("a mode");
    Op::Mode { ship, mode: mode as u8, target_kind, target }
}

fn substep(seconds: f64) -> Op {
    Op::Substep { value: pick(&SUBSTEPS, seconds) }
}

fn predict(ship: u8, horizon: f64, step: f64, samples: u8) -> Op {
    Op::Predict { ship, horizon: pick(&HORIZONS, horizon), step: pick(&PREDICTION_STEPS, step), samples }
}

fn engine_programs() -> Vec<(&'static str, Vec<u8>)> {
    use galaxy_engine::AttitudeMode::{Normal, Prograde, RadialIn, Retrograde, Target};
    const IDENTITY: [f64; 4] = [1.0, 0.0, 0.0, 0.0];
    const FRIGATE: u8 = 0;
    const HAULER: u8 = 1;
    const HOT_ROD: u8 = 2;
    const INERT: u8 = 3;
    // Scenes (see galaxy_fuzz::scene): 0 solar system, 1 Sun–Earth–Moon, 2 the same through
    // Barnes–Hut, 3 solar system with 1PN, 4 Sun–Earth–Moon on the scalar kernel.
    let catalog = galaxy_sim::solar_system::solar_system();
    let earth_in_solar_system = catalog.iter().position(|body| body.name == "Earth").expect("Earth") as u8;
    let (earth, moon) = (1, 2);
    let step = |substeps: u8| Op::Step { substeps };
    vec![
        (
            "leo_burn",
            encode_program(
                1,
                &[
                    spawn(FRIGATE, earth, 400e3, 1.0, [127, 0, 0], IDENTITY),
                    mode(0, Prograde, 0, 0),
                    control(0, 1.0, 0.0, 0.0, 0.0),
                    step(64),
                    step(64),
                    predict(0, 5400.0, 60.0, 16),
                    Op::Orbits { ship: 0, body: moon },
                    Op::Restore { substeps: 4 },
                    control(0, 0.0, 0.0, 0.0, 0.0),
                    mode(0, Retrograde, 0, 0),
                    substep(10.0),
                    step(64),
                ],
            ),
        ),
        (
            "moon_landing",
            encode_program(
                1,
                &[
                    // Half a metre above the Moon, at rest relative to it, nose up: a landing.
                    spawn(HAULER, moon, 0.5, 0.0, [0, 0, 127], IDENTITY),
                    step(64),
                    step(64),
                    Op::Restore { substeps: 8 },
                    // Full throttle along the local vertical lifts it off again.
                    control(0, 1.0, 0.0, 0.0, 0.0),
                    step(20),
                    Op::Restore { substeps: 8 },
                    step(64),
                ],
            ),
        ),
        (
            "crash_and_targets",
            encode_program(
                0,
                &[
                    spawn(FRIGATE, earth_in_solar_system, 400e3, 1.0, [0, 127, 0], IDENTITY),
                    // Five metres up, lying on its side: a crash, not a landing.
                    spawn(HAULER, earth_in_solar_system, 5.0, 0.0, [127, 0, 0], IDENTITY),
                    spawn(HOT_ROD, earth_in_solar_system, 10e3, 1.5, [0, -127, 0], [0.0, 1.0, 0.0, 0.0]),
                    mode(2, Target, 2, 0),
                    mode(0, Target, 1, 0),
                    step(32),
                    Op::Remove { ship: 0 },
                    substep(1.0),
                    step(16),
                    Op::Fuel { ship: 1, fraction: control_byte(0.5) },
                    substep(60.0),
                    step(16),
                    Op::Restore { substeps: 2 },
                ],
            ),
        ),
        (
            "barnes_hut",
            encode_program(
                2,
                &[
                    spawn(HOT_ROD, earth, 400e3, 1.0, [0, 0, 127], [0.5, 0.5, 0.5, 0.5]),
                    spawn(INERT, moon, 100.0, 1.0, [127, 127, 0], IDENTITY),
                    mode(0, RadialIn, 0, 0),
                    control(0, 0.5, 0.0, 0.0, 0.0),
                    step(40),
                    mode(0, Target, 2, 1),
                    substep(600.0),
                    step(24),
                    predict(1, 86400.0, 600.0, 19),
                    Op::Restore { substeps: 3 },
                ],
            ),
        ),
        (
            "refused_commands",
            encode_program(
                3,
                &[
                    // No such body: a NaN position, which the engine must refuse.
                    Op::Spawn {
                        class: FRIGATE,
                        body: 200,
                        altitude: 0,
                        speed: 100,
                        direction: [0; 3],
                        attitude: [0; 4],
                        fuel: 0,
                    },
                    spawn(FRIGATE, earth_in_solar_system, 400e3, 1.0, [127, 0, 0], [0.0, 0.0, 0.0, 0.0]),
                    spawn(FRIGATE, earth_in_solar_system, 400e3, 1.0, [127, 0, 0], IDENTITY),
                    Op::Control { ship: 0, throttle: 201, pitch: 100, yaw: 100, roll: 100 },
                    control(0, 1.25, 0.0, 0.0, 0.0),
                    mode(0, Target, 2, 0),
                    mode(0, Target, 0, 0),
                    mode(0, Normal, 1, 128),
                    substep(f64::NAN),
                    substep(0.0),
                    substep(-0.1),
                    Op::Remove { ship: 129 },
                    Op::Fuel { ship: 0, fraction: control_byte(1.25) },
                    predict(0, f64::NAN, 1.0, 10),
                    predict(0, 60.0, 1.0, 1),
                    step(8),
                ],
            ),
        ),
        (
            "scalar_turns",
            encode_program(
                4,
                &[
                    spawn(HOT_ROD, earth, 36e6, 1.0, [0, 127, 0], IDENTITY),
                    control(0, 0.0, 1.0, -1.0, 0.5),
                    step(30),
                    control(0, 0.0, 0.0, 0.0, 0.0),
                    mode(0, Normal, 0, 0),
                    step(30),
                    substep(3600.0),
                    step(24),
                    Op::Restore { substeps: 5 },
                ],
            ),
        ),
    ]
}

/// The flight plans do what their names say: the landing lands, the crash crashes.
fn check_flights(programs: &[(&str, Vec<u8>)]) {
    use galaxy_engine::ShipStatus::{Crashed, Landed};
    let program = |name: &str| &programs.iter().find(|(candidate, _)| *candidate == name).expect("a program").1;
    // Scene byte, spawn (13 bytes), two steps (2 bytes each): the hauler rests on the Moon.
    let landed = run(&program("moon_landing")[..1 + 13 + 4]);
    assert_eq!(landed.ships().state(0).status, Landed);
    // Scene byte, three spawns, two mode changes (5 bytes each) and a step: the hauler crashed.
    let crashed = run(&program("crash_and_targets")[..1 + 3 * 13 + 2 * 5 + 2]);
    assert_eq!(crashed.ships().state(1).status, Crashed);
}

fn world_snapshots() -> Vec<(&'static str, Vec<u8>)> {
    let empty = World::solar_system(SimParams::default(), SpawnOrbit::default()).expect("the game's world");
    let mut flying = empty.clone();
    let first = flying.spawn_ship("alice", "Kestrel", "fast_frigate").expect("spawn");
    let second = flying.spawn_ship("bob", "Mule", "cargo_hauler").expect("spawn");
    let control = galaxy_engine::ShipControl { throttle: 1.0, ..galaxy_engine::ShipControl::default() };
    flying.apply_control(&first, Some(control), Some(galaxy_engine::AttitudeMode::Prograde), None).expect("steer");
    let target = galaxy_physics::TargetRef::Ship(first.clone());
    flying.apply_control(&second, None, Some(galaxy_engine::AttitudeMode::Target), Some(&target)).expect("steer");
    for tick in 1..=3 {
        flying.process_tick(tick, 1.0, 10).expect("tick");
    }
    let mut after_removal = flying.clone();
    after_removal.remove_ship(&first).expect("remove");
    after_removal.process_tick(4, 60.0, 60).expect("tick");
    [("empty", empty), ("two_ships", flying), ("after_removal", after_removal)]
        .into_iter()
        .map(|(name, world)| (name, world.to_snapshot().expect("encodes")))
        .collect()
}

fn csv_files() -> Vec<(&'static str, Vec<u8>)> {
    let write = |bodies: &[galaxy_sim::InitialBody]| {
        let mut bytes = Vec::new();
        galaxy_sim::write_initial_conditions(&mut bytes, bodies).expect("valid bodies");
        bytes
    };
    let solar_system: Vec<galaxy_sim::InitialBody> = galaxy_sim::solar_system::solar_system()
        .into_iter()
        .take(11)
        .map(|body| galaxy_sim::InitialBody {
            id: body.name.to_owned(),
            mass: body.mass,
            position: body.position,
            velocity: body.velocity,
        })
        .collect();
    vec![
        ("kepler", write(&galaxy_sim::kepler(4, 7))),
        ("plummer", write(&galaxy_sim::plummer(3, 11))),
        ("solar_system", write(&solar_system)),
        // What the reader tolerates: CRLF, blank lines, quoted fields (with a comma and a newline
        // inside), exponents, negative zero, a massless body.
        (
            "hand_written",
            b"id,mass,x,y,z,vx,vy,vz\r\n\r\n\"star, the\",1.989e30,0,0,-0,0,0,0\r\n\"two\nlines\",0,1.5e11,-2E-3,.5,1,29780,0\r\n\nlast,5.972e+24,1,2,3,4,5,6"
                .to_vec(),
        ),
        ("header_only", b"id,mass,x,y,z,vx,vy,vz\n".to_vec()),
    ]
}

fn storage_environments() -> Vec<(&'static str, Vec<u8>)> {
    use galaxy_storage::config::*;
    let lines = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(name, value)| format!("{name}={value}\n")).collect::<String>().into_bytes()
    };
    vec![
        (
            "everything",
            lines(&[
                (DATABASE_URL, "postgres://galaxy:hunter2@127.0.0.1:5432/galaxy"),
                (DATABASE_POOL_MAX_SIZE, "16"),
                (DATABASE_CONNECT_TIMEOUT_MS, "2000"),
                (DATABASE_POOL_WAIT_TIMEOUT_MS, "2000"),
                (DATABASE_RECYCLE_TIMEOUT_MS, "1000"),
                (DATABASE_QUERY_TIMEOUT_MS, "5000"),
                (REDIS_URL, "redis://:s3cret-pass@127.0.0.1:6379/0"),
                (REDIS_KEY_PREFIX, "staging-2"),
                (REDIS_CONNECT_TIMEOUT_MS, "2000"),
                (REDIS_COMMAND_TIMEOUT_MS, "300"),
                (REDIS_RECONNECT_MAX_DELAY_MS, "2000"),
                (REDIS_STREAM_MAX_LEN, "10000"),
            ]),
        ),
        (
            "postgres_only",
            lines(&[
                (DATABASE_URL, "postgresql://postgres@localhost/galaxy?connect_timeout=3"),
                (DATABASE_POOL_MAX_SIZE, "4"),
            ]),
        ),
        (
            "redis_tls",
            lines(&[(REDIS_URL, "rediss://user:password1@cache.example:6380/2"), (REDIS_KEY_PREFIX, "main")]),
        ),
        ("nothing_set", Vec::new()),
        ("refused_zero_timeout", lines(&[(DATABASE_URL, "postgres://db/galaxy"), (DATABASE_QUERY_TIMEOUT_MS, "0")])),
    ]
}

fn frame(out: &mut Vec<u8>, kind: u8, message: &impl Message) {
    encode_frame(out, kind, &message.encode_to_vec());
}

fn game_config_requests() -> Vec<(&'static str, Vec<u8>)> {
    let mut admin = Vec::new();
    frame(
        &mut admin,
        0,
        &v1::UpdateConfigRequest { tick_rate_hz: Some(10.0), time_scale: Some(2.0), registrations_open: Some(false) },
    );
    frame(
        &mut admin,
        0,
        &v1::UpdateConfigRequest { tick_rate_hz: None, time_scale: Some(100.0), registrations_open: None },
    );
    frame(&mut admin, 1, &v1::SetTickRateRequest { tick_rate_hz: 60.0 });
    frame(&mut admin, 2, &v1::SetTimeScaleRequest { time_scale: 0.1 });
    let mut refused = Vec::new();
    frame(
        &mut refused,
        0,
        &v1::UpdateConfigRequest {
            tick_rate_hz: Some(f64::NAN),
            time_scale: Some(1.0),
            registrations_open: Some(true),
        },
    );
    frame(
        &mut refused,
        0,
        &v1::UpdateConfigRequest { tick_rate_hz: Some(0.05), time_scale: None, registrations_open: None },
    );
    frame(&mut refused, 1, &v1::SetTickRateRequest { tick_rate_hz: 101.0 });
    frame(&mut refused, 2, &v1::SetTimeScaleRequest { time_scale: f64::INFINITY });
    // Tick settings (kind 3): rate and scale as u16/100, longest substep as 10^(u16/4096 − 7) s,
    // catch-up ticks, lateness in 10 ms.
    let settings = |rate: u16, scale: u16, substep: u16, catch_up: u8, lateness: u16| {
        let mut bytes = Vec::new();
        for value in [rate, scale, substep] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        bytes.push(catch_up);
        bytes.extend_from_slice(&lateness.to_le_bytes());
        bytes
    };
    let mut tick_settings = Vec::new();
    // 1 Hz, 1×, 0.1 s substeps (10^-1 = 10^(24576/4096 − 7)), 10 catch-up ticks, 3.5 s late.
    encode_frame(&mut tick_settings, 3, &settings(100, 100, 24576, 10, 350));
    // 0.1 Hz at 100×: 1000 game seconds a tick.
    encode_frame(&mut tick_settings, 3, &settings(10, 10_000, 24576, 0, 60_000));
    vec![("admin", admin), ("refused", refused), ("tick_settings", tick_settings)]
}

fn physics_requests() -> Vec<(&'static str, Vec<u8>)> {
    let control = |throttle: f64| Some(v1::ShipControl { throttle, pitch: 0.0, yaw: 0.0, roll: 0.0 });
    let ship = |id: &str| id.to_owned();
    let mut flight = Vec::new();
    frame(
        &mut flight,
        3,
        &v1::ApplyControlRequest {
            ship_id: ship("ship-1"),
            control: control(1.0),
            attitude_mode: v1::AttitudeMode::Prograde as i32,
            target: None,
        },
    );
    frame(&mut flight, 0, &v1::ProcessTickRequest { tick: 1, game_seconds: 1.0, substeps: 10 });
    frame(
        &mut flight,
        3,
        &v1::ApplyControlRequest {
            ship_id: ship("ship-2"),
            control: None,
            attitude_mode: v1::AttitudeMode::Target as i32,
            target: Some(v1::AttitudeTarget { target: Some(v1::attitude_target::Target::BodyName("Moon".into())) }),
        },
    );
    frame(&mut flight, 0, &v1::ProcessTickRequest { tick: 2, game_seconds: 100.0, substeps: 20 });
    frame(
        &mut flight,
        5,
        &v1::PredictTrajectoryRequest { ship_id: ship("ship-1"), horizon: 5400.0, step: 60.0, samples: 30 },
    );
    frame(&mut flight, 4, &v1::GetShipStateRequest { ship_id: ship("ship-2") });
    let mut lifecycle = Vec::new();
    frame(
        &mut lifecycle,
        1,
        &v1::SpawnShipRequest {
            owner_id: "carol".into(),
            name: "Heron".into(),
            class_name: String::new(),
            ship_id: String::new(),
        },
    );
    frame(&mut lifecycle, 6, &v1::SnapshotRequest {});
    frame(&mut lifecycle, 2, &v1::RemoveShipRequest { ship_id: ship("ship-1") });
    frame(&mut lifecycle, 0, &v1::ProcessTickRequest { tick: 1, game_seconds: 1e6, substeps: 1 });
    frame(&mut lifecycle, 7, &v1::RestoreRequest { snapshot_id: 0 });
    frame(
        &mut lifecycle,
        1,
        &v1::SpawnShipRequest {
            owner_id: "dave".into(),
            name: "Tug".into(),
            class_name: "cargo_hauler".into(),
            ship_id: String::new(),
        },
    );
    let mut other_services = Vec::new();
    frame(
        &mut other_services,
        8,
        &v1::UpdateConfigRequest { tick_rate_hz: Some(30.0), time_scale: Some(10.0), registrations_open: Some(true) },
    );
    frame(&mut other_services, 9, &v1::SetTickRateRequest { tick_rate_hz: 0.1 });
    frame(&mut other_services, 10, &v1::SetTimeScaleRequest { time_scale: 100.0 });
    frame(
        &mut other_services,
        11,
        &v1::ValidateCommandRequest {
            token: "0".repeat(64),
            ship_id: "42".into(),
            control: Some(v1::ShipControl { throttle: 0.25, pitch: -1.0, yaw: 1.0, roll: 0.0 }),
            attitude_mode: v1::AttitudeMode::Hold as i32,
            target: None,
        },
    );
    let mut refused = Vec::new();
    frame(&mut refused, 0, &v1::ProcessTickRequest { tick: 1, game_seconds: f64::NAN, substeps: 10 });
    frame(&mut refused, 0, &v1::ProcessTickRequest { tick: 0, game_seconds: 1.0, substeps: 1 });
    frame(
        &mut refused,
        3,
        &v1::ApplyControlRequest { ship_id: ship("ship-1"), control: control(1.5), attitude_mode: 99, target: None },
    );
    frame(
        &mut refused,
        5,
        &v1::PredictTrajectoryRequest { ship_id: ship("ship-1"), horizon: 1e12, step: 1.0, samples: 1 },
    );
    frame(
        &mut refused,
        1,
        &v1::SpawnShipRequest {
            owner_id: "eve".into(),
            name: "X".into(),
            class_name: "battleship".into(),
            ship_id: String::new(),
        },
    );
    frame(&mut refused, 7, &v1::RestoreRequest { snapshot_id: 99 });
    vec![("flight", flight), ("lifecycle", lifecycle), ("other_services", other_services), ("refused", refused)]
}

/// WebSocket messages: one of every type as the protocol shows it, and refused ones (each
/// checked to be read as it says).
fn ws_messages() -> Vec<(&'static str, Vec<u8>)> {
    let accepted = [
        ("auth", json!({"type": "auth", "token": "b64url".repeat(7)})),
        ("control", json!({"type": "control", "id": 1, "throttle": 0.5, "pitch": 0.0, "yaw": 0.0, "roll": 0.0})),
        ("control_defaults", json!({"type": "control", "throttle": 1})),
        // Out of range: the gateway passes it on and the players service refuses it.
        ("control_out_of_range", json!({"type": "control", "id": 6, "throttle": 1.5, "pitch": -2e300, "yaw": 1e-320})),
        ("attitude_prograde", json!({"type": "attitude_mode", "id": 2, "mode": "prograde"})),
        (
            "attitude_target_body",
            json!({"type": "attitude_mode", "id": 3, "mode": "target", "target": {"body": "Moon"}}),
        ),
        (
            "attitude_target_ship",
            json!({"type": "attitude_mode", "id": "cmd-4", "mode": "target", "target": {"ship": "ship-3"}}),
        ),
        ("attitude_unknown_mode", json!({"type": "attitude_mode", "id": 7, "mode": "sideways"})),
        ("respawn", json!({"type": "respawn", "id": 4, "class": "cargo_hauler"})),
        // An id of 40 characters (80 bytes): the protocol allows ids of up to 64 characters.
        ("respawn_unicode_id", json!({"type": "respawn", "id": "é".repeat(40), "class": "fast_frigate"})),
        // An id of 65 characters is not echoed.
        ("respawn_long_id", json!({"type": "respawn", "id": "x".repeat(65), "class": "battleship"})),
    ];
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, message) in accepted {
        let text = message.to_string();
        assert!(
            matches!(
                fuzzing::parse_client_message(&text),
                Ok(fuzzing::ClientMessage::Command { .. } | fuzzing::ClientMessage::Auth { .. })
            ),
            "{text}"
        );
        seeds.push((name, text.into_bytes()));
    }
    let refused = [
        ("malformed", b"{\"type\": 1}".to_vec()),
        ("unknown_type", json!({"type": "teleport", "id": 5}).to_string().into_bytes()),
        ("bad_control", json!({"type": "control", "id": 5, "throttle": "full"}).to_string().into_bytes()),
        (
            "bad_target",
            json!({"type": "attitude_mode", "id": 8, "mode": "target", "target": {"planet": "Mars"}})
                .to_string()
                .into_bytes(),
        ),
        // Not UTF-8 (the target also reads it lossily).
        ("not_utf8", b"{\"type\": \"auth\", \"token\": \"\xff\xfe\"}".to_vec()),
    ];
    for (name, bytes) in refused {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!matches!(fuzzing::parse_client_message(&text), Ok(fuzzing::ClientMessage::Command { .. })), "{text}");
        seeds.push((name, bytes));
    }
    seeds
}

/// REST bodies, behind the kind byte `rest_bodies` reads: 0 credentials, 1 a respawn, 2 a
/// prediction's query.
fn rest_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let with_kind = |kind: u8, body: &[u8]| [&[kind][..], body].concat();
    let json = |kind: u8, body: serde_json::Value| with_kind(kind, body.to_string().as_bytes());
    vec![
        ("register", json(0, json!({"username": "ada_1", "password": "correct horse battery"}))),
        ("login_unicode", json(0, json!({"username": "Ädá_ΣΑΣ", "password": "pässwörd-✓ ½"}))),
        ("credentials_missing_password", json(0, json!({"username": "ada_1"}))),
        ("credentials_wrong_type", json(0, json!({"username": 7, "password": ["x"]}))),
        ("respawn", json(1, json!({"class": "cargo_hauler"}))),
        ("respawn_extra_field", json(1, json!({"class": "fast_frigate", "ship": "ship-1"}))),
        ("respawn_null_class", json(1, json!({"class": null}))),
        ("prediction", with_kind(2, b"horizon=5400&samples=180")),
        ("prediction_defaults", with_kind(2, b"")),
        ("prediction_limits", with_kind(2, b"horizon=1e7&samples=2000")),
        ("prediction_encoded", with_kind(2, b"horizon=%201.5e3%20&samples=+200&extra=1")),
        ("prediction_short", with_kind(2, b"horizon=0.5")),
        ("prediction_fraction", with_kind(2, b"samples=2.5")),
        ("prediction_nan", with_kind(2, b"horizon=NaN&samples=abc")),
    ]
}
