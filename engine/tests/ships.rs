//! Ships: fuel never goes negative, no fuel means no thrust, the Δv spent matches the rocket
//! equation, attitude modes steer with bounded angular acceleration, and touching a surface
//! lands or crashes the ship.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{
    AttitudeMode, AttitudeTarget, BodyInit, DQuat, DVec3, SHIP_FORWARD, STANDARD_GRAVITY, ShipClass, ShipControl,
    ShipInit, ShipStatus, SimParams, Simulation, SurfaceContact,
};
use proptest::prelude::*;

fn free_space() -> Simulation {
    Simulation::new(SimParams { gravitational_constant: 0.0, substep: 0.1, ..SimParams::default() }).unwrap()
}

fn throttle(value: f64) -> ShipControl {
    ShipControl { throttle: value, ..ShipControl::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fuel_never_goes_negative_and_never_increases(
        fuel_fraction in 0.0..=1.0_f64,
        burns in prop::collection::vec((0.0..=1.0_f64, 1_u32..400), 1..8),
    ) {
        let mut simulation = free_space();
        let class = ShipClass::FAST_FRIGATE;
        let ship = simulation
            .add_ship(ShipInit { fuel_mass: class.fuel_capacity * fuel_fraction, ..ShipInit::new(class, DVec3::ZERO, DVec3::ZERO) })
            .unwrap();
        let mut previous = simulation.ships().state(ship).fuel_mass;
        for (throttle_value, substeps) in burns {
            simulation.set_control(ship, throttle(throttle_value)).unwrap();
            simulation.step(substeps);
            let fuel = simulation.ships().state(ship).fuel_mass;
            prop_assert!(fuel >= 0.0, "fuel {fuel}");
            prop_assert!(fuel <= previous);
            previous = fuel;
        }
    }
}

#[test]
fn an_empty_tank_gives_no_thrust() {
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    simulation
        .add_body(BodyInit { mass: 5.972e24, radius: 6.371e6, position: DVec3::ZERO, velocity: DVec3::ZERO })
        .unwrap();
    let start = ShipInit {
        fuel_mass: 0.0,
        ..ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::new(7e6, 0.0, 0.0), DVec3::new(0.0, 7.5e3, 0.0))
    };
    let empty_burning = simulation.add_ship(start).unwrap();
    let coasting = simulation.add_ship(start).unwrap();
    simulation.set_control(empty_burning, throttle(1.0)).unwrap();
    simulation.step(500);
    let ships = simulation.ships();
    assert_eq!(ships.position(empty_burning), ships.position(coasting));
    assert_eq!(ships.velocity(empty_burning), ships.velocity(coasting));
}

#[test]
fn delta_v_matches_the_rocket_equation_until_the_tank_is_empty() {
    for class in ShipClass::ALL {
        let mut simulation = free_space();
        let attitude = DQuat::from_rotation_y(0.7) * DQuat::from_rotation_x(-0.3);
        let ship =
            simulation.add_ship(ShipInit { attitude, ..ShipInit::new(class, DVec3::ZERO, DVec3::ZERO) }).unwrap();
        simulation.set_control(ship, throttle(0.5)).unwrap();
        let exhaust_velocity = class.specific_impulse * STANDARD_GRAVITY;
        let mass_flow = 0.5 * class.max_thrust / exhaust_velocity;

        // A partial burn: Δv = v_e ln(m0/m1), along the forward axis, at the right fuel rate.
        simulation.step(100);
        let state = simulation.ships().state(ship);
        let burned = class.fuel_capacity - state.fuel_mass;
        assert!((burned / (mass_flow * 10.0) - 1.0).abs() < 1e-12, "{}: burned {burned}", class.name);
        let expected = exhaust_velocity * ((class.dry_mass + class.fuel_capacity) / state.mass()).ln();
        // NOTE: ln(m0/m1) of a small burn amplifies the rounding of the fuel column: 1e-10 is
        // rounding, a wrong formula (or a missing half kick) is off by percent.
        assert!(
            (state.velocity.length() / expected - 1.0).abs() < 1e-10,
            "{}: {} vs {expected}",
            class.name,
            state.velocity.length()
        );
        assert!(state.velocity.normalize().dot(attitude * SHIP_FORWARD) > 1.0 - 1e-12);

        // Burn to empty: total Δv is the class's full rocket-equation budget, then no more.
        let burn_time = class.fuel_capacity / mass_flow;
        simulation.step((burn_time / 0.1) as u32 + 10);
        let state = simulation.ships().state(ship);
        assert_eq!(state.fuel_mass, 0.0);
        let budget = exhaust_velocity * ((class.dry_mass + class.fuel_capacity) / class.dry_mass).ln();
        assert!(
            (state.velocity.length() / budget - 1.0).abs() < 1e-11,
            "{}: {} vs {budget}",
            class.name,
            state.velocity.length()
        );
        assert_eq!(state.delta_v_remaining(), 0.0);
    }
}

