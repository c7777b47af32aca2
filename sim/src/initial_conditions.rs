//! Initial-condition files: CSV with the header `id,mass,x,y,z,vx,vy,vz` and one body a line.
//!
//! Reading is strict, because a silently misread file gives a wrong but plausible orbit: the
//! header must match exactly, every line has eight fields, numbers are plain Rust `f64`
//! literals with no surrounding spaces, every number is finite, masses are not negative, ids
//! are non-empty and unique. Each error names the line (and the column, when there is one).
//! Blank lines are skipped; fields may be quoted as CSV allows.
//!
//! Writing uses the shortest decimal form that reads back to the same `f64`, so a file written
//! and read again gives bitwise the same bodies.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use galaxy_engine::DVec3;
use thiserror::Error;

use crate::scenes::InitialBody;

/// The header, column by column.
pub const COLUMNS: [&str; 8] = ["id", "mass", "x", "y", "z", "vx", "vy", "vz"];

/// The most characters of a bad header, number or id quoted back in an error: enough to see
/// what is wrong, bounded so that a huge field does not flood the terminal.
const QUOTED_TEXT_LIMIT: usize = 200;

/// Why initial conditions could not be read or written.
#[derive(Debug, Error)]
pub enum InitialConditionsError {
    /// The file could not be opened.
    #[error("cannot open the initial-conditions file")]
    Open(#[source] io::Error),
    /// Reading the input failed below the CSV level.
    #[error("cannot read the initial conditions")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("cannot write the initial conditions")]
    Write(#[source] io::Error),
    /// The CSV reader failed for a reason other than I/O.
    #[error("line {line}: malformed CSV: {detail}")]
    Malformed {
        /// Line where the CSV reader gave up.
        line: u64,
        /// What the CSV reader reported.
        detail: String,
    },
    /// The input has no header (it is empty or blank).
    #[error("line {line}: missing header: expected \"{expected}\", but the file is empty", expected = COLUMNS.join(","))]
    MissingHeader {
        /// Line where the header should be.
        line: u64,
    },
    /// The first line is not exactly the expected header.
    #[error(
        "line {line}: wrong header: expected \"{expected}\", found {found:?}",
        expected = COLUMNS.join(",")
    )]
    WrongHeader {
        /// Line of the header.
        line: u64,
        /// The header found (shortened if very long).
        found: String,
    },
    /// A line has too few or too many fields.
    #[error("line {line}: expected {expected} fields, found {found}", expected = COLUMNS.len())]
    FieldCount {
        /// Line of the record.
        line: u64,
        /// Fields found.
        found: usize,
    },
    /// One field of a line is not acceptable.
    #[error("line {line}, column {column} ({name}): {problem}")]
    Field {
        /// Line of the record.
        line: u64,
        /// Column number, from 1.
        column: usize,
        /// Column name from the header.
        name: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// A body to write holds NaN or infinity, which could not be read back.
    #[error("body {index} ({id:?}), column {column} ({name}): value must be finite, got {value}")]
    NonFiniteOutput {
        /// Index of the body in the slice written.
        index: usize,
        /// Its id.
        id: String,
        /// Column number, from 1.
        column: usize,
        /// Column name.
        name: &'static str,
        /// The value.
        value: f64,
    },
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FieldProblem {
    /// The field is not a number.
    #[error("{text:?} is not a number")]
    NotANumber {
        /// The field as written.
        text: String,
    },
    /// The number is NaN or infinite.
    #[error("value must be finite, got {value}")]
    NotFinite {
        /// The value read.
        value: f64,
    },
    /// A mass is below zero.
    #[error("mass must not be negative, got {value}")]
    NegativeMass {
        /// The value read.
        value: f64,
    },
    /// The id is empty.
    #[error("id must not be empty")]
    EmptyId,
    /// The id was already used by an earlier line.
    #[error("duplicate id {id:?} (first on line {first_line})")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Line where it first appeared.
        first_line: u64,
    },
    /// The field is not valid UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
}

/// Reads bodies from CSV, in file order. See the module documentation for what is accepted.
///
/// The whole input is read into memory first: line numbers are counted from it, and the
/// bodies take about as much memory as the text anyway.
pub fn read_initial_conditions(mut reader: impl Read) -> Result<Vec<InitialBody>, InitialConditionsError> {
    let mut input = Vec::new();
    reader.read_to_end(&mut input).map_err(InitialConditionsError::Read)?;
    let lines = LineIndex::new(&input);
    // NOTE: the header is read as an ordinary record and records may have any length, so that
    // this function, not the csv crate, words every error about the file's shape.
    let mut csv_reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input.as_slice());
    let mut record = csv::ByteRecord::new();

    if !read_record(&mut csv_reader, &mut record, &lines)? {
        return Err(InitialConditionsError::MissingHeader { line: 1 });
    }
    check_header(&record, lines.line_of(&record))?;

