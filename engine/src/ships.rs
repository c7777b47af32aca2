//! Ships: test particles that feel the bodies' gravity and exert none, with thrust along their
//! attitude, fuel burned by the rocket equation, and attitude modes that steer and hold.
//!
//! Ship frame: +Z is forward (the thrust axis), +Y is up, and (right-handed) +X = +Y × +Z is the
//! pilot's left. Pitch turns about +X, yaw about +Y, roll about +Z, positive by the right-hand
//! rule: +pitch is nose down, +yaw nose left, +roll clockwise as the pilot sees it.
//! Angular velocity is stored in the world frame.

use glam::{DQuat, DVec3};

use crate::error::EngineError;
use crate::params::{STANDARD_GRAVITY, finite, in_range, non_negative, positive};

/// The ship's forward (thrust) axis in its own frame.
pub const SHIP_FORWARD: DVec3 = DVec3::Z;

/// A kind of ship, as data: the game's classes are rows of this, and more can be added.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShipClass {
    /// Stable name (`fast_frigate`, `cargo_hauler`).
    pub name: &'static str,
    /// Mass without fuel, kg. Must be positive.
    pub dry_mass: f64,
    /// Full tanks, kg.
    pub fuel_capacity: f64,
    /// Thrust at full throttle, N.
    pub max_thrust: f64,
    /// Specific impulse, s: exhaust velocity = Isp · g₀.
    pub specific_impulse: f64,
    /// Largest angular acceleration the attitude thrusters give, rad/s².
    pub max_angular_acceleration: f64,
    /// Largest turn rate the attitude controller commands, rad/s.
    pub max_angular_rate: f64,
}

impl ShipClass {
    /// Fast, light, thirsty: the upstream design's default ship.
    pub const FAST_FRIGATE: Self = Self {
        name: "fast_frigate",
        dry_mass: 8_000.0,
        fuel_capacity: 15_000.0,
        max_thrust: 600_000.0,
        specific_impulse: 20_000.0,
        // NOTE: the turn rates are game-design choices, not upstream figures: a frigate flips
        // end over end in about 5 s, a hauler in about 13 s.
        max_angular_acceleration: 0.5,
        max_angular_rate: 0.8,
    };

    /// Heavy and slow to turn, with a large tank.
    pub const CARGO_HAULER: Self = Self {
        name: "cargo_hauler",
        dry_mass: 100_000.0,
        fuel_capacity: 60_000.0,
        max_thrust: 400_000.0,
        specific_impulse: 15_000.0,
        max_angular_acceleration: 0.08,
        max_angular_rate: 0.3,
    };

    /// The built-in classes.
    pub const ALL: [Self; 2] = [Self::FAST_FRIGATE, Self::CARGO_HAULER];

    /// A built-in class by name.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|class| class.name == name)
    }

    /// Exhaust velocity, m/s.
    #[must_use]
    pub fn exhaust_velocity(&self) -> f64 {
        self.specific_impulse * STANDARD_GRAVITY
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), EngineError> {
        positive("ship dry mass", self.dry_mass)?;
        non_negative("ship fuel capacity", self.fuel_capacity)?;
        non_negative("ship max thrust", self.max_thrust)?;
        positive("ship specific impulse", self.specific_impulse)?;
        non_negative("ship max angular acceleration", self.max_angular_acceleration)?;
        non_negative("ship max angular rate", self.max_angular_rate)?;
        Ok(())
    }
}

/// A ship to add, validated on the way in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShipInit {
    /// Its class (masses, thrust, turn rates).
    pub class: ShipClass,
    /// Fuel on board, kg: at most the class's capacity.
    pub fuel_mass: f64,
    /// Position.
    pub position: DVec3,
    /// Velocity.
    pub velocity: DVec3,
    /// Orientation, ship frame to world frame (normalised on the way in).
    pub attitude: DQuat,
}

