//! `tick-services`: the whole tick through the services — the tick-engine's gRPC call to
//! physics (commands read from Redis, engine step, state and world written to Redis) and the
//! tick's record (PostgreSQL tick log, `tick.completed` appended to Redis) — with the 29-body
//! solar system and N ships, on the machine's real Redis and PostgreSQL. Prints wall time per
//! tick (p50, p95, p99, max) and the phases inside physics.
//!
//! `cargo run --release -p galaxy-benches --bin tick-services -- --ships 1000 --ticks 300`
//! (ticks at 1 Hz, as the game does by default: five minutes; `--tick-rate-hz 0` runs them
//! back to back, which keeps caches warmer than the game does)

use std::hash::{BuildHasher, RandomState};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use galaxy_engine::SimParams;
use galaxy_physics::{PhysicsServer, PhysicsService, SpawnOrbit, World};
use galaxy_proto::v1;
use galaxy_storage::{Database, EventBus, PostgresConfig, PostgresStore, RedisConfig, RedisStore};
use galaxy_tick_engine::{GrpcPhysics, StoreTickSink, TickRecord, TickSettings, TickSink, TickTarget};

/// The allocator the physics binaries use (the per-tick buffers of a few hundred KiB would
/// otherwise be fresh, zeroed pages from the kernel every tick).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
struct Arguments {
    /// Ships in the world.
    #[arg(long, default_value_t = 1000)]
    ships: usize,
    /// Ticks measured (after 10 warm-up ticks).
    #[arg(long, default_value_t = 300)]
    ticks: u64,
    /// Ticks a second (0: back to back).
    #[arg(long, default_value_t = 1.0)]
    tick_rate_hz: f64,
    /// PostgreSQL server (a database is created for the run and dropped after).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Redis server (a key space of its own, deleted after).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Also write every measured tick's phases (ms) to this CSV file, to look for a pattern in
    /// the slow ones.
    #[arg(long)]
    csv: Option<std::path::PathBuf>,
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let arguments = Arguments::parse();
    anyhow::ensure!(
        arguments.tick_rate_hz.is_finite() && arguments.tick_rate_hz >= 0.0,
        "--tick-rate-hz must be a number ≥ 0, not {}",
        arguments.tick_rate_hz
    );
    let suffix = format!("{:016x}", RandomState::new().hash_one(std::process::id()));
    let database_name = format!("galaxy_bench_{suffix}");
    let (admin, connection) =
        tokio_postgres::connect(&format!("{}/postgres", arguments.postgres), tokio_postgres::NoTls)
            .await
            .context("connecting to PostgreSQL")?;
    tokio::spawn(connection);
    admin.batch_execute(&format!("CREATE DATABASE {database_name}")).await?;
    let outcome = run(&arguments, &database_name, &suffix).await;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")).await?;
    outcome
}

async fn run(arguments: &Arguments, database_name: &str, suffix: &str) -> Result<()> {
    let postgres =
        PostgresStore::connect(&PostgresConfig::new(format!("{}/{database_name}", arguments.postgres))).await?;
    let redis = RedisStore::connect(&RedisConfig::new(arguments.redis.clone(), format!("bench-{suffix}"))).await?;
    let (bus, database) = (EventBus::Redis(redis.clone()), Database::Postgres(postgres));

    let world = World::solar_system(SimParams::default(), SpawnOrbit::default())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let service = PhysicsService::with_stores(world, bus.clone(), database.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(PhysicsServer::new(service))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let mut client = v1::physics_client::PhysicsClient::connect(format!("http://{address}")).await?;
    for index in 0..arguments.ships {
        let request = v1::SpawnShipRequest {
            owner_id: index.to_string(),
            name: format!("ship {index}"),
            class_name: if index % 2 == 0 { "fast_frigate" } else { "cargo_hauler" }.to_owned(),
            ship_id: String::new(),
        };
        client.spawn_ship(request).await?;
    }
    let settings = TickSettings::default();
    let (game_seconds, substeps) = (settings.game_seconds_per_tick(), settings.substeps_per_tick());
    let mut physics = GrpcPhysics::new(client);
    let mut sink = StoreTickSink::new(bus, database);
    let mut totals = Vec::new();
    let mut steps = Vec::new();
    let mut publishes = Vec::new();
    let mut commands = Vec::new();
    let mut physics_calls = Vec::new();
    let mut records = Vec::new();
    let mut started_at = Vec::new();
    let bench_started = Instant::now();
    let mut pace = (arguments.tick_rate_hz > 0.0)
        .then(|| tokio::time::interval(std::time::Duration::from_secs_f64(1.0 / arguments.tick_rate_hz)));
    for tick in 1..=arguments.ticks + 10 {
        if let Some(pace) = &mut pace {
            pace.tick().await;
        }
        let started = Instant::now();
        let outcome = physics.tick(tick, game_seconds, substeps).await?;
        let physics_seconds = started.elapsed().as_secs_f64();
        let recording = Instant::now();
        sink.completed(TickRecord {
            tick,
            game_time: outcome.game_time,
            physics_seconds,
            start_lag_seconds: 0.0,
            catch_up: false,
            state_hash: outcome.state_hash.clone(),
            phases: outcome.phases,
            energy_drift: outcome.energy_drift,
            momentum_drift: outcome.momentum_drift,
        })
        .await?;
        if tick > 10 {
            totals.push(started.elapsed().as_secs_f64() * 1e3);
            started_at.push((started - bench_started).as_secs_f64() * 1e3);
            physics_calls.push(physics_seconds * 1e3);
            records.push(recording.elapsed().as_secs_f64() * 1e3);
            steps.push(outcome.phases.step_seconds * 1e3);
            publishes.push(outcome.phases.publish_seconds * 1e3);
            commands.push(outcome.phases.commands_seconds * 1e3);
        }
    }
    redis.delete_all_keys().await?;
    if let Some(path) = &arguments.csv {
        let mut table =
            String::from("tick,started_ms,total_ms,process_tick_ms,step_ms,publish_ms,commands_ms,record_ms\n");
        for index in 0..totals.len() {
            table.push_str(&format!(
                "{},{:.3},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4}\n",
                index + 11,
                started_at[index],
                totals[index],
                physics_calls[index],
                steps[index],
                publishes[index],
                commands[index],
                records[index]
            ));
        }
        std::fs::write(path, table).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "whole tick through the services: {} bodies, {} ships, {} substeps of {} s, {} ticks at {}",
        29,
        arguments.ships,
        substeps,
        game_seconds / f64::from(substeps),
        arguments.ticks,
        if arguments.tick_rate_hz > 0.0 {
            format!("{} Hz", arguments.tick_rate_hz)
        } else {
            "once the last is done".to_owned()
        }
    );
    println!("{:<36} {:>8} {:>8} {:>8} {:>8}", "ms per tick", "p50", "p95", "p99", "max");
    for (name, values) in [
        ("total (gRPC + physics + stores)", &mut totals),
        ("  ProcessTick call (gRPC + physics)", &mut physics_calls),
        ("  engine step", &mut steps),
        ("  state + world write to Redis", &mut publishes),
        ("  commands read + applied", &mut commands),
        ("  tick log (PostgreSQL) + stream", &mut records),
    ] {
        values.sort_by(f64::total_cmp);
        println!(
            "{name:<36} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            percentile(values, 0.5),
            percentile(values, 0.95),
            percentile(values, 0.99),
            values.last().copied().unwrap_or_default()
        );
    }
    Ok(())
}
