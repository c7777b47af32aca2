//! Who is calling: bearer tokens checked by the players service, with answers kept briefly in a
//! [`SessionCache`] so a burst of requests (or every WebSocket's periodic re-check) costs the
//! players service one call per token per TTL. A logout or refresh through this gateway drops
//! the token from the cache at once and tells its WebSockets (see [`SessionCache::revoked`]).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use galaxy_proto::v1;
use galaxy_proto::v1::players_client::PlayersClient;
use tokio::sync::broadcast;
use tonic::transport::Channel;

use crate::error::ApiError;

/// Above this many cached tokens, expired entries are swept on the next insert.
const SWEEP_ABOVE_ENTRIES: usize = 10_000;
/// Hard cap: past it the cache is cleared (a flood of distinct valid tokens is not plausible).
const MAX_ENTRIES: usize = 200_000;
/// Longest token accepted before asking anyone (real ones are 43 characters).
const MAX_TOKEN_CHARS: usize = 256;

/// A validated session: the token and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The bearer token.
    pub token: String,
    /// The player, with their current ship.
    pub identity: v1::PlayerIdentity,
}

impl Caller {
    /// The player's current ship id, if any.
    #[must_use]
    pub fn ship_id(&self) -> Option<&str> {
        Some(self.identity.ship_id.as_str()).filter(|id| !id.is_empty())
    }
}

/// Validated tokens, kept for a short TTL.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (v1::PlayerIdentity, Instant)>>,
    revocations: broadcast::Sender<String>,
}

impl SessionCache {
    /// A cache trusting answers for `ttl`.
    #[must_use]
    pub fn new(ttl: Duration) -> SessionCache {
        let (revocations, _) = broadcast::channel(256);
        SessionCache { ttl, entries: Mutex::new(HashMap::new()), revocations }
    }

    /// Who holds `token`: from the cache if fresh, else from the players service. Unknown,
    /// revoked and expired tokens are 401; an unreachable players service is 503.
    pub async fn validate(&self, players: &PlayersClient<Channel>, token: &str) -> Result<Caller, ApiError> {
        if let Some(identity) = self.cached(token) {
            return Ok(Caller { token: token.to_owned(), identity });
        }
        self.validate_fresh(players, token).await
    }

    /// Like [`SessionCache::validate`], always asking the players service.
    pub async fn validate_fresh(&self, players: &PlayersClient<Channel>, token: &str) -> Result<Caller, ApiError> {
        if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
            return Err(ApiError::unauthenticated("missing or invalid token"));
        }
        let request = v1::ValidateSessionRequest { token: token.to_owned() };
        match players.clone().validate_session(request).await {
            Ok(response) => {
                let identity = response.into_inner();
                self.store(token, identity.clone());
                Ok(Caller { token: token.to_owned(), identity })
            }
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                self.forget(token);
                Err(ApiError::unauthenticated("session is invalid or expired"))
            }
            Err(status) => Err(ApiError::from_status(&status)),
        }
    }

    /// Records a fresh identity for `token` (after a login, a refresh or a respawn).
    pub fn store(&self, token: &str, identity: v1::PlayerIdentity) {
        let mut entries = self.entries();
        let now = Instant::now();
        if entries.len() > SWEEP_ABOVE_ENTRIES {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() > MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), (identity, now + self.ttl));
    }

    /// Drops `token` and tells the WebSockets that use it to close.
    pub fn revoke(&self, token: &str) {
        self.forget(token);
        // No subscribers is fine: no WebSocket uses any token.
        let _ = self.revocations.send(token.to_owned());
    }

    /// Tokens revoked through this gateway from now on.
    pub fn revoked(&self) -> broadcast::Receiver<String> {
        self.revocations.subscribe()
    }

    fn cached(&self, token: &str) -> Option<v1::PlayerIdentity> {
        let entries = self.entries();
        let (identity, expires) = entries.get(token)?;
        (*expires > Instant::now()).then(|| identity.clone())
    }

    fn forget(&self, token: &str) {
        self.entries().remove(token);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (v1::PlayerIdentity, Instant)>> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = || ApiError::unauthenticated("an Authorization: Bearer <token> header is required");
    let value = headers.get(AUTHORIZATION).ok_or_else(missing)?.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(missing());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_are_read_and_anything_else_is_refused() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&headers).ok(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer   abc "));
        assert_eq!(bearer_token(&headers).ok(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer_token(&headers).is_err());
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(bearer_token(&headers).is_err());
    }

    #[test]
    fn cached_identities_expire_and_revocations_are_announced() {
        let cache = SessionCache::new(Duration::from_millis(50));
        let identity = v1::PlayerIdentity { player_id: "1".into(), ..v1::PlayerIdentity::default() };
        cache.store("t", identity.clone());
        assert_eq!(cache.cached("t"), Some(identity));
        let mut revoked = cache.revoked();
        cache.revoke("t");
        assert_eq!(cache.cached("t"), None);
        assert_eq!(revoked.try_recv().ok().as_deref(), Some("t"));
        cache.store("u", v1::PlayerIdentity::default());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.cached("u"), None, "expired");
    }
}
