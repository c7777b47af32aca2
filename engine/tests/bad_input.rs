//! Bad input (NaN/Inf, negative mass, dt ≤ 0, out-of-range controls, unknown indices) is
//! rejected with a typed error and leaves the simulation exactly as it was.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{
    AttitudeMode, AttitudeTarget, BodyInit, DQuat, DVec3, EngineError, ShipClass, ShipControl, ShipInit, SimParams,
    Simulation,
};

fn body(mass: f64, position: DVec3) -> BodyInit {
    BodyInit { mass, radius: 1.0, position, velocity: DVec3::ZERO }
}

#[test]
fn parameters_with_non_positive_step_or_non_finite_values_are_refused() {
    for substep in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Simulation::new(SimParams { substep, ..SimParams::default() }).is_err(), "substep {substep}");
    }
    assert!(matches!(
        Simulation::new(SimParams { softening: -0.1, ..SimParams::default() }),
        Err(EngineError::Negative { .. })
    ));
    assert!(Simulation::new(SimParams { gravitational_constant: f64::NAN, ..SimParams::default() }).is_err());
    for speed_of_light in [0.0, -1.0, f64::NAN] {
        let post_newtonian = Some(galaxy_engine::PostNewtonian { speed_of_light });
        assert!(Simulation::new(SimParams { post_newtonian, ..SimParams::default() }).is_err());
    }
}

#[test]
fn bad_bodies_and_ships_are_refused_and_change_nothing() {
    let mut simulation = Simulation::new(SimParams::default()).unwrap();
    simulation.add_body(body(1e20, DVec3::ZERO)).unwrap();
    let ship =
        simulation.add_ship(ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::new(1e7, 0.0, 0.0), DVec3::ZERO)).unwrap();
    let before = simulation.to_snapshot();

    assert!(matches!(simulation.add_body(body(-1.0, DVec3::X)), Err(EngineError::Negative { .. })));
    assert!(matches!(
        simulation.add_body(body(1.0, DVec3::new(f64::NAN, 0.0, 0.0))),
        Err(EngineError::NonFinite { .. })
    ));
    assert!(simulation.add_body(BodyInit { velocity: DVec3::splat(f64::INFINITY), ..body(1.0, DVec3::X) }).is_err());
    assert!(simulation.add_body(BodyInit { radius: -2.0, ..body(1.0, DVec3::X) }).is_err());

    let good = ShipInit::new(ShipClass::FAST_FRIGATE, DVec3::X, DVec3::ZERO);
    assert!(simulation.add_ship(ShipInit { position: DVec3::new(0.0, f64::NEG_INFINITY, 0.0), ..good }).is_err());
    assert!(simulation.add_ship(ShipInit { fuel_mass: -1.0, ..good }).is_err());
    assert!(simulation.add_ship(ShipInit { fuel_mass: 1e9, ..good }).is_err());
    assert!(simulation.add_ship(ShipInit { attitude: DQuat::from_xyzw(0.0, 0.0, 0.0, 0.0), ..good }).is_err());
    assert!(simulation.add_ship(ShipInit { attitude: DQuat::from_xyzw(f64::NAN, 0.0, 0.0, 1.0), ..good }).is_err());
    // Found by fuzz/engine_commands: so small that normalising it gave a quaternion 1 + 6e-6 long.
    assert!(
        simulation.add_ship(ShipInit { attitude: DQuat::from_xyzw(1e-160, 1e-160, 1e-160, 1e-160), ..good }).is_err()
    );
    let tiny_but_normal = simulation.add_ship(ShipInit { attitude: DQuat::from_xyzw(0.0, 0.0, 0.0, 1e-150), ..good });
    assert!(
        tiny_but_normal.is_ok_and(|index| simulation.remove_ship(index).is_ok()),
        "1e-150 still normalises exactly"
    );
    let weightless = ShipClass { dry_mass: 0.0, ..ShipClass::FAST_FRIGATE };
    assert!(simulation.add_ship(ShipInit::new(weightless, DVec3::X, DVec3::ZERO)).is_err());

    for control in [
        ShipControl { throttle: 1.5, ..ShipControl::default() },
        ShipControl { throttle: -0.1, ..ShipControl::default() },
        ShipControl { throttle: f64::NAN, ..ShipControl::default() },
        ShipControl { pitch: 2.0, ..ShipControl::default() },
        ShipControl { roll: f64::INFINITY, ..ShipControl::default() },
    ] {
        assert!(simulation.set_control(ship, control).is_err(), "{control:?}");
    }
    assert_eq!(simulation.set_control(9, ShipControl::default()), Err(EngineError::NoSuchShip(9)));
    assert_eq!(simulation.set_attitude_mode(ship, AttitudeMode::Target, None), Err(EngineError::MissingTarget));
    assert_eq!(
        simulation.set_attitude_mode(ship, AttitudeMode::Target, Some(AttitudeTarget::Ship(ship))),
        Err(EngineError::SelfTarget(ship))
    );
    assert_eq!(
        simulation.set_attitude_mode(ship, AttitudeMode::Target, Some(AttitudeTarget::Body(4))),
        Err(EngineError::NoSuchBody(4))
    );
    assert!(simulation.set_fuel(ship, -3.0).is_err());
    assert_eq!(simulation.remove_ship(5), Err(EngineError::NoSuchShip(5)));
    for substep in [0.0, -1.0, f64::NAN] {
        assert!(simulation.set_substep(substep).is_err());
    }

    assert_eq!(simulation.to_snapshot(), before, "a refused input changed the state");
}

#[test]
fn errors_read_clearly() {
    let error = Simulation::new(SimParams { substep: 0.0, ..SimParams::default() }).unwrap_err();
    assert_eq!(error.to_string(), "substep must be greater than zero, got 0");
}
