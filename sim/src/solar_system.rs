//! The game's solar system at epoch J2000 (JD 2451545.0 TDB): the Sun, the eight planets and
//! twenty major moons.
//!
//! [`solar_system`] returns 29 bodies with barycentric state vectors in SI units (m, m/s) in the
//! ecliptic-and-equinox-of-J2000 frame. The Sun, the planets and the Moon are JPL DE421's (see
//! [`crate::ephemeris`]), so they start where the real ones were; the other moons sit on their
//! published mean orbits, with placeholder phases. It is the game scene and the benchmark scene;
//! the orbit validation ([`crate::validate`]) uses the DE421 bodies alone.
//!
//! # Frame
//!
//! DE421 is ICRF, which is equatorial. The catalog turns it into the ecliptic J2000 frame (x
//! towards the J2000 equinox, z towards ecliptic north, so the planets orbit close to the xy
//! plane) by rotating it about x by the IAU 1976 obliquity, 84381.448″. The ~20 mas (1e-7 rad)
//! frame bias between the ICRF and the dynamical J2000 equator and equinox is ignored: it turns
//! the whole system rigidly (15 km at 1 AU) and changes no orbit.
//!
//! # Sources
//!
//! - Sun, planets and Moon: DE421 barycentric states and GMs at J2000, from
//!   `data/solar_system/de421_j2000.csv` (written by `tools/ephemeris/generate.py`). For Mars
//!   to Neptune, DE421 gives the *system* barycentre and the system GM.
//! - Other moons: semi-major axis, eccentricity and inclination from the JPL SSD "Planetary
//!   Satellite Mean Elements" tables (inclinations there are to the local Laplace plane; here
//!   they are applied to the parent's equator, which is close for every moon listed). Iapetus
//!   and Triton use their inclinations to the parent's equator (15.47° and 156.865°). Node,
//!   argument of periapsis and mean anomaly are chosen deterministically (see the `MOONS`
//!   table).
//! - Planet spin poles: IAU Working Group on Cartographic Coordinates and Rotational Elements
//!   (Archinal et al. 2011/2018), evaluated at J2000.
//! - Moon GMs (other than the Moon's): JPL SSD satellite physical parameters.
//! - Mean radii: NASA NSSDCA planetary and satellite fact sheets; the Sun uses the IAU 2015
//!   nominal solar radius.
//!
//! # Construction
//!
//! Mercury, Venus, the Earth and the Moon are DE421's bodies as they are. For Mars to Neptune the
//! planet's GM is DE421's system GM less its listed moons' GMs; each moon's planetocentric state
//! is a two-body Keplerian state (mu = GM_planet + GM_moon) from its mean elements, and the
//! planet is offset so that the GM-weighted centre of the planet and its moons sits exactly on
//! DE421's system barycentre, in position and in velocity. Finally the whole set is moved by its
//! own centre of mass (about 33 km and 5e-5 m/s at J2000) so that total momentum is zero:
//! DE421's origin also counts Pluto and 343 asteroids, which the catalog leaves out. Relative
//! positions are untouched by that shift.

use glam::{DMat3, DVec3};

use crate::ephemeris::{self, EphemerisError, EphemerisState};

/// Newtonian constant of gravitation, m^3 kg^-1 s^-2 (CODATA 2018).
pub const GRAVITATIONAL_CONSTANT: f64 = galaxy_engine::GRAVITATIONAL_CONSTANT_SI;

/// Julian date of the catalog epoch, J2000.0.
pub const J2000_JULIAN_DATE: f64 = 2_451_545.0;

/// Astronomical unit, m (IAU 2012 Resolution B2).
pub const ASTRONOMICAL_UNIT: f64 = 149_597_870_700.0;

/// Metres per kilometre; the source tables are in kilometres.
const KILOMETRE: f64 = 1.0e3;

/// m^3/s^2 per km^3/s^2; the source GM tables are in km^3/s^2.
const CUBIC_KILOMETRE_PER_SQUARE_SECOND: f64 = 1.0e9;

/// Obliquity of the ecliptic at J2000, 84381.448 arcsec (IAU 1976), in degrees.
/// Turns DE421 states and ICRF pole directions (equatorial) into ecliptic ones.
const OBLIQUITY_J2000_DEGREES: f64 = 84_381.448 / 3600.0;

/// Newton iterations for Kepler's equation stop once the correction is this small (rad).
const KEPLER_TOLERANCE: f64 = 1.0e-15;

/// Safety cap on Newton iterations; convergence normally takes fewer than 10.
const KEPLER_MAX_ITERATIONS: usize = 64;

/// What sort of body a catalog entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// The Sun.
    Star,
    /// One of the eight planets.
    Planet,
    /// A natural satellite of a planet.
    Moon,
}

