//! The gateway's configuration: every environment variable it reads is named here, read once
//! into a [`GatewayConfig`] and validated, so a bad deployment fails at start-up.
//!
//! Store settings (`REDIS_URL`, `REDIS_KEY_PREFIX`, …) are read by
//! [`galaxy_storage::StorageConfig::from_env`], not here.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;

/// Address the HTTP server listens on. Default `0.0.0.0:8000`.
pub const LISTEN_ADDR: &str = "LISTEN_ADDR";
/// The players service's gRPC URL. Default `http://127.0.0.1:8003`.
pub const PLAYERS_URL: &str = "PLAYERS_URL";
/// The physics service's gRPC URL. Default `http://127.0.0.1:8002`.
pub const PHYSICS_URL: &str = "PHYSICS_URL";
/// The galaxy service's gRPC URL. Default `http://127.0.0.1:8004`.
pub const GALAXY_URL: &str = "GALAXY_URL";
/// Comma-separated origins (`https://galaxy.example.com`) allowed to open `/ws` and to call the
/// REST API cross-origin; `*` allows any. Empty: same-origin only (see [`OriginPolicy`]).
pub const GALAXY_ALLOWED_ORIGINS: &str = "GALAXY_ALLOWED_ORIGINS";
/// A folder to serve at `/` (the built web client), with unknown paths answered by its
/// `index.html`. Unset: nothing is served outside `/api`, `/ws` and the probes.
pub const GALAXY_WEB_ROOT: &str = "GALAXY_WEB_ROOT";
/// `true`: the client address for rate limits is the last `X-Forwarded-For` entry (set by the
/// ingress in front of the gateway). Default `false`: the TCP peer address.
pub const GALAXY_TRUST_FORWARDED_FOR: &str = "GALAXY_TRUST_FORWARDED_FOR";
/// Logins and registrations allowed per minute for one client address and username. Default 10.
pub const GALAXY_LOGINS_PER_MINUTE: &str = "GALAXY_LOGINS_PER_MINUTE";
/// Registrations allowed per hour from one client address. Default 30.
pub const GALAXY_REGISTRATIONS_PER_HOUR: &str = "GALAXY_REGISTRATIONS_PER_HOUR";

/// Every variable above, for start-up logs and documentation.
pub const ALL_VARIABLES: [&str; 9] = [
    LISTEN_ADDR,
    PLAYERS_URL,
    PHYSICS_URL,
    GALAXY_URL,
    GALAXY_ALLOWED_ORIGINS,
    GALAXY_WEB_ROOT,
    GALAXY_TRUST_FORWARDED_FOR,
    GALAXY_LOGINS_PER_MINUTE,
    GALAXY_REGISTRATIONS_PER_HOUR,
];

/// Why the configuration was rejected. Messages name the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable's value is not valid UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
    /// A value that does not parse.
    #[error("{name} is invalid ({value:?}): {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Which browser origins may use the API (the `Origin` header of `/ws` upgrades and CORS).
///
/// The rule: a request without an `Origin` header (a non-browser client, which could send any
/// header it likes anyway) is allowed; a browser's request is allowed when its origin is the
/// gateway's own (the `Origin` authority equals the `Host` header: the web client served by this
/// gateway or by the same ingress host) or is in the list. `*` allows every origin (development).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OriginPolicy {
    /// Same-origin requests only.
    #[default]
    SameOrigin,
    /// Same-origin requests and these exact origins (`scheme://host[:port]`, lowercase).
    List(Vec<String>),
    /// Any origin.
    Any,
}

impl OriginPolicy {
    /// Parses the comma-separated list of [`GALAXY_ALLOWED_ORIGINS`].
    pub fn parse(text: &str) -> Result<OriginPolicy, ConfigError> {
        let mut origins = Vec::new();
        for origin in text.split(',').map(str::trim).filter(|origin| !origin.is_empty()) {
            if origin == "*" {
                return Ok(OriginPolicy::Any);
            }
            let origin = origin.trim_end_matches('/');
            let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
            let valid = authority.is_some_and(|authority| {
                !authority.is_empty()
                    && !authority.contains(['/', ' ', '?', '#'])
                    && HeaderValue::from_str(origin).is_ok()
            });
            if !valid {
                return Err(ConfigError::Invalid {
                    name: GALAXY_ALLOWED_ORIGINS,
                    value: text.to_owned(),
                    reason: format!("{origin:?} is not an origin like https://galaxy.example.com"),
                });
            }
            origins.push(origin.to_ascii_lowercase());
        }
        Ok(if origins.is_empty() { OriginPolicy::SameOrigin } else { OriginPolicy::List(origins) })
    }

