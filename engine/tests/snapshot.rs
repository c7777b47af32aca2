//! Snapshots round-trip bit-exactly (a restored simulation steps exactly like the original),
//! and corrupted, truncated or forged bytes are always an error, never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::{
    AttitudeMode, AttitudeTarget, BodyInit, DVec3, ShipClass, ShipControl, ShipInit, SimParams, Simulation,
    SnapshotError,
};
use proptest::prelude::*;

fn busy_simulation() -> Simulation {
    let params =
        SimParams { gravitational_constant: 1.0, softening: 0.01, substep: 1e-3, kernel: None, ..SimParams::default() };
    let mut simulation = common::system(params, &common::random_cloud(40, 5));
    for ship in 0..25 {
        let offset = ship as f64 * 0.05;
        let index = simulation
            .add_ship(ShipInit::new(
                ShipClass::ALL[ship % 2],
                DVec3::new(3.0 + offset, 0.0, 0.0),
                DVec3::new(0.0, 0.5, 0.0),
            ))
            .unwrap();
        simulation.set_control(index, ShipControl { throttle: 0.3, pitch: 0.1, yaw: 0.0, roll: -0.2 }).unwrap();
        let mode = AttitudeMode::ALL[ship % AttitudeMode::ALL.len()];
        let target = (mode == AttitudeMode::Target).then_some(AttitudeTarget::Body(3));
        simulation.set_attitude_mode(index, mode, target).unwrap();
    }
    simulation.step(17);
    simulation
}

#[test]
fn round_trip_is_bit_exact_and_the_restored_simulation_steps_identically() {
    let mut original = busy_simulation();
    let bytes = original.to_snapshot();
    let mut restored = Simulation::from_snapshot(&bytes).unwrap();
    assert_eq!(restored.to_snapshot(), bytes);
    assert_eq!(restored.time(), original.time());
    assert_eq!(restored.step_count(), original.step_count());
    original.step(25);
    restored.step(25);
    assert_eq!(common::state_bits(&original), common::state_bits(&restored));
    assert_eq!(original.to_snapshot(), restored.to_snapshot());
}

#[test]
fn after_a_ship_is_removed_a_restored_barnes_hut_simulation_steps_identically() {
    // With Barnes–Hut a ship's acceleration depends on the ships evaluated in its group, so the
    // accelerations cached before a removal are not what a fresh evaluation gives (found by
    // fuzz/engine_commands).
    let params = SimParams {
        gravitational_constant: 1.0,
        softening: 0.01,
        substep: 1e-3,
        gravity: galaxy_engine::GravityMethod::BarnesHut { opening_angle: 0.5 },
        ..SimParams::default()
    };
    let mut original = common::system(params, &common::random_cloud(40, 7));
    for ship in 0..24 {
        let spread = ship as f64 * 0.4;
        original
            .add_ship(ShipInit::new(ShipClass::ALL[0], DVec3::new(2.0 + spread, spread, -spread), DVec3::ZERO))
            .unwrap();
    }
    original.step(5);
    for ship in [20, 11, 3, 0] {
        original.remove_ship(ship).unwrap();
    }
    let mut restored = Simulation::from_snapshot(&original.to_snapshot()).unwrap();
    original.step(3);
    restored.step(3);
    assert_eq!(common::state_bits(&original), common::state_bits(&restored));
}

#[test]
fn the_post_newtonian_setting_round_trips() {
    let params = SimParams { post_newtonian: Some(galaxy_engine::PostNewtonian::SI), ..SimParams::default() };
    let simulation = Simulation::new(params).unwrap();
    let restored = Simulation::from_snapshot(&simulation.to_snapshot()).unwrap();
    assert_eq!(restored.params().post_newtonian, Some(galaxy_engine::PostNewtonian::SI));
}

