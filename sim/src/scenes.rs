//! Named, seeded scenes: the initial conditions that the command line writes, the benches time
//! and the game plays.
//!
//! Every generator draws from `ChaCha8Rng::seed_from_u64(seed)`, so one seed gives the same
//! bodies on every run of the same build. The N-body scenes ([`kepler`], [`plummer`],
//! [`uniform`]) are in N-body units (G = 1); the game scenes ([`solar_system_simulation`],
//! [`add_orbiting_ships`]) are in SI units (m, s, kg).

use std::f64::consts::{PI, SQRT_2, TAU};

use galaxy_engine::{BodyInit, DVec3, EngineError, ShipClass, ShipInit, SimParams, Simulation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::solar_system::{self, CatalogBody, state_from_elements};

/// One body of a scene, as initial-condition files store it.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialBody {
    /// Unique name within the scene (the `id` column).
    pub id: String,
    /// Mass, not negative.
    pub mass: f64,
    /// Position.
    pub position: DVec3,
    /// Velocity.
    pub velocity: DVec3,
}

/// Mass of the central star of [`kepler`].
pub const KEPLER_STAR_MASS: f64 = 1.0;
/// Upper bound on the planets' total mass in [`kepler`]: light enough that every orbit stays
/// close to a Kepler ellipse, heavy enough that the planets still perturb one another.
pub const KEPLER_PLANET_MASS_BUDGET: f64 = 1e-3;
/// Smallest periapsis of a [`kepler`] planet.
pub const KEPLER_INNER_RADIUS: f64 = 1.0;
/// Largest apoapsis of a [`kepler`] planet.
pub const KEPLER_OUTER_RADIUS: f64 = 10.0;
/// Largest eccentricity of a [`kepler`] planet.
pub const KEPLER_MAX_ECCENTRICITY: f64 = 0.05;
/// Largest inclination of a [`kepler`] planet to the x–y plane, radians (about 3°).
pub const KEPLER_MAX_INCLINATION: f64 = 0.05;

/// Fraction of a Plummer sphere's infinite mass distribution that [`plummer`] samples.
/// NOTE: the Plummer profile has no edge; cutting at 99.9 % of the mass (about 13.4 length
/// units in standard units) avoids rare far-flung bodies that would dominate the bounding box
/// and barely change the energy. It is the cut-off NEMO's and Starlab's `mkplummer` use.
pub const PLUMMER_MASS_CUTOFF: f64 = 0.999;

/// Lowest altitude above the surface of a ship placed by [`add_orbiting_ships`], m: above any
/// catalog body's atmosphere that matters for a game orbit.
pub const SHIP_MIN_ALTITUDE: f64 = 200e3;
/// Highest altitude above the surface of a ship placed by [`add_orbiting_ships`], m.
pub const SHIP_MAX_ALTITUDE: f64 = 5_000e3;

