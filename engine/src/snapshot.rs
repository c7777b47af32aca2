//! Snapshots: the whole simulation as versioned, checksummed little-endian bytes and back.
//!
//! Layout (version 1): magic `GXSNAPv1`-style header (`b"GXSN"`, u16 version, u16 reserved),
//! parameters, time and step count, body count and ship count (u64), then each column in a
//! fixed order, then a CRC-32 of everything before it. Floats are stored as their exact bits,
//! so a round trip is bit-exact and a restored simulation steps exactly like the original.

use crate::bodies::Bodies;
use crate::error::{EngineError, SnapshotError};
use crate::gravity::KernelPath;
use crate::params::{GravityMethod, SimParams};
use crate::ships::{AttitudeMode, AttitudeTarget, NO_BODY, ShipStatus, Ships};
use crate::simulation::Simulation;

const MAGIC: &[u8; 4] = b"GXSN";
/// The snapshot format version this engine writes and reads.
pub const SNAPSHOT_VERSION: u16 = 1;
const CHECKSUM_BYTES: usize = 4;

const TARGET_NONE: u8 = 0;
const TARGET_BODY: u8 = 1;
const TARGET_SHIP: u8 = 2;

impl Simulation {
    /// Encodes the whole state.
    #[must_use]
    pub fn to_snapshot(&self) -> Vec<u8> {
        let bodies = &self.bodies;
        let ships = &self.ships;
        let mut writer = Writer(Vec::with_capacity(64 + bodies.len() * 64 + ships.len() * 300));
        writer.0.extend_from_slice(MAGIC);
        writer.u16(SNAPSHOT_VERSION);
        writer.u16(0);
        writer.f64(self.params.gravitational_constant);
        writer.f64(self.params.softening);
        writer.f64(self.params.substep);
        writer.u8(self.params.kernel.map_or(0, kernel_code));
        match self.params.gravity {
            GravityMethod::Direct => writer.u8(0),
            GravityMethod::BarnesHut { opening_angle } => {
                writer.u8(1);
                writer.f64(opening_angle);
            }
            GravityMethod::Auto { opening_angle } => {
                writer.u8(2);
                writer.f64(opening_angle);
            }
        }
        match self.params.post_newtonian {
            None => writer.u8(0),
            Some(correction) => {
                writer.u8(1);
                writer.f64(correction.speed_of_light);
            }
        }
        writer.f64(self.time);
        writer.u64(self.step_count);
        writer.u64(bodies.len() as u64);
        writer.u64(ships.len() as u64);
        for column in [
            &bodies.mass,
            &bodies.radius,
            &bodies.position_x,
            &bodies.position_y,
            &bodies.position_z,
            &bodies.velocity_x,
            &bodies.velocity_y,
            &bodies.velocity_z,
        ] {
            writer.f64_column(column);
        }
        for column in ship_float_columns(ships) {
            writer.f64_column(column);
        }
        for &mode in &ships.attitude_mode {
            writer.u8(mode as u8);
        }
        for &status in &ships.status {
            writer.u8(status as u8);
        }
        for &body in &ships.surface_body {
            writer.u32(body);
        }
        for target in &ships.target {
            let (kind, index) = match *target {
                None => (TARGET_NONE, 0),
                Some(AttitudeTarget::Body(body)) => (TARGET_BODY, body as u64),
                Some(AttitudeTarget::Ship(ship)) => (TARGET_SHIP, ship as u64),
            };
            writer.u8(kind);
            writer.u64(index);
        }
        let checksum = crc32fast::hash(&writer.0);
        writer.u32(checksum);
        writer.0
    }