#[test]
fn prograde_mode_turns_the_ship_onto_its_velocity_with_bounded_angular_acceleration() {
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    let planet = simulation
        .add_body(BodyInit { mass: 5.972e24, radius: 6.371e6, position: DVec3::ZERO, velocity: DVec3::ZERO })
        .unwrap();
    let radius = 7.0e6;
    let speed = (simulation.params().gravitational_constant * 5.972e24 / radius).sqrt();
    // Facing backwards (−Y) while moving +Y: the worst case, a half turn.
    let attitude = DQuat::from_rotation_arc(SHIP_FORWARD, -DVec3::Y);
    let class = ShipClass::FAST_FRIGATE;
    let ship = simulation
        .add_ship(ShipInit {
            attitude,
            ..ShipInit::new(class, DVec3::new(radius, 0.0, 0.0), DVec3::new(0.0, speed, 0.0))
        })
        .unwrap();
    simulation.set_attitude_mode(ship, AttitudeMode::Prograde, None).unwrap();
    let mut previous_rate = DVec3::ZERO;
    for _ in 0..300 {
        simulation.step(1);
        let state = simulation.ships().state(ship);
        let change = (state.angular_velocity - previous_rate).length();
        assert!(change <= class.max_angular_acceleration * 0.1 * (1.0 + 1e-9), "angular acceleration too large");
        assert!(state.angular_velocity.length() <= class.max_angular_rate * (1.0 + 1e-9));
        previous_rate = state.angular_velocity;
    }
    let state = simulation.ships().state(ship);
    let relative_velocity = state.velocity - simulation.bodies().velocity(planet);
    let misalignment = state.forward().angle_between(relative_velocity).to_degrees();
    assert!(misalignment < 1.0, "still {misalignment}° off prograde after 30 s");
    assert_eq!(state.attitude_mode, AttitudeMode::Prograde);
}

#[test]
fn every_directional_mode_points_where_it_says() {
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    simulation
        .add_body(BodyInit { mass: 5.972e24, radius: 6.371e6, position: DVec3::ZERO, velocity: DVec3::ZERO })
        .unwrap();
    let position = DVec3::new(7.0e6, 0.0, 0.0);
    let velocity = DVec3::new(0.0, 7.5e3, 0.0);
    let cases = [
        (AttitudeMode::Prograde, DVec3::Y),
        (AttitudeMode::Retrograde, -DVec3::Y),
        (AttitudeMode::Normal, DVec3::Z),
        (AttitudeMode::Antinormal, -DVec3::Z),
        (AttitudeMode::RadialOut, DVec3::X),
        (AttitudeMode::RadialIn, -DVec3::X),
    ];
    for (mode, expected) in cases {
        let mut copy = simulation.clone();
        let ship = copy.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, position, velocity)).unwrap();
        copy.set_attitude_mode(ship, mode, None).unwrap();
        copy.step(10);
        for _ in 0..40 {
            copy.step(10);
        }
        // Directions rotate slowly as the ship moves along its orbit; compare at the end.
        let state = copy.ships().state(ship);
        let rotation = DQuat::from_rotation_z(state.position.y.atan2(state.position.x));
        let misalignment = state.forward().angle_between(rotation * expected).to_degrees();
        assert!(misalignment < 2.0, "{}: {misalignment}° off", mode.name());
    }
}

#[test]
fn target_mode_points_at_the_target_and_hold_stops_rotation() {
    let mut simulation = free_space();
    let ship = simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::ZERO, DVec3::ZERO)).unwrap();
    let other =
        simulation.add_ship(ShipInit::new(ShipClass::CARGO_HAULER, DVec3::new(1e3, 1e3, 0.0), DVec3::ZERO)).unwrap();
    simulation.set_attitude_mode(ship, AttitudeMode::Target, Some(AttitudeTarget::Ship(other))).unwrap();
    simulation.step(200);
    let state = simulation.ships().state(ship);
    assert!(state.forward().angle_between(DVec3::new(1.0, 1.0, 0.0)).to_degrees() < 0.5);

    // Manual rotation, then hold: the ship stops turning and keeps its new attitude.
    simulation.set_attitude_mode(ship, AttitudeMode::Hold, None).unwrap();
    simulation.set_control(ship, ShipControl { yaw: 1.0, ..ShipControl::default() }).unwrap();
    simulation.step(10);
    assert!(simulation.ships().state(ship).angular_velocity.length() > 0.0);
    simulation.set_control(ship, ShipControl::default()).unwrap();
    simulation.step(100);
    let held = simulation.ships().state(ship);
    assert_eq!(held.angular_velocity, DVec3::ZERO);
    simulation.step(100);
    assert_eq!(simulation.ships().state(ship).attitude, held.attitude);
}

