//! `galaxy`: the whole game in one process. Until the services land this runs the engine's
//! game scene live — the J2000 solar system with a fleet of ships — ticking in real time and
//! printing what the admin dashboard will show: tick timing, energy drift and a ship's orbit.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use galaxy_engine::SimParams;
use galaxy_sim::scenes;

#[derive(Debug, Parser)]
#[command(about = "Run the Galaxy game scene live (solar system + ships)")]
struct Arguments {
    /// Ticks per second of wall time.
    #[arg(long, default_value_t = 1.0)]
    tick_rate: f64,
    /// Game seconds per wall second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Ships placed in low Earth orbit.
    #[arg(long, default_value_t = 1_000)]
    ships: usize,
    /// Stop after this many ticks (default: run until interrupted).
    #[arg(long)]
    ticks: Option<u64>,
}

fn main() -> Result<()> {
    let arguments = Arguments::parse();
    if !(0.1..=100.0).contains(&arguments.tick_rate) {
        bail!("--tick-rate must be within 0.1..=100 Hz, got {}", arguments.tick_rate);
    }
    if !(0.1..=100.0).contains(&arguments.time_scale) {
        bail!("--time-scale must be within 0.1..=100, got {}", arguments.time_scale);
    }
    let params = SimParams::default();
    let (mut simulation, catalog) = scenes::solar_system_simulation(params).context("building the solar system")?;
    let earth = catalog.iter().position(|body| body.name == "Earth").context("the catalog has no Earth")?;
    scenes::add_orbiting_ships(&mut simulation, earth, arguments.ships, 1).context("placing ships")?;

    let game_seconds_per_tick = arguments.time_scale / arguments.tick_rate;
    let substeps = (game_seconds_per_tick / params.substep).round().max(1.0) as u32;
    let tick_period = Duration::from_secs_f64(1.0 / arguments.tick_rate);
    println!(
        "galaxy: {} bodies, {} ships, {} kernel; {} Hz, {}x time ({} substeps of {} s per tick). Ctrl-C stops.",
        simulation.bodies().len(),
        simulation.ships().len(),
        simulation.kernel_path(),
        arguments.tick_rate,
        arguments.time_scale,
        substeps,
        params.substep
    );
    let reference = simulation.diagnostics();
    let mut next_tick = Instant::now();
    let mut tick = 0_u64;
    while arguments.ticks.is_none_or(|limit| tick < limit) {
        let started = Instant::now();
        let report = simulation.step(substeps);
        let step_time = started.elapsed();
        tick += 1;
        let drift = simulation.diagnostics().drift_since(&reference);
        let orbit = match simulation.ship_orbit(0) {
            Ok(Some((body, elements))) => {
                let radius = simulation.bodies().radius()[body];
                format!(
                    "ship 0 around {}: periapsis {:.0} km, apoapsis {}",
                    catalog[body].name,
                    (elements.periapsis - radius) / 1e3,
                    elements
                        .apoapsis
                        .map_or("escape".to_owned(), |apoapsis| format!("{:.0} km", (apoapsis - radius) / 1e3))
                )
            }
            _ => "no ships".to_owned(),
        };
        println!(
            "tick {tick:>6} | game time {:>9.1} s | step {:>7.3} ms | energy drift {:.1e} | {} events | {orbit}",
            simulation.time(),
            step_time.as_secs_f64() * 1e3,
            drift.energy,
            report.events.len()
        );
        next_tick += tick_period;
        if let Some(wait) = next_tick.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else {
            // Behind schedule: start the next tick now rather than bunching up ticks.
            next_tick = Instant::now();
        }
    }
    Ok(())
}
