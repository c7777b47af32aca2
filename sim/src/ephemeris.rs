//! JPL DE421 data shipped with Galaxy: the Sun, the eight planets and the Moon at J2000, and
//! their reference positions over ten years.
//!
//! Both files live in `data/solar_system/` and are written by `tools/ephemeris/generate.py`
//! (PyPI `jplephem` + `de421`); they are compiled into the crate with `include_str!`, so nothing
//! reads files or runs Python at run time. The files keep DE421's own frame and origin: ICRF
//! (equatorial), solar-system barycentre, TDB, SI units (m, m/s, m³/s²). DE421's `earthmoon`
//! and geocentric `moon` series are already resolved into the Earth and the Moon; Mars to
//! Neptune are DE421's *system* barycentres (planet plus moons) with system GMs.
//!
//! [`de421_j2000`] feeds the game's catalog ([`crate::solar_system`]) and the orbit validation
//! ([`crate::validate`]); [`de421_reference_track`] is what the validation compares against.
//! The parsers are public so the checks on the shipped files can be exercised with bad text.

use glam::DVec3;
use thiserror::Error;

/// The DE421 initial conditions at J2000, as written by `tools/ephemeris/generate.py`.
pub const DE421_J2000_CSV: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/solar_system/de421_j2000.csv"));

/// The DE421 reference positions, as written by `tools/ephemeris/generate.py`.
pub const DE421_REFERENCE_CSV: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/solar_system/de421_reference.csv"));

/// Name of the initial-conditions file in error messages.
pub const DE421_J2000_FILE: &str = "data/solar_system/de421_j2000.csv";

/// Name of the reference-track file in error messages.
pub const DE421_REFERENCE_FILE: &str = "data/solar_system/de421_reference.csv";

/// Number of bodies in the DE421 files.
pub const DE421_BODY_COUNT: usize = 10;

/// The bodies of the DE421 files, in the order every parsed result uses.
pub const DE421_BODY_NAMES: [&str; DE421_BODY_COUNT] =
    ["Sun", "Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Moon"];

/// Seconds per day; the reference track counts days since J2000.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

const INITIAL_STATE_COLUMNS: [&str; 8] = ["name", "gm", "x", "y", "z", "vx", "vy", "vz"];
const REFERENCE_COLUMNS: [&str; 5] = ["days", "name", "x", "y", "z"];

/// Why a DE421 data file was refused. Lines count from 1, comment lines included.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EphemerisError {
    /// The file has no header line (only comments, or nothing).
    #[error("{file}: no header line")]
    MissingHeader {
        /// The file.
        file: &'static str,
    },
    /// The header line is not the expected list of columns.
    #[error("{file} line {line}: header must be {expected:?}, found {found:?}")]
    WrongHeader {
        /// The file.
        file: &'static str,
        /// Line number of the header.
        line: usize,
        /// The expected header.
        expected: String,
        /// The header found.
        found: String,
    },
    /// A row has the wrong number of fields.
    #[error("{file} line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// Fields per row.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field that must be a finite number is not one.
    #[error("{file} line {line}, column {column}: {text:?} is not a finite number")]
    NotFinite {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// Column name.
        column: &'static str,
        /// The field as written.
        text: String,
    },
    /// A GM is zero or negative.
    #[error("{file} line {line}, column gm: GM must be positive, got {value}")]
    NonPositiveGm {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// The value.
        value: f64,
    },
    /// A body name outside [`DE421_BODY_NAMES`].
    #[error("{file} line {line}: unknown body {name:?} (expected one of {})", DE421_BODY_NAMES.join(", "))]
    UnknownBody {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// The name found.
        name: String,
    },
    /// A body appears twice (in the same sample, for the reference track).
    #[error("{file} line {line}: {name} appears twice")]
    DuplicateBody {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// The body.
        name: &'static str,
    },
    /// A body has no row (in some sample, for the reference track).
    #[error("{file}: no row for {name} at {days} days")]
    MissingBody {
        /// The file.
        file: &'static str,
        /// The body.
        name: &'static str,
        /// The sample time (0 for the initial conditions).
        days: f64,
    },
    /// A reference sample is not later than the one before it.
    #[error("{file} line {line}: time {days} days is not after the previous sample ({previous} days)")]
    TimeNotIncreasing {
        /// The file.
        file: &'static str,
        /// Line number.
        line: usize,
        /// The time found.
        days: f64,
        /// The previous sample's time.
        previous: f64,
    },
    /// The reference track has no samples.
    #[error("{file}: no samples")]
    NoSamples {
        /// The file.
        file: &'static str,
    },
}

