//! The JSON of the player protocol (docs/protocol.md): what REST answers and WebSocket messages
//! carry, and the conversions from the services' protobuf messages and from the state physics
//! publishes after every tick. Units are SI; vectors are `[x, y, z]`, quaternions `[w, x, y, z]`.

use galaxy_engine::ShipClass;
use galaxy_proto::{convert, v1};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A player as others may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlayerJson {
    /// Account id.
    pub id: String,
    /// Username as registered.
    pub username: String,
    /// `player` or `admin`.
    pub role: String,
}

/// A session just issued (register, login, refresh).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionJson {
    /// Bearer token; shown once.
    pub token: String,
    /// When it stops being valid, Unix seconds.
    pub expires_at: i64,
    /// Whose it is.
    pub player: PlayerJson,
    /// The player's current ship.
    pub ship_id: Option<String>,
}

/// The game configuration players see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigJson {
    /// Ticks per wall-clock second.
    pub tick_rate_hz: f64,
    /// Game seconds per wall-clock second.
    pub time_scale: f64,
    /// Whether new accounts may register.
    pub registrations_open: bool,
    /// The body new ships orbit.
    pub spawn_body: String,
    /// Altitude of the spawn orbit, m.
    pub spawn_altitude: f64,
    /// Ship classes a player may respawn as.
    pub ship_classes: Vec<String>,
}

/// A body with its catalog data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BodyJson {
    /// Catalog name.
    pub name: String,
    /// `star`, `planet` or `moon`.
    pub kind: String,
    /// The body it orbits; `null` for the Sun.
    pub parent: Option<String>,
    /// Gravitational parameter, m³/s².
    pub gm: f64,
    /// Mean radius, m.
    pub radius: f64,
    /// 0xRRGGBB.
    pub color: u32,
    /// Position, m.
    pub position: [f64; 3],
    /// Velocity, m/s.
    pub velocity: [f64; 3],
}

/// `GET /api/bodies`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BodiesJson {
    /// The tick the positions are from.
    pub tick: u64,
    /// Game time of that tick, s.
    pub game_time: f64,
    /// Every body.
    pub bodies: Vec<BodyJson>,
}

/// A body's place in a `state` message (catalog data is in `welcome`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BodyStateJson {
    /// Catalog name.
    pub name: String,
    /// Position, m.
    pub position: [f64; 3],
    /// Velocity, m/s.
    pub velocity: [f64; 3],
}

/// What every player sees of every ship (also exactly what physics publishes per ship).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShipSummaryJson {
    /// Ship id (`ship-7`).
    pub id: String,
    /// Owner's player id.
    pub owner: String,
    /// Display name.
    pub name: String,
    /// Ship class.
    pub class: String,
    /// Position, m.
    pub position: [f64; 3],
    /// Velocity, m/s.
    pub velocity: [f64; 3],
    /// Attitude `[w, x, y, z]`, ship frame to world frame.
    pub attitude: [f64; 4],
    /// Fuel left, kg.
    pub fuel: f64,
    /// Throttle 0..1.
    pub throttle: f64,
    /// `hold`, `prograde`, … (see the protocol).
    pub attitude_mode: String,
    /// `flying`, `landed` or `crashed`.
    pub status: String,
}

/// What identifies a ship and never changes while it exists: sent in `roster` messages, once per
/// change of the set of ships, not in every `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipIdentityJson {
    /// Ship id (`ship-7`).
    pub id: String,
    /// Owner's player id.
    pub owner: String,
    /// Display name.
    pub name: String,
    /// Ship class.
    pub class: String,
}

impl ShipIdentityJson {
    /// The identity part of a summary.
    #[must_use]
    pub fn of(summary: &ShipSummaryJson) -> ShipIdentityJson {
        ShipIdentityJson {
            id: summary.id.clone(),
            owner: summary.owner.clone(),
            name: summary.name.clone(),
            class: summary.class.clone(),
        }
    }

    /// Whether `summary` is this ship, as it was when this identity was taken.
    #[must_use]
    pub fn matches(&self, summary: &ShipSummaryJson) -> bool {
        self.id == summary.id && self.owner == summary.owner && self.name == summary.name && self.class == summary.class
    }
}

