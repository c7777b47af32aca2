//! Proto ⇄ domain conversion, with validation on the way in: a request that converts is safe
//! to hand to the engine (no NaN, no out-of-range input, no missing field), and one that does
//! not becomes `INVALID_ARGUMENT` with a message naming the field.

use galaxy_engine::{DQuat, DVec3, EngineError, PredictionParams};
use thiserror::Error;

use crate::v1;

/// Why a request could not be converted. Maps to `INVALID_ARGUMENT`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConversionError {
    /// A required field was absent.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A number was NaN or infinite.
    #[error("{field} must be finite, got {value}")]
    NonFinite {
        /// Which field.
        field: &'static str,
        /// The value sent.
        value: f64,
    },
    /// A number was outside its allowed range.
    #[error("{field} must be within {min}..={max}, got {value}")]
    OutOfRange {
        /// Which field.
        field: &'static str,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// The value sent.
        value: f64,
    },
    /// An enum field carried a value this version does not know.
    #[error("{field} has unknown value {value}")]
    UnknownEnum {
        /// Which field.
        field: &'static str,
        /// The value sent.
        value: i32,
    },
    /// The engine refused the value (its message says why).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<ConversionError> for tonic::Status {
    fn from(error: ConversionError) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}

fn finite(field: &'static str, value: f64) -> Result<f64, ConversionError> {
    if value.is_finite() { Ok(value) } else { Err(ConversionError::NonFinite { field, value }) }
}

fn within(field: &'static str, value: f64, min: f64, max: f64) -> Result<f64, ConversionError> {
    finite(field, value)?;
    if (min..=max).contains(&value) { Ok(value) } else { Err(ConversionError::OutOfRange { field, min, max, value }) }
}

/// A required, finite vector.
pub fn vector(field: &'static str, value: Option<&v1::Vector3>) -> Result<DVec3, ConversionError> {
    let value = value.ok_or(ConversionError::Missing(field))?;
    Ok(DVec3::new(finite(field, value.x)?, finite(field, value.y)?, finite(field, value.z)?))
}

impl From<DVec3> for v1::Vector3 {
    fn from(value: DVec3) -> Self {
        Self { x: value.x, y: value.y, z: value.z }
    }
}

impl From<DQuat> for v1::Quaternion {
    fn from(value: DQuat) -> Self {
        Self { w: value.w, x: value.x, y: value.y, z: value.z }
    }
}

/// The pilot's inputs, validated by the engine's own rules (throttle 0..1, rotation −1..1).
pub fn ship_control(value: Option<&v1::ShipControl>) -> Result<galaxy_engine::ShipControl, ConversionError> {
    let value = value.ok_or(ConversionError::Missing("control"))?;
    let control =
        galaxy_engine::ShipControl { throttle: value.throttle, pitch: value.pitch, yaw: value.yaw, roll: value.roll };
    control.validate()?;
    Ok(control)
}

impl From<galaxy_engine::ShipControl> for v1::ShipControl {
    fn from(value: galaxy_engine::ShipControl) -> Self {
        Self { throttle: value.throttle, pitch: value.pitch, yaw: value.yaw, roll: value.roll }
    }
}

/// An attitude mode; `UNSPECIFIED` means "leave it as it is" (`None`).
pub fn attitude_mode(value: i32) -> Result<Option<galaxy_engine::AttitudeMode>, ConversionError> {
    use galaxy_engine::AttitudeMode as Mode;
    let mode = v1::AttitudeMode::try_from(value)
        .map_err(|_| ConversionError::UnknownEnum { field: "attitude_mode", value })?;
    Ok(match mode {
        v1::AttitudeMode::Unspecified => None,
        v1::AttitudeMode::Hold => Some(Mode::Hold),
        v1::AttitudeMode::Prograde => Some(Mode::Prograde),
        v1::AttitudeMode::Retrograde => Some(Mode::Retrograde),
        v1::AttitudeMode::Normal => Some(Mode::Normal),
        v1::AttitudeMode::Antinormal => Some(Mode::Antinormal),
        v1::AttitudeMode::RadialIn => Some(Mode::RadialIn),
        v1::AttitudeMode::RadialOut => Some(Mode::RadialOut),
        v1::AttitudeMode::Target => Some(Mode::Target),
    })
}

