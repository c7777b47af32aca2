//! Orbit validation: integrate the Sun, the eight planets and the Moon from JPL DE421's state at
//! J2000 with Galaxy's engine and measure how far each body strays from DE421.
//!
//! [`validate_solar_system`] is what `galaxy-sim validate solar-system` runs. It starts from the
//! compiled-in DE421 initial conditions ([`crate::ephemeris`]), in DE421's own frame (ICRF,
//! barycentric; a position error does not depend on the frame), and steps the engine's
//! kick-drift-kick leapfrog with a fixed step, optionally with the Sun's first post-Newtonian
//! correction ([`PostNewtonian::SI`]). At every reference time (every 10 days and every Julian
//! year for ten years) it records each body's position error, and the Moon's error relative to
//! the Earth, which is what ships near the Earth feel. It also tracks the relative drift of the
//! total (Newtonian) energy, every 10 days, for as long as it runs.
//!
//! Units: the engine runs with `gravitational_constant = 1` and each body's mass set to its
//! DE421 GM in m³/s², so the physics uses DE421's GMs exactly and no value of G enters.
//! Energies then come out in m⁵/s⁴ (GM·v²), which does not matter for a relative drift.
//!
//! [`write_error_plot`] draws the position errors against time as SVG or PNG, with a font
//! compiled into the binary, so no system fonts or graphics libraries are needed.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use galaxy_engine::{BodyInit, EngineError, PostNewtonian, SimParams, Simulation};
use glam::DVec3;
use thiserror::Error;

use crate::ephemeris::{
    self, DE421_BODY_COUNT, DE421_BODY_NAMES, EphemerisError, EphemerisState, ReferenceSample, SECONDS_PER_DAY,
};

/// Days in a Julian year, the unit of `--years`.
pub const DAYS_PER_JULIAN_YEAR: f64 = 365.25;

/// Longest run accepted, in years. The reference track covers 10; beyond that only the energy
/// drift is measured, and a century at a 1-hour step already takes under a minute.
pub const MAX_YEARS: f64 = 1_000.0;

/// Longest step accepted: the reference spacing. A longer step would skip reference samples
/// and say nothing useful about a leapfrog.
pub const MAX_STEP_SECONDS: f64 = 10.0 * SECONDS_PER_DAY;

/// How often (days) the energy is checked once the reference track has ended.
const ENERGY_CHECK_INTERVAL_DAYS: f64 = 10.0;

/// A reference time closer than this fraction of a step to a whole step counts as on it.
const STEP_ROUNDING_TOLERANCE: f64 = 1e-9;

/// Index of the Earth and the Moon in [`DE421_BODY_NAMES`].
const EARTH: usize = 3;
const MOON: usize = 9;

/// What to integrate and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationParams {
    /// How long to integrate, in Julian years (365.25 days): at least 10 days' worth, at most
    /// [`MAX_YEARS`]. Position errors are measured over the first 10 years.
    pub years: f64,
    /// Leapfrog step, seconds: more than 0, at most [`MAX_STEP_SECONDS`].
    pub step_seconds: f64,
    /// Add the Sun's first post-Newtonian correction ([`PostNewtonian::SI`]).
    pub post_newtonian: bool,
}

/// Why a validation could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ValidationError {
    /// `years` is not a finite number in range.
    #[error("years must be between {min:.4} (10 days, the first reference sample) and {max}, got {value}")]
    YearsOutOfRange {
        /// Shortest run, years.
        min: f64,
        /// Longest run, years.
        max: f64,
        /// The value given.
        value: f64,
    },
    /// `step_seconds` is not a finite number in range.
    #[error("the step must be more than 0 and at most {max} s (the reference spacing), got {value}")]
    StepOutOfRange {
        /// Longest step, seconds.
        max: f64,
        /// The value given.
        value: f64,
    },
    /// The compiled-in DE421 data did not parse.
    #[error("reading the DE421 data")]
    Ephemeris(#[from] EphemerisError),
    /// The engine refused the bodies or the parameters.
    #[error("setting up the engine")]
    Engine(#[from] EngineError),
}

/// Why a plot could not be drawn.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlotError {
    /// The file name does not end in `.svg` or `.png`.
    #[error("the plot file must end in .svg or .png, got {0:?}")]
    UnknownFormat(String),
    /// The report has no samples after the start to draw.
    #[error("nothing to plot: the run has no reference samples after J2000")]
    NothingToPlot,
    /// The compiled-in font was refused by the font rasteriser.
    #[error("the compiled-in plot font could not be loaded")]
    Font,
    /// Drawing or writing the file failed; the text is what the plotting library said.
    #[error("drawing the plot: {0}")]
    Drawing(String),
}