/// One body of the built-in solar system, with its state at J2000.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogBody {
    /// Unique English name, e.g. `"Earth"`.
    pub name: &'static str,
    /// Star, planet or moon.
    pub kind: BodyKind,
    /// Name of the body this one orbits (`None` for the Sun; the Sun for planets).
    pub parent: Option<&'static str>,
    /// Standard gravitational parameter GM, m^3/s^2.
    pub gm: f64,
    /// Mass in kg = gm / GRAVITATIONAL_CONSTANT.
    pub mass: f64,
    /// Mean radius, m.
    pub radius: f64,
    /// Render colour, 0xRRGGBB.
    pub color: u32,
    /// Barycentric position (m) at J2000, ecliptic J2000 frame.
    pub position: DVec3,
    /// Barycentric velocity (m/s) at J2000, ecliptic J2000 frame.
    pub velocity: DVec3,
}

/// Direction of a planet's rotational angular momentum, as ICRF right
/// ascension and declination in degrees.
#[derive(Debug, Clone, Copy)]
struct SpinPole {
    right_ascension_degrees: f64,
    declination_degrees: f64,
}

// IAU WGCCRE pole directions at J2000 (T = 0). Regular moons orbit in the
// sense of their planet's spin, so what matters is the spin direction.
const MARS_POLE: SpinPole = SpinPole { right_ascension_degrees: 317.681, declination_degrees: 52.887 };
const JUPITER_POLE: SpinPole = SpinPole { right_ascension_degrees: 268.057, declination_degrees: 64.495 };
const SATURN_POLE: SpinPole = SpinPole { right_ascension_degrees: 40.589, declination_degrees: 83.537 };
// The IAU "north" pole of Uranus is (257.311°, -15.175°), but Uranus spins
// retrograde about it; its spin axis, and its moons' orbit normals, point the
// opposite way.
const URANUS_SPIN_POLE: SpinPole = SpinPole { right_ascension_degrees: 77.311, declination_degrees: 15.175 };
// 299.36 + 0.70 sin N and 43.46 - 0.51 cos N with N = 357.85° at J2000.
const NEPTUNE_POLE: SpinPole = SpinPole { right_ascension_degrees: 299.334, declination_degrees: 42.950 };

/// A planet row: what DE421 does not say about a planet. Its GM and state come from DE421.
#[derive(Debug, Clone, Copy)]
struct PlanetRow {
    name: &'static str,
    radius_km: f64,
    color: u32,
}

/// A moon row: physical data plus mean orbital elements about its parent.
#[derive(Debug, Clone, Copy)]
struct MoonRow {
    name: &'static str,
    parent: &'static str,
    gm_km3_per_s2: f64,
    radius_km: f64,
    color: u32,
    semi_major_axis_km: f64,
    eccentricity: f64,
    inclination_degrees: f64,
    longitude_of_node_degrees: f64,
    argument_of_periapsis_degrees: f64,
    mean_anomaly_degrees: f64,
    /// The planet whose equator the inclination, node and argument of periapsis refer to (node
    /// measured from the ascending node of that equator on the J2000 ecliptic).
    pole: SpinPole,
}

/// Sun: IAU 2015 nominal radius (its GM is DE421's).
const SUN_RADIUS_KM: f64 = 695_700.0;
const SUN_COLOR: u32 = 0xFFF5D6;

/// Planets from Mercury outwards (GM and state from DE421). Radii: NASA fact sheets
/// (volumetric mean).
const PLANETS: [PlanetRow; 8] = [
    PlanetRow { name: "Mercury", radius_km: 2_439.7, color: 0x9C9C9C },
    PlanetRow { name: "Venus", radius_km: 6_051.8, color: 0xE8CDA2 },
    PlanetRow { name: "Earth", radius_km: 6_371.0, color: 0x3D7BD9 },
    PlanetRow { name: "Mars", radius_km: 3_389.5, color: 0xC1440E },
    PlanetRow { name: "Jupiter", radius_km: 69_911.0, color: 0xD8B58A },
    PlanetRow { name: "Saturn", radius_km: 58_232.0, color: 0xE3D1A0 },
    PlanetRow { name: "Uranus", radius_km: 25_362.0, color: 0x9FD8E0 },
    PlanetRow { name: "Neptune", radius_km: 24_622.0, color: 0x4B70DD },
];

/// Earth's Moon: radius (NASA fact sheet) and colour; GM and state from DE421.
const MOON: PlanetRow = PlanetRow { name: "Moon", radius_km: 1_737.4, color: 0xBFBFBF };

