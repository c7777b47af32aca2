//! The simulated world the physics service owns: the engine's [`Simulation`] plus what the
//! engine leaves outside its hot arrays — ship ids, owners, names and classes, body names — and
//! the tick counter. Pure domain code: no I/O, no async; the gRPC layer is a thin skin over it.

use std::borrow::Cow;
use std::collections::HashMap;

use galaxy_engine::{
    AttitudeMode, AttitudeTarget, DVec3, Diagnostics, EngineError, OrbitalElements, PredictionParams, ShipClass,
    ShipControl, ShipInit, ShipState, SimParams, Simulation, SnapshotError, Trajectory,
};
use galaxy_sim::solar_system::CatalogBody;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What went wrong with a request to the world. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum WorldError {
    /// No ship has this id.
    #[error("no ship with id {0:?}")]
    UnknownShip(String),
    /// No body has this name.
    #[error("no body named {0:?}")]
    UnknownBody(String),
    /// No ship class has this name.
    #[error("no ship class named {0:?} (known: fast_frigate, cargo_hauler)")]
    UnknownClass(String),
    /// A tick number was not after the last one.
    #[error("tick {requested} is not after the last tick {last}")]
    StaleTick {
        /// The tick asked for.
        requested: u64,
        /// The last tick processed.
        last: u64,
    },
    /// The engine refused the input.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A snapshot could not be read.
    #[error("snapshot unreadable: {0}")]
    Snapshot(String),
    /// A ship id is taken.
    #[error("a ship with id {0:?} exists already")]
    DuplicateShip(String),
    /// A ship id is not 1 to 64 letters, digits, '-' or '_'.
    #[error("malformed ship id {0:?}")]
    InvalidShipId(String),
}

impl From<SnapshotError> for WorldError {
    fn from(error: SnapshotError) -> Self {
        Self::Snapshot(error.to_string())
    }
}

/// A ship's identity: what the engine does not store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipRecord {
    /// Stable id (`ship-N`).
    pub id: String,
    /// The owning player's id.
    pub owner: String,
    /// Display name.
    pub name: String,
    /// Class name (`fast_frigate`, `cargo_hauler`).
    pub class_name: String,
}

/// A ship as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipView {
    /// Identity.
    pub record: ShipRecord,
    /// Physical state.
    pub state: ShipState,
    /// Name of the body it rests on, if landed or crashed.
    pub surface_body: Option<String>,
    /// Name of the targeted body, or id of the targeted ship.
    pub target: Option<TargetRef>,
}

/// A target by name or id, as requests carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef {
    /// A body, by name.
    Body(String),
    /// A ship, by id.
    Ship(String),
}

/// A body as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyView {
    /// Catalog data (name, kind, parent, GM, radius, colour).
    pub catalog: CatalogBody,
    /// Current position.
    pub position: DVec3,
    /// Current velocity.
    pub velocity: DVec3,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickOutcome {
    /// The tick number produced.
    pub tick: u64,
    /// Game time after it, s.
    pub game_time: f64,
    /// Relative energy drift of the bodies since the world was created.
    pub energy_drift: f64,
    /// Relative linear momentum drift.
    pub momentum_drift: f64,
    /// Relative angular momentum drift.
    pub angular_momentum_drift: f64,
    /// Landings and crashes during the tick.
    pub surface_events: usize,
}

/// Where new ships start.
#[derive(Debug, Clone, PartialEq)]
pub struct SpawnOrbit {
    /// The body they circle (by catalog name).
    pub body: String,
    /// Altitude of the circular orbit above its surface, m.
    pub altitude: f64,
}

impl Default for SpawnOrbit {
    /// A 400 km low Earth orbit, where the upstream design put new ships.
    fn default() -> Self {
        Self { body: "Earth".to_owned(), altitude: 400e3 }
    }
}