    /// Whether a request with this `Origin` (if any) to this `Host` (if any) is allowed.
    #[must_use]
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let origin = origin.trim().to_ascii_lowercase();
        match self {
            OriginPolicy::Any => true,
            OriginPolicy::List(list) if list.contains(&origin) => true,
            OriginPolicy::List(_) | OriginPolicy::SameOrigin => {
                let authority = origin.split_once("://").map(|(_, rest)| rest);
                matches!((authority, host), (Some(authority), Some(host)) if authority == host.trim().to_ascii_lowercase())
            }
        }
    }
}

/// How the gateway behaves. [`GatewayConfig::default`] documents each default; tests shorten
/// the timeouts.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where to listen (`0.0.0.0:8000`).
    pub listen_addr: SocketAddr,
    /// Players service URL (`http://127.0.0.1:8003`).
    pub players_url: String,
    /// Physics service URL (`http://127.0.0.1:8002`).
    pub physics_url: String,
    /// Galaxy service URL (`http://127.0.0.1:8004`).
    pub galaxy_url: String,
    /// Browser origins allowed (same-origin only).
    pub allowed_origins: OriginPolicy,
    /// The built web client to serve at `/` (none).
    pub web_root: Option<PathBuf>,
    /// Whether to take the client address from `X-Forwarded-For` (no).
    pub trust_forwarded_for: bool,
    /// Logins and registrations per minute per client address and username (10: a person
    /// mistyping a password a few times is never stopped, a password-guessing loop is).
    pub logins_per_minute: NonZeroU32,
    /// Registrations per hour per client address (30).
    pub registrations_per_hour: NonZeroU32,
    /// How long a WebSocket may stay silent before its `auth` message (5 s, the protocol's).
    pub auth_timeout: Duration,
    /// How often the server pings each WebSocket (30 s).
    pub ping_interval: Duration,
    /// How long a validated session is trusted without asking the players service again (5 s:
    /// a revoked token elsewhere is refused within this; a logout here is refused at once).
    pub session_cache_ttl: Duration,
    /// Commands one player may send per second on WebSockets (25, above the players service's
    /// own 20/s so that one decides; this one keeps floods off the gRPC link).
    pub commands_per_second: NonZeroU32,
    /// Fewest milliseconds between two `state` messages (100: at most 10 per second during catch-up).
    pub min_state_interval: Duration,
    /// Longest a single `state` message may take to reach a client before the connection is
    /// dropped as stalled (20 s).
    pub stalled_send_timeout: Duration,
    /// How long graceful shutdown waits for WebSockets to close (5 s).
    pub drain_timeout: Duration,
    /// Longest a client may take to send a request's headers, the WebSocket upgrade included
    /// (5 s; also how long an idle keep-alive connection is kept). Bounds slowloris clients.
    pub header_read_timeout: Duration,
    /// Timeout of one call to another service (10 s; password hashing queues up to 5 s).
    pub rpc_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen_addr: SocketAddr::from(([0, 0, 0, 0], 8000)),
            players_url: "http://127.0.0.1:8003".to_owned(),
            physics_url: "http://127.0.0.1:8002".to_owned(),
            galaxy_url: "http://127.0.0.1:8004".to_owned(),
            allowed_origins: OriginPolicy::SameOrigin,
            web_root: None,
            trust_forwarded_for: false,
            logins_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            registrations_per_hour: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            auth_timeout: Duration::from_secs(5),
            ping_interval: Duration::from_secs(30),
            session_cache_ttl: Duration::from_secs(5),
            commands_per_second: NonZeroU32::new(25).unwrap_or(NonZeroU32::MIN),
            min_state_interval: Duration::from_millis(100),
            stalled_send_timeout: Duration::from_secs(20),
            drain_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(5),
            rpc_timeout: Duration::from_secs(10),
        }
    }
}