impl ShipInit {
    /// A ship of `class` with full tanks, facing +Z.
    #[must_use]
    pub fn new(class: ShipClass, position: DVec3, velocity: DVec3) -> Self {
        Self { class, fuel_mass: class.fuel_capacity, position, velocity, attitude: DQuat::IDENTITY }
    }

    /// Rejects NaN/Inf, a bad class, fuel outside the tank and a degenerate attitude.
    pub fn validate(&self) -> Result<(), EngineError> {
        self.class.validate()?;
        in_range("ship fuel mass", self.fuel_mass, 0.0, self.class.fuel_capacity)?;
        for component in self.position.to_array() {
            finite("ship position", component)?;
        }
        for component in self.velocity.to_array() {
            finite("ship velocity", component)?;
        }
        for component in self.attitude.to_array() {
            finite("ship attitude", component)?;
        }
        positive("ship attitude quaternion length", self.attitude.length())?;
        // NOTE: below the smallest normal f64 the squared length loses digits and normalising
        // no longer gives a unit quaternion (found by fuzz/engine_commands: components of 1e-160
        // came out 1 + 6e-6 long), so such a quaternion counts as degenerate, like zero.
        if self.attitude.length_squared() < f64::MIN_POSITIVE {
            return Err(EngineError::NotPositive {
                quantity: "ship attitude quaternion length (squared, as a normal f64)",
                value: self.attitude.length_squared(),
            });
        }
        Ok(())
    }
}

/// The pilot's inputs, validated: throttle 0..1, rotation rates −1..1 of the class's maximum
/// angular acceleration.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ShipControl {
    /// Fraction of full thrust, 0..1.
    pub throttle: f64,
    /// Rotation about +X (positive: nose down), −1..1.
    pub pitch: f64,
    /// Rotation about +Y (nose left), −1..1.
    pub yaw: f64,
    /// Rotation about +Z, −1..1.
    pub roll: f64,
}

impl ShipControl {
    /// Rejects NaN/Inf and out-of-range inputs.
    pub fn validate(&self) -> Result<(), EngineError> {
        in_range("throttle", self.throttle, 0.0, 1.0)?;
        in_range("pitch", self.pitch, -1.0, 1.0)?;
        in_range("yaw", self.yaw, -1.0, 1.0)?;
        in_range("roll", self.roll, -1.0, 1.0)?;
        Ok(())
    }
}

/// What the attitude controller does when the rotation inputs are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum AttitudeMode {
    /// Stop rotating and hold the current orientation.
    #[default]
    Hold = 0,
    /// Point along the velocity relative to the dominant body.
    Prograde = 1,
    /// Point against the velocity relative to the dominant body.
    Retrograde = 2,
    /// Point along the orbit normal (r × v).
    Normal = 3,
    /// Point against the orbit normal.
    Antinormal = 4,
    /// Point at the dominant body.
    RadialIn = 5,
    /// Point away from the dominant body.
    RadialOut = 6,
    /// Point at the target (a body or another ship).
    Target = 7,
}

impl AttitudeMode {
    /// Every mode.
    pub const ALL: [Self; 8] = [
        Self::Hold,
        Self::Prograde,
        Self::Retrograde,
        Self::Normal,
        Self::Antinormal,
        Self::RadialIn,
        Self::RadialOut,
        Self::Target,
    ];

    /// Stable name (`hold`, `prograde`, `radial_in`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Hold => "hold",
            Self::Prograde => "prograde",
            Self::Retrograde => "retrograde",
            Self::Normal => "normal",
            Self::Antinormal => "antinormal",
            Self::RadialIn => "radial_in",
            Self::RadialOut => "radial_out",
            Self::Target => "target",
        }
    }

    /// Parses a name written by [`AttitudeMode::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }

    pub(crate) fn from_u8(value: u8) -> Option<Self> {
        Self::ALL.get(usize::from(value)).copied()
    }

    /// Whether the mode steers relative to the dominant body.
    #[must_use]
    pub fn needs_dominant_body(self) -> bool {
        !matches!(self, Self::Hold | Self::Target)
    }
}