/// The moons placed from mean elements (every major moon but Earth's, which DE421 gives),
/// grouped by parent in planet order.
///
/// a, e, i: JPL SSD planetary satellite mean elements (Iapetus and Triton: inclination to the
/// parent's equator). GM: JPL SSD satellite physical parameters (Mars: MAR097, Jupiter: JUP310,
/// Saturn: SAT427, Uranus: URA111, Neptune: NEP081). Radii: NASA satellite fact sheets.
///
/// The real phases at J2000 are not modelled: node and argument of periapsis are zero and the
/// mean anomalies step by 137.5° (the golden angle) through each system, so that siblings start
/// well separated.
const MOONS: [MoonRow; 19] = [
    MoonRow {
        name: "Phobos",
        parent: "Mars",
        gm_km3_per_s2: 7.087e-4,
        radius_km: 11.08,
        color: 0x8C7A6B,
        semi_major_axis_km: 9_376.0,
        eccentricity: 0.0151,
        inclination_degrees: 1.075,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 0.0,
        pole: MARS_POLE,
    },
    MoonRow {
        name: "Deimos",
        parent: "Mars",
        gm_km3_per_s2: 9.62e-5,
        radius_km: 6.2,
        color: 0xA39382,
        semi_major_axis_km: 23_458.0,
        eccentricity: 0.0002,
        inclination_degrees: 1.788,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 137.5,
        pole: MARS_POLE,
    },
    MoonRow {
        name: "Io",
        parent: "Jupiter",
        gm_km3_per_s2: 5_959.916,
        radius_km: 1_821.6,
        color: 0xE8D34F,
        semi_major_axis_km: 421_800.0,
        eccentricity: 0.0041,
        inclination_degrees: 0.036,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 0.0,
        pole: JUPITER_POLE,
    },
    MoonRow {
        name: "Europa",
        parent: "Jupiter",
        gm_km3_per_s2: 3_202.739,
        radius_km: 1_560.8,
        color: 0xD9CBB0,
        semi_major_axis_km: 671_100.0,
        eccentricity: 0.0094,
        inclination_degrees: 0.466,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 137.5,
        pole: JUPITER_POLE,
    },
    MoonRow {
        name: "Ganymede",
        parent: "Jupiter",
        gm_km3_per_s2: 9_887.834,
        radius_km: 2_631.2,
        color: 0x9E9282,
        semi_major_axis_km: 1_070_400.0,
        eccentricity: 0.0013,
        inclination_degrees: 0.177,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 275.0,
        pole: JUPITER_POLE,
    },
    MoonRow {
        name: "Callisto",
        parent: "Jupiter",
        gm_km3_per_s2: 7_179.289,
        radius_km: 2_410.3,
        color: 0x5E5348,
        semi_major_axis_km: 1_882_700.0,
        eccentricity: 0.0074,
        inclination_degrees: 0.192,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 52.5,
        pole: JUPITER_POLE,
    },
    MoonRow {
        name: "Mimas",
        parent: "Saturn",
        gm_km3_per_s2: 2.5026,
        radius_km: 198.2,
        color: 0xBDBDBD,
        semi_major_axis_km: 185_539.0,
        eccentricity: 0.0196,
        inclination_degrees: 1.574,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 0.0,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Enceladus",
        parent: "Saturn",
        gm_km3_per_s2: 7.2027,
        radius_km: 252.1,
        color: 0xF5F8FF,
        semi_major_axis_km: 238_042.0,
        eccentricity: 0.0047,
        inclination_degrees: 0.009,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 137.5,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Tethys",
        parent: "Saturn",
        gm_km3_per_s2: 41.2067,
        radius_km: 531.0,
        color: 0xE6E6E6,
        semi_major_axis_km: 294_672.0,
        eccentricity: 0.0001,
        inclination_degrees: 1.091,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 275.0,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Dione",
        parent: "Saturn",
        gm_km3_per_s2: 73.1146,
        radius_km: 561.4,
        color: 0xCFCFCF,
        semi_major_axis_km: 377_415.0,
        eccentricity: 0.0022,
        inclination_degrees: 0.028,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 52.5,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Rhea",
        parent: "Saturn",
        gm_km3_per_s2: 153.9426,
        radius_km: 763.5,
        color: 0xC8C4BE,
        semi_major_axis_km: 527_068.0,
        eccentricity: 0.0002,
        inclination_degrees: 0.333,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 190.0,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Titan",
        parent: "Saturn",
        gm_km3_per_s2: 8_978.138_2,
        radius_km: 2_574.7,
        color: 0xD9A441,
        semi_major_axis_km: 1_221_865.0,
        eccentricity: 0.0288,
        inclination_degrees: 0.306,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 327.5,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Iapetus",
        parent: "Saturn",
        gm_km3_per_s2: 120.5038,
        radius_km: 734.3,
        color: 0x8A7A62,
        semi_major_axis_km: 3_560_854.0,
        eccentricity: 0.0293,
        inclination_degrees: 15.47,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 105.0,
        pole: SATURN_POLE,
    },
    MoonRow {
        name: "Miranda",
        parent: "Uranus",
        gm_km3_per_s2: 4.319,
        radius_km: 235.8,
        color: 0xA8A8A8,
        semi_major_axis_km: 129_900.0,
        eccentricity: 0.0013,
        inclination_degrees: 4.338,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 0.0,
        pole: URANUS_SPIN_POLE,
    },
    MoonRow {
        name: "Ariel",
        parent: "Uranus",
        gm_km3_per_s2: 83.43,
        radius_km: 578.9,
        color: 0xBCB8B0,
        semi_major_axis_km: 190_900.0,
        eccentricity: 0.0012,
        inclination_degrees: 0.041,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 137.5,
        pole: URANUS_SPIN_POLE,
    },
    MoonRow {
        name: "Umbriel",
        parent: "Uranus",
        gm_km3_per_s2: 85.40,
        radius_km: 584.7,
        color: 0x6E6A66,
        semi_major_axis_km: 266_000.0,
        eccentricity: 0.0039,
        inclination_degrees: 0.128,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 275.0,
        pole: URANUS_SPIN_POLE,
    },
    MoonRow {
        name: "Titania",
        parent: "Uranus",
        gm_km3_per_s2: 226.94,
        radius_km: 788.9,
        color: 0xA89F94,
        semi_major_axis_km: 436_300.0,
        eccentricity: 0.0011,
        inclination_degrees: 0.079,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 52.5,
        pole: URANUS_SPIN_POLE,
    },
    MoonRow {
        name: "Oberon",
        parent: "Uranus",
        gm_km3_per_s2: 205.32,
        radius_km: 761.4,
        color: 0x8F8379,
        semi_major_axis_km: 583_500.0,
        eccentricity: 0.0014,
        inclination_degrees: 0.068,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 190.0,
        pole: URANUS_SPIN_POLE,
    },
    MoonRow {
        name: "Triton",
        parent: "Neptune",
        gm_km3_per_s2: 1_427.598,
        radius_km: 1_353.4,
        color: 0xD8C6C0,
        semi_major_axis_km: 354_759.0,
        eccentricity: 0.0,
        inclination_degrees: 156.865,
        longitude_of_node_degrees: 0.0,
        argument_of_periapsis_degrees: 0.0,
        mean_anomaly_degrees: 0.0,
        pole: NEPTUNE_POLE,
    },
];