/// The position errors at one reference time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorSample {
    /// Days since J2000.0 TDB.
    pub days: f64,
    /// Distance between the integrated and the DE421 position of each body, m, in
    /// [`DE421_BODY_NAMES`] order.
    pub position_errors: [f64; DE421_BODY_COUNT],
    /// Error of the Moon's position relative to the Earth (geocentric), m.
    pub moon_geocentric_error: f64,
}

/// What a validation run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationReport {
    /// The parameters of the run.
    pub params: ValidationParams,
    /// Errors at every reference time the run covered (the first is J2000, error 0).
    pub samples: Vec<ErrorSample>,
    /// Leapfrog steps taken (whole steps; reference times between two steps are reached by a
    /// shorter step of a copy, which does not disturb the run).
    pub steps: u64,
    /// `|E − E₀| / |E₀|` of the Newtonian energy after the last step.
    pub final_energy_drift: f64,
    /// The largest `|E − E₀| / |E₀|` seen, checked at every reference time and every 10 days.
    pub max_energy_drift: f64,
    /// Wall-clock time of the integration, seconds.
    pub wall_seconds: f64,
}

impl ValidationParams {
    /// Checks both numbers.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let min_years = ENERGY_CHECK_INTERVAL_DAYS / DAYS_PER_JULIAN_YEAR;
        if !(self.years.is_finite() && (min_years..=MAX_YEARS).contains(&self.years)) {
            return Err(ValidationError::YearsOutOfRange { min: min_years, max: MAX_YEARS, value: self.years });
        }
        if !(self.step_seconds.is_finite() && self.step_seconds > 0.0 && self.step_seconds <= MAX_STEP_SECONDS) {
            return Err(ValidationError::StepOutOfRange { max: MAX_STEP_SECONDS, value: self.step_seconds });
        }
        Ok(())
    }

    /// The engine parameters of the run: G = 1 (masses are GMs), no softening, the step, and
    /// the 1PN correction if asked for.
    #[must_use]
    pub fn sim_params(&self) -> SimParams {
        SimParams {
            gravitational_constant: 1.0,
            softening: 0.0,
            substep: self.step_seconds,
            post_newtonian: self.post_newtonian.then_some(PostNewtonian::SI),
            ..SimParams::default()
        }
    }
}

impl ValidationReport {
    /// The sample at `days` since J2000, if the run has one.
    #[must_use]
    pub fn sample_at(&self, days: f64) -> Option<&ErrorSample> {
        self.samples.iter().find(|sample| sample.days == days)
    }

    /// The samples the table shows: after 1 year and after 10 years, or at the last reference
    /// time when the run is shorter.
    #[must_use]
    pub fn checkpoints(&self) -> Vec<&ErrorSample> {
        let mut checkpoints: Vec<&ErrorSample> = self.sample_at(DAYS_PER_JULIAN_YEAR).into_iter().collect();
        let last = self.sample_at(10.0 * DAYS_PER_JULIAN_YEAR).or_else(|| self.samples.last());
        if let Some(last) = last
            && checkpoints.last().is_none_or(|first| first.days != last.days)
        {
            checkpoints.push(last);
        }
        checkpoints
    }

    /// The largest position error of any planet (Mercury to Neptune) at `days`, m.
    #[must_use]
    pub fn largest_planet_error_at(&self, days: f64) -> Option<f64> {
        let sample = self.sample_at(days)?;
        Some(sample.position_errors[1..=8].iter().copied().fold(0.0, f64::max))
    }
}

