//! The one error type of the storage layer, and the translation of driver errors into it.
//!
//! Driver errors (tokio-postgres, deadpool, refinery, fred) never leave this crate: each is sorted
//! into the kind of failure a service has to react to, and only its message is kept.

use std::time::Duration;

use tokio_postgres::error::SqlState;

/// Why a storage operation failed, sorted by what the caller should do about it.
///
/// Services map [`StorageError::Unavailable`] to gRPC `UNAVAILABLE` / HTTP 503, `Conflict` to
/// `ALREADY_EXISTS` / 409, `NotFound` to `NOT_FOUND` / 404, `Invalid` to `INVALID_ARGUMENT` / 400
/// and `Internal` to `INTERNAL` / 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The store could not be reached in time (refused, timed out, connection lost, shutting down); retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A value that must be unique already exists (a username taken, a tick number already recorded).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A value breaks a rule of the schema (a check constraint, a malformed or out-of-range value).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// Anything else: a bug, a schema mismatch or a driver failure that retrying will not fix.
    #[error("internal storage error: {0}")]
    Internal(String),
}

impl StorageError {
    /// Whether the same operation may succeed if retried later (only [`StorageError::Unavailable`]).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_))
    }

    pub(crate) fn timed_out(operation: &str, limit: Duration) -> Self {
        StorageError::Unavailable(format!("{operation} did not finish within {} ms", limit.as_millis()))
    }
}

/// Sorts a tokio-postgres error by SQLSTATE (server errors) or by cause (client-side errors).
pub(crate) fn from_postgres(error: &tokio_postgres::Error) -> StorageError {
    if let Some(database_error) = error.as_db_error() {
        let detail = match database_error.constraint() {
            Some(constraint) => format!("{} (constraint {constraint})", database_error.message()),
            None => database_error.message().to_owned(),
        };
        return from_sql_state(database_error.code(), detail);
    }
    if error.is_closed() {
        return StorageError::Unavailable(format!("postgresql connection closed: {error}"));
    }
    // NOTE: tokio-postgres keeps its error kind private; socket failures (refused, reset, the
    // connect timeout) are the ones whose cause is an io::Error. The rest (column, row count,
    // conversion errors) are mistakes in this crate, not outages.
    let caused_by_io = std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>());
    if caused_by_io {
        StorageError::Unavailable(format!("postgresql: {error}"))
    } else {
        StorageError::Internal(format!("postgresql: {error}"))
    }
}

fn from_sql_state(code: &SqlState, detail: String) -> StorageError {
    let class = &code.code()[..2];
    if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::EXCLUSION_VIOLATION {
        StorageError::Conflict(detail)
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        // Every foreign key here points at a player: the referenced player does not exist.
        StorageError::NotFound(detail)
    } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION || class == "22" {
        // Class 22 is "data exception": out-of-range numbers, NUL bytes in text, bad encodings.
        StorageError::Invalid(detail)
    } else if class == "08"
        || class == "28"
        || class == "53"
        || class == "57"
        || class == "3D"
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        // Connection exceptions, refused authorisation, a missing database, exhausted server
        // resources, shutdown or a cancelled (timed-out) statement, and transaction races: the
        // service cannot do its job right now, and nothing the caller sent is wrong.
        StorageError::Unavailable(format!("postgresql: {detail}"))
    } else {
        StorageError::Internal(format!("postgresql [{}]: {detail}", code.code()))
    }
}

/// Sorts a pool error: running out of time waiting for, creating or recycling a connection is an outage.
pub(crate) fn from_pool(error: &deadpool_postgres::PoolError) -> StorageError {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Timeout(kind) => {
            StorageError::Unavailable(format!("postgresql pool timed out ({kind:?}): no connection in time"))
        }
        PoolError::Backend(postgres_error) => from_postgres(postgres_error),
        PoolError::Closed => StorageError::Unavailable("postgresql pool is closed".to_owned()),
        other => StorageError::Internal(format!("postgresql pool: {other}")),
    }
}

/// Sorts a Redis client error: transport problems are outages, the rest are bugs.
pub(crate) fn from_redis(error: &fred::error::Error) -> StorageError {
    use fred::error::ErrorKind;
    match error.kind() {
        ErrorKind::IO
        | ErrorKind::Timeout
        | ErrorKind::Canceled
        | ErrorKind::Backpressure
        | ErrorKind::Routing
        | ErrorKind::Auth
        | ErrorKind::Cluster
        | ErrorKind::Sentinel => StorageError::Unavailable(format!("redis: {error}")),
        ErrorKind::NotFound => StorageError::NotFound(format!("redis: {error}")),
        _ => StorageError::Internal(format!("redis: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_become_conflicts() {
        let error = from_sql_state(&SqlState::UNIQUE_VIOLATION, "duplicate".to_owned());
        assert!(matches!(error, StorageError::Conflict(_)));
    }

    #[test]
    fn check_violations_and_data_exceptions_become_invalid() {
        assert!(matches!(from_sql_state(&SqlState::CHECK_VIOLATION, String::new()), StorageError::Invalid(_)));
        assert!(matches!(
            from_sql_state(&SqlState::CHARACTER_NOT_IN_REPERTOIRE, String::new()),
            StorageError::Invalid(_)
        ));
    }

    #[test]
    fn shutdown_and_cancelled_statements_are_retryable() {
        assert!(from_sql_state(&SqlState::ADMIN_SHUTDOWN, String::new()).is_retryable());
        assert!(from_sql_state(&SqlState::QUERY_CANCELED, String::new()).is_retryable());
        assert!(from_sql_state(&SqlState::CONNECTION_FAILURE, String::new()).is_retryable());
    }

    #[test]
    fn unknown_server_errors_are_internal_and_not_retryable() {
        let error = from_sql_state(&SqlState::SYNTAX_ERROR, String::new());
        assert!(matches!(error, StorageError::Internal(_)));
        assert!(!error.is_retryable());
    }
}