    let mut bodies = Vec::new();
    let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
    while read_record(&mut csv_reader, &mut record, &lines)? {
        let line = lines.line_of(&record);
        let body = parse_body(&record, line)?;
        if let Some(&first_line) = first_line_of_id.get(&body.id) {
            return Err(field_error(line, 0, FieldProblem::DuplicateId { id: shortened(&body.id), first_line }));
        }
        first_line_of_id.insert(body.id.clone(), line);
        bodies.push(body);
    }
    Ok(bodies)
}

/// Line numbers (from 1) of records, from their byte offsets.
///
/// NOTE: csv 1.4's `Position::line()` is wrong around blank lines and CRLF endings (after
/// `"h\n\na\n"` it puts `a` on line 2). Its byte offset is where reading of the record began,
/// which is just before any blank lines the reader skipped; skipping those line breaks and
/// counting the newlines before the record gives the line an editor shows.
#[derive(Debug)]
struct LineIndex<'a> {
    input: &'a [u8],
    newline_offsets: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(input: &'a [u8]) -> Self {
        let newline_offsets =
            input.iter().enumerate().filter(|&(_, &byte)| byte == b'\n').map(|(offset, _)| offset).collect();
        Self { input, newline_offsets }
    }

    fn line_at(&self, reading_started_at: u64) -> u64 {
        let mut offset = usize::try_from(reading_started_at).unwrap_or(usize::MAX).min(self.input.len());
        while self.input.get(offset).is_some_and(|byte| matches!(byte, b'\r' | b'\n')) {
            offset += 1;
        }
        let newlines_before = self.newline_offsets.partition_point(|&newline| newline < offset);
        newlines_before as u64 + 1
    }

    fn line_of(&self, record: &csv::ByteRecord) -> u64 {
        // Every record the reader returns carries its position.
        record.position().map_or(0, |position| self.line_at(position.byte()))
    }
}

/// Opens `path` and reads bodies from it with [`read_initial_conditions`].
pub fn read_initial_conditions_file(path: impl AsRef<Path>) -> Result<Vec<InitialBody>, InitialConditionsError> {
    let file = File::open(path).map_err(InitialConditionsError::Open)?;
    read_initial_conditions(io::BufReader::new(file))
}

/// Writes the header and one line per body, numbers in their shortest round-trip form.
/// Refuses bodies holding NaN or infinity (before writing anything), since no reader would
/// take them back.
pub fn write_initial_conditions(writer: impl Write, bodies: &[InitialBody]) -> Result<(), InitialConditionsError> {
    for (index, body) in bodies.iter().enumerate() {
        for (column, value) in numbers(body).into_iter().enumerate() {
            if !value.is_finite() {
                return Err(InitialConditionsError::NonFiniteOutput {
                    index,
                    id: body.id.clone(),
                    column: column + 2,
                    name: COLUMNS[column + 1],
                    value,
                });
            }
        }
    }
    let mut csv_writer = csv::Writer::from_writer(writer);
    csv_writer.write_record(COLUMNS).map_err(write_error)?;
    for body in bodies {
        let mut fields = Vec::with_capacity(COLUMNS.len());
        fields.push(body.id.clone());
        fields.extend(numbers(body).into_iter().map(format_number));
        csv_writer.write_record(&fields).map_err(write_error)?;
    }
    csv_writer.flush().map_err(InitialConditionsError::Write)
}

/// The seven numeric columns of a body, in header order.
fn numbers(body: &InitialBody) -> [f64; 7] {
    let (position, velocity) = (body.position, body.velocity);
    [body.mass, position.x, position.y, position.z, velocity.x, velocity.y, velocity.z]
}

/// The shortest decimal that parses back to `value`. Rust's `{}` never uses an exponent (1e30
/// would be 31 digits), so very large and very small magnitudes use `{:e}`, which is just as
/// exact.
fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-4..1e16).contains(&magnitude) { format!("{value}") } else { format!("{value:e}") }
}

/// Reads the next record; `false` at the end of the input.
fn read_record(
    csv_reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
    lines: &LineIndex<'_>,
) -> Result<bool, InitialConditionsError> {
    csv_reader.read_byte_record(record).map_err(|error| {
        let line = error.position().map_or(0, |position| lines.line_at(position.byte()));
        let detail = error.to_string();
        match error.into_kind() {
            csv::ErrorKind::Io(io_error) => InitialConditionsError::Read(io_error),
            // NOTE: with byte records and flexible lengths the reader has no other failure
            // today; this keeps a future one readable instead of panicking.
            _ => InitialConditionsError::Malformed { line, detail },
        }
    })
}