/// One body's barycentric state at J2000 (ICRF, SI), as DE421 gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EphemerisState {
    /// One of [`DE421_BODY_NAMES`].
    pub name: &'static str,
    /// GM, m³/s² (a system GM for Mars to Neptune).
    pub gm: f64,
    /// Barycentric position, m.
    pub position: DVec3,
    /// Barycentric velocity, m/s.
    pub velocity: DVec3,
}

/// The barycentric positions of all [`DE421_BODY_NAMES`] at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceSample {
    /// Days since J2000.0 TDB.
    pub days: f64,
    /// Positions (m, ICRF) in [`DE421_BODY_NAMES`] order.
    pub positions: [DVec3; DE421_BODY_COUNT],
}

/// The shipped DE421 initial conditions, in [`DE421_BODY_NAMES`] order.
pub fn de421_j2000() -> Result<Vec<EphemerisState>, EphemerisError> {
    parse_initial_states(DE421_J2000_FILE, DE421_J2000_CSV)
}

/// The shipped DE421 reference track, in time order.
pub fn de421_reference_track() -> Result<Vec<ReferenceSample>, EphemerisError> {
    parse_reference_track(DE421_REFERENCE_FILE, DE421_REFERENCE_CSV)
}

/// Index of `name` in [`DE421_BODY_NAMES`].
#[must_use]
pub fn de421_body_index(name: &str) -> Option<usize> {
    DE421_BODY_NAMES.iter().position(|&candidate| candidate == name)
}

/// Parses initial conditions (`name,gm,x,y,z,vx,vy,vz`, `#` comments) naming every DE421 body
/// exactly once; `file` names the text in errors. The result is in [`DE421_BODY_NAMES`] order.
pub fn parse_initial_states(file: &'static str, text: &str) -> Result<Vec<EphemerisState>, EphemerisError> {
    let mut rows = data_rows(file, text, &INITIAL_STATE_COLUMNS)?;
    let mut states: [Option<EphemerisState>; DE421_BODY_COUNT] = [None; DE421_BODY_COUNT];
    for row in &mut rows {
        let row = row?;
        let (index, name) = body(&row, 0)?;
        let gm = number(&row, 1)?;
        if gm <= 0.0 {
            return Err(EphemerisError::NonPositiveGm { file, line: row.line, value: gm });
        }
        let position = vector(&row, 2)?;
        let velocity = vector(&row, 5)?;
        if states[index].is_some() {
            return Err(EphemerisError::DuplicateBody { file, line: row.line, name });
        }
        states[index] = Some(EphemerisState { name, gm, position, velocity });
    }
    states
        .into_iter()
        .zip(DE421_BODY_NAMES)
        .map(|(state, name)| state.ok_or(EphemerisError::MissingBody { file, name, days: 0.0 }))
        .collect()
}

/// Parses a reference track (`days,name,x,y,z`, `#` comments): rows grouped by time, each
/// time naming every DE421 body exactly once, times strictly increasing; `file` names the
/// text in errors.
pub fn parse_reference_track(file: &'static str, text: &str) -> Result<Vec<ReferenceSample>, EphemerisError> {
    let mut samples = Vec::new();
    // The sample being filled: its time and the positions seen so far.
    let mut current: Option<(f64, [Option<DVec3>; DE421_BODY_COUNT])> = None;
    for row in data_rows(file, text, &REFERENCE_COLUMNS)? {
        let row = row?;
        let days = number(&row, 0)?;
        let (index, name) = body(&row, 1)?;
        let position = vector(&row, 2)?;
        if let Some((current_days, positions)) = current
            && current_days != days
        {
            if days < current_days {
                return Err(EphemerisError::TimeNotIncreasing { file, line: row.line, days, previous: current_days });
            }
            samples.push(complete_sample(file, current_days, positions)?);
            current = None;
        }
        let (_, positions) = current.get_or_insert((days, [None; DE421_BODY_COUNT]));
        if positions[index].is_some() {
            return Err(EphemerisError::DuplicateBody { file, line: row.line, name });
        }
        positions[index] = Some(position);
    }
    let Some((days, positions)) = current else { return Err(EphemerisError::NoSamples { file }) };
    samples.push(complete_sample(file, days, positions)?);
    Ok(samples)
}

