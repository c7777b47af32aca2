//! [`AdminError`]: why a command failed, and the exit code each failure gives scripts.

/// Why a command failed. Each kind has its own exit code ([`AdminError::exit_code`]) so scripts
/// can tell "the service is down" (retry later) from "you may not" (fix the credentials) from
/// "the service said no" (fix the request).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A service did not answer (not listening, timed out, or answered UNAVAILABLE).
    #[error("{service} at {url} is unreachable: {reason}")]
    Unreachable {
        /// Which service.
        service: &'static str,
        /// Where it was looked for.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// No credentials, wrong credentials, or an account that is not an admin.
    #[error("not authorised: {0}")]
    Unauthorised(String),
    /// The service refused the request (bad value, unknown player, ...).
    #[error("{service} refused: {message}")]
    Refused {
        /// Which service.
        service: &'static str,
        /// Its explanation.
        message: String,
    },
    /// A command-line value is unusable (checked before anything is sent).
    #[error("{0}")]
    Usage(String),
    /// The action was done but could not be written to the audit log.
    #[error("the action was done, but recording it in the audit log failed: {0}")]
    AuditFailed(String),
}

impl AdminError {
    /// 2: usage (as clap), 3: a service is unreachable, 4: not authorised, 5: refused by the
    /// service, 6: done but not audited.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Usage(_) => 2,
            AdminError::Unreachable { .. } => 3,
            AdminError::Unauthorised(_) => 4,
            AdminError::Refused { .. } => 5,
            AdminError::AuditFailed(_) => 6,
        }
    }

    /// The error for a failed call to `service` at `url`.
    pub(crate) fn from_status(service: &'static str, url: &str, status: &tonic::Status) -> AdminError {
        use tonic::Code;
        match status.code() {
            Code::Unavailable | Code::DeadlineExceeded => {
                AdminError::Unreachable { service, url: url.to_owned(), reason: status.message().to_owned() }
            }
            Code::Unknown if is_transport_failure(status) => {
                AdminError::Unreachable { service, url: url.to_owned(), reason: status.message().to_owned() }
            }
            Code::Unauthenticated | Code::PermissionDenied => AdminError::Unauthorised(status.message().to_owned()),
            _ => AdminError::Refused { service, message: status.message().to_owned() },
        }
    }
}

/// tonic reports a refused connection on a lazy channel as UNKNOWN with a transport source.
fn is_transport_failure(status: &tonic::Status) -> bool {
    let message = status.message().to_ascii_lowercase();
    message.contains("transport") || message.contains("connect") || message.contains("dns")
}
