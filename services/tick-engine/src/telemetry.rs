//! The tick loop's Prometheus series (names under `galaxy_tick_` and `galaxy_snapshot_`),
//! recorded through the `metrics` facade: whichever recorder the process installed exports them
//! (`galaxy_runtime::metrics_handle`), and without one they cost nothing.

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

use crate::tick_loop::{TickRecord, TickStatus};

/// Describes the series and exports the counters at zero, so a scrape shows every series
/// (an absent counter reads as "no data", not as "none happened").
pub(crate) fn describe() {
    describe_counter!("galaxy_ticks_total", "Ticks completed by this tick-engine.");
    describe_histogram!(
        "galaxy_tick_phase_seconds",
        Unit::Seconds,
        "Wall time of each phase of a tick inside physics."
    );
    describe_histogram!("galaxy_tick_duration_seconds", Unit::Seconds, "Wall time of a whole tick, request to answer.");
    describe_histogram!("galaxy_tick_start_lag_seconds", Unit::Seconds, "How late each tick started.");
    describe_counter!("galaxy_tick_catch_up_ticks_total", "Ticks run back to back to catch up after an overrun.");
    describe_gauge!("galaxy_tick_slipped_game_seconds", Unit::Seconds, "Game time given up beyond the catch-up bound.");
    describe_gauge!("galaxy_tick_ticks_behind", "Whole periods the loop was behind at the last tick.");
    describe_gauge!("galaxy_tick_actual_rate_hz", "Ticks per second over the last ten seconds.");
    describe_gauge!("galaxy_tick_configured_rate_hz", "Configured tick rate.");
    describe_gauge!("galaxy_tick_time_scale", "Configured game seconds per wall second.");
    describe_gauge!("galaxy_tick_paused", "1 while ticking is paused.");
    describe_gauge!("galaxy_tick_number", "Last tick completed.");
    describe_gauge!("galaxy_tick_game_time_seconds", Unit::Seconds, "Game time after the last tick.");
    describe_gauge!("galaxy_tick_energy_drift", "Relative energy drift of the bodies since the world began.");
    describe_gauge!("galaxy_tick_momentum_drift", "Relative momentum drift of the bodies since the world began.");
    describe_counter!("galaxy_tick_failures_total", "Ticks physics refused (retried).");
    describe_counter!("galaxy_tick_unrecorded_total", "Ticks that happened but could not be recorded.");
    describe_counter!("galaxy_snapshots_total", "Scheduled snapshots saved.");
    describe_counter!("galaxy_snapshot_failures_total", "Scheduled snapshots that failed.");
    describe_gauge!("galaxy_snapshot_age_seconds", Unit::Seconds, "Wall time since the last snapshot (or start).");
    for name in [
        "galaxy_ticks_total",
        "galaxy_tick_catch_up_ticks_total",
        "galaxy_tick_failures_total",
        "galaxy_tick_unrecorded_total",
        "galaxy_snapshots_total",
        "galaxy_snapshot_failures_total",
    ] {
        counter!(name).increment(0);
    }
    gauge!("galaxy_tick_slipped_game_seconds").set(0.0);
}

/// Records one completed tick and the status after it.
pub(crate) fn tick_completed(record: &TickRecord, status: &TickStatus, snapshot_age_seconds: f64) {
    counter!("galaxy_ticks_total").increment(1);
    histogram!("galaxy_tick_phase_seconds", "phase" => "commands").record(record.phases.commands_seconds);
    histogram!("galaxy_tick_phase_seconds", "phase" => "step").record(record.phases.step_seconds);
    histogram!("galaxy_tick_phase_seconds", "phase" => "publish").record(record.phases.publish_seconds);
    // The whole round trip to physics: the phases plus gRPC and whatever physics did between them.
    histogram!("galaxy_tick_duration_seconds").record(record.physics_seconds);
    histogram!("galaxy_tick_start_lag_seconds").record(record.start_lag_seconds);
    if record.catch_up {
        counter!("galaxy_tick_catch_up_ticks_total").increment(1);
    }
    gauge!("galaxy_tick_number").set(record.tick as f64);
    gauge!("galaxy_tick_game_time_seconds").set(record.game_time);
    gauge!("galaxy_tick_ticks_behind").set(status.ticks_behind as f64);
    gauge!("galaxy_tick_actual_rate_hz").set(status.actual_tick_rate_hz);
    gauge!("galaxy_tick_energy_drift").set(record.energy_drift);
    gauge!("galaxy_tick_momentum_drift").set(record.momentum_drift);
    gauge!("galaxy_snapshot_age_seconds").set(snapshot_age_seconds);
    settings_changed(status);
}

/// Records the configured rate, scale and pause state.
pub(crate) fn settings_changed(status: &TickStatus) {
    gauge!("galaxy_tick_configured_rate_hz").set(status.tick_rate_hz);
    gauge!("galaxy_tick_time_scale").set(status.time_scale);
    gauge!("galaxy_tick_paused").set(if status.paused { 1.0 } else { 0.0 });
}

/// Records game time given up beyond the catch-up bound (a running total: a gauge, since
/// Prometheus counters in this facade are whole numbers).
pub(crate) fn slipped(total_slipped_game_seconds: f64) {
    gauge!("galaxy_tick_slipped_game_seconds").set(total_slipped_game_seconds);
}

/// Records a tick physics refused.
pub(crate) fn tick_failed() {
    counter!("galaxy_tick_failures_total").increment(1);
}

/// Records a tick that happened but could not be recorded in the stores.
pub(crate) fn tick_unrecorded() {
    counter!("galaxy_tick_unrecorded_total").increment(1);
}

/// Records a scheduled snapshot, saved or failed.
pub(crate) fn snapshot(saved: bool) {
    if saved {
        counter!("galaxy_snapshots_total").increment(1);
        gauge!("galaxy_snapshot_age_seconds").set(0.0);
    } else {
        counter!("galaxy_snapshot_failures_total").increment(1);
    }
}
