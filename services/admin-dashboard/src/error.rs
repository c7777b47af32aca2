//! [`ApiError`]: how the API fails, as a status code and `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No session, or an invalid or expired one (401).
    #[error("log in as an admin first")]
    Unauthenticated,
    /// A valid session of an account that is not an admin (403).
    #[error("admins only")]
    Forbidden,
    /// The request itself is wrong (400).
    #[error("{0}")]
    BadRequest(String),
    /// A service failed or refused; carries its gRPC status.
    #[error("{service}: {message}")]
    Service {
        /// Which service.
        service: &'static str,
        /// Its gRPC code.
        code: tonic::Code,
        /// Its message.
        message: String,
    },
    /// The action was done but could not be written to the audit log (500).
    #[error("the action was done, but recording it in the audit log failed: {0}")]
    AuditFailed(String),
}

impl ApiError {
    /// The error for a failed call to `service`.
    pub(crate) fn service(service: &'static str) -> impl Fn(tonic::Status) -> ApiError {
        move |status| match status.code() {
            tonic::Code::Unauthenticated => ApiError::Unauthenticated,
            tonic::Code::PermissionDenied => ApiError::Forbidden,
            code => ApiError::Service { service, code, message: status.message().to_owned() },
        }
    }

    /// The HTTP status this error answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        use tonic::Code;
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::AuditFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Service { code, .. } => match code {
                Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
                Code::NotFound => StatusCode::NOT_FOUND,
                Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
                Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
                Code::Unavailable | Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_failures_map_to_http_statuses() {
        let map = |code| ApiError::service("tick-engine")(tonic::Status::new(code, "x")).status();
        assert_eq!(map(tonic::Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(map(tonic::Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(map(tonic::Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(map(tonic::Code::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(map(tonic::Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(map(tonic::Code::Internal), StatusCode::BAD_GATEWAY);
    }
}