/// A star of mass 1 and `n − 1` light planets (total mass at most
/// [`KEPLER_PLANET_MASS_BUDGET`]) on random prograde orbits of eccentricity below
/// [`KEPLER_MAX_ECCENTRICITY`] and inclination below [`KEPLER_MAX_INCLINATION`], with
/// periapsis and apoapsis between 1 and 10; G = 1.
///
/// The scene is shifted to its centre-of-mass frame, so the star sits within about 0.01 of the
/// origin and the whole system is at rest. Ids are `star`, `planet-1`, `planet-2`, …
/// `n = 0` gives no bodies.
#[must_use]
pub fn kepler(n: usize, seed: u64) -> Vec<InitialBody> {
    let mut bodies = Vec::with_capacity(n);
    if n == 0 {
        return bodies;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    bodies.push(InitialBody {
        id: "star".to_owned(),
        mass: KEPLER_STAR_MASS,
        position: DVec3::ZERO,
        velocity: DVec3::ZERO,
    });
    let planet_count = (n - 1) as f64;
    for planet in 1..n {
        // At most the budget's equal share each, so the total stays within the budget.
        let mass = KEPLER_PLANET_MASS_BUDGET / planet_count * rng.random_range(0.1..=1.0);
        let eccentricity = rng.random_range(0.0..KEPLER_MAX_ECCENTRICITY);
        // Keeps the whole ellipse, periapsis to apoapsis, inside the annulus.
        let semi_major_axis =
            rng.random_range(KEPLER_INNER_RADIUS / (1.0 - eccentricity)..=KEPLER_OUTER_RADIUS / (1.0 + eccentricity));
        let inclination = rng.random_range(0.0..=KEPLER_MAX_INCLINATION);
        let longitude_of_node = rng.random_range(0.0..TAU);
        let argument_of_periapsis = rng.random_range(0.0..TAU);
        let mean_anomaly = rng.random_range(0.0..TAU);
        let (position, velocity) = state_from_elements(
            KEPLER_STAR_MASS + mass,
            semi_major_axis,
            eccentricity,
            inclination,
            longitude_of_node,
            argument_of_periapsis,
            mean_anomaly,
        );
        bodies.push(InitialBody { id: format!("planet-{planet}"), mass, position, velocity });
    }
    shift_to_centre_of_mass(&mut bodies);
    bodies
}

/// A Plummer sphere of `n` equal masses in standard N-body units (G = 1, total mass 1, total
/// energy −1/4, so the virial radius is 1), sampled as Aarseth, Hénon & Wielen (1974) do:
/// radii by inverting the cumulative mass, speeds by von Neumann rejection from the isotropic
/// distribution function, directions uniform on the sphere.
///
/// Radii are drawn from the inner [`PLUMMER_MASS_CUTOFF`] of the mass, and the scene is shifted
/// to its centre-of-mass frame. Energy and virial ratio (≈ 0.5) hold up to sampling noise of
/// order `1/√n`; nothing is rescaled afterwards. Ids are `body-0`, `body-1`, …
#[must_use]
pub fn plummer(n: usize, seed: u64) -> Vec<InitialBody> {
    // Sampling works in Plummer units (scale length a = 1, where E = −3π/64); standard units
    // have E = −1/4, i.e. a = 3π/16. Lengths scale by a and speeds by 1/√a.
    let length_scale = 3.0 * PI / 16.0;
    let speed_scale = 1.0 / length_scale.sqrt();
    let mass = 1.0 / n as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bodies = Vec::with_capacity(n);
    for index in 0..n {
        // The mass inside r is r³ / (1 + r²)^{3/2}; inverting a uniform fraction of it gives r
        // (a fraction of exactly 0 gives r = 0, harmlessly).
        let enclosed_fraction = PLUMMER_MASS_CUTOFF * rng.random::<f64>();
        let radius = (enclosed_fraction.powf(-2.0 / 3.0) - 1.0).sqrt().recip();
        let position = random_direction(&mut rng) * radius;

        let escape_speed = SQRT_2 * (1.0 + radius * radius).powf(-0.25);
        let speed = plummer_speed_fraction(&mut rng) * escape_speed;
        let velocity = random_direction(&mut rng) * speed;

        bodies.push(InitialBody {
            id: format!("body-{index}"),
            mass,
            position: position * length_scale,
            velocity: velocity * speed_scale,
        });
    }
    shift_to_centre_of_mass(&mut bodies);
    bodies
}

/// Speed as a fraction q of the local escape speed: q has density ∝ q² (1 − q²)^{7/2} on
/// [0, 1], sampled by rejection under the bound 0.1 (the density's maximum is about 0.092).
fn plummer_speed_fraction(rng: &mut ChaCha8Rng) -> f64 {
    loop {
        let fraction: f64 = rng.random();
        let height = 0.1 * rng.random::<f64>();
        let squared = fraction * fraction;
        if height < squared * (1.0 - squared).powf(3.5) {
            return fraction;
        }
    }
}

/// `n` equal masses `1/n` placed uniformly at random in the cube [−1, 1]³, all at rest (a cold
/// start: the cube collapses on itself, a classic stress test that needs softening); G = 1.
///
/// Nothing is shifted: the bodies stay inside the cube, and with zero velocities the centre of
/// mass is at rest anyway. Ids are `body-0`, `body-1`, …
#[must_use]
pub fn uniform(n: usize, seed: u64) -> Vec<InitialBody> {
    let mass = 1.0 / n as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|index| {
            let position =
                DVec3::new(rng.random_range(-1.0..=1.0), rng.random_range(-1.0..=1.0), rng.random_range(-1.0..=1.0));
            InitialBody { id: format!("body-{index}"), mass, position, velocity: DVec3::ZERO }
        })
        .collect()
}

