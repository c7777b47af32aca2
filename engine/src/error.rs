//! Typed errors: everything outside input can be rejected with one of these before it touches the state.

use thiserror::Error;

/// Why the engine refused an input or an operation. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// A quantity that must be a finite number was NaN or infinite.
    #[error("{quantity} must be finite, got {value}")]
    NonFinite {
        /// Which quantity (for example `body position`).
        quantity: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A mass, radius or other magnitude was negative.
    #[error("{quantity} must not be negative, got {value}")]
    Negative {
        /// Which quantity.
        quantity: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The step length, a horizon or another duration was zero or negative.
    #[error("{quantity} must be greater than zero, got {value}")]
    NotPositive {
        /// Which quantity.
        quantity: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A control input was outside its allowed range.
    #[error("{quantity} must lie in [{min}, {max}], got {value}")]
    OutOfRange {
        /// Which quantity.
        quantity: &'static str,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// The offending value.
        value: f64,
    },
    /// A body index does not exist.
    #[error("no body with index {0}")]
    NoSuchBody(usize),
    /// A ship index does not exist.
    #[error("no ship with index {0}")]
    NoSuchShip(usize),
    /// A ship cannot target itself.
    #[error("ship {0} cannot target itself")]
    SelfTarget(usize),
    /// The target attitude mode needs a target.
    #[error("attitude mode `target` needs a target body or ship")]
    MissingTarget,
    /// The requested SIMD kernel cannot run on this CPU.
    #[error("kernel path {0} is not supported by this CPU")]
    KernelUnavailable(&'static str),
    /// More bodies or ships than the engine's index type can address.
    #[error("too many {0}: the engine addresses at most 2^32 - 1")]
    TooMany(&'static str),
}

/// Why a snapshot could not be decoded. Decoding never panics, whatever the bytes.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SnapshotError {
    /// The bytes do not start with the snapshot magic.
    #[error("not a galaxy engine snapshot (bad magic)")]
    BadMagic,
    /// The snapshot was written by a format version this engine cannot read.
    #[error("unsupported snapshot version {found} (this engine reads version {supported})")]
    UnsupportedVersion {
        /// Version in the snapshot.
        found: u16,
        /// Version this engine reads.
        supported: u16,
    },
    /// The bytes end before the snapshot does.
    #[error("snapshot truncated: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// The checksum does not match the content.
    #[error("snapshot checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    ChecksumMismatch {
        /// Checksum stored in the snapshot.
        stored: u32,
        /// Checksum of the bytes read.
        computed: u32,
    },
    /// There are bytes after the end of the snapshot.
    #[error("{0} unexpected bytes after the end of the snapshot")]
    TrailingBytes(usize),
    /// A decoded field is not a valid value for its kind.
    #[error("invalid {field} in snapshot: {reason}")]
    InvalidField {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The decoded state breaks an engine invariant (for example a NaN position).
    #[error("snapshot state rejected: {0}")]
    InvalidState(#[from] EngineError),
}
