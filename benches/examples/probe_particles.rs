#![allow(clippy::unwrap_used, missing_docs)]
fn main() {
    let pool = galaxy_benches::thread_pool(2).unwrap();
    let mut sim = galaxy_benches::sun_planets_and_test_particles(100_000).unwrap();
    pool.install(|| {
        sim.step(1);
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            sim.step(1);
        }
        println!("{:.3} ms per step", t.elapsed().as_secs_f64());
    });
}
