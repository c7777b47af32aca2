//! Regression: a ship in low orbit around the Moon, while the Moon orbits a wobbling Earth,
//! keeps its orbit (semi-major axis within 0.1% over 100 orbits). This is what broke upstream
//! when ships were kicked with body positions from a different instant than the bodies'.
#![allow(clippy::unwrap_used)]

use galaxy_engine::{BodyInit, DVec3, ShipClass, ShipInit, SimParams, Simulation};

const EARTH_MASS: f64 = 5.972e24;
const MOON_MASS: f64 = 7.342e22;
const MOON_RADIUS: f64 = 1.7374e6;
const EARTH_MOON_DISTANCE: f64 = 3.844e8;

#[test]
fn low_lunar_orbit_keeps_its_semi_major_axis_for_100_orbits() {
    let params = SimParams { substep: 5.0, ..SimParams::default() };
    let g = params.gravitational_constant;
    let mut simulation = Simulation::new(params).unwrap();
    let total = EARTH_MASS + MOON_MASS;
    let moon_speed = (g * total / EARTH_MOON_DISTANCE).sqrt();
    let moon_offset = DVec3::new(EARTH_MOON_DISTANCE, 0.0, 0.0);
    let moon_velocity = DVec3::new(0.0, moon_speed, 0.0);
    let earth = simulation
        .add_body(BodyInit {
            mass: EARTH_MASS,
            radius: 6.371e6,
            position: -moon_offset * (MOON_MASS / total),
            velocity: -moon_velocity * (MOON_MASS / total),
        })
        .unwrap();
    let moon = simulation
        .add_body(BodyInit {
            mass: MOON_MASS,
            radius: MOON_RADIUS,
            position: moon_offset * (EARTH_MASS / total),
            velocity: moon_velocity * (EARTH_MASS / total),
        })
        .unwrap();
    let orbit_radius = MOON_RADIUS + 100e3;
    let circular_speed = (g * MOON_MASS / orbit_radius).sqrt();
    // A polar orbit, so the ship's velocity relative to the Moon is not along the Moon's own.
    let ship = simulation
        .add_ship(ShipInit::new(
            ShipClass::FAST_FRIGATE,
            simulation.bodies().position(moon) + DVec3::new(orbit_radius, 0.0, 0.0),
            simulation.bodies().velocity(moon) + DVec3::new(0.0, 0.0, circular_speed),
        ))
        .unwrap();
    let orbit = |simulation: &Simulation| {
        let ships = simulation.ships();
        simulation.orbital_elements_around(moon, ships.position(ship), ships.velocity(ship)).unwrap().unwrap()
    };
    let initial = orbit(&simulation);
    let period = initial.period.unwrap();
    let substeps_per_orbit = (period / params.substep).round() as u32;
    let mut worst: f64 = 0.0;
    for _ in 0..100 {
        for _ in 0..10 {
            simulation.step(substeps_per_orbit / 10);
            let elements = orbit(&simulation);
            worst = worst.max((elements.semi_major_axis / initial.semi_major_axis - 1.0).abs());
        }
    }
    assert!(worst < 1e-3, "semi-major axis drifted by {worst:e}");
    // The Earth really wobbled: it moved thousands of km around the barycentre.
    let earth_moved = simulation.bodies().position(earth).length();
    assert!(earth_moved > 1e6, "the Earth should circle the barycentre ({earth_moved} m)");
    assert_eq!(simulation.ships().state(ship).status, galaxy_engine::ShipStatus::Flying);
}
