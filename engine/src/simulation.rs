//! The simulation: bodies and ships advanced together by kick-drift-kick leapfrog.

use glam::{DQuat, DVec3};

use crate::bodies::{Bodies, BodyInit, kick_columns};
use crate::diagnostics::Diagnostics;
use crate::error::EngineError;
use crate::gravity::{
    AccelerationColumns, KernelPath, Octree, SourceColumns, TargetColumns, compute_accelerations,
    compute_self_accelerations,
};
use crate::orbit::{OrbitalElements, SphereOfInfluence};
use crate::params::{GravityMethod, SimParams, in_range, positive};
use crate::ships::{
    AttitudeMode, AttitudeTarget, MAX_LANDING_TILT_DEGREES, MAX_LANDING_VERTICAL_SPEED, NO_BODY, SHIP_FORWARD,
    ShipControl, ShipInit, ShipStatus, Ships,
};

/// How a ship met a surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurfaceContact {
    /// Slow and upright enough: the ship now rests on the body.
    Landed,
    /// Too fast or too tilted: the ship is a wreck on the body.
    Crashed,
}

/// Something that happened to a ship during a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShipEvent {
    /// Ship index (at the time of the step).
    pub ship: usize,
    /// The body it touched.
    pub body: usize,
    /// Landed or crashed.
    pub contact: SurfaceContact,
    /// Speed along the local vertical at contact, m/s (always ≥ 0).
    pub vertical_speed: f64,
    /// Angle between the ship's forward axis and the local vertical, degrees.
    pub tilt_degrees: f64,
    /// Simulation time at the end of the substep that found it.
    pub time: f64,
}

/// What one call to [`Simulation::step`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// Substeps taken.
    pub substeps: u32,
    /// Landings and crashes, in the order they happened.
    pub events: Vec<ShipEvent>,
}

/// How to predict a ship's future path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictionParams {
    /// How far ahead, in simulation time.
    pub horizon: f64,
    /// Integration step of the prediction (it may be coarser than the game's substep).
    pub step: f64,
    /// Number of points returned, spread evenly over the horizon (at least 2).
    pub samples: usize,
}

/// Most integration steps one prediction may take: bounds the work a request can cause.
pub const MAX_PREDICTION_STEPS: f64 = 1_000_000.0;

/// One point of a predicted path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrajectoryPoint {
    /// Simulation time of the point.
    pub time: f64,
    /// Absolute position.
    pub position: DVec3,
    /// Position relative to the reference body at the same time (what an orbit line draws).
    pub relative_position: DVec3,
}

/// A ship's predicted coasting path.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// The body the path is drawn around: the ship's dominant body at the start.
    pub reference_body: Option<usize>,
    /// Points in time order, the first at the current time.
    pub points: Vec<TrajectoryPoint>,
    /// Set when the path ends early on a surface.
    pub ends_in: Option<SurfaceContact>,
}

/// The whole simulated state and the parameters that advance it.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub(crate) params: SimParams,
    pub(crate) kernel: KernelPath,
    pub(crate) bodies: Bodies,
    pub(crate) ships: Ships,
    /// G·m per body, kept beside the masses so the kernels never multiply by G.
    pub(crate) gravitational_parameter: Vec<f64>,
    /// radius² + ε² per body, for the kernels' surface-contact test.
    pub(crate) collision_threshold: Vec<f64>,
    pub(crate) time: f64,
    pub(crate) step_count: u64,
    /// Whether the cached accelerations belong to the current positions.
    pub(crate) accelerations_current: bool,
}

/// Per-tick lists of the ships that need more than the vectorised gravity kick and drift.
#[derive(Debug, Default)]
struct TickPlan {
    thrusting: Vec<usize>,
    turning: Vec<(usize, Option<usize>)>,
    on_surface: Vec<usize>,
}

