//! `galaxy_physics::World::from_snapshot` on arbitrary bytes: never panics; a world it accepts is
//! usable — its engine state is sane, it re-encodes to a snapshot that restores to the same
//! bytes, and it can list its ships, publish its state and spawn a ship.
//!
//! As for the engine target, each input is also tried with the engine part's CRC-32 fixed (the
//! engine snapshot is whatever follows the metadata).
#![no_main]

use galaxy_fuzz::{assert_simulation_sane, with_engine_checksum};
use galaxy_physics::World;
use libfuzzer_sys::fuzz_target;

/// Magic (8 bytes) and metadata length (8 bytes) before the metadata.
const HEADER: usize = 16;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(fixed) = fixed_engine_checksum(data) {
        check(&fixed);
    }
});

fn fixed_engine_checksum(data: &[u8]) -> Option<Vec<u8>> {
    let length = u64::from_le_bytes(data.get(8..HEADER)?.try_into().ok()?);
    let engine_start = HEADER.checked_add(usize::try_from(length).ok()?)?;
    let engine = with_engine_checksum(data.get(engine_start..)?)?;
    let mut fixed = data[..engine_start].to_vec();
    fixed.extend_from_slice(&engine);
    Some(fixed)
}

fn check(bytes: &[u8]) {
    let Ok(mut world) = World::from_snapshot(bytes) else { return };
    assert_simulation_sane(world.simulation());
    let encoded = world.to_snapshot().expect("an accepted world encodes");
    let restored =
        World::from_snapshot(&encoded).unwrap_or_else(|error| panic!("a re-encoded world does not restore: {error}"));
    assert!(restored.to_snapshot().expect("encodes") == encoded, "a re-encoded world does not round-trip");
    assert_eq!(restored.state_hash(), world.state_hash());
    let ships = world.ships();
    assert_eq!(ships.len(), world.simulation().ships().len());
    for ship in &ships {
        assert_eq!(world.ship(&ship.record.id).map(|view| view.record.clone()), Ok(ship.record.clone()));
    }
    let _ = world.bodies();
    let _ = world.published_state();
    // A restored world keeps serving: spawning must not panic (it may refuse, e.g. a spawn
    // orbit the snapshot names badly).
    if let Ok(id) = world.spawn_ship("fuzz", "fuzz", "fast_frigate") {
        assert_eq!(world.ship(&id).map(|view| view.record.id), Ok(id.clone()));
        assert_simulation_sane(world.simulation());
        let mut ids: Vec<String> = world.ships().into_iter().map(|view| view.record.id).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "a spawned ship reused the id of a restored one");
    }
}