    /// Decodes a snapshot written by [`Simulation::to_snapshot`]. Corrupt, truncated or
    /// invalid input is an error, never a panic, and never yields a state with NaN in it.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, SnapshotError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let mut reader = Reader { bytes, offset: MAGIC.len() };
        let version = reader.u16()?;
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: version, supported: SNAPSHOT_VERSION });
        }
        if bytes.len() < MAGIC.len() + 2 + CHECKSUM_BYTES {
            return Err(SnapshotError::Truncated { offset: bytes.len(), needed: CHECKSUM_BYTES });
        }
        // The checksum covers everything, so check it before trusting any count.
        let body_end = bytes.len() - CHECKSUM_BYTES;
        let mut stored = [0_u8; CHECKSUM_BYTES];
        stored.copy_from_slice(&bytes[body_end..]);
        let stored = u32::from_le_bytes(stored);
        let computed = crc32fast::hash(&bytes[..body_end]);
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
        let mut reader = Reader { bytes: &bytes[..body_end], offset: reader.offset };
        let _reserved = reader.u16()?;
        let gravitational_constant = reader.f64()?;
        let softening = reader.f64()?;
        let substep = reader.f64()?;
        let kernel = match reader.u8()? {
            0 => None,
            code => Some(kernel_from_code(code).ok_or_else(|| SnapshotError::InvalidField {
                field: "kernel",
                reason: format!("unknown kernel code {code}"),
            })?),
        };
        let gravity = match reader.u8()? {
            0 => GravityMethod::Direct,
            1 => GravityMethod::BarnesHut { opening_angle: reader.f64()? },
            2 => GravityMethod::Auto { opening_angle: reader.f64()? },
            code => {
                return Err(SnapshotError::InvalidField {
                    field: "gravity method",
                    reason: format!("unknown code {code}"),
                });
            }
        };
        let post_newtonian = match reader.u8()? {
            0 => None,
            1 => Some(crate::params::PostNewtonian { speed_of_light: reader.f64()? }),
            code => {
                return Err(SnapshotError::InvalidField {
                    field: "post-Newtonian flag",
                    reason: format!("unknown code {code}"),
                });
            }
        };
        let params = SimParams { gravitational_constant, softening, substep, kernel, gravity, post_newtonian };
        let mut simulation = Simulation::new(params)?;
        let time = reader.f64()?;
        crate::params::finite("snapshot time", time)?;
        let step_count = reader.u64()?;
        let body_count = reader.count("body count", 8 * 8)?;
        let ship_count = reader.count("ship count", SHIP_FLOAT_COLUMNS * 8 + 2 + 4 + 9)?;

        let mut bodies = Bodies::default();
        for column in [
            &mut bodies.mass,
            &mut bodies.radius,
            &mut bodies.position_x,
            &mut bodies.position_y,
            &mut bodies.position_z,
            &mut bodies.velocity_x,
            &mut bodies.velocity_y,
            &mut bodies.velocity_z,
        ] {
            *column = reader.f64_column(body_count)?;
        }
        let mut ships = Ships::default();
        for column in ship_float_columns_mut(&mut ships) {
            *column = reader.f64_column(ship_count)?;
        }
        ships.attitude_mode = (0..ship_count)
            .map(|_| {
                let code = reader.u8()?;
                AttitudeMode::from_u8(code).ok_or_else(|| SnapshotError::InvalidField {
                    field: "attitude mode",
                    reason: format!("code {code}"),
                })
            })
            .collect::<Result<_, _>>()?;
        ships.status = (0..ship_count)
            .map(|_| {
                let code = reader.u8()?;
                ShipStatus::from_u8(code)
                    .ok_or_else(|| SnapshotError::InvalidField { field: "ship status", reason: format!("code {code}") })
            })
            .collect::<Result<_, _>>()?;
        ships.surface_body = (0..ship_count).map(|_| reader.u32()).collect::<Result<_, _>>()?;
        ships.target = (0..ship_count)
            .map(|_| {
                let kind = reader.u8()?;
                let index = reader.u64()?;
                let index = usize::try_from(index).unwrap_or(usize::MAX);
                match kind {
                    TARGET_NONE => Ok(None),
                    TARGET_BODY => Ok(Some(AttitudeTarget::Body(index))),
                    TARGET_SHIP => Ok(Some(AttitudeTarget::Ship(index))),
                    _ => Err(SnapshotError::InvalidField { field: "target kind", reason: format!("code {kind}") }),
                }
            })
            .collect::<Result<_, _>>()?;
        if reader.offset != reader.bytes.len() {
            return Err(SnapshotError::TrailingBytes(reader.bytes.len() - reader.offset));
        }

        // Rebuild through the validating constructors' rules, so a snapshot can never smuggle
        // in a state that `add_body`/`add_ship` would refuse.
        for body in 0..body_count {
            simulation.add_body(crate::bodies::BodyInit {
                mass: bodies.mass[body],
                radius: bodies.radius[body],
                position: bodies.position(body),
                velocity: bodies.velocity(body),
            })?;
        }
        validate_ships(&ships, body_count)?;
        ships.acceleration_x = vec![0.0; ship_count];
        ships.acceleration_y = vec![0.0; ship_count];
        ships.acceleration_z = vec![0.0; ship_count];
        ships.proximity = vec![f64::INFINITY; ship_count];
        ships.needs_attention = vec![true; ship_count];
        simulation.ships = ships;
        simulation.time = time;
        simulation.step_count = step_count;
        Ok(simulation)
    }
}