impl Simulation {
    /// An empty simulation.
    pub fn new(params: SimParams) -> Result<Self, EngineError> {
        params.validate()?;
        Ok(Self {
            kernel: params.kernel_path(),
            params,
            bodies: Bodies::default(),
            ships: Ships::default(),
            gravitational_parameter: Vec::new(),
            collision_threshold: Vec::new(),
            time: 0.0,
            step_count: 0,
            accelerations_current: false,
        })
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &SimParams {
        &self.params
    }

    /// The gravity kernel path in use.
    #[must_use]
    pub fn kernel_path(&self) -> KernelPath {
        self.kernel
    }

    /// The bodies.
    #[must_use]
    pub fn bodies(&self) -> &Bodies {
        &self.bodies
    }

    /// The ships.
    #[must_use]
    pub fn ships(&self) -> &Ships {
        &self.ships
    }

    /// Simulation time since the start.
    #[must_use]
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Substeps taken since the start.
    #[must_use]
    pub fn step_count(&self) -> u64 {
        self.step_count
    }

    /// Adds a body and returns its index.
    pub fn add_body(&mut self, body: BodyInit) -> Result<usize, EngineError> {
        body.validate()?;
        if self.bodies.len() >= NO_BODY as usize {
            return Err(EngineError::TooMany("bodies"));
        }
        self.bodies.push(&body);
        self.gravitational_parameter.push(self.params.gravitational_constant * body.mass);
        self.collision_threshold.push(body.radius * body.radius + self.params.softening * self.params.softening);
        self.accelerations_current = false;
        Ok(self.bodies.len() - 1)
    }

    /// Adds a ship (flying, throttle zero, holding its attitude) and returns its index.
    pub fn add_ship(&mut self, ship: ShipInit) -> Result<usize, EngineError> {
        ship.validate()?;
        if self.ships.len() >= u32::MAX as usize {
            return Err(EngineError::TooMany("ships"));
        }
        self.ships.push(&ship);
        self.accelerations_current = false;
        Ok(self.ships.len() - 1)
    }

    /// Removes a ship by moving the last ship into its slot. Returns the old index of the ship
    /// that moved (so callers can update their id maps), or `None` if the removed ship was last.
    /// Ships that targeted the removed ship go back to holding.
    pub fn remove_ship(&mut self, index: usize) -> Result<Option<usize>, EngineError> {
        self.check_ship(index)?;
        let last = self.ships.len() - 1;
        self.ships.swap_remove(index);
        // NOTE (fuzz/engine_commands): with Barnes–Hut a ship's acceleration depends on the
        // group of ships it was evaluated with (the group's box decides which cells open), so the
        // cached values no longer equal a fresh evaluation once a ship is gone; a restored
        // snapshot, which always evaluates afresh, then stepped differently in the last bits.
        self.accelerations_current = false;
        for ship in 0..self.ships.len() {
            match self.ships.target[ship] {
                Some(AttitudeTarget::Ship(target)) if target == index => {
                    self.ships.target[ship] = None;
                    if self.ships.attitude_mode[ship] == AttitudeMode::Target {
                        self.ships.attitude_mode[ship] = AttitudeMode::Hold;
                    }
                }
                Some(AttitudeTarget::Ship(target)) if target == last => {
                    self.ships.target[ship] = Some(AttitudeTarget::Ship(index));
                }
                _ => {}
            }
        }
        Ok((index != last).then_some(last))
    }

    /// Sets a ship's throttle and rotation inputs (applied from the next substep).
    pub fn set_control(&mut self, ship: usize, control: ShipControl) -> Result<(), EngineError> {
        self.check_ship(ship)?;
        control.validate()?;
        self.ships.needs_attention[ship] = true;
        self.ships.throttle[ship] = control.throttle;
        self.ships.pitch[ship] = control.pitch;
        self.ships.yaw[ship] = control.yaw;
        self.ships.roll[ship] = control.roll;
        Ok(())
    }

    /// Sets a ship's attitude mode; [`AttitudeMode::Target`] needs a target, which other modes
    /// keep for later (or clear with `None`).
    pub fn set_attitude_mode(
        &mut self,
        ship: usize,
        mode: AttitudeMode,
        target: Option<AttitudeTarget>,
    ) -> Result<(), EngineError> {
        self.check_ship(ship)?;
        match target {
            Some(AttitudeTarget::Body(body)) => self.check_body(body)?,
            Some(AttitudeTarget::Ship(other)) if other == ship => return Err(EngineError::SelfTarget(ship)),
            Some(AttitudeTarget::Ship(other)) => self.check_ship(other)?,
            None if mode == AttitudeMode::Target => return Err(EngineError::MissingTarget),
            None => {}
        }
        self.ships.needs_attention[ship] = true;
        self.ships.attitude_mode[ship] = mode;
        self.ships.target[ship] = target;
        Ok(())
    }

    /// Changes the substep length (a tick-engine changing its rate or time scale). Takes effect
    /// at the next step; positions, and so the cached accelerations, are unchanged.
    pub fn set_substep(&mut self, substep: f64) -> Result<(), EngineError> {
        positive("substep", substep)?;
        self.params.substep = substep;
        Ok(())
    }

    /// Tops up a ship's tanks to `fuel_mass` kg (at most its capacity).
    pub fn set_fuel(&mut self, ship: usize, fuel_mass: f64) -> Result<(), EngineError> {
        self.check_ship(ship)?;
        in_range("ship fuel mass", fuel_mass, 0.0, self.ships.fuel_capacity[ship])?;
        self.ships.needs_attention[ship] = true;
        self.ships.fuel_mass[ship] = fuel_mass;
        Ok(())
    }

    fn check_ship(&self, ship: usize) -> Result<(), EngineError> {
        if ship < self.ships.len() { Ok(()) } else { Err(EngineError::NoSuchShip(ship)) }
    }

    fn check_body(&self, body: usize) -> Result<(), EngineError> {
        if body < self.bodies.len() { Ok(()) } else { Err(EngineError::NoSuchBody(body)) }
    }

    /// Advances `substeps` kick-drift-kick substeps of `params.substep` each. Bodies and ships
    /// move in the same substeps, so every kick sees all bodies at the same instant.
    pub fn step(&mut self, substeps: u32) -> StepReport {
        let mut report = StepReport { substeps, events: Vec::new() };
        if substeps == 0 {
            return report;
        }
        if !self.accelerations_current {
            self.compute_accelerations();
        }
        let mut plan = self.plan_tick();
        let duration = self.params.substep;
        let half = 0.5 * duration;
        for _ in 0..substeps {
            self.kick(half, &plan);
            self.drift(duration, &plan);
            self.turn(duration, &plan);
            self.compute_accelerations();
            self.kick(half, &plan);
            self.time += duration;
            self.step_count += 1;
            self.find_surface_contacts(&mut plan, &mut report.events);
        }
        report
    }

    fn plan_tick(&mut self) -> TickPlan {
        let ships = &self.ships;
        let mut plan = TickPlan::default();
        let awake: Vec<usize> = (0..ships.len()).filter(|&ship| ships.needs_attention[ship]).collect();
        let needs_hierarchy = awake
            .iter()
            .any(|&ship| ships.attitude_mode[ship].needs_dominant_body() && ships.status[ship] != ShipStatus::Crashed);
        let hierarchy = needs_hierarchy.then(|| self.sphere_of_influence());
        let (x, y, z) = self.bodies.positions();
        let mut quiet = Vec::new();
        for ship in awake {
            let thrusting =
                ships.throttle[ship] > 0.0 && ships.fuel_mass[ship] > 0.0 && ships.status[ship] != ShipStatus::Crashed;
            if thrusting {
                plan.thrusting.push(ship);
            }
            let turning = ships.needs_attitude_update(ship);
            if turning {
                // NOTE: the dominant body is chosen once per tick; crossing a sphere of influence
                // mid-tick only changes which body steering refers to one tick later.
                let dominant = hierarchy.as_ref().and_then(|soi| soi.dominant_body(ships.position(ship), x, y, z));
                plan.turning.push((ship, dominant));
            }
            let resting = ships.status[ship] != ShipStatus::Flying;
            if resting {
                plan.on_surface.push(ship);
            }
            if !thrusting && !turning && !resting {
                quiet.push(ship);
            }
        }
        for ship in quiet {
            self.ships.needs_attention[ship] = false;
        }
        plan
    }

    fn kick(&mut self, duration: f64, plan: &TickPlan) {
        self.bodies.kick(duration);
        let ships = &mut self.ships;
        kick_columns(&mut ships.velocity_x, &ships.acceleration_x, duration);
        kick_columns(&mut ships.velocity_y, &ships.acceleration_y, duration);
        kick_columns(&mut ships.velocity_z, &ships.acceleration_z, duration);
        for &ship in &plan.thrusting {
            ships.thrust_kick(ship, duration);
        }
        for &ship in &plan.on_surface {
            let Some(body) = self.ships_surface_body(ship) else { continue };
            let body_velocity = self.bodies.velocity(body);
            let ships = &mut self.ships;
            let up =
                DVec3::new(ships.surface_offset_x[ship], ships.surface_offset_y[ship], ships.surface_offset_z[ship])
                    .normalize_or_zero();
            let lifting = (ships.velocity(ship) - body_velocity).dot(up) > 0.0;
            if ships.status[ship] == ShipStatus::Landed && lifting {
                ships.status[ship] = ShipStatus::Flying;
                ships.surface_body[ship] = NO_BODY;
            } else {
                // The ground pushes back: a resting ship moves with its body.
                ships.set_velocity(ship, body_velocity);
            }
        }
    }

    fn ships_surface_body(&self, ship: usize) -> Option<usize> {
        let body = self.ships.surface_body[ship];
        (body != NO_BODY).then_some(body as usize)
    }

    fn drift(&mut self, duration: f64, plan: &TickPlan) {
        self.bodies.drift(duration);
        let ships = &mut self.ships;
        kick_columns(&mut ships.position_x, &ships.velocity_x, duration);
        kick_columns(&mut ships.position_y, &ships.velocity_y, duration);
        kick_columns(&mut ships.position_z, &ships.velocity_z, duration);
        for &ship in &plan.on_surface {
            let Some(body) = self.ships_surface_body(ship) else { continue };
            let ships = &mut self.ships;
            let offset =
                DVec3::new(ships.surface_offset_x[ship], ships.surface_offset_y[ship], ships.surface_offset_z[ship]);
            ships.set_position(ship, self.bodies.position(body) + offset);
        }
        self.accelerations_current = false;
    }

    fn turn(&mut self, duration: f64, plan: &TickPlan) {
        for &(ship, dominant) in &plan.turning {
            if self.ships.status[ship] == ShipStatus::Crashed {
                continue;
            }
            let desired = self.desired_forward(ship, dominant);
            self.ships.update_attitude(ship, desired, duration);
        }
    }

    /// The direction the attitude mode points at, or `None` to hold still.
    fn desired_forward(&self, ship: usize, dominant: Option<usize>) -> Option<DVec3> {
        let ships = &self.ships;
        let mode = ships.attitude_mode[ship];
        if mode == AttitudeMode::Target {
            let target_position = match ships.target[ship]? {
                AttitudeTarget::Body(body) => self.bodies.position(body),
                AttitudeTarget::Ship(other) => ships.position(other),
            };
            return Some(target_position - ships.position(ship));
        }
        if mode == AttitudeMode::Hold {
            return None;
        }
        let body = dominant?;
        let relative_position = ships.position(ship) - self.bodies.position(body);
        let relative_velocity = ships.velocity(ship) - self.bodies.velocity(body);
        let normal = relative_position.cross(relative_velocity);
        Some(match mode {
            AttitudeMode::Prograde => relative_velocity,
            AttitudeMode::Retrograde => -relative_velocity,
            AttitudeMode::Normal => normal,
            AttitudeMode::Antinormal => -normal,
            AttitudeMode::RadialIn => -relative_position,
            AttitudeMode::RadialOut => relative_position,
            AttitudeMode::Hold | AttitudeMode::Target => return None,
        })
    }

    /// Recomputes the gravitational accelerations of bodies and ships at the current positions.
    fn compute_accelerations(&mut self) {
        let softening_squared = self.params.softening * self.params.softening;
        let bodies = &mut self.bodies;
        let sources = SourceColumns {
            x: &bodies.position_x,
            y: &bodies.position_y,
            z: &bodies.position_z,
            gm: &self.gravitational_parameter,
            collision_threshold: &self.collision_threshold,
        };
        let tree = match self.params.gravity.for_bodies(sources.gm.len()) {
            GravityMethod::BarnesHut { opening_angle } => {
                Some(Octree::build(&sources, opening_angle, softening_squared))
            }
            GravityMethod::Direct | GravityMethod::Auto { .. } => None,
        };
        let body_output = AccelerationColumns {
            x: &mut bodies.acceleration_x,
            y: &mut bodies.acceleration_y,
            z: &mut bodies.acceleration_z,
            proximity: None,
        };
        match &tree {
            Some(tree) => tree.self_accelerations(self.kernel, body_output),
            None => compute_self_accelerations(self.kernel, &sources, softening_squared, body_output),
        }
        if let Some(correction) = self.params.post_newtonian {
            crate::relativity::add_post_newtonian(&mut self.bodies, &self.gravitational_parameter, correction);
        }
        if !self.ships.is_empty() {
            match &tree {
                Some(tree) => self.ship_accelerations_from_tree(tree, softening_squared),
                None => self.ship_accelerations_direct(softening_squared),
            }
        }
        self.accelerations_current = true;
    }

    fn ship_accelerations_direct(&mut self, softening_squared: f64) {
        let bodies = &self.bodies;
        let sources = SourceColumns {
            x: &bodies.position_x,
            y: &bodies.position_y,
            z: &bodies.position_z,
            gm: &self.gravitational_parameter,
            collision_threshold: &self.collision_threshold,
        };
        let ships = &mut self.ships;
        let ship_targets = TargetColumns { x: &ships.position_x, y: &ships.position_y, z: &ships.position_z };
        compute_accelerations(
            self.kernel,
            &sources,
            &ship_targets,
            softening_squared,
            AccelerationColumns {
                x: &mut ships.acceleration_x,
                y: &mut ships.acceleration_y,
                z: &mut ships.acceleration_z,
                proximity: Some(&mut ships.proximity),
            },
        );
    }

    /// Ships through the tree; their surface test runs directly against the bodies that have a
    /// surface (radius > 0), which are few even when the bodies are many (stars have none).
    fn ship_accelerations_from_tree(&mut self, tree: &Octree, softening_squared: f64) {
        let ships = &mut self.ships;
        let ship_targets = TargetColumns { x: &ships.position_x, y: &ships.position_y, z: &ships.position_z };
        tree.accelerations_at(
            self.kernel,
            &ship_targets,
            AccelerationColumns {
                x: &mut ships.acceleration_x,
                y: &mut ships.acceleration_y,
                z: &mut ships.acceleration_z,
                proximity: None,
            },
        );
        let solid: Vec<usize> = (0..self.bodies.len()).filter(|&body| self.bodies.radius[body] > 0.0).collect();
        if solid.is_empty() {
            ships.proximity.fill(f64::INFINITY);
            return;
        }
        let gather = |column: &[f64]| solid.iter().map(|&body| column[body]).collect::<Vec<f64>>();
        let bodies = &self.bodies;
        let (x, y, z) = (gather(&bodies.position_x), gather(&bodies.position_y), gather(&bodies.position_z));
        let (gm, threshold) = (gather(&self.gravitational_parameter), gather(&self.collision_threshold));
        let count = ships.len();
        let mut scratch = [vec![0.0; count], vec![0.0; count], vec![0.0; count]];
        let [scratch_x, scratch_y, scratch_z] = &mut scratch;
        compute_accelerations(
            self.kernel,
            &SourceColumns { x: &x, y: &y, z: &z, gm: &gm, collision_threshold: &threshold },
            &ship_targets,
            softening_squared,
            AccelerationColumns { x: scratch_x, y: scratch_y, z: scratch_z, proximity: Some(&mut ships.proximity) },
        );
    }

    /// Lands or crashes every flying ship that the last force evaluation found inside a body.
    fn find_surface_contacts(&mut self, plan: &mut TickPlan, events: &mut Vec<ShipEvent>) {
        // PERF: a branch-free count per block (vectorised) skips the blocks where no ship is
        // inside any body, which is nearly all of them.
        const SCAN: usize = 256;
        let candidates: Vec<usize> = self
            .ships
            .proximity
            .chunks(SCAN)
            .enumerate()
            .filter(|(_, block)| block.iter().filter(|&&proximity| proximity < 0.0).count() > 0)
            .flat_map(|(block, values)| {
                let start = block * SCAN;
                (start..start + values.len()).filter(|&ship| self.ships.proximity[ship] < 0.0)
            })
            .collect();
        for ship in candidates {
            if self.ships.status[ship] != ShipStatus::Flying {
                continue;
            }
            let position = self.ships.position(ship);
            // The deepest body wins (bodies do not overlap in practice).
            let mut touched: Option<(usize, f64)> = None;
            for body in 0..self.bodies.len() {
                let depth = self.bodies.radius[body] * self.bodies.radius[body]
                    - position.distance_squared(self.bodies.position(body));
                if depth > 0.0 && touched.is_none_or(|(_, deepest)| depth > deepest) {
                    touched = Some((body, depth));
                }
            }
            let Some((body, _)) = touched else { continue };
            let offset = position - self.bodies.position(body);
            let up = offset.try_normalize().unwrap_or(DVec3::Z);
            let relative_velocity = self.ships.velocity(ship) - self.bodies.velocity(body);
            let vertical_speed = relative_velocity.dot(up).abs();
            let forward = self.ships.attitude(ship) * SHIP_FORWARD;
            let tilt_degrees = forward.dot(up).clamp(-1.0, 1.0).acos().to_degrees();
            let contact = if vertical_speed < MAX_LANDING_VERTICAL_SPEED && tilt_degrees < MAX_LANDING_TILT_DEGREES {
                SurfaceContact::Landed
            } else {
                SurfaceContact::Crashed
            };
            // NOTE: resting a hair above the surface keeps rounding from re-detecting contact
            // the moment the ship lifts off.
            let resting_offset = up * self.bodies.radius[body] * (1.0 + 1e-9);
            let ships = &mut self.ships;
            ships.status[ship] =
                if contact == SurfaceContact::Landed { ShipStatus::Landed } else { ShipStatus::Crashed };
            ships.surface_body[ship] = body as u32;
            ships.surface_offset_x[ship] = resting_offset.x;
            ships.surface_offset_y[ship] = resting_offset.y;
            ships.surface_offset_z[ship] = resting_offset.z;
            ships.set_position(ship, self.bodies.position(body) + resting_offset);
            ships.set_velocity(ship, self.bodies.velocity(body));
            if contact == SurfaceContact::Crashed {
                ships.throttle[ship] = 0.0;
                ships.set_angular_velocity(ship, DVec3::ZERO);
            }
            ships.needs_attention[ship] = true;
            plan.on_surface.push(ship);
            events.push(ShipEvent { ship, body, contact, vertical_speed, tilt_degrees, time: self.time });
        }
    }

    /// Energy, linear and angular momentum of the bodies (ships are test particles and carry none).
    #[must_use]
    pub fn diagnostics(&self) -> Diagnostics {
        Diagnostics::of_bodies(&self.bodies, self.params.gravitational_constant, self.params.softening)
    }

    /// The bodies' sphere-of-influence hierarchy at the current positions.
    #[must_use]
    pub fn sphere_of_influence(&self) -> SphereOfInfluence {
        let (x, y, z) = self.bodies.positions();
        SphereOfInfluence::new(&self.bodies.mass, x, y, z)
    }

    /// The body whose sphere of influence is the smallest containing `point`.
    #[must_use]
    pub fn dominant_body(&self, point: DVec3) -> Option<usize> {
        let (x, y, z) = self.bodies.positions();
        self.sphere_of_influence().dominant_body(point, x, y, z)
    }

    /// Orbital elements of a state (absolute position and velocity) around `body`, with the
    /// body's `G m` as the gravitational parameter (the orbiter is a test particle).
    pub fn orbital_elements_around(
        &self,
        body: usize,
        position: DVec3,
        velocity: DVec3,
    ) -> Result<Option<OrbitalElements>, EngineError> {
        self.check_body(body)?;
        Ok(OrbitalElements::from_state(
            position - self.bodies.position(body),
            velocity - self.bodies.velocity(body),
            self.gravitational_parameter[body],
        ))
    }

    /// A ship's dominant body and its orbit around it.
    pub fn ship_orbit(&self, ship: usize) -> Result<Option<(usize, OrbitalElements)>, EngineError> {
        self.check_ship(ship)?;
        let position = self.ships.position(ship);
        let Some(body) = self.dominant_body(position) else { return Ok(None) };
        Ok(self.orbital_elements_around(body, position, self.ships.velocity(ship))?.map(|elements| (body, elements)))
    }

    /// A body's orbit around its parent in the sphere-of-influence hierarchy, with
    /// `G (M + m)` as the gravitational parameter.
    pub fn body_orbit(&self, body: usize) -> Result<Option<(usize, OrbitalElements)>, EngineError> {
        self.check_body(body)?;
        let Some(parent) = self.sphere_of_influence().parent(body) else { return Ok(None) };
        let elements = OrbitalElements::from_state(
            self.bodies.position(body) - self.bodies.position(parent),
            self.bodies.velocity(body) - self.bodies.velocity(parent),
            self.gravitational_parameter[parent] + self.gravitational_parameter[body],
        );
        Ok(elements.map(|elements| (parent, elements)))
    }

    /// The path the ship would follow coasting (throttle zero, attitude held) over the horizon,
    /// integrated by the same leapfrog on a copy of the bodies and that one ship.
    pub fn predict_ship_trajectory(
        &self,
        ship: usize,
        prediction: PredictionParams,
    ) -> Result<Trajectory, EngineError> {
        self.check_ship(ship)?;
        positive("prediction horizon", prediction.horizon)?;
        positive("prediction step", prediction.step)?;
        let step_count = (prediction.horizon / prediction.step).ceil();
        in_range("prediction steps (horizon / step)", step_count, 1.0, MAX_PREDICTION_STEPS)?;
        in_range("prediction samples", prediction.samples as f64, 2.0, MAX_PREDICTION_STEPS)?;

        let mut copy = Simulation::new(SimParams { substep: prediction.horizon / step_count, ..self.params })?;
        copy.bodies = self.bodies.clone();
        copy.gravitational_parameter = self.gravitational_parameter.clone();
        copy.collision_threshold = self.collision_threshold.clone();
        copy.time = self.time;
        let state = self.ships.state(ship);
        let lone = copy.add_ship(ShipInit {
            class: crate::ships::ShipClass {
                name: "prediction",
                dry_mass: state.dry_mass,
                fuel_capacity: state.fuel_capacity,
                max_thrust: 0.0,
                specific_impulse: 1.0,
                max_angular_acceleration: 0.0,
                max_angular_rate: 0.0,
            },
            fuel_mass: state.fuel_mass,
            position: state.position,
            velocity: state.velocity,
            attitude: DQuat::IDENTITY,
        })?;
        copy.ships.status[lone] = state.status;
        copy.ships.surface_body[lone] = self.ships.surface_body[ship];
        copy.ships.surface_offset_x[lone] = self.ships.surface_offset_x[ship];
        copy.ships.surface_offset_y[lone] = self.ships.surface_offset_y[ship];
        copy.ships.surface_offset_z[lone] = self.ships.surface_offset_z[ship];

        let reference_body = self.dominant_body(state.position);
        let total_steps = step_count as u64;
        let mut points = Vec::with_capacity(prediction.samples);
        let mut ends_in = None;
        let mut taken = 0_u64;
        for sample in 0..prediction.samples {
            let wanted = (total_steps as u128 * sample as u128 / (prediction.samples as u128 - 1)) as u64;
            if wanted > taken {
                let report = copy.step((wanted - taken) as u32);
                taken = wanted;
                if let Some(event) = report.events.first() {
                    ends_in = Some(event.contact);
                }
            }
            let position = copy.ships.position(lone);
            let reference = reference_body.map_or(DVec3::ZERO, |body| copy.bodies.position(body));
            points.push(TrajectoryPoint { time: copy.time, position, relative_position: position - reference });
            if ends_in.is_some() {
                break;
            }
        }
        Ok(Trajectory { reference_body, points, ends_in })
    }
}