/// Builds the 29-body solar system at J2000.
///
/// Order: the Sun, then the planets from Mercury outwards, then the moons grouped by parent in
/// planet order, so every parent precedes its children. States are barycentric (total momentum
/// zero to rounding), in metres and metres per second, in the ecliptic J2000 frame.
///
/// # Panics
///
/// Never in a tested build: the DE421 data is compiled in, and a unit test parses it. Use
/// [`try_solar_system`] to get the parse error instead.
#[must_use]
pub fn solar_system() -> Vec<CatalogBody> {
    try_solar_system().expect("the compiled-in DE421 initial conditions parse (a unit test checks them)")
}

/// [`solar_system`], with any problem in the compiled-in DE421 data returned as an error.
pub fn try_solar_system() -> Result<Vec<CatalogBody>, EphemerisError> {
    let ephemeris = ephemeris::de421_j2000()?;
    let to_ecliptic = equatorial_to_ecliptic();
    // `de421_j2000` returns every body, in `DE421_BODY_NAMES` order.
    let state = |name: &str| -> EphemerisState {
        let mut state = ephemeris[ephemeris::de421_body_index(name).unwrap_or(0)];
        debug_assert_eq!(state.name, name);
        state.position = to_ecliptic * state.position;
        state.velocity = to_ecliptic * state.velocity;
        state
    };

    let sun = state("Sun");
    let mut bodies = Vec::with_capacity(1 + PLANETS.len() + 1 + MOONS.len());
    bodies.push(catalog_body(
        "Sun",
        BodyKind::Star,
        None,
        sun.gm,
        SUN_RADIUS_KM,
        SUN_COLOR,
        sun.position,
        sun.velocity,
    ));

    // Moons are collected separately so that all planets come first.
    let mut moons = Vec::with_capacity(1 + MOONS.len());
    for planet in &PLANETS {
        // For Mars..Neptune this is the system barycentre and the system GM; Mercury, Venus
        // and the Earth have no moons in `MOONS`, so for them it is the planet itself.
        let system = state(planet.name);
        let planet_moons: Vec<&MoonRow> = MOONS.iter().filter(|moon| moon.parent == planet.name).collect();
        let moons_gm: f64 =
            planet_moons.iter().map(|moon| moon.gm_km3_per_s2 * CUBIC_KILOMETRE_PER_SQUARE_SECOND).sum();
        let planet_gm = system.gm - moons_gm;

        // Planetocentric moon states, and their GM-weighted sums.
        let mut weighted_position = DVec3::ZERO;
        let mut weighted_velocity = DVec3::ZERO;
        let mut relative_states = Vec::with_capacity(planet_moons.len());
        for moon in &planet_moons {
            let moon_gm = moon.gm_km3_per_s2 * CUBIC_KILOMETRE_PER_SQUARE_SECOND;
            let (position, velocity) = moon_relative_state(moon, planet_gm + moon_gm);
            weighted_position += moon_gm * position;
            weighted_velocity += moon_gm * velocity;
            relative_states.push((moon_gm, position, velocity));
        }
        // Offset the planet so the planet-plus-moons centre of mass sits on DE421's system
        // barycentre (79 km for Jupiter, 272 km for Saturn, 0.1 m for Mars).
        let planet_position = system.position - weighted_position / system.gm;
        let planet_velocity = system.velocity - weighted_velocity / system.gm;
        bodies.push(catalog_body(
            planet.name,
            BodyKind::Planet,
            Some("Sun"),
            planet_gm,
            planet.radius_km,
            planet.color,
            planet_position,
            planet_velocity,
        ));

        if planet.name == "Earth" {
            let moon = state(MOON.name);
            moons.push(catalog_body(
                MOON.name,
                BodyKind::Moon,
                Some("Earth"),
                moon.gm,
                MOON.radius_km,
                MOON.color,
                moon.position,
                moon.velocity,
            ));
        }
        for (moon, (moon_gm, position, velocity)) in planet_moons.iter().zip(relative_states) {
            moons.push(catalog_body(
                moon.name,
                BodyKind::Moon,
                Some(moon.parent),
                moon_gm,
                moon.radius_km,
                moon.color,
                planet_position + position,
                planet_velocity + velocity,
            ));
        }
    }
    bodies.extend(moons);

    shift_to_barycentre(&mut bodies);
    Ok(bodies)
}

