//! `Simulation::from_snapshot` on arbitrary bytes: never panics; whatever it accepts is a sane
//! state (finite, fuel within the tank, unit attitudes) that re-encodes to bytes which decode
//! again to the same bytes.
//!
//! Every input is tried twice: as it is (the checksum and header checks) and with its last four
//! bytes replaced by the right CRC-32, so mutations reach the field decoding behind the checksum.
#![no_main]

use galaxy_engine::Simulation;
use galaxy_fuzz::{assert_simulation_sane, with_engine_checksum};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(fixed) = with_engine_checksum(data) {
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let Ok(simulation) = Simulation::from_snapshot(bytes) else { return };
    assert_simulation_sane(&simulation);
    let encoded = simulation.to_snapshot();
    let decoded = Simulation::from_snapshot(&encoded)
        .unwrap_or_else(|error| panic!("a re-encoded snapshot does not decode: {error}"));
    assert!(decoded.to_snapshot() == encoded, "a re-encoded snapshot does not round-trip");
}
