//! The game configuration's validation, end to end: the galaxy service's `UpdateConfig` handler
//! (over its in-memory store, so no PostgreSQL), the tick rate and time scale checks the
//! tick-engine's control requests go through, and the tick-engine's `TickSettings`.
//!
//! Never panics; the configuration stays within 0.1–100 (tick rate and time scale) whatever
//! sequence of requests arrives, a refused request changes nothing, and everything one check
//! accepts the others accept too — in particular every tick a valid `TickSettings` produces is a
//! `ProcessTick` request the physics service accepts.
//!
//! Input: frames (see `galaxy_fuzz::frames`); the kind byte picks the message, modulo 4:
//! 0 `UpdateConfigRequest`, 1 `SetTickRateRequest`, 2 `SetTimeScaleRequest` (all protobuf), 3 a
//! `TickSettings` (see `tick_settings`).
#![no_main]

use galaxy_fuzz::{Bytes, EDGE_FLOATS, frames, runtime};
use galaxy_galaxy::{ConfigStore, GalaxyService};
use galaxy_proto::convert;
use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_server::Galaxy;
use galaxy_tick_engine::{TickSettings, plan_catch_up};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use std::time::Duration;
use tonic::Request;

fuzz_target!(|data: &[u8]| {
    let service = GalaxyService::new(ConfigStore::in_memory());
    let mut settings = TickSettings::default();
    for (kind, message) in frames(data) {
        match kind % 4 {
            0 => {
                let Ok(request) = v1::UpdateConfigRequest::decode(message) else { continue };
                update_config(&service, request);
            }
            1 => {
                let Ok(request) = v1::SetTickRateRequest::decode(message) else { continue };
                let value = request.tick_rate_hz;
                let changed = TickSettings { tick_rate_hz: value, ..settings };
                settings = agree(convert::tick_rate(value).map(|_| ()), changed, settings);
            }
            2 => {
                let Ok(request) = v1::SetTimeScaleRequest::decode(message) else { continue };
                let value = request.time_scale;
                let changed = TickSettings { time_scale: value, ..settings };
                settings = agree(convert::time_scale(value).map(|_| ()), changed, settings);
            }
            _ => {
                let (settings, lateness) = tick_settings(&mut Bytes::new(message));
                check_tick_settings(settings, lateness);
            }
        }
    }
});

fn get_config(service: &GalaxyService) -> v1::GameConfig {
    runtime()
        .block_on(service.get_config(Request::new(v1::GetConfigRequest {})))
        .expect("the in-memory store answers")
        .into_inner()
}

fn update_config(service: &GalaxyService, request: v1::UpdateConfigRequest) {
    let before = get_config(service);
    let answer = runtime().block_on(service.update_config(Request::new(request)));
    let after = get_config(service);
    match answer {
        Ok(response) => {
            let response = response.into_inner();
            assert_eq!(response, after, "UpdateConfig answered something other than what it stored");
            if let Some(rate) = request.tick_rate_hz {
                assert_eq!(after.tick_rate_hz.to_bits(), rate.to_bits());
            }
            if let Some(scale) = request.time_scale {
                assert_eq!(after.time_scale.to_bits(), scale.to_bits());
            }
        }
        Err(status) => {
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
            assert_eq!(after, before, "a refused UpdateConfig changed the configuration");
        }
    }
    for value in [after.tick_rate_hz, after.time_scale] {
        assert!((0.1..=100.0).contains(&value), "stored configuration value {value} out of range");
    }
    // What the galaxy service stores, the tick-engine must take.
    let settings =
        TickSettings { tick_rate_hz: after.tick_rate_hz, time_scale: after.time_scale, ..TickSettings::default() };
    assert!(settings.validate().is_ok(), "the tick-engine refuses a stored configuration: {after:?}");
    check_tick_settings(settings, Duration::ZERO);
}

/// The gRPC conversion and the tick-engine's own check must agree; returns the settings in force.
fn agree(
    converted: Result<(), convert::ConversionError>,
    changed: TickSettings,
    current: TickSettings,
) -> TickSettings {
    let validated = changed.validate();
    assert_eq!(
        converted.is_ok(),
        validated.is_ok(),
        "conversion {converted:?} but tick-engine {validated:?} for {changed:?}"
    );
    if validated.is_ok() {
        check_tick_settings(changed, Duration::ZERO);
        changed
    } else {
        current
    }
}

/// `TickSettings` from bytes: tick rate and time scale as `u16 / 100` (0 to 655, finely around
/// the 0.1–100 range), the longest substep as `10^(u16 / 4096 − 7)` s (1e-7 to 1e9), catch-up
/// ticks a byte, and a lateness in ms (u16) for the catch-up plan. A `u16` of 0xFFF0 or above
/// stands for one of the edge floats (NaN, ±∞, …).
fn tick_settings(bytes: &mut Bytes<'_>) -> (TickSettings, Duration) {
    let mut value = |map: fn(u16) -> f64| {
        let raw = bytes.u16();
        if raw >= 0xFFF0 { EDGE_FLOATS[usize::from(raw - 0xFFF0)] } else { map(raw) }
    };
    let tick_rate_hz = value(|raw| f64::from(raw) / 100.0);
    let time_scale = value(|raw| f64::from(raw) / 100.0);
    let max_substep = value(|raw| 10_f64.powf(f64::from(raw) / 4096.0 - 7.0));
    let max_catch_up_ticks = u64::from(bytes.u8());
    let lateness = Duration::from_millis(u64::from(bytes.u16()) * 10);
    (TickSettings { tick_rate_hz, time_scale, max_substep, max_catch_up_ticks }, lateness)
}

fn check_tick_settings(settings: TickSettings, lateness: Duration) {
    if settings.validate().is_err() {
        return;
    }
    let period = settings.period();
    assert!(period > Duration::ZERO, "{settings:?}");
    let game_seconds = settings.game_seconds_per_tick();
    let substeps = settings.substeps_per_tick();
    assert!(game_seconds.is_finite() && game_seconds > 0.0 && substeps >= 1, "{settings:?}");
    let tick = v1::ProcessTickRequest { tick: 1, game_seconds, substeps };
    if let Err(error) = convert::tick_request(&tick) {
        panic!("valid tick settings {settings:?} produce ticks physics refuses: {error}");
    }
    let plan = plan_catch_up(lateness, period, settings.max_catch_up_ticks);
    assert_eq!(plan.run_now + plan.skip, plan.ticks_behind);
    assert!(plan.run_now <= settings.max_catch_up_ticks);
}