/// Integrates the DE421 bodies from J2000 for `params.years` and compares them with DE421.
pub fn validate_solar_system(params: &ValidationParams) -> Result<ValidationReport, ValidationError> {
    params.validate()?;
    let initial_states = ephemeris::de421_j2000()?;
    let track = ephemeris::de421_reference_track()?;
    let sim_params = params.sim_params();
    let mut simulation = simulation_of(&initial_states, sim_params)?;

    let end_days = params.years * DAYS_PER_JULIAN_YEAR;
    let initial_energy = simulation.diagnostics().energy();
    let energy_drift = |simulation: &Simulation| {
        let energy = simulation.diagnostics().energy();
        ((energy - initial_energy) / initial_energy).abs()
    };

    let started = Instant::now();
    let mut stepper = Stepper { simulation: &mut simulation, step_seconds: params.step_seconds, steps: 0 };
    let mut samples = Vec::new();
    let mut max_energy_drift: f64 = 0.0;
    for reference in track.iter().take_while(|sample| sample.days <= end_days) {
        let positions = stepper.positions_at(reference.days * SECONDS_PER_DAY)?;
        samples.push(compare(reference, &positions));
        max_energy_drift = max_energy_drift.max(energy_drift(stepper.simulation));
    }
    // Past the reference track only the energy is watched.
    let mut check_days = samples.last().map_or(0.0, |sample| sample.days);
    loop {
        check_days = (check_days + ENERGY_CHECK_INTERVAL_DAYS).min(end_days);
        stepper.advance_to(check_days * SECONDS_PER_DAY);
        max_energy_drift = max_energy_drift.max(energy_drift(stepper.simulation));
        if check_days >= end_days {
            break;
        }
    }
    let steps = stepper.steps;
    let wall_seconds = started.elapsed().as_secs_f64();
    Ok(ValidationReport {
        params: *params,
        samples,
        steps,
        final_energy_drift: energy_drift(&simulation),
        max_energy_drift,
        wall_seconds,
    })
}

/// A simulation of `states` with masses set to GM (see the module docs for units).
fn simulation_of(states: &[EphemerisState], params: SimParams) -> Result<Simulation, EngineError> {
    let mut simulation = Simulation::new(params)?;
    for state in states {
        simulation.add_body(BodyInit {
            mass: state.gm,
            radius: 0.0,
            position: state.position,
            velocity: state.velocity,
        })?;
    }
    Ok(simulation)
}

/// Advances a simulation by whole steps and reads positions at times between steps.
struct Stepper<'simulation> {
    simulation: &'simulation mut Simulation,
    step_seconds: f64,
    steps: u64,
}

impl Stepper<'_> {
    /// Takes whole steps up to the last one at or before `seconds`; returns how far short of
    /// `seconds` that leaves the simulation (0 when `seconds` is on a step).
    fn advance_to(&mut self, seconds: f64) -> f64 {
        let target = (seconds / self.step_seconds + STEP_ROUNDING_TOLERANCE).floor();
        // Whole numbers of steps below 2^53 convert exactly.
        let target_steps = target.max(0.0) as u64;
        while self.steps < target_steps {
            let batch = u32::try_from(target_steps - self.steps).unwrap_or(u32::MAX);
            self.simulation.step(batch);
            self.steps += u64::from(batch);
        }
        let remainder = seconds - target * self.step_seconds;
        if remainder > STEP_ROUNDING_TOLERANCE * self.step_seconds { remainder } else { 0.0 }
    }

    /// Body positions at `seconds` since J2000. A time between steps is reached by one shorter
    /// step of a copy, so the run itself keeps its fixed step.
    fn positions_at(&mut self, seconds: f64) -> Result<[DVec3; DE421_BODY_COUNT], EngineError> {
        let remainder = self.advance_to(seconds);
        let bodies = self.simulation.bodies();
        let mut positions = [DVec3::ZERO; DE421_BODY_COUNT];
        if remainder == 0.0 {
            for (body, position) in positions.iter_mut().enumerate() {
                *position = bodies.position(body);
            }
            return Ok(positions);
        }
        let params = SimParams { substep: remainder, ..*self.simulation.params() };
        let mut copy = Simulation::new(params)?;
        for body in 0..bodies.len() {
            copy.add_body(BodyInit {
                mass: bodies.mass()[body],
                radius: 0.0,
                position: bodies.position(body),
                velocity: bodies.velocity(body),
            })?;
        }
        copy.step(1);
        for (body, position) in positions.iter_mut().enumerate() {
            *position = copy.bodies().position(body);
        }
        Ok(positions)
    }
}