fn complete_sample(
    file: &'static str,
    days: f64,
    positions: [Option<DVec3>; DE421_BODY_COUNT],
) -> Result<ReferenceSample, EphemerisError> {
    let mut complete = [DVec3::ZERO; DE421_BODY_COUNT];
    for ((slot, position), name) in complete.iter_mut().zip(positions).zip(DE421_BODY_NAMES) {
        *slot = position.ok_or(EphemerisError::MissingBody { file, name, days })?;
    }
    Ok(ReferenceSample { days, positions: complete })
}

/// One non-comment row, split on commas.
struct Row<'text> {
    file: &'static str,
    line: usize,
    columns: &'static [&'static str],
    fields: Vec<&'text str>,
}

/// Checks the header and returns an iterator over the rows after it, each checked for its
/// field count. Blank lines and lines starting with `#` are skipped.
fn data_rows<'text>(
    file: &'static str,
    text: &'text str,
    columns: &'static [&'static str],
) -> Result<impl Iterator<Item = Result<Row<'text>, EphemerisError>>, EphemerisError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let (header_line, header) = lines.next().ok_or(EphemerisError::MissingHeader { file })?;
    let expected = columns.join(",");
    if header != expected {
        return Err(EphemerisError::WrongHeader { file, line: header_line, expected, found: header.to_owned() });
    }
    Ok(lines.map(move |(line, text)| {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        if fields.len() == columns.len() {
            Ok(Row { file, line, columns, fields })
        } else {
            Err(EphemerisError::FieldCount { file, line, expected: columns.len(), found: fields.len() })
        }
    }))
}

fn number(row: &Row<'_>, column: usize) -> Result<f64, EphemerisError> {
    let text = row.fields[column];
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(EphemerisError::NotFinite {
            file: row.file,
            line: row.line,
            column: row.columns[column],
            text: text.to_owned(),
        }),
    }
}

fn vector(row: &Row<'_>, first_column: usize) -> Result<DVec3, EphemerisError> {
    Ok(DVec3::new(number(row, first_column)?, number(row, first_column + 1)?, number(row, first_column + 2)?))
}

