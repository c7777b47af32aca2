//! Who is calling: the [`Admin`] extractor turns the session cookie (or bearer token) into an
//! admin, or answers 401 (no valid session) / 403 (not an admin) before any handler runs.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use galaxy_proto::v1;

use crate::api::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "galaxy_admin";

/// An admin's session, checked with the players service on every request (so a revoked or
/// banned session stops working at once).
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub(crate) token: String,
    pub(crate) username: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        let token = presented_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let identity = state
            .backends
            .players
            .clone()
            .validate_session(v1::ValidateSessionRequest { token: token.clone() })
            .await
            .map_err(ApiError::service("players"))?
            .into_inner();
        if identity.role != v1::Role::Admin as i32 {
            return Err(ApiError::Forbidden);
        }
        Ok(Admin { token, username: identity.username })
    }
}

/// The bearer token, else the session cookie.
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    if let Some(token) = bearer {
        return Some(token.to_owned());
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value carrying `token` for `max_age_seconds` (0 clears it).
pub(crate) fn session_cookie(token: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_token_comes_from_the_bearer_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_token(&headers), None);
        headers.insert("cookie", HeaderValue::from_static("theme=dark; galaxy_admin=abc123; other=x"));
        assert_eq!(presented_token(&headers).as_deref(), Some("abc123"));
        headers.insert("authorization", HeaderValue::from_static("Bearer xyz"));
        assert_eq!(presented_token(&headers).as_deref(), Some("xyz"));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_admin() {
        let cookie = session_cookie("t", 60, true);
        for part in ["galaxy_admin=t", "HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=60", "Secure"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!session_cookie("t", 60, false).contains("Secure"));
    }
}