/// What a ship in [`AttitudeMode::Target`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttitudeTarget {
    /// A body, by index.
    Body(usize),
    /// Another ship, by index.
    Ship(usize),
}

/// Whether a ship flies, sits on a surface, or is a wreck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum ShipStatus {
    /// In flight.
    #[default]
    Flying = 0,
    /// Resting on a body's surface (moves with it; thrust away from the surface takes off).
    Landed = 1,
    /// Hit a surface too fast or too tilted: moves with the body, no longer controllable.
    Crashed = 2,
}

impl ShipStatus {
    pub(crate) fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Flying),
            1 => Some(Self::Landed),
            2 => Some(Self::Crashed),
            _ => None,
        }
    }
}

/// Largest vertical speed (m/s) at which touching a surface is a landing rather than a crash.
pub const MAX_LANDING_VERTICAL_SPEED: f64 = 10.0;
/// Largest angle (degrees) between the ship's forward axis and the local vertical for a landing.
pub const MAX_LANDING_TILT_DEGREES: f64 = 37.0;

/// No body: the sentinel in `u32` body columns.
pub(crate) const NO_BODY: u32 = u32::MAX;

/// The ships, as columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ships {
    pub(crate) position_x: Vec<f64>,
    pub(crate) position_y: Vec<f64>,
    pub(crate) position_z: Vec<f64>,
    pub(crate) velocity_x: Vec<f64>,
    pub(crate) velocity_y: Vec<f64>,
    pub(crate) velocity_z: Vec<f64>,
    pub(crate) acceleration_x: Vec<f64>,
    pub(crate) acceleration_y: Vec<f64>,
    pub(crate) acceleration_z: Vec<f64>,
    /// Scratch: negative when the ship is inside some body (see the gravity kernels).
    pub(crate) proximity: Vec<f64>,
    pub(crate) dry_mass: Vec<f64>,
    pub(crate) fuel_mass: Vec<f64>,
    pub(crate) fuel_capacity: Vec<f64>,
    pub(crate) max_thrust: Vec<f64>,
    pub(crate) exhaust_velocity: Vec<f64>,
    pub(crate) max_angular_acceleration: Vec<f64>,
    pub(crate) max_angular_rate: Vec<f64>,
    pub(crate) attitude_w: Vec<f64>,
    pub(crate) attitude_x: Vec<f64>,
    pub(crate) attitude_y: Vec<f64>,
    pub(crate) attitude_z: Vec<f64>,
    pub(crate) angular_velocity_x: Vec<f64>,
    pub(crate) angular_velocity_y: Vec<f64>,
    pub(crate) angular_velocity_z: Vec<f64>,
    pub(crate) throttle: Vec<f64>,
    pub(crate) pitch: Vec<f64>,
    pub(crate) yaw: Vec<f64>,
    pub(crate) roll: Vec<f64>,
    pub(crate) attitude_mode: Vec<AttitudeMode>,
    pub(crate) target: Vec<Option<AttitudeTarget>>,
    pub(crate) status: Vec<ShipStatus>,
    /// The body a landed or crashed ship rests on, else [`NO_BODY`].
    pub(crate) surface_body: Vec<u32>,
    /// Where on that body, relative to its centre.
    pub(crate) surface_offset_x: Vec<f64>,
    pub(crate) surface_offset_y: Vec<f64>,
    pub(crate) surface_offset_z: Vec<f64>,
    /// Whether the ship may need more than a gravity kick and drift this tick (thrust, turning,
    /// resting on a surface). PERF: set by every input that can wake a ship and cleared when a
    /// tick finds it coasting, so planning a tick costs O(active ships), not O(all ships).
    pub(crate) needs_attention: Vec<bool>,
}