/// Rotation from the ICRF (equatorial) to the ecliptic J2000 frame: −obliquity about x.
fn equatorial_to_ecliptic() -> DMat3 {
    DMat3::from_rotation_x(-OBLIQUITY_J2000_DEGREES.to_radians())
}

/// Converts classical orbital elements to a state vector relative to the
/// central body.
///
/// `mu` is the two-body gravitational parameter G(M + m) in m^3/s^2, `a` the
/// semi-major axis in metres, `e` the eccentricity (elliptic orbits only:
/// 0 <= e < 1). Angles are in radians; the node is measured in the reference
/// plane from its x axis, so the result is in the frame the elements refer to.
/// Returns (position m, velocity m/s).
pub fn state_from_elements(
    mu: f64,
    a: f64,
    e: f64,
    inclination: f64,
    longitude_of_node: f64,
    argument_of_periapsis: f64,
    mean_anomaly: f64,
) -> (DVec3, DVec3) {
    debug_assert!((0.0..1.0).contains(&e), "elliptic orbits only, e = {e}");
    let eccentric_anomaly = solve_kepler(mean_anomaly, e);
    let (sin_e, cos_e) = eccentric_anomaly.sin_cos();
    let semi_minor_axis = a * (1.0 - e * e).sqrt();
    let mean_motion = (mu / (a * a * a)).sqrt();
    // d(E)/dt = n / (1 - e cos E), from differentiating Kepler's equation.
    let eccentric_anomaly_rate = mean_motion / (1.0 - e * cos_e);

    // Perifocal frame: x towards periapsis, z along the orbital angular momentum.
    let perifocal_position = DVec3::new(a * (cos_e - e), semi_minor_axis * sin_e, 0.0);
    let perifocal_velocity =
        DVec3::new(-a * sin_e * eccentric_anomaly_rate, semi_minor_axis * cos_e * eccentric_anomaly_rate, 0.0);

    let to_reference = DMat3::from_rotation_z(longitude_of_node)
        * DMat3::from_rotation_x(inclination)
        * DMat3::from_rotation_z(argument_of_periapsis);
    (to_reference * perifocal_position, to_reference * perifocal_velocity)
}