fn compare(reference: &ReferenceSample, positions: &[DVec3; DE421_BODY_COUNT]) -> ErrorSample {
    let mut position_errors = [0.0; DE421_BODY_COUNT];
    for ((error, position), expected) in position_errors.iter_mut().zip(positions).zip(&reference.positions) {
        *error = position.distance(*expected);
    }
    let geocentric = positions[MOON] - positions[EARTH];
    let expected_geocentric = reference.positions[MOON] - reference.positions[EARTH];
    ErrorSample {
        days: reference.days,
        position_errors,
        moon_geocentric_error: geocentric.distance(expected_geocentric),
    }
}

/// Kilometres, with fewer decimals as the number grows.
fn kilometres(metres: f64) -> String {
    let kilometres = metres / 1e3;
    if kilometres < 10.0 {
        format!("{kilometres:.3}")
    } else if kilometres < 1_000.0 {
        format!("{kilometres:.1}")
    } else {
        format!("{kilometres:.0}")
    }
}

/// "1 yr", "10 yr", "0.5 yr", "30 d".
fn elapsed_label(days: f64) -> String {
    let years = days / DAYS_PER_JULIAN_YEAR;
    if days < 100.0 { format!("{days} d") } else { format!("{} yr", (years * 1e3).round() / 1e3) }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = &self.params;
        let gravity = if params.post_newtonian {
            "Newtonian gravity + the Sun's 1PN correction (--gr)"
        } else {
            "Newtonian gravity (no 1PN correction; --gr adds it)"
        };
        writeln!(formatter, "Sun, 8 planets and the Moon from JPL DE421 at J2000.0, compared with DE421")?;
        writeln!(
            formatter,
            "kick-drift-kick leapfrog, dt = {} s, {gravity}: {} years, {} steps, {:.1} s wall",
            params.step_seconds, params.years, self.steps, self.wall_seconds
        )?;
        writeln!(formatter)?;
        let checkpoints = self.checkpoints();
        write!(formatter, "{:<20}", "position error (km)")?;
        for checkpoint in &checkpoints {
            write!(formatter, "{:>12}", elapsed_label(checkpoint.days))?;
        }
        writeln!(formatter)?;
        for (body, name) in DE421_BODY_NAMES.iter().enumerate() {
            write!(formatter, "{name:<20}")?;
            for checkpoint in &checkpoints {
                write!(formatter, "{:>12}", kilometres(checkpoint.position_errors[body]))?;
            }
            writeln!(formatter)?;
        }
        write!(formatter, "{:<20}", "Moon (geocentric)")?;
        for checkpoint in &checkpoints {
            write!(formatter, "{:>12}", kilometres(checkpoint.moon_geocentric_error))?;
        }
        writeln!(formatter)?;
        writeln!(formatter)?;
        write!(
            formatter,
            "relative energy drift |ΔE/E|: {:.1e} at the end, {:.1e} at most (checked every 10 days)",
            self.final_energy_drift, self.max_energy_drift
        )?;
        if params.post_newtonian {
            write!(formatter, "; Newtonian energy, which the 1PN force changes by ~1e-8")?;
        }
        Ok(())
    }
}

/// Colours of the plotted lines, in [`DE421_BODY_NAMES`] order, then the geocentric Moon.
const LINE_COLORS: [(u8, u8, u8); DE421_BODY_COUNT + 1] = [
    (230, 159, 0),   // Sun
    (120, 120, 120), // Mercury
    (204, 121, 167), // Venus
    (0, 114, 178),   // Earth
    (213, 94, 0),    // Mars
    (140, 86, 75),   // Jupiter
    (117, 112, 179), // Saturn
    (86, 180, 233),  // Uranus
    (40, 40, 160),   // Neptune
    (0, 158, 115),   // Moon
    (0, 0, 0),       // Moon, geocentric
];

