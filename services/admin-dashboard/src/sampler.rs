//! The live chart's data: the tick-engine's last tick duration by phase, sampled every second
//! and kept for ten minutes, so a browser opening the page sees the recent past at once.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use galaxy_proto::v1;
use serde::Serialize;

use crate::Backends;

/// How often the tick-engine is asked.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Samples kept: ten minutes at one a second.
const SAMPLES_KEPT: usize = 600;

/// One sample of the tick-engine's status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimingSample {
    /// Wall time of the sample, s since the Unix epoch.
    pub at: f64,
    /// The tick the durations belong to.
    pub tick: u64,
    /// The whole tick, s.
    pub total_seconds: f64,
    /// Applying queued commands, s.
    pub commands_seconds: f64,
    /// Stepping the engine, s.
    pub step_seconds: f64,
    /// Publishing the state, s.
    pub publish_seconds: f64,
    /// Ticks per second achieved.
    pub actual_tick_rate_hz: f64,
}

/// The kept samples, oldest first (cheap to clone, shared).
#[derive(Debug, Clone, Default)]
pub struct Timings(Arc<Mutex<VecDeque<TimingSample>>>);

impl Timings {
    /// Adds a sample, dropping the oldest beyond ten minutes' worth. A sample of a tick already
    /// recorded (paused, or slower than one a second) is skipped: the chart shows ticks.
    pub fn record(&self, sample: TimingSample) {
        let mut samples = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if samples.back().is_some_and(|last| last.tick == sample.tick) {
            return;
        }
        if samples.len() == SAMPLES_KEPT {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// Every kept sample, oldest first.
    #[must_use]
    pub fn samples(&self) -> Vec<TimingSample> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().collect()
    }
}

/// Samples until `shutdown` resolves; a tick-engine that does not answer leaves a gap.
pub(crate) async fn run(backends: Backends, timings: Timings, shutdown: impl Future<Output = ()>) {
    let sampling = async {
        let mut interval = tokio::time::interval(SAMPLE_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            let mut client = backends.tick_engine.clone();
            if let Ok(status) = client.get_status(v1::GetStatusRequest {}).await {
                let status = status.into_inner();
                if status.tick > 0 {
                    timings.record(TimingSample {
                        at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |since| since.as_secs_f64()),
                        tick: status.tick,
                        total_seconds: status.last_tick_seconds,
                        commands_seconds: status.commands_seconds,
                        step_seconds: status.step_seconds,
                        publish_seconds: status.publish_seconds,
                        actual_tick_rate_hz: status.actual_tick_rate_hz,
                    });
                }
            }
        }
    };
    tokio::select! {
        () = sampling => {},
        () = shutdown => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tick: u64) -> TimingSample {
        TimingSample {
            at: tick as f64,
            tick,
            total_seconds: 0.01,
            commands_seconds: 0.001,
            step_seconds: 0.008,
            publish_seconds: 0.001,
            actual_tick_rate_hz: 1.0,
        }
    }

    #[test]
    fn keeps_ten_minutes_and_skips_repeated_ticks() {
        let timings = Timings::default();
        timings.record(sample(1));
        timings.record(sample(1));
        assert_eq!(timings.samples().len(), 1);
        for tick in 2..=700 {
            timings.record(sample(tick));
        }
        let samples = timings.samples();
        assert_eq!(samples.len(), SAMPLES_KEPT);
        assert_eq!((samples[0].tick, samples[SAMPLES_KEPT - 1].tick), (101, 700));
    }
}
