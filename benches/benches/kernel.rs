//! The direct-sum gravity kernel: one force evaluation (N² interactions) of a Plummer sphere at
//! N = 1k, 4k, 16k, for the scalar reference, the portable `wide` path and the best SIMD path,
//! on 1 and 2 threads.
#![allow(clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use galaxy_benches::{KernelScene, thread_pool};
use galaxy_engine::KernelPath;
use std::hint::black_box;
use std::time::Duration;

fn kernel(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("direct_sum");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    let mut paths = vec![KernelPath::Scalar, KernelPath::Portable];
    if KernelPath::best_available() != KernelPath::Portable {
        paths.push(KernelPath::best_available());
    }
    for count in [1024, 4096, 16384] {
        let scene = KernelScene::plummer(count);
        let mut output = scene.output();
        group.throughput(Throughput::Elements((count * count) as u64));
        for &path in &paths {
            for threads in [1, 2] {
                let pool = thread_pool(threads).unwrap();
                let id = BenchmarkId::new(format!("{path}/{threads}-thread"), count);
                group.bench_with_input(id, &count, |bencher, _| {
                    pool.install(|| bencher.iter(|| scene.accelerations(black_box(path), black_box(&mut output))));
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