/// Errors below this (1 m) are drawn at it: the reference is rounded to the metre.
const PLOT_FLOOR_KILOMETRES: f64 = 1e-3;

/// Draws the position error of every body (and the Moon's geocentric error) against time on a
/// logarithmic scale, to `path`: SVG if it ends in `.svg`, PNG if it ends in `.png`.
pub fn write_error_plot(report: &ValidationReport, path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::{BitMapBackend, SVGBackend};

    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    let size = (1100, 700);
    register_plot_font()?;
    match extension.as_deref() {
        Some("svg") => draw_error_chart(SVGBackend::new(path, size), report).map_err(PlotError::Drawing),
        Some("png") => draw_error_chart(BitMapBackend::new(path, size), report).map_err(PlotError::Drawing),
        _ => Err(PlotError::UnknownFormat(path.display().to_string())),
    }
    .and_then(|drawn| drawn.ok_or(PlotError::NothingToPlot))
}

/// Gives the plotting library the font compiled into the binary (Hack, from
/// `epaint_default_fonts`), so text needs no system fonts; registering twice is harmless.
fn register_plot_font() -> Result<(), PlotError> {
    use plotters::style::{FontStyle, register_font};
    register_font(PLOT_FONT, FontStyle::Normal, epaint_default_fonts::HACK_REGULAR).map_err(|_| PlotError::Font)
}

/// The font family name the chart asks for, registered by [`register_plot_font`].
const PLOT_FONT: &str = "sans-serif";

