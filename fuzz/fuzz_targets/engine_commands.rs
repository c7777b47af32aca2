//! Arbitrary sequences of ship commands — spawns of every class (inside bodies, at their centre,
//! with degenerate attitudes), throttle and rotation inputs, attitude modes and targets
//! (including invalid and self indices), substep changes, steps, removals, refuelling,
//! predictions, orbit queries and snapshot restores — applied to a solar-system or few-body
//! simulation. See `galaxy_fuzz::commands` for the input format.
//!
//! After every operation: no panic; every position, velocity, angular velocity and attitude is
//! finite; fuel lies within [0, capacity]; attitude quaternions have unit length (within 1e-6);
//! a refused command changed nothing; a restored snapshot steps bit-for-bit like the original.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    galaxy_fuzz::commands::run(data);
});