fn kernel_code(path: KernelPath) -> u8 {
    match path {
        KernelPath::Scalar => 1,
        KernelPath::Portable => 2,
        KernelPath::Avx2Fma => 3,
        KernelPath::Avx512 => 4,
    }
}

fn kernel_from_code(code: u8) -> Option<KernelPath> {
    match code {
        1 => Some(KernelPath::Scalar),
        2 => Some(KernelPath::Portable),
        3 => Some(KernelPath::Avx2Fma),
        4 => Some(KernelPath::Avx512),
        _ => None,
    }
}

/// The ships' float columns in snapshot order, listed once for reading and writing.
macro_rules! ship_float_columns {
    ($ships:expr, $($reference:tt)+) => {
        [
            $($reference)+ $ships.position_x, $($reference)+ $ships.position_y, $($reference)+ $ships.position_z,
            $($reference)+ $ships.velocity_x, $($reference)+ $ships.velocity_y, $($reference)+ $ships.velocity_z,
            $($reference)+ $ships.dry_mass, $($reference)+ $ships.fuel_mass, $($reference)+ $ships.fuel_capacity,
            $($reference)+ $ships.max_thrust, $($reference)+ $ships.exhaust_velocity,
            $($reference)+ $ships.max_angular_acceleration, $($reference)+ $ships.max_angular_rate,
            $($reference)+ $ships.attitude_w, $($reference)+ $ships.attitude_x, $($reference)+ $ships.attitude_y,
            $($reference)+ $ships.attitude_z, $($reference)+ $ships.angular_velocity_x,
            $($reference)+ $ships.angular_velocity_y, $($reference)+ $ships.angular_velocity_z,
            $($reference)+ $ships.throttle, $($reference)+ $ships.pitch, $($reference)+ $ships.yaw,
            $($reference)+ $ships.roll, $($reference)+ $ships.surface_offset_x,
            $($reference)+ $ships.surface_offset_y, $($reference)+ $ships.surface_offset_z,
        ]
    };
}

const SHIP_FLOAT_COLUMNS: usize = 27;

fn ship_float_columns(ships: &Ships) -> [&Vec<f64>; SHIP_FLOAT_COLUMNS] {
    ship_float_columns!(ships, &)
}

fn ship_float_columns_mut(ships: &mut Ships) -> [&mut Vec<f64>; SHIP_FLOAT_COLUMNS] {
    ship_float_columns!(ships, &mut)
}