/// One ship's state, gathered from the columns (for APIs, not hot loops).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShipState {
    /// Position.
    pub position: DVec3,
    /// Velocity.
    pub velocity: DVec3,
    /// Orientation, ship frame to world frame.
    pub attitude: DQuat,
    /// Angular velocity, world frame, rad/s.
    pub angular_velocity: DVec3,
    /// Dry mass, kg.
    pub dry_mass: f64,
    /// Fuel on board, kg.
    pub fuel_mass: f64,
    /// Tank size, kg.
    pub fuel_capacity: f64,
    /// Full thrust, N.
    pub max_thrust: f64,
    /// Exhaust velocity, m/s.
    pub exhaust_velocity: f64,
    /// Current inputs.
    pub control: ShipControl,
    /// Current attitude mode.
    pub attitude_mode: AttitudeMode,
    /// Current target, if any.
    pub target: Option<AttitudeTarget>,
    /// Flying, landed or crashed.
    pub status: ShipStatus,
    /// The body it rests on when landed or crashed.
    pub surface_body: Option<usize>,
}

impl ShipState {
    /// Total mass, kg.
    #[must_use]
    pub fn mass(&self) -> f64 {
        self.dry_mass + self.fuel_mass
    }

    /// Δv left in the tanks by the rocket equation, m/s.
    #[must_use]
    pub fn delta_v_remaining(&self) -> f64 {
        self.exhaust_velocity * (self.mass() / self.dry_mass).ln()
    }

    /// The forward (thrust) axis in the world frame.
    #[must_use]
    pub fn forward(&self) -> DVec3 {
        self.attitude * SHIP_FORWARD
    }
}

impl Ships {
    /// Number of ships.
    #[must_use]
    pub fn len(&self) -> usize {
        self.position_x.len()
    }