#[test]
fn an_empty_simulation_round_trips() {
    let simulation = Simulation::new(SimParams::default()).unwrap();
    let restored = Simulation::from_snapshot(&simulation.to_snapshot()).unwrap();
    assert_eq!(restored.bodies().len(), 0);
    assert_eq!(restored.ships().len(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_corruption_is_detected(flips in prop::collection::vec((any::<prop::sample::Index>(), 1_u8..=255), 1..6)) {
        let bytes = busy_simulation_bytes();
        let mut corrupted = bytes.clone();
        for (position, mask) in flips {
            corrupted[position.index(bytes.len())] ^= mask;
        }
        prop_assume!(corrupted != bytes);
        prop_assert!(Simulation::from_snapshot(&corrupted).is_err());
    }

    #[test]
    fn any_truncation_is_detected(keep in any::<prop::sample::Index>()) {
        let bytes = busy_simulation_bytes();
        let length = keep.index(bytes.len());
        prop_assert!(Simulation::from_snapshot(&bytes[..length]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Simulation::from_snapshot(&bytes);
        let mut prefixed = b"GXSN\x01\x00".to_vec();
        prefixed.extend_from_slice(&bytes);
        prop_assert!(Simulation::from_snapshot(&prefixed).is_err());
    }
}

fn busy_simulation_bytes() -> Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| busy_simulation().to_snapshot()).clone()
}

/// Rewrites the trailing CRC so a deliberately edited snapshot passes the checksum and reaches
/// the validation behind it.
fn reseal(bytes: &mut [u8]) {
    let end = bytes.len() - 4;
    let checksum = crc32fast_hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&checksum.to_le_bytes());
}

fn crc32fast_hash(bytes: &[u8]) -> u32 {
    // CRC-32 (IEEE), bitwise: the test does not trust the crate it is checking against.
    let mut crc = !0_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn a_resealed_snapshot_with_nan_or_negative_mass_is_rejected() {
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    simulation
        .add_body(BodyInit { mass: 1.0, radius: 1.0, position: DVec3::new(1.0, 2.0, 3.0), velocity: DVec3::ZERO })
        .unwrap();
    let bytes = simulation.to_snapshot();
    // Header 8, params 27 (direct, no 1PN), time 8, step count 8, counts 16: the first body column starts at 67.
    let mass_offset = 67;
    assert_eq!(&bytes[mass_offset..mass_offset + 8], &1.0_f64.to_bits().to_le_bytes());
    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        let mut edited = bytes.clone();
        edited[mass_offset..mass_offset + 8].copy_from_slice(&bad.to_bits().to_le_bytes());
        reseal(&mut edited);
        let error = Simulation::from_snapshot(&edited).unwrap_err();
        assert!(matches!(error, SnapshotError::InvalidState(_)), "{bad}: {error}");
    }
    let mut untouched = bytes.clone();
    reseal(&mut untouched);
    assert!(Simulation::from_snapshot(&untouched).is_ok(), "resealing alone must not break a snapshot");
}

#[test]
fn a_resealed_snapshot_with_a_non_unit_attitude_is_rejected() {
    // Found by fuzz/engine_snapshot: any positive length used to pass, and scaled the thrust.
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    simulation.add_body(BodyInit { mass: 1.0, radius: 1.0, position: DVec3::ZERO, velocity: DVec3::ZERO }).unwrap();
    simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::new(5.0, 0.0, 0.0), DVec3::ZERO)).unwrap();
    let bytes = simulation.to_snapshot();
    // 67 bytes before the body columns, 8 body columns of one body, then the ship columns:
    // attitude w is the 14th (position 3, velocity 3, masses 3, thrust, exhaust, two turn limits).
    let attitude_w_offset = 67 + 8 * 8 + 13 * 8;
    assert_eq!(&bytes[attitude_w_offset..attitude_w_offset + 8], &1.0_f64.to_bits().to_le_bytes());
    for bad in [2.0_f64, 0.5, 1e-160, 1.0 + 1e-5] {
        let mut edited = bytes.clone();
        edited[attitude_w_offset..attitude_w_offset + 8].copy_from_slice(&bad.to_bits().to_le_bytes());
        reseal(&mut edited);
        let error = Simulation::from_snapshot(&edited).unwrap_err();
        assert!(matches!(error, SnapshotError::InvalidState(_)), "{bad}: {error}");
    }
}

#[test]
fn a_forged_count_is_refused_without_allocating_it() {
    let simulation = Simulation::new(SimParams::default()).unwrap();
    let mut bytes = simulation.to_snapshot();
    let body_count_offset = 8 + 27 + 8 + 8;
    bytes[body_count_offset..body_count_offset + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    reseal(&mut bytes);
    assert!(matches!(Simulation::from_snapshot(&bytes), Err(SnapshotError::InvalidField { field: "body count", .. })));
}