fn check_header(record: &csv::ByteRecord, line: u64) -> Result<(), InitialConditionsError> {
    if record.iter().eq(COLUMNS.iter().map(|name| name.as_bytes())) {
        return Ok(());
    }
    let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
    Err(InitialConditionsError::WrongHeader { line, found: shortened(&fields.join(",")) })
}

fn parse_body(record: &csv::ByteRecord, line: u64) -> Result<InitialBody, InitialConditionsError> {
    if record.len() != COLUMNS.len() {
        return Err(InitialConditionsError::FieldCount { line, found: record.len() });
    }
    let text = |column: usize| -> Result<&str, InitialConditionsError> {
        let bytes = record.get(column).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|_| field_error(line, column, FieldProblem::NotUtf8))
    };
    let number = |column: usize| -> Result<f64, InitialConditionsError> {
        let field = text(column)?;
        let value: f64 = field
            .parse()
            .map_err(|_| field_error(line, column, FieldProblem::NotANumber { text: shortened(field) }))?;
        if value.is_finite() { Ok(value) } else { Err(field_error(line, column, FieldProblem::NotFinite { value })) }
    };

    let id = text(0)?;
    if id.is_empty() {
        return Err(field_error(line, 0, FieldProblem::EmptyId));
    }
    let mass = number(1)?;
    if mass < 0.0 {
        return Err(field_error(line, 1, FieldProblem::NegativeMass { value: mass }));
    }
    Ok(InitialBody {
        id: id.to_owned(),
        mass,
        position: DVec3::new(number(2)?, number(3)?, number(4)?),
        velocity: DVec3::new(number(5)?, number(6)?, number(7)?),
    })
}

/// `text`, cut to [`QUOTED_TEXT_LIMIT`] characters (marked with `…`) for quoting in an error.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(QUOTED_TEXT_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An error about the field at 0-based `column` of `line`.
fn field_error(line: u64, column: usize, problem: FieldProblem) -> InitialConditionsError {
    InitialConditionsError::Field { line, column: column + 1, name: COLUMNS[column], problem }
}