/// The world: engine state plus identities.
#[derive(Debug, Clone)]
pub struct World {
    simulation: Simulation,
    catalog: Vec<CatalogBody>,
    ships: Vec<ShipRecord>,
    /// Each ship's identity as JSON, kept beside `ships` (serialised once, not every tick).
    identities_json: Vec<ShipIdentityJson>,
    index_by_id: HashMap<String, usize>,
    next_ship_number: u64,
    last_tick: u64,
    reference: Diagnostics,
    spawn: SpawnOrbit,
    command_cursor: Option<String>,
}

/// A ship's identity in the two JSON forms written after every tick. Escaping 1,000 ships'
/// four strings and keys every tick was the largest part of the tick's serialisation profile.
#[derive(Debug, Clone)]
struct ShipIdentityJson {
    /// The start of its object in the published state (see [`published_head`]).
    published_head: Box<[u8]>,
    /// Its [`ShipRecord`] as [`SnapshotMetadata`] serialises it.
    snapshot_record: Box<[u8]>,
}

impl ShipIdentityJson {
    fn new(record: &ShipRecord) -> Result<Self, WorldError> {
        Ok(Self {
            published_head: published_head(record),
            snapshot_record: serde_json::to_vec(record).map_err(snapshot_error)?.into_boxed_slice(),
        })
    }
}

/// Metadata stored next to the engine snapshot (JSON). Written by [`World::to_snapshot`] with
/// the ships' cached records spliced in; read with serde.
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotMetadata<'a> {
    ships: Cow<'a, [ShipRecord]>,
    next_ship_number: u64,
    last_tick: u64,
    spawn_body: Cow<'a, str>,
    spawn_altitude: f64,
    /// Id of the last command-stream entry applied, so a restored world applies each command once.
    #[serde(default)]
    command_cursor: Option<Cow<'a, str>>,
}

/// Longest ship id a caller may choose.
const SHIP_ID_MAX_CHARS: usize = 64;

const SNAPSHOT_MAGIC: &[u8; 8] = b"GXWORLD1";

/// The real-time state as published to the state store after every tick (JSON, SI units):
/// what gateways broadcast to players. Its `ships` array is written by
/// [`World::published_state`]: objects with `id`, `owner`, `name`, `class` (see
/// [`PublishedIdentity`]), then `position`, `velocity`, `attitude` (w, x, y, z), `fuel`,
/// `throttle`, `attitude_mode` and `status`.
#[derive(Debug, Serialize)]
struct PublishedState<'a> {
    tick: u64,
    game_time: f64,
    bodies: Vec<PublishedBody<'a>>,
}

#[derive(Debug, Serialize)]
struct PublishedBody<'a> {
    name: &'a str,
    position: [f64; 3],
    velocity: [f64; 3],
}

/// A ship's identity as the start of its published JSON object: `{"id":…,"owner":…,"name":…,
/// "class":…` (no closing brace; the changing fields follow). `Value`'s `Display` escapes.
fn published_head(record: &ShipRecord) -> Box<[u8]> {
    let text = |value: &str| serde_json::Value::from(value).to_string();
    format!(
        r#"{{"id":{},"owner":{},"name":{},"class":{}"#,
        text(&record.id),
        text(&record.owner),
        text(&record.name),
        text(&record.class_name)
    )
    .into_bytes()
    .into_boxed_slice()
}

/// Appends `,"key":value` to a JSON object being written (`key` is a plain identifier).
fn write_field(bytes: &mut Vec<u8>, key: &str, value: &(impl Serialize + ?Sized)) -> Result<(), WorldError> {
    bytes.extend_from_slice(b",\"");
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(b"\":");
    serde_json::to_writer(bytes, value).map_err(snapshot_error)
}

fn snapshot_error(error: serde_json::Error) -> WorldError {
    WorldError::Snapshot(error.to_string())
}

fn snapshot_error_text(reason: &str) -> WorldError {
    WorldError::Snapshot(reason.to_owned())
}