impl GatewayConfig {
    /// Reads every variable in [`ALL_VARIABLES`] from the process environment.
    pub fn from_env() -> Result<GatewayConfig, ConfigError> {
        let mut values = Vec::new();
        for name in ALL_VARIABLES {
            match std::env::var(name) {
                Ok(value) => values.push((name, value)),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => return Err(ConfigError::NotUnicode(name)),
            }
        }
        Self::from_lookup(|wanted| values.iter().find(|(name, _)| *name == wanted).map(|(_, value)| value.clone()))
    }

    /// Reads the variables through `lookup` (name → value); unset or blank ones keep their default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<GatewayConfig, ConfigError> {
        let read = |name: &'static str| lookup(name).map(|value| value.trim().to_owned()).filter(|v| !v.is_empty());
        let invalid = |name: &'static str, value: &str, reason: &str| ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let mut config = GatewayConfig::default();
        if let Some(value) = read(LISTEN_ADDR) {
            config.listen_addr = value.parse().map_err(|_| invalid(LISTEN_ADDR, &value, "expected host:port"))?;
        }
        for (name, target) in [
            (PLAYERS_URL, &mut config.players_url),
            (PHYSICS_URL, &mut config.physics_url),
            (GALAXY_URL, &mut config.galaxy_url),
        ] {
            if let Some(value) = read(name) {
                if !(value.starts_with("http://") || value.starts_with("https://")) {
                    return Err(invalid(name, &value, "expected an http:// or https:// URL"));
                }
                *target = value;
            }
        }
        if let Some(value) = read(GALAXY_ALLOWED_ORIGINS) {
            config.allowed_origins = OriginPolicy::parse(&value)?;
        }
        config.web_root = read(GALAXY_WEB_ROOT).map(PathBuf::from);
        if let Some(value) = read(GALAXY_TRUST_FORWARDED_FOR) {
            config.trust_forwarded_for = match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => return Err(invalid(GALAXY_TRUST_FORWARDED_FOR, &value, "expected true or false")),
            };
        }
        for (name, target) in [
            (GALAXY_LOGINS_PER_MINUTE, &mut config.logins_per_minute),
            (GALAXY_REGISTRATIONS_PER_HOUR, &mut config.registrations_per_hour),
        ] {
            if let Some(value) = read(name) {
                let number: u32 = value.parse().map_err(|_| invalid(name, &value, "expected a whole number"))?;
                *target = NonZeroU32::new(number)
                    .filter(|number| number.get() <= 1_000_000)
                    .ok_or_else(|| invalid(name, &value, "expected 1 to 1000000"))?;
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = GatewayConfig::from_lookup(|_| None).unwrap_or_default();
        assert_eq!(config.listen_addr.port(), 8000);
        assert_eq!(config.physics_url, "http://127.0.0.1:8002");
        assert_eq!(config.allowed_origins, OriginPolicy::SameOrigin);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = GatewayConfig::from_lookup(|name| (name == LISTEN_ADDR).then(|| "nope".to_owned()));
        assert!(matches!(error, Err(ConfigError::Invalid { name: LISTEN_ADDR, .. })));
        let error = GatewayConfig::from_lookup(|name| (name == GALAXY_LOGINS_PER_MINUTE).then(|| "0".to_owned()));
        assert!(matches!(error, Err(ConfigError::Invalid { name: GALAXY_LOGINS_PER_MINUTE, .. })));
        assert!(OriginPolicy::parse("galaxy.example.com").is_err());
        assert!(OriginPolicy::parse("https://galaxy.example.com/path").is_err());
    }

    #[test]
    fn origins_same_origin_listed_or_absent_are_allowed() {
        let policy = OriginPolicy::parse("https://galaxy.example.com, http://localhost:5173").unwrap_or_default();
        assert!(policy.allows(None, Some("anything")), "non-browser clients send no Origin");
        assert!(policy.allows(Some("https://galaxy.example.com"), Some("api.internal:8000")));
        assert!(policy.allows(Some("HTTP://localhost:5173"), None));
        assert!(policy.allows(Some("http://127.0.0.1:8000"), Some("127.0.0.1:8000")), "same origin");
        assert!(!policy.allows(Some("https://evil.example"), Some("127.0.0.1:8000")));
        assert!(!OriginPolicy::SameOrigin.allows(Some("https://evil.example"), Some("galaxy.example.com")));
        assert!(OriginPolicy::Any.allows(Some("https://evil.example"), None));
        assert_eq!(OriginPolicy::parse(" , ").unwrap_or(OriginPolicy::Any), OriginPolicy::SameOrigin);
    }
}