impl From<galaxy_engine::AttitudeMode> for v1::AttitudeMode {
    fn from(value: galaxy_engine::AttitudeMode) -> Self {
        use galaxy_engine::AttitudeMode as Mode;
        match value {
            Mode::Hold => Self::Hold,
            Mode::Prograde => Self::Prograde,
            Mode::Retrograde => Self::Retrograde,
            Mode::Normal => Self::Normal,
            Mode::Antinormal => Self::Antinormal,
            Mode::RadialIn => Self::RadialIn,
            Mode::RadialOut => Self::RadialOut,
            Mode::Target => Self::Target,
        }
    }
}

impl From<galaxy_engine::ShipStatus> for v1::ShipStatus {
    fn from(value: galaxy_engine::ShipStatus) -> Self {
        match value {
            galaxy_engine::ShipStatus::Flying => Self::Flying,
            galaxy_engine::ShipStatus::Landed => Self::Landed,
            galaxy_engine::ShipStatus::Crashed => Self::Crashed,
        }
    }
}

/// A validated `ProcessTick` request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickRequest {
    /// The tick number being produced.
    pub tick: u64,
    /// Game time to advance, s.
    pub game_seconds: f64,
    /// Engine substeps to split it into.
    pub substeps: u32,
}

/// Most substeps one tick may ask for: bounds the work of one request.
pub const MAX_SUBSTEPS_PER_TICK: u32 = 100_000;

/// Validates a `ProcessTick` request.
pub fn tick_request(request: &v1::ProcessTickRequest) -> Result<TickRequest, ConversionError> {
    within("game_seconds", request.game_seconds, f64::MIN_POSITIVE, 1e6)?;
    within("substeps", f64::from(request.substeps), 1.0, f64::from(MAX_SUBSTEPS_PER_TICK))?;
    Ok(TickRequest { tick: request.tick, game_seconds: request.game_seconds, substeps: request.substeps })
}

/// Validates a `PredictTrajectory` request into the engine's parameters.
pub fn prediction_params(request: &v1::PredictTrajectoryRequest) -> Result<PredictionParams, ConversionError> {
    let horizon = within("horizon", request.horizon, f64::MIN_POSITIVE, f64::MAX)?;
    let step = within("step", request.step, f64::MIN_POSITIVE, f64::MAX)?;
    within("horizon / step", (horizon / step).ceil(), 1.0, galaxy_engine::MAX_PREDICTION_STEPS)?;
    within("samples", f64::from(request.samples), 2.0, 10_000.0)?;
    Ok(PredictionParams { horizon, step, samples: request.samples as usize })
}

/// Tick rate limits, Hz.
pub const TICK_RATE_RANGE: (f64, f64) = (0.1, 100.0);
/// Time scale limits.
pub const TIME_SCALE_RANGE: (f64, f64) = (0.1, 100.0);

/// A tick rate within [`TICK_RATE_RANGE`].
pub fn tick_rate(value: f64) -> Result<f64, ConversionError> {
    within("tick_rate_hz", value, TICK_RATE_RANGE.0, TICK_RATE_RANGE.1)
}