impl World {
    /// The J2000 solar system (29 bodies), no ships, at tick 0.
    pub fn solar_system(params: SimParams, spawn: SpawnOrbit) -> Result<Self, WorldError> {
        let (simulation, catalog) = galaxy_sim::scenes::solar_system_simulation(params)?;
        if !catalog.iter().any(|body| body.name == spawn.body) {
            return Err(WorldError::UnknownBody(spawn.body));
        }
        let reference = simulation.diagnostics();
        Ok(Self {
            simulation,
            catalog,
            ships: Vec::new(),
            identities_json: Vec::new(),
            index_by_id: HashMap::new(),
            next_ship_number: 1,
            last_tick: 0,
            reference,
            spawn,
            command_cursor: None,
        })
    }

    /// Id of the last command-stream entry applied (`None`: none yet).
    #[must_use]
    pub fn command_cursor(&self) -> Option<&str> {
        self.command_cursor.as_deref()
    }

    /// Records the last command-stream entry applied.
    pub fn set_command_cursor(&mut self, cursor: Option<String>) {
        self.command_cursor = cursor;
    }

    /// The engine simulation (read-only).
    #[must_use]
    pub fn simulation(&self) -> &Simulation {
        &self.simulation
    }

    /// The last tick processed.
    #[must_use]
    pub fn last_tick(&self) -> u64 {
        self.last_tick
    }

    fn body_index(&self, name: &str) -> Result<usize, WorldError> {
        self.catalog.iter().position(|body| body.name == name).ok_or_else(|| WorldError::UnknownBody(name.to_owned()))
    }

    fn ship_index(&self, id: &str) -> Result<usize, WorldError> {
        self.index_by_id.get(id).copied().ok_or_else(|| WorldError::UnknownShip(id.to_owned()))
    }

    /// Adds a ship of `class_name` on a circular prograde orbit of the spawn body, in the plane
    /// of that body's own orbit, and returns its id (`ship-N`).
    pub fn spawn_ship(&mut self, owner: &str, name: &str, class_name: &str) -> Result<String, WorldError> {
        self.spawn_ship_as(None, owner, name, class_name)
    }

    /// [`World::spawn_ship`] under an id the caller chose (the players service uses its ship
    /// record's id), or `ship-N` when `id` is `None`. A taken or malformed id changes nothing.
    pub fn spawn_ship_as(
        &mut self,
        id: Option<&str>,
        owner: &str,
        name: &str,
        class_name: &str,
    ) -> Result<String, WorldError> {
        if let Some(id) = id {
            let well_formed = (1..=SHIP_ID_MAX_CHARS).contains(&id.len())
                && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
            if !well_formed {
                return Err(WorldError::InvalidShipId(id.chars().take(SHIP_ID_MAX_CHARS).collect()));
            }
            if self.index_by_id.contains_key(id) {
                return Err(WorldError::DuplicateShip(id.to_owned()));
            }
        }
        let class = ShipClass::by_name(class_name).ok_or_else(|| WorldError::UnknownClass(class_name.to_owned()))?;
        let body = self.body_index(&self.spawn.body)?;
        let bodies = self.simulation.bodies();
        let (center, center_velocity) = (bodies.position(body), bodies.velocity(body));
        let radius = bodies.radius()[body] + self.spawn.altitude;
        let gm = self.catalog[body].gm;
        // The body's orbital plane around the Sun (the ecliptic for Earth) keeps spawned ships
        // prograde whatever body they start at.
        let sun = bodies.position(0);
        let out = (center - sun).try_normalize().unwrap_or(DVec3::X);
        let normal = (center - sun).cross(center_velocity - bodies.velocity(0)).try_normalize().unwrap_or(DVec3::Z);
        let along = normal.cross(out);
        let speed = (gm / radius).sqrt();
        let index =
            self.simulation.add_ship(ShipInit::new(class, center + out * radius, center_velocity + along * speed))?;
        let id = match id {
            Some(id) => id.to_owned(),
            None => loop {
                let candidate = format!("ship-{}", self.next_ship_number);
                self.next_ship_number += 1;
                if !self.index_by_id.contains_key(&candidate) {
                    break candidate;
                }
            },
        };
        let record = ShipRecord {
            id: id.clone(),
            owner: owner.to_owned(),
            name: name.to_owned(),
            class_name: class.name.to_owned(),
        };
        self.identities_json.push(ShipIdentityJson::new(&record)?);
        self.ships.push(record);
        self.index_by_id.insert(id.clone(), index);
        Ok(id)
    }