/// Draws the chart; `Ok(None)` when there is nothing after J2000 to draw.
fn draw_error_chart<Backend: plotters::prelude::DrawingBackend>(
    backend: Backend,
    report: &ValidationReport,
) -> Result<Option<()>, String> {
    use plotters::prelude::*;

    let years = |days: f64| days / DAYS_PER_JULIAN_YEAR;
    let kilometres = |metres: f64| (metres / 1e3).max(PLOT_FLOOR_KILOMETRES);
    let drawn: Vec<&ErrorSample> = report.samples.iter().filter(|sample| sample.days > 0.0).collect();
    let Some(last) = drawn.last() else { return Ok(None) };
    let largest = drawn
        .iter()
        .flat_map(|sample| sample.position_errors.iter().chain([&sample.moon_geocentric_error]))
        .copied()
        .fold(0.0, f64::max);
    let y_top = kilometres(largest) * 2.0;

    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|error| error.to_string())?;
    let gravity = if report.params.post_newtonian { "Newtonian + 1PN (Sun)" } else { "Newtonian" };
    let title = format!("Position error vs JPL DE421 — leapfrog, dt = {} s, {gravity}", report.params.step_seconds);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (PLOT_FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..years(last.days), (PLOT_FLOOR_KILOMETRES..y_top).log_scale())
        .map_err(|error| error.to_string())?;
    chart
        .configure_mesh()
        .x_desc("years since J2000.0")
        .y_desc("position error (km)")
        .label_style((PLOT_FONT, 14))
        .draw()
        .map_err(|error| error.to_string())?;

    let names = DE421_BODY_NAMES.iter().copied().chain(["Moon (geocentric)"]);
    for (line, (name, (red, green, blue))) in names.zip(LINE_COLORS).enumerate() {
        let color = RGBColor(red, green, blue);
        let error_of = |sample: &ErrorSample| {
            if line < DE421_BODY_COUNT { sample.position_errors[line] } else { sample.moon_geocentric_error }
        };
        let points = drawn.iter().map(|sample| (years(sample.days), kilometres(error_of(sample))));
        let style = if line == DE421_BODY_COUNT { color.stroke_width(1) } else { color.stroke_width(2) };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(|error| error.to_string())?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((PLOT_FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|error| error.to_string())?;
    root.present().map_err(|error| error.to_string())?;
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_out_of_range_are_refused_before_any_work() {
        let valid = ValidationParams { years: 1.0, step_seconds: 600.0, post_newtonian: false };
        assert_eq!(valid.validate(), Ok(()));
        for years in [0.0, 0.02, -1.0, f64::NAN, f64::INFINITY, 1_001.0] {
            let error = validate_solar_system(&ValidationParams { years, ..valid }).expect_err("refused");
            assert!(matches!(error, ValidationError::YearsOutOfRange { .. }), "{years}: {error}");
        }
        for step_seconds in [0.0, -600.0, f64::NAN, 11.0 * SECONDS_PER_DAY] {
            let error = validate_solar_system(&ValidationParams { step_seconds, ..valid }).expect_err("refused");
            assert!(matches!(error, ValidationError::StepOutOfRange { .. }), "{step_seconds}: {error}");
        }
    }

    #[test]
    fn a_step_that_does_not_divide_the_reference_spacing_still_samples_on_time() {
        // 7,000 s does not divide 10 days (7,200 s does): samples between two steps are reached
        // by a shorter step of a copy. The leapfrog's error grows as dt², so the two runs'
        // errors must stand in the ratio (7000/7200)²; a sample read even a minute off would
        // move Mercury (47 km/s) by 2,800 km and break it.
        let uneven = ValidationParams { years: 0.2, step_seconds: 7_000.0, post_newtonian: false };
        let even = ValidationParams { step_seconds: 7_200.0, ..uneven };
        let uneven_report = validate_solar_system(&uneven).expect("valid");
        let even_report = validate_solar_system(&even).expect("valid");
        assert_eq!(uneven_report.steps, (73.05 * SECONDS_PER_DAY / 7_000.0).floor() as u64);
        let uneven_last = uneven_report.samples.last().expect("samples");
        let even_last = even_report.samples.last().expect("samples");
        assert_eq!((uneven_last.days, even_last.days), (70.0, 70.0));
        let expected_ratio = (7_000.0_f64 / 7_200.0).powi(2);
        for name in ["Mercury", "Venus", "Earth"] {
            let body = ephemeris::de421_body_index(name).expect("a DE421 body");
            let ratio = uneven_last.position_errors[body] / even_last.position_errors[body];
            assert!((ratio / expected_ratio - 1.0).abs() < 0.02, "{name}: ratio {ratio}");
        }
    }

    #[test]
    fn a_run_shorter_than_a_year_reports_its_last_sample() {
        let report =
            validate_solar_system(&ValidationParams { years: 0.1, step_seconds: 3_600.0, post_newtonian: false })
                .expect("valid");
        let checkpoints = report.checkpoints();
        assert_eq!(checkpoints.len(), 1);
        assert_eq!(checkpoints[0].days, 30.0);
        // At J2000 only the reference's rounding to the metre shows.
        assert!(report.samples[0].position_errors.iter().all(|&error| error < 1.0));
        let table = report.to_string();
        assert!(table.contains("30 d") && table.contains("Moon (geocentric)"), "{table}");
    }

    #[test]
    fn error_plots_are_written_as_svg_and_png_and_other_names_are_refused() {
        let report =
            validate_solar_system(&ValidationParams { years: 0.1, step_seconds: 3_600.0, post_newtonian: false })
                .expect("valid");
        let directory = std::env::temp_dir().join(format!("galaxy-validate-plot-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("scratch directory");
        let svg = directory.join("errors.svg");
        write_error_plot(&report, &svg).expect("svg written");
        let text = std::fs::read_to_string(&svg).expect("svg readable");
        assert!(text.starts_with("<svg") && text.contains("Mercury") && text.contains("years since J2000.0"));
        let png = directory.join("errors.png");
        write_error_plot(&report, &png).expect("png written");
        let bytes = std::fs::read(&png).expect("png readable");
        assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
        let error = write_error_plot(&report, &directory.join("errors.pdf")).expect_err("refused");
        assert!(matches!(error, PlotError::UnknownFormat(_)), "{error}");
        let _ = std::fs::remove_dir_all(&directory);
    }
}
