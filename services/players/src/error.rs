//! [`PlayersError`]: every way a players-service call can fail, and the gRPC status each becomes.

use std::time::Duration;

use galaxy_proto::ConversionError;
use galaxy_storage::StorageError;

/// Why a call was refused or failed. Messages are lowercase and safe to show a client; storage
/// and hashing details are logged, not sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlayersError {
    /// The username does not match `^[a-zA-Z0-9_]{3,20}$`.
    #[error("username must be 3 to 20 characters of letters, digits and underscores")]
    InvalidUsername,
    /// The password is shorter than 8 or longer than 128 characters.
    #[error("password must be 8 to 128 characters")]
    InvalidPassword,
    /// The game is not accepting new accounts.
    #[error("registrations are closed")]
    RegistrationsClosed,
    /// Someone already has this username (ignoring case).
    #[error("username is taken")]
    UsernameTaken,
    /// Unknown username or wrong password — deliberately the same error for both.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Too many failed logins on this account recently.
    #[error("too many failed logins for this account; try again in {} s", retry_after.as_secs().max(1))]
    TooManyFailedLogins {
        /// How long until the account accepts logins again.
        retry_after: Duration,
    },
    /// The account is banned.
    #[error("account is banned")]
    Banned,
    /// The token is unknown, malformed, revoked or expired.
    #[error("session is invalid or expired")]
    InvalidSession,
    /// The command names a ship id that is not a ship id.
    #[error("ship_id must be a ship id, got {0:?}")]
    MalformedShipId(String),
    /// The ship exists but belongs to someone else, or does not exist (not told apart on purpose).
    #[error("ship {0} is not yours")]
    NotYourShip(String),
    /// The command's control, attitude mode or target is invalid.
    #[error(transparent)]
    InvalidCommand(#[from] ConversionError),
    /// No ship class has this name.
    #[error("no ship class named {0:?} (known: fast_frigate, cargo_hauler)")]
    UnknownShipClass(String),
    /// The command's target is empty or longer than 64 characters.
    #[error("target must be 1 to 64 characters")]
    InvalidTarget,
    /// The player sent commands faster than allowed.
    #[error("too many commands; at most {per_second} per second")]
    CommandRateExceeded {
        /// The allowed average rate.
        per_second: f64,
    },
    /// Too many password hashes are queued; the service is overloaded.
    #[error("too many logins at once; try again shortly")]
    Busy,
    /// Hashing failed (a malformed stored hash, a crashed worker): a bug, not the caller's fault.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The session is valid but its account is not an admin.
    #[error("this needs an admin account")]
    NotAdmin,
    /// No account has this username.
    #[error("no player named {0:?}")]
    UnknownPlayer(String),
    /// Admins cannot be banned (one admin locking out the others would need a database fix).
    #[error("{0:?} is an admin; admins cannot be banned")]
    CannotBanAdmin(String),
    /// The audit details are not a JSON object.
    #[error("audit details must be a JSON object")]
    InvalidAuditDetails,
    /// The configured first admin's name belongs to a player account, which is never promoted
    /// silently (anyone could have registered that name while registrations were open).
    #[error("the account {0:?} exists and is not an admin; refusing to promote it")]
    AdminNameTaken(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl PlayersError {
    /// The gRPC code for this error.
    #[must_use]
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            PlayersError::InvalidUsername
            | PlayersError::InvalidPassword
            | PlayersError::MalformedShipId(_)
            | PlayersError::UnknownShipClass(_)
            | PlayersError::InvalidCommand(_)
            | PlayersError::InvalidTarget
            | PlayersError::InvalidAuditDetails => Code::InvalidArgument,
            PlayersError::RegistrationsClosed | PlayersError::CannotBanAdmin(_) | PlayersError::AdminNameTaken(_) => {
                Code::FailedPrecondition
            }
            PlayersError::UnknownPlayer(_) => Code::NotFound,
            PlayersError::UsernameTaken => Code::AlreadyExists,
            PlayersError::InvalidCredentials | PlayersError::InvalidSession => Code::Unauthenticated,
            PlayersError::TooManyFailedLogins { .. } | PlayersError::CommandRateExceeded { .. } => {
                Code::ResourceExhausted
            }
            PlayersError::Banned | PlayersError::NotYourShip(_) | PlayersError::NotAdmin => Code::PermissionDenied,
            PlayersError::Busy => Code::Unavailable,
            PlayersError::Hashing(_) => Code::Internal,
            PlayersError::Storage(storage) => match storage {
                StorageError::Unavailable(_) => Code::Unavailable,
                StorageError::Conflict(_) => Code::AlreadyExists,
                StorageError::NotFound(_) => Code::NotFound,
                StorageError::Invalid(_) => Code::InvalidArgument,
                StorageError::Internal(_) => Code::Internal,
            },
        }
    }

    /// The message a client sees: the error's own text, except for store and hashing failures,
    /// whose details (hosts, SQL, constraint names) stay in the service's log.
    #[must_use]
    pub fn client_message(&self) -> String {
        match self {
            PlayersError::Storage(StorageError::Unavailable(_)) => {
                "player store unavailable; try again later".to_owned()
            }
            PlayersError::Storage(StorageError::Internal(_)) | PlayersError::Hashing(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<PlayersError> for tonic::Status {
    fn from(error: PlayersError) -> Self {
        let code = error.code();
        if matches!(code, tonic::Code::Internal | tonic::Code::Unavailable) {
            tracing::warn!(%error, ?code, "players request failed");
        }
        tonic::Status::new(code, error.client_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn store_outages_become_unavailable_without_leaking_the_details() {
        let status = tonic::Status::from(PlayersError::Storage(StorageError::Unavailable(
            "postgresql: connection refused to 10.0.0.5:5432".to_owned(),
        )));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("10.0.0.5"), "{}", status.message());
    }

    #[test]
    fn every_storage_error_kind_maps_to_its_documented_code() {
        for (error, code) in [
            (StorageError::Unavailable(String::new()), Code::Unavailable),
            (StorageError::Conflict(String::new()), Code::AlreadyExists),
            (StorageError::NotFound(String::new()), Code::NotFound),
            (StorageError::Invalid(String::new()), Code::InvalidArgument),
            (StorageError::Internal("select * from secrets".to_owned()), Code::Internal),
        ] {
            let status = tonic::Status::from(PlayersError::Storage(error));
            assert_eq!(status.code(), code);
            assert!(!status.message().contains("secrets"));
        }
    }

    #[test]
    fn unknown_user_and_wrong_password_are_one_indistinguishable_error() {
        let status = tonic::Status::from(PlayersError::InvalidCredentials);
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), "invalid username or password");
    }
}