    /// Removes a ship; ships that targeted it go back to holding.
    pub fn remove_ship(&mut self, id: &str) -> Result<(), WorldError> {
        let index = self.ship_index(id)?;
        let moved = self.simulation.remove_ship(index)?;
        self.ships.swap_remove(index);
        self.identities_json.swap_remove(index);
        self.index_by_id.remove(id);
        if moved.is_some() {
            // The last ship now sits at `index`.
            self.index_by_id.insert(self.ships[index].id.clone(), index);
        }
        Ok(())
    }

    /// Sets a ship's inputs and/or attitude mode (each only when given).
    pub fn apply_control(
        &mut self,
        id: &str,
        control: Option<ShipControl>,
        mode: Option<AttitudeMode>,
        target: Option<&TargetRef>,
    ) -> Result<ShipView, WorldError> {
        let index = self.ship_index(id)?;
        let target = match target {
            Some(TargetRef::Body(name)) => Some(AttitudeTarget::Body(self.body_index(name)?)),
            Some(TargetRef::Ship(other)) => Some(AttitudeTarget::Ship(self.ship_index(other)?)),
            None => None,
        };
        // Validate both before changing either, so a refused request changes nothing.
        if let Some(control) = control {
            control.validate()?;
        }
        if let Some(mode) = mode {
            self.simulation.set_attitude_mode(index, mode, target)?;
        }
        if let Some(control) = control {
            self.simulation.set_control(index, control)?;
        }
        self.ship(id)
    }

    /// One ship as the API shows it.
    pub fn ship(&self, id: &str) -> Result<ShipView, WorldError> {
        let index = self.ship_index(id)?;
        Ok(self.ship_view(index))
    }

    fn ship_view(&self, index: usize) -> ShipView {
        let state = self.simulation.ships().state(index);
        ShipView {
            record: self.ships[index].clone(),
            surface_body: state.surface_body.map(|body| self.catalog[body].name.to_owned()),
            target: state.target.map(|target| match target {
                AttitudeTarget::Body(body) => TargetRef::Body(self.catalog[body].name.to_owned()),
                AttitudeTarget::Ship(ship) => TargetRef::Ship(self.ships[ship].id.clone()),
            }),
            state,
        }
    }

    /// Every ship, in a stable order (by id number).
    #[must_use]
    pub fn ships(&self) -> Vec<ShipView> {
        let mut views: Vec<ShipView> = (0..self.ships.len()).map(|index| self.ship_view(index)).collect();
        views.sort_by_key(|view| view.record.id.trim_start_matches("ship-").parse::<u64>().unwrap_or(u64::MAX));
        views
    }

    /// Every body with its current state.
    #[must_use]
    pub fn bodies(&self) -> Vec<BodyView> {
        let bodies = self.simulation.bodies();
        self.catalog
            .iter()
            .enumerate()
            .map(|(index, catalog)| BodyView {
                catalog: catalog.clone(),
                position: bodies.position(index),
                velocity: bodies.velocity(index),
            })
            .collect()
    }

    /// A ship's predicted coasting path and its current orbit around its dominant body.
    pub fn predict(
        &self,
        id: &str,
        params: PredictionParams,
    ) -> Result<(Trajectory, Option<String>, Option<OrbitalElements>), WorldError> {
        let index = self.ship_index(id)?;
        let trajectory = self.simulation.predict_ship_trajectory(index, params)?;
        let orbit = self.simulation.ship_orbit(index)?;
        let reference = trajectory.reference_body.map(|body| self.catalog[body].name.to_owned());
        Ok((trajectory, reference, orbit.map(|(_, elements)| elements)))
    }