/// Solves Kepler's equation M = E - e sin E for the eccentric anomaly E by
/// Newton iteration (elliptic case).
fn solve_kepler(mean_anomaly: f64, e: f64) -> f64 {
    // Reduce to [-pi, pi] so the starting guesses below are on the right branch.
    let reduced = (mean_anomaly + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
    // For high eccentricity, starting at +-pi avoids Newton overshooting near periapsis.
    let mut eccentric_anomaly =
        if e < 0.8 { reduced + e * reduced.sin() } else { std::f64::consts::PI.copysign(reduced) };
    for _ in 0..KEPLER_MAX_ITERATIONS {
        let residual = eccentric_anomaly - e * eccentric_anomaly.sin() - reduced;
        let step = residual / (1.0 - e * eccentric_anomaly.cos());
        eccentric_anomaly -= step;
        if step.abs() <= KEPLER_TOLERANCE {
            break;
        }
    }
    // Put back the whole turns removed above so E tracks the caller's M.
    eccentric_anomaly + (mean_anomaly - reduced)
}

/// Planetocentric ecliptic state of a moon from its table row.
fn moon_relative_state(moon: &MoonRow, mu: f64) -> (DVec3, DVec3) {
    let (position, velocity) = state_from_elements(
        mu,
        moon.semi_major_axis_km * KILOMETRE,
        moon.eccentricity,
        moon.inclination_degrees.to_radians(),
        moon.longitude_of_node_degrees.to_radians(),
        moon.argument_of_periapsis_degrees.to_radians(),
        moon.mean_anomaly_degrees.to_radians(),
    );
    let equator_to_ecliptic = equator_frame(moon.pole);
    (equator_to_ecliptic * position, equator_to_ecliptic * velocity)
}

/// Rotation from a planet's equatorial frame (x at the ascending node of the
/// equator on the J2000 ecliptic, z along the spin pole) to the ecliptic frame.
fn equator_frame(pole: SpinPole) -> DMat3 {
    let right_ascension = pole.right_ascension_degrees.to_radians();
    let declination = pole.declination_degrees.to_radians();
    let pole_equatorial = DVec3::new(
        declination.cos() * right_ascension.cos(),
        declination.cos() * right_ascension.sin(),
        declination.sin(),
    );
    let pole_ecliptic = equatorial_to_ecliptic() * pole_equatorial;
    // A pole along the ecliptic normal has no node; any x axis in the plane will do.
    let node_axis = DVec3::Z.cross(pole_ecliptic).normalize_or(DVec3::X);
    let third_axis = pole_ecliptic.cross(node_axis);
    DMat3::from_cols(node_axis, third_axis, pole_ecliptic)
}

/// Subtracts the mass-weighted mean position and velocity from every body.
fn shift_to_barycentre(bodies: &mut [CatalogBody]) {
    let total_mass: f64 = bodies.iter().map(|body| body.mass).sum();
    let centre_of_mass = bodies.iter().map(|body| body.mass * body.position).sum::<DVec3>() / total_mass;
    let centre_of_mass_velocity = bodies.iter().map(|body| body.mass * body.velocity).sum::<DVec3>() / total_mass;
    for body in bodies {
        body.position -= centre_of_mass;
        body.velocity -= centre_of_mass_velocity;
    }
}

/// Assembles a catalog entry, converting table units (km) to SI.
#[expect(clippy::too_many_arguments, reason = "one flat constructor for four call sites reads better than a builder")]
fn catalog_body(
    name: &'static str,
    kind: BodyKind,
    parent: Option<&'static str>,
    gm: f64,
    radius_km: f64,
    color: u32,
    position: DVec3,
    velocity: DVec3,
) -> CatalogBody {
    CatalogBody {
        name,
        kind,
        parent,
        gm,
        mass: gm / GRAVITATIONAL_CONSTANT,
        radius: radius_km * KILOMETRE,
        color,
        position,
        velocity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn find<'a>(bodies: &'a [CatalogBody], name: &str) -> &'a CatalogBody {
        bodies.iter().find(|body| body.name == name).unwrap_or_else(|| panic!("no body named {name}"))
    }

    fn parent_of<'a>(bodies: &'a [CatalogBody], child: &CatalogBody) -> &'a CatalogBody {
        let Some(parent_name) = child.parent else { panic!("{} has no parent", child.name) };
        find(bodies, parent_name)
    }

    /// GM of a planet and its moons.
    fn system_gm(bodies: &[CatalogBody], planet: &str) -> f64 {
        bodies.iter().filter(|body| body.name == planet || body.parent == Some(planet)).map(|body| body.gm).sum()
    }

    /// GM-weighted position and velocity of a planet and its moons.
    fn system_barycentre(bodies: &[CatalogBody], planet: &str) -> (DVec3, DVec3) {
        let members = || bodies.iter().filter(|body| body.name == planet || body.parent == Some(planet));
        let gm = system_gm(bodies, planet);
        let position = members().map(|body| body.gm * body.position).sum::<DVec3>() / gm;
        let velocity = members().map(|body| body.gm * body.velocity).sum::<DVec3>() / gm;
        (position, velocity)
    }

    fn relative_error(actual: f64, expected: f64) -> f64 {
        ((actual - expected) / expected).abs()
    }

    #[test]
    fn has_29_bodies_with_unique_names_in_kind_order() {
        let bodies = solar_system();
        assert_eq!(bodies.len(), 29);
        let names: HashSet<&str> = bodies.iter().map(|body| body.name).collect();
        assert_eq!(names.len(), bodies.len(), "duplicate names");
        assert_eq!(bodies[0].name, "Sun");
        assert_eq!(bodies[0].kind, BodyKind::Star);
        assert!(bodies[1..9].iter().all(|b| b.kind == BodyKind::Planet));
        assert!(bodies[9..].iter().all(|b| b.kind == BodyKind::Moon));
    }

    #[test]
    fn every_parent_exists_and_precedes_its_child() {
        let bodies = solar_system();
        for (index, body) in bodies.iter().enumerate() {
            match body.parent {
                None => assert_eq!(body.kind, BodyKind::Star),
                Some(parent) => {
                    let parent_index = bodies
                        .iter()
                        .position(|candidate| candidate.name == parent)
                        .unwrap_or_else(|| panic!("{} has unknown parent {parent}", body.name));
                    assert!(parent_index < index, "{} precedes its parent", body.name);
                }
            }
        }
    }

    #[test]
    fn physical_data_is_consistent() {
        for body in solar_system() {
            assert!(body.gm > 0.0 && body.radius > 0.0, "{}", body.name);
            assert!(relative_error(body.mass * GRAVITATIONAL_CONSTANT, body.gm) < 1e-15);
            assert!(body.position.is_finite() && body.velocity.is_finite());
        }
    }

    #[test]
    fn total_momentum_is_zero() {
        let bodies = solar_system();
        let momentum: DVec3 = bodies.iter().map(|b| b.mass * b.velocity).sum();
        let momentum_scale: f64 = bodies.iter().map(|b| (b.mass * b.velocity).length()).sum();
        assert!(momentum.length() / momentum_scale < 1e-14, "relative momentum {}", momentum.length() / momentum_scale);
        let mass_moment: DVec3 = bodies.iter().map(|b| b.mass * b.position).sum();
        let moment_scale: f64 = bodies.iter().map(|b| (b.mass * b.position).length()).sum();
        assert!(mass_moment.length() / moment_scale < 1e-14);
    }

    #[test]
    fn earth_is_near_perihelion_at_j2000() {
        let bodies = solar_system();
        let sun = find(&bodies, "Sun");
        let earth = find(&bodies, "Earth");
        let distance_au = (earth.position - sun.position).length() / ASTRONOMICAL_UNIT;
        assert!((distance_au - 0.983_33).abs() < 1e-5, "{distance_au} AU");
        let speed = (earth.velocity - sun.velocity).length();
        assert!((30_250.0..30_350.0).contains(&speed), "{speed} m/s");
    }

    #[test]
    fn moon_is_at_its_de421_distance_from_earth() {
        let bodies = solar_system();
        let earth = find(&bodies, "Earth");
        let moon = find(&bodies, "Moon");
        let distance_km = (moon.position - earth.position).length() / KILOMETRE;
        // DE421 at J2000: the Moon is near apogee.
        assert!((distance_km - 402_448.6).abs() < 0.1, "{distance_km} km");
    }

    #[test]
    fn sun_planets_and_moon_are_de421_turned_to_the_ecliptic() {
        let bodies = solar_system();
        let ephemeris = ephemeris::de421_j2000().expect("the compiled-in data parses");
        let sun_state = ephemeris[0];
        let catalog_sun = find(&bodies, "Sun");
        for state in &ephemeris[1..] {
            let expected_position = equatorial_to_ecliptic() * (state.position - sun_state.position);
            let expected_velocity = equatorial_to_ecliptic() * (state.velocity - sun_state.velocity);
            let catalog_body = find(&bodies, state.name);
            let (position, velocity) = if matches!(state.name, "Mars" | "Jupiter" | "Saturn" | "Uranus" | "Neptune") {
                system_barycentre(&bodies, state.name)
            } else {
                (catalog_body.position, catalog_body.velocity)
            };
            let position_error = (position - catalog_sun.position).distance(expected_position);
            let velocity_error = (velocity - catalog_sun.velocity).distance(expected_velocity);
            // Rounding only: positions reach 4.5e12 m, velocities 4e4 m/s.
            assert!(position_error < 1e-2, "{}: {position_error} m", state.name);
            assert!(velocity_error < 1e-9, "{}: {velocity_error} m/s", state.name);
            let system_gm = if state.name == "Earth" { catalog_body.gm } else { system_gm(&bodies, state.name) };
            assert!(relative_error(system_gm, state.gm) < 1e-15, "{} GM", state.name);
        }
        assert_eq!(catalog_sun.gm, sun_state.gm);
    }

    #[test]
    fn the_frame_is_the_ecliptic_so_the_earth_orbits_in_the_xy_plane() {
        let bodies = solar_system();
        let sun = find(&bodies, "Sun");
        let earth = find(&bodies, "Earth");
        let moon = find(&bodies, "Moon");
        let earth_moon_gm = earth.gm + moon.gm;
        let barycentre_position = (earth.gm * earth.position + moon.gm * moon.position) / earth_moon_gm;
        let barycentre_velocity = (earth.gm * earth.velocity + moon.gm * moon.velocity) / earth_moon_gm;
        let normal = (barycentre_position - sun.position).cross(barycentre_velocity - sun.velocity);
        // The osculating Earth–Moon orbit is within a few arcseconds of the J2000 ecliptic.
        let inclination_arcseconds = normal.angle_between(DVec3::Z).to_degrees() * 3600.0;
        assert!(inclination_arcseconds < 10.0, "{inclination_arcseconds}\"");
    }

    #[test]
    fn every_moon_is_bound_and_inside_its_hill_sphere() {
        let bodies = solar_system();
        let sun = find(&bodies, "Sun");
        for moon in bodies.iter().filter(|b| b.kind == BodyKind::Moon) {
            let parent = parent_of(&bodies, moon);
            let separation = (moon.position - parent.position).length();
            let relative_speed = (moon.velocity - parent.velocity).length();
            let specific_energy = 0.5 * relative_speed * relative_speed - (parent.gm + moon.gm) / separation;
            assert!(specific_energy < 0.0, "{} is unbound", moon.name);

            let parent_heliocentric_distance = (parent.position - sun.position).length();
            let hill_radius = parent_heliocentric_distance * (parent.mass / (3.0 * sun.mass)).cbrt();
            assert!(separation < hill_radius, "{} outside Hill sphere", moon.name);
        }
    }

    #[test]
    fn moon_orbit_planes_follow_their_reference_planes() {
        let bodies = solar_system();
        let orbit_normal = |moon_name: &str| {
            let moon = find(&bodies, moon_name);
            let parent = parent_of(&bodies, moon);
            (moon.position - parent.position).cross(moon.velocity - parent.velocity).normalize()
        };
        let angle_degrees = |a: DVec3, b: DVec3| a.angle_between(b).to_degrees();

        // DE421's Moon at J2000: osculating inclination 5.24° to the ecliptic (mean 5.16°).
        let moon_inclination = angle_degrees(orbit_normal("Moon"), DVec3::Z);
        assert!((moon_inclination - 5.24).abs() < 0.01, "{moon_inclination}");

        // Uranus' regular moons orbit its (sideways, retrograde) equator.
        let uranus_pole = equator_frame(URANUS_SPIN_POLE).z_axis;
        assert!((angle_degrees(orbit_normal("Ariel"), uranus_pole) - 0.041).abs() < 1e-5);
        assert!(angle_degrees(uranus_pole, DVec3::Z) > 90.0, "Uranus spins retrograde");

        // Triton is retrograde about Neptune.
        let neptune_pole = equator_frame(NEPTUNE_POLE).z_axis;
        assert!((angle_degrees(orbit_normal("Triton"), neptune_pole) - 156.865).abs() < 1e-5);
    }

    #[test]
    fn circular_orbit_speed_is_circular_velocity() {
        let mu = 3.986_004_418e14;
        let a = 7.0e6;
        let (position, velocity) = state_from_elements(mu, a, 0.0, 0.9, 1.3, 0.4, 2.1);
        assert!(relative_error(position.length(), a) < 1e-14);
        assert!(relative_error(velocity.length(), (mu / a).sqrt()) < 1e-14);
        assert!(position.dot(velocity).abs() < 1e-6 * a * velocity.length());
    }

    #[test]
    fn eccentric_orbit_energy_and_angular_momentum_match_elements() {
        let mu = 1.327_124_400_18e20;
        let a = 2.0 * ASTRONOMICAL_UNIT;
        let e = 0.5;
        let (inclination, node) = (0.3_f64, 1.1_f64);
        for step in 0..12 {
            let mean_anomaly = f64::from(step) * 0.55 - 3.0;
            let (position, velocity) = state_from_elements(mu, a, e, inclination, node, 0.7, mean_anomaly);
            let energy = 0.5 * velocity.length_squared() - mu / position.length();
            assert!(relative_error(energy, -mu / (2.0 * a)) < 1e-12, "M = {mean_anomaly}");
            let angular_momentum = position.cross(velocity);
            let expected_magnitude = (mu * a * (1.0 - e * e)).sqrt();
            assert!(relative_error(angular_momentum.length(), expected_magnitude) < 1e-12);
            let expected_direction =
                DVec3::new(inclination.sin() * node.sin(), -inclination.sin() * node.cos(), inclination.cos());
            assert!(angular_momentum.normalize().distance(expected_direction) < 1e-12);
        }
    }

    #[test]
    fn periapsis_state_matches_vis_viva() {
        let mu = 1.0e14;
        let (a, e) = (1.0e7, 0.5);
        let (position, velocity) = state_from_elements(mu, a, e, 0.0, 0.0, 0.0, 0.0);
        assert!(position.distance(DVec3::new(a * (1.0 - e), 0.0, 0.0)) < 1e-6);
        let periapsis_speed = (mu / a * (1.0 + e) / (1.0 - e)).sqrt();
        assert!(relative_error(velocity.y, periapsis_speed) < 1e-14);
    }

    #[test]
    fn kepler_solver_converges_for_high_eccentricity() {
        for e in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999] {
            for step in -20..=20 {
                let mean_anomaly = f64::from(step) * 0.7;
                let eccentric_anomaly = solve_kepler(mean_anomaly, e);
                let residual = eccentric_anomaly - e * eccentric_anomaly.sin() - mean_anomaly;
                assert!(residual.abs() < 1e-13, "e = {e}, M = {mean_anomaly}");
            }
        }
    }
}
