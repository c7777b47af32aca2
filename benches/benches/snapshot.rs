//! Snapshot encode and decode of the game scene (29 bodies, 10,000 ships).
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use galaxy_benches::solar_system_with_ships;
use galaxy_engine::Simulation;
use std::hint::black_box;

fn snapshot(criterion: &mut Criterion) {
    let simulation = solar_system_with_ships(10_000).unwrap();
    let bytes = simulation.to_snapshot();
    let mut group = criterion.benchmark_group("snapshot_29_bodies_10k_ships");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode", |bencher| bencher.iter(|| black_box(&simulation).to_snapshot()));
    group.bench_function("decode", |bencher| bencher.iter(|| Simulation::from_snapshot(black_box(&bytes)).unwrap()));
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