/// Share of a disk galaxy's mass in its bulge; the rest is the exponential disk.
pub const DISK_GALAXY_BULGE_FRACTION: f64 = 0.2;
/// Disk scale length (N-body units, G = 1, total mass 1).
pub const DISK_SCALE_LENGTH: f64 = 1.0;
/// Disk scale height: a thin disk, a tenth of the scale length.
pub const DISK_SCALE_HEIGHT: f64 = 0.1;
/// Bulge (Plummer) scale radius.
pub const BULGE_SCALE_RADIUS: f64 = 0.2;
/// Disk bodies are drawn inside this many scale lengths.
pub const DISK_TRUNCATION: f64 = 6.0;

/// A rotating disk galaxy of `n` equal masses (G = 1, total mass 1): a Plummer bulge holding
/// [`DISK_GALAXY_BULGE_FRACTION`] of the mass and an exponential disk (surface density
/// ∝ e^{−R/R_d}, vertical profile sech²(z/z₀)) holding the rest.
///
/// Disk bodies move on circular orbits in the plane, at the speed the enclosed mass gives
/// (`v_c² = G M(<r) / r`, both components counted as if spherical, a good approximation
/// outside the centre), with a 10% random radial/azimuthal and a vertical dispersion
/// `σ_z = √(π G Σ(R) z₀)` that keeps the disk's thickness. The bulge is sampled from its own
/// isotropic distribution function (its speeds ignore the disk's pull, so it is slightly cold,
/// and bound). The scene is bound, rotates about +z, and is shifted to its centre-of-mass frame.
/// Ids are `body-0`, `body-1`, … (bulge first).
#[must_use]
pub fn disk_galaxy(n: usize, seed: u64) -> Vec<InitialBody> {
    let mass = 1.0 / n as f64;
    let bulge_count = ((n as f64) * DISK_GALAXY_BULGE_FRACTION).round() as usize;
    let bulge_mass = bulge_count as f64 * mass;
    let disk_mass = 1.0 - bulge_mass;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bodies = Vec::with_capacity(n);
    for index in 0..bulge_count {
        // A Plummer sphere of mass M_b and scale b: lengths scale by b, speeds by √(M_b / b).
        let enclosed_fraction = PLUMMER_MASS_CUTOFF * rng.random::<f64>();
        let radius = (enclosed_fraction.powf(-2.0 / 3.0) - 1.0).sqrt().recip();
        let escape_speed = SQRT_2 * (1.0 + radius * radius).powf(-0.25);
        let speed = plummer_speed_fraction(&mut rng) * escape_speed;
        bodies.push(InitialBody {
            id: format!("body-{index}"),
            mass,
            position: random_direction(&mut rng) * radius * BULGE_SCALE_RADIUS,
            velocity: random_direction(&mut rng) * speed * (bulge_mass / BULGE_SCALE_RADIUS).sqrt(),
        });
    }
    let enclosed_mass = |radius: f64| {
        let scaled = radius / DISK_SCALE_LENGTH;
        let disk = disk_mass * (1.0 - (1.0 + scaled) * (-scaled).exp());
        let bulge = bulge_mass * radius.powi(3) / (radius * radius + BULGE_SCALE_RADIUS * BULGE_SCALE_RADIUS).powf(1.5);
        disk + bulge
    };
    for index in bulge_count..n {
        // R has density ∝ R e^{−R/R_d}: a sum of two exponential draws (a Gamma(2) variate).
        let radius = loop {
            let draw = -DISK_SCALE_LENGTH
                * (rng.random::<f64>().max(f64::MIN_POSITIVE) * rng.random::<f64>().max(f64::MIN_POSITIVE)).ln();
            if draw < DISK_TRUNCATION * DISK_SCALE_LENGTH {
                break draw;
            }
        };
        // sech² profile: z = z₀ artanh(2u − 1).
        let height = DISK_SCALE_HEIGHT * (2.0 * rng.random::<f64>() - 1.0).clamp(-0.999_999, 0.999_999).atanh();
        let azimuth: f64 = rng.random_range(0.0..TAU);
        let (sin_azimuth, cos_azimuth) = azimuth.sin_cos();
        let circular_speed = (enclosed_mass(radius) / radius.max(1e-6)).sqrt();
        let surface_density =
            disk_mass / (TAU * DISK_SCALE_LENGTH * DISK_SCALE_LENGTH) * (-radius / DISK_SCALE_LENGTH).exp();
        let vertical_dispersion = (PI * surface_density * DISK_SCALE_HEIGHT).sqrt();
        let radial = 0.1 * circular_speed * standard_normal(&mut rng);
        let tangential = circular_speed * (1.0 + 0.1 * standard_normal(&mut rng));
        let vertical = vertical_dispersion * standard_normal(&mut rng);
        bodies.push(InitialBody {
            id: format!("body-{index}"),
            mass,
            position: DVec3::new(radius * cos_azimuth, radius * sin_azimuth, height),
            velocity: DVec3::new(
                radial * cos_azimuth - tangential * sin_azimuth,
                radial * sin_azimuth + tangential * cos_azimuth,
                vertical,
            ),
        });
    }
    shift_to_centre_of_mass(&mut bodies);
    bodies
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let uniform: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let angle: f64 = rng.random_range(0.0..TAU);
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// A unit vector uniform on the sphere (uniform height and azimuth, by Archimedes' hat-box
/// theorem).
fn random_direction(rng: &mut ChaCha8Rng) -> DVec3 {
    let height: f64 = rng.random_range(-1.0..=1.0);
    let azimuth: f64 = rng.random_range(0.0..TAU);
    let ring_radius = (1.0 - height * height).max(0.0).sqrt();
    let (sin_azimuth, cos_azimuth) = azimuth.sin_cos();
    DVec3::new(ring_radius * cos_azimuth, ring_radius * sin_azimuth, height)
}

/// Moves the bodies so that their centre of mass is at the origin and at rest; massless
/// scenes are left alone.
fn shift_to_centre_of_mass(bodies: &mut [InitialBody]) {
    let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
    if total_mass <= 0.0 {
        return;
    }
    let weighted_position: DVec3 = bodies.iter().map(|body| body.position * body.mass).sum();
    let weighted_velocity: DVec3 = bodies.iter().map(|body| body.velocity * body.mass).sum();
    let centre_position = weighted_position / total_mass;
    let centre_velocity = weighted_velocity / total_mass;
    for body in bodies {
        body.position -= centre_position;
        body.velocity -= centre_velocity;
    }
}

/// A simulation holding `bodies` as point masses (radius 0), in their order, with `params`.
pub fn simulation_from(bodies: &[InitialBody], params: SimParams) -> Result<Simulation, EngineError> {
    let mut simulation = Simulation::new(params)?;
    for body in bodies {
        simulation.add_body(BodyInit {
            mass: body.mass,
            radius: 0.0,
            position: body.position,
            velocity: body.velocity,
        })?;
    }
    Ok(simulation)
}

/// The built-in J2000 solar system (see [`solar_system`]) as a simulation, with the catalog
/// rows in body order (body `i` of the simulation is row `i`), so callers can name bodies.
///
/// The catalog is in SI units and its masses assume the CODATA 2018 G, so `params` should keep
/// the SI default `gravitational_constant`. Bodies get their catalog radii, so ships can land.
pub fn solar_system_simulation(params: SimParams) -> Result<(Simulation, Vec<CatalogBody>), EngineError> {
    let catalog = solar_system::solar_system();
    let mut simulation = Simulation::new(params)?;
    for body in &catalog {
        simulation.add_body(BodyInit {
            mass: body.mass,
            radius: body.radius,
            position: body.position,
            velocity: body.velocity,
        })?;
    }
    Ok((simulation, catalog))
}

/// Adds `count` ships, alternately fast frigates and cargo haulers, on random circular orbits
/// around body `around_body`: altitude uniform between [`SHIP_MIN_ALTITUDE`] and
/// [`SHIP_MAX_ALTITUDE`] above its surface (SI units), orbit normal uniform on the sphere
/// (any inclination, prograde or retrograde), phase uniform. Each velocity is the body's
/// velocity plus the circular speed √(G M / r), with the ship a test particle.
///
/// Everything is checked before the first ship is added, so on error the simulation is
/// unchanged.
pub fn add_orbiting_ships(
    simulation: &mut Simulation,
    around_body: usize,
    count: usize,
    seed: u64,
) -> Result<(), EngineError> {
    let bodies = simulation.bodies();
    if around_body >= bodies.len() {
        return Err(EngineError::NoSuchBody(around_body));
    }
    let gravitational_parameter = simulation.params().gravitational_constant * bodies.mass()[around_body];
    if gravitational_parameter <= 0.0 {
        // A massless body (or G = 0) has no circular orbits.
        return Err(EngineError::NotPositive {
            quantity: "gravitational parameter of the orbited body",
            value: gravitational_parameter,
        });
    }
    let body_radius = bodies.radius()[around_body];
    let body_position = bodies.position(around_body);
    let body_velocity = bodies.velocity(around_body);
    if simulation.ships().len().saturating_add(count) > u32::MAX as usize {
        return Err(EngineError::TooMany("ships"));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ships = Vec::with_capacity(count);
    for index in 0..count {
        let class = if index % 2 == 0 { ShipClass::FAST_FRIGATE } else { ShipClass::CARGO_HAULER };
        let orbit_radius = body_radius + rng.random_range(SHIP_MIN_ALTITUDE..=SHIP_MAX_ALTITUDE);
        // Uniform cos(inclination) makes the orbit normal uniform on the sphere.
        let inclination = rng.random_range(-1.0_f64..=1.0).acos();
        let longitude_of_node = rng.random_range(0.0..TAU);
        let phase = rng.random_range(0.0..TAU);
        let (relative_position, relative_velocity) =
            state_from_elements(gravitational_parameter, orbit_radius, 0.0, inclination, longitude_of_node, 0.0, phase);
        let ship = ShipInit::new(class, body_position + relative_position, body_velocity + relative_velocity);
        ship.validate()?;
        ships.push(ship);
    }
    for ship in ships {
        simulation.add_ship(ship)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn disk_galaxy_is_bound_rotating_thin_and_at_rest() {
        let bodies = super::disk_galaxy(4096, 9);
        assert_eq!(bodies, super::disk_galaxy(4096, 9));
        let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
        assert!((total_mass - 1.0).abs() < 1e-12);
        let momentum: galaxy_engine::DVec3 = bodies.iter().map(|body| body.velocity * body.mass).sum();
        assert!(momentum.length() < 1e-12);
        let simulation = super::simulation_from(
            &bodies,
            galaxy_engine::SimParams {
                gravitational_constant: 1.0,
                softening: 0.01,
                ..galaxy_engine::SimParams::default()
            },
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let diagnostics = simulation.diagnostics();
        assert!(diagnostics.energy() < 0.0, "energy {}", diagnostics.energy());
        let virial_ratio = diagnostics.kinetic_energy / -diagnostics.potential_energy;
        assert!((0.3..0.7).contains(&virial_ratio), "virial ratio {virial_ratio}");
        // Rotation about +z dominates: L_z carries most of the angular momentum.
        let angular = diagnostics.angular_momentum;
        assert!(angular.z > 0.0 && angular.z > 0.9 * angular.length(), "{angular}");
        // A thin disk: disk bodies' mean |z| is about z₀ ln 2.
        let disk = &bodies[(4096.0 * super::DISK_GALAXY_BULGE_FRACTION) as usize..];
        let mean_height = disk.iter().map(|body| body.position.z.abs()).sum::<f64>() / disk.len() as f64;
        assert!(mean_height < 0.15, "mean |z| {mean_height}");
    }

    use super::*;

    fn n_body_params() -> SimParams {
        SimParams { gravitational_constant: 1.0, softening: 0.0, substep: 1e-3, kernel: None, ..SimParams::default() }
    }

    fn centre_of_mass_velocity(bodies: &[InitialBody]) -> DVec3 {
        let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
        bodies.iter().map(|body| body.velocity * body.mass).sum::<DVec3>() / total_mass
    }

    fn centre_of_mass_position(bodies: &[InitialBody]) -> DVec3 {
        let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
        bodies.iter().map(|body| body.position * body.mass).sum::<DVec3>() / total_mass
    }

    #[test]
    fn plummer_sphere_is_in_virial_equilibrium_with_standard_energy() {
        let bodies = plummer(4096, 7);
        let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
        assert!((total_mass - 1.0).abs() < 1e-12, "total mass {total_mass}");
        let diagnostics = simulation_from(&bodies, n_body_params()).expect("valid scene").diagnostics();
        let virial_ratio = diagnostics.kinetic_energy / -diagnostics.potential_energy;
        assert!((virial_ratio - 0.5).abs() < 0.05, "virial ratio {virial_ratio}");
        let energy = diagnostics.energy();
        assert!((energy + 0.25).abs() < 0.02, "energy {energy}");
    }

    #[test]
    fn every_scene_has_its_centre_of_mass_at_rest() {
        for (name, bodies) in [("kepler", kepler(100, 1)), ("plummer", plummer(1000, 2)), ("uniform", uniform(1000, 3))]
        {
            let speed = centre_of_mass_velocity(&bodies).length();
            assert!(speed < 1e-14, "{name}: centre of mass moves at {speed}");
        }
        for (name, bodies) in [("kepler", kepler(100, 1)), ("plummer", plummer(1000, 2))] {
            let offset = centre_of_mass_position(&bodies).length();
            assert!(offset < 1e-14, "{name}: centre of mass at {offset} from the origin");
        }
    }

    #[test]
    fn same_seed_gives_identical_scenes_and_other_seeds_differ() {
        type Generator = fn(usize, u64) -> Vec<InitialBody>;
        for generator in [kepler as Generator, plummer, uniform] {
            assert_eq!(generator(64, 42), generator(64, 42));
            assert_ne!(generator(64, 42), generator(64, 43));
        }
    }

    #[test]
    fn scenes_have_the_requested_size_and_unique_ids() {
        type Generator = fn(usize, u64) -> Vec<InitialBody>;
        for generator in [kepler as Generator, plummer, uniform] {
            for n in [0, 1, 2, 17] {
                let bodies = generator(n, 5);
                assert_eq!(bodies.len(), n);
                let ids: std::collections::HashSet<_> = bodies.iter().map(|body| body.id.as_str()).collect();
                assert_eq!(ids.len(), n);
            }
        }
    }

    #[test]
    fn kepler_planets_are_light_and_bound_between_radius_one_and_ten() {
        let bodies = kepler(200, 11);
        let star = &bodies[0];
        assert_eq!(star.mass, KEPLER_STAR_MASS);
        let planet_mass: f64 = bodies[1..].iter().map(|body| body.mass).sum();
        assert!(planet_mass <= KEPLER_PLANET_MASS_BUDGET, "planets weigh {planet_mass}");
        for planet in &bodies[1..] {
            let relative_position = planet.position - star.position;
            let relative_velocity = planet.velocity - star.velocity;
            let gravitational_parameter = star.mass + planet.mass;
            let distance = relative_position.length();
            assert!((KEPLER_INNER_RADIUS * (1.0 - 1e-12)..=KEPLER_OUTER_RADIUS * (1.0 + 1e-12)).contains(&distance));
            let specific_energy = 0.5 * relative_velocity.length_squared() - gravitational_parameter / distance;
            let semi_major_axis = -gravitational_parameter / (2.0 * specific_energy);
            assert!((1.0..=10.0).contains(&semi_major_axis), "{}: a = {semi_major_axis}", planet.id);
            let normal = relative_position.cross(relative_velocity).normalize();
            assert!(normal.z.acos() <= KEPLER_MAX_INCLINATION + 1e-9, "{}: inclined", planet.id);
        }
    }

    #[test]
    fn uniform_bodies_are_cold_equal_masses_inside_the_cube() {
        let bodies = uniform(500, 9);
        for body in &bodies {
            assert_eq!(body.mass, 1.0 / 500.0);
            assert_eq!(body.velocity, DVec3::ZERO);
            assert!(body.position.abs().max_element() <= 1.0);
        }
    }

    #[test]
    fn orbiting_ships_are_bound_to_their_body_at_the_requested_altitude() {
        let (mut simulation, catalog) = solar_system_simulation(SimParams::default()).expect("valid catalog");
        let earth = catalog.iter().position(|body| body.name == "Earth").expect("Earth is in the catalog");
        add_orbiting_ships(&mut simulation, earth, 12, 3).expect("valid fleet");
        let ships = simulation.ships();
        assert_eq!(ships.len(), 12);
        let bodies = simulation.bodies();
        let gravitational_parameter = simulation.params().gravitational_constant * bodies.mass()[earth];
        for ship in 0..ships.len() {
            let relative_position = ships.position(ship) - bodies.position(earth);
            let relative_velocity = ships.velocity(ship) - bodies.velocity(earth);
            let distance = relative_position.length();
            let altitude = distance - bodies.radius()[earth];
            assert!((SHIP_MIN_ALTITUDE - 1e-3..=SHIP_MAX_ALTITUDE + 1e-3).contains(&altitude), "altitude {altitude}");
            let specific_energy = 0.5 * relative_velocity.length_squared() - gravitational_parameter / distance;
            assert!(specific_energy < 0.0, "ship {ship} is unbound");
            let circular_speed = (gravitational_parameter / distance).sqrt();
            assert!((relative_velocity.length() - circular_speed).abs() < 1e-9 * circular_speed);
            let expected_class = if ship % 2 == 0 { ShipClass::FAST_FRIGATE } else { ShipClass::CARGO_HAULER };
            assert_eq!(ships.state(ship).dry_mass, expected_class.dry_mass);
        }
    }

    #[test]
    fn orbiting_ships_around_a_missing_body_change_nothing() {
        let (mut simulation, catalog) = solar_system_simulation(SimParams::default()).expect("valid catalog");
        let error = add_orbiting_ships(&mut simulation, catalog.len(), 3, 1).expect_err("no such body");
        assert_eq!(error, EngineError::NoSuchBody(catalog.len()));
        assert!(simulation.ships().is_empty());
    }

    #[test]
    fn solar_system_simulation_uses_catalog_masses_and_radii_in_order() {
        let (simulation, catalog) = solar_system_simulation(SimParams::default()).expect("valid catalog");
        assert_eq!(simulation.bodies().len(), catalog.len());
        for (index, body) in catalog.iter().enumerate() {
            assert_eq!(simulation.bodies().mass()[index], body.mass);
            assert_eq!(simulation.bodies().radius()[index], body.radius);
            assert_eq!(simulation.bodies().position(index), body.position);
        }
    }
}
