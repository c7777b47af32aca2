//! A whole game tick: the 29-body solar system with 1,000 and 10,000 ships at 10 substeps, on 1
//! and 2 threads; and one step of 9 bodies with 100,000 test-particle ships.
#![allow(clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use galaxy_benches::{solar_system_with_ships, sun_planets_and_test_particles, thread_pool};
use std::hint::black_box;
use std::time::Duration;

fn tick(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("tick");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for ships in [1_000, 10_000] {
        for threads in [1, 2] {
            let pool = thread_pool(threads).unwrap();
            let mut simulation = solar_system_with_ships(ships).unwrap();
            let id = BenchmarkId::new(format!("solar_system_29_bodies_10_substeps/{threads}-thread"), ships);
            group.bench_with_input(id, &ships, |bencher, _| {
                pool.install(|| bencher.iter(|| black_box(simulation.step(black_box(10)))));
            });
        }
    }
    for threads in [1, 2] {
        let pool = thread_pool(threads).unwrap();
        let mut simulation = sun_planets_and_test_particles(100_000).unwrap();
        let id = BenchmarkId::new(format!("9_bodies_100k_test_particles_1_step/{threads}-thread"), 100_000);
        group.bench_with_input(id, &threads, |bencher, _| {
            pool.install(|| bencher.iter(|| black_box(simulation.step(black_box(1)))));
        });
    }
    group.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
