//! Orbital elements match known cases (circular, elliptic, hyperbolic, inclined), the
//! sphere-of-influence hierarchy picks the body a pilot would expect, and a predicted coasting
//! path follows the orbit the elements describe.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{
    BodyInit, DVec3, EngineError, OrbitalElements, PredictionParams, ShipClass, ShipInit, SimParams, Simulation,
};

const MU: f64 = 3.986004418e14;

#[test]
fn circular_orbit_has_zero_eccentricity_and_equal_apsides() {
    let radius = 7.0e6;
    let elements =
        OrbitalElements::from_state(DVec3::new(radius, 0.0, 0.0), DVec3::new(0.0, (MU / radius).sqrt(), 0.0), MU)
            .unwrap();
    assert!(elements.eccentricity < 1e-12);
    assert!((elements.semi_major_axis / radius - 1.0).abs() < 1e-12);
    assert!((elements.apoapsis.unwrap() / radius - 1.0).abs() < 1e-12);
    assert!((elements.periapsis / radius - 1.0).abs() < 1e-12);
    let period = std::f64::consts::TAU * (radius.powi(3) / MU).sqrt();
    assert!((elements.period.unwrap() / period - 1.0).abs() < 1e-12);
    assert_eq!(elements.inclination, 0.0);
}

#[test]
fn elliptic_orbit_from_periapsis_speed() {
    let (periapsis, eccentricity) = (7.0e6, 0.4);
    let speed = (MU * (1.0 + eccentricity) / periapsis).sqrt();
    let elements =
        OrbitalElements::from_state(DVec3::new(0.0, -periapsis, 0.0), DVec3::new(speed, 0.0, 0.0), MU).unwrap();
    let semi_major_axis = periapsis / (1.0 - eccentricity);
    assert!((elements.eccentricity - eccentricity).abs() < 1e-12);
    assert!((elements.semi_major_axis / semi_major_axis - 1.0).abs() < 1e-12);
    assert!((elements.apoapsis.unwrap() / (semi_major_axis * 1.4) - 1.0).abs() < 1e-12);
    assert!((elements.periapsis / periapsis - 1.0).abs() < 1e-12);
}

#[test]
fn hyperbolic_orbit_has_no_apoapsis_or_period() {
    let radius = 7.0e6;
    let escape = (2.0 * MU / radius).sqrt();
    let elements =
        OrbitalElements::from_state(DVec3::new(radius, 0.0, 0.0), DVec3::new(0.0, 1.5 * escape, 0.0), MU).unwrap();
    assert!(elements.eccentricity > 1.0);
    assert!(elements.semi_major_axis < 0.0);
    assert_eq!(elements.apoapsis, None);
    assert_eq!(elements.period, None);
    assert!((elements.periapsis / radius - 1.0).abs() < 1e-12);
}

#[test]
fn inclination_is_the_angle_of_the_orbit_normal() {
    let radius = 7.0e6;
    let speed = (MU / radius).sqrt();
    let inclination = 51.6_f64.to_radians();
    let velocity = DVec3::new(0.0, speed * inclination.cos(), speed * inclination.sin());
    let elements = OrbitalElements::from_state(DVec3::new(radius, 0.0, 0.0), velocity, MU).unwrap();
    assert!((elements.inclination - inclination).abs() < 1e-12);
    assert!(OrbitalElements::from_state(DVec3::ZERO, velocity, MU).is_none());
    assert!(OrbitalElements::from_state(DVec3::X, velocity, 0.0).is_none());
}

fn sun_earth_moon() -> Simulation {
    let mut simulation = Simulation::new(SimParams { substep: 10.0, ..SimParams::default() }).unwrap();
    let au = 1.495978707e11;
    let earth_speed = 29_780.0;
    for (mass, radius, position, velocity) in [
        (1.989e30, 6.957e8, DVec3::ZERO, DVec3::ZERO),
        (5.972e24, 6.371e6, DVec3::new(au, 0.0, 0.0), DVec3::new(0.0, earth_speed, 0.0)),
        (7.342e22, 1.7374e6, DVec3::new(au + 3.844e8, 0.0, 0.0), DVec3::new(0.0, earth_speed + 1_022.0, 0.0)),
    ] {
        simulation.add_body(BodyInit { mass, radius, position, velocity }).unwrap();
    }
    simulation
}