    /// Whether there are no ships.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.position_x.is_empty()
    }

    /// Position columns `(x, y, z)`.
    #[must_use]
    pub fn positions(&self) -> (&[f64], &[f64], &[f64]) {
        (&self.position_x, &self.position_y, &self.position_z)
    }

    /// Velocity columns `(x, y, z)`.
    #[must_use]
    pub fn velocities(&self) -> (&[f64], &[f64], &[f64]) {
        (&self.velocity_x, &self.velocity_y, &self.velocity_z)
    }

    /// Fuel column, kg.
    #[must_use]
    pub fn fuel_mass(&self) -> &[f64] {
        &self.fuel_mass
    }

    /// Position of one ship.
    #[must_use]
    pub fn position(&self, index: usize) -> DVec3 {
        DVec3::new(self.position_x[index], self.position_y[index], self.position_z[index])
    }

    /// Velocity of one ship.
    #[must_use]
    pub fn velocity(&self, index: usize) -> DVec3 {
        DVec3::new(self.velocity_x[index], self.velocity_y[index], self.velocity_z[index])
    }

    /// Orientation of one ship.
    #[must_use]
    pub fn attitude(&self, index: usize) -> DQuat {
        DQuat::from_xyzw(self.attitude_x[index], self.attitude_y[index], self.attitude_z[index], self.attitude_w[index])
    }

    /// Angular velocity of one ship, world frame.
    #[must_use]
    pub fn angular_velocity(&self, index: usize) -> DVec3 {
        DVec3::new(self.angular_velocity_x[index], self.angular_velocity_y[index], self.angular_velocity_z[index])
    }

    /// All of one ship's state.
    #[must_use]
    pub fn state(&self, index: usize) -> ShipState {
        ShipState {
            position: self.position(index),
            velocity: self.velocity(index),
            attitude: self.attitude(index),
            angular_velocity: self.angular_velocity(index),
            dry_mass: self.dry_mass[index],
            fuel_mass: self.fuel_mass[index],
            fuel_capacity: self.fuel_capacity[index],
            max_thrust: self.max_thrust[index],
            exhaust_velocity: self.exhaust_velocity[index],
            control: ShipControl {
                throttle: self.throttle[index],
                pitch: self.pitch[index],
                yaw: self.yaw[index],
                roll: self.roll[index],
            },
            attitude_mode: self.attitude_mode[index],
            target: self.target[index],
            status: self.status[index],
            surface_body: (self.surface_body[index] != NO_BODY).then_some(self.surface_body[index] as usize),
        }
    }

    pub(crate) fn push(&mut self, ship: &ShipInit) {
        let attitude = ship.attitude.normalize();
        self.position_x.push(ship.position.x);
        self.position_y.push(ship.position.y);
        self.position_z.push(ship.position.z);
        self.velocity_x.push(ship.velocity.x);
        self.velocity_y.push(ship.velocity.y);
        self.velocity_z.push(ship.velocity.z);
        self.acceleration_x.push(0.0);
        self.acceleration_y.push(0.0);
        self.acceleration_z.push(0.0);
        self.proximity.push(f64::INFINITY);
        self.dry_mass.push(ship.class.dry_mass);
        self.fuel_mass.push(ship.fuel_mass);
        self.fuel_capacity.push(ship.class.fuel_capacity);
        self.max_thrust.push(ship.class.max_thrust);
        self.exhaust_velocity.push(ship.class.exhaust_velocity());
        self.max_angular_acceleration.push(ship.class.max_angular_acceleration);
        self.max_angular_rate.push(ship.class.max_angular_rate);
        self.attitude_w.push(attitude.w);
        self.attitude_x.push(attitude.x);
        self.attitude_y.push(attitude.y);
        self.attitude_z.push(attitude.z);
        self.angular_velocity_x.push(0.0);
        self.angular_velocity_y.push(0.0);
        self.angular_velocity_z.push(0.0);
        self.throttle.push(0.0);
        self.pitch.push(0.0);
        self.yaw.push(0.0);
        self.roll.push(0.0);
        self.attitude_mode.push(AttitudeMode::Hold);
        self.target.push(None);
        self.status.push(ShipStatus::Flying);
        self.surface_body.push(NO_BODY);
        self.surface_offset_x.push(0.0);
        self.surface_offset_y.push(0.0);
        self.surface_offset_z.push(0.0);
        self.needs_attention.push(true);
    }

    /// Removes ship `index` by moving the last ship into its place.
    pub(crate) fn swap_remove(&mut self, index: usize) {
        macro_rules! swap_remove_columns {
            ($($column:ident),*) => { $( self.$column.swap_remove(index); )* };
        }
        swap_remove_columns!(
            position_x,
            position_y,
            position_z,
            velocity_x,
            velocity_y,
            velocity_z,
            acceleration_x,
            acceleration_y,
            acceleration_z,
            proximity,
            dry_mass,
            fuel_mass,
            fuel_capacity,
            max_thrust,
            exhaust_velocity,
            max_angular_acceleration,
            max_angular_rate,
            attitude_w,
            attitude_x,
            attitude_y,
            attitude_z,
            angular_velocity_x,
            angular_velocity_y,
            angular_velocity_z,
            throttle,
            pitch,
            yaw,
            roll,
            attitude_mode,
            target,
            status,
            surface_body,
            surface_offset_x,
            surface_offset_y,
            surface_offset_z,
            needs_attention
        );
    }

    pub(crate) fn set_position(&mut self, index: usize, position: DVec3) {
        self.position_x[index] = position.x;
        self.position_y[index] = position.y;
        self.position_z[index] = position.z;
    }

    pub(crate) fn set_velocity(&mut self, index: usize, velocity: DVec3) {
        self.velocity_x[index] = velocity.x;
        self.velocity_y[index] = velocity.y;
        self.velocity_z[index] = velocity.z;
    }

    pub(crate) fn set_attitude(&mut self, index: usize, attitude: DQuat) {
        self.attitude_w[index] = attitude.w;
        self.attitude_x[index] = attitude.x;
        self.attitude_y[index] = attitude.y;
        self.attitude_z[index] = attitude.z;
    }

    pub(crate) fn set_angular_velocity(&mut self, index: usize, angular_velocity: DVec3) {
        self.angular_velocity_x[index] = angular_velocity.x;
        self.angular_velocity_y[index] = angular_velocity.y;
        self.angular_velocity_z[index] = angular_velocity.z;
    }

    /// Burns fuel at the current throttle for `duration` and adds the rocket-equation Δv along
    /// the forward axis. Burning each half step's share in its half kick makes the Δv over a
    /// whole burn telescope to exactly `v_e ln(m₀/m₁)`.
    pub(crate) fn thrust_kick(&mut self, index: usize, duration: f64) {
        let throttle = self.throttle[index];
        let fuel = self.fuel_mass[index];
        if throttle <= 0.0 || fuel <= 0.0 || self.status[index] == ShipStatus::Crashed {
            return;
        }
        let exhaust_velocity = self.exhaust_velocity[index];
        let mass_flow = self.max_thrust[index] * throttle / exhaust_velocity;
        let burned = fuel.min(mass_flow * duration);
        let mass_before = self.dry_mass[index] + fuel;
        // ln(m₀/m₁) = −ln(1 − burned/m₀), accurate for the tiny burns of one substep.
        let delta_v = -exhaust_velocity * (-burned / mass_before).ln_1p();
        self.fuel_mass[index] = fuel - burned;
        let forward = self.attitude(index) * SHIP_FORWARD;
        let velocity = self.velocity(index) + forward * delta_v;
        self.set_velocity(index, velocity);
    }

    /// Whether the attitude update has anything to do for this ship (most coasting ships hold
    /// still, and skipping them keeps the tick cheap).
    pub(crate) fn needs_attitude_update(&self, index: usize) -> bool {
        self.status[index] != ShipStatus::Crashed
            && (self.attitude_mode[index] != AttitudeMode::Hold
                || self.pitch[index] != 0.0
                || self.yaw[index] != 0.0
                || self.roll[index] != 0.0
                || self.angular_velocity_x[index] != 0.0
                || self.angular_velocity_y[index] != 0.0
                || self.angular_velocity_z[index] != 0.0)
    }

    /// Turns one ship for `duration`: rotation inputs drive angular acceleration directly;
    /// without inputs the controller slews toward `desired_forward` (or stops turning when it is
    /// `None`) with bounded angular acceleration, then holds.
    pub(crate) fn update_attitude(&mut self, index: usize, desired_forward: Option<DVec3>, duration: f64) {
        let attitude = self.attitude(index);
        let mut angular_velocity = self.angular_velocity(index);
        let max_acceleration = self.max_angular_acceleration[index];
        let max_rate = self.max_angular_rate[index];
        let inputs = DVec3::new(self.pitch[index], self.yaw[index], self.roll[index]);
        if inputs != DVec3::ZERO {
            angular_velocity += attitude * (inputs * max_acceleration * duration);
        } else {
            let desired_rate = match desired_forward {
                Some(direction) => slew_rate(attitude * SHIP_FORWARD, direction, max_acceleration, max_rate, duration),
                None => DVec3::ZERO,
            };
            let change = desired_rate - angular_velocity;
            angular_velocity += change.clamp_length_max(max_acceleration * duration);
        }
        angular_velocity = angular_velocity.clamp_length_max(max_rate);
        let rotation = DQuat::from_scaled_axis(angular_velocity * duration);
        self.set_attitude(index, (rotation * attitude).normalize());
        self.set_angular_velocity(index, angular_velocity);
    }
}

/// The angular velocity (world frame) that turns `forward` toward `desired`: as fast as
/// `max_rate` allows while still able to stop in time (`ω = √(2 α θ)`), never overshooting in one
/// step, and with no roll about the forward axis.
fn slew_rate(forward: DVec3, desired: DVec3, max_acceleration: f64, max_rate: f64, duration: f64) -> DVec3 {
    let Some(desired) = desired.try_normalize() else {
        return DVec3::ZERO;
    };
    let cross = forward.cross(desired);
    let angle = cross.length().atan2(forward.dot(desired));
    if angle <= 1e-12 {
        return DVec3::ZERO;
    }
    // Exactly opposite: any axis perpendicular to forward turns it around.
    let axis = cross.try_normalize().unwrap_or_else(|| forward.any_orthonormal_vector());
    let rate = max_rate.min((2.0 * max_acceleration * angle).sqrt()).min(angle / duration);
    axis * rate
}