fn write_error(error: csv::Error) -> InitialConditionsError {
    InitialConditionsError::Write(match error.into_kind() {
        csv::ErrorKind::Io(io_error) => io_error,
        // NOTE: for string records the csv writer fails only on I/O; anything else still
        // reaches the caller, as an I/O error carrying the writer's description.
        other => io::Error::other(format!("{other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,mass,x,y,z,vx,vy,vz\n";

    fn read(text: &str) -> Result<Vec<InitialBody>, InitialConditionsError> {
        read_initial_conditions(text.as_bytes())
    }

    fn error_message(text: &str) -> String {
        read(text).expect_err("the input is invalid").to_string()
    }

    #[test]
    fn reads_bodies_in_file_order() {
        let bodies = read(&format!("{HEADER}a,1,1,2,3,4,5,6\nb,0,-1e-3,0,0,0,0,0.5\n")).expect("valid file");
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0].id, "a");
        assert_eq!(bodies[0].position, DVec3::new(1.0, 2.0, 3.0));
        assert_eq!(bodies[0].velocity, DVec3::new(4.0, 5.0, 6.0));
        assert_eq!(bodies[1].mass, 0.0);
        assert_eq!(bodies[1].position.x, -1e-3);
    }

    #[test]
    fn header_only_file_has_no_bodies() {
        assert!(read(HEADER).expect("valid file").is_empty());
    }

    #[test]
    fn non_number_names_line_and_column() {
        let message = error_message(&format!("{HEADER}a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0,0\nc,1,abc,0,0,0,0,0\n"));
        assert_eq!(message, r#"line 4, column 3 (x): "abc" is not a number"#);
    }

    #[test]
    fn negative_mass_names_line_and_column() {
        let message = error_message(&format!("{HEADER}a,-1,0,0,0,0,0,0\n"));
        assert_eq!(message, "line 2, column 2 (mass): mass must not be negative, got -1");
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let message = error_message(&format!("{HEADER}a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0\n"));
        assert_eq!(message, "line 3: expected 8 fields, found 7");
    }

    #[test]
    fn non_finite_values_are_refused() {
        let message = error_message(&format!("{HEADER}a,1,0,0,0,0,0,0\nb,1,0,NaN,0,0,0,0\n"));
        assert_eq!(message, "line 3, column 4 (y): value must be finite, got NaN");
        let message = error_message(&format!("{HEADER}a,1,0,0,0,0,0,-inf\n"));
        assert_eq!(message, "line 2, column 8 (vz): value must be finite, got -inf");
    }

    #[test]
    fn duplicate_id_names_both_lines() {
        let message = error_message(&format!("{HEADER}a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0,0\na,1,0,0,0,0,0,0\n"));
        assert_eq!(message, r#"line 4, column 1 (id): duplicate id "a" (first on line 2)"#);
    }

    #[test]
    fn empty_id_is_refused() {
        let message = error_message(&format!("{HEADER},1,0,0,0,0,0,0\n"));
        assert_eq!(message, "line 2, column 1 (id): id must not be empty");
    }

    #[test]
    fn empty_file_reports_missing_header() {
        for text in ["", "\n\n"] {
            let message = error_message(text);
            assert!(message.starts_with("line 1: missing header"), "{message}");
        }
    }

    #[test]
    fn wrong_or_absent_header_is_refused() {
        let message = error_message("id,mass,x,y,z,vx,vy\n");
        assert_eq!(message, r#"line 1: wrong header: expected "id,mass,x,y,z,vx,vy,vz", found "id,mass,x,y,z,vx,vy""#);
        let message = error_message("a,1,0,0,0,0,0,0\n");
        assert!(message.starts_with("line 1: wrong header"), "{message}");
        let message = error_message("id, mass,x,y,z,vx,vy,vz\n");
        assert!(message.starts_with("line 1: wrong header"), "{message}");
    }

    #[test]
    fn huge_fields_are_quoted_shortened() {
        let huge = "9".repeat(100) + &"x".repeat(10_000);
        let message = error_message(&format!("{HEADER}a,{huge},0,0,0,0,0,0\n"));
        assert!(message.starts_with("line 2, column 2 (mass): \"9999"), "{message}");
        assert!(message.len() < 300, "{} characters", message.len());
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"\xff\xfe,1,0,0,0,0,0,0\n");
        let message = read_initial_conditions(bytes.as_slice()).expect_err("invalid UTF-8").to_string();
        assert_eq!(message, "line 2, column 1 (id): not valid UTF-8");
    }

    #[test]
    fn blank_lines_keep_line_numbers_true() {
        let message = error_message(&format!("{HEADER}\na,1,0,0,0,0,0,0\n\nb,1,0,0,zzz,0,0,0\n"));
        assert_eq!(message, r#"line 5, column 5 (z): "zzz" is not a number"#);
    }

    #[test]
    fn line_numbers_survive_crlf_quoted_newlines_and_leading_blank_lines() {
        let message = error_message("id,mass,x,y,z,vx,vy,vz\r\n\r\na,1,0,0,0,0,0,0\r\n\r\nb,1,0,0,0,0,q,0\r\n");
        assert_eq!(message, r#"line 5, column 7 (vy): "q" is not a number"#);
        let message = error_message(&format!("{HEADER}\"x\ny\",1,0,0,0,0,0,0\n\nb,1,0,0,0,0,0,q\n"));
        assert_eq!(message, r#"line 5, column 8 (vz): "q" is not a number"#);
        let message = error_message(&format!("\n\n{HEADER}a,-2,0,0,0,0,0,0\n"));
        assert_eq!(message, "line 4, column 2 (mass): mass must not be negative, got -2");
        let message = error_message("\n\nid,mass\n");
        assert!(message.starts_with("line 3: wrong header"), "{message}");
    }

    #[test]
    fn written_bodies_read_back_bitwise() {
        let bodies = vec![
            InitialBody {
                id: "sun, the".to_owned(),
                mass: 1.988_47e30,
                position: DVec3::new(0.1 + 0.2, -1.0 / 3.0, 5e-324),
                velocity: DVec3::new(f64::MAX, -0.0, 1e-17),
            },
            InitialBody {
                id: "\"quoted\"".to_owned(),
                mass: 0.0,
                position: DVec3::new(std::f64::consts::PI, 1e16, 9_999_999_999_999_998.0),
                velocity: DVec3::new(1e-4, 0.000_099_999, 123_456.789),
            },
        ];
        let mut buffer = Vec::new();
        write_initial_conditions(&mut buffer, &bodies).expect("writing to memory");
        let text = String::from_utf8(buffer).expect("CSV is UTF-8");
        assert!(text.starts_with(HEADER), "{text}");
        let read_back = read(&text).expect("written file is valid");
        assert_eq!(read_back.len(), bodies.len());
        for (original, copy) in bodies.iter().zip(&read_back) {
            assert_eq!(original.id, copy.id);
            assert_eq!(numbers(original).map(f64::to_bits), numbers(copy).map(f64::to_bits));
        }
    }

    #[test]
    fn writing_non_finite_values_is_refused() {
        let bodies = [InitialBody {
            id: "a".to_owned(),
            mass: 1.0,
            position: DVec3::new(0.0, f64::NAN, 0.0),
            velocity: DVec3::ZERO,
        }];
        let mut buffer = Vec::new();
        let message = write_initial_conditions(&mut buffer, &bodies).expect_err("NaN").to_string();
        assert_eq!(message, r#"body 0 ("a"), column 4 (y): value must be finite, got NaN"#);
        assert!(buffer.is_empty());
    }
}