#[test]
fn sphere_of_influence_hierarchy_picks_the_expected_dominant_body() {
    let simulation = sun_earth_moon();
    let soi = simulation.sphere_of_influence();
    assert_eq!(soi.parent(0), None);
    assert_eq!(soi.parent(1), Some(0));
    assert_eq!(soi.parent(2), Some(1));
    // Earth's sphere of influence is about 925,000 km; the Moon's about 66,000 km.
    assert!((soi.radius(1) / 9.25e8 - 1.0).abs() < 0.01, "{}", soi.radius(1));
    assert!((soi.radius(2) / 6.6e7 - 1.0).abs() < 0.02, "{}", soi.radius(2));
    let earth = simulation.bodies().position(1);
    let moon = simulation.bodies().position(2);
    assert_eq!(simulation.dominant_body(earth + DVec3::new(0.0, 7e6, 0.0)), Some(1));
    // 800,000 km out the Sun pulls harder than the Earth, yet the Earth still dominates the orbit.
    assert_eq!(simulation.dominant_body(earth + DVec3::new(0.0, -8e8, 0.0)), Some(1));
    assert_eq!(simulation.dominant_body(moon + DVec3::new(0.0, 2e6, 0.0)), Some(2));
    assert_eq!(simulation.dominant_body(earth + DVec3::new(0.0, 2e9, 0.0)), Some(0));
    let (parent, moon_orbit) = simulation.body_orbit(2).unwrap().unwrap();
    assert_eq!(parent, 1);
    assert!(moon_orbit.eccentricity < 0.1);
}

#[test]
fn a_predicted_coast_closes_its_orbit_after_one_period() {
    let mut simulation = sun_earth_moon();
    let earth = 1;
    let radius = 7.0e6;
    let speed = (simulation.params().gravitational_constant * 5.972e24 / radius).sqrt();
    let ship = simulation
        .add_ship(ShipInit::new(
            ShipClass::FAST_FRIGATE,
            simulation.bodies().position(earth) + DVec3::new(radius, 0.0, 0.0),
            simulation.bodies().velocity(earth) + DVec3::new(0.0, 0.0, speed),
        ))
        .unwrap();
    let (body, elements) = simulation.ship_orbit(ship).unwrap().unwrap();
    assert_eq!(body, earth);
    let period = elements.period.unwrap();
    let trajectory = simulation
        .predict_ship_trajectory(ship, PredictionParams { horizon: period, step: 5.0, samples: 121 })
        .unwrap();
    assert_eq!(trajectory.reference_body, Some(earth));
    assert_eq!(trajectory.points.len(), 121);
    assert_eq!(trajectory.ends_in, None);
    let first = trajectory.points[0].relative_position;
    let last = trajectory.points[120].relative_position;
    // Closes to within a few km (solar tide and Moon perturb a bit), having gone all the way round.
    assert!(first.distance(last) < 5e3, "gap {} m", first.distance(last));
    let halfway = trajectory.points[60].relative_position;
    assert!((halfway + first).length() < 5e4, "half an orbit later the ship should be opposite");
    assert!((trajectory.points[120].time - simulation.time() - period).abs() < 1e-6);
    // The prediction did not move the real ship.
    assert_eq!(
        simulation.ships().state(ship).position,
        simulation.bodies().position(earth) + DVec3::new(radius, 0.0, 0.0)
    );
}

#[test]
fn a_prediction_into_the_ground_ends_early_and_bad_horizons_are_refused() {
    let mut simulation = sun_earth_moon();
    let earth = simulation.bodies().position(1);
    let falling = simulation
        .add_ship(ShipInit::new(
            ShipClass::FAST_FRIGATE,
            earth + DVec3::new(6.471e6, 0.0, 0.0),
            simulation.bodies().velocity(1),
        ))
        .unwrap();
    let trajectory = simulation
        .predict_ship_trajectory(falling, PredictionParams { horizon: 3600.0, step: 1.0, samples: 100 })
        .unwrap();
    assert_eq!(trajectory.ends_in, Some(galaxy_engine::SurfaceContact::Crashed));
    assert!(trajectory.points.len() < 100);
    for bad in [
        PredictionParams { horizon: 0.0, step: 1.0, samples: 10 },
        PredictionParams { horizon: f64::NAN, step: 1.0, samples: 10 },
        PredictionParams { horizon: 1e9, step: 1.0, samples: 10 },
        PredictionParams { horizon: 10.0, step: 1.0, samples: 1 },
    ] {
        assert!(simulation.predict_ship_trajectory(falling, bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        simulation.predict_ship_trajectory(7, PredictionParams { horizon: 1.0, step: 1.0, samples: 2 }),
        Err(EngineError::NoSuchShip(7))
    );
}