/// Re-checks what `add_ship` and the setters would have checked, plus the cross-references.
fn validate_ships(ships: &Ships, body_count: usize) -> Result<(), SnapshotError> {
    use crate::params::{finite, in_range, non_negative, positive};
    for column in ship_float_columns(ships) {
        for &value in column {
            finite("ship state", value)?;
        }
    }
    let ship_count = ships.len();
    for ship in 0..ship_count {
        positive("ship dry mass", ships.dry_mass[ship])?;
        non_negative("ship fuel capacity", ships.fuel_capacity[ship])?;
        in_range("ship fuel mass", ships.fuel_mass[ship], 0.0, ships.fuel_capacity[ship])?;
        non_negative("ship max thrust", ships.max_thrust[ship])?;
        positive("ship exhaust velocity", ships.exhaust_velocity[ship])?;
        non_negative("ship max angular acceleration", ships.max_angular_acceleration[ship])?;
        non_negative("ship max angular rate", ships.max_angular_rate[ship])?;
        // NOTE: ships hold unit quaternions (`add_ship` normalises, turning renormalises); any
        // other length would scale the thrust, so a snapshot may not bring one in either (found
        // by fuzz/engine_snapshot). The tolerance is far above what rounding ever leaves.
        in_range("ship attitude quaternion length", ships.attitude(ship).length(), 1.0 - 1e-6, 1.0 + 1e-6)?;
        ShipControlCheck::check(ships, ship)?;
        let resting = ships.status[ship] != ShipStatus::Flying;
        let body = ships.surface_body[ship];
        if resting != (body != NO_BODY) || (body != NO_BODY && body as usize >= body_count) {
            return Err(SnapshotError::InvalidField {
                field: "surface body",
                reason: format!("ship {ship} has status {:?} and surface body {body}", ships.status[ship]),
            });
        }
        match ships.target[ship] {
            Some(AttitudeTarget::Body(target)) if target >= body_count => {
                return Err(EngineError::NoSuchBody(target).into());
            }
            Some(AttitudeTarget::Ship(target)) if target >= ship_count || target == ship => {
                return Err(EngineError::NoSuchShip(target).into());
            }
            None if ships.attitude_mode[ship] == AttitudeMode::Target => return Err(EngineError::MissingTarget.into()),
            _ => {}
        }
    }
    Ok(())
}

struct ShipControlCheck;

impl ShipControlCheck {
    fn check(ships: &Ships, ship: usize) -> Result<(), EngineError> {
        crate::ships::ShipControl {
            throttle: ships.throttle[ship],
            pitch: ships.pitch[ship],
            yaw: ships.yaw[ship],
            roll: ships.roll[ship],
        }
        .validate()
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, value: u8) {
        self.0.push(value);
    }
    fn u16(&mut self, value: u16) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn f64(&mut self, value: f64) {
        self.0.extend_from_slice(&value.to_bits().to_le_bytes());
    }
    fn f64_column(&mut self, column: &[f64]) {
        for &value in column {
            self.f64(value);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let end = self.offset.checked_add(N).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(SnapshotError::Truncated { offset: self.offset, needed: self.offset + N - self.bytes.len() });
        };
        let mut out = [0_u8; N];
        out.copy_from_slice(&self.bytes[self.offset..end]);
        self.offset = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64, SnapshotError> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A count whose items take at least `bytes_per_item` each: refused when the rest of the
    /// input could not hold them, so a forged count cannot make us allocate gigabytes.
    fn count(&mut self, field: &'static str, bytes_per_item: usize) -> Result<usize, SnapshotError> {
        let count = self.u64()?;
        let remaining = (self.bytes.len() - self.offset) as u64;
        if count > remaining / bytes_per_item as u64 {
            return Err(SnapshotError::InvalidField {
                field,
                reason: format!("{count} does not fit in the {remaining} bytes left"),
            });
        }
        usize::try_from(count)
            .map_err(|_| SnapshotError::InvalidField { field, reason: format!("{count} is too large") })
    }
    fn f64_column(&mut self, count: usize) -> Result<Vec<f64>, SnapshotError> {
        (0..count).map(|_| self.f64()).collect()
    }
}