/// A time scale within [`TIME_SCALE_RANGE`].
pub fn time_scale(value: f64) -> Result<f64, ConversionError> {
    within("time_scale", value, TIME_SCALE_RANGE.0, TIME_SCALE_RANGE.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_must_be_present_and_finite() {
        let good = v1::Vector3 { x: 1.0, y: -2.0, z: 3.5 };
        assert_eq!(vector("position", Some(&good)), Ok(DVec3::new(1.0, -2.0, 3.5)));
        assert_eq!(vector("position", None), Err(ConversionError::Missing("position")));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let error = vector("position", Some(&v1::Vector3 { x: 0.0, y: bad, z: 0.0 })).expect_err("NaN accepted");
            assert!(matches!(error, ConversionError::NonFinite { field: "position", .. }), "{error}");
        }
        assert_eq!(v1::Vector3::from(DVec3::new(1.0, 2.0, 3.0)), good_from(1.0, 2.0, 3.0));
    }

    fn good_from(x: f64, y: f64, z: f64) -> v1::Vector3 {
        v1::Vector3 { x, y, z }
    }

    #[test]
    fn controls_out_of_range_or_nan_are_refused_with_the_field_named() {
        let control = v1::ShipControl { throttle: 0.5, pitch: -1.0, yaw: 0.0, roll: 1.0 };
        assert!(ship_control(Some(&control)).is_ok());
        for (bad, field) in [
            (v1::ShipControl { throttle: 1.5, ..control }, "throttle"),
            (v1::ShipControl { throttle: f64::NAN, ..control }, "throttle"),
            (v1::ShipControl { yaw: -2.0, ..control }, "yaw"),
        ] {
            let status = tonic::Status::from(ship_control(Some(&bad)).expect_err("bad control accepted"));
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(status.message().contains(field), "{}", status.message());
        }
        assert_eq!(ship_control(None), Err(ConversionError::Missing("control")));
    }

    #[test]
    fn attitude_modes_round_trip_and_unknown_values_are_refused() {
        for mode in galaxy_engine::AttitudeMode::ALL {
            let wire = v1::AttitudeMode::from(mode) as i32;
            assert_eq!(attitude_mode(wire), Ok(Some(mode)));
        }
        assert_eq!(attitude_mode(0), Ok(None));
        assert_eq!(attitude_mode(99), Err(ConversionError::UnknownEnum { field: "attitude_mode", value: 99 }));
    }

    #[test]
    fn tick_and_prediction_requests_are_bounded() {
        let tick = v1::ProcessTickRequest { tick: 7, game_seconds: 1.0, substeps: 10 };
        assert_eq!(tick_request(&tick), Ok(TickRequest { tick: 7, game_seconds: 1.0, substeps: 10 }));
        for bad in [
            v1::ProcessTickRequest { game_seconds: 0.0, ..tick },
            v1::ProcessTickRequest { game_seconds: f64::NAN, ..tick },
            v1::ProcessTickRequest { substeps: 0, ..tick },
            v1::ProcessTickRequest { substeps: MAX_SUBSTEPS_PER_TICK + 1, ..tick },
        ] {
            assert!(tick_request(&bad).is_err(), "{bad:?}");
        }
        let prediction =
            v1::PredictTrajectoryRequest { ship_id: "s".into(), horizon: 5400.0, step: 10.0, samples: 120 };
        assert!(prediction_params(&prediction).is_ok());
        for bad in [
            v1::PredictTrajectoryRequest { horizon: -1.0, ..prediction.clone() },
            v1::PredictTrajectoryRequest { step: 0.0, ..prediction.clone() },
            v1::PredictTrajectoryRequest { horizon: 1e12, step: 1.0, ..prediction.clone() },
            v1::PredictTrajectoryRequest { samples: 1, ..prediction.clone() },
        ] {
            assert!(prediction_params(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tick_rate_and_time_scale_limits() {
        assert_eq!(tick_rate(1.0), Ok(1.0));
        assert!(tick_rate(0.05).is_err() && tick_rate(101.0).is_err() && tick_rate(f64::NAN).is_err());
        assert_eq!(time_scale(100.0), Ok(100.0));
        assert!(time_scale(0.0).is_err());
    }
}

/// The simulation id of the ship whose players-service record id is `record_id`: the one
/// convention that ties a player's ship record to the ship physics flies (`ship-<record id>`).
#[must_use]
pub fn ship_id_of_record(record_id: i64) -> String {
    format!("ship-{record_id}")
}

/// The record id in a simulation ship id made by [`ship_id_of_record`]; `None` for any other text.
#[must_use]
pub fn record_of_ship_id(ship_id: &str) -> Option<i64> {
    let digits = ship_id.strip_prefix("ship-")?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&id| id > 0)
}

#[cfg(test)]
mod ship_id_tests {
    use super::*;

    #[test]
    fn ship_ids_round_trip_and_anything_else_is_refused() {
        assert_eq!(ship_id_of_record(42), "ship-42");
        assert_eq!(record_of_ship_id("ship-42"), Some(42));
        for bad in ["42", "ship-", "ship-0", "ship--1", "ship-+1", "ship-1a", "Ship-1", "ship-9999999999999999999"] {
            assert_eq!(record_of_ship_id(bad), None, "{bad:?}");
        }
    }
}
