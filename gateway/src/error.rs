//! The gateway's errors: [`ApiError`], what a REST call or a WebSocket command answers (a stable
//! code, a message, an HTTP status), built from the other services' gRPC statuses in one place;
//! and [`GatewayError`], why the gateway itself could not start or serve.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;

/// Seconds a client is told to wait when a service is down.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// An error answer: HTTP status, stable machine code, human message, and for 429/503 how long
/// to wait (`Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`invalid_credentials`, `rate_limited`, …; see docs/protocol.md).
    pub code: &'static str,
    /// A message a player can read.
    pub message: String,
    /// Sent as `Retry-After` (whole seconds, at least 1).
    pub retry_after: Option<Duration>,
}

/// What the body of an error looks like (`{"error": {"code": …, "message": …}}`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code and message of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code.
    pub code: String,
    /// Human message.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    /// Adds a `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, wait: Duration) -> ApiError {
        self.retry_after = Some(wait);
        self
    }

    /// 400 `malformed_request`.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 422 `invalid_argument`.
    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument", message)
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(wait: Duration) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down").retry_after(wait)
    }

    /// 503 `unavailable` with `Retry-After`.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).retry_after(UNAVAILABLE_RETRY_AFTER)
    }

    /// 500 `internal` (details stay in the log).
    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// The answer for a gRPC status from another service, in general; callers refine codes
    /// that mean something specific to them (a login's `UNAUTHENTICATED` is `invalid_credentials`).
    pub fn from_status(status: &tonic::Status) -> ApiError {
        let message = status.message().to_owned();
        match status.code() {
            Code::InvalidArgument | Code::OutOfRange => ApiError::invalid_argument(message),
            Code::Unauthenticated => ApiError::unauthenticated(message),
            Code::PermissionDenied => ApiError::forbidden(message),
            Code::NotFound => ApiError::not_found(message),
            Code::AlreadyExists | Code::Aborted => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            Code::FailedPrecondition => ApiError::new(StatusCode::CONFLICT, "failed_precondition", message),
            Code::ResourceExhausted => {
                let wait = retry_after_in_message(&message).unwrap_or(Duration::from_secs(1));
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(wait)
            }
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                tracing::warn!(code = ?status.code(), %message, "a service is unavailable");
                ApiError::unavailable("a game service is unavailable; try again shortly")
            }
            code => {
                tracing::error!(?code, %message, "a service failed");
                ApiError::internal()
            }
        }
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message.clone() } }
    }
}

/// The wait in a players-service message such as "try again in 840 s".
// NOTE: the players service has no structured retry-after yet; its message is the only source.
fn retry_after_in_message(message: &str) -> Option<Duration> {
    let (_, rest) = message.split_once("try again in ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().map(Duration::from_secs)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// Why the gateway could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A peer service URL is not usable.
    #[error("{name} is not a usable URL: {reason}")]
    InvalidUrl {
        /// Which service.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP server failed.
    #[error("http server failed: {0}")]
    Serve(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_http_answers() {
        for (code, status, name) in [
            (Code::InvalidArgument, 422, "invalid_argument"),
            (Code::Unauthenticated, 401, "unauthenticated"),
            (Code::PermissionDenied, 403, "forbidden"),
            (Code::NotFound, 404, "not_found"),
            (Code::ResourceExhausted, 429, "rate_limited"),
            (Code::Unavailable, 503, "unavailable"),
            (Code::Internal, 500, "internal"),
        ] {
            let error = ApiError::from_status(&tonic::Status::new(code, "details"));
            assert_eq!((error.status.as_u16(), error.code), (status, name), "{code:?}");
        }
    }

    #[test]
    fn the_wait_in_a_lockout_message_becomes_retry_after() {
        let status = tonic::Status::resource_exhausted("too many failed logins for this account; try again in 840 s");
        let error = ApiError::from_status(&status);
        assert_eq!(error.retry_after, Some(Duration::from_secs(840)));
        let response = error.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "840");
    }
}
