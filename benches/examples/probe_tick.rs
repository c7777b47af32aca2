#![allow(clippy::unwrap_used, missing_docs)]
fn main() {
    let threads: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let pool = galaxy_benches::thread_pool(threads).unwrap();
    let mut sim = galaxy_benches::solar_system_with_ships(10_000).unwrap();
    pool.install(|| {
        let t = std::time::Instant::now();
        let mut events = 0;
        for _ in 0..2000 {
            events += sim.step(10).events.len();
        }
        println!("{threads} threads: {:.3} ms per tick, events {events}", t.elapsed().as_secs_f64() / 2000.0 * 1e3);
    });
}