/// The pilot's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct ControlJson {
    /// 0..1.
    pub throttle: f64,
    /// -1..1.
    pub pitch: f64,
    /// -1..1.
    pub yaw: f64,
    /// -1..1.
    pub roll: f64,
}

impl From<ControlJson> for v1::ShipControl {
    fn from(control: ControlJson) -> Self {
        v1::ShipControl { throttle: control.throttle, pitch: control.pitch, yaw: control.yaw, roll: control.roll }
    }
}

/// What a ship in `target` attitude mode points at: `{"body": "Moon"}` or `{"ship": "ship-3"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetJson {
    /// A body, by name.
    Body(String),
    /// A ship, by id.
    Ship(String),
}

impl From<TargetJson> for v1::AttitudeTarget {
    fn from(target: TargetJson) -> Self {
        v1::AttitudeTarget {
            target: Some(match target {
                TargetJson::Body(name) => v1::attitude_target::Target::BodyName(name),
                TargetJson::Ship(id) => v1::attitude_target::Target::ShipId(id),
            }),
        }
    }
}

/// The player's own ship in full.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ShipJson {
    /// What everyone sees.
    #[serde(flatten)]
    pub summary: ShipSummaryJson,
    /// Body rates, rad/s, ship frame.
    pub angular_velocity: [f64; 3],
    /// Mass without fuel, kg.
    pub dry_mass: f64,
    /// Full tanks, kg.
    pub fuel_capacity: f64,
    /// Thrust at full throttle, N.
    pub max_thrust: f64,
    /// Exhaust velocity, m/s.
    pub exhaust_velocity: f64,
    /// Velocity change the fuel left can give, m/s (Tsiolkovsky).
    pub delta_v: f64,
    /// Current inputs.
    pub control: ControlJson,
    /// Attitude target, if any.
    pub target: Option<TargetJson>,
    /// The body a landed or crashed ship rests on.
    pub surface_body: Option<String>,
}

/// What a ship's full view adds to its summary; from physics (`GetAllShips`, `GetShipState`).
#[derive(Debug, Clone, PartialEq)]
pub struct ShipDetails {
    /// Body rates, rad/s.
    pub angular_velocity: [f64; 3],
    /// Mass without fuel, kg.
    pub dry_mass: f64,
    /// Full tanks, kg.
    pub fuel_capacity: f64,
    /// Current inputs.
    pub control: ControlJson,
    /// Attitude target.
    pub target: Option<TargetJson>,
    /// Surface body.
    pub surface_body: Option<String>,
}

impl ShipDetails {
    /// The details of a physics ship message.
    #[must_use]
    pub fn from_proto(ship: &v1::ShipState) -> ShipDetails {
        let control = ship.control.unwrap_or_default();
        ShipDetails {
            angular_velocity: vector(ship.angular_velocity.as_ref()),
            dry_mass: ship.dry_mass,
            fuel_capacity: ship.fuel_capacity,
            control: ControlJson {
                throttle: control.throttle,
                pitch: control.pitch,
                yaw: control.yaw,
                roll: control.roll,
            },
            target: ship.target.as_ref().and_then(|target| match target.target.as_ref()? {
                v1::attitude_target::Target::BodyName(name) => Some(TargetJson::Body(name.clone())),
                v1::attitude_target::Target::ShipId(id) => Some(TargetJson::Ship(id.clone())),
            }),
            surface_body: Some(ship.surface_body.clone()).filter(|name| !name.is_empty()),
        }
    }
}

impl ShipJson {
    /// The full view: a summary (from the published state or physics) plus its details.
    #[must_use]
    pub fn new(summary: ShipSummaryJson, details: &ShipDetails) -> ShipJson {
        let class = ShipClass::by_name(&summary.class);
        let exhaust_velocity = class.map_or(0.0, |class| class.exhaust_velocity());
        let delta_v = if details.dry_mass > 0.0 {
            exhaust_velocity * ((details.dry_mass + summary.fuel.max(0.0)) / details.dry_mass).ln()
        } else {
            0.0
        };
        ShipJson {
            angular_velocity: details.angular_velocity,
            dry_mass: details.dry_mass,
            fuel_capacity: details.fuel_capacity,
            max_thrust: class.map_or(0.0, |class| class.max_thrust),
            exhaust_velocity,
            delta_v,
            control: details.control,
            target: details.target.clone(),
            surface_body: details.surface_body.clone(),
            summary,
        }
    }

