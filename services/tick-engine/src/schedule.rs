//! The tick loop's arithmetic, free of clocks and I/O so it can be tested exactly: how much
//! game time a tick covers, how it splits into engine substeps, and what to do when physics
//! overruns (catch up, within a bound, then slip — and count the slip).

use std::time::Duration;

use thiserror::Error;

/// Why a setting was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScheduleError {
    /// A value was outside its allowed range (or not a number).
    #[error("{name} must be within {min}..={max}, got {value}")]
    OutOfRange {
        /// Which setting.
        name: &'static str,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// The value given.
        value: f64,
    },
}

fn within(name: &'static str, value: f64, min: f64, max: f64) -> Result<f64, ScheduleError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ScheduleError::OutOfRange { name, min, max, value })
    }
}

/// The tick loop's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickSettings {
    /// Ticks per second of wall time, 0.1–100. Default 1, as the upstream design.
    pub tick_rate_hz: f64,
    /// Game seconds per wall second, 0.1–100. Default 1 (real time).
    pub time_scale: f64,
    /// Longest engine substep, s. Default 0.1 s: ten substeps per game second keep a low Earth
    /// orbit's energy within 1e-10 per orbit (see the engine's step-size tests).
    pub max_substep: f64,
    /// Most missed ticks run back to back after an overrun before game time is allowed to slip.
    /// Default 10: up to 10 s of catch-up at 1 Hz.
    pub max_catch_up_ticks: u64,
}

impl Default for TickSettings {
    fn default() -> Self {
        Self { tick_rate_hz: 1.0, time_scale: 1.0, max_substep: 0.1, max_catch_up_ticks: 10 }
    }
}

impl TickSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        within("tick rate (Hz)", self.tick_rate_hz, 0.1, 100.0)?;
        within("time scale", self.time_scale, 0.1, 100.0)?;
        within("max substep (s)", self.max_substep, 1e-6, 3600.0)?;
        // NOTE: physics refuses a tick of more substeps than this; settings that need more would
        // stall the game (every tick refused and retried), so they are refused here instead.
        let most = f64::from(galaxy_proto::convert::MAX_SUBSTEPS_PER_TICK);
        within("substeps per tick (time scale / tick rate / max substep)", self.substeps_needed(), 1.0, most)?;
        Ok(())
    }

    /// `game_seconds_per_tick / max_substep` rounded up, before any clamping.
    fn substeps_needed(&self) -> f64 {
        (self.game_seconds_per_tick() / self.max_substep).ceil()
    }

    /// Wall time between ticks.
    #[must_use]
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.tick_rate_hz)
    }

    /// Game time one tick covers: `time_scale / tick_rate`.
    #[must_use]
    pub fn game_seconds_per_tick(&self) -> f64 {
        self.time_scale / self.tick_rate_hz
    }

    /// Substeps per tick: the fewest that keep each one within `max_substep`.
    #[must_use]
    pub fn substeps_per_tick(&self) -> u32 {
        self.substeps_needed().clamp(1.0, f64::from(u32::MAX)) as u32
    }
}

/// What to do after a tick that ended `lateness` after the next tick was due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// Whole ticks that are now overdue (the next one included).
    pub ticks_behind: u64,
    /// Of those, how many to run back to back.
    pub run_now: u64,
    /// Of those, how many to skip: their game time slips.
    pub skip: u64,
}

/// Splits an overrun into ticks to run now and ticks to skip. `lateness` is how long after its
/// due time the next tick is starting (zero when on time).
#[must_use]
pub fn plan_catch_up(lateness: Duration, period: Duration, max_catch_up_ticks: u64) -> CatchUp {
    if lateness < period {
        return CatchUp { ticks_behind: 0, run_now: 0, skip: 0 };
    }
    let ticks_behind = (lateness.as_secs_f64() / period.as_secs_f64()).floor() as u64;
    let run_now = ticks_behind.min(max_catch_up_ticks);
    CatchUp { ticks_behind, run_now, skip: ticks_behind - run_now }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn game_time_and_substeps_follow_rate_and_scale() {
        let settings = TickSettings::default();
        assert_eq!(settings.game_seconds_per_tick(), 1.0);
        assert_eq!(settings.substeps_per_tick(), 10);
        let fast = TickSettings { tick_rate_hz: 10.0, time_scale: 100.0, ..settings };
        assert_eq!(fast.game_seconds_per_tick(), 10.0);
        assert_eq!(fast.substeps_per_tick(), 100);
        let slow = TickSettings { tick_rate_hz: 100.0, time_scale: 0.1, ..settings };
        assert_eq!(slow.substeps_per_tick(), 1);
        assert_eq!(fast.period(), Duration::from_millis(100));
    }

    #[test]
    fn settings_outside_their_ranges_are_refused() {
        for bad in [
            TickSettings { tick_rate_hz: 0.05, ..TickSettings::default() },
            TickSettings { tick_rate_hz: 101.0, ..TickSettings::default() },
            TickSettings { time_scale: f64::NAN, ..TickSettings::default() },
            TickSettings { max_substep: 0.0, ..TickSettings::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert!(TickSettings::default().validate().is_ok());
    }

    #[test]
    fn settings_whose_ticks_physics_would_refuse_are_refused() {
        // Found by fuzz/game_config: 7.62 Hz at 30.75x with 2e-5 s substeps needs 196,182
        // substeps a tick, over physics' limit, so every tick would be refused and retried.
        let too_fine = TickSettings {
            tick_rate_hz: 7.62,
            time_scale: 30.75,
            max_substep: 2.0569911437721343e-5,
            ..TickSettings::default()
        };
        assert!(too_fine.validate().is_err());
        let at_the_limit =
            TickSettings { tick_rate_hz: 1.0, time_scale: 100.0, max_substep: 1e-3, ..TickSettings::default() };
        assert_eq!(at_the_limit.substeps_per_tick(), galaxy_proto::convert::MAX_SUBSTEPS_PER_TICK);
        assert!(at_the_limit.validate().is_ok());
        let slowest_and_fastest = TickSettings { tick_rate_hz: 0.1, time_scale: 100.0, ..TickSettings::default() };
        assert!(slowest_and_fastest.validate().is_ok(), "the default substep allows every rate and scale");
    }

    #[test]
    fn overruns_catch_up_within_the_bound_and_slip_beyond_it() {
        let period = Duration::from_millis(100);
        assert_eq!(
            plan_catch_up(Duration::from_millis(99), period, 10),
            CatchUp { ticks_behind: 0, run_now: 0, skip: 0 }
        );
        assert_eq!(
            plan_catch_up(Duration::from_millis(350), period, 10),
            CatchUp { ticks_behind: 3, run_now: 3, skip: 0 }
        );
        assert_eq!(
            plan_catch_up(Duration::from_secs(5), period, 10),
            CatchUp { ticks_behind: 50, run_now: 10, skip: 40 }
        );
        assert_eq!(
            plan_catch_up(Duration::from_secs(5), period, 0),
            CatchUp { ticks_behind: 50, run_now: 0, skip: 50 }
        );
    }
}