#[test]
fn removing_a_target_ship_returns_its_followers_to_hold() {
    let mut simulation = free_space();
    let follower = simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::ZERO, DVec3::ZERO)).unwrap();
    let target = simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::X, DVec3::ZERO)).unwrap();
    let last = simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::Y, DVec3::ZERO)).unwrap();
    simulation.set_attitude_mode(follower, AttitudeMode::Target, Some(AttitudeTarget::Ship(target))).unwrap();
    simulation.set_attitude_mode(last, AttitudeMode::Target, Some(AttitudeTarget::Ship(follower))).unwrap();
    assert_eq!(simulation.remove_ship(target).unwrap(), Some(last));
    assert_eq!(simulation.ships().state(follower).attitude_mode, AttitudeMode::Hold);
    // The last ship moved into slot `target` and still follows the follower.
    assert_eq!(simulation.ships().state(target).target, Some(AttitudeTarget::Ship(follower)));
    assert_eq!(simulation.ships().len(), 2);
    // Every column shrank together: the survivors keep stepping and steering.
    simulation.step(50);
    assert_eq!(simulation.remove_ship(1).unwrap(), None);
    simulation.step(50);
    assert_eq!(simulation.ships().len(), 1);
}

fn drop_onto_moon(vertical_speed: f64, tilt_radians: f64) -> (Simulation, usize, Vec<galaxy_engine::ShipEvent>) {
    let mut simulation = Simulation::new(SimParams { substep: 0.05, ..SimParams::default() }).unwrap();
    let moon = simulation
        .add_body(BodyInit {
            mass: 7.342e22,
            radius: 1.7374e6,
            position: DVec3::ZERO,
            velocity: DVec3::new(1e3, 0.0, 0.0),
        })
        .unwrap();
    let attitude = DQuat::from_rotation_arc(SHIP_FORWARD, DVec3::X) * DQuat::from_rotation_y(tilt_radians);
    let ship = simulation
        .add_ship(ShipInit {
            attitude: DQuat::from_rotation_arc(SHIP_FORWARD, DVec3::X).slerp(attitude, 1.0),
            ..ShipInit::new(
                ShipClass::FAST_FRIGATE,
                DVec3::new(1.7374e6 + 2.0, 0.0, 0.0),
                DVec3::new(1e3 - vertical_speed, 0.0, 0.0),
            )
        })
        .unwrap();
    assert_eq!(moon, 0);
    let mut events = Vec::new();
    for _ in 0..100 {
        events.extend(simulation.step(1).events);
    }
    (simulation, ship, events)
}

#[test]
fn a_slow_upright_touchdown_lands_and_the_ship_moves_with_the_body() {
    let (mut simulation, ship, events) = drop_onto_moon(3.0, 0.0);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].contact, SurfaceContact::Landed);
    assert!(events[0].vertical_speed < 10.0 && events[0].tilt_degrees < 1.0);
    let state = simulation.ships().state(ship);
    assert_eq!(state.status, ShipStatus::Landed);
    assert_eq!(state.surface_body, Some(0));
    assert_eq!(state.velocity, simulation.bodies().velocity(0));
    let altitude = state.position.distance(simulation.bodies().position(0)) - 1.7374e6;
    assert!((0.0..0.01).contains(&altitude), "altitude {altitude}");

    // Full thrust upward (lunar gravity 1.6 m/s², frigate 26 m/s²) takes off again.
    simulation.set_control(ship, throttle(1.0)).unwrap();
    simulation.step(20);
    let state = simulation.ships().state(ship);
    assert_eq!(state.status, ShipStatus::Flying);
    assert!(state.position.distance(simulation.bodies().position(0)) > 1.7374e6 + 1.0);
}

#[test]
fn a_fast_or_tilted_touchdown_crashes() {
    for (speed, tilt) in [(40.0, 0.0), (3.0, 50_f64.to_radians())] {
        let (simulation, ship, events) = drop_onto_moon(speed, tilt);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].contact, SurfaceContact::Crashed, "speed {speed}, tilt {tilt}");
        let state = simulation.ships().state(ship);
        assert_eq!(state.status, ShipStatus::Crashed);
        assert_eq!(state.control.throttle, 0.0);
    }
}