    /// The full view of a physics ship message.
    #[must_use]
    pub fn from_proto(ship: &v1::ShipState) -> ShipJson {
        ShipJson::new(summary_from_proto(ship), &ShipDetails::from_proto(ship))
    }
}

/// The summary of a physics ship message.
#[must_use]
pub fn summary_from_proto(ship: &v1::ShipState) -> ShipSummaryJson {
    let attitude = ship.attitude.unwrap_or(v1::Quaternion { w: 1.0, x: 0.0, y: 0.0, z: 0.0 });
    ShipSummaryJson {
        id: ship.ship_id.clone(),
        owner: ship.owner_id.clone(),
        name: ship.name.clone(),
        class: ship.class_name.clone(),
        position: vector(ship.position.as_ref()),
        velocity: vector(ship.velocity.as_ref()),
        attitude: [attitude.w, attitude.x, attitude.y, attitude.z],
        fuel: ship.fuel_mass,
        throttle: ship.control.map_or(0.0, |control| control.throttle),
        attitude_mode: match convert::attitude_mode(ship.attitude_mode) {
            Ok(Some(mode)) => mode.name().to_owned(),
            _ => "hold".to_owned(),
        },
        status: match v1::ShipStatus::try_from(ship.status) {
            Ok(v1::ShipStatus::Landed) => "landed",
            Ok(v1::ShipStatus::Crashed) => "crashed",
            _ => "flying",
        }
        .to_owned(),
    }
}

fn vector(value: Option<&v1::Vector3>) -> [f64; 3] {
    value.map_or([0.0; 3], |value| [value.x, value.y, value.z])
}

/// A body of the catalog, at the given position and velocity.
#[must_use]
pub fn body_from_proto(body: &v1::BodyState, position: [f64; 3], velocity: [f64; 3]) -> BodyJson {
    BodyJson {
        name: body.name.clone(),
        kind: match v1::BodyKind::try_from(body.kind) {
            Ok(v1::BodyKind::Star) => "star",
            Ok(v1::BodyKind::Moon) => "moon",
            _ => "planet",
        }
        .to_owned(),
        parent: Some(body.parent.clone()).filter(|parent| !parent.is_empty()),
        gm: body.gm,
        radius: body.radius,
        color: body.color,
        position,
        velocity,
    }
}

/// A player identity from the players service.
#[must_use]
pub fn player_from_proto(player: &v1::PlayerIdentity) -> PlayerJson {
    PlayerJson {
        id: player.player_id.clone(),
        username: player.username.clone(),
        role: match v1::Role::try_from(player.role) {
            Ok(v1::Role::Admin) => "admin",
            _ => "player",
        }
        .to_owned(),
    }
}

/// A session from the players service.
#[must_use]
pub fn session_from_proto(session: &v1::Session) -> SessionJson {
    let player = session.player.clone().unwrap_or_default();
    SessionJson {
        token: session.token.clone(),
        expires_at: session.expires_at_unix,
        player: player_from_proto(&player),
        ship_id: Some(player.ship_id).filter(|id| !id.is_empty()),
    }
}

/// `GET /api/config`.
#[must_use]
pub fn config_from_proto(config: &v1::GameConfig) -> ConfigJson {
    ConfigJson {
        tick_rate_hz: config.tick_rate_hz,
        time_scale: config.time_scale,
        registrations_open: config.registrations_open,
        spawn_body: config.spawn_body.clone(),
        spawn_altitude: config.spawn_altitude,
        ship_classes: ShipClass::ALL.iter().map(|class| class.name.to_owned()).collect(),
    }
}

/// `GET /api/ships`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipsJson {
    /// The tick the ships are from.
    pub tick: u64,
    /// Game time of that tick, s.
    pub game_time: f64,
    /// Every ship.
    pub ships: Vec<ShipSummaryJson>,
}

/// `GET /api/me`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeJson {
    /// Who the token belongs to.
    pub player: PlayerJson,
    /// Their current ship, if it is flying.
    pub ship: Option<ShipJson>,
}