fn body(row: &Row<'_>, column: usize) -> Result<(usize, &'static str), EphemerisError> {
    let name = row.fields[column];
    de421_body_index(name).map(|index| (index, DE421_BODY_NAMES[index])).ok_or_else(|| EphemerisError::UnknownBody {
        file: row.file,
        line: row.line,
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "# a comment\nname,gm,x,y,z,vx,vy,vz\n";

    fn initial_text_with(replacement_row: Option<&str>) -> String {
        let mut text = HEADER.to_owned();
        for (index, name) in DE421_BODY_NAMES.iter().enumerate() {
            let row = format!("{name},{}.0,1,2,3,4,5,6\n", index + 1);
            match replacement_row {
                Some(replacement) if index == 3 => text.push_str(replacement),
                _ => text.push_str(&row),
            }
        }
        text
    }

    #[test]
    fn shipped_initial_conditions_parse_and_are_barycentric_at_the_expected_scale() {
        let states = de421_j2000().expect("the shipped file parses");
        assert_eq!(states.len(), DE421_BODY_COUNT);
        for (state, name) in states.iter().zip(DE421_BODY_NAMES) {
            assert_eq!(state.name, name);
        }
        let sun = states[0];
        assert!(sun.position.length() < 2.0e9, "the Sun is within ~1e9 m of the barycentre");
        let total_gm: f64 = states.iter().map(|state| state.gm).sum();
        let centre = states.iter().map(|state| state.gm * state.position).sum::<DVec3>() / total_gm;
        // Only Pluto and the asteroids, which DE421 has and the file leaves out, move it.
        assert!(centre.length() < 100.0e3, "centre of mass {} m from the origin", centre.length());
    }

    #[test]
    fn shipped_reference_track_covers_ten_years_every_ten_days_and_each_julian_year() {
        let track = de421_reference_track().expect("the shipped file parses");
        assert_eq!(track[0].days, 0.0);
        let initial = de421_j2000().expect("the shipped file parses");
        for (body, state) in initial.iter().enumerate() {
            assert!(track[0].positions[body].distance(state.position) <= 1.0, "{} at day 0", state.name);
        }
        for day in (0..=3650).step_by(10) {
            assert!(track.iter().any(|sample| sample.days == f64::from(day)), "day {day}");
        }
        for year in 1..=10 {
            assert!(track.iter().any(|sample| sample.days == 365.25 * f64::from(year)), "year {year}");
        }
    }

    #[test]
    fn initial_conditions_come_back_in_canonical_order_whatever_the_file_order() {
        let mut text = HEADER.to_owned();
        for (index, name) in DE421_BODY_NAMES.iter().enumerate().rev() {
            text.push_str(&format!("{name},{}.0,1,2,3,4,5,6\n", index + 1));
        }
        let states = parse_initial_states("test", &text).expect("valid");
        assert_eq!(states.iter().map(|state| state.name).collect::<Vec<_>>(), DE421_BODY_NAMES);
        assert_eq!(states[3].gm, 4.0);
        assert_eq!(states[3].velocity, DVec3::new(4.0, 5.0, 6.0));
    }

    #[test]
    fn bad_initial_conditions_are_refused_with_the_line_and_column() {
        let error =
            parse_initial_states("test", &initial_text_with(Some("Earth,1,2,3,nan,5,6,7\n"))).expect_err("refused");
        assert_eq!(
            error,
            EphemerisError::NotFinite { file: "test", line: 6, column: "z", text: "nan".to_owned() },
            "{error}"
        );
        let error =
            parse_initial_states("test", &initial_text_with(Some("Earth,-1,2,3,4,5,6,7\n"))).expect_err("refused");
        assert_eq!(error, EphemerisError::NonPositiveGm { file: "test", line: 6, value: -1.0 });
        let error =
            parse_initial_states("test", &initial_text_with(Some("Pluto,1,2,3,4,5,6,7\n"))).expect_err("refused");
        assert!(matches!(error, EphemerisError::UnknownBody { line: 6, .. }), "{error}");
        assert!(error.to_string().contains("Pluto"));
        let error = parse_initial_states("test", &initial_text_with(Some("Earth,1,2,3\n"))).expect_err("refused");
        assert_eq!(error, EphemerisError::FieldCount { file: "test", line: 6, expected: 8, found: 4 });
        let error =
            parse_initial_states("test", &initial_text_with(Some("Venus,1,2,3,4,5,6,7\n"))).expect_err("refused");
        assert!(matches!(error, EphemerisError::DuplicateBody { name: "Venus", .. }), "{error}");
        let error = parse_initial_states("test", &initial_text_with(Some(""))).expect_err("refused");
        assert_eq!(error, EphemerisError::MissingBody { file: "test", name: "Earth", days: 0.0 });
        let error = parse_initial_states("test", "# only comments\n").expect_err("refused");
        assert_eq!(error, EphemerisError::MissingHeader { file: "test" });
        let error = parse_initial_states("test", "name,gm,x,y,z\n").expect_err("refused");
        assert!(matches!(error, EphemerisError::WrongHeader { line: 1, .. }), "{error}");
    }

    #[test]
    fn bad_reference_tracks_are_refused_with_the_line() {
        let sample = |days: &str| -> String {
            DE421_BODY_NAMES.iter().map(|name| format!("{days},{name},1,2,3\n")).collect::<String>()
        };
        let header = "days,name,x,y,z\n";
        let valid = format!("{header}{}{}", sample("0"), sample("10"));
        let track = parse_reference_track("test", &valid).expect("valid");
        assert_eq!(track.len(), 2);
        assert_eq!(track[1].days, 10.0);

        let backwards = format!("{header}{}{}", sample("10"), sample("0"));
        let error = parse_reference_track("test", &backwards).expect_err("refused");
        assert_eq!(error, EphemerisError::TimeNotIncreasing { file: "test", line: 12, days: 0.0, previous: 10.0 });

        let incomplete = format!("{header}{}", sample("0").lines().skip(1).collect::<Vec<_>>().join("\n"));
        let error = parse_reference_track("test", &incomplete).expect_err("refused");
        assert_eq!(error, EphemerisError::MissingBody { file: "test", name: "Sun", days: 0.0 });

        let error = parse_reference_track("test", header).expect_err("refused");
        assert_eq!(error, EphemerisError::NoSamples { file: "test" });

        let infinite = format!("{header}0,Sun,inf,2,3\n");
        let error = parse_reference_track("test", &infinite).expect_err("refused");
        assert!(matches!(error, EphemerisError::NotFinite { line: 2, column: "x", .. }), "{error}");
    }
}
