//! The initial-condition CSV reader (`galaxy_sim::read_initial_conditions`) on arbitrary bytes:
//! never panics; what it accepts keeps its documented promises (every number finite, masses not
//! negative, ids non-empty and unique), builds a simulation, and writes back to CSV that reads
//! as bitwise the same bodies.
#![no_main]

use std::collections::HashSet;

use galaxy_engine::SimParams;
use galaxy_sim::{read_initial_conditions, simulation_from, write_initial_conditions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bodies) = read_initial_conditions(data) else { return };
    let mut ids = HashSet::new();
    for body in &bodies {
        assert!(!body.id.is_empty(), "empty id accepted");
        assert!(ids.insert(body.id.as_str()), "duplicate id {:?} accepted", body.id);
        assert!(body.mass >= 0.0, "negative mass {} accepted", body.mass);
        for value in [body.mass].into_iter().chain(body.position.to_array()).chain(body.velocity.to_array()) {
            assert!(value.is_finite(), "non-finite {value} accepted");
        }
    }
    simulation_from(&bodies, SimParams::default()).expect("accepted bodies are valid engine bodies");
    let mut written = Vec::new();
    write_initial_conditions(&mut written, &bodies).expect("accepted bodies can be written");
    let read_back = read_initial_conditions(written.as_slice()).expect("written bodies read back");
    assert_eq!(read_back.len(), bodies.len());
    for (original, copy) in bodies.iter().zip(&read_back) {
        assert_eq!(original.id, copy.id);
        let bits = |body: &galaxy_sim::InitialBody| {
            [
                body.mass,
                body.position.x,
                body.position.y,
                body.position.z,
                body.velocity.x,
                body.velocity.y,
                body.velocity.z,
            ]
            .map(f64::to_bits)
        };
        assert_eq!(bits(original), bits(copy), "body {:?} changed on a write and read", original.id);
    }
});