    /// Advances the world by `game_seconds` in `substeps` equal substeps as tick number `tick`.
    /// CPU-heavy: the gRPC layer runs it off the async executor.
    pub fn process_tick(&mut self, tick: u64, game_seconds: f64, substeps: u32) -> Result<TickOutcome, WorldError> {
        if tick <= self.last_tick {
            return Err(WorldError::StaleTick { requested: tick, last: self.last_tick });
        }
        self.simulation.set_substep(game_seconds / f64::from(substeps.max(1)))?;
        let report = self.simulation.step(substeps);
        self.last_tick = tick;
        let drift = self.simulation.diagnostics().drift_since(&self.reference);
        Ok(TickOutcome {
            tick,
            game_time: self.simulation.time(),
            energy_drift: drift.energy,
            momentum_drift: drift.linear_momentum,
            angular_momentum_drift: drift.angular_momentum,
            surface_events: report.events.len(),
        })
    }

    /// The state published after every tick, as JSON bytes (see `PublishedState`).
    ///
    /// PERF: written every tick for every ship, so each ship's identity is serialised once (when
    /// it is added) and only its changing fields are serialised here.
    pub fn published_state(&self) -> Result<Vec<u8>, WorldError> {
        let bodies = self.simulation.bodies();
        let ships = self.simulation.ships();
        let head = PublishedState {
            tick: self.last_tick,
            game_time: self.simulation.time(),
            bodies: self
                .catalog
                .iter()
                .enumerate()
                .map(|(index, body)| PublishedBody {
                    name: body.name,
                    position: bodies.position(index).to_array(),
                    velocity: bodies.velocity(index).to_array(),
                })
                .collect(),
        };
        // Sized up front (about 320 bytes a ship), so a large state is not copied as it grows.
        let mut bytes = Vec::with_capacity(256 + 192 * head.bodies.len() + 384 * self.ships.len());
        serde_json::to_writer(&mut bytes, &head).map_err(snapshot_error)?;
        bytes.pop(); // the head's closing brace: the ships follow
        bytes.extend_from_slice(br#","ships":["#);
        for (index, identity) in self.identities_json.iter().enumerate() {
            let state = ships.state(index);
            if index > 0 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(&identity.published_head);
            write_field(&mut bytes, "position", &state.position.to_array())?;
            write_field(&mut bytes, "velocity", &state.velocity.to_array())?;
            write_field(
                &mut bytes,
                "attitude",
                &[state.attitude.w, state.attitude.x, state.attitude.y, state.attitude.z],
            )?;
            write_field(&mut bytes, "fuel", &state.fuel_mass)?;
            write_field(&mut bytes, "throttle", &state.control.throttle)?;
            write_field(&mut bytes, "attitude_mode", state.attitude_mode.name())?;
            let status = match state.status {
                galaxy_engine::ShipStatus::Flying => "flying",
                galaxy_engine::ShipStatus::Landed => "landed",
                galaxy_engine::ShipStatus::Crashed => "crashed",
            };
            write_field(&mut bytes, "status", status)?;
            bytes.push(b'}');
        }
        bytes.extend_from_slice(b"]}");
        Ok(bytes)
    }

    /// A hash of the whole physical state: the CRC-32 the engine snapshot ends with, in hex.
    /// Two worlds with the same hash stepped the same (bit-exact snapshots).
    #[must_use]
    pub fn state_hash(&self) -> String {
        crc_hex(&self.simulation.to_snapshot())
    }

    /// The whole world as bytes: magic, metadata (JSON) length and metadata, engine snapshot.
    pub fn to_snapshot(&self) -> Result<Vec<u8>, WorldError> {
        // Everything but the ships, as serde writes it: `{"ships":[],…}`. The cached ship
        // records go between the brackets, giving the bytes serde would give for all of it.
        let rest = SnapshotMetadata {
            ships: Cow::Borrowed(&[]),
            next_ship_number: self.next_ship_number,
            last_tick: self.last_tick,
            spawn_body: Cow::Borrowed(&self.spawn.body),
            spawn_altitude: self.spawn.altitude,
            command_cursor: self.command_cursor.as_deref().map(Cow::Borrowed),
        };
        let rest = serde_json::to_vec(&rest).map_err(snapshot_error)?;
        let after_ships =
            rest.strip_prefix(br#"{"ships":[]"#.as_slice()).ok_or_else(|| snapshot_error_text("metadata layout"))?;
        let records_length: usize =
            self.identities_json.iter().map(|identity| identity.snapshot_record.len() + 1).sum();
        let metadata_length = br#"{"ships":[]"#.len() + records_length.saturating_sub(1) + after_ships.len();
        let engine = self.simulation.to_snapshot();
        let mut bytes = Vec::with_capacity(16 + metadata_length + engine.len());
        bytes.extend_from_slice(SNAPSHOT_MAGIC);
        bytes.extend_from_slice(&(metadata_length as u64).to_le_bytes());
        bytes.extend_from_slice(br#"{"ships":["#);
        for (index, identity) in self.identities_json.iter().enumerate() {
            if index > 0 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(&identity.snapshot_record);
        }
        bytes.push(b']');
        bytes.extend_from_slice(after_ships);
        bytes.extend_from_slice(&engine);
        Ok(bytes)
    }

    /// The [`World::state_hash`] of a world written by [`World::to_snapshot`]: the world snapshot
    /// ends with the engine snapshot, whose last four bytes are the CRC-32 the hash is made of.
    /// Saves the tick a second engine snapshot.
    #[must_use]
    pub fn state_hash_of_snapshot(snapshot: &[u8]) -> String {
        crc_hex(snapshot)
    }

    /// Restores a world written by [`World::to_snapshot`], with the catalog of this build.
    /// Corrupt input is an error, never a panic.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, WorldError> {
        let unreadable = |reason: &str| WorldError::Snapshot(reason.to_owned());
        let rest = bytes.strip_prefix(SNAPSHOT_MAGIC.as_slice()).ok_or_else(|| unreadable("not a world snapshot"))?;
        let (length, rest) = rest.split_first_chunk::<8>().ok_or_else(|| unreadable("truncated"))?;
        let length = usize::try_from(u64::from_le_bytes(*length)).map_err(|_| unreadable("bad metadata length"))?;
        if length > rest.len() {
            return Err(unreadable("truncated metadata"));
        }
        let (metadata, engine) = rest.split_at(length);
        let metadata: SnapshotMetadata<'_> =
            serde_json::from_slice(metadata).map_err(|error| WorldError::Snapshot(error.to_string()))?;
        let simulation = Simulation::from_snapshot(engine)?;
        let (_, catalog) = galaxy_sim::scenes::solar_system_simulation(*simulation.params())?;
        if catalog.len() != simulation.bodies().len() || metadata.ships.len() != simulation.ships().len() {
            return Err(unreadable("the snapshot does not match this catalog or its ship list"));
        }
        let index_by_id: HashMap<String, usize> =
            metadata.ships.iter().enumerate().map(|(index, ship)| (ship.id.clone(), index)).collect();
        if index_by_id.len() != metadata.ships.len() {
            return Err(unreadable("duplicate ship ids"));
        }
        let reference = simulation.diagnostics();
        let ships = metadata.ships.into_owned();
        let identities_json = ships.iter().map(ShipIdentityJson::new).collect::<Result<_, _>>()?;
        Ok(Self {
            simulation,
            catalog,
            ships,
            identities_json,
            index_by_id,
            next_ship_number: metadata.next_ship_number,
            last_tick: metadata.last_tick,
            reference,
            spawn: SpawnOrbit { body: metadata.spawn_body.into_owned(), altitude: metadata.spawn_altitude },
            command_cursor: metadata.command_cursor.map(Cow::into_owned),
        })
    }
}

/// The last four bytes of an engine snapshot (its CRC-32, little-endian) as hex, most
/// significant byte first.
fn crc_hex(snapshot: &[u8]) -> String {
    let crc = snapshot.get(snapshot.len().saturating_sub(4)..).unwrap_or_default();
    crc.iter().rev().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_state_is_json_with_every_ship_as_it_flies_and_survives_removal_and_restore() {
        let mut world = World::solar_system(SimParams::default(), SpawnOrbit::default()).expect("world");
        let first = world.spawn_ship("player-1", "First", "fast_frigate").expect("spawn");
        let second = world.spawn_ship("player-2", "Quote \" back\\slash é\n", "cargo_hauler").expect("spawn");
        let third = world.spawn_ship("player-3", "Third", "fast_frigate").expect("spawn");
        world.remove_ship(&first).expect("remove");
        world.process_tick(1, 10.0, 2).expect("tick");

        let published: serde_json::Value =
            serde_json::from_slice(&world.published_state().expect("state")).expect("json");
        assert_eq!(published["tick"], 1);
        assert_eq!(published["bodies"].as_array().expect("bodies").len(), 29);
        let ships = published["ships"].as_array().expect("ships");
        let ids: Vec<&str> = ships.iter().map(|ship| ship["id"].as_str().expect("id")).collect();
        assert_eq!(ids, [third.as_str(), second.as_str()], "the last ship moved into the removed one's place");
        let hauler = &ships[1];
        assert_eq!(hauler["name"], "Quote \" back\\slash é\n");
        assert_eq!(hauler["owner"], "player-2");
        assert_eq!(hauler["class"], "cargo_hauler");
        let view = world.ship(&second).expect("view");
        assert_eq!(hauler["position"][1].as_f64(), Some(view.state.position.y));
        assert_eq!(hauler["velocity"][2].as_f64(), Some(view.state.velocity.z));
        assert_eq!(hauler["attitude"][0].as_f64(), Some(view.state.attitude.w));
        assert_eq!(hauler["fuel"].as_f64(), Some(view.state.fuel_mass));
        assert_eq!(hauler["throttle"].as_f64(), Some(0.0));
        assert_eq!(hauler["attitude_mode"], view.state.attitude_mode.name());
        assert_eq!(hauler["status"], "flying");
        assert_eq!(hauler.as_object().expect("object").len(), 11);

        let restored = World::from_snapshot(&world.to_snapshot().expect("snapshot")).expect("restore");
        assert_eq!(restored.published_state().expect("state"), world.published_state().expect("state"));
        assert_eq!(World::state_hash_of_snapshot(&world.to_snapshot().expect("snapshot")), world.state_hash());
    }

    /// The snapshot's metadata is spliced from cached ship records; it must be exactly what
    /// serde writes for the whole metadata, for any number of ships (and escaping in names).
    #[test]
    fn the_snapshot_metadata_is_what_serde_writes_for_zero_one_and_many_ships() {
        let mut world = World::solar_system(SimParams::default(), SpawnOrbit::default()).expect("world");
        let mut ids = Vec::new();
        for count in 0..4 {
            if count > 0 {
                ids.push(world.spawn_ship(&format!("player-{count}"), "Quote \" é\n", "fast_frigate").expect("spawn"));
            }
            world.set_command_cursor((count % 2 == 1).then(|| format!("{count}-0")));
            let snapshot = world.to_snapshot().expect("snapshot");
            let expected = serde_json::to_vec(&SnapshotMetadata {
                ships: Cow::Borrowed(&world.ships),
                next_ship_number: world.next_ship_number,
                last_tick: world.last_tick,
                spawn_body: Cow::Borrowed(&world.spawn.body),
                spawn_altitude: world.spawn.altitude,
                command_cursor: world.command_cursor.as_deref().map(Cow::Borrowed),
            })
            .expect("serde");
            let length = u64::from_le_bytes(snapshot[8..16].try_into().expect("length"));
            assert_eq!(length, expected.len() as u64, "{count} ships");
            assert_eq!(&snapshot[16..16 + expected.len()], expected.as_slice(), "{count} ships");
            assert_eq!(World::from_snapshot(&snapshot).expect("restore").to_snapshot().expect("snapshot"), snapshot);
        }
        world.remove_ship(&ids[0]).expect("remove");
        let snapshot = world.to_snapshot().expect("snapshot");
        let restored = World::from_snapshot(&snapshot).expect("restore");
        assert_eq!(restored.ships, world.ships);
        assert_eq!(restored.to_snapshot().expect("snapshot"), snapshot);
    }
}