/// One point of a predicted path.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionPointJson {
    /// Absolute game time of the point, s (the clock of `game_time` in states, not seconds from now).
    pub time: f64,
    /// World position, m.
    pub position: [f64; 3],
    /// Position relative to the reference body's predicted position, m.
    pub relative_position: [f64; 3],
}

/// Osculating orbital elements around the reference body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ElementsJson {
    /// The body orbited.
    pub reference_body: String,
    /// m (negative when unbound).
    pub semi_major_axis: f64,
    /// Eccentricity.
    pub eccentricity: f64,
    /// rad, to the J2000 ecliptic.
    pub inclination: f64,
    /// Periapsis distance from the body's centre, m.
    pub periapsis: f64,
    /// Apoapsis distance, m; `null` when unbound.
    pub apoapsis: Option<f64>,
    /// Period, s; `null` when unbound.
    pub period: Option<f64>,
}

/// `GET /api/ships/{id}/prediction`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionJson {
    /// The body the path is drawn around.
    pub reference_body: String,
    /// The path.
    pub points: Vec<PredictionPointJson>,
    /// Orbit around the reference body; `null` when there is none.
    pub elements: Option<ElementsJson>,
}

impl PredictionJson {
    /// From a physics prediction.
    #[must_use]
    pub fn from_proto(prediction: &v1::PredictTrajectoryResponse) -> PredictionJson {
        PredictionJson {
            reference_body: prediction.reference_body.clone(),
            points: prediction
                .points
                .iter()
                .map(|point| PredictionPointJson {
                    time: point.time,
                    position: vector(point.position.as_ref()),
                    relative_position: vector(point.relative_position.as_ref()),
                })
                .collect(),
            elements: prediction.elements.as_ref().map(|elements| ElementsJson {
                reference_body: elements.reference_body.clone(),
                semi_major_axis: elements.semi_major_axis,
                eccentricity: elements.eccentricity,
                inclination: elements.inclination,
                periapsis: elements.periapsis,
                apoapsis: elements.apoapsis,
                period: elements.period,
            }),
        }
    }
}

/// `POST /api/auth/register` and `/login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CredentialsJson {
    /// 3–20 letters, digits or `_`.
    pub username: String,
    /// 8–128 characters.
    pub password: String,
}

/// `POST /api/ships/{id}/respawn`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RespawnJson {
    /// `fast_frigate` or `cargo_hauler`.
    pub class: String,
}

/// The real-time state physics publishes after every tick (`World::published_state`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishedState {
    /// The tick it is the state after.
    pub tick: u64,
    /// Game time, s.
    pub game_time: f64,
    /// Every body.
    pub bodies: Vec<BodyStateJson>,
    /// Every ship.
    pub ships: Vec<ShipSummaryJson>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_serialize_as_the_protocol_says() {
        let text = serde_json::to_string(&TargetJson::Body("Moon".into())).unwrap_or_default();
        assert_eq!(text, r#"{"body":"Moon"}"#);
        let parsed: TargetJson =
            serde_json::from_str(r#"{"ship":"ship-3"}"#).unwrap_or(TargetJson::Body(String::new()));
        assert_eq!(parsed, TargetJson::Ship("ship-3".into()));
    }

    #[test]
    fn a_full_ship_has_the_summary_fields_flat_and_its_delta_v() {
        let ship = v1::ShipState {
            ship_id: "ship-1".into(),
            class_name: "fast_frigate".into(),
            dry_mass: 8_000.0,
            fuel_mass: 15_000.0,
            fuel_capacity: 15_000.0,
            status: v1::ShipStatus::Flying as i32,
            attitude_mode: v1::AttitudeMode::Prograde as i32,
            ..v1::ShipState::default()
        };
        let json = serde_json::to_value(ShipJson::from_proto(&ship)).unwrap_or_default();
        assert_eq!(json["id"], "ship-1");
        assert_eq!(json["attitude_mode"], "prograde");
        assert_eq!(json["target"], serde_json::Value::Null);
        let expected = ShipClass::FAST_FRIGATE.exhaust_velocity() * (23_000.0_f64 / 8_000.0).ln();
        assert!((json["delta_v"].as_f64().unwrap_or_default() - expected).abs() < 1e-6);
    }
}
